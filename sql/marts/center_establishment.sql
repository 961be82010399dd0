-- One row per fiscal year from the first center's opening to the last: centers opened that
-- year and in total according to the registry, beside the paper's 年度別設置自治体数 table.
-- matches_published is null where the paper has no figure for the year. Key: fiscal_year.
with centers as (
    select * from staging.stg_centers
),

centers_by_fiscal_year as (
    select * from intermediate.int_centers_by_fiscal_year
),

published_establishment as (
    select * from staging.stg_published_establishment
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

opening_years as (
    select
        centers_by_fiscal_year.fiscal_year,
        centers_by_fiscal_year.new_centers,
        centers_by_fiscal_year.centers_established as cumulative_centers
    from centers_by_fiscal_year
    where centers_by_fiscal_year.fiscal_year <= (select max(centers.opened_fiscal_year) from centers)
),

final as (
    select
        opening_years.fiscal_year,
        fiscal_years.fiscal_year_label,
        opening_years.new_centers,
        opening_years.cumulative_centers,
        published_establishment.published_new,
        published_establishment.published_cumulative,
        case
            when published_establishment.fiscal_year is null then null
            else
                opening_years.new_centers = published_establishment.published_new
                and opening_years.cumulative_centers = published_establishment.published_cumulative
        end as matches_published
    from opening_years
    left join published_establishment
        on opening_years.fiscal_year = published_establishment.fiscal_year
    left join fiscal_years
        on opening_years.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year
