-- One row per decision of the ministry on a fiscal year: close_year, accept_revision or reopen_year,
-- numbered in the order decided. Key: decision_id.
with source as (
    select * from raw.fiscal_year_decisions
),

final as (
    select
        decision_id,
        fiscal_year,
        action,
        center_code,
        from_version,
        to_version,
        decided_at,
        note,
        run_id
    from source
)

select * from final
