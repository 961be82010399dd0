-- One row per fiscal year from the first center's opening to the later of the last opening
-- and the last year with data: how many 自治体 had a center (opened in or before that year).
-- Key: fiscal_year.
with centers as (
    select * from staging.stg_centers
),

counted_submissions as (
    select * from intermediate.int_counted_submissions
),

year_span as (
    select
        min(centers.opened_fiscal_year) as first_fiscal_year,
        greatest(
            max(centers.opened_fiscal_year),
            coalesce((select max(counted_submissions.fiscal_year) from counted_submissions), 0)
        ) as last_fiscal_year
    from centers
),

fiscal_years as (
    select unnest(range(first_fiscal_year, last_fiscal_year + 1)) as fiscal_year
    from year_span
),

final as (
    select
        fiscal_years.fiscal_year,
        count(centers.center_code) filter (
            where centers.opened_fiscal_year = fiscal_years.fiscal_year
        ) as new_centers,
        count(centers.center_code) as centers_established
    from fiscal_years
    left join centers
        on fiscal_years.fiscal_year >= centers.opened_fiscal_year
    group by fiscal_years.fiscal_year
)

select * from final
