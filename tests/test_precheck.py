"""``hikikomori validate``: the table and JSON a center reads, and warnings that never reject."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_validation import DETAILED_COUNTS, altered, submission_rows, write_submission
from support import AS_OF, REPO_ROOT, make_settings, run_steps

from hikikomori.cli import main
from hikikomori.pipeline.plausibility import PlausibilityWarning, plausibility_warnings
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.pipeline.steps import summarize
from hikikomori.schemas.center_guide import with_current_rules
from hikikomori.schemas.rules import RULES

BAD = {2: {"count": "abc"}, 5: {"count": "-1"}}  # FY2016 file: consultations and one referral


@pytest.fixture(autouse=True)
def pinned_run_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIKIKOMORI_AS_OF", AS_OF.isoformat())


def test_table_in_japanese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_submission(tmp_path, altered(submission_rows(2016), BAD))
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "130001_2016.csv: NG 2 件の問題があります（このままでは受け付けられません）",
        "  行  セル  列     値   問題                                             直し方",
        "  2   E2    count  abc  件数が数値ではありません [count_not_a_number]    "
        "半角または全角の数字だけを入力してください（例: 1323 または 1,323）",
        "  5   E5    count  -1   件数にマイナスの値は使えません [count_negative]  0以上の整数を入力してください",
    ]


def test_table_in_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_submission(tmp_path, altered(submission_rows(2016), BAD))
    assert main(["validate", "--lang", "en", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "130001_2016.csv: 2 problem(s); the file would be rejected",
        "  row  cell  column  value  problem                                      how to fix",
        "  2    E2    count   abc    count is not a number [count_not_a_number]   "
        "enter digits only (e.g. 1323 or 1,323)",
        "  5    E5    count   -1     count must not be negative [count_negative]  enter a whole number of 0 or more",
    ]


def test_json_lists_every_issue_with_both_languages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_submission(tmp_path, altered(submission_rows(2016), BAD))
    good = write_submission(tmp_path, submission_rows(2015))
    assert main(["validate", "--format", "json", str(bad), str(good)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(item["file"], item["valid"]) for item in report] == [("130001_2016.csv", False), ("130001_2015.csv", True)]
    first = report[0]["issues"][0]
    assert {key: first[key] for key in ("row", "cell", "column", "value", "rule")} == {
        "row": 2,
        "cell": "E2",
        "column": "count",
        "value": "abc",
        "rule": "count_not_a_number",
    }
    assert first["fix_ja"] and first["fix_en"] and first["message_ja"] == "件数が数値ではありません"


@pytest.mark.parametrize(
    ("current", "previous", "rules"),
    [
        ({"consultations": 100, "referrals": 10}, {"consultations": 100, "referrals": 10}, []),  # steady
        ({"consultations": 301, "referrals": 10}, {"consultations": 100, "referrals": 10}, ["consultations"]),  # ×3.01
        ({"consultations": 300, "referrals": 10}, {"consultations": 100, "referrals": 10}, []),  # exactly ×3
        ({"consultations": 100, "referrals": 3}, {"consultations": 100, "referrals": 10}, ["referrals"]),  # a drop
        ({"consultations": 100, "referrals": 10}, None, []),  # no previous year
        ({"consultations": 5, "referrals": 6}, None, ["referrals_exceed_consultations"]),  # more referrals
    ],
)
def test_warning_rules(current: dict[str, int], previous: dict[str, int] | None, rules: list[str]) -> None:
    warnings = plausibility_warnings("f.csv", "130001", 2016, current, previous, 3.0)
    found = [w.measure if w.rule == "change_from_previous_year" else w.rule for w in warnings]
    assert found == rules


def test_warning_messages() -> None:
    change = PlausibilityWarning("f.csv", "130001", 2016, "change_from_previous_year", "consultations", 1520, 400, 3.0)
    assert change.message_ja == (
        "延べ相談件数 1,520 件が前年度の 400 件から 3 倍を超えて変わっています。誤りでなければそのまま提出できます"
    )
    assert change.message_en == (
        "consultations 1,520 changed by more than 3x from the previous year's 400; "
        "if correct, the file can be sent as it is"
    )


def warehouse_with_fy2015(tmp_path: Path) -> Path:
    settings = make_settings(tmp_path / "state")
    write_submission(settings.inbox_dir, altered(submission_rows(2015), {2: {"count": "400"}}))
    run_steps(settings)
    return settings.warehouse_path


def test_validate_warns_against_the_previous_year_and_still_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = warehouse_with_fy2015(tmp_path)
    before = warehouse.stat().st_mtime_ns
    path = write_submission(tmp_path / "send", submission_rows(2016))  # 1520 consultations after 400

    assert main(["validate", "--warehouse", str(warehouse), str(path)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "130001_2016.csv: OK 問題はありません"
    assert out[1].startswith("  注意: 延べ相談件数 1,520 件が前年度の 400 件から 3 倍を超えて")
    assert out[1].endswith("[change_from_previous_year]")
    assert warehouse.stat().st_mtime_ns == before  # opened read-only

    assert main(["validate", "--warehouse", str(warehouse), "--warning-factor", "4", str(path)]) == 0
    assert "注意" not in capsys.readouterr().out


def test_run_summary_lists_warnings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_submission(settings.inbox_dir, altered(submission_rows(2015), {2: {"count": "400"}}))
    run_steps(settings)
    referrals = sum(DETAILED_COUNTS.values())
    write_submission(settings.inbox_dir, altered(submission_rows(2016), {2: {"count": str(referrals - 1)}}))

    summary = summarize(settings, "run-2", run_steps(settings, "run-2"))

    # 400 consultations in FY2015, then fewer consultations than referrals in FY2016: both warnings.
    assert [(w.rule, w.measure) for w in summary.warnings] == [
        ("change_from_previous_year", "consultations"),
        ("referrals_exceed_consultations", "referrals"),
    ]
    report = format_run_summary(summary)
    assert "注意（受付済み・差戻しではありません）/ warnings on accepted files (not rejections):" in report
    assert f"  130001_2016.csv: 延べ相談件数 {referrals - 1} 件が前年度の 400 件から 3 倍を超えて" in report
    assert (
        f"  130001_2016.csv: 関係機関につないだ件数 {referrals} 件が延べ相談件数 {referrals - 1} 件を上回っています。"
        in report
    )


def test_center_guide_lists_every_rule_as_centers_see_it() -> None:
    """Regenerate with ``python -m hikikomori.schemas.center_guide`` after changing schemas/rules.py."""
    guide = (REPO_ROOT / "docs" / "center_guide.md").read_text(encoding="utf-8")
    assert with_current_rules(guide) == guide
    assert all(f"| `{code}` |" in guide for code in RULES)


def test_csv_precheck_loads_neither_duckdb_nor_openpyxl(tmp_path: Path) -> None:
    path = write_submission(tmp_path, submission_rows(2016))
    probe = (
        "import sys; from hikikomori.cli import main; code = main(['validate', sys.argv[1]]); "
        "heavy = {'duckdb', 'openpyxl', 'prefect', 'great_expectations'} & set(sys.modules); "
        "assert not heavy, heavy; sys.exit(code)"
    )
    environment = {**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat()}
    result = subprocess.run([sys.executable, "-c", probe, str(path)], env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_installed_precheck_skips_hypothesis_and_ends_once_its_output_is_written(tmp_path: Path) -> None:
    """``hikikomori validate`` as installed (``console``): pandera would import hypothesis (a test-only
    dependency, installed here) to offer data synthesis; the command never needs it. Its process ends
    without the interpreter's teardown, after its whole report is written."""
    valid = write_submission(tmp_path, submission_rows(2016))
    broken = tmp_path / "130001_2015.csv"
    broken.write_text("center_code,fiscal_year,measure,category,count\n130001,2015,consultations,total,abc\n")
    probe = "import sys; from hikikomori.cli import console; sys.argv[0] = 'hikikomori'; console()"
    environment = {**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat()}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe, "validate", str(valid), str(broken)],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1  # one file has problems
    assert result.stdout.startswith("130001_2016.csv: OK") and "130001_2015.csv: NG" in result.stdout
    assert result.stdout.endswith("\n") and "[count_not_a_number]" in result.stdout
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time")
    ]
    assert "pandera" in imported and "hypothesis" not in imported
