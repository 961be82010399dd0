-- One row per closed fiscal year × center whose latest accepted version is not the one that counts:
-- a pending revision (a file that arrived after the year was closed). It changes nothing until
-- `hikikomori accept-revision` makes it count. Key: (fiscal_year, center_code).
with latest_submissions as (
    select * from intermediate.int_latest_submissions
),

counted_submissions as (
    select * from intermediate.int_counted_submissions
),

fiscal_year_states as (
    select * from intermediate.int_fiscal_year_states
),

final as (
    select
        latest_submissions.fiscal_year,
        latest_submissions.center_code,
        counted_submissions.version as counted_version,
        counted_submissions.receipt_id as counted_receipt_id,
        latest_submissions.version as pending_version,
        latest_submissions.receipt_id as pending_receipt_id,
        latest_submissions.received_at as pending_received_at
    from latest_submissions
    inner join fiscal_year_states
        on latest_submissions.fiscal_year = fiscal_year_states.fiscal_year
    left join counted_submissions
        on latest_submissions.center_code = counted_submissions.center_code
        and latest_submissions.fiscal_year = counted_submissions.fiscal_year
    where
        fiscal_year_states.is_closed
        and counted_submissions.version is distinct from latest_submissions.version
)

select * from final
