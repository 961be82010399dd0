"""Taking validated files out of the inbox without ever losing or double-counting one.

Order, for each batch: (1) write every file to the archive or quarantine (atomically, readable by
the service only; an accepted file that is the service's own and has no other name is linked there
rather than copied, see ``_PrivateFiles.keep``) and sync them to disk once, (2) record them all in the
warehouse in one transaction, with what the run did with each file it found (``ops.run_files``), (3) only
then remove them from the inbox. Batches overlap only where that order allows: one thread records batch
k (2) while the run writes batch k + 1 (1), then removes batch k (3) once its commit returned.
A crash before (2) commits leaves the files in the inbox to be taken again
(their copies are rewritten to the same paths); a crash between (2) and (3) leaves files the next run
recognises as already recorded (same name and content, their inode unchanged since they were received)
and only removes. A file held back (still being written, unreadable, not checked) is left in the inbox,
unrecorded except for its reason in ``ops.run_files``, for a later run.

An accepted file's receipt is its record: ``hikikomori receipt`` reads it from the warehouse
(``pipeline/receipts.py``). No receipt file is written per file: creating files is the costliest part of
taking one in (``docs/performance.md``), and a receipt read from the record never differs from it.

Each step on each file runs inside the per-file boundary (``schemas/containment.py``): a file that
cannot be stored or recorded stays in the inbox with its reason; after the commit, a removal that fails
is reported beside the file's outcome. One file never stops the others, nor the run.
One sync and one commit per batch rather than per file: per file, loading thousands took minutes.
"""

import hashlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.vocabulary import FileOutcome, FileStep
from hikikomori.pipeline.error_reports import issues_csv, issues_text
from hikikomori.schemas.containment import StepFailure, contained
from hikikomori.schemas.files import (
    PortalManifest,
    ReceivedFile,
    changed_since_read,
    portal_upload_id,
    remove_from_inbox,
)
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.validation import ValidatedFile
from hikikomori.settings import Settings
from hikikomori.warehouse import Connection
from hikikomori.warehouse.errors import retry_can_fix
from hikikomori.warehouse.loading import Receipt, Recorded, receipts_of_taken_files, record_receipts
from hikikomori.warehouse.run_audit import RunFile, note_run_files

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_TEMPORARY_PREFIX = ".incoming-"
_MAX_QUARANTINE_NAME = 120  # characters of the file's own name kept in its quarantine name (+ 26 + suffixes)
STORED_FILE_MODE = 0o400  # what centers send, and what is written about it: readable by the service only
STORED_FOLDER_MODE = 0o700
# A new file only (never through a link), written by this process only.
_CREATE_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class TakenFile:
    """One file found in the inbox and what became of it, for the run summary."""

    file_name: str
    outcome: FileOutcome
    center_code: str | None
    fiscal_year: int | None
    version: int | None
    issue_count: int
    stored_path: Path  # its copy in the archive or quarantine; the inbox entry itself when not taken in
    # Why it is still in the inbox (deferred), or is gone; or what went wrong after it was recorded.
    reason: Issue | None = None


def take_in(
    validated: list[ValidatedFile],
    settings: Settings,
    connection: Connection,
    run_id: str,
    *,
    batch_size: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[TakenFile]:
    """Archive, quarantine, set aside as duplicate or leave every validated file; outcomes in arrival order.

    In batches of ``batch_size`` files (all at once by default), each taken in by the three steps of the
    module's docstring. A second thread records the batches in the warehouse, one after the other, while
    this one writes and syncs the next batch's copies: a batch's (2) starts only after its own (1) is
    synced, its (3) only after its own (2) committed; the batches' commits keep their order (versions
    are numbered in arrival order). Storing a batch while the one before commits saved a third of the
    load step's time (``docs/performance.md``). From the first batch's submission until this returns,
    only that thread uses ``connection``. Should a batch's recording fail, no later batch is recorded;
    should this thread fail or be stopped, the batches not started are dropped and the one being
    recorded ends before the error goes on (its files, recorded and still in the inbox, are recognised
    and only removed by the next attempt). ``on_progress(done, total)`` after each batch.
    """
    # One look for the whole list: a file recorded by this run's batch k cannot reappear in batch k + 1
    # (an inbox name is listed once).
    taken = receipts_of_taken_files(
        connection,
        [
            (result.received.name, result.received.sha256, _changed_at(result))
            for result in validated
            if result.held is None
        ],
    )
    size = batch_size or max(len(validated), 1)
    files = _PrivateFiles()
    outcomes: list[TakenFile] = []
    notes: list[Future[StepFailure | None]] = []
    recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hikikomori-record")

    def finish(batch: _Batch, recording: Future[list[Recorded | StepFailure]]) -> None:
        finished, reasons = _finish(batch, recording, run_id)
        outcomes.extend(finished)
        if reasons:  # the reasons are in the summary too
            notes.append(recorder.submit(contained, FileStep.RECORD, partial(note_run_files, connection, reasons)))
        if on_progress:
            on_progress(len(outcomes), len(validated))

    try:
        in_flight: tuple[_Batch, Future[list[Recorded | StepFailure]]] | None = None
        for start in range(0, len(validated), size):
            batch = _stage(validated[start : start + size], taken, settings, run_id, files)  # (1)
            before = in_flight[1] if in_flight else None
            recording = recorder.submit(_record_after, before, connection, batch.stored, batch.noted)  # (2)
            if in_flight is not None:
                finish(*in_flight)  # (3) of the batch before, once its (2) is committed
            in_flight = (batch, recording)
        if in_flight is not None:
            finish(*in_flight)
        for note in notes:
            note.result()
    except BaseException:
        recorder.shutdown(wait=True, cancel_futures=True)  # nothing touches the connection once this returns
        raise
    recorder.shutdown(wait=True)
    return outcomes


@dataclass
class _Batch:
    """One batch after step (1): its outcomes so far, the files stored to be recorded, the others' notes."""

    size: int
    outcomes: dict[int, TakenFile]
    stored: list[tuple[int, ValidatedFile, Receipt]]
    noted: list[RunFile]  # files this run does not record (again): their outcome and reason


def _stage(
    validated: list[ValidatedFile],
    taken: dict[tuple[str, str], tuple[Receipt, int | None]],
    settings: Settings,
    run_id: str,
    files: "_PrivateFiles",
) -> _Batch:
    """Step (1): every file of the batch stored (or left, or found recorded before), then one sync."""
    batch = _Batch(len(validated), {}, [], [])
    for index, result in enumerate(validated):
        received = result.received
        earlier = taken.get((received.name, received.sha256))
        if result.held is not None:
            batch.outcomes[index] = _held(result, result.held)
        elif earlier is not None:  # recorded before (a stopped run or retried step, or a removal that failed)
            receipt, version = earlier
            # Recorded by this very run (a retried step): its outcome stands. Recorded by an earlier run:
            # its data is already in, so an accepted file is a duplicate now, a rejected one still rejected.
            outcome = FileOutcome(receipt.outcome)
            if outcome is FileOutcome.ACCEPTED and receipt.run_id != run_id:
                outcome = FileOutcome.DUPLICATE
            batch.outcomes[index] = _remove(_taken(receipt, outcome, version), result)
        else:
            # Written again since it was read: what was checked is not what is there. The new content waits.
            reason = changed_since_read(received)
            if reason is None:
                stored = _store(result, settings, run_id, files)
                if not isinstance(stored, StepFailure):
                    batch.stored.append((index, result, stored))
                    continue
                reason = stored.issue(received.name)
            batch.outcomes[index] = _held(result, reason)
        receipt_id = earlier[0].receipt_id if earlier else None
        batch.noted.append(_run_file(run_id, batch.outcomes[index], receipt_id=receipt_id))
    os.sync()  # one sync makes every copy written above durable before the commit records it
    return batch


def _finish(
    batch: _Batch, recording: "Future[list[Recorded | StepFailure]]", run_id: str
) -> tuple[list[TakenFile], list[RunFile]]:
    """Step (3), once the batch's step (2) committed: each recorded file removed from the inbox.

    The batch's outcomes in arrival order, and what to note about files whose removal failed."""
    reasons: list[RunFile] = []
    for (index, result, receipt), record in zip(batch.stored, recording.result(), strict=True):
        if isinstance(record, StepFailure):
            batch.outcomes[index] = _held(result, record.issue(result.received.name))
            reasons.append(_run_file(run_id, batch.outcomes[index]))
            continue
        batch.outcomes[index] = _remove(_taken(receipt, FileOutcome(record.outcome), record.version), result)
        if batch.outcomes[index].reason is not None:
            reasons.append(_run_file(run_id, batch.outcomes[index], receipt_id=receipt.receipt_id))
    return [batch.outcomes[index] for index in range(batch.size)], reasons


def left_folder(folder: Path, reason: Issue) -> TakenFile:
    """A portal upload's folder, emptied by an earlier run, that could not be removed: it stays, with why."""
    return TakenFile(reason.file, FileOutcome.DEFERRED, None, None, None, 1, folder, reason)


def record_left_folders(connection: Connection, run_id: str, folders: list[TakenFile]) -> None:
    if folders:
        contained(FileStep.RECORD, partial(note_run_files, connection, [_run_file(run_id, item) for item in folders]))


def _record_after(
    before: "Future[list[Recorded | StepFailure]] | None",
    connection: Connection,
    stored: list[tuple[int, ValidatedFile, Receipt]],
    noted: list[RunFile],
) -> list["Recorded | StepFailure"]:
    """Step (2) of a batch once the batch before is recorded (the recording thread takes them in order);
    not at all if that one failed: after an error that stops the load, no later batch is recorded, and
    its files stay in the inbox unrecorded, as before any batch overlapped."""
    if before is not None and before.exception() is not None:
        raise CancelledError
    return _record(connection, stored, noted)


def _record(
    connection: Connection, stored: list[tuple[int, ValidatedFile, Receipt]], noted: list[RunFile]
) -> list["Recorded | StepFailure"]:
    """The batch in one transaction; if the warehouse refuses it for one file's sake, each file in its own.

    A lock or I/O error is the run's, not a file's: it is raised (the load step is retried, and the
    files recorded by then are recognised). Any other refusal leaves only the refused file in the inbox.
    """
    receipts = [receipt for _, _, receipt in stored]
    rows = {receipt.receipt_id: result.loaded for _, result, receipt in stored if result.loaded is not None}
    issues = {receipt.receipt_id: result.issues for _, result, receipt in stored if result.issues}
    try:
        return list(record_receipts(connection, receipts, rows=rows, issues=issues, run_files=noted))
    except Exception as error:
        if retry_can_fix(error):
            raise
    contained(FileStep.RECORD, partial(record_receipts, connection, [], rows={}, issues={}, run_files=noted))
    alone: list[Recorded | StepFailure] = []
    for receipt in receipts:
        key = receipt.receipt_id
        one = contained(
            FileStep.RECORD,
            partial(
                record_receipts,
                connection,
                [receipt],
                rows={key: rows[key]} if key in rows else {},
                issues={key: issues[key]} if key in issues else {},
                run_files=[],
            ),
        )
        alone.append(one if isinstance(one, StepFailure) else one[0])
    return alone


def _held(result: ValidatedFile, reason: Issue) -> TakenFile:
    """A file not taken in by this run: left in the inbox (deferred) or gone, with the reason."""
    received = result.received
    return TakenFile(
        received.name, reason.outcome, result.center_code, result.fiscal_year, None, 1, received.path, reason
    )


def _remove(taken_file: TakenFile, result: ValidatedFile) -> TakenFile:
    """Take the recorded file out of the inbox; if that fails or the file changed since it was read, say so."""
    removed = contained(FileStep.REMOVE, partial(remove_from_inbox, result.received))
    reason = removed.issue(taken_file.file_name) if isinstance(removed, StepFailure) else removed
    return replace(taken_file, reason=reason) if reason is not None else taken_file


def _run_file(run_id: str, taken_file: TakenFile, receipt_id: str | None = None) -> RunFile:
    reason = taken_file.reason
    return RunFile(
        run_id=run_id,
        file_name=taken_file.file_name,
        outcome=taken_file.outcome,
        receipt_id=receipt_id,
        reason_rule=reason.rule if reason else None,
        reason=f"{reason.message_ja} / {reason.message_en}" if reason else None,
    )


def _changed_at(result: ValidatedFile) -> datetime:
    """When the inbox entry's inode last changed (local clock): a copy made after a receipt always
    changed later, even one keeping the old modification time (``cp -p``)."""
    return datetime.fromtimestamp(result.received.changed_ns / 1e9, UTC)


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


def remove_interrupted_writes(settings: Settings) -> None:
    """Temporary files a killed run left half-written in the archive or quarantine: never renamed, so
    never evidence. Once per run, before it takes any file in (one walk, not one per batch).

    Safe while this run holds the warehouse's write lock: no other run is writing them.
    """
    for folder in (settings.archive_dir, settings.quarantine_dir):
        if folder.is_dir():
            for leftover in folder.rglob(f"{_TEMPORARY_PREFIX}*"):
                leftover.unlink(missing_ok=True)


def _store(result: ValidatedFile, settings: Settings, run_id: str, files: "_PrivateFiles") -> "Receipt | StepFailure":
    """Write the file to the archive (valid) or quarantine (rejected); the receipt to record it by.

    A valid file is archived whether it turns out a new version or a duplicate: the archive path
    depends only on the content, so both cases store the same bytes at the same place.
    """
    received = result.received
    if result.accepted:
        assert result.center_code is not None and result.fiscal_year is not None
        stored = contained(FileStep.STORE, partial(_archive, result, settings.archive_dir, files))
    else:
        stored = contained(FileStep.STORE, partial(_quarantine, result, settings.quarantine_dir, files))
    if isinstance(stored, StepFailure):
        return stored
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
    try:
        uploaded = datetime.fromisoformat(manifest.uploaded_at)
    except (TypeError, ValueError):  # a manifest damaged by hand: the file was submitted when taken in
        return received_at
    if uploaded.tzinfo is None:  # the portal writes Japan time with its offset; without one it is Japan time
        uploaded = uploaded.replace(tzinfo=JAPAN)
    return min(uploaded, received_at)


def _archive(result: ValidatedFile, archive_dir: Path, files: "_PrivateFiles") -> Path:
    """Content-addressed: the same bytes always land on the same path, so a retry is harmless.

    One folder per fiscal year (``archive/2016/130001_2016_<hash>.csv``), the center in the name: a
    folder per center and year cost a new folder for nearly every file (most centers send one file a
    year), and creating one costs as much as the file itself (``docs/performance.md``). Files archived
    before issue 15 stay in their ``archive/<center>/<year>/`` folders, where their records point.
    """
    received = result.received
    folder = archive_dir / str(result.fiscal_year)
    target = folder / f"{result.center_code}_{result.fiscal_year}_{received.sha256[:16]}{received.suffix}"
    files.keep(target, received)
    return target


def quarantine_name(file_name: str, content_sha256: str) -> str:
    """The content's hash, the name's hash, then the name (folder included) reduced to ``[A-Za-z0-9._-]``.

    The same bytes under different names (two wrong center folders) get different paths, so neither
    error report overwrites the other; the same file sent again lands on its earlier path. The name is
    cut (keeping its end, with the extension) so that with the report's suffix it stays far below the
    file system's 255 bytes.
    """
    safe = _UNSAFE_NAME_CHARACTERS.sub("_", file_name).lstrip("._") or "submission"
    name_hash = hashlib.sha256(file_name.encode("utf-8", "backslashreplace")).hexdigest()[:8]
    return f"{content_sha256[:16]}_{name_hash}_{safe[-_MAX_QUARANTINE_NAME:]}"


def _quarantine(result: ValidatedFile, quarantine_dir: Path, files: "_PrivateFiles") -> Path:
    """The rejected file with its error reports beside it."""
    received = result.received
    # A symbolic link is kept as the text of its target (never the target's content).
    link = ".symlink" if received.refusal is not None and received.refusal.rule == "file_symlink" else ""
    target = quarantine_dir / f"{quarantine_name(received.name, received.sha256)}{link}"
    files.write(Path(f"{target}.errors.csv"), issues_csv(result.issues))
    files.write(Path(f"{target}.errors.txt"), issues_text(received.name, result.issues).encode("utf-8"))
    if received.content_in_memory:
        files.write(target, received.content)
    else:
        files.copy(target, received.path)
    return target


def _link(source: Path, target: Path) -> bool:
    """A second name for ``source`` (never through a symbolic link); False when the name is taken or the
    file system refuses it."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        return False
    return True


class _PrivateFiles:
    """Writes the archive's and quarantine's files, readable by the service only, for one batch.

    Each file is written under a temporary name beside its target and renamed, so a crash never leaves
    a partial file behind (a link holds the whole file the moment it is made: see ``keep``). Not synced
    here: ``take_in`` syncs the whole batch at once before recording it. A copy a crash left incomplete
    is never recorded, and differs from the content, so it is rewritten next run. The folders known to
    exist are remembered: one look per folder, not per file.
    """

    def __init__(self) -> None:
        self._folders: set[Path] = set()

    def write(self, target: Path, content: bytes) -> None:
        if target.exists() and target.read_bytes() == content:
            os.chmod(target, STORED_FILE_MODE)  # a copy from before copies were private
            return
        self._replace(target, lambda handle: handle.write(content))

    def keep(self, target: Path, received: ReceivedFile) -> None:
        """The inbox file's own bytes at the target: the inbox entry linked there when it can be, else a copy.

        A link saves creating a file (the costliest step of taking a file in: ``docs/performance.md``).
        Only the very file that was read is linked: the service's own (no one else can change its mode
        or, once it is read-only, write to it), with no other name (nothing outside the inbox reaches
        it), the inode, size and time read, the same bytes; then it is made read-only, and once recorded
        its inbox name is removed: whatever is written to that name later is a new file. Anything else
        (another file system, links not allowed, another owner or name, changed since it was read) is
        copied as before.

        The link is made at the target itself, then checked; a file that fails the checks loses that
        name at once. Linking under a temporary name and renaming it cost a rename per file, as much as
        the link itself (20 µs of a file's 60 in the load step, ``docs/performance.md``). A link a
        killed run left unchecked is never recorded, and is not taken for a copy: a target already
        there is kept only when it is the service's own file with no other name and the same bytes;
        anything else there is replaced by a copy.
        """
        if self._linked(target, received) or self._private_copy(target, received.content):
            return
        self._replace(target, lambda handle: handle.write(received.content))

    def _linked(self, target: Path, received: ReceivedFile) -> bool:
        if received.identity is None or not received.content_in_memory:
            return False
        self._private_folders(target.parent)
        if not _link(received.path, target):
            return False
        try:
            descriptor = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(descriptor, "rb") as handle:
                status = os.fstat(descriptor)
                read = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
                only_inbox_and_archive = status.st_nlink == 2 and stat.S_ISREG(status.st_mode)
                if status.st_uid != os.geteuid() or read != received.identity or not only_inbox_and_archive:
                    target.unlink()
                    return False
                os.fchmod(descriptor, STORED_FILE_MODE)  # the inbox entry too, until it is removed
                if handle.read() != received.content:  # rewritten in place, keeping its size and time
                    target.unlink()
                    return False
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return True

    @staticmethod
    def _private_copy(target: Path, content: bytes) -> bool:
        """The target is already the service's own regular file, with no other name, holding ``content``
        (made read-only if it was not: a copy from before copies were private)."""
        try:
            descriptor = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:  # not there (the usual case), or a symbolic link: not a copy to keep
            return False
        with os.fdopen(descriptor, "rb") as handle:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid() or status.st_nlink != 1:
                return False
            if handle.read(len(content) + 1) != content:
                return False
            os.fchmod(descriptor, STORED_FILE_MODE)
        return True

    def copy(self, target: Path, source: Path) -> None:
        """A file too large to read into memory, copied in chunks; a link is never followed."""
        descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as reader:
            self._replace(target, lambda handle: shutil.copyfileobj(reader, handle))

    def _replace(self, target: Path, write: Callable[[BinaryIO], object]) -> None:
        """The temporary name is the target's own (one writer: the run holds the warehouse's lock), created
        exclusively with its final mode: no random name, no chmod. One a killed run left is removed when
        the next run starts (``remove_interrupted_writes``); should one be there all the same, it goes."""
        temporary = target.parent / f"{_TEMPORARY_PREFIX}{target.name}"
        descriptor = self._create(temporary)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write(handle)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _create(self, temporary: Path) -> int:
        self._private_folders(temporary.parent)
        try:
            return os.open(temporary, _CREATE_PRIVATE, STORED_FILE_MODE)
        except FileExistsError:
            temporary.unlink()
        except FileNotFoundError:  # its folder was removed since: made again
            self._folders.clear()
            self._private_folders(temporary.parent)
        return os.open(temporary, _CREATE_PRIVATE, STORED_FILE_MODE)

    def _private_folders(self, folder: Path) -> None:
        """Create the folder and its missing parents private (existing ones stay as they are)."""
        if folder in self._folders:
            return
        known = folder
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for created in reversed(missing):
            created.mkdir(mode=STORED_FOLDER_MODE, exist_ok=True)
        self._folders.add(known)
