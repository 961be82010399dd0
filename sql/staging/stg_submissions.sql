-- One row per accepted version of a center's fiscal-year submission.
-- Key: receipt_id; also unique on (center_code, fiscal_year, version).
with source as (
    select * from raw.submissions
),

final as (
    select
        receipt_id,
        center_code,
        fiscal_year,
        version,
        content_sha256
    from source
)

select * from final
