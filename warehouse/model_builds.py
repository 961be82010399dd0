"""Building the SQL models only when something they are built from has changed.

Most scheduled runs find an empty inbox, and rebuilding every model from unchanged inputs is most
of such a run's cost. A build's **fingerprint** is a SHA-256 over

- the versions of hikikomori and DuckDB, and the bytes of every file the build reads (every file of
  the SQL project, the reference files and the center registry, which ``--registry`` can replace:
  ``inputs_digest``);
- the content of every source the models built as tables read, directly or through views
  (``count(*)`` and ``sum(hash(row))``, computed by DuckDB: independent of the rows' order, and a
  repeated row counts twice). Content, not a record of writes: a new file, a ministry decision, a
  deadline calendar, a correction by hand all change it;
- the models as they stand: every view and table of the model layers, each table's content, the
  columns and their types, and the comments on them and their columns.

A build computes it inside its own transaction once the models are built, and records it in
``ops.model_builds`` in the same transaction, with the digest of its files and the sources it covers
(a build that fails records nothing). Before building, a run computes it again: when it equals the
last recorded build's, the warehouse already holds exactly what a build would write (a dropped,
added, edited or re-commented model changes it too), and nothing is built. Views read their
sources whenever they are queried, so the sources only views read (``ops.pipeline_runs``, which
every run writes) are left out.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from hikikomori.warehouse.connection import transaction
from hikikomori.warehouse.models import LAYERS, Project, create_models, model_relations, sources_materialized


@dataclass(frozen=True)
class ModelBuild:
    """A recorded build of the models (``ops.model_builds``), and whether this call made it."""

    build_number: int
    run_id: str | None
    built_at: datetime
    models: int
    built_now: bool  # False: the models were current, built by this earlier build


def inputs_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over the versions of hikikomori and DuckDB and the bytes of every file of ``paths`` (a
    folder: every file under it, by relative name; a file: its bytes)."""
    digest = hashlib.sha256()
    try:
        package_version = version("hikikomori")
    except PackageNotFoundError:  # run from a checkout that was never installed
        package_version = "unknown"
    _add(digest, f"hikikomori {package_version}; duckdb {duckdb.__version__}".encode())
    for root in paths:
        _add(digest, b"folder" if root.is_dir() else b"file")
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    _add(digest, str(path.relative_to(root)).encode())
                    _add(digest, path.read_bytes())
        else:
            _add(digest, root.read_bytes())
    return digest.hexdigest()


def _add(digest: "hashlib._Hash", part: bytes) -> None:
    """One part, length first: no two different sequences of parts give the same bytes."""
    digest.update(len(part).to_bytes(8, "big"))
    digest.update(part)


def fingerprint(connection: duckdb.DuckDBPyConnection, sources: Sequence[str], inputs: str) -> str:
    """The fingerprint of the warehouse as it is now: ``inputs`` (``inputs_digest``), the content of
    ``sources``, and the models as they stand."""
    relations = model_relations(connection)
    tables = [f"{schema}.{name}" for schema, name, kind in relations if kind == "table"]
    parts = {
        "inputs": inputs,
        "sources": _contents(connection, list(sources)),
        "models": relations,
        "tables": _contents(connection, tables),
        "definitions": _definitions(connection),
    }
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def _contents(connection: duckdb.DuckDBPyConnection, relations: list[str]) -> list[list[str]]:
    """[relation, row count, sum of the rows' hashes] for each relation, in one statement."""
    if not relations:
        return []
    selects = [
        f"select {index} as position, count(*)::varchar as row_count, "
        f"coalesce(sum(hash(relation_rows)::hugeint), 0)::varchar as row_hashes from {_quoted(name)} as relation_rows"
        for index, name in enumerate(relations)
    ]
    rows = connection.execute("\nunion all\n".join(selects) + "\norder by position").fetchall()
    return [[relations[position], count, hashes] for position, count, hashes in rows]


def _quoted(relation: str) -> str:
    """``schema.table`` as quoted identifiers (names from the project's own files, quoted all the same)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in relation.split("."))


def _definitions(connection: duckdb.DuckDBPyConnection) -> list[list[str | None]]:
    """Each view's and table's comment, each column's type and comment, in the model layers.

    Not a view's SQL text: DuckDB renders it anew from the file, and a file in an older storage format
    (``connection.connect``) renders it differently after it is reopened (parentheses around joins). A
    view replaced by hand loses its comments, and usually its columns: both are here. The views' own
    SQL is in ``inputs`` (the project's files).
    """
    rows = connection.execute(
        """
        select schema_name, view_name, null, null, comment
        from duckdb_views()
        where not internal and database_name = current_database() and schema_name in (select unnest($layers))
        union all
        select schema_name, table_name, null, null, comment
        from duckdb_tables()
        where database_name = current_database() and schema_name in (select unnest($layers))
        union all
        select schema_name, table_name, column_name, data_type, comment
        from duckdb_columns()
        where database_name = current_database() and schema_name in (select unnest($layers))
        order by all
        """,
        {"layers": [layer.name for layer in LAYERS]},
    ).fetchall()
    return [[None if value is None else str(value) for value in row] for row in rows]


def current_build(connection: duckdb.DuckDBPyConnection, inputs: str) -> ModelBuild | None:
    """The last build, if nothing changed since; else None (the models must be built).

    When the files and versions (``inputs``) are those of the last build, so is the SQL project, and
    with it the sources the fingerprint covers: they are taken from the build's record, so finding the
    models current parses no model.
    """
    rows = connection.execute(
        """
        select fingerprint, inputs, sources, build_number, run_id, built_at, models
        from ops.model_builds order by build_number desc limit 1
        """
    ).fetchall()
    if not rows:
        return None
    recorded, recorded_inputs, sources, number, run_id, built_at, models = rows[0]
    if recorded_inputs != inputs or fingerprint(connection, sources, inputs) != recorded:
        return None
    return ModelBuild(int(number), run_id, built_at, int(models), built_now=False)


def build_and_record(
    connection: duckdb.DuckDBPyConnection, project: Project, inputs: str, run_id: str | None
) -> ModelBuild:
    """Build every model (``models.build_models``) and record the build with its fingerprint, in one transaction."""
    built_at = datetime.now(UTC)
    sources = sources_materialized(project)
    with transaction(connection):
        models = create_models(connection, project)
        found = fingerprint(connection, sources, inputs)
        (number,) = connection.execute(
            """
            insert into ops.model_builds (build_number, fingerprint, inputs, sources, run_id, built_at, models)
            select coalesce(max(build_number), 0) + 1, ?, ?, ?, ?, ?, ? from ops.model_builds
            returning build_number
            """,
            [found, inputs, sources, run_id, built_at, len(models)],
        ).fetchall()[0]
    return ModelBuild(int(number), run_id, built_at, len(models), built_now=True)
