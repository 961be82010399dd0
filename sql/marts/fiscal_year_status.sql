-- One row per fiscal year from the first center's opening to the later of the last year with data and
-- the last year a deadline calendar names: its submission deadline and where it comes from, whether the
-- year is closed (published) and since when, and how many centers have a revision pending.
-- Key: fiscal_year.
with centers as (
    select * from staging.stg_centers
),

counted_submissions as (
    select * from intermediate.int_counted_submissions
),

deadline_calendar as (
    select * from staging.stg_deadline_calendar
),

fiscal_year_deadlines as (
    select * from intermediate.int_fiscal_year_deadlines
),

fiscal_year_states as (
    select * from intermediate.int_fiscal_year_states
),

pending_revisions as (
    select * from intermediate.int_pending_revisions
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

year_span as (
    select
        (select min(centers.opened_fiscal_year) from centers) as first_fiscal_year,
        greatest(
            (select max(counted_submissions.fiscal_year) from counted_submissions),
            (select max(deadline_calendar.fiscal_year) from deadline_calendar)
        ) as last_fiscal_year
),

years as (
    select unnest(range(first_fiscal_year, last_fiscal_year + 1)) as fiscal_year
    from year_span
),

pending_counts as (
    select
        fiscal_year,
        count(*) as pending_revisions
    from pending_revisions
    group by fiscal_year
),

final as (
    select
        years.fiscal_year,
        fiscal_years.fiscal_year_label,
        fiscal_year_deadlines.deadline,
        fiscal_year_deadlines.deadline_source,
        coalesce(fiscal_year_states.is_closed, false) as is_closed,
        fiscal_year_states.publication_id,
        fiscal_year_states.closed_at,
        coalesce(pending_counts.pending_revisions, 0) as pending_revisions
    from years
    left join fiscal_year_deadlines
        on years.fiscal_year = fiscal_year_deadlines.fiscal_year
    left join fiscal_year_states
        on years.fiscal_year = fiscal_year_states.fiscal_year
    left join pending_counts
        on years.fiscal_year = pending_counts.fiscal_year
    left join fiscal_years
        on years.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year
