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

Each test takes a ``Frame``: the relation's select (built from the project's YAML by
``queries.relation_columns_query``, or a test's own) and the types of its columns. The tests that
judge each row alone (``not_null``, ``between``, ``pair_equal``) are counted together, in one pass
over the frame (``count_rows``). Column names are checked to be identifiers before they reach SQL
text; values are bound parameters.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hikikomori.warehouse.connection import Connection, DatabaseError

SAMPLE_SIZE = 20  # unexpected values kept for the details, as Great Expectations' partial_unexpected_list
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLOATING = {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"}


@dataclass(frozen=True)
class Frame:
    """A select whose rows a data test checks, and its columns' DuckDB types (name → type)."""

    query: str
    types: dict[str, str]


@dataclass(frozen=True)
class Unexpected:
    count: int
    sample: list[Any]  # up to SAMPLE_SIZE values (a tuple per row for several columns)


def frame(connection: Connection, query: str) -> Frame:
    """The frame of ``query`` (its columns' types read from DuckDB); raises what DuckDB raises for a bad query."""
    described = connection.execute(f"describe {query}").fetchall()
    return Frame(query, {str(row[0]): str(row[1]) for row in described})


@dataclass(frozen=True)
class RowTest:
    """A data test that judges each row alone: its unexpected rows are those meeting ``condition``."""

    columns: tuple[str, ...]  # shown in the sample
    condition: str  # SQL over the frame's columns (names checked), values as ``?`` parameters
    parameters: tuple[Any, ...] = ()


def not_null(checked: Frame, column: str) -> RowTest:
    return RowTest((column,), _missing(checked, column))


def between(checked: Frame, column: str, min_value: Any = None, max_value: Any = None) -> RowTest:
    name = _name(checked, column)
    bounds = [f"{name} < ?" for value in [min_value] if value is not None]
    bounds += [f"{name} > ?" for value in [max_value] if value is not None]
    parameters = tuple(value for value in (min_value, max_value) if value is not None)
    return RowTest((column,), f"not {_missing(checked, column)} and ({' or '.join(bounds) or 'false'})", parameters)


def pair_equal(checked: Frame, column_a: str, column_b: str) -> RowTest:
    a, b = _name(checked, column_a), _name(checked, column_b)
    missing_a, missing_b = _missing(checked, column_a), _missing(checked, column_b)
    condition = f"not ({missing_a} and {missing_b}) and ({missing_a} or {missing_b} or {a} <> {b})"
    return RowTest((column_a, column_b), condition)


def count_rows(connection: Connection, checked: Frame, tests: Sequence[RowTest]) -> list[Unexpected | Exception]:
    """Each test's unexpected rows, all counted in one pass over the frame (then a sample of each failure).

    If that pass fails, each test is counted alone, so an error belongs to the test that raised it.
    """
    if not tests:
        return []
    counts = ", ".join(f"count(*) filter (where {test.condition})" for test in tests)
    parameters = [parameter for test in tests for parameter in test.parameters]
    try:
        totals = connection.execute(f"select {counts} from ({checked.query})", parameters).fetchall()[0]
    except DatabaseError:
        if len(tests) == 1:
            raise
        return [_alone(connection, checked, test) for test in tests]
    return [
        Unexpected(0, [])
        if not total
        else _unexpected(connection, checked, test.columns, test.condition, test.parameters)
        for test, total in zip(tests, totals, strict=True)
    ]


def _alone(connection: Connection, checked: Frame, test: RowTest) -> Unexpected | Exception:
    try:
        (result,) = count_rows(connection, checked, [test])
    except DatabaseError as error:
        return error
    return result


def unique(connection: Connection, checked: Frame, columns: Sequence[str]) -> Unexpected:
    names = [_name(checked, column) for column in columns]
    skipped = " and ".join(_missing(checked, column) for column in columns)
    listed = ", ".join(names)
    kept = f"select {listed} from ({checked.query}) where not ({skipped})"
    counted = (
        f"select coalesce(sum(occurrences), 0) from "
        f"(select count(*) as occurrences from ({kept}) group by {listed} having count(*) > 1)"
    )
    if not connection.execute(counted).fetchall()[0][0]:
        return Unexpected(0, [])
    repeated = (
        f"select {listed} from (select {listed}, count(*) over (partition by {listed}) as occurrences "
        f"from ({kept})) where occurrences > 1"
    )
    return _unexpected(connection, checked, tuple(columns), "true", (), source=repeated)


def in_set(connection: Connection, checked: Frame, column: str, values: Sequence[Any]) -> Unexpected:
    """Compared in Python, as pandas' ``isin`` does (1 == 1.0), over the column's distinct values."""
    name = _name(checked, column)
    statement = f"select {name}, count(*) from ({checked.query}) where not {_missing(checked, column)} group by all"
    allowed = list(values)
    unexpected = [(value, count) for value, count in connection.execute(statement).fetchall() if value not in allowed]
    sample = [value for value, count in unexpected for _ in range(min(count, SAMPLE_SIZE))][:SAMPLE_SIZE]
    return Unexpected(sum(count for _, count in unexpected), sample)


def _unexpected(
    connection: Connection,
    checked: Frame,
    columns: tuple[str, ...],
    condition: str,
    parameters: tuple[Any, ...],
    source: str | None = None,
) -> Unexpected:
    """How many rows of ``source`` (default: the frame's query) meet ``condition``, and the first of them."""
    listed = ", ".join(_name(checked, column) for column in columns)
    statement = (
        f"with unexpected as (select {listed} from ({source or checked.query}) where {condition}) "
        f"select (select count(*) from unexpected), "
        f"(select list(row({listed})) from (select {listed} from unexpected limit {SAMPLE_SIZE}))"
    )
    count, sample = connection.execute(statement, list(parameters)).fetchall()[0]
    return Unexpected(int(count), _values(sample, len(columns)))


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
