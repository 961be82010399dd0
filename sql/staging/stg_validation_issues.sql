-- One row per problem found in a received file (every rule it broke, in file order).
-- Key: (receipt_id, issue_number).
with source as (
    select * from raw.validation_issues
),

final as (
    select
        receipt_id,
        issue_number,
        row_number,
        column_name,
        cell,
        value,
        rule,
        message_ja,
        message_en
    from source
)

select * from final
