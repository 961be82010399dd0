"""What analysts get: a copy of the warehouse their DuckDB 1.x tools open, read-only commands that read
it by default, every mart as CSV and Parquet, and times in Japan time."""

import csv
import io
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from support import detailed_referrals, query, run_audited, summary_referrals, write_submission

from hikikomori.cli import main
from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.pipeline import operations
from hikikomori.report.export import csv_bytes, export_marts
from hikikomori.settings import Settings

TOKYO, OSAKA = "130001", "270008"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"  # duckdb-cli 1.5.6, a dev dependency


@pytest.fixture
def published(workspace: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """One audited run (the copy published); the command line pointed at its warehouse."""
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4, other=6))
    run_audited(workspace, run_id="first")
    monkeypatch.setenv("HIKIKOMORI_WAREHOUSE", str(workspace.warehouse_path))
    monkeypatch.setenv("HIKIKOMORI_AS_OF", "2026-11-26")
    return workspace


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DUCKDB_CLI), *arguments], capture_output=True, text=True, timeout=60, check=False)


def test_the_copy_opens_in_the_duckdb_cli_of_the_package_index(published: Settings) -> None:
    copy = str(published.analytics_path)
    shown = _cli("-readonly", "-csv", copy, "select consultations from marts.consultation_totals")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["consultations", "100"]
    comment = _cli(
        "-readonly", "-csv", copy, "select comment from duckdb_tables() where table_name = 'outcome_targets'"
    )
    assert "成果目標" in comment.stdout
    version = _cli("-version")
    assert version.stdout.startswith("v1."), version.stdout  # a DuckDB 1.x client


def test_a_new_warehouse_is_written_in_the_copys_format_and_copied_byte_for_byte(published: Settings) -> None:
    """The run creates the warehouse in the storage format of the analysts' copy, so publishing it is a
    file copy (``warehouse/copies.py``): the copy is the checkpointed warehouse, byte for byte."""
    assert published.analytics_path.read_bytes() == published.warehouse_path.read_bytes()
    assert _cli("-readonly", "-csv", str(published.warehouse_path), "select 1").returncode == 0


def test_a_warehouse_in_duckdbs_own_format_is_converted_for_the_copy(workspace: Settings) -> None:
    """A warehouse created in DuckDB 2.0's own format (before issue 15) keeps it, and its copy is written
    table by table in the older format: the 1.x CLI refuses the warehouse and opens the copy."""
    workspace.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(workspace.warehouse_path)).close()  # created without the storage setting
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4, other=6))
    run_audited(workspace)
    refused = _cli("-readonly", str(workspace.warehouse_path), "select 1")
    assert refused.returncode != 0 and "version number" in refused.stderr
    shown = _cli(
        "-readonly", "-csv", str(workspace.analytics_path), "select consultations from marts.consultation_totals"
    )
    assert shown.stdout.split() == ["consultations", "100"], shown.stderr


def test_the_copy_holds_every_table_view_constraint_and_comment(published: Settings) -> None:
    inventory = """
        select
            (select count(*) from duckdb_tables()) as tables,
            (select count(*) from duckdb_views() where not internal) as views,
            (select count(*) from duckdb_constraints()) as constraints,
            (select count(*) from duckdb_columns() where comment is not null) as column_comments
    """
    original = query(published.warehouse_path, inventory).iloc[0].tolist()
    assert query(published.analytics_path, inventory).iloc[0].tolist() == original
    assert original[0] > 10 and original[1] > 10 and original[3] > 100
    for table in ("consultation_totals", "referral_shares", "submission_status"):
        statement = f"select * from marts.{table} order by all"
        assert query(published.analytics_path, statement).equals(query(published.warehouse_path, statement))


def test_the_copy_is_read_only_and_nothing_is_left_beside_it(published: Settings) -> None:
    copy = published.analytics_path
    assert stat.S_IMODE(copy.stat().st_mode) == 0o444
    beside = sorted(path.name for path in copy.parent.iterdir() if path.name.startswith(f".{copy.name}"))
    assert beside == [] and not copy.with_name(f"{copy.name}.wal").exists()


def test_a_copy_that_fails_leaves_the_previous_one(published: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    before = published.analytics_path.read_bytes()

    def half_written(source: Path, target: Path, storage_version: str) -> None:
        target.write_bytes(b"half a copy")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(operations, "write_portable_copy", half_written)
    with pytest.raises(OSError, match="No space left"):
        operations.publish_analytics_copy(published)
    assert published.analytics_path.read_bytes() == before
    assert [path.name for path in published.analytics_path.parent.iterdir() if path.name.startswith(".")] == []


PYTHON_ANALYST = """
import sys, duckdb
copy = sys.argv[1]
count = "select count(*) from raw.received_files"
first = duckdb.connect(copy, read_only=True)
print(first.execute(count).fetchall()[0][0], flush=True)
sys.stdin.readline()  # the test publishes a newer copy meanwhile
second = duckdb.connect(copy, read_only=True)  # a new connection, while `first` is still open
print(second.execute(count).fetchall()[0][0], flush=True)
fresh = duckdb.connect()  # the recipe without closing: attach the file to a private database
fresh.execute("attach ? as copy (read_only)", [copy])
print(fresh.execute(count.replace("raw.", "copy.raw.")).fetchall()[0][0], flush=True)
first.close()
second.close()
third = duckdb.connect(copy, read_only=True)  # the recipe: close every connection, then connect again
print(third.execute(count).fetchall()[0][0], flush=True)
"""


@pytest.mark.integration
def test_a_python_process_sees_a_newer_run_only_after_closing_every_connection(published: Settings) -> None:
    analyst = subprocess.Popen(
        [sys.executable, "-c", PYTHON_ANALYST, str(published.analytics_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert analyst.stdout is not None and analyst.stdin is not None
    try:
        assert analyst.stdout.readline().strip() == "1"
        write_submission(published.inbox_dir, OSAKA, 2015, 50, summary_referrals())
        run_audited(published, run_id="second")
        analyst.stdin.write("published\n")
        analyst.stdin.flush()
        seen = [analyst.stdout.readline().strip() for _ in range(3)]
    finally:
        analyst.communicate(timeout=60)
    # A second connect() in a process still holding the first reuses the database it opened: the old run.
    assert seen == ["1", "2", "2"]


HOLD_THE_WAREHOUSE = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])  # read-write, as a run holds it
print("holding", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def run_in_progress(published: Settings) -> Iterator[Settings]:
    """Another process holds the warehouse for writing, as a run does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WAREHOUSE, str(published.warehouse_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    try:
        yield published
    finally:
        holder.communicate("done\n", timeout=60)


@pytest.mark.integration
def test_read_only_commands_read_the_copy_while_a_run_writes_the_warehouse(
    run_in_progress: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select consultations from marts.consultation_totals"]) == 0
    assert "100" in capsys.readouterr().out

    submission = write_submission(tmp_path / "check", TOKYO, 2016, 900, detailed_referrals())
    assert main(["validate", str(submission), "--warehouse"]) == 0
    assert "前年度の 100 件から" in capsys.readouterr().out  # compared with FY2015 as the copy has it

    assert main(["export", "--out", str(tmp_path / "export")]) == 0
    assert (tmp_path / "export" / "consultation_totals.csv").is_file()

    assert main(["report", "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "national_report_2015.html").is_file()


def test_reading_the_warehouse_a_run_holds_names_the_copy(
    run_in_progress: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select 1", "--warehouse", str(run_in_progress.warehouse_path)]) == 1
    error = capsys.readouterr().err
    assert "lock" in error and str(run_in_progress.analytics_path) in error


def test_without_a_copy_the_commands_say_how_one_is_made(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HIKIKOMORI_WAREHOUSE", str(workspace.warehouse_path))
    for command in (["sql", "select 1"], ["report"], ["export"], ["docs", "--out", str(workspace.inbox_dir / "d.md")]):
        assert main(command) == 1
        assert "hikikomori run" in capsys.readouterr().err


def test_a_setting_points_the_commands_at_another_copy(
    published: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "shared" / "analytics.duckdb"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(published.analytics_path.read_bytes())
    published.analytics_path.unlink()
    monkeypatch.setenv("HIKIKOMORI_ANALYTICS_WAREHOUSE", str(elsewhere))
    assert main(["sql", "select count(*) as files from raw.received_files"]) == 0
    assert "1" in capsys.readouterr().out


def test_validate_refuses_a_submission_given_as_the_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_submission(tmp_path, TOKYO, 2015, 100, summary_referrals())
    second = write_submission(tmp_path, OSAKA, 2015, 50, summary_referrals())
    assert main(["validate", "--warehouse", str(first), str(second)]) == 1
    assert "--warehouse takes a DuckDB file" in capsys.readouterr().err


def test_times_read_through_the_project_are_japan_time(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "select started_at from ops.pipeline_runs"]) == 0
    assert "+09" in capsys.readouterr().out
    (started,) = query(published.analytics_path, "select started_at from ops.pipeline_runs").started_at
    assert started.utcoffset().total_seconds() == 9 * 3600


def test_export_writes_every_mart_as_csv_for_excel_and_parquet(published: Settings, tmp_path: Path) -> None:
    exported = {mart.name: mart for mart in export_marts(published.analytics_path, tmp_path)}
    marts = query(published.analytics_path, "select table_name from duckdb_tables() where schema_name = 'marts'")
    assert set(exported) == set(marts.table_name)

    status = exported["submission_status"]
    raw = status.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    tokyo = next(row for row in rows if row["center_code"] == TOKYO)
    assert tokyo["center_name"] == "東京都" and tokyo["status"] == "accepted"
    received = datetime.fromisoformat(tokyo["received_at"])
    assert tokyo["received_at"].endswith("+09:00")
    stored = query(
        published.analytics_path, "select received_at from marts.submission_status where center_code = ?", [TOKYO]
    )
    assert received == stored.received_at.item()

    totals = list(csv.DictReader(io.StringIO(exported["consultation_totals"].csv.read_text(encoding="utf-8-sig"))))
    assert [(row["fiscal_year"], row["consultations"]) for row in totals] == [("2015", "100")]

    for mart in exported.values():
        from_parquet = duckdb.connect().execute("select count(*) from read_parquet(?)", [str(mart.parquet)]).fetchall()
        assert from_parquet[0][0] == mart.rows == len(mart.csv.read_text(encoding="utf-8-sig").splitlines()) - 1


def test_exported_text_never_runs_as_a_formula() -> None:
    share = 7520 / 42743 * 100
    text = csv_bytes(["name", "count", "share"], [('=HYPERLINK("x")', 9223372036854775807, share)])
    (row,) = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))[1:]
    assert row[:2] == ['\'=HYPERLINK("x")', "9223372036854775807"]  # text escaped, integers exact
    assert float(row[2]) == share  # the float reads back exactly


def test_an_exported_time_keeps_its_instant() -> None:
    text = csv_bytes(["received_at"], [(datetime(2017, 6, 30, 6, 0, tzinfo=UTC),)]).decode("utf-8-sig")
    assert text.splitlines()[1] == "2017-06-30T15:00:00+09:00"


def test_the_run_summary_says_when_the_run_started_in_japan_time(published: Settings) -> None:
    from hikikomori.pipeline.run_summary import format_run_summary
    from hikikomori.pipeline.steps import summarize

    summary = summarize(published, "first", [])
    (started,) = query(published.warehouse_path, "select started_at from ops.pipeline_runs").started_at
    expected = started.to_pydatetime().astimezone(JAPAN)
    assert f"開始 / started {expected:%Y-%m-%d %H:%M:%S} JST" in format_run_summary(summary)


def test_the_report_says_in_japan_time_when_its_run_ended(published: Settings, tmp_path: Path) -> None:
    from hikikomori.report.national import build_report

    files = build_report(published.analytics_path, tmp_path)
    (ended,) = query(published.analytics_path, "select ended_at from ops.pipeline_runs").ended_at
    finished = ended.to_pydatetime().astimezone(JAPAN)
    page = files.html.read_text(encoding="utf-8")
    assert f"実行 run first（{finished:%Y-%m-%d %H:%M} JST 完了 / completed）" in page
    assert "hikikomori_analytics.duckdb" in page


def test_a_storage_version_setting_that_is_no_version_is_refused_before_a_run() -> None:
    from hikikomori.settings import load_settings

    assert load_settings(environ={}).analytics_storage_version == "v1.1.0"
    chosen = load_settings(environ={"HIKIKOMORI_ANALYTICS_STORAGE_VERSION": "v1.4.0"})
    assert chosen.analytics_storage_version == "v1.4.0"
    with pytest.raises(ValueError, match=r"such as v1\.1\.0"):
        load_settings(environ={"HIKIKOMORI_ANALYTICS_STORAGE_VERSION": "1.1"})
