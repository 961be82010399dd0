"""The model runner: what a model reads comes from DuckDB's parser, layers point one way, one transaction."""

import shutil
from pathlib import Path

import pytest
from support import query, run_steps, summary_referrals, write_submission

from hikikomori.pipeline import steps as pipeline
from hikikomori.settings import Settings, load_settings
from hikikomori.warehouse.connection import connect, connect_in_memory
from hikikomori.warehouse.models import ModelError, build_models, load_project, relations_read
from hikikomori.warehouse.project import ProjectError

SQL_DIR = load_settings().sql_dir


@pytest.fixture
def sql_dir(tmp_path: Path) -> Path:
    """A copy of the project's models to change."""
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    return copy


def add_model(sql_dir: Path, layer: str, name: str, sql: str) -> None:
    (sql_dir / layer / f"{name}.sql").write_text(sql, encoding="utf-8")
    (sql_dir / layer / f"{name}.yml").write_text(
        f"models: [{{name: {name}, description: {{ja: 試し, en: a trial}}}}]", encoding="utf-8"
    )


def reads(sql: str) -> set[str]:
    parser = connect_in_memory()
    try:
        return set(relations_read(parser, sql, "test.model"))
    finally:
        parser.close()


def test_dependencies_come_from_the_syntax_tree() -> None:
    sql = """
    with latest as (select * from intermediate.int_latest_submissions),
    years as (select distinct fiscal_year from latest)
    select years.fiscal_year, (select count(*) from staging.stg_centers) as centers
    from years
    where years.fiscal_year in (select fiscal_year from marts.consultation_totals)
    """
    assert reads(sql) == {"intermediate.int_latest_submissions", "staging.stg_centers", "marts.consultation_totals"}


def test_a_comment_or_a_string_naming_a_table_changes_nothing(sql_dir: Path, workspace: Settings) -> None:
    model = sql_dir / "intermediate" / "int_national_actuals.sql"
    original = load_project(sql_dir)
    # Read as text, this made the build fail with graphlib.CycleError.
    model.write_text("-- feeds marts.consultation_totals\n" + model.read_text(encoding="utf-8"), encoding="utf-8")
    changed = load_project(sql_dir)
    assert [m.qualified_name for m in changed.models] == [m.qualified_name for m in original.models]
    assert changed.model("intermediate.int_national_actuals").depends_on == {"intermediate.int_center_reported_items"}
    assert reads("select 'marts.outcome_targets' as note, 1 as one from staging.stg_centers") == {"staging.stg_centers"}

    write_submission(workspace.inbox_dir, "130001", 2015, 100, summary_referrals(npo=4))
    run_steps(Settings(**{**vars(workspace), "sql_dir": sql_dir}))
    assert (
        query(workspace.warehouse_path, "select consultations from marts.consultation_totals").consultations.item()
        == 100
    )


@pytest.mark.parametrize(
    ("layer", "sql", "message"),
    [
        (
            "marts",
            "select * from raw.submissions",
            "marts.trial reads raw.submissions: marts models may read only staging, intermediate, marts",
        ),
        (
            "marts",
            "select * from reference.centers",
            "marts.trial reads reference.centers: marts models may read only",
        ),
        (
            "staging",
            "select * from intermediate.int_latest_submissions",
            "staging models may read only raw, reference",
        ),
        (
            "intermediate",
            "select * from marts.outcome_targets",
            "intermediate models may read only staging, intermediate",
        ),
        (
            "ops",
            "select * from ops.pipeline_runs",
            "ops.trial reads ops.pipeline_runs: ops models may read only staging, intermediate",
        ),
        ("marts", "select * from stg_centers", "marts.trial reads stg_centers without a schema"),
        ("marts", "select * from staging.no_such_model", "reads staging.no_such_model, which is neither a model"),
        (
            "marts",
            "select * from other_db.staging.stg_centers",
            "reads other_db.staging.stg_centers: a model reads only",
        ),
        ("marts", "select * from read_csv('/etc/passwd')", "marts.trial reads from read_csv"),
        ("marts", "select 1 as one; select 2 as two", "exactly one select statement"),
        ("marts", "select from where", "DuckDB cannot parse it"),
    ],
)
def test_a_model_reading_what_its_layer_may_not_is_refused(sql_dir: Path, layer: str, sql: str, message: str) -> None:
    add_model(sql_dir, layer, "trial", sql)
    with pytest.raises(ModelError, match=message):
        load_project(sql_dir)


def test_models_reading_each_other_in_a_circle_are_refused(sql_dir: Path) -> None:
    add_model(sql_dir, "marts", "chicken", "select * from marts.egg")
    add_model(sql_dir, "marts", "egg", "select * from marts.chicken")
    with pytest.raises(ModelError, match=r"circle: marts\.(chicken|egg) → marts\.(chicken|egg) → "):
        load_project(sql_dir)


def test_a_model_without_its_yaml_is_refused(sql_dir: Path) -> None:
    (sql_dir / "marts" / "undocumented.sql").write_text("select 1 as one", encoding="utf-8")
    with pytest.raises(ProjectError, match=r"marts/undocumented.sql has no marts/undocumented.yml"):
        load_project(sql_dir)


def test_a_model_that_fails_to_build_leaves_the_warehouse_as_it_was(sql_dir: Path, workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, "130001", 2015, 100, summary_referrals(npo=4))
    run_steps(workspace)
    before = query(workspace.warehouse_path, "select * from marts.consultation_totals")
    add_model(sql_dir, "marts", "zz_broken", "select no_such_function(1) as x from marts.consultation_totals")
    (sql_dir / "marts" / "consultation_totals.sql").write_text(
        "select 1 as fiscal_year from intermediate.int_national_actuals", encoding="utf-8"
    )
    with pytest.raises(Exception, match="no_such_function"), connect(workspace.warehouse_path) as connection:
        build_models(connection, load_project(sql_dir))
    assert query(workspace.warehouse_path, "select * from marts.consultation_totals").equals(before)


def test_a_removed_model_disappears_at_the_next_build(sql_dir: Path, workspace: Settings) -> None:
    add_model(sql_dir, "marts", "temporary", "select fiscal_year from marts.consultation_totals")
    trial = Settings(**{**vars(workspace), "sql_dir": sql_dir})
    pipeline.prepare_warehouse(trial)
    pipeline.rebuild_models(trial)
    assert len(query(workspace.warehouse_path, "select * from duckdb_tables() where table_name = 'temporary'")) == 1
    pipeline.rebuild_models(workspace)
    assert len(query(workspace.warehouse_path, "select * from duckdb_tables() where table_name = 'temporary'")) == 0
    assert len(query(workspace.warehouse_path, "select * from raw.received_files")) == 0  # sources stay


def test_every_models_header_says_what_a_row_is_and_its_key_as_its_yaml_does() -> None:
    project = load_project(SQL_DIR)
    for model in project.models:
        header = " ".join(
            line.removeprefix("--").strip() for line in model.sql.splitlines() if line.startswith("--")
        ).split(" Key: ")
        assert len(header) == 2 and header[0].startswith("One row per"), model.qualified_name
        key = header[1].split(";")[0].split(")")[0].strip(" (.")
        assert tuple(column.strip() for column in key.split(",")) == project.docs.models[model.qualified_name].key, (
            model.qualified_name
        )


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("models: [{name: trial, description: {ja: 試し}}]", "needs a description in Japanese and English"),
        (
            "models: [{name: trial, description: {ja: 試し, en: trial},"
            " columns: [{name: one, description: {doc: nope}}]}]",
            "refers to doc 'nope'",
        ),
        (
            "models: [{name: trial, description: {ja: 試し, en: trial},"
            " columns: [{name: one, description: {ja: 一, en: one}, data_tests: [is_even]}]}]",
            "unknown data test 'is_even'",
        ),
        (
            "models: [{name: trial, description: {ja: 試し, en: trial},"
            " columns: [{name: one, description: {ja: 一, en: one},"
            " data_tests: [{accepted_values: {vocabulary: Nope}}]}]}]",
            "'Nope' is not a vocabulary",
        ),
        ("models: [{name: trial, description: {ja: 試し, en: trial}, key: [one]}]", "names undocumented columns"),
        ("models: [{name: other, description: {ja: 試し, en: trial}}]", "exactly one model, named trial"),
    ],
)
def test_a_yaml_that_does_not_say_enough_is_refused(sql_dir: Path, yaml_text: str, message: str) -> None:
    (sql_dir / "marts" / "trial.sql").write_text("select 1 as one from marts.consultation_totals", encoding="utf-8")
    (sql_dir / "marts" / "trial.yml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ProjectError, match=message):
        load_project(sql_dir)
