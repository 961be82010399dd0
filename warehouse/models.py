"""Building the SQL models in ``sql/``: staging, intermediate and ops as views, marts as tables.

A model is one ``.sql`` file holding one ``select``; its file name is its table name and its
folder is its schema. Models are built in dependency order (found from ``schema.table``
references) inside one transaction, so analysts never see a half-built warehouse.
"""

import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

# ops models are views: they show the audit as it is now, including runs after the last build.
LAYERS = {"staging": "view", "intermediate": "view", "marts": "table", "ops": "view"}
_MODEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_REFERENCE = re.compile(r"\b(" + "|".join(LAYERS) + r")\.([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    sql: str

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def depends_on(self) -> set[str]:
        return {f"{layer}.{name}" for layer, name in _REFERENCE.findall(self.sql)} - {self.qualified_name}


def discover_models(sql_dir: Path) -> list[Model]:
    """Every model, in an order where each comes after the models it reads."""
    models = {
        model.qualified_name: model
        for layer in LAYERS
        for path in sorted((sql_dir / layer).glob("*.sql"))
        for model in [Model(layer, path.stem, path.read_text(encoding="utf-8").strip().rstrip(";"))]
    }
    unsafe = [name for name in models if not _MODEL_NAME.match(name.split(".")[1])]
    if unsafe:
        raise ValueError(f"model file names must be lowercase identifiers: {unsafe}")
    graph = {name: model.depends_on & models.keys() for name, model in models.items()}
    return [models[name] for name in TopologicalSorter(graph).static_order()]


def build_models(connection: duckdb.DuckDBPyConnection, sql_dir: Path) -> list[str]:
    """Create or replace every model; returns their names in build order."""
    models = discover_models(sql_dir)
    connection.execute("begin transaction")
    try:
        for layer in LAYERS:
            connection.execute(f"create schema if not exists {layer}")
        for model in models:
            # Names come from the project's own file names, which discover_models restricts to identifiers.
            connection.execute(f"create or replace {LAYERS[model.layer]} {model.qualified_name} as\n{model.sql}")
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return [model.qualified_name for model in models]
