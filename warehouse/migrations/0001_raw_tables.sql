-- Migration 0001: the raw tables loads write. Rows are only ever inserted: every received file
-- and every accepted version stays, so any past state of the marts can be explained.
-- `if not exists`: warehouses made before migrations were recorded already hold these tables,
-- created by this very text; on them this migration only records itself.
create schema if not exists raw;
create schema if not exists reference;

create table if not exists raw.received_files (
    receipt_id varchar primary key,          -- one per file taken from the inbox
    run_id varchar not null,
    file_name varchar not null,              -- as it sat in the inbox, e.g. 130001/130001_2016.csv
    content_sha256 varchar not null,
    size_bytes bigint not null,
    center_code varchar,                     -- from the file name (else the content); null if unknown
    fiscal_year integer,
    outcome varchar not null check (outcome in ('accepted', 'rejected', 'duplicate')),
    stored_path varchar not null,            -- where the file now is: archive or quarantine
    received_at timestamptz not null,
    issue_count integer not null
);

create table if not exists raw.submissions (
    receipt_id varchar primary key,          -- the accepted file this version came from
    center_code varchar not null,
    fiscal_year integer not null,
    version integer not null,                -- 1, 2, … per center and fiscal year
    content_sha256 varchar not null,
    unique (center_code, fiscal_year, version)
);

create table if not exists raw.submission_rows (
    receipt_id varchar not null,
    row_number integer not null,             -- spreadsheet row in the file
    measure varchar not null,
    category varchar not null,               -- normalised code (labels resolved)
    count bigint not null,
    primary key (receipt_id, measure, category)
);

create table if not exists raw.validation_issues (
    receipt_id varchar not null,
    issue_number integer not null,
    row_number integer,
    column_name varchar,
    cell varchar,
    value varchar,
    rule varchar not null,
    message_ja varchar not null,
    message_en varchar not null,
    primary key (receipt_id, issue_number)
);
