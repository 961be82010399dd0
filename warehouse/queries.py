"""Every query the pipeline, the report and the command line run on the warehouse.

The rest of the package reads the warehouse through these functions and never holds SQL text:
tables are computed in ``sql/`` models; what is here only selects from them (or appends a run's
quality results). Values always reach DuckDB as bound parameters or registered DataFrames.
"""

import re
from typing import TYPE_CHECKING

import pandas as pd

from hikikomori.domain.text import printable

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
               centers_current, round(target_value, 1) as target_value, status
        from marts.outcome_targets
        order by fiscal_year, target
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


def report_marts(connection: "Connection", last_fiscal_year: int) -> dict[str, pd.DataFrame]:
    """Every mart the national report shows, up to ``last_fiscal_year``."""
    return {
        # Names are this module's constants.
        name: connection.execute(
            f"select * from marts.{table} where fiscal_year <= ? order by {order}", [last_fiscal_year]
        ).df()
        for name, (table, order) in REPORT_MARTS.items()
    }


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
