-- One row per fiscal year and measure reported in a latest accepted version: the sum of the
-- submitted rows, straight from the files (referral "total" rows left out), independently of how
-- the marts roll them up. The quality gate reconciles the national tables against it.
-- Key: (fiscal_year, measure).
with latest_submissions as (
    select * from intermediate.int_latest_submissions
),

submission_rows as (
    select * from staging.stg_submission_rows
),

final as (
    select
        latest_submissions.fiscal_year,
        submission_rows.measure,
        sum(submission_rows.reported_count)::bigint as submitted_total
    from latest_submissions
    inner join submission_rows
        on latest_submissions.receipt_id = submission_rows.receipt_id
    where not (submission_rows.is_total and submission_rows.measure = 'referrals')
    group by latest_submissions.fiscal_year, submission_rows.measure
)

select * from final
