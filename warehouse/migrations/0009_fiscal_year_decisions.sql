-- Migration 0009: the ministry's decisions on fiscal years (CONTRACT.md §5): closing a year (publishing
-- it), accepting a center's revision of a closed year, reopening a year. Insert-only, numbered in the
-- order decided. Each closing or accepted revision also records the full set of versions that count for
-- the year from then on (one row per center), so the figures of a closed year never depend on files that
-- arrive later. ops.publications and ops.revisions are views of these tables (sql/ops/).
create table raw.fiscal_year_decisions (
    decision_id integer primary key,         -- 1, 2, … in the order decided
    fiscal_year integer not null,
    action varchar not null check (action in ('close_year', 'accept_revision', 'reopen_year')),
    center_code varchar,                     -- accept_revision: the center whose revision counts now
    from_version integer,                    -- accept_revision: the version that counted before (null: none)
    to_version integer,                      -- accept_revision: the version that counts from now on
    decided_at timestamptz not null,
    note varchar not null,
    run_id varchar not null                  -- the command's run (ops.pipeline_runs)
);

create table raw.decision_counted_versions (
    decision_id integer not null,            -- a close_year or accept_revision decision
    center_code varchar not null,
    version integer not null,                -- the center's version that counts after the decision
    primary key (decision_id, center_code)
);
