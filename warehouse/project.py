"""The SQL project's YAML, as dbt keeps it: each model documented and tested beside its SQL.

Files (all under ``sql/``):

- ``<layer>/<model>.yml`` beside ``<layer>/<model>.sql``: the model's description, grain, key,
  columns with their descriptions and data tests, and the model's unit tests;
- ``sources.yml``: what each schema holds (DuckDB cannot comment on a schema) and the tables the
  pipeline writes itself (raw, reference, ops, quality: their DDL is in the migrations);
- ``docs.yml``: descriptions shared by columns that mean the same everywhere (dbt's doc blocks),
  used as ``description: {doc: fiscal_year}``.

A model's YAML::

    models:
      - name: outcome_targets
        description: {ja: …, en: …}
        grain: {ja: 年度 × 成果目標ごとに1行, en: one row per fiscal year × target}
        key: [fiscal_year, target]          # tested: unique together, each not null
        columns:
          - name: status
            description: {ja: …, en: …}
            data_tests:
              - not_null
              - accepted_values:
                  vocabulary: TargetStatus  # or values: [pass, fail, no_baseline]
                  name: outcome_target_status_known      # optional: the check's name
                  description: {ja: …, en: …}            # optional
        data_tests:                          # tests on several columns
          - expect_column_pair_values_to_be_equal: {column_A: a, column_B: b}
    unit_tests:
      - name: actual_exactly_on_the_target_fails
        description: {ja: …, en: …}
        given:
          - input: intermediate.int_national_actuals
            rows:
              - {fiscal_year: 2015, measure: referrals, actual: 60}
        expect:
          rows:
            - {fiscal_year: 2016, target: referrals_per_center, status: fail}

Data tests (each becomes one check of the run's quality gate, run by Great Expectations):
``unique``, ``not_null``, ``accepted_values`` (``values`` or ``vocabulary``, an enum of
``hikikomori.domain.vocabulary``), ``accepted_range`` (``min_value``, ``max_value``),
``unique_combination_of_columns`` (``combination_of_columns``) and
``expect_column_pair_values_to_be_equal`` (``column_A``, ``column_B``). A test's name defaults to
``<model>_<column>_<test>`` (the key's to ``<model>_unique``).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from hikikomori.domain import vocabulary

# libyaml's parser when PyYAML was built with it (the wheels are): the project's ≈ 70 files in ≈ 0.03 s
# instead of ≈ 0.2 s. Same safe subset of YAML either way.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SOURCES_FILE = "sources.yml"
DOCS_FILE = "docs.yml"


class ProjectError(ValueError):
    """The SQL project's YAML is incomplete or inconsistent; the message names the file."""


@dataclass(frozen=True)
class Description:
    ja: str
    en: str

    @property
    def text(self) -> str:
        """As stored in the warehouse's comments: Japanese first, English alongside."""
        return f"{self.ja} / {self.en}"


@dataclass(frozen=True)
class DataTest:
    """One data test of a relation: one check of the quality gate."""

    name: str
    kind: str  # unique | not_null | accepted_values | accepted_range | unique_combination_of_columns | …
    relation: str  # schema.table
    columns: tuple[str, ...]
    parameters: Mapping[str, Any]
    description: Description


@dataclass(frozen=True)
class Column:
    name: str
    description: Description


@dataclass(frozen=True)
class RelationDocs:
    """What a model's or a source's YAML says about it."""

    schema: str
    name: str
    description: Description
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    grain: Description | None = None
    data_tests: tuple[DataTest, ...] = ()
    path: Path | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class GivenInput:
    relation: str  # schema.table
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class UnitTest:
    """Given rows of a model's inputs, the rows the model must produce (compared as a multiset)."""

    name: str
    model: str  # schema.table
    description: Description
    given: tuple[GivenInput, ...]
    expect: tuple[Mapping[str, Any], ...]
    path: Path

    @property
    def test_id(self) -> str:
        return f"{self.model}::{self.name}"


@dataclass(frozen=True)
class ProjectDocs:
    schemas: dict[str, Description]
    sources: dict[str, RelationDocs]  # schema.table → docs
    models: dict[str, RelationDocs]  # schema.table → docs
    unit_tests: tuple[UnitTest, ...] = field(default=())

    @property
    def relations(self) -> dict[str, RelationDocs]:
        return {**self.sources, **self.models}

    @property
    def data_tests(self) -> tuple[DataTest, ...]:
        return tuple(test for docs in self.relations.values() for test in docs.data_tests)


def load_project_docs(sql_dir: Path, model_layers: Sequence[str]) -> ProjectDocs:
    """Read every YAML of the project; every ``.sql`` model must have its ``.yml`` and the other way round."""
    shared = _read(sql_dir / DOCS_FILE).get("docs", {}) if (sql_dir / DOCS_FILE).is_file() else {}
    shared_docs = {name: _description(entry, sql_dir / DOCS_FILE, f"docs.{name}", {}) for name, entry in shared.items()}
    sources_path = sql_dir / SOURCES_FILE
    sources_document = _read(sources_path)
    schemas = {
        name: _description(entry, sources_path, f"schemas.{name}", shared_docs)
        for name, entry in (sources_document.get("schemas") or {}).items()
    }
    sources: dict[str, RelationDocs] = {}
    for source in sources_document.get("sources") or []:
        for table in source.get("tables") or []:
            docs = _relation(source["name"], table, sources_path, shared_docs, model=False)
            sources[docs.qualified_name] = docs
    models: dict[str, RelationDocs] = {}
    unit_tests: list[UnitTest] = []
    for layer in model_layers:
        folder = sql_dir / layer
        if not folder.is_dir():
            continue
        sql_names = {path.stem for path in folder.glob("*.sql")}
        yaml_paths = {path.stem: path for path in [*folder.glob("*.yml"), *folder.glob("*.yaml")]}
        missing = sorted(f"{layer}/{name}.sql has no {layer}/{name}.yml" for name in sql_names - set(yaml_paths))
        orphans = sorted(f"{layer}/{name}.yml documents no {layer}/{name}.sql" for name in set(yaml_paths) - sql_names)
        if missing or orphans:
            raise ProjectError("; ".join([*missing, *orphans]) + " (each model: its SQL and its YAML, side by side)")
        for stem, path in sorted(yaml_paths.items()):
            document = _read(path)
            entries = document.get("models") or []
            if len(entries) != 1 or entries[0].get("name") != stem:
                raise ProjectError(f"{layer}/{path.name} must document exactly one model, named {stem}")
            docs = _relation(layer, entries[0], path, shared_docs, model=True)
            models[docs.qualified_name] = docs
            unit_tests += [
                _unit_test(entry, docs.qualified_name, path, shared_docs) for entry in document.get("unit_tests") or []
            ]
    project = ProjectDocs(schemas, sources, models, tuple(unit_tests))
    _check_unique([test.name for test in project.data_tests], "data test")
    _check_unique([test.test_id for test in project.unit_tests], "unit test")
    return project


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (OSError, yaml.YAMLError) as error:
        raise ProjectError(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict):
        raise ProjectError(f"{path} must hold a mapping")
    return document


def _description(entry: Any, path: Path, where: str, shared: Mapping[str, Description]) -> Description:
    if isinstance(entry, dict) and set(entry) == {"doc"}:
        if entry["doc"] not in shared:
            raise ProjectError(f"{path}: {where} refers to doc {entry['doc']!r}, which {DOCS_FILE} does not define")
        return shared[entry["doc"]]
    if not isinstance(entry, dict) or not entry.get("ja") or not entry.get("en"):
        raise ProjectError(f"{path}: {where} needs a description in Japanese and English ({{ja: …, en: …}})")
    return Description(str(entry["ja"]).strip(), str(entry["en"]).strip())


def _relation(
    schema: str, entry: dict[str, Any], path: Path, shared: Mapping[str, Description], *, model: bool
) -> RelationDocs:
    """A model's key is tested (unique, each column not null); a source's documents its DDL's primary key."""
    name = entry.get("name")
    if not name:
        raise ProjectError(f"{path}: a model or table without a name")
    qualified = f"{schema}.{name}"
    columns = []
    tests: list[DataTest] = []
    for column in entry.get("columns") or []:
        column_name = column.get("name")
        if not column_name:
            raise ProjectError(f"{path}: a column of {qualified} without a name")
        description = _description(column.get("description"), path, f"{qualified}.{column_name}", shared)
        columns.append(Column(column_name, description))
        tests += [
            _data_test(spec, qualified, (column_name,), path)
            for spec in column.get("data_tests") or column.get("tests") or []
        ]
    key = tuple(entry.get("key") or ())
    grain = _description(entry["grain"], path, f"{qualified} grain", shared) if "grain" in entry else None
    unknown_key = [column for column in key if column not in {column.name for column in columns}]
    if unknown_key:
        raise ProjectError(f"{path}: the key of {qualified} names undocumented columns {unknown_key}")
    if key and model:
        tests = [*_key_tests(qualified, key, grain), *tests]
    tests += [_data_test(spec, qualified, (), path) for spec in entry.get("data_tests") or entry.get("tests") or []]
    documented = {column.name for column in columns}
    for test in tests:
        undocumented = [column for column in test.columns if column not in documented]
        if undocumented:
            raise ProjectError(f"{path}: data test {test.name} names undocumented columns {undocumented}")
    return RelationDocs(
        schema=schema,
        name=name,
        description=_description(entry.get("description"), path, qualified, shared),
        columns=tuple(columns),
        key=key,
        grain=grain,
        data_tests=tuple(tests),
        path=path,
    )


def _key_tests(relation: str, key: tuple[str, ...], grain: Description | None) -> list[DataTest]:
    name = relation.split(".")[1]
    listed = ", ".join(key)
    grain_ja = f"{grain.ja}: " if grain else ""
    grain_en = f"{grain.en}: " if grain else ""
    unique = DataTest(
        name=f"{name}_unique",
        kind="unique" if len(key) == 1 else "unique_combination_of_columns",
        relation=relation,
        columns=key,
        parameters={},
        description=Description(f"{grain_ja}（{listed}）は重複しない", f"{grain_en}({listed}) is unique"),
    )
    return [unique] + [_generated(relation, (column,), "not_null", {}) for column in key]


_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required parameters, optional parameters)
    "unique": ((), ()),
    "not_null": ((), ()),
    "accepted_values": ((), ("values", "vocabulary")),
    "accepted_range": ((), ("min_value", "max_value")),
    "unique_combination_of_columns": (("combination_of_columns",), ()),
    "expect_column_pair_values_to_be_equal": (("column_A", "column_B"), ()),
}
_COLUMN_KINDS = ("unique", "not_null", "accepted_values", "accepted_range")


def _data_test(spec: Any, relation: str, columns: tuple[str, ...], path: Path) -> DataTest:
    arguments: dict[str, Any]
    if isinstance(spec, str):
        kind, arguments = spec, {}
    elif isinstance(spec, dict) and len(spec) == 1:
        ((kind, arguments),) = spec.items()
        arguments = dict(arguments or {})
    else:
        raise ProjectError(f"{path}: a data test of {relation} must be a name or {{name: {{arguments}}}}: {spec!r}")
    if kind not in _KINDS:
        raise ProjectError(f"{path}: unknown data test {kind!r} on {relation} (known: {', '.join(_KINDS)})")
    name = arguments.pop("name", None)
    description = arguments.pop("description", None)
    required, optional = _KINDS[kind]
    unknown = set(arguments) - set(required) - set(optional)
    missing = set(required) - set(arguments)
    if unknown or missing:
        raise ProjectError(
            f"{path}: data test {kind} on {relation}: unknown arguments {sorted(unknown)}, missing {sorted(missing)}"
        )
    if (kind in _COLUMN_KINDS) != bool(columns):
        where = "under a column" if kind in _COLUMN_KINDS else "under the model's data_tests"
        raise ProjectError(f"{path}: data test {kind} on {relation} belongs {where}")
    if kind == "accepted_values":
        arguments = {"values": _accepted_values(arguments, relation, path)}
    if kind == "accepted_range" and not ({"min_value", "max_value"} & set(arguments)):
        raise ProjectError(f"{path}: accepted_range on {relation} needs min_value or max_value")
    if kind == "unique_combination_of_columns":
        columns = tuple(arguments["combination_of_columns"])
    if kind == "expect_column_pair_values_to_be_equal":
        columns = (arguments["column_A"], arguments["column_B"])
    test = _generated(relation, columns, kind, arguments)
    return DataTest(
        name=name or test.name,
        kind=kind,
        relation=relation,
        columns=columns,
        parameters=arguments,
        description=_description(description, path, f"test {name}", {}) if description else test.description,
    )


def _accepted_values(arguments: dict[str, Any], relation: str, path: Path) -> list[Any]:
    if ("values" in arguments) == ("vocabulary" in arguments):
        raise ProjectError(f"{path}: accepted_values on {relation} takes values or vocabulary (one of them)")
    if "values" in arguments:
        return list(arguments["values"])
    enum = getattr(vocabulary, str(arguments["vocabulary"]), None)
    if not (isinstance(enum, type) and issubclass(enum, StrEnum)):
        raise ProjectError(f"{path}: {arguments['vocabulary']!r} is not a vocabulary of hikikomori.domain.vocabulary")
    return [member.value for member in enum]


def _generated(relation: str, columns: tuple[str, ...], kind: str, arguments: Mapping[str, Any]) -> DataTest:
    """A test's default name and description, from what it checks."""
    model = relation.split(".")[1]
    listed = ", ".join(columns)
    if kind == "not_null":
        ja, en, suffix = f"{listed} は空でない", f"{listed} is never null", "not_null"
    elif kind == "unique":
        ja, en, suffix = f"{listed} は重複しない", f"{listed} is unique", "unique"
    elif kind == "accepted_values":
        values = " / ".join(str(value) for value in arguments["values"])
        ja, en, suffix = f"{listed} は {values} のいずれか", f"{listed} is one of {values}", "accepted_values"
    elif kind == "accepted_range":
        low, high = arguments.get("min_value"), arguments.get("max_value")
        bounds_ja = " ".join(
            part
            for part in (f"{low} 以上" if low is not None else "", f"{high} 以下" if high is not None else "")
            if part
        )
        bounds_en = " and ".join(
            part for part in (f">= {low}" if low is not None else "", f"<= {high}" if high is not None else "") if part
        )
        ja, en, suffix = f"{listed} は {bounds_ja}", f"{listed} is {bounds_en}", "in_range"
    elif kind == "unique_combination_of_columns":
        ja, en, suffix = f"（{listed}）は重複しない", f"({listed}) is unique", "unique"
    else:  # expect_column_pair_values_to_be_equal
        ja, en, suffix = f"{columns[0]} = {columns[1]}", f"{columns[0]} equals {columns[1]}", "equal"
    name = "_".join([model, *columns, suffix]) if kind != "unique_combination_of_columns" else f"{model}_unique"
    return DataTest(
        name, kind, relation, columns, dict(arguments), Description(f"{relation}: {ja}", f"{relation}: {en}")
    )


def _unit_test(entry: dict[str, Any], model: str, path: Path, shared: Mapping[str, Description]) -> UnitTest:
    name = entry.get("name")
    if not name:
        raise ProjectError(f"{path}: a unit test without a name")
    if entry.get("model") not in (None, model, model.split(".")[1]):
        raise ProjectError(f"{path}: unit test {name} is for {entry['model']}; keep it in that model's YAML")
    given = []
    for item in entry.get("given") or []:
        relation = item.get("input")
        if not relation or "." not in str(relation):
            raise ProjectError(f"{path}: unit test {name}: each given input is a schema.table, got {relation!r}")
        rows = tuple(_rows(item.get("rows"), path, f"{name} given {relation}"))
        given.append(GivenInput(str(relation), rows))
    expect = entry.get("expect")
    if not isinstance(expect, dict) or "rows" not in expect:
        raise ProjectError(f"{path}: unit test {name} needs expect: {{rows: [...]}} (rows: [] for no rows)")
    return UnitTest(
        name=str(name),
        model=model,
        description=_description(entry.get("description"), path, f"unit test {name}", shared),
        given=tuple(given),
        expect=tuple(_rows(expect["rows"], path, f"{name} expect")),
        path=path,
    )


def _rows(rows: Any, path: Path, where: str) -> list[Mapping[str, Any]]:
    if rows is None:
        return []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ProjectError(f"{path}: {where}: rows are a list of {{column: value}}")
    return rows


def _check_unique(names: list[str], what: str) -> None:
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ProjectError(f"two {what}s have the same name: {', '.join(repeated)}")
