"""What keeps runs and analysts out of each other's way.

DuckDB lets one process holding the file read-write lock out every other process, readers
included. So the warehouse file belongs to runs only, one at a time (an exclusive ``flock`` on a
lock file beside it), and analysts read a copy that each successful run publishes with one atomic
rename: an analyst who still has the previous copy open keeps reading it undisturbed. The copy is
written in a storage format DuckDB 1.x clients read (``hikikomori.warehouse.copies``).

While a run holds the warehouse, its steps write through one connection (``writer``): opening the
file costs 15–20 ms and closing it a checkpoint, seven times a run when each step had its own. A step
that fails leaves that connection closed behind it, so the next step, or the step's retry, opens a
new one, as before.
"""

import fcntl
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from hikikomori.domain.vocabulary import RunStatus
from hikikomori.pipeline.stops import one_line, stop_requested
from hikikomori.settings import Settings
from hikikomori.warehouse import Connection
from hikikomori.warehouse.connection import WarehouseLocked, checkpoint, checkpoint_less_often, connect_when_free
from hikikomori.warehouse.copies import write_portable_copy
from hikikomori.warehouse.migrate import migrate
from hikikomori.warehouse.run_audit import record_run_end, record_run_start

_LOCK_POLL_SECONDS = 0.5


class RunLockTimeout(RuntimeError):
    """Another run kept the warehouse for longer than this run was willing to wait."""


class WarehouseBusy(RuntimeError):
    """Another process (an analyst's tool, most often) kept the warehouse file open longer than the run waits."""


@dataclass
class RunAudit:
    """Filled in by the run as it goes; written to ops.pipeline_runs when it ends."""

    files_seen: int | None = None
    # Years whose figures changed without a file (an accepted revision, a reopening): recorded beside
    # the years of the run's accepted files.
    fiscal_years_changed: set[int] = field(default_factory=set)
    # What went wrong after the run's work was committed (the run is complete all the same).
    notes: list[str] = field(default_factory=list)


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


@dataclass
class _HeldConnection:
    """The connection every ``writer`` of one warehouse borrows while a run holds it (opened when first asked)."""

    path: Path
    connection: Connection | None = None

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()


# Set by ``holding_warehouse`` for the run's context; Prefect's tasks run in a copy of it, which holds
# the same object.
_HELD: ContextVar[_HeldConnection | None] = ContextVar("hikikomori_held_connection", default=None)


@contextmanager
def holding_warehouse(settings: Settings, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Take the lock and upgrade the warehouse (pending migrations): what every writer does first.

    Until it ends, every ``writer`` of this warehouse in this context borrows one connection.
    """
    with run_lock(settings, on_wait):
        held = _HeldConnection(settings.warehouse_path)
        token = _HELD.set(held)
        try:
            with writer(settings, on_wait) as connection:
                migrate(connection)  # once per run, before anything reads or writes a table
            yield
        finally:
            _HELD.reset(token)
            held.close()  # DuckDB checkpoints what the run left in the write-ahead log


@contextmanager
def audited(
    settings: Settings,
    run_id: str,
    flow_name: str,
    fiscal_years: tuple[int, ...] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[RunAudit]:
    """Record the start in ops.pipeline_runs, then completed or failed, and publish on success.

    Inside ``holding_warehouse``. ``fiscal_years`` (default: the settings') are the years requested.
    A run stopped by a signal is recorded as failed too. Once the run is recorded completed, nothing
    turns it into a failure: an analysts' copy that cannot be published is a note (the run's work is
    committed; the next run publishes again).
    """
    requested = settings.fiscal_years if fiscal_years is None else fiscal_years
    with writer(settings, on_wait) as connection:
        record_run_start(connection, run_id, flow_name, requested)
    audit = RunAudit()
    try:
        yield audit
    except BaseException as error:  # a failure, or a stop (SIGTERM, Ctrl-C): never left 'running'
        reason = one_line(error)
        stopped = stop_requested()
        if stopped is not None and signal.Signals(stopped).name not in reason:
            reason = f"stopped by {signal.Signals(stopped).name} ({reason})"
        try:
            with writer(settings, on_wait) as connection:
                record_run_end(
                    connection, run_id, RunStatus.FAILED, audit.files_seen, reason, audit.fiscal_years_changed
                )
        except Exception as recording_error:  # the run's own failure stays the one reported
            error.add_note(f"not recorded in ops.pipeline_runs: {one_line(recording_error)}")
        raise
    with writer(settings, on_wait) as connection:
        record_run_end(connection, run_id, RunStatus.COMPLETED, audit.files_seen, None, audit.fiscal_years_changed)
        checkpoint(connection)  # the file alone now holds everything: safe to copy
    _close_held(settings)  # the copy is made with no connection open on the file
    try:
        publish_analytics_copy(settings)
    except Exception as error:
        audit.notes.append(
            f"分析用コピーを更新できませんでした（次回の実行で更新します）/ the analysts' copy "
            f"{settings.analytics_path} was not updated (the next run publishes it): {one_line(error)}"
        )


@contextmanager
def audited_run(settings: Settings, run_id: str, flow_name: str, on_wait: Callable[[str], None]) -> Iterator[RunAudit]:
    """One run: take the lock, upgrade the warehouse (pending migrations) and record the start, then
    record completed or failed and publish on success (``holding_warehouse``, then ``audited``)."""
    with holding_warehouse(settings, on_wait), audited(settings, run_id, flow_name, on_wait=on_wait) as audit:
        yield audit


@contextmanager
def writer(settings: Settings, on_wait: Callable[[str], None] | None = None) -> Iterator[Connection]:
    """The warehouse open for writing: ``with writer(settings) as connection``.

    Inside ``holding_warehouse`` the run's one connection, opened by the first writer that asks and
    kept when the block ends; if the block raises, it is closed (a step that failed may have left it
    unusable: DuckDB invalidates a database after a fatal error), and the next writer opens a new one.
    Elsewhere a connection of its own, closed when the block ends. Either way DuckDB checkpoints only
    when its log passes ``settings.run_checkpoint_mib`` or the connection closes.
    """
    held = _HELD.get()
    if held is None or held.path != settings.warehouse_path:
        with _open_writer(settings, on_wait) as connection:
            yield connection
        return
    if held.connection is None:
        held.connection = _open_writer(settings, on_wait)
    try:
        yield held.connection
    except BaseException:
        held.close()
        raise


def _close_held(settings: Settings) -> None:
    """Close the run's connection to this warehouse, if one is open (a later writer opens a new one)."""
    held = _HELD.get()
    if held is not None and held.path == settings.warehouse_path:
        held.close()


def _open_writer(settings: Settings, on_wait: Callable[[str], None] | None) -> Connection:
    """Open the warehouse for writing; if another process holds it (an analyst who opened the warehouse
    itself rather than the analysts' copy), wait as long as for the run lock, then say who."""
    announce = on_wait or (lambda message: print(message, file=sys.stderr, flush=True))
    timeout, copy = settings.run_lock_timeout_seconds, settings.analytics_path

    def waiting(holder: str) -> None:
        announce(
            f"ウェアハウス本体を別のプロセスが開いています（{holder}）。分析には分析用コピー {copy} を使ってください。"
            f"最大 {timeout:g} 秒待ちます / another process holds the warehouse open ({holder}); analysts should "
            f"open the analysts' copy {copy}. Waiting up to {timeout:g} s"
        )

    try:
        connection = connect_when_free(settings.warehouse_path, timeout, waiting, settings.analytics_storage_version)
    except WarehouseLocked as error:
        raise WarehouseBusy(
            f"ウェアハウス本体を別のプロセスが {timeout:g} 秒以上開いたままです（{error.holder}）。"
            f"分析には分析用コピー {copy} を使ってください / the warehouse {settings.warehouse_path} was still "
            f"held by another process ({error.holder}) after {timeout:g} s; analysts should open the analysts' "
            f"copy {copy} instead"
        ) from None  # waited already as long as a run waits: not an error for a retry
    try:
        checkpoint_less_often(connection, settings.run_checkpoint_mib)
    except BaseException:
        connection.close()
        raise
    return connection


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
