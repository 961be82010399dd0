"""The DuckDB warehouse: raw tables written by loads, reference tables, and the SQL models."""
