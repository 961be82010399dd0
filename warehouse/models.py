"""The SQL models in ``sql/``: found, ordered by what they read, and built in one transaction.

A model is one ``.sql`` file holding one ``select``; its file name is its table name and its folder
is its schema (layer). What a model reads comes from DuckDB's own parser (``json_serialize_sql``
gives the syntax tree; every ``BASE_TABLE`` in it is a relation read), never from the text: a
comment naming a table changes nothing. Every relation a model reads is written ``schema.table``
(an unqualified name must be one of the query's CTEs) and must be a model or a source of a layer
the model's layer may read:

==============  =============  ====================================================================
layer           built as       reads
==============  =============  ====================================================================
staging         views          sources only: raw, reference (names and types tidied, nothing more)
intermediate    views          staging, intermediate
marts           tables         staging, intermediate, marts (never raw or reference: through staging)
ops             views          staging, intermediate (live: the audit as it is now, not as of a build)
quality         views          staging, intermediate, marts (the quality gate's checks across models)
==============  =============  ====================================================================

Models are built in dependency order inside one transaction, and their comments (from the YAML
beside each model) are applied in the same transaction, so analysts never see a half-built or
undocumented warehouse.
"""

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

from hikikomori.warehouse.comments import apply_docs
from hikikomori.warehouse.connection import connect_in_memory, transaction
from hikikomori.warehouse.project import ProjectDocs, load_project_docs


@dataclass(frozen=True)
class Layer:
    name: str
    materialization: str  # view | table
    reads: tuple[str, ...]


LAYERS = (
    Layer("staging", "view", ("raw", "reference")),
    Layer("intermediate", "view", ("staging", "intermediate")),
    Layer("marts", "table", ("staging", "intermediate", "marts")),
    Layer("ops", "view", ("staging", "intermediate")),
    Layer("quality", "view", ("staging", "intermediate", "marts")),
)
LAYER_BY_NAME = {layer.name: layer for layer in LAYERS}
# Table functions a model may read from (they generate rows; none reads a file or another database).
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class ModelError(ValueError):
    """A model that cannot be built as written; the message names the model and what is wrong."""


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    sql: str
    path: Path
    depends_on: frozenset[str]  # schema.table of every relation read (models and sources)

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def materialization(self) -> str:
        return LAYER_BY_NAME[self.layer].materialization


@dataclass(frozen=True)
class Project:
    """The models in build order, and their YAML."""

    sql_dir: Path
    models: tuple[Model, ...]
    docs: ProjectDocs

    def model(self, qualified_name: str) -> Model:
        found = next((model for model in self.models if model.qualified_name == qualified_name), None)
        if found is None:
            raise ModelError(f"no model {qualified_name} in {self.sql_dir}")
        return found


def load_project(sql_dir: Path) -> Project:
    """Every model, checked and in build order, with its documentation and tests.

    Read once per process while no file of ``sql_dir`` changes (a run builds the models and then
    checks their data tests from the same project): a new, removed or modified file reads it again.
    """
    return _load_project(sql_dir, _files_signature(sql_dir))


def load_docs(sql_dir: Path) -> ProjectDocs:
    """The project's YAML alone (what the quality gate needs: no model parsed), read once per process
    like ``load_project``."""
    return _load_docs(sql_dir, _files_signature(sql_dir))


@lru_cache(maxsize=4)
def _load_project(sql_dir: Path, signature: tuple[tuple[str, int, int], ...]) -> Project:
    docs = _load_docs(sql_dir, signature)
    models = discover_models(sql_dir, set(docs.sources))
    return Project(sql_dir, tuple(models), docs)


@lru_cache(maxsize=4)
def _load_docs(sql_dir: Path, signature: tuple[tuple[str, int, int], ...]) -> ProjectDocs:
    return load_project_docs(sql_dir, [layer.name for layer in LAYERS])


def _files_signature(sql_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every file of the project."""
    found = []
    for path in sorted(sql_dir.rglob("*")):
        if path.suffix in {".sql", ".yml", ".yaml"}:
            status = path.stat()
            found.append((str(path.relative_to(sql_dir)), status.st_mtime_ns, status.st_size))
    return tuple(found)


def discover_models(sql_dir: Path, sources: set[str]) -> list[Model]:
    """Every model of ``sql_dir``, each after the models it reads."""
    parser = connect_in_memory()
    try:
        found: dict[str, Model] = {}
        for layer in LAYERS:
            for path in sorted((sql_dir / layer.name).glob("*.sql")):
                if not _IDENTIFIER.match(path.stem):
                    raise ModelError(f"model file names must be lowercase identifiers: {layer.name}/{path.name}")
                sql = path.read_text(encoding="utf-8").strip().rstrip(";").rstrip()
                qualified = f"{layer.name}.{path.stem}"
                found[qualified] = Model(layer.name, path.stem, sql, path, relations_read(parser, sql, qualified))
    finally:
        parser.close()
    for model in found.values():
        _check_reads(model, found, sources)
    graph = {
        name: {dependency for dependency in model.depends_on if dependency in found} for name, model in found.items()
    }
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = " → ".join(error.args[1])
        raise ModelError(f"models read each other in a circle: {cycle}") from None
    return [found[name] for name in order]


def relations_read(parser: duckdb.DuckDBPyConnection, sql: str, model: str) -> frozenset[str]:
    """``schema.table`` of every relation the query reads, from DuckDB's syntax tree of it."""
    (serialized,) = parser.execute("select json_serialize_sql(?)", [sql]).fetchall()[0]
    tree = json.loads(serialized)
    if tree.get("error"):
        raise ModelError(f"{model}: DuckDB cannot parse it as one select: {tree.get('error_message')}")
    if len(tree["statements"]) != 1:
        raise ModelError(f"{model}: a model is exactly one select statement, found {len(tree['statements'])}")
    ctes: set[str] = set()
    tables: list[dict[str, Any]] = []
    functions: list[str] = []
    _walk(tree["statements"], ctes, tables, functions)
    refused = sorted(set(functions) - ALLOWED_TABLE_FUNCTIONS)
    if refused:
        raise ModelError(f"{model} reads from {', '.join(refused)}(): a model reads only models and sources")
    read = set()
    for table in tables:
        schema, name, catalog = table["schema_name"], table["table_name"], table["catalog_name"]
        if catalog:
            raise ModelError(f"{model} reads {catalog}.{schema}.{name}: a model reads only this warehouse")
        if not schema:
            if name in ctes:
                continue
            raise ModelError(f"{model} reads {name} without a schema: write schema.table, or define a CTE named {name}")
        read.add(f"{schema}.{name}")
    return frozenset(read)


def _walk(node: Any, ctes: set[str], tables: list[dict[str, Any]], functions: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, ctes, tables, functions)
    elif isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            tables.append(node)
        elif node.get("type") == "TABLE_FUNCTION":
            functions.append(str(node.get("function", {}).get("function_name", "")))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(entry["key"] for entry in cte_map.get("map", []))
        for value in node.values():
            _walk(value, ctes, tables, functions)


def _check_reads(model: Model, models: dict[str, Model], sources: set[str]) -> None:
    layer = LAYER_BY_NAME[model.layer]
    for relation in sorted(model.depends_on):
        if relation == model.qualified_name:
            raise ModelError(f"{model.qualified_name} reads itself")
        if relation not in models and relation not in sources:
            raise ModelError(
                f"{model.qualified_name} reads {relation}, which is neither a model in sql/ nor a source "
                "in sql/sources.yml"
            )
        schema = relation.split(".")[0]
        if schema not in layer.reads:
            raise ModelError(
                f"{model.qualified_name} reads {relation}: {layer.name} models may read only "
                f"{', '.join(layer.reads)} ({model.path.parent.name}/{model.path.name})"
            )


def build_models(connection: duckdb.DuckDBPyConnection, project: Project) -> list[str]:
    """Create or replace every model, drop models no longer in ``sql/``, then apply every comment.

    One transaction: a model that fails leaves the warehouse as it was. Returns the models built,
    in build order.
    """
    with transaction(connection):
        return create_models(connection, project)


def create_models(connection: duckdb.DuckDBPyConnection, project: Project) -> list[str]:
    """``build_models`` inside the caller's transaction."""
    for layer in LAYERS:
        connection.execute(f"create schema if not exists {layer.name}")
    _drop_stale(connection, project)
    for model in project.models:
        # Names come from the project's own file names, which discover_models restricts to identifiers.
        connection.execute(f"create or replace {model.materialization} {model.qualified_name} as\n{model.sql}")
    apply_docs(connection, project.docs)
    return [model.qualified_name for model in project.models]


def sources_materialized(project: Project) -> list[str]:
    """The sources whose rows the models built as tables hold, read directly or through views.

    Views read their sources when queried, so only these change what a build writes.
    """
    by_name = {model.qualified_name: model for model in project.models}
    seen: set[str] = set()
    pending = [model.qualified_name for model in project.models if model.materialization == "table"]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            if name in by_name:
                pending.extend(by_name[name].depends_on)
    return sorted(seen - set(by_name))


def model_relations(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, name, kind) of every view in a model layer and every table in a layer of tables only."""
    rows = connection.execute(
        """
        select schema_name, view_name as name, 'view' as kind
        from duckdb_views() where not internal and schema_name in (select unnest($layers))
        union all
        select schema_name, table_name, 'table'
        from duckdb_tables() where schema_name in (select unnest($model_only_layers))
        order by all
        """,
        {
            "layers": [layer.name for layer in LAYERS],
            "model_only_layers": [layer.name for layer in LAYERS if layer.materialization == "table"],
        },
    ).fetchall()
    return [(str(schema), str(name), str(kind)) for schema, name, kind in rows]


def _drop_stale(connection: duckdb.DuckDBPyConnection, project: Project) -> None:
    """Views and model tables that no model builds any more (a removed model, or one now built as the
    other kind). Source tables (in raw, reference, ops, quality) are never dropped."""
    wanted = {model.qualified_name: model.materialization for model in project.models}
    for schema, name, kind in model_relations(connection):
        relation = f"{schema}.{name}"
        if wanted.get(relation) != kind and _IDENTIFIER.match(name):
            connection.execute(f"drop {kind} {relation}")
