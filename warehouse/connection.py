"""Opening the warehouse file."""

from pathlib import Path

import duckdb

from hikikomori.resources import package_path


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a writable connection also makes sure the raw and ops tables exist."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path))
    for migration in sorted(package_path("warehouse", "migrations").glob("*.sql")):
        connection.execute(migration.read_text(encoding="utf-8"))
    return connection
