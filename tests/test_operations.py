"""Runs in production: the audit in ops.*, one run at a time, analysts' copy, exact re-runs and back-fills."""

import gc
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from support import (
    AS_OF,
    REPO_ROOT,
    query,
    run_audited,
    run_steps,
    sql_with_a_broken_mart,
    stored_submissions,
    summary_referrals,
    write_submission,
)

from hikikomori.flows.production import report_fiscal_year
from hikikomori.pipeline import intake, memory, operations
from hikikomori.pipeline import steps as pipeline
from hikikomori.settings import Settings, load_settings
from hikikomori.warehouse.connection import checkpoint_less_often, connect_in_memory

TOKYO, OSAKA, HOKKAIDO = "130001", "270008", "010006"
TESTS_DIR = Path(__file__).parent


def pipeline_runs(settings: Settings) -> pd.DataFrame:
    return query(settings.warehouse_path, "select * from ops.pipeline_runs order by started_at")


def marts_without_arrival_times(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart's rows in a fixed order; received_at and first_submitted_at say when a file came, not what it said."""
    tables = query(warehouse, "select table_name from information_schema.tables where table_schema = 'marts'")
    marts = {}
    for table in sorted(tables.table_name):
        frame = query(warehouse, f"select * from marts.{table}").drop(
            columns=["received_at", "first_submitted_at"], errors="ignore"
        )
        rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        marts[table] = sorted(rows, key=repr)
    return marts


def test_a_run_is_recorded_with_its_counts(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    broken = write_submission(workspace.inbox_dir, HOKKAIDO, 2014, 5, summary_referrals())
    broken.write_text(broken.read_text(encoding="utf-8").replace(",5\n", ",abc\n"), encoding="utf-8")

    run_audited(workspace, run_id="first")
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))  # the same file again
    run_audited(workspace, run_id="second")

    runs = pipeline_runs(workspace)
    assert runs.run_id.tolist() == ["first", "second"]
    assert runs.status.tolist() == ["completed", "completed"]
    assert runs[["files_seen", "files_accepted", "files_rejected", "files_duplicate"]].values.tolist() == [
        [3, 2, 1, 0],
        [1, 0, 0, 1],
    ]
    assert [list(years) for years in runs.fiscal_years_rebuilt] == [[2015], []]
    assert runs.ended_at.notna().all() and runs.error.isna().all()


def test_every_problem_is_listed_by_file_row_and_rule(workspace: Settings) -> None:
    broken = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    broken.write_text(
        broken.read_text(encoding="utf-8").replace(",100\n", ",abc\n").replace("npo,0", "npo,-1"), encoding="utf-8"
    )

    run_audited(workspace, run_id="run-1")

    issues = query(
        workspace.warehouse_path,
        "select run_id, file_name, outcome, row_number, column_name, rule from ops.validation_issues order by 4",
    )
    assert issues.values.tolist() == [
        ["run-1", f"{TOKYO}_2015.csv", "rejected", 2, "count", "count_not_a_number"],
        ["run-1", f"{TOKYO}_2015.csv", "rejected", 6, "count", "count_negative"],
    ]


def test_a_failed_run_is_recorded_as_failed_and_not_published(workspace: Settings, tmp_path: Path) -> None:
    settings = replace(workspace, sql_dir=sql_with_a_broken_mart(workspace.sql_dir, tmp_path))
    write_submission(settings.inbox_dir, TOKYO, 2015, 100, summary_referrals())

    with pytest.raises(Exception, match="no_such_model"):
        run_audited(settings, run_id="doomed")

    (run,) = pipeline_runs(settings).itertuples()
    assert (run.status, run.files_seen, run.files_accepted) == ("failed", 1, 1)
    assert run.error.startswith("CatalogException: ") and "\n" not in run.error
    assert not settings.analytics_path.exists()


def test_a_retried_load_does_not_record_files_twice(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    pipeline.prepare_warehouse(workspace)
    validated = pipeline.validate_submissions(pipeline.collect_submissions(workspace), workspace)
    first = pipeline.load_submissions(validated, workspace, "run-1")

    # The step runs again with the same files, as a Prefect task retry would.
    again = pipeline.load_submissions(validated, workspace, "run-1")

    assert again == first
    received = query(workspace.warehouse_path, "select count(*) as files from raw.received_files")
    assert received.files.item() == 2


def test_a_run_waits_for_the_lock_then_gives_up_leaving_the_inbox_untouched(workspace: Settings) -> None:
    inbox_file = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    impatient = replace(workspace, run_lock_timeout_seconds=0.5)
    waits: list[str] = []

    with (
        operations.run_lock(workspace, on_wait=waits.append),  # another run holds the warehouse
        pytest.raises(operations.RunLockTimeout, match="this run took no files"),
        operations.audited_run(impatient, "second", "test", on_wait=waits.append),
    ):
        pytest.fail("the run must not start without the lock")

    assert len(waits) == 1 and "waiting up to 0.5 s" in waits[0]
    assert inbox_file.exists()
    assert not workspace.warehouse_path.exists()


ANALYST = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: connection.execute("select count(*) from raw.received_files").fetchall()[0][0]
print(count(), flush=True)
sys.stdin.readline()  # hold the copy open until the test has run the pipeline again
print(count(), flush=True)
"""


@pytest.mark.integration
def test_an_analyst_holding_the_copy_open_does_not_stop_a_run(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    run_audited(workspace, run_id="first")
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(workspace.analytics_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert analyst.stdout is not None and analyst.stdin is not None
        assert analyst.stdout.readline().strip() == "1"  # connected, holding the copy open

        write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
        run_audited(workspace, run_id="second")

        analyst.stdin.write("done\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "1"  # the open connection still reads its copy
    finally:
        analyst.communicate(timeout=60)
    assert query(workspace.analytics_path, "select count(*) as files from raw.received_files").files.item() == 2
    assert pipeline_runs(workspace).status.tolist() == ["completed", "completed"]


RUN_IN_ANOTHER_PROCESS = """
import sys
from support import make_settings, run_audited
from pathlib import Path
run_audited(make_settings(Path(sys.argv[1])), run_id=sys.argv[2])
"""


@pytest.mark.integration
def test_two_runs_at_once_lose_and_double_nothing(workspace: Settings) -> None:
    root = workspace.warehouse_path.parent.parent
    files = [
        write_submission(workspace.inbox_dir, center, year, 10, summary_referrals(npo=1))
        for center in (TOKYO, OSAKA, HOKKAIDO)
        for year in (2014, 2015)
    ]
    environment = {**os.environ, "PYTHONPATH": str(TESTS_DIR), "HIKIKOMORI_AS_OF": AS_OF.isoformat()}

    # Both start while the lock is taken, so they are certainly running at the same time.
    with operations.run_lock(workspace, on_wait=print):
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", RUN_IN_ANOTHER_PROCESS, str(root), run_id],
                env=environment,
                cwd=REPO_ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for run_id in ("run-a", "run-b")
        ]
        for run in runs:
            assert run.stderr is not None
            assert "waiting up to" in run.stderr.readline()
    for run in runs:
        assert run.wait(timeout=300) == 0, run.stderr.read() if run.stderr else ""

    assert not any(path.exists() for path in files)
    received = query(workspace.warehouse_path, "select file_name from raw.received_files")
    assert sorted(received.file_name) == sorted(path.name for path in files)  # each exactly once
    assert len(stored_submissions(workspace.archive_dir)) == len(files)
    runs_recorded = pipeline_runs(workspace)
    assert runs_recorded.status.tolist() == ["completed", "completed"]
    assert runs_recorded.files_seen.sum() == runs_recorded.files_accepted.sum() == len(files)
    totals = query(workspace.warehouse_path, "select consultations from marts.consultation_totals order by 1")
    assert totals.consultations.tolist() == [30, 30]


def arrivals() -> list[tuple[str, int, int]]:
    return [(HOKKAIDO, 2014, 100), (OSAKA, 2014, 30), (HOKKAIDO, 2015, 120), (OSAKA, 2015, 40)]


def test_the_same_files_give_the_same_marts_whatever_the_order(tmp_path: Path) -> None:
    def workspace_at(name: str) -> Settings:
        return load_settings(
            inbox=tmp_path / name / "inbox",
            warehouse=tmp_path / name / "warehouse" / "h.duckdb",
            environ={"HIKIKOMORI_AS_OF": AS_OF.isoformat()},
        )

    all_at_once, one_by_one = workspace_at("all"), workspace_at("one")
    for center, year, consultations in arrivals():
        write_submission(all_at_once.inbox_dir, center, year, consultations, summary_referrals(npo=year - 2013))
    run_steps(all_at_once)
    # Reversed, one file per run, then everything again (all duplicates).
    for center, year, consultations in [*reversed(arrivals()), *arrivals()]:
        write_submission(one_by_one.inbox_dir, center, year, consultations, summary_referrals(npo=year - 2013))
        run_steps(one_by_one, run_id=f"{center}-{year}")

    assert marts_without_arrival_times(one_by_one.warehouse_path) == marts_without_arrival_times(
        all_at_once.warehouse_path
    )


def test_a_backfill_rebuilds_its_years_and_leaves_the_others_alone(workspace: Settings) -> None:
    for center, year, consultations in [*arrivals(), (HOKKAIDO, 2013, 80)]:
        write_submission(workspace.inbox_dir, center, year, consultations, summary_referrals())
    run_audited(workspace, run_id="yearly")
    before = marts_without_arrival_times(workspace.warehouse_path)
    correction_2014 = write_submission(workspace.inbox_dir, HOKKAIDO, 2014, 999, summary_referrals())
    correction_2013 = write_submission(workspace.inbox_dir, HOKKAIDO, 2013, 90, summary_referrals())

    run_audited(replace(workspace, fiscal_years=(2013,)), run_id="backfill")

    after = marts_without_arrival_times(workspace.warehouse_path)
    totals = query(workspace.warehouse_path, "select fiscal_year, consultations from marts.consultation_totals")
    assert dict(zip(totals.fiscal_year, totals.consultations, strict=True)) == {2013: 90, 2014: 130, 2015: 160}
    assert correction_2014.exists() and not correction_2013.exists()  # outside the back-fill: still waiting
    assert other_years(after) == other_years(before)
    (backfill,) = pipeline_runs(workspace).query("run_id == 'backfill'").itertuples()
    assert (list(backfill.fiscal_years_requested), list(backfill.fiscal_years_rebuilt)) == ([2013], [2013])


def other_years(marts: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Rows (fiscal_year first) not about FY2013, nor FY2014's target verdict, which compares with FY2013."""
    return {
        table: [row for row in rows if row[0] != 2013 and not (table == "outcome_targets" and row[0] == 2014)]
        for table, rows in marts.items()
    }


@pytest.mark.parametrize(
    ("fiscal_year", "as_of", "expected"),
    [
        (None, date(2026, 7, 1), 2025),  # the scheduled run on 1 July reports the fiscal year ended 31 March
        (None, date(2027, 3, 31), 2025),  # FY2026 has not ended yet on its last day
        (2016, date(2026, 7, 1), 2016),  # a year asked for explicitly
    ],
)
def test_annual_report_defaults_to_the_fiscal_year_just_reported(
    fiscal_year: int | None, as_of: date, expected: int
) -> None:
    assert report_fiscal_year(fiscal_year, as_of) == expected


def test_a_load_in_batches_reports_each_batch_and_keeps_arrival_order(workspace: Settings) -> None:
    """Batches overlap (one recorded while the next is stored): outcomes still come in arrival order, a
    correction in a later batch is the next version, and progress is reported once per batch."""
    sent = [
        (TOKYO, 2015, 100, False),
        (OSAKA, 2014, 50, False),
        (OSAKA, 2015, 55, False),
        (HOKKAIDO, 2014, 30, False),
        (HOKKAIDO, 2015, 33, False),
        (TOKYO, 2014, 90, False),
        (TOKYO, 2015, 120, True),  # the correction, in the center's folder, arrives last
    ]
    for second, (center, year, consultations, in_folder) in enumerate(sent, start=1):
        path = write_submission(
            workspace.inbox_dir, center, year, consultations, summary_referrals(), in_center_folder=in_folder
        )
        os.utime(path, (1_700_000_000 + second, 1_700_000_000 + second))
    pipeline.prepare_warehouse(workspace)
    validated = pipeline.validate_submissions(pipeline.collect_submissions(workspace), workspace)
    progress: list[tuple[int, int]] = []

    with operations.writer(workspace) as connection:
        outcomes = intake.take_in(
            validated, workspace, connection, "batched", batch_size=3, on_progress=_append(progress)
        )

    assert progress == [(3, 7), (6, 7), (7, 7)]
    assert [(item.center_code, item.fiscal_year) for item in outcomes] == [(c, y) for c, y, _, _ in sent]
    assert all(item.outcome == "accepted" for item in outcomes)
    versions = query(
        workspace.warehouse_path,
        "select version, rows.count from raw.submissions join raw.submission_rows as rows using (receipt_id) "
        f"where center_code = '{TOKYO}' and fiscal_year = 2015 and measure = 'consultations' order by version",
    )
    assert versions.values.tolist() == [[1, 100], [2, 120]]
    assert not any(workspace.inbox_dir.rglob("*.csv"))  # each batch left the inbox once it was recorded


def _append(calls: list[tuple[int, int]]) -> Callable[[int, int], None]:
    return lambda done, total: calls.append((done, total))


def test_what_a_run_holds_is_frozen_only_while_it_runs() -> None:
    """Objects alive at the start, and after each step that asks, are kept from the cycle collector while
    the run lasts, and given back when it ends, however it ends; the collector's thresholds likewise."""
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    with pytest.raises(RuntimeError, match="the run failed"), memory.run_objects_frozen() as freeze:
        at_start = gc.get_freeze_count()
        assert at_start > 0
        # The youngest generation is looked at less often while the run lasts; the older ones as before.
        assert gc.get_threshold() == (memory.RUN_YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
        kept = [[index] for index in range(1000)]  # a step's result: containers the collector tracks
        freeze()
        assert gc.get_freeze_count() >= at_start + len(kept)
        raise RuntimeError("the run failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


def test_the_collector_is_paused_inside_and_as_it_was_after() -> None:
    """Imports are made with the cycle collector off (pipeline/memory.py); after, it is as it was, however
    the block ends."""
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="an import failed"), memory.collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("an import failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with memory.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the caller had it off: left off
    finally:
        gc.enable()


def test_a_load_checkpoints_once_when_it_closes(workspace: Settings) -> None:
    """A writer's connection checkpoints only past ``run_checkpoint_mib`` of log, and once at its
    close: the warehouse file then holds everything, with no write-ahead log left beside it."""
    with connect_in_memory() as connection:
        checkpoint_less_often(connection, workspace.run_checkpoint_mib)
        (setting,) = connection.execute("select current_setting('checkpoint_threshold')").fetchone() or ("",)
    assert setting == f"{workspace.run_checkpoint_mib:.1f} MiB"
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    run_steps(workspace)
    assert not Path(f"{workspace.warehouse_path}.wal").exists()
    assert query(workspace.warehouse_path, "select count(*) as files from raw.submissions").files.item() == 1


def test_a_runs_writers_share_one_connection_and_a_failed_step_leaves_it_closed(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside ``holding_warehouse`` every writer borrows one connection; one that raised is closed, and the
    next writer (the next step, or the step's retry) opens a new one. Outside a run each writer has its own."""
    opened: list[object] = []
    real = operations.connect_when_free

    def counting(*arguments: Any, **keywords: Any) -> Any:
        connection = real(*arguments, **keywords)
        opened.append(connection)
        return connection

    monkeypatch.setattr(operations, "connect_when_free", counting)
    with operations.holding_warehouse(workspace, print):
        with operations.writer(workspace) as load, operations.writer(workspace) as build:
            assert build is load
        with pytest.raises(RuntimeError, match="a step failed"), operations.writer(workspace):
            raise RuntimeError("a step failed")
        with pytest.raises(duckdb.ConnectionException):
            load.execute("select 1")  # closed with the failure
        with operations.writer(workspace) as retried:
            assert retried.execute("select count(*) from ops.schema_migrations").fetchone() == (11,)
    assert opened == [load, retried]
    with pytest.raises(duckdb.ConnectionException):
        retried.execute("select 1")  # closed when the run let the warehouse go

    with operations.writer(workspace) as own:
        own.execute("select 1")
    with pytest.raises(duckdb.ConnectionException):
        own.execute("select 1")
    assert len(opened) == 3
