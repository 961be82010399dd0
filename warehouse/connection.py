"""Opening the warehouse file."""

from pathlib import Path

import duckdb

_RAW_TABLES = Path(__file__).with_name("raw_tables.sql")
_OPS_TABLES = Path(__file__).with_name("ops_tables.sql")


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a writable connection also makes sure the raw and ops tables exist."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path))
    connection.execute(_RAW_TABLES.read_text(encoding="utf-8"))
    connection.execute(_OPS_TABLES.read_text(encoding="utf-8"))
    return connection
