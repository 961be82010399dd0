"""Opening the warehouse file, and the transactions every writer uses.

Opening a connection never changes the warehouse: the tables are created and changed only by the
versioned migrations (``hikikomori.warehouse.migrate``), which a run applies once, at its start.
Times are stored as ``timestamptz`` (instants); a read-only connection, which is what people read
through (``hikikomori sql``, the report, exports), shows them in Japan time (``+09``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from hikikomori.domain.fiscal_years import JAPAN

Connection = duckdb.DuckDBPyConnection
DatabaseError = duckdb.Error


def connect(path: Path, *, read_only: bool = False) -> Connection:
    """Open the warehouse file (created empty when a writer opens a path that does not exist yet)."""
    if read_only:
        connection = duckdb.connect(str(path), read_only=True)
        show_japan_time(connection)
        return connection
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


def show_japan_time(connection: Connection) -> None:
    """Times with a zone (``timestamptz``) come out of this connection in Japan time (a session setting)."""
    connection.execute(f"set TimeZone = '{JAPAN.key}'")  # a constant: Asia/Tokyo


def connect_in_memory() -> Connection:
    """A private warehouse in memory (unit tests of models, reading types, parsing SQL)."""
    return duckdb.connect(":memory:")


@contextmanager
def transaction(connection: Connection) -> Iterator[Connection]:
    """Everything inside commits together, or nothing does."""
    connection.execute("begin transaction")
    try:
        yield connection
    except BaseException:
        connection.execute("rollback")
        raise
    connection.execute("commit")


def checkpoint(connection: Connection) -> None:
    """Write everything into the file itself (nothing left in the write-ahead log): safe to copy."""
    connection.execute("checkpoint")
