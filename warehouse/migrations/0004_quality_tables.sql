-- Migration 0004: the results of the data-quality gate, one row per check per run (insert-only).
-- `if not exists`: warehouses made before migrations were recorded already hold this table,
-- created with these columns by the quality gate itself.
create schema if not exists quality;

create table if not exists quality.expectation_results (
    run_id varchar not null,
    checked_at timestamptz not null,
    check_name varchar not null,
    dataset varchar not null,                 -- the model or source checked, e.g. marts.outcome_targets
    expectation varchar not null,             -- the Great Expectations expectation
    description_ja varchar not null,
    description_en varchar not null,
    outcome varchar not null check (outcome in ('pass', 'fail', 'error')),
    unexpected_count bigint,
    details varchar not null
);
