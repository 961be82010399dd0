-- One row per accepted revision (`hikikomori accept-revision`: a center's later version of a closed
-- year counts from then on) or reopening (`hikikomori reopen-year`: center_code and the versions are
-- null), CONTRACT.md §5. Key: decision_id.
with decisions as (
    select * from staging.stg_fiscal_year_decisions
),

final as (
    select
        fiscal_year,
        center_code,
        from_version,
        to_version,
        decided_at,
        note,
        decision_id,
        action
    from decisions
    where action in ('accept_revision', 'reopen_year')
)

select * from final
