"""What the portal shows from the analysts' copy: read-only, never the warehouse itself.

Each successful run replaces the copy by an atomic rename; a connection keeps reading the version it
opened. So every read first looks at the file: a new copy (another inode, size or time) is opened and
read from then on. Opening and closing the copy cost ≈ 20–50 ms on this machine, more than a verdict's
validation, so each server process keeps the current copy open and gives each read its own cursor.
The copy is attached read-only to a private in-memory database: ``duckdb.connect(path)`` would hand
back the instance it already has for that path (the old copy) while a read still uses it.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from hikikomori.schemas.files import PORTAL_FOLDER, portal_upload_id

NATIONAL_TABLES = ("consultation_totals", "referral_shares", "outcome_targets", "reporting_rates")


class AnalyticsUnavailable(Exception):
    """The analysts' copy does not exist yet (no run has completed) or cannot be read."""

    def __init__(self, path: Path, missing: bool, reason: str = "") -> None:
        super().__init__(f"{path}: {'missing' if missing else reason}")
        self.missing = missing


@dataclass(frozen=True)
class TakenUpload:
    """What a run made of one file the portal handed over."""

    upload_id: str
    outcome: str  # accepted | rejected | duplicate
    version: int | None  # set when accepted
    received_at: datetime


@dataclass(frozen=True)
class CenterYear:
    """A center's fiscal year as the warehouse has it, whichever way its files came."""

    fiscal_year: int
    latest_version: int | None
    latest_version_at: datetime | None
    rejected_files: int


@dataclass(frozen=True)
class CenterRecords:
    years: dict[int, CenterYear]
    uploads: dict[str, TakenUpload]  # by portal upload id
    deadlines: dict[int, date]  # marts.fiscal_year_status: the deadline in effect per fiscal year


@dataclass(frozen=True)
class StatusRow:
    """One row of marts.submission_status: status, deadline and timeliness as the pipeline decided them."""

    fiscal_year: int
    fiscal_year_label: str
    center_code: str
    center_name: str
    status: str  # accepted | rejected | missing
    version: int | None  # the version that counts
    received_at: datetime | None
    deadline: date
    first_submitted_at: datetime | None  # version 1's submission (a portal upload: its upload time)
    on_time: bool | None  # None until a version is accepted
    pending_version: int | None  # a closed year's revision waiting for accept-revision


@dataclass(frozen=True)
class RatesRow:
    """One row of marts.reporting_rates."""

    fiscal_year: int
    centers_expected: int
    centers_accepted: int
    centers_on_time: int
    reporting_rate_pct: float
    timeliness_pct: float
    is_closed: bool


@dataclass(frozen=True)
class CollectionData:
    """What the ministry's collection page reads from the copy."""

    rows: list[StatusRow]
    deadlines: dict[int, date]
    rates: dict[int, RatesRow]


@dataclass(frozen=True)
class _OpenCopy:
    path: Path
    identity: tuple[int, ...]  # device, inode, size, modification time: a replaced copy differs
    process: int  # a connection never crosses a fork
    connection: duckdb.DuckDBPyConnection


_open_copy: _OpenCopy | None = None
_open_copy_lock = threading.Lock()


def _current_copy(path: Path) -> duckdb.DuckDBPyConnection:
    """The connection to the copy now at ``path``, opened anew when the file was replaced."""
    global _open_copy
    try:
        status = path.stat()
    except FileNotFoundError:
        raise AnalyticsUnavailable(path, missing=True) from None
    identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
    with _open_copy_lock:
        current = _open_copy
        if current is None or (current.path, current.identity, current.process) != (path, identity, os.getpid()):
            connection = duckdb.connect(":memory:")
            try:
                connection.execute("attach ? as analytics (read_only)", [str(path)])
            except duckdb.Error as error:
                connection.close()
                raise AnalyticsUnavailable(path, missing=False, reason=str(error)) from error
            # The previous copy's connection closes once the reads still using it let it go.
            current = _open_copy = _OpenCopy(path, identity, os.getpid(), connection)
        cursor = current.connection.cursor()
    cursor.execute("use analytics")
    return cursor


@contextmanager
def analytics_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only cursor on the analysts' copy at ``path``, for one read."""
    cursor = _current_copy(path)
    try:
        yield cursor
    except duckdb.Error as error:  # e.g. a copy from before a model existed
        raise AnalyticsUnavailable(path, missing=False, reason=str(error)) from error
    finally:
        cursor.close()


def center_records(path: Path, center_code: str) -> CenterRecords:
    """One center's years and the outcomes of its portal uploads."""
    with analytics_connection(path) as connection:
        years = connection.execute(
            """
            with files as (
                select * from raw.received_files where center_code = $center
            ),

            versions as (
                select submissions.fiscal_year, submissions.version, files.file_name, files.received_at
                from raw.submissions as submissions
                inner join files on submissions.receipt_id = files.receipt_id
            )

            select
                years.fiscal_year,
                max(versions.version) as latest_version,
                arg_max(versions.received_at, versions.version) as latest_version_at,
                (select count(*) from files where files.fiscal_year = years.fiscal_year
                    and files.outcome = 'rejected') as rejected_files
            from (select distinct fiscal_year from files where fiscal_year is not null) as years
            left join versions on versions.fiscal_year = years.fiscal_year
            group by years.fiscal_year
            """,
            {"center": center_code},
        ).fetchall()
        uploads = _portal_outcomes(connection, center_code)
        deadlines = _deadlines(connection)
    return CenterRecords({row[0]: CenterYear(*row) for row in years}, uploads, deadlines)


def _deadlines(connection: duckdb.DuckDBPyConnection) -> dict[int, date]:
    """The deadline in effect of every fiscal year the copy knows (the calendar's or the default)."""
    rows = connection.execute("select fiscal_year, deadline from marts.fiscal_year_status").fetchall()
    return {int(year): deadline for year, deadline in rows}


def portal_outcomes(path: Path, center_code: str | None = None) -> dict[str, TakenUpload]:
    """The outcome of every portal upload a run has taken in (one center's, or all)."""
    with analytics_connection(path) as connection:
        return _portal_outcomes(connection, center_code)


def _portal_outcomes(connection: duckdb.DuckDBPyConnection, center_code: str | None) -> dict[str, TakenUpload]:
    rows = connection.execute(
        """
        select files.file_name, files.outcome, submissions.version, files.received_at
        from raw.received_files as files
        left join raw.submissions as submissions on files.receipt_id = submissions.receipt_id
        where starts_with(files.file_name, $prefix)
            and ($center is null or files.center_code = $center)
        order by files.received_at
        """,
        {"prefix": f"{PORTAL_FOLDER}/", "center": center_code},
    ).fetchall()
    outcomes = {}
    for file_name, outcome, version, received_at in rows:
        upload_id = portal_upload_id(file_name)
        if upload_id is not None:  # the latest record wins (a file is normally recorded once)
            outcomes[upload_id] = TakenUpload(upload_id, outcome, version, received_at)
    return outcomes


def collection_status(path: Path) -> CollectionData:
    """Every expected center for every fiscal year with data: status, deadline and timeliness as the
    marts define them, the deadlines of every year, and the reporting rates."""
    with analytics_connection(path) as connection:
        rows = connection.execute(
            """
            select
                fiscal_year, fiscal_year_label, center_code, center_name, status, version, received_at,
                deadline, first_submitted_at, on_time, pending_version
            from marts.submission_status
            order by fiscal_year, center_code
            """
        ).fetchall()
        rates = connection.execute(
            """
            select fiscal_year, centers_expected, centers_accepted, centers_on_time, reporting_rate_pct,
                   timeliness_pct, is_closed
            from marts.reporting_rates
            """
        ).fetchall()
        deadlines = _deadlines(connection)
    return CollectionData([StatusRow(*row) for row in rows], deadlines, {int(row[0]): RatesRow(*row) for row in rates})


def national_tables(path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    """The national marts the ministry follows: (columns, rows) per table, by fiscal year."""
    tables = {}
    with analytics_connection(path) as connection:
        for table in NATIONAL_TABLES:  # the module's own constants, never input
            result = connection.execute(f"select * from marts.{table} order by all")
            columns = [column[0] for column in result.description]
            tables[table] = (columns, result.fetchall())
    return tables
