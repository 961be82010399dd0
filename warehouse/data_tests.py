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

Each function takes a ``Frame``: the relation's select (built from the project's YAML by
``queries.relation_columns_query``, or a test's own) and the types of its columns. Column names are
checked to be identifiers before they reach SQL text; values are bound parameters.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hikikomori.warehouse.connection import Connection

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


def not_null(connection: Connection, checked: Frame, column: str) -> Unexpected:
    return _rows_where(connection, checked, [column], _missing(checked, column))


def unique(connection: Connection, checked: Frame, columns: Sequence[str]) -> Unexpected:
    names = [_name(checked, column) for column in columns]
    missing = [_missing(checked, column) for column in columns]
    skipped = missing[0] if len(columns) == 1 else " and ".join(missing)
    listed = ", ".join(names)
    repeated = (
        f"select {listed} from (select {listed}, count(*) over (partition by {listed}) as occurrences "
        f"from ({checked.query}) where not ({skipped})) where occurrences > 1"
    )
    return _rows_where(connection, checked, list(columns), "true", source=repeated)


def in_set(connection: Connection, checked: Frame, column: str, values: Sequence[Any]) -> Unexpected:
    """Compared in Python, as pandas' ``isin`` does (1 == 1.0), over the column's distinct values."""
    name = _name(checked, column)
    statement = f"select {name}, count(*) from ({checked.query}) where not ({_missing(checked, column)}) group by all"
    allowed = list(values)
    unexpected = [(value, count) for value, count in connection.execute(statement).fetchall() if value not in allowed]
    sample = [value for value, count in unexpected for _ in range(min(count, SAMPLE_SIZE))][:SAMPLE_SIZE]
    return Unexpected(sum(count for _, count in unexpected), sample)


def between(
    connection: Connection, checked: Frame, column: str, min_value: Any = None, max_value: Any = None
) -> Unexpected:
    name = _name(checked, column)
    bounds = [f"{name} < ?" for value in [min_value] if value is not None]
    bounds += [f"{name} > ?" for value in [max_value] if value is not None]
    parameters = [value for value in (min_value, max_value) if value is not None]
    condition = f"not ({_missing(checked, column)}) and ({' or '.join(bounds) or 'false'})"
    return _rows_where(connection, checked, [column], condition, parameters)


def pair_equal(connection: Connection, checked: Frame, column_a: str, column_b: str) -> Unexpected:
    a, b = _name(checked, column_a), _name(checked, column_b)
    missing_a, missing_b = _missing(checked, column_a), _missing(checked, column_b)
    condition = f"not ({missing_a} and {missing_b}) and ({missing_a} or {missing_b} or {a} <> {b})"
    return _rows_where(connection, checked, [column_a, column_b], condition)


def _rows_where(
    connection: Connection,
    checked: Frame,
    columns: list[str],
    condition: str,
    parameters: Sequence[Any] = (),
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
    return f"{name} is null"


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
