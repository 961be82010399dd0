-- One row per fiscal year with accepted data × center open that year (the registry): its status in
-- marts.submission_status, null when the mart has no row for it (which must never happen).
-- Key: (fiscal_year, center_code).
with counted_submissions as (
    select * from intermediate.int_counted_submissions
),

centers as (
    select * from staging.stg_centers
),

submission_status as (
    select * from marts.submission_status
),

years_with_data as (
    select distinct fiscal_year from counted_submissions
),

expected_centers as (
    select
        years_with_data.fiscal_year,
        centers.center_code
    from years_with_data
    inner join centers
        on years_with_data.fiscal_year >= centers.opened_fiscal_year
),

final as (
    select
        expected_centers.fiscal_year,
        expected_centers.center_code,
        submission_status.status
    from expected_centers
    left join submission_status
        on expected_centers.fiscal_year = submission_status.fiscal_year
        and expected_centers.center_code = submission_status.center_code
)

select * from final
order by fiscal_year, center_code
