-- One row per fiscal year and measure that at least one counted version reports:
-- the national total and how many centers it comes from. Key: (fiscal_year, measure).
with reported_items as (
    select * from intermediate.int_center_reported_items
),

final as (
    select
        fiscal_year,
        measure,
        sum(reported_count)::bigint as actual,
        count(distinct center_code) as centers_reporting
    from reported_items
    group by fiscal_year, measure
)

select * from final
