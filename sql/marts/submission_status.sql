-- One row per fiscal year with accepted data × 自治体 whose center had opened by that year:
-- accepted (a version counts: the latest, or for a closed year the one recorded at closing or an
-- accepted revision), rejected (only rejected files arrived) or missing; the year's deadline and
-- whether the center's first accepted version was submitted by the end of that day, Japan time
-- (a portal upload's time, else when the pipeline took the file in); a closed year's pending
-- revision. Key: (fiscal_year, center_code).
with centers as (
    select * from staging.stg_centers
),

received_files as (
    select * from staging.stg_received_files
),

submissions as (
    select * from staging.stg_submissions
),

counted_submissions as (
    select * from intermediate.int_counted_submissions
),

pending_revisions as (
    select * from intermediate.int_pending_revisions
),

fiscal_year_deadlines as (
    select * from intermediate.int_fiscal_year_deadlines
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

years_with_data as (
    select distinct fiscal_year from counted_submissions
),

expected_centers as (
    select
        years_with_data.fiscal_year,
        centers.center_code,
        centers.center_name
    from years_with_data
    inner join centers
        on years_with_data.fiscal_year >= centers.opened_fiscal_year
),

latest_rejections as (
    select
        center_code,
        fiscal_year,
        max(received_at) as received_at
    from received_files
    where outcome = 'rejected' and center_code is not null and fiscal_year is not null
    group by center_code, fiscal_year
),

first_versions as (
    select
        submissions.center_code,
        submissions.fiscal_year,
        received_files.submitted_at
    from submissions
    inner join received_files
        on submissions.receipt_id = received_files.receipt_id
    where submissions.version = 1
),

final as (
    select
        expected_centers.fiscal_year,
        fiscal_years.fiscal_year_label,
        expected_centers.center_code,
        expected_centers.center_name,
        case
            when counted_submissions.receipt_id is not null then 'accepted'
            when latest_rejections.received_at is not null then 'rejected'
            else 'missing'
        end as status,
        coalesce(counted_submissions.received_at, latest_rejections.received_at) as received_at,
        counted_submissions.version,
        fiscal_year_deadlines.deadline,
        first_versions.submitted_at as first_submitted_at,
        timezone('Asia/Tokyo', first_versions.submitted_at)::date <= fiscal_year_deadlines.deadline as on_time,
        pending_revisions.pending_version
    from expected_centers
    left join counted_submissions
        on expected_centers.fiscal_year = counted_submissions.fiscal_year
        and expected_centers.center_code = counted_submissions.center_code
    left join latest_rejections
        on expected_centers.fiscal_year = latest_rejections.fiscal_year
        and expected_centers.center_code = latest_rejections.center_code
    left join first_versions
        on expected_centers.fiscal_year = first_versions.fiscal_year
        and expected_centers.center_code = first_versions.center_code
    left join pending_revisions
        on expected_centers.fiscal_year = pending_revisions.fiscal_year
        and expected_centers.center_code = pending_revisions.center_code
    left join fiscal_year_deadlines
        on expected_centers.fiscal_year = fiscal_year_deadlines.fiscal_year
    left join fiscal_years
        on expected_centers.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, center_code
