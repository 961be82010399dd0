"""Finding submission files in the inbox and reading them as text tables.

Every value is kept as the text the center wrote; interpretation is the schemas' job. Row numbers
and cell addresses are those a spreadsheet shows (header = row 1), so messages point at real cells.
"""

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path

from schemas.issues import Issue

SUBMISSION_COLUMNS = ("center_code", "fiscal_year", "measure", "category", "count")
SUBMISSION_SUFFIXES = (".csv", ".xlsx")
_FILE_NAME = re.compile(r"^(\d{6})_(\d{4})\.(csv|xlsx)$", re.IGNORECASE)
_FOLDER_NAME = re.compile(r"^\d{6}$")


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

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


@dataclass(frozen=True)
class TextTable:
    """A submission's header and data rows as text, with spreadsheet row numbers."""

    header: tuple[str, ...]
    column_letters: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    # (row, column) of workbook cells already reported (a formula, a date): not judged again as text
    flagged_cells: frozenset[tuple[int, str]] = frozenset()


def discover_submissions(inbox: Path) -> list[Path]:
    """Files directly in the inbox and in its per-center folders, oldest first.

    Hidden files and Excel's lock files (``~$…``) are not submissions and stay where they are.
    """
    if not inbox.is_dir():
        return []
    candidates = [path for path in inbox.iterdir() if path.is_file()]
    for folder in inbox.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            candidates.extend(path for path in folder.iterdir() if path.is_file())
    submissions = [path for path in candidates if not path.name.startswith((".", "~$"))]
    return sorted(submissions, key=lambda path: (path.stat().st_mtime_ns, str(path)))


def receive(path: Path, inbox: Path) -> ReceivedFile:
    content = path.read_bytes()
    relative = path.relative_to(inbox)
    folder = relative.parts[0] if len(relative.parts) > 1 else None
    match = _FILE_NAME.match(path.name)
    return ReceivedFile(
        path=path,
        name=relative.as_posix(),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        name_center_code=match.group(1) if match else None,
        name_fiscal_year=int(match.group(2)) if match else None,
        folder=folder,
    )


def file_name_issues(received: ReceivedFile) -> list[Issue]:
    """The file name must say whose file it is and for which year, and sit in the right folder."""
    issues = []
    if received.name_center_code is None:
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


def read_table(received: ReceivedFile) -> tuple[TextTable | None, list[Issue]]:
    """The file's cells as text, or the reasons it cannot be read as a submission table."""
    if not received.content.strip():
        return None, [Issue(received.name, "file_empty")]
    flags: list[_CellFlag] = []
    if received.suffix == ".xlsx":
        rows, issues, flags = _xlsx_rows(received)
    else:
        rows, issues = _csv_rows(received)
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


def _csv_rows(received: ReceivedFile) -> tuple[list[tuple[int, list[str]]] | None, list[Issue]]:
    if b"\x00" in received.content:
        return None, [Issue(received.name, "file_not_text")]
    text = _decode(received.content)
    if text is None:
        return None, [Issue(received.name, "file_encoding")]
    reader = csv.reader(io.StringIO(text, newline=""))
    return [(number, row) for number, row in enumerate(reader, start=1)], []


def _decode(content: bytes) -> str | None:
    """UTF-8 (with or without BOM), else CP932: Excel's Shift_JIS, with NEC characters like ①."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _xlsx_rows(
    received: ReceivedFile,
) -> tuple[list[tuple[int, list[str]]] | None, list[Issue], list[_CellFlag]]:
    from openpyxl import load_workbook  # only .xlsx submissions pay for openpyxl's workbook reader

    try:
        workbook = load_workbook(io.BytesIO(received.content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        return None, [Issue(received.name, "xlsx_unreadable", value=type(error).__name__)], []
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        flags: list[_CellFlag] = []
        for row in sheet.iter_rows():
            values = []
            for index, cell in enumerate(row):
                text, rule = _cell_text(cell.value, getattr(cell, "data_type", None))
                if rule is not None:
                    flags.append(_CellFlag(cell.row, index, cell.coordinate, rule, text))
                values.append(text)
            if row:
                rows.append((row[0].row, values))
        return rows, [], flags
    finally:
        workbook.close()


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
    """Check the header and row shapes; entirely empty rows (Excel's ``,,,,``) are skipped."""
    filled = [(number, values) for number, values in rows if any(value.strip() for value in values)]
    if not filled:
        return None, [Issue(file_name, "file_empty")]
    header_row, raw_header = filled[0]
    header = [name.strip().lower() for name in raw_header]
    # Excel may leave empty columns to the right of the last heading; they carry no data.
    while header and not header[-1]:
        header.pop()
    issues = _header_issues(file_name, header_row, header)
    if issues:
        return None, issues
    width = len(header)
    data: list[tuple[int, tuple[str, ...]]] = []
    for number, values in filled[1:]:
        used = len(values)
        while used > width and not values[used - 1].strip():
            used -= 1
        if used != width:
            issues.append(Issue(file_name, "row_length", row=number, value=str(used), expected=str(width)))
            continue
        data.append((number, tuple(values[:width])))
    if not data and not issues:
        issues.append(Issue(file_name, "no_data_rows"))
    letters = tuple(column_letter(index) for index in range(1, width + 1))
    return TextTable(tuple(header), letters, tuple(data)), issues


def column_letter(number: int) -> str:
    """A spreadsheet's column name for a 1-based column number: 1 → A, 27 → AA.

    Written here rather than imported from openpyxl: importing openpyxl costs the pre-check of a CSV
    about as much as the rest of its work.
    """
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _header_issues(file_name: str, row: int, header: list[str]) -> list[Issue]:
    issues = []
    duplicated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in SUBMISSION_COLUMNS if name not in header]
    unknown = [name or "(空欄)" for name in header if name not in SUBMISSION_COLUMNS]
    if missing:
        issues.append(Issue(file_name, "header_missing", row=row, value=", ".join(missing)))
    if unknown:
        issues.append(Issue(file_name, "header_unknown", row=row, value=", ".join(unknown)))
    if duplicated:
        issues.append(Issue(file_name, "header_duplicate", row=row, value=", ".join(duplicated)))
    return issues
