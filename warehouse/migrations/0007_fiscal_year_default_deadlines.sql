-- Migration 0007: each fiscal year's default submission deadline (30 June after it ends), written with
-- the labels by every run from hikikomori.domain.fiscal_years.default_deadline: the one definition, which
-- the models read instead of repeating it. Null until the next run reloads the reference tables.
alter table reference.fiscal_years add column default_deadline date;
