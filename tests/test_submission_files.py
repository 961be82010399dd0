"""Finding submission files and reading them as text tables (CONTRACT.md §1)."""

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter as openpyxl_letter

from hikikomori.schemas.files import (
    SUBMISSION_COLUMNS,
    TextTable,
    discover_submissions,
    file_name_issues,
    get_column_letter,
    list_inbox,
    read_table,
    receive,
)
from hikikomori.schemas.rules import Issue

HEADER = ",".join(SUBMISSION_COLUMNS)
NAME = "130001_2016.csv"


def read(inbox: Path, content: bytes, name: str = NAME) -> tuple[TextTable | None, list[Issue]]:
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return read_table(receive(path, inbox))


def touch(path: Path, mtime: int = 1_700_000_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "\n", encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [
        ("utf-8", "\n"),  # UTF-8, LF
        ("utf-8-sig", "\n"),  # UTF-8 with BOM, as Excel's "CSV UTF-8" saves it
        ("cp932", "\r\n"),  # Shift_JIS as Excel in Japan saves it, CRLF
        ("utf-8", "\r\n"),  # UTF-8 with CRLF
    ],
)
def test_reads_accepted_encodings_and_line_endings(tmp_path: Path, encoding: str, newline: str) -> None:
    lines = [HEADER, "130001,平成28年度,referrals,医療機関,723", "130001,H28,referrals,①その他,5"]
    table, issues = read(tmp_path, newline.join(lines).encode(encoding) + newline.encode())
    assert issues == []
    assert table is not None
    assert table.header == SUBMISSION_COLUMNS
    assert table.column_letters == ("A", "B", "C", "D", "E")
    assert table.rows == (
        (2, ("130001", "平成28年度", "referrals", "医療機関", "723")),
        (3, ("130001", "H28", "referrals", "①その他", "5")),
    )


def test_excel_empty_rows_are_ignored_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    content = f"{HEADER}\n,,,,\n130001,2016,consultations,total,1520\n,,,,\n,,,,\n".encode()
    table, issues = read(tmp_path, content)
    assert issues == []
    assert table is not None
    assert table.rows == ((3, ("130001", "2016", "consultations", "total", "1520")),)


def test_quoted_thousands_separator_is_one_field(tmp_path: Path) -> None:
    table, issues = read(tmp_path, f'{HEADER}\n130001,2016,referrals,total,"1,323"\n'.encode())
    assert issues == []
    assert table is not None
    assert table.rows == ((2, ("130001", "2016", "referrals", "total", "1,323")),)


def test_empty_trailing_columns_are_ignored(tmp_path: Path) -> None:
    content = f"{HEADER},,\n130001,2016,consultations,total,1520,,\n".encode()
    table, issues = read(tmp_path, content)
    assert issues == []
    assert table is not None
    assert table.header == SUBMISSION_COLUMNS
    assert table.rows == ((2, ("130001", "2016", "consultations", "total", "1520")),)


@pytest.mark.parametrize(
    ("header", "rule", "value"),
    [
        ("center_code,fiscal_year,measure,category", "header_missing", "count"),  # no count column
        (f"{HEADER},note", "header_unknown", "note"),  # an extra column
        (f"{HEADER},count", "header_duplicate", "count"),  # count twice
    ],
)
def test_header_problems(tmp_path: Path, header: str, rule: str, value: str) -> None:
    table, issues = read(tmp_path, f"{header}\n130001,2016,consultations,total,1520\n".encode())
    assert table is None
    assert issues == [Issue(NAME, rule, row=1, value=value)]


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"", "file_empty"),  # zero bytes
        (b"\r\n\r\n", "file_empty"),  # blank lines only
        (b",,,,\n,,,,\n", "file_empty"),  # Excel's empty rows only
        (b"PK\x03\x04\x00\x00binary", "file_not_text"),  # NUL bytes (e.g. a workbook renamed .csv)
        (HEADER.encode("utf-16"), "file_not_text"),  # UTF-16 text has NUL bytes too
        (f"{HEADER}\n130001,2016,consultations,total,".encode() + b"\x85\x40\n", "file_encoding"),
        # ^ neither UTF-8 nor CP932 (0x85 0x40 is unassigned in CP932)
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, rule: str) -> None:
    table, issues = read(tmp_path, content)
    assert [issue.rule for issue in issues] == [rule]
    assert issues[0].file == NAME
    assert issues[0].row is None
    assert table is None


@pytest.mark.parametrize(
    "content",
    [
        f"{HEADER}\n".encode(),  # header only
        f"{HEADER}\n,,,,\n,,,,\n".encode(),  # header and Excel's empty rows
    ],
)
def test_header_without_data_rows(tmp_path: Path, content: bytes) -> None:
    table, issues = read(tmp_path, content)
    assert issues == [Issue(NAME, "no_data_rows")]
    assert table is not None
    assert table.rows == ()


@pytest.mark.parametrize(
    ("row", "fields"),
    [
        ("130001,2016,consultations,1520", "4"),  # a missing field
        ("130001,2016,referrals,total,1,323", "6"),  # an unquoted thousands separator
    ],
)
def test_row_with_wrong_field_count(tmp_path: Path, row: str, fields: str) -> None:
    content = f"{HEADER}\n130001,2016,consultations,total,1520\n{row}\n".encode()
    table, issues = read(tmp_path, content)
    assert issues == [Issue(NAME, "row_length", row=3, value=fields, expected="5")]
    assert table is not None
    assert [number for number, _ in table.rows] == [2]


def test_discovers_files_in_the_inbox_and_center_folders_oldest_first(tmp_path: Path) -> None:
    newer = touch(tmp_path / "130001_2016.csv", mtime=1_700_000_100)
    older = touch(tmp_path / "010006" / "010006_2016.csv", mtime=1_700_000_000)
    for skipped in [
        ".DS_Store",  # hidden file
        "~$130001_2016.xlsx",  # Excel lock file
        "010006/~$010006_2016.xlsx",  # lock file in a center folder
        "010006/.130001_2015.csv",  # hidden file in a center folder
        ".trash/130001_2015.csv",  # file in a hidden folder
    ]:
        touch(tmp_path / skipped)
    assert discover_submissions(tmp_path) == [older, newer]


def test_files_deeper_than_a_center_folder_are_listed_to_be_refused(tmp_path: Path) -> None:
    """They were once skipped without a word; now each is quarantined as file_too_deep (its folder named)."""
    deep = touch(tmp_path / "010006" / "old" / "010006_2015.csv", mtime=1_700_000_000)
    deeper = touch(tmp_path / "_portal" / "upload-1" / "x" / "130001_2016.csv", mtime=1_700_000_100)
    assert discover_submissions(tmp_path) == [deep, deeper]
    assert receive(deep, tmp_path).refusal == Issue("010006/old/010006_2015.csv", "file_too_deep", value="010006/old/")
    refused = receive(deeper, tmp_path).refusal
    assert refused == Issue("_portal/upload-1/x/130001_2016.csv", "file_too_deep", value="_portal/upload-1/x/")


def test_a_folder_that_cannot_be_listed_is_reported_and_the_rest_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readable = touch(tmp_path / "130001_2016.csv")
    touch(tmp_path / "010006" / "010006_2016.csv")
    real_scandir = os.scandir

    def scandir(path: "os.PathLike[str] | str") -> "os.ScandirIterator[str]":
        if Path(path).name == "010006":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # as root, a folder's mode never stops a listing
    listing = list_inbox(tmp_path)
    assert listing.files == [readable]
    ((folder, issue),) = listing.unlisted
    assert folder == tmp_path / "010006"
    assert (issue.file, issue.rule, issue.outcome) == ("010006/", "file_inaccessible", "deferred")
    assert issue.value is not None and issue.value.startswith("list: PermissionError: [Errno 13] Permission denied")


def test_missing_inbox_has_no_submissions(tmp_path: Path) -> None:
    assert discover_submissions(tmp_path / "absent") == []


def test_receive_reads_the_name_and_folder(tmp_path: Path) -> None:
    path = touch(tmp_path / "130001" / "130001_2016.csv")
    received = receive(path, tmp_path)
    assert received.name == "130001/130001_2016.csv"
    assert received.folder == "130001"
    assert (received.name_center_code, received.name_fiscal_year) == ("130001", 2016)
    assert received.content == path.read_bytes()
    assert received.suffix == ".csv"


@pytest.mark.parametrize(
    "name",
    [
        "130001_2016.csv",  # canonical CSV
        "130001_2016.xlsx",  # the Excel template
        "130001/130001_2016.csv",  # in its own center folder
        "130001_2016.CSV",  # upper-case extension
    ],
)
def test_good_file_names(tmp_path: Path, name: str) -> None:
    assert file_name_issues(receive(touch(tmp_path / name), tmp_path)) == []


@pytest.mark.parametrize(
    "name",
    [
        "tokyo_2016.csv",  # no center code
        "130001-2016.csv",  # wrong separator
        "130001_H28.csv",  # era year instead of Western
        "13001_2016.csv",  # five-digit code
        "130001_2016.txt",  # wrong extension
        "130001.csv",  # no fiscal year
    ],
)
def test_bad_file_names(tmp_path: Path, name: str) -> None:
    issues = file_name_issues(receive(touch(tmp_path / name), tmp_path))
    assert issues == [Issue(name, "file_name", value=name)]


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("010006", "010006"),  # another center's folder
        ("tokyo", "tokyo (6桁の団体コードではありません)"),  # a folder that is not a center code
    ],
)
def test_file_in_the_wrong_folder(tmp_path: Path, folder: str, expected: str) -> None:
    received = receive(touch(tmp_path / folder / NAME), tmp_path)
    issues = file_name_issues(received)
    assert issues == [Issue(f"{folder}/{NAME}", "folder_mismatch", value="130001", expected=expected)]


@given(st.integers(min_value=1, max_value=16384))
def test_column_letters_match_openpyxl(index: int) -> None:
    assert get_column_letter(index) == openpyxl_letter(index)
