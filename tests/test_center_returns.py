"""What a center gets back: receipts for accepted files (read from their record), error reports for rejected ones, and
per-center inbox folders that no other center can write into."""

import csv
import io
import json
from pathlib import Path

import pytest
from helpers_validation import DETAILED_COUNTS, altered, submission_rows, write_submission
from support import query, run_steps

from hikikomori.cli import main
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.receipts import accepted_receipts, receipt_json, receipt_text
from hikikomori.settings import Settings


def test_an_accepted_file_has_a_receipt_read_from_its_record(workspace: Settings) -> None:
    path = write_submission(workspace.inbox_dir / "130001", submission_rows(2016))
    (outcome,) = run_steps(workspace)

    (accepted,) = accepted_receipts(workspace.warehouse_path, "130001", 2016)
    receipt = json.loads(receipt_json(accepted))
    text = receipt_text(accepted).decode("utf-8-sig")

    recorded = query(workspace.warehouse_path, "select content_sha256 from raw.received_files")
    assert receipt["content_sha256"] == recorded.content_sha256.item()
    assert receipt["file"] == "130001/130001_2016.csv"
    assert (receipt["center_code"], receipt["fiscal_year"], receipt["version"]) == ("130001", 2016, 1)
    assert receipt["received_at"].endswith("+09:00")
    referrals = sum(DETAILED_COUNTS.values())
    assert receipt["totals"] == {"consultations": 1520, "referrals": referrals, "supporter_activities": 12}
    assert "年度 / fiscal year: 2016 (平成28年度)" in text
    assert f"  関係機関につないだ件数（区分の合計） (referrals): {referrals:,}" in text
    assert not path.exists()
    assert sorted(item.name for item in outcome.stored_path.parent.iterdir()) == [outcome.stored_path.name]


def test_a_receipt_shows_the_totals_validation_read(workspace: Settings) -> None:
    """The record's totals (a model over the stored rows) are the ones the pre-check and portal show."""
    for year in (2015, 2016):
        write_submission(workspace.inbox_dir, submission_rows(year))
    write_submission(workspace.inbox_dir, altered(submission_rows(2016, "270008"), {2: {"count": "7"}}))
    validated = pipeline.validate_submissions(pipeline.collect_submissions(workspace), workspace)
    read = {(item.center_code, item.fiscal_year): item.loaded.totals for item in validated if item.loaded}
    run_steps(workspace)
    assert len(read) == 3
    for (center, year), totals in read.items():
        (accepted,) = accepted_receipts(workspace.warehouse_path, str(center), int(year or 0))
        assert accepted.totals == totals


def test_a_correction_gets_a_receipt_with_the_next_version(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, submission_rows(2016))
    run_steps(workspace)
    write_submission(workspace.inbox_dir, altered(submission_rows(2016), {2: {"count": "1600"}}))
    run_steps(workspace, "second")
    first, second = accepted_receipts(workspace.warehouse_path, "130001", 2016)
    assert (first.version, first.totals["consultations"]) == (1, 1520)
    assert (second.version, second.totals["consultations"]) == (2, 1600)


def test_the_receipt_command_prints_or_writes_a_version(
    workspace: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_submission(workspace.inbox_dir, submission_rows(2016))
    run_steps(workspace)
    warehouse = ["--warehouse", str(workspace.warehouse_path)]

    assert main(["receipt", "130001", "H28", *warehouse]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("受領証（受け付けました）/ receipt: the file was accepted\n")
    assert "版 / version: 1（同じ団体・年度の1回目の受付）" in printed

    out = tmp_path / "receipt.json"
    assert main(["receipt", "130001", "2016", "--format", "json", "--out", str(out), *warehouse]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == 1
    assert main(["receipt", "130001", "2016", "--out", str(tmp_path / "receipt.txt"), *warehouse]) == 0
    assert (tmp_path / "receipt.txt").read_bytes().startswith("\ufeff受領証".encode())  # Notepad shows Japanese

    capsys.readouterr()
    assert main(["receipt", "130001", "2016", "--version", "2", *warehouse]) == 1
    assert "第2版はありません" in capsys.readouterr().err
    assert main(["receipt", "130001", "2015", *warehouse]) == 1


def test_error_report_lists_every_problem_with_how_to_fix(workspace: Settings) -> None:
    changes = {2: {"count": "abc"}, 5: {"count": "-1"}, 7: {"category": "foo"}}
    write_submission(workspace.inbox_dir, altered(submission_rows(2016), changes))
    (outcome,) = run_steps(workspace)

    raw = Path(f"{outcome.stored_path}.errors.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(row["cell"], row["rule"]) for row in rows] == [
        ("E2", "count_not_a_number"),
        ("E5", "count_negative"),
        ("D7", "category_unknown"),
        ("", "item_missing"),  # the category that foo replaced
    ]
    assert rows[0]["fix_ja"] == "半角または全角の数字だけを入力してください（例: 1323 または 1,323）"
    assert rows[0]["fix_en"] == "enter digits only (e.g. 1323 or 1,323)"
    text = Path(f"{outcome.stored_path}.errors.txt").read_text(encoding="utf-8")
    assert "4 件の問題があり、受け付けられませんでした" in text
    assert "    直し方: 0以上の整数を入力してください / how to fix: enter a whole number of 0 or more" in text


def test_a_file_in_another_centers_folder_is_rejected_and_replaces_nothing(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir / "010006", submission_rows(2016, "010006"))
    run_steps(workspace)
    # 東京都's folder now holds a file naming 北海道, with other figures.
    intruder = altered(submission_rows(2016, "010006"), {2: {"count": "9"}})
    write_submission(workspace.inbox_dir / "130001", intruder)

    (outcome,) = run_steps(workspace, "second")

    assert (outcome.file_name, outcome.outcome) == ("130001/010006_2016.csv", "rejected")
    report = Path(f"{outcome.stored_path}.errors.txt").read_text(encoding="utf-8")
    assert "フォルダ 130001 に別の団体 010006 のファイルがあります [folder_mismatch]" in report
    versions = query(workspace.warehouse_path, "select center_code, version from raw.submissions")
    assert list(versions.itertuples(index=False, name=None)) == [("010006", 1)]
    consultations = query(
        workspace.warehouse_path,
        "select measure_total from intermediate.int_center_measure_totals "
        "where center_code = '010006' and measure = 'consultations'",
    )
    assert consultations.measure_total.item() == 1520


def test_a_file_in_its_own_centers_folder_is_accepted(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir / "130001", submission_rows(2016))
    (outcome,) = run_steps(workspace)
    assert (outcome.file_name, outcome.outcome) == ("130001/130001_2016.csv", "accepted")
