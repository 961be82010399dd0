-- One row per fiscal year and time a deadline calendar was recorded for it (insert-only history).
-- Key: (fiscal_year, given_at).
with source as (
    select * from raw.deadline_calendar
),

final as (
    select
        fiscal_year,
        deadline,
        given_at,
        source as calendar_file,
        run_id
    from source
)

select * from final
