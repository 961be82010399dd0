-- One row per fiscal year with its Japanese era label (平成28年度, 令和元年度).
-- Key: fiscal_year.
with source as (
    select * from reference.fiscal_years
),

final as (
    select
        fiscal_year,
        fiscal_year_label
    from source
)

select * from final
