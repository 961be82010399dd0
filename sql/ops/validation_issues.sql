-- One row per problem found in a received file, with the file, the run that took it in and where
-- the file now is: by file, row and rule, for engineers answering a center's question.
-- Key: (receipt_id, issue_number).
with validation_issues as (
    select * from staging.stg_validation_issues
),

received_files as (
    select * from staging.stg_received_files
),

final as (
    select
        received_files.run_id,
        validation_issues.receipt_id,
        received_files.file_name,
        received_files.center_code,
        received_files.fiscal_year,
        received_files.outcome,
        received_files.received_at,
        received_files.stored_path,
        validation_issues.issue_number,
        validation_issues.row_number,
        validation_issues.column_name,
        validation_issues.cell,
        validation_issues.value,
        validation_issues.rule,
        validation_issues.message_ja,
        validation_issues.message_en
    from validation_issues
    inner join received_files
        on validation_issues.receipt_id = received_files.receipt_id
)

select * from final
