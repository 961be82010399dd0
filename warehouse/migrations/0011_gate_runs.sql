-- Migration 0011: one row per data-quality gate, with the fingerprint of everything its checks read
-- (hikikomori.warehouse.gate_runs). A gate whose fingerprint equals the last gate's, when every
-- check of that gate passed, records that gate's results again instead of counting them anew, and
-- says whose evaluation they are.
create table quality.gate_runs (
    run_id varchar not null,                 -- the run or command the gate belongs to (ops.pipeline_runs)
    fingerprint varchar not null,            -- SHA-256 of the checks, the gate's code and everything they read
    evaluated_in varchar not null,           -- the run whose evaluation the results are (run_id: counted now)
    checked_at timestamptz not null,         -- when this gate ran
    primary key (run_id, checked_at)
);
