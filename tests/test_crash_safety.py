"""A run killed at any point, then run again, leaves the warehouse a clean run would have.

The killed run is the pipeline's plain steps in a subprocess, SIGKILLed once k files have left
the inbox (polled, no test hook in the code); the re-run is in-process. After the re-run the marts
and the accepted versions equal a clean run's, and every input file is recorded exactly once and
sits in exactly one place. A failure raised inside a load transaction leaves nothing half-loaded.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from support import EXAMPLE_SUBMISSIONS, make_settings, query, run_steps, stored_submissions

import hikikomori.warehouse.loading
from hikikomori.pipeline import intake
from hikikomori.settings import Settings

TESTS = Path(__file__).parent
FILES = 24  # the oldest example submissions: valid ones of several centers and years, one broken
# Kill once this many files have left the inbox; None: as soon as the run has started (imports,
# validation). FILES: the inbox is empty, so the run is recording its last file or building models.
KILL_POINTS = (None, 1, 7, 16, 23, FILES)
KILLED_RUN = (
    "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
    "from support import make_settings, run_steps; run_steps(make_settings(Path(sys.argv[2])))"
)


def fill_inbox(settings: Settings) -> dict[str, str]:
    """The FILES oldest example submissions (as run order sees them), by inbox name → sha256."""
    examples = sorted(path for path in EXAMPLE_SUBMISSIONS.rglob("*") if path.is_file())[:FILES]
    inputs = {}
    for source in examples:
        name = source.relative_to(EXAMPLE_SUBMISSIONS).as_posix()
        target = settings.inbox_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        inputs[name] = hashlib.sha256(source.read_bytes()).hexdigest()
    return inputs


def inbox_files(settings: Settings) -> list[Path]:
    return [Path(folder, name) for folder, _, names in os.walk(settings.inbox_dir) for name in names]


def warehouse_state(settings: Settings) -> dict[str, pd.DataFrame]:
    """Every mart (without receipt and submission times) and the set of accepted versions."""
    tables = query(settings.warehouse_path, "select table_name from duckdb_tables() where schema_name = 'marts'")
    state = {
        table: query(settings.warehouse_path, f"select * from marts.{table} order by all").drop(
            columns=["received_at", "first_submitted_at"], errors="ignore"
        )
        for table in sorted(tables.table_name)  # names listed by DuckDB itself
    }
    state["versions"] = query(
        settings.warehouse_path,
        "select center_code, fiscal_year, version, content_sha256 from raw.submissions order by all",
    )
    return state


def assert_same_state(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert actual.keys() == expected.keys()
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(actual[name], frame, obj=name)


def assert_each_file_once_in_one_place(settings: Settings, inputs: dict[str, str]) -> None:
    receipts = query(settings.warehouse_path, "select file_name, content_sha256, stored_path from raw.received_files")
    assert sorted(zip(receipts.file_name, receipts.content_sha256, strict=True)) == sorted(inputs.items())
    assert inbox_files(settings) == []
    stored = stored_submissions(settings.archive_dir, settings.quarantine_dir)
    assert stored == {Path(path) for path in receipts.stored_path}


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    settings = make_settings(tmp_path_factory.mktemp("clean"))
    inputs = fill_inbox(settings)
    run_steps(settings)
    assert_each_file_once_in_one_place(settings, inputs)
    return warehouse_state(settings)


def kill_after(settings: Settings, files_gone: int | None, total: int) -> int:
    """Run the steps in a subprocess and SIGKILL it; returns how many files had left the inbox.

    The run must die of the kill: one that ended before it (finished, or failed on its own) would
    test nothing about crashes.
    """
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(TESTS), str(settings.state_dir.parent)])
    try:
        while process.poll() is None:
            gone = total - len(inbox_files(settings))
            if files_gone is None or gone >= files_gone:
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, f"the run ended with {process.returncode} before it was killed"
    return total - len(inbox_files(settings))


@pytest.mark.integration
@pytest.mark.parametrize("files_gone", KILL_POINTS, ids=lambda point: f"killed-after-{point}")
def test_killed_run_then_rerun_equals_a_clean_run(
    tmp_path: Path, clean_state: dict[str, pd.DataFrame], files_gone: int | None
) -> None:
    settings = make_settings(tmp_path)
    inputs = fill_inbox(settings)
    gone = kill_after(settings, files_gone, len(inputs))
    if settings.warehouse_path.exists():
        # Right after the kill: nothing recorded twice, and every recorded file stored.
        receipts = query(settings.warehouse_path, "select file_name, stored_path from raw.received_files")
        assert receipts.file_name.is_unique
        assert all(Path(path).exists() for path in receipts.stored_path)
    print(f"kill point {files_gone}: {gone} of {len(inputs)} files had left the inbox")

    run_steps(settings, run_id="rerun")

    assert_same_state(warehouse_state(settings), clean_state)
    assert_each_file_once_in_one_place(settings, inputs)


def test_failure_inside_a_load_transaction_leaves_nothing_half_loaded(
    tmp_path: Path, clean_state: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    inputs = fill_inbox(settings)
    insert_batch = hikikomori.warehouse.loading._insert_batch
    batches = []

    def insert_then_fail(*args: object) -> None:
        insert_batch(*args)  # the batch's receipts, versions and rows are inserted, then the load fails
        batches.append(args)
        if len(batches) == 2:
            # An I/O error stops the load step (Prefect retries it); any other error is one file's (test_faults.py)
            raise OSError("injected failure inside the load transaction")

    monkeypatch.setattr(hikikomori.warehouse.loading, "_insert_batch", insert_then_fail)
    with pytest.raises(OSError, match="injected"):
        run_steps(settings)

    loaded = query(
        settings.warehouse_path,
        """
        select (select count(*) from raw.received_files where outcome = 'accepted') as accepted,
               (select count(*) from raw.submissions) as versions,
               (select count(distinct receipt_id) from raw.submission_rows) as row_sets,
               (select count(*) from raw.received_files) as receipts
        """,
    ).iloc[0]
    # The first batch stays committed; the second batch's receipts, versions and rows rolled back together ...
    assert 0 < loaded.receipts < len(inputs)
    assert loaded.accepted == loaded.versions == loaded.row_sets
    # ... and its files are still in the inbox with every file not yet recorded.
    assert len(inbox_files(settings)) == len(inputs) - loaded.receipts

    monkeypatch.undo()
    run_steps(settings, run_id="rerun")
    assert_same_state(warehouse_state(settings), clean_state)
    assert_each_file_once_in_one_place(settings, inputs)


def test_stop_between_recording_and_removing_does_not_record_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    inputs = fill_inbox(settings)
    real_unlink = Path.unlink

    def unlink_fails_once(path: Path, missing_ok: bool = False) -> None:
        if path.is_relative_to(settings.inbox_dir):
            raise KeyboardInterrupt("stopped after the commit, before the inbox file was removed")
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink_fails_once)
    with pytest.raises(KeyboardInterrupt):
        run_steps(settings)
    monkeypatch.undo()
    recorded = query(settings.warehouse_path, "select count(*) as n from raw.received_files").n.item()
    assert 0 < recorded < len(inputs)  # the first batch was committed, its files still in the inbox

    run_steps(settings, run_id="rerun")

    assert_each_file_once_in_one_place(settings, inputs)


def test_half_written_temporary_files_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    fill_inbox(settings)
    leftover = settings.archive_dir / "2016" / ".incoming-killed"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a fi")

    run_steps(settings)

    assert not leftover.exists()


def test_a_link_is_made_only_where_no_name_is_taken(tmp_path: Path) -> None:
    """``_link`` never replaces anything: a name already there (a copy, or a link a killed run left
    unchecked) is for the caller to judge; a missing folder is refused too (the caller copies)."""
    source, target = tmp_path / "130001_2016.csv", tmp_path / "archived.csv"
    source.write_bytes(b"center_code,fiscal_year\n")
    assert intake._link(source, target)
    assert target.stat().st_ino == source.stat().st_ino
    other = tmp_path / "other.csv"
    other.write_bytes(b"center_code,fiscal_year\n")
    assert not intake._link(other, target) and target.stat().st_ino == source.stat().st_ino
    assert not intake._link(source, tmp_path / "missing-folder" / "name")


def test_a_link_a_killed_run_left_unchecked_is_not_kept_as_the_archived_file(tmp_path: Path) -> None:
    """A run killed between linking a file into the archive and checking it leaves a name that shares
    its inode with another (here a file outside the inbox with the same bytes, which its owner can still
    write). The next run does not take it for its copy: the archive gets a file of its own."""
    settings = make_settings(tmp_path)
    inputs = fill_inbox(settings)
    name, digest = next((name, digest) for name, digest in inputs.items() if "/" not in name and "2016" in name)
    center = name.split("_")[0]
    outside = tmp_path / "outside.csv"
    shutil.copy2(settings.inbox_dir / name, outside)
    leftover = settings.archive_dir / "2016" / f"{center}_2016_{digest[:16]}.csv"
    leftover.parent.mkdir(parents=True)
    os.link(outside, leftover)

    run_steps(settings)

    stored = query(
        settings.warehouse_path, f"select stored_path from raw.received_files where file_name = '{name}'"
    ).stored_path.item()
    assert Path(stored) == leftover
    assert not leftover.samefile(outside) and leftover.stat().st_nlink == 1
    outside.write_bytes(b"written again through the other name")
    assert hashlib.sha256(leftover.read_bytes()).hexdigest() == digest
