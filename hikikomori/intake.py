"""Taking validated files out of the inbox without ever losing or double-counting one.

Order, for the whole batch of a run: (1) write every file to the archive or quarantine
(atomically, read-only) and sync them to disk, (2) record them all in the warehouse in one
transaction, (3) only then remove them from the inbox. A crash before (2) commits leaves the files
in the inbox to be taken again; a crash between (2) and (3) leaves copies the next run recognises by
their content hash as already loaded. Batching keeps this order while paying one disk sync and one
commit per run instead of one per file.
"""

import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hikikomori.error_reports import issues_csv, issues_text
from hikikomori.settings import Settings
from hikikomori.validation import ValidatedFile
from warehouse.loading import Receipt, record_receipts

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file, for the run summary."""

    file_name: str
    outcome: str  # accepted | rejected | duplicate
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
    receipts = [_store(result, settings, run_id) for result in validated]
    # (1) done: one sync makes every copy written above durable before the commit records it.
    os.sync()
    recorded = record_receipts(  # (2)
        connection,
        receipts,
        rows={
            receipt.receipt_id: result.rows
            for receipt, result in zip(receipts, validated, strict=True)
            if result.rows is not None
        },
        issues={
            receipt.receipt_id: result.issues
            for receipt, result in zip(receipts, validated, strict=True)
            if result.issues
        },
    )
    for result in validated:  # (3)
        result.received.path.unlink(missing_ok=True)
    return [
        FileOutcome(
            receipt.file_name,
            outcome.outcome,
            receipt.center_code,
            receipt.fiscal_year,
            outcome.version,
            receipt.issue_count,
            Path(receipt.stored_path),
        )
        for receipt, outcome in zip(receipts, recorded, strict=True)
    ]


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
    return Receipt(
        receipt_id=str(uuid.uuid4()),
        run_id=run_id,
        file_name=received.name,
        content_sha256=received.sha256,
        size_bytes=len(received.content),
        center_code=result.center_code,
        fiscal_year=result.fiscal_year,
        outcome="accepted" if result.accepted else "rejected",
        stored_path=str(stored),
        received_at=datetime.now(UTC),
        issue_count=len(result.issues),
    )


def _archive(result: ValidatedFile, archive_dir: Path) -> Path:
    """Content-addressed: the same bytes always land on the same path, so a retry is harmless."""
    received = result.received
    folder = archive_dir / str(result.center_code) / str(result.fiscal_year)
    target = folder / f"{result.center_code}_{result.fiscal_year}_{received.sha256[:16]}{received.suffix}"
    _write_read_only(target, received.content)
    return target


def _quarantine(result: ValidatedFile, quarantine_dir: Path) -> Path:
    """The rejected file with its error reports beside it, named after file and content."""
    received = result.received
    safe_name = _UNSAFE_NAME_CHARACTERS.sub("_", Path(received.name).name).lstrip(".") or "submission"
    target = quarantine_dir / f"{received.sha256[:16]}_{safe_name}"
    _write_read_only(Path(f"{target}.errors.csv"), issues_csv(result.issues))
    _write_read_only(Path(f"{target}.errors.txt"), issues_text(received.name, result.issues).encode("utf-8"))
    _write_read_only(target, received.content)
    return target


def _write_read_only(target: Path, content: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves a partial file behind.

    Not synced here: ``take_in`` syncs the whole batch at once before recording it. A copy a crash
    left incomplete is never recorded, and differs from the content, so it is rewritten next run.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() == content:
        return
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
