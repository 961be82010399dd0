"""The data-quality gate's record per run (``quality.gate_runs``, migration 0011), and its fingerprint.

Most scheduled runs find an empty inbox: they load nothing, find the models current
(``hikikomori.warehouse.model_builds``), and the gate would count the same checks over the same
rows as the last gate did. The gate's **fingerprint** is ``model_builds.fingerprint`` over

- ``inputs``: the versions, the SQL project (the checks are its YAML's data tests), reference files,
  registry and the code that counts the checks (``hikikomori.pipeline.quality.gate_inputs``);
- the content of every table of the source schemas the models may read (``raw``, ``reference``:
  the layer rules of ``hikikomori.warehouse.models`` let no model read another schema, and the gate
  checks models only), all of them, not just those a model reads today;
- the models as they stand: every view and table of the model layers, each table's content, the
  columns, their types and comments.

So the checks' results are a function of the fingerprint: when it equals the last gate's, and
every check of that gate passed, the gate records that evaluation's results again for this run
(``evaluated_in`` names the run that counted them) instead of counting them anew. A gate that found
a failure or an error is never taken over: the next gate counts again.
"""

from dataclasses import dataclass
from datetime import datetime

import duckdb

from hikikomori.warehouse.model_builds import fingerprint
from hikikomori.warehouse.models import LAYERS

# The schemas of sources: those the model layers read that are not model layers themselves.
SOURCE_SCHEMAS = tuple(
    sorted({schema for layer in LAYERS for schema in layer.reads} - {layer.name for layer in LAYERS})
)


@dataclass(frozen=True)
class GateRun:
    run_id: str
    fingerprint: str
    evaluated_in: str  # the run whose evaluation the results are (run_id itself: counted by this gate)
    checked_at: datetime


def gate_fingerprint(connection: duckdb.DuckDBPyConnection, inputs: str) -> str:
    """The fingerprint of everything the gate's checks read, as the warehouse is now (see the module)."""
    tables = connection.execute(
        """
        select schema_name || '.' || table_name
        from duckdb_tables()
        where database_name = current_database() and schema_name in (select unnest($schemas))
        order by all
        """,
        {"schemas": list(SOURCE_SCHEMAS)},
    ).fetchall()
    return fingerprint(connection, [str(name) for (name,) in tables], inputs)


def last_gate_run(connection: duckdb.DuckDBPyConnection) -> GateRun | None:
    """The gate recorded last in this warehouse (None before the first)."""
    rows = connection.execute(
        "select run_id, fingerprint, evaluated_in, checked_at from quality.gate_runs order by checked_at desc limit 1"
    ).fetchall()
    if not rows:
        return None
    run_id, found, evaluated_in, checked_at = rows[0]
    return GateRun(str(run_id), str(found), str(evaluated_in), checked_at)


def record_gate_run(connection: duckdb.DuckDBPyConnection, gate: GateRun) -> None:
    connection.execute(
        "insert into quality.gate_runs (run_id, fingerprint, evaluated_in, checked_at) values (?, ?, ?, ?)",
        [gate.run_id, gate.fingerprint, gate.evaluated_in, gate.checked_at],
    )


def evaluated_in(connection: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The run whose evaluation the gate of ``run_id`` recorded (None: no gate recorded for it)."""
    rows = connection.execute(
        "select evaluated_in from quality.gate_runs where run_id = ? order by checked_at desc limit 1", [run_id]
    ).fetchall()
    return str(rows[0][0]) if rows else None


# The results a gate counted itself: those recorded at its own time, by the run that evaluated them.
_EVALUATED = """
    select results.*
    from quality.expectation_results as results
    inner join quality.gate_runs as gates
        on results.run_id = gates.run_id and results.checked_at = gates.checked_at
    where gates.run_id = ? and gates.evaluated_in = gates.run_id
"""
_EVALUATED_BY_NAME = _EVALUATED + "order by results.check_name"
# The same rows again, for another run (the run's id bound first).
_RECORD_AGAIN = (
    "insert into quality.expectation_results by name select * replace (?::varchar as run_id) from (" + _EVALUATED + ")"
)


def evaluation_results(connection: duckdb.DuckDBPyConnection, evaluated_in: str) -> list[dict[str, object]]:
    """The rows of quality.expectation_results the gate of run ``evaluated_in`` counted, by check name."""
    relation = connection.execute(_EVALUATED_BY_NAME, [evaluated_in])
    columns = [column[0] for column in relation.description or []]
    return [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def record_results_again(connection: duckdb.DuckDBPyConnection, run_id: str, evaluated_in: str) -> None:
    """Record for ``run_id`` the results the gate of ``evaluated_in`` counted (their time kept: when counted)."""
    connection.execute(_RECORD_AGAIN, [run_id, evaluated_in])
