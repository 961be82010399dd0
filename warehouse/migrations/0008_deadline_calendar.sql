-- Migration 0008: the deadline calendars the ministry gave (`--calendar FILE` or HIKIKOMORI_CALENDAR),
-- kept so that a calendar given once stays in effect for every later rebuild. Insert-only: a run given a
-- calendar records each fiscal year whose deadline differs from the one in effect; the latest entry of
-- a year counts (for a closed year, the latest given before it was closed).
create table raw.deadline_calendar (
    fiscal_year integer not null,
    deadline date not null,
    given_at timestamptz not null,
    source varchar not null,                 -- the calendar file as given
    run_id varchar not null,                 -- the run or command that recorded it
    primary key (fiscal_year, given_at)
);
