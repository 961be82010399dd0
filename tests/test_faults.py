"""One file's fault of any kind is that file's outcome, never the run's (issue 11).

Each test here reproduces a defect found by trying the pipeline as a careless or hostile center (or
a misbehaving file system) would: the file is quarantined with a precise rule, or stays in the inbox
with a reported reason; the other files of the same run load; the run completes and its audit says
what happened to every file. Faults a file system produces only for another user (as root, a file's
mode never stops a read) are injected where the step runs; the rest are real.
"""

import errno
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from helpers_validation import altered, submission_rows
from helpers_validation import write_submission as write_rows
from hostile_corpus import workbook_bytes
from support import AS_OF, query, run_audited, run_steps, summary_referrals, write_submission

import hikikomori.warehouse.loading
from hikikomori.domain.text import printable
from hikikomori.pipeline import intake
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.operations import WarehouseBusy
from hikikomori.pipeline.precheck import format_json, format_table, precheck
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.schemas import files, validation
from hikikomori.schemas.files import receive
from hikikomori.schemas.limits import InputLimits
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import connect

TOKYO, OSAKA, HOKKAIDO = "130001", "270008", "010006"


def inbox_names(settings: Settings) -> set[str]:
    return {path.relative_to(settings.inbox_dir).as_posix() for path in settings.inbox_dir.rglob("*") if path.is_file()}


def by_name(outcomes: list[intake.TakenFile]) -> dict[str, intake.TakenFile]:
    return {outcome.file_name: outcome for outcome in outcomes}


def run_files(settings: Settings, run_id: str = "test-run") -> dict[str, tuple[str, str | None]]:
    """What ops.run_files says one run did with each file: (outcome, reason rule)."""
    with connect(settings.warehouse_path, read_only=True) as connection:
        rows = connection.execute(
            "select file_name, outcome, reason_rule from ops.run_files where run_id = ?", [run_id]
        ).fetchall()
    return {name: (outcome, rule) for name, outcome, rule in rows}


# --- reading: a file that cannot be opened, or vanished --------------------------------------------


def test_a_file_the_run_cannot_read_stays_in_the_inbox_with_the_reason(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreadable = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_open = os.open

    def denied(path: "os.PathLike[str] | str", flags: int, *args: object) -> int:
        if Path(path) == unreadable:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(files.os, "open", denied)
    outcomes = by_name(run_steps(workspace))

    held = outcomes[unreadable.name]
    assert held.outcome == "deferred" and held.reason is not None
    assert held.reason.rule == "file_inaccessible"
    assert "read: PermissionError: [Errno 13] Permission denied" in held.reason.message_en
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"
    assert unreadable.exists()
    assert run_files(workspace)[unreadable.name] == ("deferred", "file_inaccessible")
    assert query(workspace.warehouse_path, "select count(*) as n from raw.received_files").n.item() == 1


def test_a_file_gone_between_listing_and_reading_is_reported_gone(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    vanishing = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_receive = files._receive

    def removed_first(path: Path, *args: object) -> files.ReceivedFile:
        if path == vanishing:
            path.unlink()  # someone moved it away after the run listed the inbox
        return real_receive(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "_receive", removed_first)
    outcomes = by_name(run_steps(workspace))

    gone = outcomes[vanishing.name]
    assert gone.outcome == "gone" and gone.reason is not None and gone.reason.rule == "file_vanished"
    assert "FileNotFoundError" in gone.reason.message_en
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"
    assert run_files(workspace)[vanishing.name] == ("gone", "file_vanished")


def test_a_folder_the_run_cannot_list_is_reported_and_the_rest_loads(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(), in_center_folder=True)
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_entries = files._entries

    def denied(folder: Path) -> list[os.DirEntry[str]]:
        if folder.name == TOKYO:
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return real_entries(folder)

    monkeypatch.setattr(files, "_entries", denied)
    outcomes = by_name(run_steps(workspace))

    assert outcomes[f"{TOKYO}/"].outcome == "deferred"
    assert outcomes[f"{TOKYO}/"].reason.rule == "file_inaccessible"  # type: ignore[union-attr]
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"
    assert inbox_names(workspace) == {f"{TOKYO}/{TOKYO}_2015.csv"}


# --- the zip layer, names, numbers ----------------------------------------------------------------


def _workbook_with(change: str) -> bytes:
    """A valid workbook whose zip says its members are damaged (deflate), Deflate64 or encrypted."""
    data = bytearray(workbook_bytes(submission_rows(2015, TOKYO)))
    if change == "deflate":
        sheet = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
        start = sheet.header_offset + 30 + len(sheet.filename) + len(sheet.extra)
        for position in range(start + 4, start + 40):
            data[position] ^= 0x5A
    for signature, flags, method in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        position = data.find(signature)
        while position >= 0:
            if change == "encrypted":
                data[position + flags] |= 0x01
            if change == "deflate64":
                data[position + method : position + method + 2] = (9).to_bytes(2, "little")
            position = data.find(signature, position + 4)
    return bytes(data)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("deflate", "zlib.error: Error -3 while decompressing data"),
        ("deflate64", "NotImplementedError: That compression method is not supported"),
        ("encrypted", "RuntimeError: File '[Content_Types].xml' is encrypted, password required for extraction"),
    ],
)
def test_a_broken_zip_member_rejects_its_workbook_naming_the_error(
    workspace: Settings, change: str, error: str
) -> None:
    (workspace.inbox_dir / f"{TOKYO}_2015.xlsx").write_bytes(_workbook_with(change))
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())

    outcomes = by_name(run_steps(workspace))

    rejected = outcomes[f"{TOKYO}_2015.xlsx"]
    assert rejected.outcome == "rejected"
    report = Path(f"{rejected.stored_path}.errors.txt").read_text(encoding="utf-8")
    assert "[xlsx_unreadable]" in report and error in report
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"


def test_the_pre_check_reports_a_broken_workbook_instead_of_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / f"{TOKYO}_2015.xlsx"
    path.write_bytes(_workbook_with("deflate64"))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("hikikomori")), "validate", str(path)],
        env={**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "xlsx_unreadable" in result.stdout and "NotImplementedError" in result.stdout


def test_a_name_too_long_for_a_quarantine_name_is_quarantined_all_the_same(workspace: Settings) -> None:
    name = f"{TOKYO}_2015_{'x' * 235}.csv"  # 251 bytes: the quarantine name once became 284 (OSError 36)
    write_rows(workspace.inbox_dir, submission_rows(2015, TOKYO), name)
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())

    outcomes = by_name(run_steps(workspace))

    assert outcomes[name].outcome == "rejected"
    assert len(f"{outcomes[name].stored_path.name}.errors.csv".encode()) < 255
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"


def test_a_count_beyond_bigint_never_reaches_the_marts(workspace: Settings) -> None:
    """9223372036854775807 once passed validation and broke the marts' sums on every later run."""
    write_rows(workspace.inbox_dir, altered(submission_rows(2015, TOKYO), {2: {"count": str(2**63 - 1)}}))
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    first = by_name(run_steps(workspace, run_id="first"))
    write_submission(workspace.inbox_dir, HOKKAIDO, 2015, 10, summary_referrals())
    run_steps(workspace, run_id="second")  # a later run builds the marts too

    assert first[f"{TOKYO}_2015.csv"].outcome == "rejected"
    issues = query(workspace.warehouse_path, "select rule, value from raw.validation_issues")
    assert list(issues.itertuples(index=False, name=None)) == [("count_too_large", str(2**63 - 1))]
    totals = query(workspace.warehouse_path, "select consultations from marts.consultation_totals")
    assert totals.consultations.tolist() == [60]


def test_every_item_at_the_maximum_sums_exactly_in_the_marts(workspace: Settings) -> None:
    maximum = InputLimits().max_count
    for center in (TOKYO, OSAKA, HOKKAIDO):
        counts = summary_referrals(**dict.fromkeys(summary_referrals(), maximum))
        write_submission(workspace.inbox_dir, center, 2015, maximum, counts, supporter_activities=maximum)

    outcomes = run_steps(workspace)

    assert {outcome.outcome for outcome in outcomes} == {"accepted"}
    totals = query(workspace.warehouse_path, "select consultations from marts.consultation_totals")
    assert totals.consultations.tolist() == [3 * maximum]
    shares = query(workspace.warehouse_path, "select sum(referrals) as total from marts.referral_shares")
    assert int(shares.total.item()) == 3 * 9 * maximum


def test_exact_counts_even_beside_unreadable_ones_of_another_file(workspace: Settings) -> None:
    """2**53 + 1 was stored as 2**53 when another file of the run had an unreadable count (float64)."""
    write_rows(workspace.inbox_dir, altered(submission_rows(2015, TOKYO), {2: {"count": "abc"}, 3: {"count": "１"}}))
    exact = 999_999_999
    write_rows(
        workspace.inbox_dir,
        altered(submission_rows(2015, OSAKA), {2: {"count": f"{exact:,}"}}),
        f"{OSAKA}_2015.csv",
    )

    run_steps(workspace)

    stored = query(workspace.warehouse_path, "select count from raw.submission_rows where measure = 'consultations'")
    assert stored["count"].tolist() == [exact]


def test_a_file_whose_parsing_raises_is_quarantined_naming_the_error(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_csv_rows = files._csv_rows

    def recursion(received: files.ReceivedFile, limits: InputLimits) -> object:
        if received.name == odd.name:
            raise RecursionError("maximum recursion depth exceeded")  # whatever a parser may raise
        return real_csv_rows(received, limits)

    monkeypatch.setattr(files, "_csv_rows", recursion)
    outcomes = by_name(run_steps(workspace))

    assert outcomes[odd.name].outcome == "rejected"
    issues = query(workspace.warehouse_path, "select rule, message_en from raw.validation_issues")
    assert list(issues.itertuples(index=False, name=None)) == [
        ("file_unreadable", "the file cannot be read (parse: RecursionError: maximum recursion depth exceeded)")
    ]
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"


def test_a_file_the_validation_fails_on_waits_and_the_others_are_judged(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One file once crashed the whole batch's validation (TypeError: cannot safely cast float64 …),
    the run exited 2 and the message named no file. Now the batch is judged file by file when it raises."""
    odd = write_submission(workspace.inbox_dir, TOKYO, 2015, 424242, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_raw_frame = validation._raw_frame

    def cast_error(tables: dict[int, files.TextTable]) -> object:
        if any(values[-1] == "424242" for table in tables.values() for _, values in table.rows):
            raise TypeError("cannot safely cast non-equivalent float64 to int64")
        return real_raw_frame(tables)

    monkeypatch.setattr(validation, "_raw_frame", cast_error)
    outcomes = by_name(run_steps(workspace))

    held = outcomes[odd.name]
    assert (held.outcome, held.reason.rule) == ("deferred", "file_not_checked")  # type: ignore[union-attr]
    assert "validate: TypeError: cannot safely cast" in held.reason.message_en  # type: ignore[union-attr]
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"
    assert odd.exists()


# --- fidelity: every filled row loaded, or the file rejected naming the row -----------------------


def test_empty_rows_do_not_count_toward_the_row_limit(workspace: Settings) -> None:
    path = write_rows(workspace.inbox_dir, submission_rows(2015, TOKYO))
    with path.open("ab") as handle:
        handle.write(b",,,,\r\n" * 1_500)  # more empty rows than the 1,000-row limit

    (outcome,) = run_steps(workspace)

    assert outcome.outcome == "accepted"
    assert query(workspace.warehouse_path, "select count(*) as n from raw.submission_rows").n.item() == 12


def _workbook_declaring(rows: list[list[str]], dimension: str) -> bytes:
    """The rows as a workbook whose sheet declares another <dimension> than the cells it holds."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(rows)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content, replaced = re.subn(
                    rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>'.encode(), content
                )
                assert replaced == 1
            target.writestr(item.filename, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "dimension",
    [
        "A1:E11",  # short of the last two rows (both optional): they were dropped and the file accepted
        "A1:C5",  # narrower and shorter: the file was rejected for a missing count column
    ],
)
def test_cells_beyond_a_workbooks_declared_dimension_are_read(workspace: Settings, dimension: str) -> None:
    """openpyxl's read-only mode stopped at the sheet's <dimension>: rows below it were dropped."""
    rows = submission_rows(2015, TOKYO)
    (workspace.inbox_dir / f"{TOKYO}_2015.xlsx").write_bytes(_workbook_declaring(rows, dimension))

    (outcome,) = run_steps(workspace)

    assert outcome.outcome == "accepted"
    loaded = query(workspace.warehouse_path, "select row_number, measure, count from raw.submission_rows order by 1")
    assert loaded.row_number.tolist() == list(range(2, 14))  # every data row, every column
    assert loaded.iloc[-1].tolist() == [13, "supporter_activities", 12]


def test_a_data_row_above_the_header_rejects_the_file_naming_the_row(workspace: Settings) -> None:
    rows = submission_rows(2015, TOKYO)
    write_rows(workspace.inbox_dir, [["東京都 実績報告"], rows[-1], *rows[:-1]])  # a title, then a data row

    (outcome,) = run_steps(workspace)

    assert outcome.outcome == "rejected"
    issues = query(workspace.warehouse_path, "select rule, row_number from raw.validation_issues")
    assert list(issues.itertuples(index=False, name=None)) == [("row_above_header", 2)]


# --- storing, recording, removing -----------------------------------------------------------------


def test_a_file_that_cannot_be_stored_stays_in_the_inbox_and_is_taken_next_run(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = write_rows(workspace.inbox_dir, altered(submission_rows(2015, TOKYO), {2: {"count": "x"}}))
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_quarantine = intake._quarantine

    def no_space(result: validation.ValidatedFile, folder: Path, *_: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    monkeypatch.setattr(intake, "_quarantine", no_space)
    outcomes = by_name(run_steps(workspace))

    held = outcomes[broken.name]
    assert (held.outcome, held.reason.rule) == ("deferred", "file_not_stored")  # type: ignore[union-attr]
    assert "No space left on device" in held.reason.message_en  # type: ignore[union-attr]
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"
    assert broken.exists()

    monkeypatch.setattr(intake, "_quarantine", real_quarantine)
    (again,) = run_steps(workspace, run_id="second")
    assert again.outcome == "rejected" and not broken.exists()


def test_a_file_the_warehouse_refuses_stays_in_the_inbox_and_the_batch_loads(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    insert_batch = hikikomori.warehouse.loading._insert_batch

    def refuse_tokyo(connection: object, receipts: list[object], *rest: object) -> None:
        if any(receipt.file_name == refused.name for receipt in receipts):  # type: ignore[attr-defined]
            raise hikikomori.warehouse.loading.duckdb.ConstraintException("injected: refused for this file")
        insert_batch(connection, receipts, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(hikikomori.warehouse.loading, "_insert_batch", refuse_tokyo)
    outcomes = by_name(run_steps(workspace))

    assert outcomes[refused.name].outcome == "deferred"
    assert outcomes[refused.name].reason.rule == "file_not_recorded"  # type: ignore[union-attr]
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"
    assert refused.exists()
    received = query(workspace.warehouse_path, "select file_name from raw.received_files")
    assert received.file_name.tolist() == [f"{OSAKA}_2015.csv"]


def test_a_file_that_cannot_be_removed_is_recorded_once_and_every_run_completes(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An immutable file or an unwritable center folder: committed, then the removal failed, and every
    re-run failed at the same place. Now each run reports it and only retries the removal."""
    stuck = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(), in_center_folder=True)
    real_unlink = Path.unlink

    def not_permitted(path: Path, missing_ok: bool = False) -> None:
        if path == stuck:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", not_permitted)
    for run_id in ("first", "second", "third"):
        write_submission(workspace.inbox_dir, OSAKA, 2014 + len(run_id) % 3, 10, summary_referrals())
        outcomes = by_name(run_steps(workspace, run_id=run_id))
        taken = outcomes[f"{TOKYO}/{TOKYO}_2015.csv"]
        assert taken.outcome == ("accepted" if run_id == "first" else "duplicate")
        assert taken.reason is not None and taken.reason.rule == "file_not_removed"
        assert "PermissionError: [Errno 1] Operation not permitted" in taken.reason.message_en
    monkeypatch.undo()
    (done,) = [item for item in run_steps(workspace, run_id="fixed") if item.file_name.startswith(TOKYO)]

    assert (done.outcome, done.reason) == ("duplicate", None)
    assert not stuck.exists()
    received = query(
        workspace.warehouse_path, "select count(*) as n from raw.received_files where center_code = ?", [TOKYO]
    )
    assert received.n.item() == 1  # recorded once, however many runs saw it
    name = f"{TOKYO}/{TOKYO}_2015.csv"
    assert run_files(workspace, "second")[name] == ("duplicate", "file_not_removed")
    assert run_files(workspace, "fixed")[name] == ("duplicate", None)


def test_an_immutable_file_for_real(workspace: Settings) -> None:
    stuck = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    if subprocess.run(["chattr", "+i", str(stuck)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this file system")
    try:
        (first,) = run_steps(workspace)
        (second,) = run_steps(workspace, run_id="second")
    finally:
        subprocess.run(["chattr", "-i", str(stuck)], check=True)
    assert (first.outcome, first.reason.rule) == ("accepted", "file_not_removed")  # type: ignore[union-attr]
    assert (second.outcome, second.reason.rule) == ("duplicate", "file_not_removed")  # type: ignore[union-attr]


def test_a_file_written_again_after_it_was_read_is_not_recorded_for_what_was_read(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    real_validate = pipeline.validate_submissions

    def then_rewritten(received: list[files.ReceivedFile], settings: Settings) -> list[validation.ValidatedFile]:
        validated = real_validate(received, settings)
        write_submission(workspace.inbox_dir, TOKYO, 2015, 2000, summary_referrals())  # a corrected file lands
        return validated

    settings = workspace
    pipeline.prepare_warehouse(settings)
    received = pipeline.collect_submissions(settings)
    monkeypatch.setattr(pipeline, "validate_submissions", then_rewritten)
    (held,) = pipeline.load_submissions(pipeline.validate_submissions(received, settings), settings, "first")

    assert (held.outcome, held.reason.rule) == ("deferred", "file_changed_after_read")  # type: ignore[union-attr]
    monkeypatch.undo()
    (taken,) = run_steps(settings, run_id="second")
    assert taken.outcome == "accepted" and not path.exists()
    stored = query(settings.warehouse_path, "select count from raw.submission_rows where measure = 'consultations'")
    assert stored["count"].tolist() == [2000]  # only the file as it was when read and recorded


# --- the portal's hand-over folders ----------------------------------------------------------------


def test_an_upload_folder_that_cannot_be_removed_is_reported_and_retried(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    emptied = workspace.inbox_dir / "_portal" / "upload-1"
    emptied.mkdir(parents=True)
    (emptied / "upload.json").write_text("{}", encoding="utf-8")  # its file was taken in, the folder stayed
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    real_remove = files._remove_upload_folder

    def busy(folder: Path) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy", str(folder))

    monkeypatch.setattr(files, "_remove_upload_folder", busy)
    outcomes = by_name(run_steps(workspace))
    assert outcomes["_portal/upload-1/"].reason.rule == "file_not_removed"  # type: ignore[union-attr]
    assert outcomes[f"{OSAKA}_2015.csv"].outcome == "accepted"

    monkeypatch.setattr(files, "_remove_upload_folder", real_remove)
    assert run_steps(workspace, run_id="second") == []
    assert not emptied.exists()


def test_an_upload_folder_with_a_broken_manifest_is_refused_not_fatal(workspace: Settings) -> None:
    folder = workspace.inbox_dir / "_portal" / "upload-2"
    folder.mkdir(parents=True)
    (folder / "upload.json").write_bytes(b"\xff{ not json")
    write_rows(folder, submission_rows(2016, TOKYO))

    (outcome,) = run_steps(workspace)

    assert outcome.outcome == "rejected"
    issues = query(workspace.warehouse_path, "select rule from raw.validation_issues")
    assert issues.rule.tolist() == ["folder_mismatch"]  # no readable manifest: no center may claim the file


# --- the clock ---------------------------------------------------------------------------------


def test_a_file_copied_in_just_before_the_run_is_taken_at_once(workspace: Settings) -> None:
    """A corrected file followed by a re-run once took nothing in (the 10 s settle rule) and exited 0."""
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    settings = replace(workspace, limits=InputLimits())  # the defaults, as a deployment runs
    assert path.stat().st_mtime > time.time() - 5
    (outcome,) = run_steps(settings)
    assert outcome.outcome == "accepted"


def test_a_file_stamped_in_the_future_is_not_waited_for(tmp_path: Path) -> None:
    path = write_rows(tmp_path, submission_rows(2015, TOKYO))
    os.utime(path, (4_102_444_800, 4_102_444_800))  # 2100-01-01: a sender's wrong clock
    settling = InputLimits(settle_seconds=10)
    an_hour_later = time.time() + 3600
    assert receive(path, tmp_path, settling, now=an_hour_later).refusal is None  # the local clock decides
    just_now = receive(path, tmp_path, settling, now=time.time())
    assert just_now.refusal is not None and just_now.refusal.rule == "file_still_being_written"


def test_a_file_changing_while_it_is_read_waits_in_the_inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_rows(tmp_path, submission_rows(2015, TOKYO))
    real_fstat = os.fstat

    def grown(descriptor: int) -> os.stat_result:
        status = real_fstat(descriptor)
        return os.stat_result((*status[:6], status.st_size + 100, *status[7:]))

    monkeypatch.setattr(files.os, "fstat", grown)
    refusal = receive(path, tmp_path).refusal
    assert refusal is not None and refusal.rule == "file_still_being_written"
    assert refusal.outcome == "deferred" and "bytes" in (refusal.value or "")


# --- the audit ---------------------------------------------------------------------------------


def test_a_rerun_over_resent_files_records_its_duplicates_and_rejection(workspace: Settings) -> None:
    """`make run` twice printed duplicate 392, rejected 1, but ops.pipeline_runs recorded 0/0/0."""
    accepted = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    rejected = write_rows(workspace.inbox_dir, altered(submission_rows(2015, OSAKA), {2: {"count": "-1"}}))
    copies = {path: path.read_bytes() for path in (accepted, rejected)}
    times = {path: (path.stat().st_atime, path.stat().st_mtime) for path in copies}
    run_audited(workspace, run_id="first")
    for path, content in copies.items():  # `cp -p`: the same bytes under their old times
        path.write_bytes(content)
        os.utime(path, times[path])

    outcomes = by_name(run_audited(workspace, run_id="second"))

    assert {name: item.outcome for name, item in outcomes.items()} == {
        accepted.name: "duplicate",
        rejected.name: "rejected",
    }
    runs = query(
        workspace.warehouse_path,
        "select run_id, files_accepted, files_rejected, files_duplicate, files_deferred from ops.pipeline_runs "
        "order by started_at",
    )
    assert list(runs.itertuples(index=False, name=None)) == [("first", 1, 1, 0, 0), ("second", 0, 1, 1, 0)]
    rerejected = query(
        workspace.warehouse_path,
        "select count(*) as n from raw.received_files where run_id = 'second' and outcome = 'rejected'",
    )
    assert rerejected.n.item() == 1  # with its issues, like the first time


def test_a_run_left_running_by_a_killed_process_is_marked_failed_by_the_next(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    run_audited(workspace, run_id="first")
    with hikikomori.warehouse.loading.duckdb.connect(str(workspace.warehouse_path)) as connection:
        connection.execute("update ops.pipeline_runs set status = 'running', ended_at = null")  # as a SIGKILL left it

    run_audited(workspace, run_id="second")

    runs = query(workspace.warehouse_path, "select run_id, status, error from ops.pipeline_runs order by started_at")
    assert runs.status.tolist() == ["failed", "completed"]
    assert runs.error.tolist()[0].startswith("interrupted")


def test_files_left_in_the_inbox_are_counted_and_named(workspace: Settings) -> None:
    (workspace.inbox_dir / f"{TOKYO}_2015.csv.part").write_bytes(b"center_code,fiscal")
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())

    outcomes = run_audited(workspace)

    runs = query(workspace.warehouse_path, "select files_seen, files_accepted, files_deferred from ops.pipeline_runs")
    assert list(runs.itertuples(index=False, name=None)) == [(2, 1, 1)]
    summary = format_run_summary(pipeline.summarize(workspace, "test-run", outcomes))
    assert f"{TOKYO}_2015.csv.part" in summary and "[file_partial]" in summary


# --- messages: an analyst on the warehouse, a full disk ----------------------------------------------

ANALYST_ON_THE_WAREHOUSE = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print("reading", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _analyst(settings: Settings, seconds: float) -> subprocess.Popen[str]:
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST_ON_THE_WAREHOUSE, str(settings.warehouse_path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert analyst.stdout is not None and analyst.stdout.readline().strip() == "reading"
    return analyst


def test_an_analyst_on_the_warehouse_itself_makes_a_run_wait_not_fail(
    workspace: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    run_audited(workspace, run_id="first")
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())
    analyst = _analyst(workspace, 3)

    (outcome,) = run_audited(workspace, run_id="second")  # waits for the analyst to close, then runs

    analyst.wait(timeout=60)
    assert outcome.outcome == "accepted"
    waited = capfd.readouterr().err
    assert f"analysts should open the analysts' copy {workspace.analytics_path}" in waited
    assert f"(PID {analyst.pid})" in waited


def test_an_analyst_holding_the_warehouse_too_long_is_named_with_the_copy_to_use(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    run_audited(workspace, run_id="first")
    analyst = _analyst(workspace, 30)
    try:
        with pytest.raises(WarehouseBusy, match=re.escape(f"analysts' copy {workspace.analytics_path}")):
            run_audited(replace(workspace, run_lock_timeout_seconds=1), "second")
    finally:
        analyst.kill()
        analyst.wait()


@pytest.mark.integration
def test_prefects_home_on_a_full_disk_says_so_at_once(tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        with (full / "filler").open("wb") as filler, pytest.raises(OSError, match="No space left"):
            filler.write(b"\0" * 2 * 1024 * 1024)  # fill it
            filler.flush()
        (tmp_path / "inbox").mkdir()
        write_submission(tmp_path / "inbox", TOKYO, 2015, 100, summary_referrals())
        started = time.monotonic()
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("hikikomori")),
                "run",
                "--inbox",
                str(tmp_path / "inbox"),
                "--warehouse",
                str(tmp_path / "state" / "h.duckdb"),
            ],
            env={**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat(), "PREFECT_HOME": str(full / "prefect")},
            capture_output=True,
            text=True,
            timeout=300,
        )
        elapsed = time.monotonic() - started
    finally:
        subprocess.run(["umount", str(full)], check=True)
    assert result.returncode == 2
    assert "no space left on device" in result.stderr and str(full / "prefect") in result.stderr
    assert elapsed < 30  # not the server-start timeout (90 s)
    assert (tmp_path / "inbox" / f"{TOKYO}_2015.csv").exists()


# --- permissions, safe output --------------------------------------------------------------------------


def test_archive_and_quarantine_copies_are_readable_by_the_service_only(workspace: Settings) -> None:
    good = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    bad = write_rows(workspace.inbox_dir, altered(submission_rows(2015, OSAKA), {2: {"count": "x"}}))
    good.chmod(0o666)
    bad.chmod(0o644)

    outcomes = run_steps(workspace)

    stored = [outcome.stored_path for outcome in outcomes]
    sidecars = [Path(f"{stored[1]}.errors.txt"), Path(f"{stored[1]}.errors.csv")]
    for path in stored + sidecars:
        assert stat.S_IMODE(path.stat().st_mode) == 0o400, path
    for folder in (stored[0].parent, workspace.archive_dir, workspace.quarantine_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


ESCAPE = "\x1b]0;owned\x07\x1b[2J"


def test_control_characters_never_reach_the_terminal_raw(tmp_path: Path, workspace: Settings) -> None:
    name = f"{TOKYO}_2015\n{ESCAPE}.csv"
    write_rows(workspace.inbox_dir, altered(submission_rows(2015, TOKYO), {3: {"category": ESCAPE}}), name)
    write_rows(workspace.inbox_dir, altered(submission_rows(2015, OSAKA), {3: {"category": ESCAPE}}))
    checked_file = write_rows(tmp_path / "precheck", altered(submission_rows(2015, OSAKA), {3: {"category": ESCAPE}}))

    outcomes = run_steps(workspace)
    summary = format_run_summary(pipeline.summarize(workspace, "test-run", outcomes))
    checked = precheck([checked_file], workspace)
    table, as_json = format_table(checked), format_json(checked)

    for text in (summary, table, as_json):
        assert "\x1b" not in text and "\x07" not in text
    assert printable(name) in summary  # the name's newline shown as \n: it forges no line of its own
    assert not any(line.startswith(ESCAPE[:2]) for line in summary.splitlines())
    assert "\\x1b]0;owned" in table
    assert json.loads(as_json)[0]["issues"][0]["value"] == ESCAPE  # the same value for a program
    sql = subprocess.run(
        [
            str(Path(sys.executable).with_name("hikikomori")),
            "sql",
            "select file_name, value from raw.validation_issues join raw.received_files using (receipt_id)",
            "--warehouse",
            str(workspace.warehouse_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sql.returncode == 0, sql.stderr
    assert "\x1b" not in sql.stdout and "\\x1b]0;owned" in sql.stdout


# --- a committed run is never reported failed; a stopped run is recorded and cleaned up -----------------


def test_a_prefect_failure_after_the_work_is_committed_is_a_note_not_a_failure(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hikikomori run` once exited 2 with its data loaded: Prefect's temporary server answered 404
    (ObjectNotFound) when the flow run's final state was reported, after every task had completed."""
    from prefect.exceptions import ObjectNotFound

    from hikikomori.flows import hikikomori_run as flows

    committed = pipeline.RunSummary("run-1", [], [], str(workspace.warehouse_path))

    def committed_then_lost(**parameters: object) -> pipeline.RunSummary:
        runs = flows._COMMITTED.get()
        assert runs is not None
        runs.append(committed)  # what run_pipeline does once ops.pipeline_runs says completed
        raise ObjectNotFound(http_exc=RuntimeError("404 on /api/flow_runs/…/set_state"))

    monkeypatch.setattr(flows, "hikikomori_run", committed_then_lost)
    summary = flows.run_in_foreground(workspace)
    assert summary.run_id == "run-1"
    assert "the run's work is committed: ObjectNotFound" in summary.notes[-1]

    def lost_before_anything_was_committed(**parameters: object) -> pipeline.RunSummary:
        raise ObjectNotFound(http_exc=RuntimeError("404"))

    monkeypatch.setattr(flows, "hikikomori_run", lost_before_anything_was_committed)
    with pytest.raises(ObjectNotFound):
        flows.run_in_foreground(workspace)


def _children(pid: int) -> set[int]:
    """Every process descended from ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.integration
def test_sigterm_records_the_run_failed_and_stops_prefects_temporary_server(tmp_path: Path) -> None:
    """SIGTERM once left the temporary server running and ops.pipeline_runs 'running' forever."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "state" / "hikikomori.duckdb"
    shutil.copytree(Path(__file__).parent.parent / "examples" / "submissions", inbox)
    run = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("hikikomori")),
            "run",
            "--inbox",
            str(inbox),
            "--warehouse",
            str(warehouse),
        ],
        env={**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    started = time.monotonic()
    servers: set[int] = set()
    for line in run.stderr:  # stopped while it loads, the temporary server up, the run recorded as running
        servers |= _children(run.pid)
        if "取込 taken in" in line:
            break
        assert time.monotonic() - started < 300, "the run never reached its load step"
    run.send_signal(signal.SIGTERM)
    _, errors = run.communicate(timeout=120)

    assert run.returncode == 128 + signal.SIGTERM, errors[-5000:]
    assert "hikikomori run stopped: stopped by SIGTERM" in errors
    assert servers, "the temporary server was not seen"
    time.sleep(1)
    assert not [pid for pid in servers if Path(f"/proc/{pid}").exists()]  # no server left behind
    (status, error) = query(warehouse, "select status, error from ops.pipeline_runs").itertuples(index=False).__next__()
    assert status == "failed" and "SIGTERM" in error
