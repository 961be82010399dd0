-- Migration 0002: the run audit, written by the pipeline itself (not a model): present even when a
-- run failed before the models were built. One row per pipeline run; key run_id (the Prefect flow
-- run id). `if not exists`: warehouses made before migrations were recorded already hold it.
create schema if not exists ops;

create table if not exists ops.pipeline_runs (
    run_id varchar primary key,
    flow_name varchar not null,
    started_at timestamptz not null,
    ended_at timestamptz,
    status varchar not null check (status in ('running', 'completed', 'failed')),
    fiscal_years_requested integer[] not null, -- empty: every fiscal year found in the inbox
    files_seen integer,                        -- found in the inbox (for the requested years)
    files_accepted integer,
    files_rejected integer,
    files_duplicate integer,
    fiscal_years_rebuilt integer[],            -- years whose figures this run changed (a new accepted version)
    error varchar                              -- one line: why a failed run failed
);
