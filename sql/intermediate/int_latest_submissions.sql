-- One row per center and fiscal year that has an accepted submission: its latest version,
-- the one every national figure is computed from. Key: (center_code, fiscal_year).
with submissions as (
    select * from staging.stg_submissions
),

received_files as (
    select * from staging.stg_received_files
),

ranked as (
    select
        submissions.receipt_id,
        submissions.center_code,
        submissions.fiscal_year,
        submissions.version,
        received_files.received_at,
        row_number() over (
            partition by submissions.center_code, submissions.fiscal_year
            order by submissions.version desc
        ) as recency_rank
    from submissions
    inner join received_files
        on submissions.receipt_id = received_files.receipt_id
),

final as (
    select
        receipt_id,
        center_code,
        fiscal_year,
        version,
        received_at
    from ranked
    where recency_rank = 1
)

select * from final
