"""What keeps runs and analysts out of each other's way.

DuckDB lets one process holding the file read-write lock out every other process, readers
included. So the warehouse file belongs to runs only, one at a time (an exclusive ``flock`` on a
lock file beside it), and analysts read a copy that each successful run publishes with one atomic
rename: an analyst who still has the previous copy open keeps reading it undisturbed. The copy is
written in a storage format DuckDB 1.x clients read (``hikikomori.warehouse.copies``).
"""

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hikikomori.domain.vocabulary import RunStatus
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import checkpoint, connect
from hikikomori.warehouse.copies import write_portable_copy
from hikikomori.warehouse.migrate import migrate
from hikikomori.warehouse.run_audit import record_run_end, record_run_start

_LOCK_POLL_SECONDS = 0.5


class RunLockTimeout(RuntimeError):
    """Another run kept the warehouse for longer than this run was willing to wait."""


@dataclass
class RunAudit:
    """Filled in by the run as it goes; written to ops.pipeline_runs when it ends."""

    files_seen: int | None = None
    # Years whose figures changed without a file (an accepted revision, a reopening): recorded beside
    # the years of the run's accepted files.
    fiscal_years_changed: set[int] = field(default_factory=set)


@contextmanager
def run_lock(settings: Settings, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the warehouse for one run; wait up to the configured timeout for a run already holding it."""
    path = settings.run_lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout = settings.run_lock_timeout_seconds
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockTimeout(
                        f"別の実行が {timeout:g} 秒以内に終わりませんでした（受付箱は未処理のまま）/ "
                        f"another run still holds {path} after {timeout:g} s; this run took no files"
                    ) from None
                if not announced:
                    on_wait(
                        f"別の実行がウェアハウスを使用中です。最大 {timeout:g} 秒待ちます / "
                        f"another run holds {path}; waiting up to {timeout:g} s"
                    )
                    announced = True
                time.sleep(min(_LOCK_POLL_SECONDS, max(deadline - time.monotonic(), 0)))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def holding_warehouse(settings: Settings, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Take the lock and upgrade the warehouse (pending migrations): what every writer does first."""
    with run_lock(settings, on_wait):
        with connect(settings.warehouse_path) as connection:
            migrate(connection)  # once per run, before anything reads or writes a table
        yield


@contextmanager
def audited(
    settings: Settings, run_id: str, flow_name: str, fiscal_years: tuple[int, ...] | None = None
) -> Iterator[RunAudit]:
    """Record the start in ops.pipeline_runs, then completed or failed, and publish on success.

    Inside ``holding_warehouse``. ``fiscal_years`` (default: the settings') are the years requested.
    """
    requested = settings.fiscal_years if fiscal_years is None else fiscal_years
    with connect(settings.warehouse_path) as connection:
        record_run_start(connection, run_id, flow_name, requested)
    audit = RunAudit()
    try:
        yield audit
    except Exception as error:
        try:
            with connect(settings.warehouse_path) as connection:
                record_run_end(
                    connection, run_id, RunStatus.FAILED, audit.files_seen, one_line(error), audit.fiscal_years_changed
                )
        except Exception as recording_error:  # the run's own failure stays the one reported
            error.add_note(f"not recorded in ops.pipeline_runs: {one_line(recording_error)}")
        raise
    with connect(settings.warehouse_path) as connection:
        record_run_end(connection, run_id, RunStatus.COMPLETED, audit.files_seen, None, audit.fiscal_years_changed)
        checkpoint(connection)  # the file alone now holds everything: safe to copy
    publish_analytics_copy(settings)


@contextmanager
def audited_run(settings: Settings, run_id: str, flow_name: str, on_wait: Callable[[str], None]) -> Iterator[RunAudit]:
    """One run: take the lock, upgrade the warehouse (pending migrations) and record the start, then
    record completed or failed and publish on success."""
    with holding_warehouse(settings, on_wait), audited(settings, run_id, flow_name) as audit:
        yield audit


def publish_analytics_copy(settings: Settings) -> Path:
    """Write the analysts' copy of the warehouse (no connection may hold it), then rename it into place.

    The copy is written in the storage format of ``settings.analytics_storage_version`` (DuckDB 1.x
    clients cannot open a file DuckDB 2.0 writes by default), inside a hidden folder beside the copy,
    synced, made read-only and renamed onto the copy in one step: a reader sees the previous copy or
    the new one, never half of one. A failure leaves the previous copy as it was.
    """
    target = settings.analytics_path
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".incoming"))
    try:
        written = incoming / target.name
        write_portable_copy(settings.warehouse_path, written, settings.analytics_storage_version)
        with open(written, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(written, 0o444)  # a tool opening it for writing by mistake fails instead of locking others out
        os.replace(written, target)
        _sync_folder(target.parent)  # the rename itself survives a crash
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return target


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def one_line(error: BaseException) -> str:
    """The cause of a failure as one readable line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
