-- One row per accepted version × measure it reports: the version's total for the measure (referrals
-- summed over their categories, the optional total row left out), counted or not. The warnings on a
-- run's accepted files read their own figures here. Key: (center_code, fiscal_year, version, measure).
with submission_items as (
    select * from intermediate.int_submission_items
),

final as (
    select
        center_code,
        fiscal_year,
        version,
        measure,
        sum(reported_count)::bigint as measure_total
    from submission_items
    where not (is_total and measure = 'referrals')
    group by center_code, fiscal_year, version, measure
)

select * from final
