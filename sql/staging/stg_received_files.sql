-- One row per file taken from the inbox (accepted, rejected or a duplicate of the latest version).
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
        issue_count
    from source
)

select * from final
