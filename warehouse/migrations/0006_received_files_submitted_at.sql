-- Migration 0006: when each file was submitted, the time its timeliness is judged by (CONTRACT.md §3 v2,
-- marts.submission_status.on_time): for a file the portal handed over, its upload time (upload.json);
-- for any other file, the time the pipeline took it in. Files recorded before this migration get the
-- time they were taken in: the portal's upload times of older files were never in the warehouse.
alter table raw.received_files add column submitted_at timestamptz;

update raw.received_files set submitted_at = received_at;
