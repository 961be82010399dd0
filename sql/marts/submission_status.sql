-- One row per fiscal year with accepted data × 自治体 whose center had opened by that year:
-- accepted (latest version counted), rejected (only rejected files arrived) or missing.
-- Key: (fiscal_year, center_code).
with centers as (
    select * from staging.stg_centers
),

received_files as (
    select * from staging.stg_received_files
),

latest_submissions as (
    select * from intermediate.int_latest_submissions
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

years_with_data as (
    select distinct fiscal_year from latest_submissions
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

final as (
    select
        expected_centers.fiscal_year,
        fiscal_years.fiscal_year_label,
        expected_centers.center_code,
        expected_centers.center_name,
        case
            when latest_submissions.receipt_id is not null then 'accepted'
            when latest_rejections.received_at is not null then 'rejected'
            else 'missing'
        end as status,
        coalesce(latest_submissions.received_at, latest_rejections.received_at) as received_at,
        latest_submissions.version
    from expected_centers
    left join latest_submissions
        on expected_centers.fiscal_year = latest_submissions.fiscal_year
        and expected_centers.center_code = latest_submissions.center_code
    left join latest_rejections
        on expected_centers.fiscal_year = latest_rejections.fiscal_year
        and expected_centers.center_code = latest_rejections.center_code
    left join fiscal_years
        on expected_centers.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, center_code
