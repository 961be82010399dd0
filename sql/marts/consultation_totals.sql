-- One row per fiscal year with accepted data: national 延べ相談件数 (total consultations),
-- with how many 自治体 had a center that year and how many of them reported. Key: fiscal_year.
with national_actuals as (
    select * from intermediate.int_national_actuals
),

centers_by_fiscal_year as (
    select * from intermediate.int_centers_by_fiscal_year
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

consultations as (
    select
        fiscal_year,
        actual as consultations,
        centers_reporting
    from national_actuals
    where measure = 'consultations'
),

final as (
    select
        consultations.fiscal_year,
        fiscal_years.fiscal_year_label,
        centers_by_fiscal_year.centers_established,
        consultations.centers_reporting,
        consultations.consultations
    from consultations
    left join fiscal_years
        on consultations.fiscal_year = fiscal_years.fiscal_year
    left join centers_by_fiscal_year
        on consultations.fiscal_year = centers_by_fiscal_year.fiscal_year
)

select * from final
order by fiscal_year
