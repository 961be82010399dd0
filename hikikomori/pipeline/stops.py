"""How a run stops and whether it can start: stop signals, free space, one-line causes.

Standard library only (and the settings): ``hikikomori run`` uses these before Prefect's temporary
server is started, and nothing here may delay that start by importing DuckDB or pandas.
"""

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from hikikomori.domain.text import printable
from hikikomori.settings import Settings


class RunStopped(BaseException):
    """The run was asked to stop (SIGTERM, Ctrl-C): recorded as failed, then the process ends."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signal_number).name}")
        self.signal_number = signal_number


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_stops: list[int] = []  # the stop signals this process received (a signal is process-wide state)


def stop_requested() -> int | None:
    """The stop signal this process received, if any.

    A stop usually arrives as an exception (``RunStopped``, Prefect's ``TerminationSignal``,
    ``KeyboardInterrupt``), but DuckDB turns one raised during a query into ``RuntimeError: Query
    interrupted``: whoever reports the run's end asks here.
    """
    return _stops[-1] if _stops else None


def note_stop(signal_number: int) -> None:
    _stops.append(signal_number)


@contextmanager
def stops_noted() -> Iterator[None]:
    """While inside, a SIGTERM or SIGINT is noted (``stop_requested``), then handled as before
    (Prefect's handler raises its TerminationSignal). Only the main thread can; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {int(number): signal.getsignal(number) for number in _STOP_SIGNALS}

    def noting(number: int, frame: FrameType | None) -> None:
        note_stop(number)
        handler = previous[number]
        if callable(handler):
            handler(number, frame)
        elif handler == signal.SIG_DFL:
            raise RunStopped(number)

    for stop in _STOP_SIGNALS:
        signal.signal(stop, noting)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# What a run needs free in each folder it writes to before it starts: Prefect's temporary server creates
# and migrates its SQLite database (about 3 MB) in Prefect's home; the warehouse grows by each batch.
MIN_FREE_BYTES = 64 * 1024 * 1024
_PROBE_BYTES = 1024 * 1024


def space_problem(settings: Settings, minimum: int = MIN_FREE_BYTES) -> str | None:
    """Why a run cannot start for lack of space in Prefect's home or the warehouse's folder, or None.

    Both the free space the file system reports and a real write are checked: a quota or a file system
    that reports free blocks it cannot give shows only when written to.
    """
    for role, folder in (("Prefect's home (PREFECT_HOME)", settings.prefect_home), ("warehouse", settings.state_dir)):
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
        if free < minimum:
            return (
                f"ディスクの空きが足りません / no space left on device: {folder} ({role}) has "
                f"{free / 2**20:,.1f} MB free, a run needs {minimum / 2**20:,.0f} MB"
            )
        try:
            with tempfile.TemporaryFile(dir=folder) as probe:
                probe.write(b"\0" * _PROBE_BYTES)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as error:
            return f"{folder} ({role}) にファイルを書けません / cannot write in {folder} ({role}): {one_line(error)}"
    return None


def one_line(error: BaseException) -> str:
    """The cause of a failure as one readable line (control characters from a path or a file escaped)."""
    number = getattr(error, "signal", None)  # Prefect's TerminationSignal carries the signal's number
    if isinstance(number, int) and not str(error):
        return f"{type(error).__name__}: stopped by {signal.Signals(number).name}"
    message = printable(" ".join(str(error).split()))
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
