-- Migration 0005: what each run did with each file it found in the inbox, the files it left there
-- included (with the reason), so every file a run saw is accounted for: taken in (its receipt in
-- raw.received_files, this run's or the earlier one it repeats), still in the inbox, or gone.
-- One row per run and inbox file name; a retried step of the same run replaces the row.
create table ops.run_files (
    run_id varchar not null,
    file_name varchar not null,               -- as it sat in the inbox, e.g. 130001/130001_2016.csv
    outcome varchar not null check (outcome in ('accepted', 'rejected', 'duplicate', 'deferred', 'gone')),
    receipt_id varchar,                       -- its receipt; null for a file not taken in
    reason_rule varchar,                      -- why it is still in the inbox or gone, or what failed after it was recorded
    reason varchar,                           -- that reason's message, Japanese / English
    noted_at timestamptz not null,
    primary key (run_id, file_name)
);

-- Files a run left in the inbox with a reason (ops.run_files where outcome = 'deferred').
alter table ops.pipeline_runs add column files_deferred integer;
