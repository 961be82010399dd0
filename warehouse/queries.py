"""Every query the pipeline, the report and the command line run on the warehouse.

The rest of the package reads the warehouse through these functions and never holds SQL text:
tables are computed in ``sql/`` models; what is here only selects from them (or appends a run's
quality results). Values always reach DuckDB as bound parameters or registered DataFrames.
"""

import re
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from hikikomori.domain.text import printable
from hikikomori.domain.vocabulary import RunStatus

if TYPE_CHECKING:  # the pre-check imports this module; duckdb is imported only by whoever connects
    from hikikomori.warehouse.connection import Connection

# Marts the national report reads, each in its natural order.
REPORT_MARTS = {
    "consultations": ("consultation_totals", "fiscal_year"),
    "shares": ("referral_shares", "fiscal_year, display_order"),
    "detail": ("referral_detail_shares", "fiscal_year, display_order"),
    "targets": ("outcome_targets", "fiscal_year, target"),
    "establishment": ("center_establishment", "fiscal_year"),
    "status": ("submission_status", "fiscal_year, center_code"),
    "reporting": ("reporting_rates", "fiscal_year"),
    "years": ("fiscal_year_status", "fiscal_year"),
}
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def relation_columns_query(relation: str, columns: list[str]) -> str:
    """``select "a", "b" from schema.table`` for names taken from the project's YAML."""
    schema, _, table = relation.partition(".")
    names = [schema, table, *columns]
    unsafe = [name for name in names if not _IDENTIFIER.match(name)]
    if unsafe:
        raise ValueError(f"not identifiers: {unsafe}")
    listed = ", ".join(f'"{column}"' for column in columns)
    return f"select {listed} from {schema}.{table}"


def read_frame(connection: "Connection", statement: str) -> pd.DataFrame | Exception:
    """The query's result, or the error it raised (reported by the caller, never raised here)."""
    try:
        return connection.execute(statement).df()
    except Exception as error:  # e.g. a model that is missing
        return error


def read_frames(connection: "Connection", statements: list[str]) -> dict[str, pd.DataFrame | Exception]:
    """Each query's result or error (see ``read_frame``), all read now."""
    return {statement: read_frame(connection, statement) for statement in statements}


def append_quality_results(connection: "Connection", results: pd.DataFrame) -> None:
    connection.register("quality_result_rows", results)
    try:
        connection.execute("insert into quality.expectation_results by name select * from quality_result_rows")
    finally:
        connection.unregister("quality_result_rows")


def outcome_targets(connection: "Connection") -> pd.DataFrame:
    """The target verdicts as the run summary shows them (target_value to one decimal)."""
    return connection.execute(
        """
        select fiscal_year, fiscal_year_label, target, actual, baseline, centers_previous,
               centers_current, round(target_value, 1) as target_value, status,
               centers_reporting_previous, centers_reporting_current, centers_in_both_years,
               compared_actual, compared_baseline, provisional
        from marts.outcome_targets
        order by fiscal_year, target
        """
    ).df()


def reporting_rates(connection: "Connection") -> pd.DataFrame:
    """Reporting rate and timeliness per fiscal year, as the run summary shows them."""
    return connection.execute(
        """
        select fiscal_year, fiscal_year_label, deadline, centers_expected, centers_accepted, centers_on_time,
               reporting_rate_pct, timeliness_pct, is_closed
        from marts.reporting_rates
        order by fiscal_year
        """
    ).df()


def center_totals(connection: "Connection", pairs: list[tuple[str, int]]) -> list[tuple[str, int, str, int]]:
    """(center, fiscal year, measure, total) of the latest accepted versions of these (center, year) pairs.

    From ``marts.center_figures``: each measure's per-center total (referrals summed over their groups).
    """
    if not pairs:
        return []
    wanted = pd.DataFrame(pairs, columns=["center_code", "fiscal_year"]).drop_duplicates()
    connection.register("wanted_pairs", wanted)
    try:
        rows = connection.execute(
            """
            select figures.center_code, figures.fiscal_year, figures.measure, figures.reported_count
            from marts.center_figures as figures
            inner join wanted_pairs
                on figures.center_code = wanted_pairs.center_code
                and figures.fiscal_year = wanted_pairs.fiscal_year
            where figures.category = 'total'
            """
        ).fetchall()
    finally:
        connection.unregister("wanted_pairs")
    return [(str(center), int(year), str(measure), int(total)) for center, year, measure, total in rows]


def version_totals(
    connection: "Connection", versions: list[tuple[str, int, int]]
) -> list[tuple[str, int, int, str, int]]:
    """(center, fiscal year, version, measure, total) of these accepted versions, counted or not.

    From ``intermediate.int_version_measure_totals``: a run's accepted file is judged on its own
    figures, also when it is a pending revision of a closed year.
    """
    if not versions:
        return []
    wanted = pd.DataFrame(versions, columns=["center_code", "fiscal_year", "version"]).drop_duplicates()
    connection.register("wanted_versions", wanted)
    try:
        rows = connection.execute(
            """
            select totals.center_code, totals.fiscal_year, totals.version, totals.measure, totals.measure_total
            from intermediate.int_version_measure_totals as totals
            inner join wanted_versions
                on totals.center_code = wanted_versions.center_code
                and totals.fiscal_year = wanted_versions.fiscal_year
                and totals.version = wanted_versions.version
            """
        ).fetchall()
    finally:
        connection.unregister("wanted_versions")
    return [
        (str(center), int(year), int(version), str(measure), int(total))
        for center, year, version, measure, total in rows
    ]


def referral_rate_spreads(
    connection: "Connection", fiscal_years: list[int]
) -> list[tuple[int, int, float, float, float]]:
    """(fiscal year, centers compared, median, MAD, mean absolute deviation) of referrals per consultation."""
    if not fiscal_years:
        return []
    rows = connection.execute(
        """
        select distinct fiscal_year, centers_compared, year_median, year_mad, year_mean_absolute_deviation
        from marts.center_referral_rates
        where fiscal_year in (select unnest($years)) and year_median is not null
        """,
        {"years": fiscal_years},
    ).fetchall()
    return [
        (int(year), int(centers), float(median), float(mad), float(mean_ad))
        for year, centers, median, mad, mean_ad in rows
    ]


def closed_fiscal_years(connection: "Connection") -> set[int]:
    """The fiscal years closed (published) now."""
    rows = connection.execute("select fiscal_year from marts.fiscal_year_status where is_closed").fetchall()
    return {int(year) for (year,) in rows}


def report_marts(connection: "Connection", last_fiscal_year: int) -> dict[str, pd.DataFrame]:
    """Every mart the national report shows, up to ``last_fiscal_year``."""
    return {
        # Names are this module's constants.
        name: connection.execute(
            f"select * from marts.{table} where fiscal_year <= ? order by {order}", [last_fiscal_year]
        ).df()
        for name, (table, order) in REPORT_MARTS.items()
    }


def governance_history(connection: "Connection", last_fiscal_year: int) -> pd.DataFrame:
    """Every closing, accepted revision and reopening of the fiscal years up to ``last_fiscal_year``, in
    the order decided, with the center's name (``ops.publications`` and ``ops.revisions``)."""
    return connection.execute(
        """
        with history as (
            select publication_id as decision_id, fiscal_year, 'close_year' as action, null::varchar as center_code,
                   null::integer as from_version, null::integer as to_version, closed_at as decided_at, note
            from ops.publications
            union all
            select decision_id, fiscal_year, action, center_code, from_version, to_version, decided_at, note
            from ops.revisions
        )

        select history.*, centers.center_name, years.fiscal_year_label
        from history
        left join staging.stg_centers as centers on history.center_code = centers.center_code
        left join staging.stg_fiscal_years as years on history.fiscal_year = years.fiscal_year
        where history.fiscal_year <= ?
        order by history.decision_id
        """,
        [last_fiscal_year],
    ).df()


def center_figures(connection: "Connection", fiscal_year: int) -> pd.DataFrame:
    """The per-center publication figures of one fiscal year, in table order."""
    return connection.execute(
        """
        select *
        from marts.center_figures
        where fiscal_year = ?
        order by center_code, display_order
        """,
        [fiscal_year],
    ).df()


def show_query(connection: "Connection", statement: str, max_rows: int) -> None:
    """Run an analyst's query and print its result as a table (``hikikomori sql``).

    Text columns pass through ``printable`` first: file names and cell values came from centers, and
    a control sequence among them must show as text, not act on the analyst's terminal.
    """
    relation = connection.sql(statement)
    if relation is None:
        return
    from duckdb.sqltypes import VARCHAR

    connection.create_function("hikikomori_printable", printable, [VARCHAR], VARCHAR)
    try:
        shown = ", ".join(
            f"hikikomori_printable({_quoted(name)}) as {_quoted(name)}" if kind == VARCHAR else _quoted(name)
            for name, kind in zip(relation.columns, relation.types, strict=True)
        )
        relation.project(shown).show(max_rows=max_rows, max_width=10_000)
    finally:
        connection.remove_function("hikikomori_printable")


def _quoted(name: str) -> str:
    """A column name of the analyst's result as a quoted identifier (quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def mart_names(connection: "Connection") -> list[str]:
    """Every table of the ``marts`` schema, by name."""
    rows = connection.execute(
        """
        select table_name
        from duckdb_tables()
        where database_name = current_database() and schema_name = 'marts'
        order by table_name
        """
    ).fetchall()
    return [str(name) for (name,) in rows]


def _mart_select(name: str, order_by: list[str]) -> str:
    unsafe = [identifier for identifier in [name, *order_by] if not _IDENTIFIER.match(identifier)]
    if unsafe:
        raise ValueError(f"not identifiers: {unsafe}")
    order = ", ".join(f'"{column}"' for column in order_by) or "all"
    return f"select * from marts.{name} order by {order}"


def mart_rows(connection: "Connection", name: str, order_by: list[str]) -> tuple[list[str], list[tuple[object, ...]]]:
    """A mart's column names and every row as Python values (exact integers), in ``order_by`` order
    (every column when empty)."""
    result = connection.execute(_mart_select(name, order_by))
    columns = [str(description[0]) for description in result.description]
    return columns, result.fetchall()


def write_mart_parquet(connection: "Connection", name: str, order_by: list[str], path: str) -> None:
    """A mart written as one Parquet file (DuckDB's own writer: types kept, times as UTC instants)."""
    connection.execute(f"copy ({_mart_select(name, order_by)}) to ? (format parquet)", [path])


def latest_completed_run(connection: "Connection") -> tuple[str, datetime] | None:
    """The run id and end time of the last completed run recorded in this warehouse (or copy)."""
    rows = connection.execute(
        """
        select run_id, ended_at
        from ops.pipeline_runs
        where status = ?
        order by ended_at desc
        limit 1
        """,
        [str(RunStatus.COMPLETED)],
    ).fetchall()
    return (str(rows[0][0]), rows[0][1]) if rows else None


def run_started_at(connection: "Connection", run_id: str) -> datetime | None:
    """When the run ``run_id`` started (None when it is not recorded, e.g. steps run without the audit)."""
    rows = connection.execute("select started_at from ops.pipeline_runs where run_id = ?", [run_id]).fetchall()
    return rows[0][0] if rows else None


def accepted_versions(
    connection: "Connection", center_code: str, fiscal_year: int
) -> list[tuple[int, str, str, datetime, dict[str, int]]]:
    """(version, file name, content SHA-256, received at, totals per measure) of every accepted version of
    a center's fiscal year, oldest first: what its receipts say (``hikikomori receipt``).

    Totals from ``intermediate.int_version_measure_totals`` (referrals summed over their categories,
    the optional total row left out), as the run's warnings read a version's own figures.
    """
    rows = connection.execute(
        """
        select submissions.version, received.file_name, submissions.content_sha256, received.received_at
        from raw.submissions as submissions
        inner join raw.received_files as received on submissions.receipt_id = received.receipt_id
        where submissions.center_code = ? and submissions.fiscal_year = ?
        order by submissions.version
        """,
        [center_code, fiscal_year],
    ).fetchall()
    totals: dict[int, dict[str, int]] = {}
    for version, measure, total in connection.execute(
        """
        select version, measure, measure_total
        from intermediate.int_version_measure_totals
        where center_code = ? and fiscal_year = ?
        order by version, measure
        """,
        [center_code, fiscal_year],
    ).fetchall():
        totals.setdefault(int(version), {})[str(measure)] = int(total)
    return [
        (int(version), str(name), str(sha256), received_at, totals.get(int(version), {}))
        for version, name, sha256, received_at in rows
    ]
