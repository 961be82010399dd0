-- One row per reported item of an accepted submission version (the optional referral
-- "total" row included, flagged by is_total). Key: (receipt_id, measure, category).
with source as (
    select * from raw.submission_rows
),

final as (
    select
        receipt_id,
        row_number as source_row_number,
        measure,
        category,
        category = 'total' as is_total,
        count as reported_count
    from source
)

select * from final
