"""``hikikomori export``: every mart as CSV (for Excel) and Parquet (for tools without DuckDB).

- CSV: UTF-8 with BOM (Excel opens Japanese intact), CRLF, a header row of column names; integers
  written exactly, times in Japan time (ISO 8601 with ``+09:00``), text through ``spreadsheet_safe``
  (a value starting with ``=`` is shown, never run).
- Parquet: written by DuckDB itself, column types kept (times as instants, which readers show in
  their own zone).

Rows come in the order of the model's key (its YAML), so two exports of the same data are identical.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.spreadsheet import spreadsheet_safe
from hikikomori.resources import package_path
from hikikomori.warehouse import queries
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.migrate import require_current
from hikikomori.warehouse.models import load_project


@dataclass(frozen=True)
class ExportedMart:
    name: str
    rows: int
    csv: Path
    parquet: Path


def export_marts(warehouse_path: Path, out_dir: Path, sql_dir: Path | None = None) -> list[ExportedMart]:
    """Write ``<mart>.csv`` and ``<mart>.parquet`` into ``out_dir`` for every table of ``marts``."""
    relations = load_project(sql_dir or package_path("sql")).docs.relations
    out_dir.mkdir(parents=True, exist_ok=True)
    exported = []
    with connect(warehouse_path, read_only=True) as connection:
        require_current(connection)
        for name in queries.mart_names(connection):
            documented = relations.get(f"marts.{name}")
            order_by = list(documented.key) if documented is not None else []
            columns, rows = queries.mart_rows(connection, name, order_by)
            csv_path = out_dir / f"{name}.csv"
            csv_path.write_bytes(csv_bytes(columns, rows))
            parquet_path = out_dir / f"{name}.parquet"
            queries.write_mart_parquet(connection, name, order_by, str(parquet_path))
            exported.append(ExportedMart(name, len(rows), csv_path, parquet_path))
    return exported


def csv_bytes(columns: list[str], rows: list[tuple[object, ...]]) -> bytes:
    """The table as CSV for Excel: UTF-8 with BOM, CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(column) for column in columns])
    writer.writerows([[csv_value(value) for value in row] for row in rows])
    return buffer.getvalue().encode("utf-8-sig")


def csv_value(value: object) -> str:
    """One cell: numbers exactly, times in Japan time, text never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same number
    if isinstance(value, datetime):
        return (value.astimezone(JAPAN) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return spreadsheet_safe(json.dumps(value, ensure_ascii=False, default=str))
    return spreadsheet_safe(value)
