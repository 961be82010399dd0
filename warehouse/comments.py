"""Comments on every table, view and column, written into the warehouse from the project's YAML.

The descriptions live beside the SQL (``sql/<layer>/<model>.yml``, ``sql/sources.yml``,
``sql/docs.yml``: see ``hikikomori.warehouse.project``). ``CREATE OR REPLACE`` drops comments, so
they are applied again after every build, in the build's transaction. DuckDB 2.0 cannot comment on
a schema ("not implemented"), so schema descriptions go into the table
``reference.schema_descriptions`` instead.
"""

import duckdb
import pandas as pd

from hikikomori.warehouse.project import ProjectDocs

COMMENTED_SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "ops", "quality")


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


def apply_docs(connection: duckdb.DuckDBPyConnection, docs: ProjectDocs) -> None:
    """Write the schema descriptions, then comment every table, view and column the YAML describes.

    Inside the caller's transaction (the build's).
    """
    descriptions = pd.DataFrame(
        {
            "schema_name": list(docs.schemas),
            "description": [description.text for description in docs.schemas.values()],
        }
    )
    connection.register("schema_description_rows", descriptions)
    try:
        connection.execute("delete from reference.schema_descriptions")
        connection.execute(
            "insert into reference.schema_descriptions (schema_name, description) "
            "select schema_name, description from schema_description_rows"
        )
    finally:
        connection.unregister("schema_description_rows")
    relations = docs.relations
    for row in warehouse_objects(connection).itertuples():
        relation = relations.get(f"{row.schema_name}.{row.name}")
        if relation:
            # COMMENT ON takes no bound parameters; the text comes from the project's own YAML.
            connection.execute(
                f"comment on {row.kind} {row.schema_name}.{row.name} is {_literal(relation.description.text)}"
            )
    for row in warehouse_columns(connection).itertuples():
        relation = relations.get(f"{row.schema_name}.{row.table_name}")
        column = relation.column(str(row.column_name)) if relation else None
        if column:
            connection.execute(
                f'comment on column {row.schema_name}.{row.table_name}."{row.column_name}" '
                f"is {_literal(column.description.text)}"
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
