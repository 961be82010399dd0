"""The ``hikikomori`` command as users run it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import AS_OF, EXAMPLE_SUBMISSIONS, query, summary_referrals, write_submission

from hikikomori.cli import main

# No test writes to the bundled examples; the CLI's environment pins the run date.
ENVIRONMENT = {**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat()}


def test_validate_accepts_a_valid_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIKIKOMORI_AS_OF", AS_OF.isoformat())
    path = write_submission(tmp_path, "130001", 2015, 100, summary_referrals())
    before = sorted(tmp_path.rglob("*"))

    assert main(["validate", str(path)]) == 0

    assert "OK" in capsys.readouterr().out
    assert sorted(tmp_path.rglob("*")) == before


def test_validate_reports_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIKIKOMORI_AS_OF", AS_OF.isoformat())
    path = write_submission(tmp_path, "130001", 2015, 100, summary_referrals())
    path.write_text(
        path.read_text(encoding="utf-8").replace(",100\n", ",abc\n").replace("npo,0", "npo,-1"),
        encoding="utf-8",
    )

    assert main(["validate", str(path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "130001_2015.csv: NG 2 件の問題があります（このままでは受け付けられません）"
    assert out[2].split()[:5] == ["2", "E2", "count", "abc", "件数が数値ではありません"]
    assert "件数にマイナスの値は使えません [count_negative]" in out[3]


def test_validate_does_not_import_prefect(tmp_path: Path) -> None:
    path = write_submission(tmp_path, "130001", 2015, 100, summary_referrals())
    probe = (
        "import sys; from hikikomori.cli import main; code = main(['validate', sys.argv[1]]); "
        "assert 'prefect' not in sys.modules and 'great_expectations' not in sys.modules; sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(path)], env=ENVIRONMENT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.integration
def test_run_executes_the_prefect_flow_on_the_examples(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "state" / "hikikomori.duckdb"
    shutil.copytree(EXAMPLE_SUBMISSIONS, inbox)
    calendar = tmp_path / "calendar.csv"
    calendar.write_text("fiscal_year,deadline\n2018,2099-12-31\n", encoding="utf-8")
    command = [
        str(Path(sys.executable).with_name("hikikomori")),
        "run",
        "--inbox",
        str(inbox),
        "--warehouse",
        str(warehouse),
    ]

    result = subprocess.run(
        [*command, "--calendar", str(calendar)], env=ENVIRONMENT, capture_output=True, text=True, timeout=600
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "成果目標 / outcome targets" in result.stdout
    assert "差戻し rejected 1" in result.stdout
    assert not any(path.is_file() for path in inbox.rglob("*"))
    targets = query(
        warehouse,
        "select fiscal_year, status from marts.outcome_targets "
        "where target = 'referrals_per_center' and fiscal_year <= 2016 order by 1",
    )
    assert targets.status.tolist() == ["no_baseline", "pass", "pass", "fail", "fail"]
    runs = query(warehouse, "select distinct run_id from raw.received_files")
    assert len(runs) == 1 and len(runs.run_id.item()) == 36  # the Prefect flow run id
    # The calendar moved FY2018's deadline: every FY2018 file taken in today is on time, other years late.
    timely = query(
        warehouse, "select fiscal_year, centers_on_time from marts.reporting_rates where centers_on_time > 0"
    )
    assert timely.values.tolist() == [[2018, 67]]

    # A second run over the same files recognises every one of them.
    shutil.copytree(EXAMPLE_SUBMISSIONS, inbox, dirs_exist_ok=True)
    again = subprocess.run(command, env=ENVIRONMENT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "(取込 accepted 0, 差戻し rejected 1, 重複 duplicate 392)" in again.stdout
    versions = query(warehouse, "select max(version) as latest from raw.submissions")
    assert versions.latest.item() == 1
    assert "集計表 / models: モデルを構築しました" in result.stdout  # the first run built the models

    # An empty inbox changes nothing the models read: they are current; --rebuild builds them all the same.
    empty = subprocess.run(command, env=ENVIRONMENT, capture_output=True, text=True, timeout=600)
    assert empty.returncode == 0, empty.stderr[-3000:]
    assert "集計表 / models: モデルは最新（入力に変更なし" in empty.stdout
    forced = subprocess.run([*command, "--rebuild"], env=ENVIRONMENT, capture_output=True, text=True, timeout=600)
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert "集計表 / models: モデルを構築しました" in forced.stdout
    assert len(query(warehouse, "select * from ops.model_builds")) == 3  # the first, second and forced runs


@pytest.mark.integration
def test_run_exits_non_zero_with_one_line_when_the_pipeline_fails(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("not,a,registry\n", encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    write_submission(tmp_path / "inbox", "130001", 2015, 1, summary_referrals())
    command = [
        str(Path(sys.executable).with_name("hikikomori")),
        "run",
        "--inbox",
        str(tmp_path / "inbox"),
        "--warehouse",
        str(tmp_path / "state" / "h.duckdb"),
        "--registry",
        str(registry),
    ]

    result = subprocess.run(command, env=ENVIRONMENT, capture_output=True, text=True, timeout=600)

    assert result.returncode == 2  # the pipeline itself failed
    assert "hikikomori run failed: ReferenceDataError" in result.stderr
    assert (tmp_path / "inbox" / "130001_2015.csv").exists()  # nothing taken from the inbox
