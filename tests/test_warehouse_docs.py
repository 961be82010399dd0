"""Comments on every table and column, the generated data dictionary and its example queries, read-only SQL."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO_ROOT, make_settings, query

from hikikomori.pipeline import steps as pipeline
from hikikomori.settings import load_settings
from hikikomori.warehouse.comments import missing_comments, warehouse_columns, warehouse_objects
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.dictionary import example_queries, render_dictionary
from hikikomori.warehouse.models import load_project

QUERIES = example_queries(load_settings().example_queries_dir)


def test_every_table_view_and_column_has_a_comment(example_warehouse: Path) -> None:
    with connect(example_warehouse, read_only=True) as connection:
        assert missing_comments(connection) == []


def test_comments_survive_a_rebuild(example_warehouse: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    shutil.copy(example_warehouse, settings.warehouse_path)
    pipeline.rebuild_models(settings)
    with connect(settings.warehouse_path, read_only=True) as connection:
        assert missing_comments(connection) == []


def test_the_yaml_names_only_tables_and_columns_that_exist(example_warehouse: Path) -> None:
    with connect(example_warehouse, read_only=True) as connection:
        objects = warehouse_objects(connection)
        columns = warehouse_columns(connection)
    existing = set(objects["schema_name"] + "." + objects["name"])
    existing_columns = set(columns["schema_name"] + "." + columns["table_name"] + "." + columns["column_name"])
    relations = load_project(load_settings().sql_dir).docs.relations
    assert set(relations) - existing == set()
    documented = {f"{name}.{column.name}" for name, docs in relations.items() for column in docs.columns}
    assert documented - existing_columns == set()


@pytest.mark.parametrize("example", QUERIES, ids=[example.name for example in QUERIES])
def test_every_example_query_runs(example_warehouse: Path, example) -> None:
    assert not query(example_warehouse, example.sql).empty


def test_the_data_dictionary_is_up_to_date(example_warehouse: Path) -> None:
    with connect(example_warehouse, read_only=True) as connection:
        expected = render_dictionary(connection, QUERIES, load_project(load_settings().sql_dir).docs)
    assert (REPO_ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8") == expected, "run `make docs`"


def _hikikomori_sql(warehouse: Path, statement: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hikikomori.cli", "sql", statement, "--warehouse", str(warehouse)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_sql_prints_a_table(example_warehouse: Path) -> None:
    result = _hikikomori_sql(example_warehouse, "select fiscal_year, consultations from marts.consultation_totals")
    assert result.returncode == 0
    assert "90794" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "delete from marts.consultation_totals",  # a plain write
        "create table marts.scratch as select 1 as one",  # a new table
        "attach '{warehouse}' as again; delete from again.marts.consultation_totals",  # a second, writable attach
    ],
)
def test_sql_cannot_modify_the_warehouse(example_warehouse: Path, tmp_path: Path, statement: str) -> None:
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(example_warehouse, warehouse)
    result = _hikikomori_sql(warehouse, statement.format(warehouse=warehouse))
    assert result.returncode == 1
    assert "read-only" in result.stderr
    assert query(warehouse, "select count(*) as rows from marts.consultation_totals")["rows"][0] == 7
    assert query(warehouse, "select count(*) as n from duckdb_tables() where table_name = 'scratch'")["n"][0] == 0
