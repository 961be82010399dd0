-- One row per center, fiscal year and measure of the version that counts (latest, or as closed): the center's total
-- for that measure (referrals summed over their categories). Read by the year-on-year warnings.
-- Key: (center_code, fiscal_year, measure).
with reported_items as (
    select * from intermediate.int_center_reported_items
),

final as (
    select
        reported_items.center_code,
        reported_items.fiscal_year,
        reported_items.measure,
        sum(reported_items.reported_count) as measure_total
    from reported_items
    group by reported_items.center_code, reported_items.fiscal_year, reported_items.measure
)

select * from final
