"""A run builds the SQL models only when something they are built from changed (warehouse/model_builds.py):
unchanged inputs find the models current, and what a skipped build leaves equals what a full rebuild writes;
every kind of change (a file, a decision, a calendar, the registry, the SQL, a model or source edited by
hand) builds again; a build that fails records nothing."""

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from support import detailed_referrals, query, run_audited, sql_with_a_broken_mart, write_submission

from hikikomori.domain.reference import bundled_registry
from hikikomori.pipeline import governance
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import connect

TOKYO, OSAKA = "130001", "271004"


@pytest.fixture
def built(workspace: Settings) -> Settings:
    """Two centers' FY2016 taken in and the models built by one run (``first``)."""
    write_submission(workspace.inbox_dir, TOKYO, 2016, 100, detailed_referrals(school=10))
    write_submission(workspace.inbox_dir, OSAKA, 2016, 200, detailed_referrals(school=20, hello_work=3))
    run_audited(workspace, "first")
    return workspace


def builds(settings: Settings) -> list[tuple[int, str | None]]:
    return [
        (int(row.build_number), row.run_id)
        for row in query(settings.warehouse_path, "select * from ops.model_builds order by build_number").itertuples()
    ]


def marts(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    """Every mart's rows, sorted."""
    with connect(settings.warehouse_path, read_only=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        return {
            name: sorted(connection.execute(f'select * from marts."{name}"').fetchall(), key=repr) for name in names
        }


def execute(settings: Settings, sql: str) -> None:
    with connect(settings.warehouse_path) as connection:
        connection.execute(sql)


def test_an_unchanged_warehouse_is_not_built_again_and_holds_what_a_rebuild_writes(built: Settings) -> None:
    run_audited(built, "second")  # an empty inbox: a new run recorded, no input of the models changed
    assert builds(built) == [(1, "first")]
    current = pipeline.rebuild_models(built, "third")
    assert (current.built_now, current.build_number, current.run_id) == (False, 1, "first")
    assert "モデルは最新" in pipeline.describe_build(current) and "run first" in pipeline.describe_build(current)

    skipped = marts(built)
    rebuilt = pipeline.rebuild_models(built, "forced", rebuild=True)
    assert rebuilt.built_now and builds(built) == [(1, "first"), (2, "forced")]
    assert marts(built) == skipped and len(skipped) >= 10
    # A full rebuild writes exactly what the skipped build kept: their fingerprints are equal too.
    fingerprints = query(built.warehouse_path, "select fingerprint from ops.model_builds order by build_number")
    assert fingerprints.fingerprint.nunique() == 1


def test_run_rebuild_builds_all_the_same(built: Settings) -> None:
    assert pipeline.rebuild_models(replace(built, rebuild_models=True), "again").built_now
    assert builds(built) == [(1, "first"), (2, "again")]


def _new_file(settings: Settings, tmp_path: Path) -> Settings:
    write_submission(settings.inbox_dir, TOKYO, 2017, 120, detailed_referrals(school=12))
    received = pipeline.collect_submissions(settings)
    taken = pipeline.load_submissions(pipeline.validate_submissions(received, settings), settings, "change")
    assert [item.outcome for item in taken] == ["accepted"]
    return settings


def _calendar(settings: Settings, tmp_path: Path) -> Settings:
    calendar = tmp_path / "calendar.csv"
    calendar.write_text("fiscal_year,deadline\n2016,2099-12-31\n", encoding="utf-8")
    pipeline.record_deadline_calendar(replace(settings, calendar_path=calendar), "change")
    return settings


def _registry(settings: Settings, tmp_path: Path) -> Settings:
    registry = tmp_path / "centers.csv"
    registry.write_text(
        bundled_registry().read_text(encoding="utf-8").replace(",北海道,", ",北海道（改称）,"), encoding="utf-8"
    )
    return replace(settings, registry_path=registry)


def _sql_file(settings: Settings, tmp_path: Path) -> Settings:
    sql_dir = tmp_path / "sql"
    shutil.copytree(settings.sql_dir, sql_dir)
    model = sql_dir / "marts" / "consultation_totals.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    return replace(settings, sql_dir=sql_dir)


def _dropped_mart(settings: Settings, tmp_path: Path) -> Settings:
    execute(settings, "drop table marts.consultation_totals")
    return settings


def _mart_edited_by_hand(settings: Settings, tmp_path: Path) -> Settings:
    execute(settings, "update marts.consultation_totals set consultations = consultations + 1")
    return settings


def _view_replaced_by_hand(settings: Settings, tmp_path: Path) -> Settings:
    execute(settings, "create or replace view staging.stg_centers as select * from reference.centers")
    return settings


def _comment_edited_by_hand(settings: Settings, tmp_path: Path) -> Settings:
    execute(settings, "comment on table marts.consultation_totals is 'edited'")
    return settings


def _source_corrected_by_hand(settings: Settings, tmp_path: Path) -> Settings:
    execute(settings, "update raw.submission_rows set count = count + 1 where measure = 'consultations'")
    return settings


@pytest.mark.parametrize(
    "change",
    [
        _new_file,
        _calendar,
        _registry,
        _sql_file,
        _dropped_mart,
        _mart_edited_by_hand,
        _view_replaced_by_hand,
        _comment_edited_by_hand,
        _source_corrected_by_hand,
    ],
    ids=lambda change: change.__name__.strip("_"),
)
def test_any_change_builds_again_and_the_models_match_a_full_rebuild(
    built: Settings, tmp_path: Path, change: Callable[[Settings, Path], Settings]
) -> None:
    changed = change(built, tmp_path)
    build = pipeline.rebuild_models(changed, "rebuilt")
    assert build.built_now and builds(built)[-1][1] == "rebuilt"
    assert "built" in pipeline.describe_build(build)
    after = marts(built)
    assert not pipeline.rebuild_models(changed, "again").built_now  # current from now on
    assert pipeline.rebuild_models(changed, "forced", rebuild=True).built_now
    assert marts(built) == after


def test_a_closed_year_builds_again_and_the_governance_commands_record_their_builds(built: Settings) -> None:
    decision = governance.close_year(built, 2016, "平成28年度の公表", quality_gate=False)
    recorded = builds(built)
    assert len(recorded) == 2 and recorded[-1][1] is not None and recorded[-1][1] != "first"
    assert decision.fiscal_year == 2016
    publications = query(built.warehouse_path, "select fiscal_year from ops.publications")
    assert publications.fiscal_year.tolist() == [2016]
    governance.list_revisions(built, quality_gate=False)  # changes nothing: the models are current
    assert builds(built) == recorded
    governance.reopen_year(built, 2016, "再集計", quality_gate=False)
    assert len(builds(built)) == 3


def test_a_build_that_fails_records_nothing(built: Settings, tmp_path: Path) -> None:
    renamed = _registry(built, tmp_path)
    broken = replace(renamed, sql_dir=sql_with_a_broken_mart(built.sql_dir, tmp_path))
    with pytest.raises(Exception, match="no_such_model"):
        pipeline.rebuild_models(broken, "broken")
    assert builds(built) == [(1, "first")]
    # The reference tables were replaced before the build failed: the models' inputs changed, so the
    # next run builds (with the bundled registry back in the reference tables), it does not skip.
    assert pipeline.rebuild_models(built, "next").built_now
    names = query(built.warehouse_path, "select center_name from reference.centers where center_code = '010006'")
    assert names.center_name.tolist() == ["北海道"]
    assert builds(built) == [(1, "first"), (2, "next")]


def test_the_run_summary_says_whether_the_models_were_built(built: Settings) -> None:
    run_id = "summary"
    build = pipeline.rebuild_models(built, run_id)
    summary = replace(pipeline.summarize(built, run_id, []), model_build=build)
    assert "集計表 / models: モデルは最新（入力に変更なし" in format_run_summary(summary)
