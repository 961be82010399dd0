"""Taking validated files out of the inbox without ever losing or double-counting one.

Order, for each batch: (1) write every file to the archive or quarantine (atomically, read-only)
and sync them to disk once, (2) record them all in the warehouse in one transaction, (3) write the
receipt of each accepted file beside its archived copy, (4) only then remove them from the inbox.
A crash before (2) commits leaves the files in the inbox to be taken again (their copies are
rewritten to the same paths); a crash between (2) and (4) leaves files the next run recognises as
already recorded (same name and content, unchanged since their receipt) and only removes (a receipt
missing after such a crash can be read back from raw.received_files and raw.submissions).
A file that may still be being written is left in the inbox, unrecorded, for a later run.
One sync and one commit per batch rather than per file: per file, loading thousands took minutes.
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

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.vocabulary import FileOutcome
from hikikomori.pipeline.error_reports import issues_csv, issues_text
from hikikomori.pipeline.receipts import AcceptanceReceipt, receipt_json, receipt_text
from hikikomori.schemas.files import PortalManifest, ReceivedFile, portal_upload_id, remove_from_inbox
from hikikomori.schemas.validation import Totals, ValidatedFile, totals_from_rows
from hikikomori.settings import Settings
from hikikomori.warehouse import Connection
from hikikomori.warehouse.loading import Receipt, receipts_of_taken_files, record_receipts

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_TEMPORARY_PREFIX = ".incoming-"


@dataclass(frozen=True)
class TakenFile:
    """One file taken from the inbox and what became of it, for the run summary."""

    file_name: str
    outcome: FileOutcome
    center_code: str | None
    fiscal_year: int | None
    version: int | None
    issue_count: int
    stored_path: Path


def take_in(
    validated: list[ValidatedFile],
    settings: Settings,
    connection: Connection,
    run_id: str,
) -> list[TakenFile]:
    """Archive, quarantine or set aside as duplicate every validated file; outcomes in arrival order."""
    _remove_interrupted_writes(settings.archive_dir, settings.quarantine_dir)
    outcomes: dict[int, TakenFile] = {}
    taken = receipts_of_taken_files(
        connection,
        [
            (result.received.name, result.received.sha256, _modified_at(result))
            for result in validated
            if not _still_being_written(result)
        ],
    )
    pending: list[tuple[int, ValidatedFile]] = []
    for index, result in enumerate(validated):
        received = result.received
        earlier = taken.get((received.name, received.sha256))
        if _still_being_written(result):
            outcomes[index] = TakenFile(
                received.name, FileOutcome.DEFERRED, result.center_code, result.fiscal_year, None, 1, received.path
            )
        elif earlier is not None:  # recorded before (a stopped run or retried step, or sent again unchanged)
            remove_from_inbox(received)
            receipt, version = earlier
            # Recorded by this very run (a retried step): its outcome stands. Recorded by an earlier run:
            # its data is already in, so an accepted file is a duplicate now, a rejected one still rejected.
            outcome = FileOutcome(receipt.outcome)
            if outcome is FileOutcome.ACCEPTED and receipt.run_id != run_id:
                outcome = FileOutcome.DUPLICATE
            outcomes[index] = _taken(receipt, outcome, version)
        else:
            pending.append((index, result))

    receipts = [_store(result, settings, run_id) for _, result in pending]
    os.sync()  # (1) done: one sync makes every copy written above durable before the commit records it
    recorded = record_receipts(  # (2)
        connection,
        receipts,
        rows={
            receipt.receipt_id: result.rows
            for receipt, (_, result) in zip(receipts, pending, strict=True)
            if result.rows is not None
        },
        issues={
            receipt.receipt_id: result.issues
            for receipt, (_, result) in zip(receipts, pending, strict=True)
            if result.issues
        },
    )
    for receipt, (index, result), record in zip(receipts, pending, recorded, strict=True):
        if record.version is not None and result.rows is not None:  # (3)
            _write_receipt(Path(receipt.stored_path), receipt, record.version, totals_from_rows(result.rows))
        remove_from_inbox(result.received)  # (4); a portal upload's emptied folder too
        outcomes[index] = _taken(receipt, FileOutcome(record.outcome), record.version)
    return [outcomes[index] for index in range(len(validated))]


def _still_being_written(result: ValidatedFile) -> bool:
    refusal = result.received.refusal
    return refusal is not None and refusal.rule == "file_still_being_written"


def _modified_at(result: ValidatedFile) -> datetime:
    return datetime.fromtimestamp(result.received.modified_ns / 1e9, UTC)


def _taken(receipt: Receipt, outcome: FileOutcome, version: int | None) -> TakenFile:
    return TakenFile(
        receipt.file_name,
        outcome,
        receipt.center_code,
        receipt.fiscal_year,
        version,
        receipt.issue_count,
        Path(receipt.stored_path),
    )


def _remove_interrupted_writes(*folders: Path) -> None:
    """Temporary files a killed run left half-written: never renamed, so never evidence.

    Safe while this run holds the warehouse's write lock: no other run is writing them.
    """
    for folder in folders:
        if folder.is_dir():
            for leftover in folder.rglob(f"{_TEMPORARY_PREFIX}*"):
                leftover.unlink(missing_ok=True)


def _store(result: ValidatedFile, settings: Settings, run_id: str) -> Receipt:
    """Write the file to the archive (valid) or quarantine (rejected); the receipt to record it by.

    A valid file is archived whether it turns out a new version or a duplicate: the archive path
    depends only on the content, so both cases store the same bytes at the same place.
    """
    received = result.received
    if result.accepted:
        assert result.center_code is not None and result.fiscal_year is not None
        stored = _archive(result, settings.archive_dir)
    else:
        stored = _quarantine(result, settings.quarantine_dir)
    received_at = datetime.now(UTC)
    return Receipt(
        receipt_id=str(uuid.uuid4()),
        run_id=run_id,
        file_name=received.name,
        content_sha256=received.sha256,
        size_bytes=received.size_bytes,
        center_code=result.center_code,
        fiscal_year=result.fiscal_year,
        outcome=FileOutcome.ACCEPTED if result.accepted else FileOutcome.REJECTED,
        stored_path=str(stored),
        received_at=received_at,
        issue_count=len(result.issues),
        submitted_at=submitted_at(received, received_at),
    )


def submitted_at(received: ReceivedFile, received_at: datetime) -> datetime:
    """When the file was submitted, the time its timeliness is judged by (CONTRACT.md §3 v2).

    A file the portal handed over was submitted when it was uploaded (its ``upload.json``); any other
    file when the pipeline takes it in. An upload time after the intake cannot be true: it is capped.
    """
    if portal_upload_id(received.name) is None:
        return received_at
    manifest = PortalManifest.read(received.path.parent)
    if manifest is None:
        return received_at
    uploaded = datetime.fromisoformat(manifest.uploaded_at)
    if uploaded.tzinfo is None:  # the portal writes Japan time with its offset; without one it is Japan time
        uploaded = uploaded.replace(tzinfo=JAPAN)
    return min(uploaded, received_at)


def _archive(result: ValidatedFile, archive_dir: Path) -> Path:
    """Content-addressed: the same bytes always land on the same path, so a retry is harmless."""
    received = result.received
    folder = archive_dir / str(result.center_code) / str(result.fiscal_year)
    target = folder / f"{result.center_code}_{result.fiscal_year}_{received.sha256[:16]}{received.suffix}"
    _write_read_only(target, received.content)
    return target


def _write_receipt(archived: Path, receipt: Receipt, version: int, totals: Totals) -> None:
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
    """Write via a temporary file and rename, so a crash never leaves a partial file behind.

    Not synced here: ``take_in`` syncs the whole batch at once before recording it. A copy a crash
    left incomplete is never recorded, and differs from the content, so it is rewritten next run.
    """
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
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
