"""Fiscal-year governance in the warehouse: the ministry's decisions, the deadline calendar, and the
reads that show them (pending revisions, what changed between two versions).

Decisions are written to ``raw.fiscal_year_decisions`` (insert-only, numbered in the order decided);
a closing or an accepted revision also writes the full set of versions that count for the year from
then on (``raw.decision_counted_versions``). What a decision means for the figures is computed by the
models (``int_fiscal_year_states``, ``int_counted_submissions``); the versions a decision records are
read from them too, so "latest", "counted" and "pending" each have one definition, in ``sql/``.
The callers hold the run lock and have rebuilt the models first (the views are this version's).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from hikikomori.domain.vocabulary import FiscalYearAction
from hikikomori.warehouse.connection import transaction


@dataclass(frozen=True)
class YearState:
    """What a request about one fiscal year needs to know."""

    fiscal_year: int
    has_data: bool  # at least one accepted version
    closed: bool


@dataclass(frozen=True)
class Decision:
    decision_id: int
    fiscal_year: int
    action: FiscalYearAction
    center_code: str | None
    from_version: int | None
    to_version: int | None
    decided_at: datetime
    note: str
    counted_centers: int  # rows recorded in raw.decision_counted_versions


@dataclass(frozen=True)
class PendingRevision:
    fiscal_year: int
    center_code: str
    center_name: str | None
    counted_version: int | None  # None: the center had no version when the year was closed
    pending_version: int
    pending_received_at: datetime


@dataclass(frozen=True)
class ItemChange:
    """One reported item whose count differs between two versions (None: not in that version)."""

    measure: str
    category: str
    category_label: str | None  # referral categories only (Japanese)
    category_label_en: str | None
    old: int | None
    new: int | None


@dataclass(frozen=True)
class VersionInfo:
    version: int
    file_name: str
    received_at: datetime
    submitted_at: datetime
    counted: bool  # the version the national figures use now


def year_state(connection: duckdb.DuckDBPyConnection, fiscal_year: int) -> YearState:
    (has_data, closed) = connection.execute(
        """
        select
            exists (select 1 from intermediate.int_latest_submissions where fiscal_year = $year),
            coalesce((select is_closed from intermediate.int_fiscal_year_states where fiscal_year = $year), false)
        """,
        {"year": fiscal_year},
    ).fetchall()[0]
    return YearState(fiscal_year, bool(has_data), bool(closed))


def _next_decision_id(connection: duckdb.DuckDBPyConnection) -> int:
    return int(
        connection.execute("select coalesce(max(decision_id), 0) + 1 from raw.fiscal_year_decisions").fetchall()[0][0]
    )


def record_decision(
    connection: duckdb.DuckDBPyConnection,
    fiscal_year: int,
    action: FiscalYearAction,
    note: str,
    run_id: str,
    center_code: str | None = None,
) -> Decision:
    """Record one decision and, for a closing or an accepted revision, the versions that count after it.

    The versions are read before the decision row exists (the models read the latest decision), and
    everything is written in one transaction.
    """
    decided_at = datetime.now(UTC)
    from_version = to_version = None
    with transaction(connection):
        decision_id = _next_decision_id(connection)
        if action is FiscalYearAction.CLOSE_YEAR:
            counted = connection.execute(
                """
                insert into raw.decision_counted_versions (decision_id, center_code, version)
                select $decision, center_code, version
                from intermediate.int_latest_submissions
                where fiscal_year = $year
                """,
                {"decision": decision_id, "year": fiscal_year},
            ).fetchall()[0][0]
        elif action is FiscalYearAction.ACCEPT_REVISION:
            from_version, to_version = connection.execute(
                """
                select counted_version, pending_version
                from intermediate.int_pending_revisions
                where fiscal_year = $year and center_code = $center
                """,
                {"year": fiscal_year, "center": center_code},
            ).fetchall()[0]
            counted = connection.execute(
                """
                insert into raw.decision_counted_versions (decision_id, center_code, version)
                select $decision, center_code, version
                from intermediate.int_counted_submissions
                where fiscal_year = $year and center_code <> $center
                union all
                select $decision, $center, $version
                """,
                {"decision": decision_id, "year": fiscal_year, "center": center_code, "version": to_version},
            ).fetchall()[0][0]
        else:
            counted = 0
        connection.execute(
            """
            insert into raw.fiscal_year_decisions
                (decision_id, fiscal_year, action, center_code, from_version, to_version, decided_at, note, run_id)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [decision_id, fiscal_year, str(action), center_code, from_version, to_version, decided_at, note, run_id],
        )
    return Decision(
        decision_id, fiscal_year, action, center_code, from_version, to_version, decided_at, note, int(counted)
    )


def pending_revisions(connection: duckdb.DuckDBPyConnection, fiscal_year: int | None = None) -> list[PendingRevision]:
    """The pending revisions of closed years (one year's, or all), by year and center."""
    rows = connection.execute(
        """
        select
            pending.fiscal_year,
            pending.center_code,
            centers.center_name,
            pending.counted_version,
            pending.pending_version,
            pending.pending_received_at
        from intermediate.int_pending_revisions as pending
        left join staging.stg_centers as centers on pending.center_code = centers.center_code
        where $year is null or pending.fiscal_year = $year
        order by pending.fiscal_year, pending.center_code
        """,
        {"year": fiscal_year},
    ).fetchall()
    return [PendingRevision(*row) for row in rows]


def version_changes(
    connection: duckdb.DuckDBPyConnection, center_code: str, fiscal_year: int, old: int | None, new: int
) -> list[ItemChange]:
    """Every reported item whose count differs between two versions of a center's submission.

    ``old`` None compares with nothing (every item of ``new`` is new). Items are in the form's order:
    consultations, referrals by category (the optional total last), supporter activities.
    """
    rows = connection.execute(
        """
        with old_items as (
            select * from intermediate.int_submission_items
            where center_code = $center and fiscal_year = $year and version = $old
        ),

        new_items as (
            select * from intermediate.int_submission_items
            where center_code = $center and fiscal_year = $year and version = $new
        ),

        compared as (
            select
                coalesce(new_items.measure, old_items.measure) as measure,
                coalesce(new_items.category, old_items.category) as category,
                coalesce(new_items.category_label, old_items.category_label) as category_label,
                coalesce(new_items.category_label_en, old_items.category_label_en) as category_label_en,
                coalesce(new_items.display_order, old_items.display_order) as display_order,
                old_items.reported_count as old_count,
                new_items.reported_count as new_count
            from old_items
            full outer join new_items
                on old_items.measure = new_items.measure and old_items.category = new_items.category
        )

        select measure, category, category_label, category_label_en, old_count, new_count
        from compared
        where old_count is distinct from new_count
        order by
            case measure when 'consultations' then 1 when 'referrals' then 2 else 3 end,
            category = 'total',
            display_order,
            category
        """,
        {"center": center_code, "year": fiscal_year, "old": old, "new": new},
    ).fetchall()
    return [ItemChange(*row) for row in rows]


def submission_versions(connection: duckdb.DuckDBPyConnection, center_code: str, fiscal_year: int) -> list[VersionInfo]:
    """Every accepted version of a center's fiscal year, oldest first, and which one counts."""
    rows = connection.execute(
        """
        select
            submissions.version,
            files.file_name,
            files.received_at,
            files.submitted_at,
            counted.receipt_id is not null as counted
        from staging.stg_submissions as submissions
        inner join staging.stg_received_files as files on submissions.receipt_id = files.receipt_id
        left join intermediate.int_counted_submissions as counted on submissions.receipt_id = counted.receipt_id
        where submissions.center_code = $center and submissions.fiscal_year = $year
        order by submissions.version
        """,
        {"center": center_code, "year": fiscal_year},
    ).fetchall()
    return [VersionInfo(*row) for row in rows]


def recorded_deadlines(connection: duckdb.DuckDBPyConnection) -> dict[int, date]:
    """The latest deadline recorded for each fiscal year a calendar named (before any closed-year rule)."""
    rows = connection.execute(
        "select fiscal_year, arg_max(deadline, given_at) from raw.deadline_calendar group by fiscal_year"
    ).fetchall()
    return {int(year): deadline for year, deadline in rows}


def record_calendar(
    connection: duckdb.DuckDBPyConnection, deadlines: dict[int, date], source: str, run_id: str
) -> list[int]:
    """Record the calendar's deadlines that differ from the ones recorded last; returns those years."""
    current = recorded_deadlines(connection)
    changed = sorted(year for year, deadline in deadlines.items() if current.get(year) != deadline)
    if changed:
        given_at = datetime.now(UTC)
        with transaction(connection):
            connection.executemany(
                """
                insert into raw.deadline_calendar (fiscal_year, deadline, given_at, source, run_id)
                values (?, ?, ?, ?, ?)
                """,
                [[year, deadlines[year], given_at, source, run_id] for year in changed],
            )
    return changed
