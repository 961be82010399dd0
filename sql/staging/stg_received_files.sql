-- One row per file taken from the inbox (accepted, rejected or a duplicate of the latest version),
-- with when it was submitted: a portal upload's time, else when the pipeline took it in (a row
-- recorded before that column existed has its intake time, set by migration 0006).
-- Key: receipt_id.
with source as (
    select * from raw.received_files
),

final as (
    select
        receipt_id,
        run_id,
        file_name,
        content_sha256,
        size_bytes,
        center_code,
        fiscal_year,
        outcome,
        stored_path,
        received_at,
        coalesce(submitted_at, received_at) as submitted_at,
        issue_count
    from source
)

select * from final
