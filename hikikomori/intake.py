"""Taking validated files out of the inbox without ever losing or double-counting one.

Order per file: (1) write the file to the archive or quarantine (atomically, read-only),
(2) record it in the warehouse in one transaction, (3) for an accepted file, write its receipt
beside the archived copy, (4) only then remove it from the inbox.
A crash before (2) leaves the file in the inbox to be taken again (its archive or quarantine copy
is rewritten to the same path); a crash between (2) and (4) leaves a file the next run recognises
as already recorded (same name and content, unchanged since its receipt) and only removes (a
receipt missing after such a crash can be read back from raw.received_files and raw.submissions).
A file that may still be being written is left in the inbox, unrecorded, for a later run.
"""

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb

from hikikomori.error_reports import issues_csv, issues_text
from hikikomori.plausibility import totals_from_rows
from hikikomori.receipts import AcceptanceReceipt, receipt_json, receipt_text
from hikikomori.settings import Settings
from hikikomori.validation import ValidatedFile
from warehouse.loading import Receipt, latest_accepted_sha256, receipt_of_taken_file, record_receipt

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_TEMPORARY_PREFIX = ".incoming-"


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file, for the run summary."""

    file_name: str
    outcome: str  # accepted | rejected | duplicate | deferred (left in the inbox for the next run)
    center_code: str | None
    fiscal_year: int | None
    version: int | None
    issue_count: int
    stored_path: Path


def take_in(
    validated: list[ValidatedFile],
    settings: Settings,
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
) -> list[FileOutcome]:
    """Archive, quarantine or set aside as duplicate every validated file, in arrival order."""
    _remove_interrupted_writes(settings.archive_dir, settings.quarantine_dir)
    return [_take_in_one(result, settings, connection, run_id) for result in validated]


def _remove_interrupted_writes(*folders: Path) -> None:
    """Temporary files a killed run left half-written: never renamed, so never evidence.

    Safe while this run holds the warehouse's write lock: no other run is writing them.
    """
    for folder in folders:
        if folder.is_dir():
            for leftover in folder.rglob(f"{_TEMPORARY_PREFIX}*"):
                leftover.unlink(missing_ok=True)


def _take_in_one(
    result: ValidatedFile, settings: Settings, connection: duckdb.DuckDBPyConnection, run_id: str
) -> FileOutcome:
    received = result.received
    if received.refusal is not None and received.refusal.rule == "file_still_being_written":
        return FileOutcome(received.name, "deferred", result.center_code, result.fiscal_year, None, 1, received.path)
    modified_at = datetime.fromtimestamp(received.modified_ns / 1e9, UTC)
    earlier = receipt_of_taken_file(connection, received.name, received.sha256, modified_at)
    if earlier is not None:
        recorded, version = earlier
        received.path.unlink(missing_ok=True)
        return FileOutcome(
            received.name,
            recorded.outcome,
            recorded.center_code,
            recorded.fiscal_year,
            version,
            recorded.issue_count,
            Path(recorded.stored_path),
        )
    if result.accepted:
        assert result.center_code is not None and result.fiscal_year is not None
        latest = latest_accepted_sha256(connection, result.center_code, result.fiscal_year)
        outcome = "duplicate" if latest == received.sha256 else "accepted"
        stored = _archive(result, settings.archive_dir)
    else:
        outcome = "rejected"
        stored = _quarantine(result, settings.quarantine_dir)
    receipt = Receipt(
        receipt_id=str(uuid.uuid4()),
        run_id=run_id,
        file_name=received.name,
        content_sha256=received.sha256,
        size_bytes=received.size_bytes,
        center_code=result.center_code,
        fiscal_year=result.fiscal_year,
        outcome=outcome,
        stored_path=str(stored),
        received_at=datetime.now(UTC),
        issue_count=len(result.issues),
    )
    version = record_receipt(
        connection,
        receipt,
        rows=result.rows if outcome == "accepted" else None,
        issues=result.issues,
    )
    if version is not None and result.rows is not None:
        _write_receipt(stored, receipt, version, totals_from_rows(result.rows))
    received.path.unlink(missing_ok=True)
    return FileOutcome(
        received.name,
        outcome,
        result.center_code,
        result.fiscal_year,
        version,
        len(result.issues),
        stored,
    )


def _archive(result: ValidatedFile, archive_dir: Path) -> Path:
    """Content-addressed: the same bytes always land on the same path, so a retry is harmless."""
    received = result.received
    folder = archive_dir / str(result.center_code) / str(result.fiscal_year)
    target = folder / f"{result.center_code}_{result.fiscal_year}_{received.sha256[:16]}{received.suffix}"
    _write_read_only(target, received.content)
    return target


def _write_receipt(archived: Path, receipt: Receipt, version: int, totals: dict[str, int]) -> None:
    """``<archived>.receipt.txt`` and ``.json``; the same content sent again as a later version
    (going back to an earlier file) lands on the same archive path, so its receipt shows the latest."""
    assert receipt.center_code is not None and receipt.fiscal_year is not None
    acceptance = AcceptanceReceipt(
        receipt.file_name,
        receipt.center_code,
        receipt.fiscal_year,
        receipt.content_sha256,
        receipt.received_at,
        version,
        totals,
    )
    _write_read_only(Path(f"{archived}.receipt.txt"), receipt_text(acceptance))
    _write_read_only(Path(f"{archived}.receipt.json"), receipt_json(acceptance))


def _quarantine(result: ValidatedFile, quarantine_dir: Path) -> Path:
    """The rejected file with its error reports beside it, named after file and content."""
    received = result.received
    safe_name = _UNSAFE_NAME_CHARACTERS.sub("_", Path(received.name).name).lstrip(".") or "submission"
    # A symbolic link is kept as the text of its target (never the target's content).
    link = ".symlink" if received.refusal is not None and received.refusal.rule == "file_symlink" else ""
    target = quarantine_dir / f"{received.sha256[:16]}_{safe_name}{link}"
    _write_read_only(Path(f"{target}.errors.csv"), issues_csv(result.issues))
    _write_read_only(Path(f"{target}.errors.txt"), issues_text(received.name, result.issues).encode("utf-8"))
    if received.content_in_memory:
        _write_read_only(target, received.content)
    else:
        _copy_read_only(target, received.path)
    return target


def _write_read_only(target: Path, content: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves a partial file behind."""
    if target.exists() and target.read_bytes() == content:
        return
    _replace_read_only(target, lambda handle: handle.write(content))


def _copy_read_only(target: Path, source: Path) -> None:
    """A file too large to read into memory, copied in chunks; a link is never followed."""
    descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as reader:
        _replace_read_only(target, lambda handle: shutil.copyfileobj(reader, handle))


def _replace_read_only(target: Path, write: Callable[[BinaryIO], object]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=_TEMPORARY_PREFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
