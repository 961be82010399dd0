-- One row per fiscal year with an era label: its submission deadline. The latest deadline calendar
-- entry for the year counts (for a closed year, the latest recorded before its closing, so a closed
-- year's timeliness never changes); without one, the default (30 June after the year ends).
-- Key: fiscal_year.
with fiscal_years as (
    select * from staging.stg_fiscal_years
),

deadline_calendar as (
    select * from staging.stg_deadline_calendar
),

fiscal_year_states as (
    select * from intermediate.int_fiscal_year_states
),

calendar_in_effect as (
    select
        deadline_calendar.fiscal_year,
        arg_max(deadline_calendar.deadline, deadline_calendar.given_at) as deadline
    from deadline_calendar
    left join fiscal_year_states
        on deadline_calendar.fiscal_year = fiscal_year_states.fiscal_year
    where
        not coalesce(fiscal_year_states.is_closed, false)
        or deadline_calendar.given_at <= fiscal_year_states.closed_at
    group by deadline_calendar.fiscal_year
),

final as (
    select
        fiscal_years.fiscal_year,
        coalesce(calendar_in_effect.deadline, fiscal_years.default_deadline) as deadline,
        case when calendar_in_effect.deadline is null then 'default' else 'calendar' end as deadline_source
    from fiscal_years
    left join calendar_in_effect
        on fiscal_years.fiscal_year = calendar_in_effect.fiscal_year
)

select * from final
