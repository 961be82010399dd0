"""Comments on every schema, table, view and column, kept in ``warehouse/comments.yaml``.

``CREATE OR REPLACE`` drops comments, so they are applied again after every build. DuckDB 2.0
cannot comment on a schema ("not implemented"), so schema descriptions go into the table
``reference.schema_descriptions`` instead.
"""

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import yaml

COMMENTED_SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "ops", "quality")


@dataclass(frozen=True)
class Comment:
    ja: str
    en: str

    @property
    def text(self) -> str:
        return f"{self.ja} / {self.en}"


@dataclass(frozen=True)
class Catalog:
    schemas: dict[str, Comment]
    tables: dict[str, Comment]  # "schema.table"
    columns: dict[str, dict[str, Comment]]  # "schema.table" → column → comment
    common_columns: dict[str, Comment]

    def column(self, table: str, column: str) -> Comment | None:
        return self.columns.get(table, {}).get(column) or self.common_columns.get(column)


def load_catalog(path: Path) -> Catalog:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))

    def comment(entry: dict[str, str]) -> Comment:
        return Comment(ja=entry["ja"], en=entry["en"])

    return Catalog(
        schemas={name: comment(entry) for name, entry in document["schemas"].items()},
        tables={name: comment(entry) for name, entry in document["tables"].items()},
        columns={
            name: {column: comment(value) for column, value in entry.get("columns", {}).items()}
            for name, entry in document["tables"].items()
        },
        common_columns={name: comment(entry) for name, entry in document["common_columns"].items()},
    )


def warehouse_objects(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every table and view in the commented schemas: schema, name, kind, comment."""
    return connection.execute(
        """
        select schema_name, table_name as name, 'table' as kind, comment
        from duckdb_tables() where schema_name in (select unnest(?))
        union all
        select schema_name, view_name, 'view', comment
        from duckdb_views() where schema_name in (select unnest(?)) and not internal
        order by schema_name, name
        """,
        [list(COMMENTED_SCHEMAS), list(COMMENTED_SCHEMAS)],
    ).df()


def warehouse_columns(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return connection.execute(
        """
        select schema_name, table_name, column_name, data_type, is_nullable, comment
        from duckdb_columns() where schema_name in (select unnest(?))
        order by schema_name, table_name, column_index
        """,
        [list(COMMENTED_SCHEMAS)],
    ).df()


def apply_comments(connection: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """Write the schema descriptions, then comment every table, view and column the catalog knows."""
    descriptions = pd.DataFrame(
        {
            "schema_name": list(catalog.schemas),
            "description": [comment.text for comment in catalog.schemas.values()],
        }
    )
    connection.register("schema_description_rows", descriptions)
    try:
        connection.execute(
            "create or replace table reference.schema_descriptions as select * from schema_description_rows"
        )
    finally:
        connection.unregister("schema_description_rows")
    for row in warehouse_objects(connection).itertuples():
        comment = catalog.tables.get(f"{row.schema_name}.{row.name}")
        if comment:
            # COMMENT ON takes no bound parameters; the text comes from the project's own YAML.
            connection.execute(f"comment on {row.kind} {row.schema_name}.{row.name} is {_literal(comment.text)}")
    for row in warehouse_columns(connection).itertuples():
        comment = catalog.column(f"{row.schema_name}.{row.table_name}", row.column_name)
        if comment:
            connection.execute(
                f'comment on column {row.schema_name}.{row.table_name}."{row.column_name}" is {_literal(comment.text)}'
            )


def missing_comments(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables, views and columns in the warehouse that carry no comment."""
    objects = warehouse_objects(connection)
    columns = warehouse_columns(connection)
    return [f"{row.schema_name}.{row.name}" for row in objects.itertuples() if not row.comment] + [
        f"{row.schema_name}.{row.table_name}.{row.column_name}" for row in columns.itertuples() if not row.comment
    ]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
