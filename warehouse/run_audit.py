"""Recording each pipeline run in ``ops.pipeline_runs`` (started, then completed or failed), and what it
did with each file it found in ``ops.run_files``.

The counts come from ``ops.run_files``, the same outcomes the run summary prints, so they are right
even when a step was retried, a file was recognised as recorded before, or left in the inbox.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

# A run's row left 'running' once no run holds the lock: its process ended without recording its end.
INTERRUPTED = "interrupted: the run's process ended without recording its end (killed, or the machine stopped)"


@dataclass(frozen=True)
class RunFile:
    """One row of ``ops.run_files``: one file a run found, and what became of it."""

    run_id: str
    file_name: str
    outcome: str  # accepted | rejected | duplicate | deferred | gone
    receipt_id: str | None = None
    reason_rule: str | None = None
    reason: str | None = None


def record_run_start(
    connection: duckdb.DuckDBPyConnection, run_id: str, flow_name: str, fiscal_years: tuple[int, ...]
) -> None:
    """Record the start; rows of earlier runs still 'running' are marked failed (called under the run lock,
    so no other run is alive to own them)."""
    connection.execute(
        "update ops.pipeline_runs set status = 'failed', ended_at = ?, error = ? where status = 'running'",
        [datetime.now(UTC), INTERRUPTED],
    )
    # A flow run retried by Prefect keeps its id: it starts over as running.
    connection.execute(
        """
        insert or replace into ops.pipeline_runs (run_id, flow_name, started_at, status, fiscal_years_requested)
        values (?, ?, ?, 'running', ?)
        """,
        [run_id, flow_name, datetime.now(UTC), list(fiscal_years)],
    )


def record_run_end(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    files_seen: int | None,
    error: str | None,
    fiscal_years_changed: set[int] | None = None,
) -> None:
    """Counts from what the run recorded; the years it rebuilt are those of its accepted files, except
    closed years (a late file is a pending revision and changes nothing), plus ``fiscal_years_changed``.

    A year is closed when its latest decision is not a reopening (as ``int_fiscal_year_states`` says;
    read from the raw table here, so a run that failed before building the models is still recorded).
    """
    connection.execute(
        """
        with closed_years as (
            select fiscal_year
            from raw.fiscal_year_decisions
            group by fiscal_year
            having arg_max(action, decision_id) <> 'reopen_year'
        ),

        taken_in as (
            select
                count(*) filter (where run_files.outcome = 'accepted') as accepted,
                count(*) filter (where run_files.outcome = 'rejected') as rejected,
                count(*) filter (where run_files.outcome = 'duplicate') as duplicate,
                count(*) filter (where run_files.outcome = 'deferred') as deferred,
                coalesce(
                    list(distinct received.fiscal_year order by received.fiscal_year) filter (
                        where run_files.outcome = 'accepted'
                        and received.run_id = $run_id
                        and received.fiscal_year not in (select fiscal_year from closed_years)
                    ),
                    []
                ) as fiscal_years
            from ops.run_files as run_files
            left join raw.received_files as received
                on run_files.receipt_id = received.receipt_id
            where run_files.run_id = $run_id
        )
        update ops.pipeline_runs
        set ended_at = $ended_at,
            status = $status,
            files_seen = $files_seen,
            files_accepted = taken_in.accepted,
            files_rejected = taken_in.rejected,
            files_duplicate = taken_in.duplicate,
            files_deferred = taken_in.deferred,
            fiscal_years_rebuilt = list_sort(list_distinct(list_concat(taken_in.fiscal_years, $changed))),
            error = $error
        from taken_in
        where ops.pipeline_runs.run_id = $run_id
        """,
        {
            "run_id": run_id,
            "ended_at": datetime.now(UTC),
            "status": status,
            "files_seen": files_seen,
            "error": error,
            "changed": sorted(fiscal_years_changed or ()),
        },
    )


def insert_run_files(connection: duckdb.DuckDBPyConnection, run_files: list[RunFile]) -> None:
    """Add (or, for a step retried within the same run, replace) rows of ``ops.run_files``; inside the
    caller's transaction."""
    if not run_files:
        return
    # vars(), not asdict(): asdict deep-copies every field (0.2 s for 5,000 files); the values are strings.
    frame = pd.DataFrame([vars(run_file) for run_file in run_files], columns=list(RunFile.__dataclass_fields__))
    frame["noted_at"] = datetime.now(UTC)
    connection.register("run_files_frame", frame)
    try:
        connection.execute(
            """
            insert or replace into ops.run_files
                (run_id, file_name, outcome, receipt_id, reason_rule, reason, noted_at)
            select run_id, file_name, outcome, receipt_id, reason_rule, reason, noted_at from run_files_frame
            """
        )
    finally:
        connection.unregister("run_files_frame")


def note_run_files(connection: duckdb.DuckDBPyConnection, run_files: list[RunFile]) -> None:
    """Record what happened to files after their batch was committed (a removal or receipt that failed)."""
    connection.execute("begin transaction")
    try:
        insert_run_files(connection, run_files)
    except BaseException:
        connection.execute("rollback")
        raise
    connection.execute("commit")
