"""Opening the warehouse file, and the transactions every writer uses.

Opening a connection never changes the warehouse: the tables are created and changed only by the
versioned migrations (``hikikomori.warehouse.migrate``), which a run applies once, at its start.
Times are stored as ``timestamptz`` (instants); a read-only connection, which is what people read
through (``hikikomori sql``, the report, exports), shows them in Japan time (``+09``).
"""

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from hikikomori.domain.fiscal_years import JAPAN

Connection = duckdb.DuckDBPyConnection
DatabaseError = duckdb.Error
T = TypeVar("T")
R = TypeVar("R")


def connect(path: Path, *, read_only: bool = False, storage_version: str | None = None) -> Connection:
    """Open the warehouse file (created empty when a writer opens a path that does not exist yet).

    ``storage_version`` (e.g. ``v1.1.0``): a file created now is written, for its whole life, in the
    storage format DuckDB of that version reads, so its analysts' copy can be the file itself
    (``warehouse/copies.py``). An existing file keeps the format it has.
    """
    if read_only:
        connection = duckdb.connect(str(path), read_only=True)
        show_japan_time(connection)
        return connection
    path.parent.mkdir(parents=True, exist_ok=True)
    if storage_version is not None and not path.exists():
        return duckdb.connect(str(path), config={"storage_compatibility_version": storage_version})
    return duckdb.connect(str(path))


def show_japan_time(connection: Connection) -> None:
    """Times with a zone (``timestamptz``) come out of this connection in Japan time (a session setting)."""
    connection.execute(f"set TimeZone = '{JAPAN.key}'")  # a constant: Asia/Tokyo


_LOCK_POLL_SECONDS = 0.5
# 'Conflicting lock is held in /usr/bin/python3.11 (PID 11024). However, …' (DuckDB 2.0's text).
_HOLDER = re.compile(r"Conflicting lock is held in (.*?\(PID \d+\))")


class WarehouseLocked(RuntimeError):
    """Another process kept the file's lock for the whole wait; ``holder`` names it as DuckDB did."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def connect_when_free(
    path: Path, timeout: float, on_wait: Callable[[str], None], storage_version: str | None = None
) -> Connection:
    """Open the file for writing (``connect``); while another process holds its lock (a read-only analyst
    included), wait up to ``timeout`` seconds, calling ``on_wait(holder)`` once, then raise ``WarehouseLocked``."""
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            return connect(path, storage_version=storage_version)
        except duckdb.IOException as error:
            holder = lock_holder(error)
            if holder is None:
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(holder) from error
            if not announced:
                on_wait(holder)
                announced = True
            time.sleep(min(_LOCK_POLL_SECONDS, max(deadline - time.monotonic(), 0)))


def lock_holder(error: BaseException) -> str | None:
    """Who holds the file, from DuckDB's lock error ("/usr/bin/python3.11 (PID 1234)"); None for other errors."""
    text = str(error)
    if "Could not set lock" not in text:
        return None
    match = _HOLDER.search(text)
    return match.group(1) if match else "unknown process"


def connect_in_memory() -> Connection:
    """A private warehouse in memory (unit tests of models, reading types, parsing SQL)."""
    return duckdb.connect(":memory:")


def read_in_parallel(
    connection: Connection, read: Callable[[Connection, T], R], items: Sequence[T], readers: int
) -> list[R]:
    """``read(cursor, item)`` for every item, ``readers`` at a time, in the items' order.

    Each thread reads through a cursor of its own (DuckDB runs the statements of different cursors of
    one database at once; one connection runs one at a time), in the connection's time zone (a session
    setting, which a cursor does not inherit: times would come out in UTC). For statements that only
    read, while nothing writes through ``connection``. Should one raise or the caller be stopped, the
    items not started are dropped, the ones started end, and the error goes on.
    """
    if readers <= 1 or len(items) <= 1:
        return [read(connection, item) for item in items]
    (zone,) = connection.execute("select current_setting('TimeZone')").fetchall()[0]
    local = threading.local()
    cursors: list[Connection] = []
    cursors_lock = threading.Lock()

    def read_one(item: T) -> R:
        cursor = getattr(local, "cursor", None)
        if cursor is None:
            cursor = local.cursor = connection.cursor()
            with cursors_lock:
                cursors.append(cursor)
            cursor.execute("set TimeZone = ?", [zone])
        return read(cursor, item)

    pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="hikikomori-read")
    try:
        futures = [pool.submit(read_one, item) for item in items]
        return [future.result() for future in futures]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        for cursor in cursors:
            cursor.close()


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


def checkpoint_less_often(connection: Connection, wal_mib: int) -> None:
    """Until this connection closes, checkpoint only when the write-ahead log passes ``wal_mib`` MiB.

    DuckDB writes its log into the file (a checkpoint) whenever the log passes 16 MB, and a checkpoint
    writes every index of the warehouse in full, however little changed: a load of many files paid one
    about every 7,000 files (0.1 s at 10,000, each dearer as the warehouse grows). Closing the connection
    checkpoints once. Nothing committed is less safe for it: each commit is synced to the log. What waits
    for the checkpoint is held in memory, up to about ``wal_mib``.
    """
    connection.execute(f"set checkpoint_threshold = '{int(wal_mib)}MiB'")  # an int: nothing else can reach SQL


def checkpoint(connection: Connection) -> None:
    """Write everything into the file itself (nothing left in the write-ahead log): safe to copy."""
    connection.execute("checkpoint")
