"""The quality gate of a run that changed nothing its checks read takes over the last gate's results.

``hikikomori.warehouse.gate_runs``: the fingerprint covers the checks (the SQL project), the code
that counts them, every source table and the models as they stand. Each test changes one of them
and requires the checks to be counted again; the first shows what is taken over, and from whom.
"""

import dataclasses
import shutil
from collections.abc import Callable, Sequence

import duckdb
import pytest
from support import query, run_steps, summary_referrals, write_submission

from hikikomori.pipeline import quality
from hikikomori.pipeline.quality import CheckResult, QualityCheck, QualityGateFailed, quality_checks
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.pipeline.steps import check_quality, summarize
from hikikomori.resources import package_path
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import Connection
from hikikomori.warehouse.gate_runs import SOURCE_SCHEMAS
from hikikomori.warehouse.models import load_project

TOKYO, OSAKA, HOKKAIDO = "130001", "270008", "010006"


@pytest.fixture
def gated(workspace: Settings) -> Settings:
    """Two centers' FY2015 taken in and one file rejected, built and checked by the run ``first``."""
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 200, summary_referrals(npo=3))
    write_submission(workspace.inbox_dir, HOKKAIDO, 2015, -5, summary_referrals())  # rejected
    run_steps(workspace, "first", quality_gate=True)
    return workspace


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many checks each gate counted itself (``check_warehouse`` calls), as the gates ran."""
    calls: list[int] = []
    real = quality.check_warehouse

    def counting(connection: Connection, checks: Sequence[QualityCheck]) -> list[CheckResult]:
        calls.append(len(checks))
        return real(connection, checks)

    monkeypatch.setattr(quality, "check_warehouse", counting)
    return calls


def gates(settings: Settings) -> list[tuple[str, str]]:
    """(run, whose evaluation its results are) for every gate, in the order they ran."""
    rows = query(settings.warehouse_path, "select run_id, evaluated_in from quality.gate_runs order by checked_at")
    return [(str(row.run_id), str(row.evaluated_in)) for row in rows.itertuples()]


def results(settings: Settings, run_id: str) -> list[list[object]]:
    """A run's stored results, every column but the run, by check."""
    return query(
        settings.warehouse_path,
        "select * exclude (run_id) from quality.expectation_results where run_id = ? order by check_name",
        [run_id],
    ).values.tolist()


def execute(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute(sql)


def test_a_gate_over_an_unchanged_warehouse_takes_over_the_last_evaluation(gated: Settings, counted: list[int]) -> None:
    run_steps(gated, "second")  # an empty inbox: nothing loaded, the models current

    taken = check_quality(gated, "second")
    check_quality(gated, "third")

    checks = quality_checks(gated.sql_dir)
    assert counted == []  # neither gate counted a check
    assert [result.check_name for result in taken] == [check.name for check in checks]  # in the checks' order
    assert {result.outcome for result in taken} == {"pass"}
    assert gates(gated) == [("first", "first"), ("second", "first"), ("third", "first")]
    # The same rows, including when they were counted: by the first run's gate.
    assert results(gated, "second") == results(gated, "first") == results(gated, "third")
    assert len(results(gated, "first")) == len(checks)


def _a_file_taken_in(settings: Settings) -> Settings:
    write_submission(settings.inbox_dir, HOKKAIDO, 2015, 50, summary_referrals())
    return settings


def _a_source_only_views_read_changed_by_hand(settings: Settings) -> Settings:
    # raw.validation_issues is read by views only: the models are current all the same.
    execute(settings, "delete from raw.validation_issues where rowid = (select min(rowid) from raw.validation_issues)")
    return settings


def _a_checked_table_changed_by_hand(settings: Settings) -> Settings:
    # After the step that would rebuild it: the gate sees the table as it was changed.
    execute(settings, "update marts.consultation_totals set consultations = consultations + 1")
    return settings


def _the_sql_project_changed(settings: Settings) -> Settings:
    sql_dir = settings.state_dir.parent / "sql"
    shutil.copytree(package_path("sql"), sql_dir)
    docs = sql_dir / "marts" / "consultation_totals.yml"
    docs.write_text(docs.read_text(encoding="utf-8").replace("ja: ", "ja: （改）", 1), encoding="utf-8")
    return dataclasses.replace(settings, sql_dir=sql_dir)


@pytest.mark.parametrize(
    "change",
    [
        _a_file_taken_in,
        _a_source_only_views_read_changed_by_hand,
        _the_sql_project_changed,
        _a_checked_table_changed_by_hand,
    ],
)
def test_any_change_to_what_the_checks_read_counts_them_again(
    gated: Settings, counted: list[int], change: Callable[[Settings], Settings]
) -> None:
    if change is _a_checked_table_changed_by_hand:
        run_steps(gated, "second")
        settings = change(gated)
    else:
        settings = change(gated)
        run_steps(settings, "second")

    lenient = dataclasses.replace(settings, quality_fails_run=False)
    check_quality(lenient, "second")

    assert counted == [len(quality_checks(settings.sql_dir))]
    assert gates(gated)[-1] == ("second", "second")


def test_a_gate_that_found_a_failure_is_never_taken_over(gated: Settings, counted: list[int]) -> None:
    execute(gated, "update marts.consultation_totals set consultations = -1")
    with pytest.raises(QualityGateFailed, match="consultations_non_negative"):
        check_quality(gated, "second")

    with pytest.raises(QualityGateFailed, match="consultations_non_negative"):
        check_quality(gated, "third")  # nothing changed since: counted again all the same

    assert len(counted) == 2
    assert gates(gated)[-2:] == [("second", "second"), ("third", "third")]


def test_the_run_summary_says_whose_evaluation_the_gate_took_over(gated: Settings) -> None:
    run_steps(gated, "second")
    summary = summarize(gated, "second", [], check_quality(gated, "second"))

    text = format_run_summary(summary)

    assert summary.gate_evaluated_in == "first"
    assert "実行 first の評価を引き継ぎ" in text
    assert "the results of run first, taken over" in text
    counted_now = summarize(gated, "first", [], [])
    assert counted_now.gate_evaluated_in == "first"
    assert "引き継ぎ" not in format_run_summary(counted_now)  # a gate's own evaluation says nothing more


def test_every_source_a_model_reads_is_in_a_schema_the_fingerprint_covers() -> None:
    project = load_project(package_path("sql"))
    models = {model.qualified_name for model in project.models}
    read = {relation for model in project.models for relation in model.depends_on} - models

    assert read  # the staging models read sources
    assert {relation.split(".")[0] for relation in read} <= set(SOURCE_SCHEMAS) == {"raw", "reference"}
