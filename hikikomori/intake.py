"""Taking validated files out of the inbox without ever losing or double-counting one.

Order per file: (1) write the file to the archive or quarantine (atomically, read-only),
(2) record it in the warehouse in one transaction, (3) for an accepted file, write its receipt
beside the archived copy, (4) only then remove it from the inbox.
A crash before (2) leaves the file in the inbox to be taken again; a crash between (2) and (4)
leaves a copy the next run recognises by its content hash as already loaded (a receipt missing
after such a crash can be read back from raw.received_files and raw.submissions).
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
from hikikomori.plausibility import totals_from_rows
from hikikomori.receipts import AcceptanceReceipt, receipt_json, receipt_text
from hikikomori.settings import Settings
from hikikomori.validation import ValidatedFile
from warehouse.loading import Receipt, latest_accepted_sha256, record_receipt

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
    return [_take_in_one(result, settings, connection, run_id) for result in validated]


def _take_in_one(
    result: ValidatedFile, settings: Settings, connection: duckdb.DuckDBPyConnection, run_id: str
) -> FileOutcome:
    received = result.received
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
        size_bytes=len(received.content),
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
    target = quarantine_dir / f"{received.sha256[:16]}_{safe_name}"
    _write_read_only(Path(f"{target}.errors.csv"), issues_csv(result.issues))
    _write_read_only(Path(f"{target}.errors.txt"), issues_text(received.name, result.issues).encode("utf-8"))
    _write_read_only(target, received.content)
    return target


def _write_read_only(target: Path, content: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves a partial file behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() == content:
        return
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
