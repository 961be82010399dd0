-- Migration 0010: one row per build of the SQL models, written in the build's own transaction with the
-- build's fingerprint (hikikomori.warehouse.model_builds): a run whose fingerprint equals the last
-- build's finds the models current and does not build them again. A failed build records nothing.
create table ops.model_builds (
    build_number integer primary key,        -- 1, 2, … in the order built
    fingerprint varchar not null,            -- SHA-256 of everything the build read and wrote
    inputs varchar not null,                 -- SHA-256 of the versions and files it read (part of the fingerprint)
    sources varchar[] not null,              -- the sources whose content is part of the fingerprint
    run_id varchar,                          -- the run or command that built (ops.pipeline_runs); null outside one
    built_at timestamptz not null,
    models integer not null                  -- how many models were built
);
