-- Migration 0003: the reference tables as real tables with explicit types and keys. Each run
-- replaces their rows (delete + insert in one transaction, warehouse/loading.py) from the bundled
-- reference data and the center registry in use.
-- Warehouses made before this migration hold untyped copies made by `create or replace table as`:
-- they are dropped here. They hold nothing but reference data, which the run that applies this
-- migration loads again before it builds the models.
drop table if exists reference.centers;
drop table if exists reference.referral_groups;
drop table if exists reference.referral_categories;
drop table if exists reference.referral_forms;
drop table if exists reference.published_establishment;
drop table if exists reference.fiscal_years;
drop table if exists reference.schema_descriptions;

create table reference.centers (
    center_code varchar primary key,
    center_name varchar not null,
    kind varchar not null check (kind in ('prefecture', 'designated_city', 'municipality')),
    opened_fiscal_year integer not null,
    sites integer not null
);

create table reference.referral_groups (
    agency_group varchar primary key,
    label_ja varchar not null,
    label_en varchar not null,
    display_order integer not null
);

create table reference.referral_forms (
    form varchar primary key,
    first_fiscal_year integer,                -- null: no lower limit
    last_fiscal_year integer                  -- null: no upper limit
);

create table reference.referral_categories (
    form varchar not null,
    category varchar not null,
    label_ja varchar not null,
    published_label varchar not null,
    label_en varchar not null,
    agency_group varchar not null,
    display_order integer not null,
    primary key (form, category)
);

create table reference.published_establishment (
    fiscal_year integer primary key,
    published_new integer,
    published_cumulative integer
);

create table reference.fiscal_years (
    fiscal_year integer primary key,
    fiscal_year_label varchar not null
);

-- DuckDB cannot comment on a schema: what each schema holds, written from sql/sources.yml.
create table reference.schema_descriptions (
    schema_name varchar primary key,
    description varchar not null              -- Japanese / English
);
