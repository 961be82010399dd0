"""Finding submission files in the inbox and reading them as text tables.

Every value is kept as the text the center wrote; interpretation is the schemas' job. Row numbers
and cell addresses are those a spreadsheet shows (header = row 1), so messages point at real cells.
Listing a folder, reading a file and parsing it each run inside the per-file boundary
(``schemas/containment.py``): whatever one of them raises is that file's outcome alone.
"""

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import cache, partial
from itertools import islice
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, TypedDict

from hikikomori.domain.text import printable
from hikikomori.domain.vocabulary import FileStep
from hikikomori.schemas.containment import StepFailure, contained, describe_error
from hikikomori.schemas.limits import InputLimits
from hikikomori.schemas.rules import Issue

if TYPE_CHECKING:  # the pre-check of a CSV never imports openpyxl
    from openpyxl.workbook.workbook import Workbook

SUBMISSION_COLUMNS = ("center_code", "fiscal_year", "measure", "category", "count")
# The template's read-only description column: shown to staff, never read as data.
TEMPLATE_LABEL_COLUMN = "項目名"
# The template's row of Japanese headings above the header row (what staff read; never data).
JAPANESE_HEADINGS = ("団体コード", "年度", "報告項目", "区分", "件数（入力欄）", "項目名")
# A writer that cannot write a file in one step names it so until it is complete (then renames it).
PARTIAL_SUFFIX = ".part"
# Marks an optional item in that column; such a row left without a count is not reported.
OPTIONAL_ITEM_MARK = "（任意）"
# ASCII digits only: Python's \d also matches full-width and other scripts' digits.
_FILE_NAME = re.compile(r"^(\d{6})_(\d{4})\.(csv|xlsx)$", re.IGNORECASE | re.ASCII)
_FOLDER_NAME = re.compile(r"^\d{6}$", re.ASCII)
_NAME_CHARACTER = re.compile(r"[A-Za-z0-9_.-]")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_./-]*")  # every character a _NAME_CHARACTER or a folder's "/"
_HASH_CHUNK = 1024 * 1024
# Uploads the portal hands over: inbox/_portal/<upload_id>/<center_code>_<fiscal_year>.<ext>, with
# the upload's manifest beside the file. The portal builds each folder under a hidden name and renames
# it into place, so a visible folder is complete; no upload ever shares a folder with another.
PORTAL_FOLDER = "_portal"
PORTAL_MANIFEST = "upload.json"
# Parts of a workbook that run or fetch something: the template has none of them.
_XLSX_MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")
_XLSX_EXTERNAL_LINK_PARTS = ("xl/externallinks/",)
_MAX_XLSX_COLUMNS = 100  # a submission has 5 columns; columns further right are not read


@dataclass(frozen=True)
class ReceivedFile:
    """A file taken from the inbox, read once into memory."""

    path: Path
    name: str  # as shown to people: relative to the inbox, e.g. "130001/130001_2016.csv"
    content: bytes
    sha256: str
    name_center_code: str | None
    name_fiscal_year: int | None
    folder: str | None  # the per-center folder it sat in, None when directly in the inbox
    size_bytes: int = 0
    modified_ns: int = 0  # the inbox entry's modification time when it was read
    changed_ns: int = 0  # its inode change time (local clock: a copy never carries the sender's over)
    # (device, inode, size, modification time) when read: what the run took in. A file whose status
    # differs later (before it is recorded, or removed) is not the file that was read.
    identity: tuple[int, int, int, int] | None = None
    # Why the file was not read at all (a symlink, over the size limit, still being written, unreadable);
    # ``content`` is then the link's target (symlink) or empty (the file stays on disk only).
    refusal: Issue | None = None

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @property
    def content_in_memory(self) -> bool:
        """False when the file was too large to read: it is copied from disk, never loaded."""
        return self.refusal is None or self.refusal.rule != "file_too_large"


@dataclass(frozen=True)
class TextTable:
    """A submission's header and data rows as text, with spreadsheet row numbers."""

    header: tuple[str, ...]
    column_letters: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    # (row, column) of workbook cells already reported (a formula, a date): not judged again as text
    flagged_cells: frozenset[tuple[int, str]] = frozenset()


@dataclass(frozen=True)
class PortalManifest:
    """``upload.json``: who uploaded a portal file, when, and for which center (the center it must be for)."""

    upload_id: str
    receipt: str  # SHA-256 of the file's bytes
    center_code: str  # the uploading account's center
    fiscal_year: int
    file_name: str  # as uploaded (shown to people only)
    uploaded_at: str  # ISO 8601 in Japan time, e.g. 2017-06-15T10:20:30.123456+09:00
    username: str

    def to_json(self) -> bytes:
        return (json.dumps(self.__dict__, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def read(cls, folder: Path) -> "PortalManifest | None":
        """The folder's manifest, or None when it is missing or not one (never followed as a link)."""
        try:
            descriptor = os.open(folder / PORTAL_MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(descriptor, "rb") as handle:
                fields = json.loads(handle.read(64 * 1024))
            manifest = cls(**fields)
            datetime.fromisoformat(manifest.uploaded_at)
        except (OSError, ValueError, TypeError):
            return None
        return manifest


@dataclass(frozen=True)
class InboxListing:
    """What a run finds in the inbox: the submission files, and the folders it could not list."""

    files: list[Path]  # oldest first: portal uploads by their upload time, other files by modification time
    unlisted: list[tuple[Path, Issue]]  # a folder whose content is unknown, and why (left in the inbox)


def discover_submissions(inbox: Path) -> list[Path]:
    """The submission files in the inbox, oldest first (``list_inbox``'s files)."""
    return list_inbox(inbox).files


def list_inbox(inbox: Path) -> InboxListing:
    """Every file in the inbox, at any depth, oldest first; folders that cannot be listed, with why.

    Submissions sit directly in the inbox, in a per-center folder, or in one of the portal's upload
    folders (``_portal/<upload_id>/``). Files deeper than that are listed too, to be quarantined as
    ``file_too_deep`` rather than ignored. Hidden files and folders (names starting with ".", such as
    the portal's folders under construction) and Excel's lock files (``~$…``) are not submissions and
    stay where they are. Symbolic links are listed (to be refused, never followed); a linked folder is
    not entered. Anything else that is not a regular file (a pipe, a socket) is not a submission either.
    """
    if not inbox.is_dir():
        return InboxListing([], [])
    candidates: list[os.DirEntry[str]] = []
    unlisted: list[tuple[Path, Issue]] = []
    folders = [inbox]
    while folders:
        folder = folders.pop()
        entries = contained(FileStep.LIST, partial(_entries, folder))
        if isinstance(entries, StepFailure):
            unlisted.append((folder, entries.issue(display_name(folder.relative_to(inbox)) + "/")))
            continue
        for entry in entries:
            if entry.name.startswith((".", "~$")):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
            elif _is_candidate(entry) and not _is_portal_manifest(inbox, entry):
                candidates.append(entry)
    upload_times: dict[str, int] = {}
    ordered = sorted(candidates, key=lambda entry: (_arrival_ns(entry, upload_times), entry.path))
    return InboxListing([Path(entry.path) for entry in ordered], sorted(unlisted, key=lambda item: item[0]))


def unlisted_folder(folder: Path, issue: Issue) -> "ReceivedFile":
    """A folder the run could not list, as an inbox entry refused with the reason (it stays where it is)."""
    return ReceivedFile(folder, issue.file, b"", _sha256(b""), None, None, None, refusal=issue)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return list(entries)


def _is_portal_manifest(inbox: Path, entry: os.DirEntry[str]) -> bool:
    """An upload's ``upload.json`` (``_portal/<upload_id>/upload.json``): the hand-over's, not a submission."""
    if entry.name != PORTAL_MANIFEST:  # most entries: no path to take apart (17 µs a file)
        return False
    parts = Path(entry.path).relative_to(inbox).parts
    return len(parts) == 3 and parts[0] == PORTAL_FOLDER and parts[2] == PORTAL_MANIFEST


def _arrival_ns(entry: os.DirEntry[str], upload_times: dict[str, int]) -> int:
    """When a file arrived: a portal upload's time from its manifest, else the file's modification time.

    0 when the file cannot be looked at (it vanished, or cannot be read): reading it says why.
    """
    folder = os.path.dirname(entry.path)
    if os.path.basename(os.path.dirname(folder)) == PORTAL_FOLDER:
        if folder not in upload_times:
            manifest = PortalManifest.read(Path(folder))
            if manifest is not None:
                uploaded = datetime.fromisoformat(manifest.uploaded_at)
                upload_times[folder] = int(uploaded.timestamp()) * 10**9 + uploaded.microsecond * 1000
        if folder in upload_times:
            return upload_times[folder]
    try:
        return entry.stat(follow_symlinks=False).st_mtime_ns
    except OSError:
        return 0


def portal_upload_id(name: str) -> str | None:
    """The upload id of a file the portal handed over, from its inbox name ``_portal/<id>/<file>``."""
    # Split, not PurePosixPath(name).parts (13 µs a call, twice per file): inbox names are made from
    # relative paths (``as_posix``), so they never hold "//" or "." parts to normalise.
    parts = name.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == PORTAL_FOLDER else None


def remove_from_inbox(received: "ReceivedFile") -> Issue | None:
    """Remove a file taken in; a portal upload's folder goes with it once nothing else is left in it.

    A file whose status differs from when it was read (written again meanwhile) is not the file that
    was taken in: it stays, and the returned issue says why. Raises when the removal itself fails.
    """
    changed = changed_since_read(received)
    if changed is not None:
        return changed
    received.path.unlink(missing_ok=True)
    if portal_upload_id(received.name) is not None:
        _remove_upload_folder(received.path.parent)
    return None


def changed_since_read(received: "ReceivedFile") -> Issue | None:
    """``file_changed_after_read`` when the inbox entry is no longer the one read (None if it is, or is gone)."""
    if received.identity is None:
        return None
    try:
        now = received.path.lstat()
    except OSError:  # gone (what was read is what is taken), or not to be looked at: its removal will say
        return None
    current = (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns)
    if current == received.identity:
        return None
    return Issue(received.name, "file_changed_after_read", value=_change(received.identity, current))


def _change(before: tuple[int, int, int, int], after: tuple[int, int, int, int]) -> str:
    if before[:2] != after[:2]:
        return "replaced by another file"
    if before[2] != after[2]:
        return f"{before[2]:,} → {after[2]:,} bytes"
    return "modification time changed"


def remove_emptied_portal_uploads(inbox: Path) -> list[tuple[Path, Issue]]:
    """Upload folders left holding only their manifest (a run stopped between the two removals, or
    could not remove the folder); each one that still cannot be removed, with why (it stays)."""
    portal = inbox / PORTAL_FOLDER
    if not portal.is_dir() or portal.is_symlink():
        return []
    failures = []
    folders = contained(FileStep.LIST, partial(_entries, portal))
    for entry in [] if isinstance(folders, StepFailure) else folders:
        folder = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
            removed = contained(FileStep.REMOVE, partial(_remove_upload_folder, folder))
            if isinstance(removed, StepFailure):
                failures.append((folder, removed.issue(display_name(folder.relative_to(inbox)) + "/")))
    return failures


def _remove_upload_folder(folder: Path) -> None:
    if any(entry.name != PORTAL_MANIFEST for entry in folder.iterdir()):
        return  # another file is still waiting in it
    (folder / PORTAL_MANIFEST).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # something appeared meanwhile: the next run looks again
        folder.rmdir()


def _is_candidate(entry: os.DirEntry[str]) -> bool:
    return entry.is_symlink() or entry.is_file(follow_symlinks=False)


def receive(path: Path, inbox: Path, limits: InputLimits | None = None, now: float | None = None) -> ReceivedFile:
    """Read one inbox entry, within the limits, without ever following a symbolic link.

    Never raises: a file the run cannot read is returned refused (``file_inaccessible``, or
    ``file_vanished`` when it disappeared since it was listed) and stays where it is.
    A file named ``*.part``, or whose size or modification time changes while it is read, is left in
    the inbox for a later run (``file_partial``, ``file_still_being_written``). ``now`` (seconds since
    the epoch) turns on the optional settle time (``limits.settle_seconds``).
    """
    limits = limits or InputLimits()
    relative = path.relative_to(inbox)
    name = display_name(relative)
    details = _name_details(path, relative)
    received = contained(FileStep.READ, partial(_receive, path, relative, name, details, limits, now))
    if isinstance(received, StepFailure):
        return ReceivedFile(path, name, b"", _sha256(b""), **details, refusal=received.issue(name))
    return received


def display_name(relative: PurePath) -> str:
    """A name relative to the inbox, as stored and shown: bytes that are not UTF-8 written ``\\xff``.

    Control characters stay (they are checked, and escaped wherever a name is shown); the stray
    surrogates Python uses for undecodable bytes could not be stored or encoded.
    """
    text = relative.as_posix()
    return (
        text
        if text.isprintable()
        else "".join(printable(character) if 0xDC80 <= ord(character) < 0xDD00 else character for character in text)
    )


def _receive(
    path: Path, relative: Path, name: str, details: "_NameDetails", limits: InputLimits, now: float | None
) -> ReceivedFile:
    before = path.lstat()
    if stat.S_ISLNK(before.st_mode):
        target = os.readlink(path)
        content = os.fsencode(target)
        refusal = Issue(name, "file_symlink", value=target)
        return ReceivedFile(
            path,
            name,
            content,
            _sha256(content),
            **details,
            size_bytes=len(content),
            modified_ns=before.st_mtime_ns,
            changed_ns=before.st_ctime_ns,
            refusal=refusal,
        )
    if path.name.lower().endswith(PARTIAL_SUFFIX):
        return _refused_unread(path, name, details, before, Issue(name, "file_partial"))
    # A portal upload's folder is renamed into place complete: it never needs to settle.
    if now is not None and portal_upload_id(name) is None and _settling(before, now, limits):
        return _refused_unread(path, name, details, before, _still_being_written(name, before, now, limits))
    if before.st_size > limits.max_file_bytes:
        refusal = Issue(name, "file_too_large", value=f"{before.st_size:,}", expected=f"{limits.max_file_bytes:,}")
        return _refused_unread(path, name, details, before, refusal, hash_from_disk=True)
    # O_NOFOLLOW: refuse a link swapped in since the look above; O_NONBLOCK: never wait on a pipe.
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        # One byte more than its size shows a file that grew since it was looked at. Asking for the size
        # limit instead made Python set aside that much memory for each file (28 µs a file, not 11).
        content = handle.read(before.st_size + 1)
        after = os.fstat(handle.fileno())
    identity = (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns)
    if identity != (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns) or len(content) != after.st_size:
        changing = Issue(name, "file_still_being_written", value=_change(_identity(before), identity))
        return _refused_unread(path, name, details, after, changing)
    depth = _too_deep(relative)
    return ReceivedFile(
        path,
        name,
        content,
        _sha256(content),
        **details,
        size_bytes=len(content),
        modified_ns=after.st_mtime_ns,
        changed_ns=after.st_ctime_ns,
        identity=identity,
        refusal=Issue(name, "file_too_deep", value=depth) if depth else None,
    )


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _too_deep(relative: Path) -> str | None:
    """The folder of a file deeper than a submission may sit (``130001/old/``), or None."""
    parts = relative.parts
    allowed = 3 if parts[0] == PORTAL_FOLDER else 2
    return display_name(PurePosixPath(*parts[:-1])) + "/" if len(parts) > allowed else None


def received_from_bytes(
    name: str, content: bytes, center_code: str | None = None, limits: InputLimits | None = None
) -> ReceivedFile:
    """An uploaded file as a run would receive it from the inbox, without it ever being on disk.

    ``name`` is the name the file was uploaded under (its last part only; never used as a path);
    ``center_code`` is the uploading center's, checked as a per-center folder's would be.
    """
    limits = limits or InputLimits()
    base = PurePosixPath(name.replace("\\", "/")).name
    match = _FILE_NAME.match(base)
    refusal = None
    if len(content) > limits.max_file_bytes:
        refusal = Issue(base, "file_too_large", value=f"{len(content):,}", expected=f"{limits.max_file_bytes:,}")
    return ReceivedFile(
        Path(base),
        base,
        b"" if refusal else content,
        _sha256(content),
        name_center_code=match.group(1) if match else None,
        name_fiscal_year=int(match.group(2)) if match else None,
        folder=center_code,
        size_bytes=len(content),
        refusal=refusal,
    )


class _NameDetails(TypedDict):
    """What the inbox entry's name and place say (``ReceivedFile``'s fields of the same names)."""

    name_center_code: str | None
    name_fiscal_year: int | None
    folder: str | None


def _name_details(path: Path, relative: Path) -> _NameDetails:
    match = _FILE_NAME.match(path.name)
    return {
        "name_center_code": match.group(1) if match else None,
        "name_fiscal_year": int(match.group(2)) if match else None,
        "folder": _folder_center(path, relative),
    }


def _folder_center(path: Path, relative: Path) -> str | None:
    """The center a file's place in the inbox says it belongs to (None directly in the inbox).

    A per-center folder's name; for a portal upload, the uploading center in its manifest (an upload
    folder without a readable manifest names itself, which is no center, so its file is refused).
    """
    if len(relative.parts) == 1:
        return None
    if portal_upload_id(relative.as_posix()) is not None:
        manifest = PortalManifest.read(path.parent)
        return manifest.center_code if manifest is not None else "/".join(relative.parts[:2])
    return relative.parts[0]


def _settling(status: os.stat_result, now: float, limits: InputLimits) -> bool:
    """Changed less than ``settle_seconds`` ago by the local clock (the inode change time, which no copy
    carries over from a sender's clock); a time in the future (the local clock set back) is not waited on."""
    return 0 <= now - status.st_ctime_ns / 1e9 < limits.settle_seconds


def _still_being_written(name: str, status: os.stat_result, now: float, limits: InputLimits) -> Issue:
    age = now - status.st_ctime_ns / 1e9
    return Issue(name, "file_still_being_written", value=f"changed {age:.1f} s ago < {limits.settle_seconds:g} s")


def _refused_unread(
    path: Path,
    name: str,
    details: _NameDetails,
    status: os.stat_result,
    refusal: Issue,
    *,
    hash_from_disk: bool = False,
) -> ReceivedFile:
    digest = _sha256_of_file(path) if hash_from_disk else _sha256(b"")
    return ReceivedFile(
        path,
        name,
        b"",
        digest,
        **details,
        size_bytes=status.st_size,
        modified_ns=status.st_mtime_ns,
        changed_ns=status.st_ctime_ns,
        identity=_identity(status),
        refusal=refusal,
    )


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _sha256_of_file(path: Path) -> str:
    """Hashed in chunks: the file is never held in memory whole."""
    digest = hashlib.sha256()
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_name_issues(received: ReceivedFile) -> list[Issue]:
    """The file name must say whose file it is and for which year, and sit in the right folder."""
    issues = []
    unsafe = _unsafe_characters(received.name)
    if unsafe:
        issues.append(Issue(received.name, "file_name_characters", value=unsafe))
    elif received.name_center_code is None:
        issues.append(Issue(received.name, "file_name", value=Path(received.name).name))
    elif received.folder is not None and received.folder != received.name_center_code:
        folder_is_center = bool(_FOLDER_NAME.match(received.folder))
        issues.append(
            Issue(
                received.name,
                "folder_mismatch",
                value=received.name_center_code,
                expected=received.folder if folder_is_center else f"{received.folder} (6桁の団体コードではありません)",
            )
        )
    return issues


def _unsafe_characters(name: str) -> str:
    """The characters of a name (folder and file) outside A-Z a-z 0-9 _ . -, shown in brackets.

    ``..`` counts too: names are never used to build paths, but a name that looks like a path
    step is not one a center's file can have.
    """
    if ".." not in name and _SAFE_NAME.fullmatch(name):
        return ""  # every name the program writes: nothing to look at character by character
    found = sorted({char for char in name.replace("/", "") if not _NAME_CHARACTER.match(char)})
    shown = [f"「{char}」" if char.isprintable() and char != " " else repr(char) for char in found]
    if ".." in name:
        shown.append("「..」")
    return " ".join(shown)


def read_table(received: ReceivedFile, limits: InputLimits | None = None) -> tuple[TextTable | None, list[Issue]]:
    """The file's cells as text, or the reasons it cannot be read as a submission table."""
    limits = limits or InputLimits()
    if received.refusal is not None:
        return None, [received.refusal]
    if not received.content.strip():
        return None, [Issue(received.name, "file_empty")]
    flags: list[_CellFlag] = []
    if received.suffix == ".xlsx":
        rows, issues, flags = _xlsx_rows(received, limits)
    else:
        rows, issues = _csv_rows(received, limits)
    if rows is None:
        return None, issues
    table, table_issues = _table(received.name, rows)
    for flag in flags:
        column = table.header[flag.index] if table is not None and flag.index < len(table.header) else None
        issues.append(
            Issue(
                received.name,
                flag.rule,
                row=flag.row,
                column=column,
                cell=flag.cell,
                value=flag.text,
            )
        )
    if table is not None and flags:
        flagged = frozenset((flag.row, table.header[flag.index]) for flag in flags if flag.index < len(table.header))
        table = replace(table, flagged_cells=flagged)
    return table, issues + table_issues


@dataclass(frozen=True)
class _CellFlag:
    """A workbook cell whose content is not a value at all (a formula, a date)."""

    row: int
    index: int  # 0-based column position
    cell: str
    rule: str
    text: str


def _csv_rows(received: ReceivedFile, limits: InputLimits) -> tuple[list[tuple[int, list[str]]] | None, list[Issue]]:
    """The filled rows with their numbers; entirely empty rows (Excel's ``,,,,``) are skipped, not counted."""
    if b"\x00" in received.content:
        return None, [Issue(received.name, "file_not_text")]
    # UTF-8 (with or without BOM), else CP932: Excel's Shift_JIS, with NEC characters like ①.
    text = _decoded(received.content, "utf-8-sig")
    if text is None:
        mixed_line = _first_cp932_line_after_utf8(received.content)
        if mixed_line is not None:
            return None, [Issue(received.name, "file_mixed_encoding", row=mixed_line)]
        text = _decoded(received.content, "cp932")
        if text is None:
            return None, [Issue(received.name, "file_encoding")]
    reader = csv.reader(io.StringIO(text, newline=""))
    filled = ((number, row) for number, row in enumerate(reader, start=1) if _filled(row))
    try:
        rows = list(islice(filled, limits.max_rows + 1))  # the header, then at most max_rows filled rows
        if next(filled, None) is not None:  # read no further than that: what follows is not parsed
            return None, [Issue(received.name, "too_many_rows", expected=f"{limits.max_rows:,}")]
    except csv.Error as error:  # e.g. a field longer than the csv module's limit
        return None, [Issue(received.name, "csv_malformed", row=reader.line_num, value=str(error))]
    return rows, []


def _filled(values: list[str]) -> bool:
    return bool("".join(values).strip())  # some cell has more than spaces


def _first_cp932_line_after_utf8(content: bytes) -> int | None:
    """In a file that is not UTF-8 as a whole, the first CP932 line if other lines are UTF-8 text.

    A file assembled from two sources: read as either encoding, one part is garbled or
    unreadable. ASCII-only lines are both and prove nothing.
    """
    if _decodes(content, "utf-8-sig"):
        return None
    has_utf8_text, first_other = False, None
    for number, line in enumerate(content.splitlines(), start=1):
        if line.isascii():
            continue
        if _decodes(line, "utf-8-sig"):
            has_utf8_text = True
        elif first_other is None and _decodes(line, "cp932"):
            first_other = number
    return first_other if has_utf8_text else None


def _decodes(content: bytes, encoding: str) -> bool:
    return _decoded(content, encoding) is not None


def _decoded(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None


def _workbook_issues(received: ReceivedFile, limits: InputLimits) -> list[Issue]:
    """What the zip container says before anything is unpacked: its size, macros, external links.

    The sizes are those the zip declares; Python's zipfile never unpacks a member beyond its
    declared size, so the declared total bounds what reading can cost.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(received.content)) as archive:
            members = archive.infolist()
    except Exception as error:  # not a zip, a truncated one, a forged directory …
        return [Issue(received.name, "xlsx_unreadable", value=describe_error(error))]
    issues = []
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_xlsx_uncompressed_bytes:
        issues.append(
            Issue(
                received.name,
                "xlsx_too_large",
                value=f"{unpacked:,}",
                expected=f"{limits.max_xlsx_uncompressed_bytes:,}",
            )
        )
    names = [member.filename for member in members]
    macros = [name for name in names if name.lower().rsplit("/", 1)[-1] in _XLSX_MACRO_PARTS]
    if macros:
        issues.append(Issue(received.name, "xlsx_macros", value=", ".join(macros)))
    links = [name for name in names if name.lower().startswith(_XLSX_EXTERNAL_LINK_PARTS)]
    if links:
        issues.append(Issue(received.name, "xlsx_external_links", value=", ".join(links)))
    return issues


def _xlsx_rows(
    received: ReceivedFile, limits: InputLimits
) -> tuple[list[tuple[int, list[str]]] | None, list[Issue], list[_CellFlag]]:
    from openpyxl import load_workbook  # only .xlsx submissions pay for openpyxl's workbook reader

    container_issues = _workbook_issues(received, limits)
    if container_issues:
        return None, container_issues, []
    try:
        # defusedxml (a dependency) makes openpyxl refuse XML entity expansion ("billion laughs").
        workbook = load_workbook(io.BytesIO(received.content), read_only=True, data_only=False)
    except Exception as error:  # a damaged zip member (zlib.error), Deflate64, an encrypted member, bad XML …
        return None, [Issue(received.name, "xlsx_unreadable", value=describe_error(error))], []
    try:
        return _sheet_rows(received, workbook, limits)
    except Exception as error:  # read-only workbooks unpack and parse the sheet lazily, row by row
        return None, [Issue(received.name, "xlsx_unreadable", value=describe_error(error))], []
    finally:
        workbook.close()


def _sheet_rows(
    received: ReceivedFile, workbook: "Workbook", limits: InputLimits
) -> tuple[list[tuple[int, list[str]]] | None, list[Issue], list[_CellFlag]]:
    sheet = workbook.worksheets[0]
    # The sheet's declared <dimension> is the writer's claim, not its content: a read-only sheet would
    # stop at its last row and column and silently drop the cells beyond. Read what is there instead,
    # up to _MAX_XLSX_COLUMNS columns (a forged width must not cost 16,384 cells a row).
    sheet.reset_dimensions()
    rows: list[tuple[int, list[str]]] = []
    flags: list[_CellFlag] = []
    # Read-only sheets yield empty rows as EmptyCell tuples, which carry no row number: count them.
    for number, row in enumerate(sheet.iter_rows(min_row=1, max_col=_MAX_XLSX_COLUMNS), start=1):
        values = []
        row_flags = []
        for index, cell in enumerate(row):
            text, rule = _cell_text(cell.value, getattr(cell, "data_type", None))
            if rule is not None:
                row_flags.append(_CellFlag(number, index, f"{get_column_letter(index + 1)}{number}", rule, text))
            values.append(text)
        if not _filled(values):
            continue
        if len(rows) > limits.max_rows:  # the header, then at most max_rows filled rows
            return None, [Issue(received.name, "too_many_rows", expected=f"{limits.max_rows:,}")], []
        rows.append((number, values))
        flags.extend(row_flags)
    return rows, [], flags


def _cell_text(value: object, data_type: str | None) -> tuple[str, str | None]:
    """A cell as the text a CSV export would hold, and the rule it breaks, if any."""
    if value is None:
        return "", None
    if data_type == "f" or (isinstance(value, str) and value.startswith("=")):
        return str(value), "cell_formula"
    if isinstance(value, datetime | date | time):
        return value.isoformat(), "cell_date"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    return str(value), None


def _table(file_name: str, rows: list[tuple[int, list[str]]]) -> tuple[TextTable | None, list[Issue]]:
    """Check the header and row shapes. ``rows``: the filled rows, as both readers give them (entirely
    empty rows, Excel's ``,,,,``, are skipped there, not counted).

    The header is the first filled row with a ``center_code`` heading (the template has title
    rows above it), else the first filled row. Above it only titles may stand (one filled cell, or the
    template's row of Japanese headings): any other row there is reported (``row_above_header``),
    never dropped, so every filled row of an accepted file is loaded.
    """
    if not rows:
        return None, [Issue(file_name, "file_empty")]
    start = next(
        (position for position, (_, values) in enumerate(rows) if _is_header(values)),
        0,
    )
    header_row, raw_header = rows[start]
    above = [
        Issue(file_name, "row_above_header", row=number, value=_row_text(values), expected=str(header_row))
        for number, values in rows[:start]
        if not _is_title(values)
    ]
    header = [name.strip().lower() for name in raw_header]
    # Excel may leave empty columns to the right of the last heading; they carry no data.
    while header and not header[-1]:
        header.pop()
    issues = _header_issues(file_name, header_row, header)
    if issues:
        return None, above + issues
    issues = above
    data, row_issues = _data_rows(file_name, header, rows[start + 1 :])
    issues += row_issues
    if not data and not issues:
        issues.append(Issue(file_name, "no_data_rows"))
    return TextTable(tuple(header), _column_letters(len(header)), tuple(data)), issues


def _data_rows(
    file_name: str, header: list[str], rows: list[tuple[int, list[str]]]
) -> tuple[list[tuple[int, tuple[str, ...]]], list[Issue]]:
    """The rows below the header as wide as it (empty cells beyond it dropped), and those that are not."""
    width = len(header)
    has_item_labels = TEMPLATE_LABEL_COLUMN in header
    if not has_item_labels and all(len(values) == width for _, values in rows):
        return [(number, tuple(values)) for number, values in rows], []  # the usual file: nothing to look at
    data, issues = [], []
    for number, values in rows:
        used = len(values)
        while used > width and not values[used - 1].strip():
            used -= 1
        if used != width:
            issues.append(Issue(file_name, "row_length", row=number, value=str(used), expected=str(width)))
            continue
        if has_item_labels and _is_unreported_optional_item(header, values):
            continue
        data.append((number, tuple(values[:width])))
    return data, issues


@cache
def _column_letters(width: int) -> tuple[str, ...]:
    return tuple(get_column_letter(index) for index in range(1, width + 1))


def get_column_letter(index: int) -> str:
    """Excel's column letters for a 1-based column (1 → A, 27 → AA), without importing openpyxl:
    the CSV pre-check stays fast."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _is_title(values: list[str]) -> bool:
    """A title above the header: one filled cell (the template's titles), or the template's Japanese headings."""
    filled = [value.strip() for value in values if value.strip()]
    return len(filled) == 1 or tuple(filled) == JAPANESE_HEADINGS


def _row_text(values: list[str]) -> str:
    """A row as one value for a message: its cells joined with commas, trailing empty cells left out."""
    used = len(values)
    while used and not values[used - 1].strip():
        used -= 1
    text = ",".join(values[:used])
    return text if len(text) <= 80 else text[:79] + "…"


def _is_header(values: list[str]) -> bool:
    return any(value.strip().lower() == "center_code" for value in values)


def _is_unreported_optional_item(header: list[str], values: list[str]) -> bool:
    """A template row marked optional whose count was left empty: the center does not report it.

    ``header`` has the template's label column (``TEMPLATE_LABEL_COLUMN``)."""
    label = values[header.index(TEMPLATE_LABEL_COLUMN)].strip()
    return label.startswith(OPTIONAL_ITEM_MARK) and not values[header.index("count")].strip()


def _header_issues(file_name: str, row: int, header: list[str]) -> list[Issue]:
    issues = []
    duplicated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in SUBMISSION_COLUMNS if name not in header]
    unknown = [name or "(空欄)" for name in header if name not in (*SUBMISSION_COLUMNS, TEMPLATE_LABEL_COLUMN)]
    if missing:
        issues.append(Issue(file_name, "header_missing", row=row, value=", ".join(missing)))
    if unknown:
        issues.append(Issue(file_name, "header_unknown", row=row, value=", ".join(unknown)))
    if duplicated:
        issues.append(Issue(file_name, "header_duplicate", row=row, value=", ".join(duplicated)))
    return issues
