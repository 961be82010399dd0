-- One row per fiscal year and measure reported in a counted version: the sum of the
-- submitted rows, straight from the files (referral "total" rows left out), independently of how
-- the marts roll them up. The quality gate reconciles the national tables against it.
-- Key: (fiscal_year, measure).
with counted_submissions as (
    select * from intermediate.int_counted_submissions
),

submission_rows as (
    select * from staging.stg_submission_rows
),

final as (
    select
        counted_submissions.fiscal_year,
        submission_rows.measure,
        sum(submission_rows.reported_count)::bigint as submitted_total
    from counted_submissions
    inner join submission_rows
        on counted_submissions.receipt_id = submission_rows.receipt_id
    where not (submission_rows.is_total and submission_rows.measure = 'referrals')
    group by counted_submissions.fiscal_year, submission_rows.measure
)

select * from final
