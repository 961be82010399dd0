"""Unit tests of models, as dbt runs them: given rows for a model's inputs, the rows it must produce.

Each test runs in a private DuckDB in memory, in milliseconds: every relation the model reads
becomes a table holding the given rows (columns a test leaves out are null, of the column's real
type) and the model's ``select`` runs against them. The types are learnt once per project by
building every model on an empty warehouse in memory (the migrations, then the build).

The model's rows are compared with the expected ones as a multiset, on the columns the expected
rows name: order does not matter, repeats do. Floating-point values match within 1e-9 (relative and
absolute). A failure lists the expected rows the model did not produce and the rows it produced
that were not expected.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from hikikomori.warehouse.connection import connect_in_memory
from hikikomori.warehouse.migrate import migrate
from hikikomori.warehouse.models import Project, build_models
from hikikomori.warehouse.project import UnitTest

FLOAT_TOLERANCE = 1e-9
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
_RESULT = "unit_test_result"
_EXPECTED = "unit_test_expected"

ColumnTypes = dict[str, tuple[tuple[str, str], ...]]  # schema.table → ((column, type), …)


class UnitTestDefinitionError(ValueError):
    """The unit test itself is wrong (an input the model does not read, a column that does not exist)."""


@dataclass(frozen=True)
class UnitTestResult:
    test: UnitTest
    passed: bool
    message: str  # empty when passed; otherwise the differences, as a readable table


def relation_types(project: Project) -> ColumnTypes:
    """The columns and types of every source and model, from building the project on an empty warehouse."""
    connection = connect_in_memory()
    try:
        migrate(connection)
        build_models(connection, project)
        rows = connection.execute(
            """
            select schema_name || '.' || table_name, column_name, data_type
            from duckdb_columns()
            where schema_name <> 'main' and not internal
            order by schema_name, table_name, column_index
            """
        ).fetchall()
    finally:
        connection.close()
    types: dict[str, list[tuple[str, str]]] = {}
    for relation, column, data_type in rows:
        types.setdefault(relation, []).append((column, data_type))
    return {relation: tuple(columns) for relation, columns in types.items()}


class UnitTestRunner:
    """Runs a project's unit tests; learns the relations' types on first use."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._types: ColumnTypes | None = None

    @property
    def types(self) -> ColumnTypes:
        if self._types is None:
            self._types = relation_types(self.project)
        return self._types

    def run(self, test: UnitTest) -> UnitTestResult:
        model = self.project.model(test.model)
        given = {item.relation: item.rows for item in test.given}
        strangers = sorted(set(given) - model.depends_on)
        if strangers:
            raise UnitTestDefinitionError(
                f"{test.test_id}: {model.qualified_name} does not read {', '.join(strangers)} "
                f"(it reads {', '.join(sorted(model.depends_on))})"
            )
        connection = connect_in_memory()
        try:
            for relation in sorted(model.depends_on):
                self._create_input(connection, test, relation, given.get(relation, ()))
            connection.execute(f"create table {_RESULT} as\n{model.sql}")
            return _compare(connection, test)
        finally:
            connection.close()

    def _create_input(
        self, connection: duckdb.DuckDBPyConnection, test: UnitTest, relation: str, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        columns = dict(self.types[relation])
        schema = relation.split(".")[0]
        connection.execute(f"create schema if not exists {schema}")
        definition = ", ".join(f'"{name}" {data_type}' for name, data_type in columns.items())
        # Relation and column names come from the warehouse's own catalog, built from the project.
        connection.execute(f"create table {relation} ({definition})")
        _insert(connection, relation, set(columns), rows, f"{test.test_id}: given {relation}")


def _insert(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    known: set[str],
    rows: Sequence[Mapping[str, Any]],
    where: str,
) -> None:
    by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
    for row in rows:
        unknown = sorted(set(row) - known)
        if unknown:
            raise UnitTestDefinitionError(
                f"{where}: no column {', '.join(unknown)} (columns: {', '.join(sorted(known))})"
            )
        by_columns.setdefault(tuple(row), []).append(list(row.values()))
    for columns, values in by_columns.items():
        names = ", ".join(f'"{column}"' for column in columns)
        placeholders = ", ".join("?" for _ in columns)
        try:
            connection.executemany(f"insert into {table} ({names}) values ({placeholders})", values)
        except duckdb.Error as error:
            raise UnitTestDefinitionError(f"{where}: {error}") from error


def _compare(connection: duckdb.DuckDBPyConnection, test: UnitTest) -> UnitTestResult:
    produced_types = dict(
        connection.execute(
            "select column_name, data_type from duckdb_columns() where table_name = ? order by column_index",
            [_RESULT],
        ).fetchall()
    )
    column_sets = {tuple(row) for row in test.expect}
    if len(column_sets) > 1:
        raise UnitTestDefinitionError(f"{test.test_id}: every expected row must name the same columns")
    columns = list(next(iter(column_sets))) if column_sets else list(produced_types)
    unknown = sorted(set(columns) - set(produced_types))
    if unknown:
        raise UnitTestDefinitionError(
            f"{test.test_id}: {test.model} has no column {', '.join(unknown)} (columns: {', '.join(produced_types)})"
        )
    names = ", ".join(f'"{column}"' for column in columns)
    connection.execute(f"create table {_EXPECTED} as select {names} from {_RESULT} where false")
    _insert(connection, _EXPECTED, set(columns), test.expect, f"{test.test_id}: expect")
    produced = connection.execute(f"select {names} from {_RESULT}").fetchall()
    expected = connection.execute(f"select {names} from {_EXPECTED}").fetchall()
    floats = [produced_types[column].startswith(_FLOAT_TYPES) for column in columns]
    missing, unexpected = _multiset_difference(expected, produced, floats)
    if not missing and not unexpected:
        return UnitTestResult(test, True, "")
    lines = [f"{test.test_id} ({test.path.parent.name}/{test.path.name}): {test.description.en}"]
    if missing:
        lines += [f"  expected but not produced ({len(missing)}):", *_table(columns, missing)]
    if unexpected:
        lines += [f"  produced but not expected ({len(unexpected)}):", *_table(columns, unexpected)]
    return UnitTestResult(test, False, "\n".join(lines))


def _multiset_difference(
    expected: list[tuple[Any, ...]], produced: list[tuple[Any, ...]], floats: list[bool]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(expected rows without a match, produced rows without a match); each produced row matches once."""
    unmatched = list(produced)
    missing = []
    for row in expected:
        match = next((index for index, candidate in enumerate(unmatched) if _same(row, candidate, floats)), None)
        if match is None:
            missing.append(row)
        else:
            unmatched.pop(match)
    return missing, unmatched


def _same(left: tuple[Any, ...], right: tuple[Any, ...], floats: list[bool]) -> bool:
    for a, b, is_float in zip(left, right, floats, strict=True):
        if a is None or b is None:
            if a is not b:
                return False
        elif is_float:
            if not math.isclose(float(a), float(b), rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE):
                return False
        elif a != b:
            return False
    return True


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
    cells = [columns, *[[_show(value) for value in row] for row in rows]]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    return [
        "    " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
