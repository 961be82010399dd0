-- One row per fiscal year with its Japanese era label (平成28年度, 令和元年度) and its default
-- submission deadline (30 June after it ends, written by hikikomori.domain.fiscal_years).
-- Key: fiscal_year.
with source as (
    select * from reference.fiscal_years
),

final as (
    select
        fiscal_year,
        fiscal_year_label,
        default_deadline
    from source
)

select * from final
