-- One row per center and fiscal year with a version that counts in the national figures. An open
-- fiscal year counts each center's latest accepted version (latest wins); a closed one counts the
-- versions its latest closing or accepted revision recorded (raw.decision_counted_versions), whatever
-- arrived later (pending revisions). Key: (center_code, fiscal_year).
with latest_submissions as (
    select * from intermediate.int_latest_submissions
),

fiscal_year_states as (
    select * from intermediate.int_fiscal_year_states
),

counted_versions as (
    select * from staging.stg_decision_counted_versions
),

submissions as (
    select * from staging.stg_submissions
),

received_files as (
    select * from staging.stg_received_files
),

open_years as (
    select
        latest_submissions.receipt_id,
        latest_submissions.center_code,
        latest_submissions.fiscal_year,
        latest_submissions.version,
        latest_submissions.received_at,
        false as year_closed
    from latest_submissions
    left join fiscal_year_states
        on latest_submissions.fiscal_year = fiscal_year_states.fiscal_year
    where not coalesce(fiscal_year_states.is_closed, false)
),

closed_years as (
    select
        submissions.receipt_id,
        submissions.center_code,
        submissions.fiscal_year,
        submissions.version,
        received_files.received_at,
        true as year_closed
    from fiscal_year_states
    inner join counted_versions
        on fiscal_year_states.latest_decision_id = counted_versions.decision_id
    inner join submissions
        on fiscal_year_states.fiscal_year = submissions.fiscal_year
        and counted_versions.center_code = submissions.center_code
        and counted_versions.version = submissions.version
    inner join received_files
        on submissions.receipt_id = received_files.receipt_id
    where fiscal_year_states.is_closed
),

final as (
    select * from open_years
    union all
    select * from closed_years
)

select * from final
