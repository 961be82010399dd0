"""Loads never lose or double-count a file: versions, duplicates, evidence, and marts that follow."""

import os
import stat
from pathlib import Path

from support import detailed_referrals, query, run_steps, summary_referrals, write_submission

from hikikomori.settings import Settings

TOKYO, OSAKA = "130001", "270008"


def test_valid_files_load_while_a_broken_one_is_quarantined(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))
    broken = write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals(other=1))
    broken.write_text(broken.read_text(encoding="utf-8").replace(",50\n", ",-50\n"), encoding="utf-8")
    broken_content = broken.read_bytes()

    outcomes = {outcome.file_name: outcome for outcome in run_steps(workspace)}

    assert outcomes[f"{TOKYO}_2015.csv"].outcome == "accepted"
    rejected = outcomes[f"{OSAKA}_2015.csv"]
    assert rejected.outcome == "rejected"
    assert rejected.stored_path.is_relative_to(workspace.quarantine_dir)
    assert rejected.stored_path.read_bytes() == broken_content  # kept as received, evidence for the center
    report = Path(f"{rejected.stored_path}.errors.txt").read_text(encoding="utf-8")
    assert "2行目" in report and "件数にマイナスの値は使えません" in report
    assert Path(f"{rejected.stored_path}.errors.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    assert list(workspace.inbox_dir.iterdir()) == []  # both left the inbox only once stored elsewhere
    totals = query(workspace.warehouse_path, "select * from marts.consultation_totals")
    assert totals.consultations.tolist() == [100]
    status = query(
        workspace.warehouse_path,
        "select center_code, status from marts.submission_status where center_code in (?, ?)",
        [TOKYO, OSAKA],
    )
    assert dict(zip(status.center_code, status.status, strict=True)) == {
        TOKYO: "accepted",
        OSAKA: "rejected",
    }


def test_archived_file_is_the_received_bytes_and_read_only(workspace: Settings) -> None:
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    content = path.read_bytes()
    (outcome,) = run_steps(workspace)
    assert outcome.stored_path.read_bytes() == content
    assert outcome.stored_path.stat().st_mode & 0o222 == 0
    assert outcome.stored_path.is_relative_to(workspace.archive_dir)


def test_the_archived_file_does_not_change_with_what_is_written_to_the_inbox_name_later(workspace: Settings) -> None:
    """The archive may keep the inbox file itself (a link, not a copy): once taken in, the inbox name is
    the archive's no longer, and a file written there, even in place over the old name, is a new one."""
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    sent = path.read_bytes()
    (outcome,) = run_steps(workspace)
    assert outcome.outcome == "accepted" and not path.exists()

    with path.open("wb") as rewritten:  # as `cp` or a spreadsheet program writing over a name
        rewritten.write(sent.replace(b",100", b",999"))

    assert outcome.stored_path.read_bytes() == sent
    assert not outcome.stored_path.samefile(path)
    assert stat.S_IMODE(outcome.stored_path.stat().st_mode) == 0o400 and outcome.stored_path.stat().st_nlink == 1


def test_a_file_with_another_name_outside_the_inbox_is_archived_as_a_copy(workspace: Settings, tmp_path: Path) -> None:
    """A file the inbox shares with another folder (a hard link) can still be written through that name:
    its archived version is a copy of what was read, and the other name keeps its own mode."""
    sent = write_submission(tmp_path / "outbox", TOKYO, 2015, 100, summary_referrals())
    workspace.inbox_dir.mkdir(parents=True, exist_ok=True)
    os.link(sent, workspace.inbox_dir / sent.name)
    mode = stat.S_IMODE(sent.stat().st_mode)
    (outcome,) = run_steps(workspace)

    assert outcome.outcome == "accepted" and not (workspace.inbox_dir / sent.name).exists()
    assert not outcome.stored_path.samefile(sent) and stat.S_IMODE(sent.stat().st_mode) == mode
    sent.write_bytes(b"written again through the other name")
    assert outcome.stored_path.read_bytes() != sent.read_bytes()
    assert stat.S_IMODE(outcome.stored_path.stat().st_mode) == 0o400


def test_same_content_again_is_a_duplicate_not_a_new_version(workspace: Settings) -> None:
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))
    content = path.read_bytes()
    run_steps(workspace)
    path.write_bytes(content)

    (outcome,) = run_steps(workspace, run_id="second")

    assert outcome.outcome == "duplicate"
    versions = query(workspace.warehouse_path, "select count(*) as n from raw.submissions")
    assert versions.n.item() == 1
    assert (
        query(workspace.warehouse_path, "select consultations from marts.consultation_totals").consultations.item()
        == 100
    )


def test_a_correction_becomes_the_next_version_and_replaces_the_figures(
    workspace: Settings,
) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))
    write_submission(workspace.inbox_dir, OSAKA, 2015, 30, summary_referrals(other=2))
    run_steps(workspace)
    write_submission(workspace.inbox_dir, TOKYO, 2015, 120, summary_referrals(npo=5), in_center_folder=True)

    (outcome,) = run_steps(workspace, run_id="second")

    assert (outcome.outcome, outcome.version) == ("accepted", 2)
    totals = query(workspace.warehouse_path, "select consultations from marts.consultation_totals")
    assert totals.consultations.item() == 150
    shares = query(
        workspace.warehouse_path,
        "select agency_group, referrals from marts.referral_shares where referrals > 0",
    )
    assert dict(zip(shares.agency_group, shares.referrals, strict=True)) == {"npo": 5, "other": 2}
    kept = query(workspace.warehouse_path, "select count(*) as n from raw.submission_rows")
    assert kept.n.item() == 3 * 10  # every version of every file keeps its 10 rows


def test_going_back_to_an_earlier_version_is_a_new_version(workspace: Settings) -> None:
    first = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    original = first.read_bytes()
    run_steps(workspace)
    write_submission(workspace.inbox_dir, TOKYO, 2015, 120, summary_referrals())
    run_steps(workspace, run_id="second")
    first.write_bytes(original)

    (outcome,) = run_steps(workspace, run_id="third")

    assert (outcome.outcome, outcome.version) == ("accepted", 3)
    assert (
        query(workspace.warehouse_path, "select consultations from marts.consultation_totals").consultations.item()
        == 100
    )


def test_rerunning_an_empty_inbox_changes_nothing(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))
    run_steps(workspace)
    before = query(workspace.warehouse_path, "select * from marts.referral_shares order by all")

    assert run_steps(workspace, run_id="again") == []
    after = query(workspace.warehouse_path, "select * from marts.referral_shares order by all")
    assert before.equals(after)


def test_fiscal_year_filter_leaves_other_years_in_the_inbox(workspace: Settings) -> None:
    from dataclasses import replace

    write_submission(workspace.inbox_dir, TOKYO, 2014, 90, summary_referrals())
    later = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())

    outcomes = run_steps(replace(workspace, fiscal_years=(2014,)))

    assert [outcome.fiscal_year for outcome in outcomes] == [2014]
    assert later.exists()


def test_changed_figure_in_one_example_submission_changes_the_marts(workspace: Settings, copy_examples) -> None:
    copy_examples(workspace)
    run_steps(workspace)
    national = "select consultations from marts.consultation_totals where fiscal_year = 2016"
    school = "select referrals from marts.referral_detail_shares where fiscal_year = 2016 and agency = 'school'"
    tokyo_2016 = (
        "select r.count from raw.submission_rows r join raw.submissions s using (receipt_id) "
        "where s.center_code = ? and s.fiscal_year = 2016 and r.measure = ? and r.category = ?"
    )
    before = query(workspace.warehouse_path, national).consultations.item()
    school_before = query(workspace.warehouse_path, school).referrals.item()
    tokyo_before = query(workspace.warehouse_path, tokyo_2016, [TOKYO, "consultations", "total"])["count"].item()
    tokyo_school_before = query(workspace.warehouse_path, tokyo_2016, [TOKYO, "referrals", "school"])["count"].item()
    assert tokyo_school_before != 3  # the correction below changes it
    write_submission(workspace.inbox_dir, TOKYO, 2016, tokyo_before + 100, detailed_referrals(school=3))

    (outcome,) = run_steps(workspace, run_id="correction")

    assert (outcome.outcome, outcome.version) == ("accepted", 2)
    assert query(workspace.warehouse_path, national).consultations.item() == before + 100
    # Tokyo's school referrals are now 3: the national figure follows the latest version only.
    assert query(workspace.warehouse_path, school).referrals.item() == school_before - tokyo_school_before + 3


def _arrived(path: Path, second: int) -> None:
    """Set the arrival order: files are taken oldest first."""
    os.utime(path, ns=(second * 10**9, second * 10**9))


def test_within_one_run_a_repeat_is_a_duplicate_and_a_change_the_next_version(workspace: Settings) -> None:
    # One run is one transaction: versions and duplicates still follow arrival order inside it.
    _arrived(write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals()), 1)
    _arrived(write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(), in_center_folder=True), 2)

    first_run = run_steps(workspace)

    assert [(outcome.outcome, outcome.version) for outcome in first_run] == [("accepted", 1), ("duplicate", None)]
    _arrived(write_submission(workspace.inbox_dir, TOKYO, 2015, 120, summary_referrals()), 3)
    _arrived(write_submission(workspace.inbox_dir, TOKYO, 2015, 130, summary_referrals(), in_center_folder=True), 4)

    second_run = run_steps(workspace, run_id="second")

    assert [(outcome.outcome, outcome.version) for outcome in second_run] == [("accepted", 2), ("accepted", 3)]
    totals = query(workspace.warehouse_path, "select consultations from marts.consultation_totals")
    assert totals.consultations.item() == 130


def test_the_same_file_sent_again_with_its_old_time_is_recorded_as_a_duplicate(workspace: Settings) -> None:
    # `cp -p` keeps the modification time, but the copy's inode changes after the first receipt: it is a
    # new arrival (recorded, so the audit counts it), not a file a stopped run recorded and left behind.
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals(npo=4))
    content, times = path.read_bytes(), (path.stat().st_atime, path.stat().st_mtime)
    run_steps(workspace)
    path.write_bytes(content)
    os.utime(path, times)

    (outcome,) = run_steps(workspace, run_id="again")

    assert (outcome.outcome, outcome.version) == ("duplicate", None)
    assert query(workspace.warehouse_path, "select count(*) as n from raw.submissions").n.item() == 1
    received = query(workspace.warehouse_path, "select run_id, outcome from raw.received_files order by received_at")
    assert list(zip(received.run_id, received.outcome, strict=True)) == [
        ("test-run", "accepted"),
        ("again", "duplicate"),
    ]
    assert not path.exists()
