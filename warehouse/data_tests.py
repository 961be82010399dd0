"""The quality gate's data tests counted in DuckDB: the rows Great Expectations would call unexpected.

The run's gate (``hikikomori.pipeline.quality.check_warehouse``) evaluates each data test of the
models' YAML here, in SQL over the relation, instead of reading the relation into pandas and
importing Great Expectations (≈ 3 s and ≈ 200 MiB before the first check). The counts follow Great
Expectations 1.x on pandas, which the report still runs on the analysts' copy; a test
(``tests/test_quality_gate.py``) runs both on the same data, broken in every way below, and requires
the same verdicts and counts:

- a value is *missing* when it is NULL, or NaN in a floating-point column (pandas' ``isna``);
- ``not_null``: every row whose value is missing;
- ``unique`` (one column): every row whose value occurs more than once, missing values skipped;
  several columns: every row whose combination occurs more than once, rows missing every value skipped;
- ``in_set``: every row whose value is not in the set, missing values skipped;
- ``between``: every row whose value is below the minimum or above the maximum (both inclusive),
  missing values skipped;
- ``pair_equal``: every row whose two values differ, or where one of them is missing (rows missing
  both skipped).

Each test is built for a ``Frame``: the relation's select (from the project's YAML through
``queries.relation_columns_query``, or a test's own) and its columns' types. ``count`` counts every
test of a frame in one statement, over the frame computed once (a materialised CTE: a view of the
staging layer is not recomputed for each of its tests), then reads a sample of each failure. Column
names are checked to be identifiers before they reach SQL text; values are bound parameters.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hikikomori.warehouse.connection import Connection, DatabaseError

SAMPLE_SIZE = 20  # unexpected values kept for the details, as Great Expectations' partial_unexpected_list
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLOATING = {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"}


@dataclass(frozen=True)
class Frame:
    """A select whose rows data tests check, and its columns' DuckDB types (name → type)."""

    query: str
    types: dict[str, str]


@dataclass(frozen=True)
class Test:
    """One data test of a frame, as SQL over its columns (names checked when it is built)."""

    kind: Literal["rows", "repeated", "values"]
    columns: tuple[str, ...]
    condition: str  # rows: where a row is unexpected; repeated: where a row is skipped
    parameters: tuple[Any, ...] = ()
    allowed: tuple[Any, ...] = ()  # values: the accepted set (compared in Python)


@dataclass(frozen=True)
class Unexpected:
    count: int
    sample: list[Any]  # up to SAMPLE_SIZE values (a tuple per row for several columns)


def frame(connection: Connection, query: str) -> Frame:
    """The frame of ``query`` (its columns' types read from DuckDB); raises what DuckDB raises for a bad query."""
    described = connection.execute(f"describe {query}").fetchall()
    return Frame(query, {str(row[0]): str(row[1]) for row in described})


def not_null(checked: Frame, column: str) -> Test:
    return Test("rows", (column,), _missing(checked, column))


def between(checked: Frame, column: str, min_value: Any = None, max_value: Any = None) -> Test:
    name = _name(checked, column)
    bounds = [f"{name} < ?" for value in [min_value] if value is not None]
    bounds += [f"{name} > ?" for value in [max_value] if value is not None]
    parameters = tuple(value for value in (min_value, max_value) if value is not None)
    return Test(
        "rows", (column,), f"not {_missing(checked, column)} and ({' or '.join(bounds) or 'false'})", parameters
    )


def pair_equal(checked: Frame, column_a: str, column_b: str) -> Test:
    a, b = _name(checked, column_a), _name(checked, column_b)
    missing_a, missing_b = _missing(checked, column_a), _missing(checked, column_b)
    condition = f"not ({missing_a} and {missing_b}) and ({missing_a} or {missing_b} or {a} <> {b})"
    return Test("rows", (column_a, column_b), condition)


def unique(checked: Frame, columns: Sequence[str]) -> Test:
    return Test("repeated", tuple(columns), " and ".join(_missing(checked, column) for column in columns))


def in_set(checked: Frame, column: str, values: Sequence[Any]) -> Test:
    """Compared in Python over the column's distinct values, as pandas' ``isin`` compares (1 == 1.0)."""
    return Test("values", (column,), _missing(checked, column), allowed=tuple(values))


def count(connection: Connection, checked: Frame, tests: Sequence[Test]) -> list[Unexpected | Exception]:
    """Every test's unexpected rows, in one statement over the frame (then a sample of each failure).

    If that statement fails, each test is counted alone, so an error belongs to the test that raised it.
    """
    if not tests:
        return []
    row_tests = [test for test in tests if test.kind == "rows"]
    counts = ", ".join(f"count(*) filter (where {test.condition})" for test in row_tests)
    columns = [f"(select [{counts}]::bigint[] from frame)" if row_tests else "[]::bigint[]"]
    columns += [_set_expression(checked, test) for test in tests if test.kind != "rows"]
    parameters = [parameter for test in row_tests for parameter in test.parameters]
    statement = f"with frame as materialized ({checked.query}) select {', '.join(columns)}"
    try:
        row_counts, *set_values = connection.execute(statement, parameters).fetchall()[0]
    except DatabaseError as error:
        if len(tests) == 1:
            return [error]
        return [count(connection, checked, [test])[0] for test in tests]
    values = iter([*row_counts, *set_values])
    counted = {id(test): next(values) for test in [*row_tests, *(test for test in tests if test.kind != "rows")]}
    return [_unexpected(connection, checked, test, counted[id(test)]) for test in tests]


def _set_expression(checked: Frame, test: Test) -> str:
    listed = ", ".join(_name(checked, column) for column in test.columns)
    if test.kind == "repeated":  # how many rows share their value (or combination) with another row
        return (
            f"(select coalesce(sum(occurrences), 0) from (select count(*) as occurrences from frame "
            f"where not ({test.condition}) group by {listed} having count(*) > 1))"
        )
    # values: each distinct value with its number of rows
    return (
        f"(select list(row({listed}, occurrences)) from (select {listed}, count(*) as occurrences from frame "
        f"where not {test.condition} group by all))"
    )


def _unexpected(connection: Connection, checked: Frame, test: Test, counted: Any) -> Unexpected:
    if test.kind == "values":
        pairs = [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in counted or []]
        unexpected = [(value, occurrences) for value, occurrences in pairs if value not in test.allowed]
        sample = [value for value, occurrences in unexpected for _ in range(min(occurrences, SAMPLE_SIZE))]
        return Unexpected(sum(occurrences for _, occurrences in unexpected), sample[:SAMPLE_SIZE])
    if not counted:
        return Unexpected(0, [])
    listed = ", ".join(_name(checked, column) for column in test.columns)
    if test.kind == "rows":
        source, parameters = f"select {listed} from ({checked.query}) where {test.condition}", test.parameters
    else:
        source, parameters = (
            (
                f"select {listed} from (select {listed}, count(*) over (partition by {listed}) as occurrences "
                f"from ({checked.query}) where not ({test.condition})) where occurrences > 1"
            ),
            (),
        )
    statement = f"select list(row({listed})) from (select * from ({source}) limit {SAMPLE_SIZE})"
    (sample,) = connection.execute(statement, list(parameters)).fetchall()[0]
    return Unexpected(int(counted), _values(sample, len(test.columns)))


def _missing(checked: Frame, column: str) -> str:
    """SQL that is true where the column's value is missing: NULL, or NaN in a floating-point column."""
    name = _name(checked, column)
    if checked.types[column].upper() in _FLOATING:
        return f"({name} is null or isnan({name}))"
    return f"({name} is null)"


def _name(checked: Frame, column: str) -> str:
    if not _IDENTIFIER.match(column):
        raise ValueError(f"not a column name: {column!r}")
    if column not in checked.types:
        raise KeyError(f"the checked rows have no column {column!r} (columns: {', '.join(checked.types)})")
    return f'"{column}"'


def _values(rows: list[Any] | None, width: int) -> list[Any]:
    """The sample as plain values: one value per row for one column, a tuple per row for several."""
    values = [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in rows or []]
    return [value[0] for value in values] if width == 1 else values
