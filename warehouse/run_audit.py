"""Recording each pipeline run in ``ops.pipeline_runs``: started, then completed or failed.

The counts come from what the run recorded in ``raw.received_files``, so they are right even when
a step was retried.
"""

from datetime import UTC, datetime

import duckdb


def record_run_start(
    connection: duckdb.DuckDBPyConnection, run_id: str, flow_name: str, fiscal_years: tuple[int, ...]
) -> None:
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
                count(*) filter (where outcome = 'accepted') as accepted,
                count(*) filter (where outcome = 'rejected') as rejected,
                count(*) filter (where outcome = 'duplicate') as duplicate,
                coalesce(
                    list(distinct fiscal_year order by fiscal_year) filter (
                        where outcome = 'accepted' and fiscal_year not in (select fiscal_year from closed_years)
                    ),
                    []
                ) as fiscal_years
            from raw.received_files
            where run_id = $run_id
        )
        update ops.pipeline_runs
        set ended_at = $ended_at,
            status = $status,
            files_seen = $files_seen,
            files_accepted = taken_in.accepted,
            files_rejected = taken_in.rejected,
            files_duplicate = taken_in.duplicate,
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
