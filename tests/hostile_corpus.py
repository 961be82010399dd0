"""A corpus of broken and hostile submission files, built tiny in a temporary inbox.

Each case says what the file is and the exact set of rule codes (``hikikomori.schemas.rules.RULES``) its
rejection must carry. The limits are lowered (``CORPUS_LIMITS``) so the size cases stay small.
Every case uses its own center code, so the valid files of the same run are never touched.
"""

import csv
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from helpers_validation import Row, altered, submission_rows, write_submission
from openpyxl import Workbook

from hikikomori.domain.center_codes import check_digit
from hikikomori.schemas.limits import InputLimits

CORPUS_LIMITS = InputLimits(
    max_file_bytes=256 * 1024,  # above the csv module's 131,072-character field limit, for csv_malformed
    max_rows=100,
    max_xlsx_uncompressed_bytes=1024 * 1024,
)
HEADER = "center_code,fiscal_year,measure,category,count\n"
UNREGISTERED = "99999" + str(check_digit("99999"))
SETTLED_MTIME = 1_700_000_000  # every file was written long ago (as far as its modification time says)
SQL_INJECTION = "'); drop table raw.submissions; --"
FORMULA = '=HYPERLINK("http://example.invalid","click")'


@dataclass(frozen=True)
class HostileCase:
    name: str  # path in the inbox
    what: str
    rules: frozenset[str]
    write: Callable[[Path, Path], None]  # (path in the inbox, a folder outside the inbox)


def _bytes(content: bytes) -> Callable[[Path, Path], None]:
    def write(path: Path, outside: Path) -> None:
        path.write_bytes(content)

    return write


def _rows(rows: list[Row], encoding: str = "utf-8", suffix: bytes = b"") -> Callable[[Path, Path], None]:
    def write(path: Path, outside: Path) -> None:
        write_submission(path.parent, rows, path.name, encoding=encoding)
        if suffix:
            with path.open("ab") as handle:
                handle.write(suffix)

    return write


def _year(code: str, year: int = 2015) -> list[Row]:
    return submission_rows(year, code)


def _cells(code: str, changes: dict[int, dict[str, str]], year: int = 2015) -> list[Row]:
    return altered(_year(code, year), changes)


def workbook_bytes(rows: list[Row], cells: dict[str, object] | None = None) -> bytes:
    """The rows as the .xlsx template would hold them: counts as numbers."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([*row[:4], int(row[4]) if row[4].isascii() and row[4].isdigit() else row[4]])
    for address, value in (cells or {}).items():
        sheet[address] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_members(workbook: bytes, extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> bytes:
    """A workbook's zip with members added or replaced."""
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name, content in extra.items():
            target.writestr(name, content)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    """A valid workbook carrying a member that unpacks to twice the limit (a few KB packed)."""
    padding = b"\0" * (2 * CORPUS_LIMITS.max_xlsx_uncompressed_bytes)
    return _with_members(workbook_bytes(_year("100005")), {"xl/media/padding.bin": padding})


def _billion_laughs() -> bytes:
    """A sheet whose XML entities would expand to 10^9 copies of "lol"."""
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData></worksheet>'
    )
    return _with_members(workbook_bytes(_year("170003")), {}, {"xl/worksheets/sheet1.xml": sheet.encode()})


def _mixed_encoding(code: str) -> Callable[[Path, Path], None]:
    """Rows 1-6 saved as UTF-8, the rest appended from a CP932 file: 医療機関 etc. on both sides."""
    labels = ["精神保健福祉センター", "保健所・保健センター", "医療機関", "NPO法人等", "地域若者サポートステーション"]
    labels += ["ハローワーク", "児童相談所", "福祉事務所", "その他"]
    rows = altered(_year(code), {n: {"category": label} for n, label in enumerate(labels, start=3)})

    def write(path: Path, outside: Path) -> None:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        lines = text.getvalue().splitlines(keepends=True)
        path.write_bytes("".join(lines[:6]).encode("utf-8") + "".join(lines[6:]).encode("cp932"))

    return write


def _symlink_to_a_valid_file(code: str) -> Callable[[Path, Path], None]:
    def write(path: Path, outside: Path) -> None:
        target = write_submission(outside, _year(code), f"secret_{code}.csv")
        path.symlink_to(target)

    return write


def _symlink_to_a_folder(code: str) -> Callable[[Path, Path], None]:
    def write(path: Path, outside: Path) -> None:
        folder = outside / f"folder_{code}"
        write_submission(folder, _year(code))
        path.symlink_to(folder, target_is_directory=True)

    return write


def _rows_repeated(code: str, extra: int) -> Callable[[Path, Path], None]:
    """A valid file followed by ``extra`` copies of its last row: filled rows, each counted."""

    def write(path: Path, outside: Path) -> None:
        rows = _year(code)
        write_submission(path.parent, rows + [rows[-1]] * extra, path.name)

    return write


def _data_row_above_the_header(code: str) -> Callable[[Path, Path], None]:
    """The optional supporter_activities row typed above the header: once taken for a title and dropped."""

    def write(path: Path, outside: Path) -> None:
        rows = _year(code)
        write_submission(path.parent, [rows[-1], *rows[:-1]], path.name)

    return write


def _zip_member_changed(code: str, change: Callable[[bytearray, zipfile.ZipInfo], None]) -> bytes:
    """A valid workbook altered in place, member by member."""
    workbook = bytearray(workbook_bytes(_year(code)))
    for info in zipfile.ZipFile(io.BytesIO(bytes(workbook))).infolist():
        change(workbook, info)
    return bytes(workbook)


def _corrupt_deflate(code: str) -> bytes:
    """The sheet's deflate stream damaged: zipfile's zlib raises zlib.error while openpyxl reads it."""

    def change(workbook: bytearray, info: zipfile.ZipInfo) -> None:
        if info.filename == "xl/worksheets/sheet1.xml":
            start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
            for position in range(start + 4, min(start + 40, start + info.compress_size)):
                workbook[position] ^= 0x5A

    return _zip_member_changed(code, change)


def _with_zip_headers(code: str, *, method: int | None = None, encrypted: bool = False) -> bytes:
    """Every member's local and central headers claiming another compression method, or encryption."""
    workbook = bytearray(workbook_bytes(_year(code)))
    for signature, flags, compression in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        position = workbook.find(signature)
        while position >= 0:
            if encrypted:
                workbook[position + flags] |= 0x01
            if method is not None:
                workbook[position + compression : position + compression + 2] = method.to_bytes(2, "little")
            position = workbook.find(signature, position + 4)
    return bytes(workbook)


def _rows_padded_to(code: str, size: int) -> Callable[[Path, Path], None]:
    """A valid file followed by Excel's empty rows up to ``size`` bytes."""

    def write(path: Path, outside: Path) -> None:
        write_submission(path.parent, _year(code), path.name)
        with path.open("ab") as handle:
            handle.write(b",,,,\n" * (size // 5))

    return write


CASES: tuple[HostileCase, ...] = (
    # --- the file as a whole
    HostileCase("010006_2015.csv", "zero bytes", frozenset({"file_empty"}), _bytes(b"")),
    HostileCase("030007_2015.csv", "the header only", frozenset({"no_data_rows"}), _bytes(HEADER.encode())),
    HostileCase(
        "060003_2015.csv", "blank lines and Excel's empty rows", frozenset({"file_empty"}), _bytes(b"\r\n,,,,\n")
    ),
    HostileCase("080004_2015.csv", "binary junk", frozenset({"file_not_text"}), _bytes(bytes(range(256)) * 4)),
    HostileCase("120006_2015.csv", "UTF-16 text", frozenset({"file_not_text"}), _bytes(HEADER.encode("utf-16"))),
    HostileCase(
        "140007_2015.csv",
        "bytes that are neither UTF-8 nor CP932",
        frozenset({"file_encoding"}),
        _bytes(HEADER.encode() + b"140007,2015,consultations,total,\x85\x40\n"),
    ),
    HostileCase(
        "200000_2015.csv",
        "UTF-8 and CP932 lines in one file",
        frozenset({"file_mixed_encoding"}),
        _mixed_encoding("200000"),
    ),
    HostileCase(
        "230006_2015.csv",
        "the category column missing",
        frozenset({"header_missing"}),
        _bytes(b"center_code,fiscal_year,measure,count\n230006,2015,consultations,1\n"),
    ),
    HostileCase(
        "250007_2015.csv",
        "an extra column",
        frozenset({"header_unknown"}),
        _bytes((HEADER.strip() + ",note\n250007,2015,consultations,total,1,x\n").encode()),
    ),
    HostileCase(
        "260002_2015.csv",
        "a duplicated column",
        frozenset({"header_duplicate"}),
        _bytes((HEADER.strip() + ",count\n260002,2015,consultations,total,1,1\n").encode()),
    ),
    HostileCase(
        "270008_2015.csv",
        "Japanese header names",
        frozenset({"header_missing", "header_unknown"}),
        _bytes("団体コード,年度,項目,区分,件数\n270008,2015,consultations,total,1\n".encode()),
    ),
    HostileCase(
        "231002_2015.csv",
        "an unquoted thousands separator (one field too many)",
        frozenset({"row_length"}),
        _rows(_year("231002"), suffix=b"231002,2015,supporter_activities,total,1,323\n"),
    ),
    HostileCase(
        "180009_2015.csv",
        "over the size limit (read no further than its size)",
        frozenset({"file_too_large"}),
        _rows_padded_to("180009", CORPUS_LIMITS.max_file_bytes + 1024),
    ),
    HostileCase(
        "190004_2015.csv",
        "over the row limit (filled rows: empty ones are not counted)",
        frozenset({"too_many_rows"}),
        _rows_repeated("190004", CORPUS_LIMITS.max_rows),
    ),
    HostileCase(
        "221309_2015.csv",
        "a field longer than the csv module accepts",
        frozenset({"csv_malformed"}),
        _bytes(HEADER.encode() + b'221309,2015,consultations,"' + b"x" * 140_000 + b'",1\n'),
    ),
    # --- one value
    HostileCase(
        "300004_2015.csv",
        "a count as text",
        frozenset({"count_not_a_number"}),
        _rows(_cells("300004", {2: {"count": "abc"}})),
    ),
    HostileCase(
        "310000_2015.csv",
        "a negative count",
        frozenset({"count_negative"}),
        _rows(_cells("310000", {2: {"count": "-3"}})),
    ),
    HostileCase(
        "350001_2015.csv",
        "a fractional count",
        frozenset({"count_fraction"}),
        _rows(_cells("350001", {2: {"count": "1.5"}})),
    ),
    HostileCase(
        "390003_2015.csv", "a blank count", frozenset({"count_blank"}), _rows(_cells("390003", {2: {"count": ""}}))
    ),
    HostileCase(
        "360007_2015.csv",
        "a full-width minus",
        frozenset({"count_negative"}),
        _rows(_cells("360007", {2: {"count": "－3"}})),
    ),
    HostileCase(
        "370002_2015.csv",
        "a count too large for BIGINT",
        frozenset({"count_too_large"}),
        _rows(_cells("370002", {2: {"count": str(2**63)}})),
    ),
    HostileCase(
        "380008_2015.csv",
        "an unknown category",
        frozenset({"category_unknown"}),
        _rows(_cells("380008", {13: {"category": "foo"}})),
    ),
    HostileCase(
        "400009_2015.csv",
        "a duplicated category",
        frozenset({"category_duplicate"}),
        _rows([*_year("400009"), ["400009", "2015", "referrals", "medical_institution", "0"]]),
    ),
    HostileCase(
        "011002_2015.csv",
        "a category of the other years' form",
        frozenset({"category_other_form"}),
        _rows([*_year("011002"), ["011002", "2015", "referrals", "company", "0"]]),
    ),
    HostileCase(
        "261009_2015.csv",
        "a blank category",
        frozenset({"category_blank"}),
        _rows(_cells("261009", {13: {"category": " "}})),
    ),
    HostileCase(
        "041009_2015.csv",
        "a required referral category missing",
        frozenset({"item_missing"}),
        _rows(altered(_year("041009"), drop=[5, 12])),
    ),
    HostileCase(
        "111007_2015.csv",
        "a referral total that is not the sum",
        frozenset({"referral_total_mismatch"}),
        _rows(_cells("111007", {12: {"count": "70"}})),
    ),
    HostileCase(
        "121002_2015.csv",
        "an unknown measure",
        frozenset({"measure_unknown"}),
        _rows(_cells("121002", {13: {"measure": "supporter_activity"}})),
    ),
    HostileCase(
        "141003_2015.csv",
        "a fiscal year that does not exist (平成32)",
        frozenset({"fiscal_year_format"}),
        _rows(_cells("141003", {2: {"fiscal_year": "平成32"}})),
    ),
    HostileCase(
        "141305_2015.csv",
        "a center code with a digit lost",
        frozenset({"center_code_format"}),
        _rows(_cells("141305", {2: {"center_code": "14130"}})),
    ),
    HostileCase(
        "040002_2015.csv",
        "a wrong check digit",
        frozenset({"center_code_check_digit"}),
        _rows(_cells("040002", {2: {"center_code": "040003"}})),
    ),
    HostileCase(
        "440001_2015.csv",
        "two centers in one file",
        frozenset({"center_code_mismatch"}),
        _rows(_cells("440001", {13: {"center_code": "460001"}})),
    ),
    HostileCase(
        "460001_2015.csv",
        "the file name's year differs from the content's",
        frozenset({"fiscal_year_mismatch"}),
        _rows(_year("460001", 2014)),
    ),
    HostileCase(
        f"{UNREGISTERED}_2015.csv",
        "a center code not in the registry",
        frozenset({"center_not_registered"}),
        _rows(_year(UNREGISTERED)),
    ),
    HostileCase(
        "330001_2016.csv",
        "a center not open yet (岡山県 opened FY2017)",
        frozenset({"center_not_open"}),
        _rows(_year("330001", 2016)),
    ),
    HostileCase(
        "050008_1988.csv",
        "a fiscal year before 平成元年度",
        frozenset({"fiscal_year_out_of_range", "center_not_open"}),
        _rows(_year("050008", 1988)),
    ),
    HostileCase(
        "070009_2026.csv",
        "a fiscal year not ended yet",
        frozenset({"fiscal_year_not_ended"}),
        _rows(_year("070009", 2026)),
    ),
    HostileCase(
        "151009_2015.csv",
        "SQL in a cell",
        frozenset({"category_unknown"}),
        _rows(_cells("151009", {13: {"category": SQL_INJECTION}})),
    ),
    HostileCase(
        "221007_2015.csv",
        "a spreadsheet formula in a CSV cell",
        frozenset({"category_unknown"}),
        _rows(_cells("221007", {13: {"category": FORMULA}})),
    ),
    # --- workbooks
    HostileCase(
        "090000_2015.xlsx", "an .xlsx that is not a zip", frozenset({"xlsx_unreadable"}), _bytes(b"not a zip file")
    ),
    HostileCase(
        "271004_2015.xlsx",
        "a zip that is not a workbook",
        frozenset({"xlsx_unreadable"}),
        lambda path, outside: path.write_bytes(_with_members(_empty_zip(), {"readme.txt": b"hello"})),
    ),
    HostileCase(
        "100005_2015.xlsx",
        "a zip bomb",
        frozenset({"xlsx_too_large"}),
        lambda path, outside: path.write_bytes(_zip_bomb()),
    ),
    HostileCase(
        "170003_2015.xlsx",
        "XML entity expansion (billion laughs)",
        frozenset({"xlsx_unreadable"}),
        lambda path, outside: path.write_bytes(_billion_laughs()),
    ),
    HostileCase(
        "110001_2015.xlsx",
        "a workbook with macros (.xlsm renamed)",
        frozenset({"xlsx_macros"}),
        lambda path, outside: path.write_bytes(
            _with_members(workbook_bytes(_year("110001")), {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not run"})
        ),
    ),
    HostileCase(
        "130001_2015.xlsx",
        "a workbook with an external link",
        frozenset({"xlsx_external_links"}),
        lambda path, outside: path.write_bytes(
            _with_members(
                workbook_bytes(_year("130001")),
                {"xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="x"/>'},
            )
        ),
    ),
    HostileCase(
        "150002_2015.xlsx",
        "a formula in a workbook cell",
        frozenset({"cell_formula"}),
        lambda path, outside: path.write_bytes(workbook_bytes(_year("150002"), {"E12": "=SUM(E3:E11)"})),
    ),
    HostileCase(
        "160008_2015.xlsx",
        "a date in a workbook cell",
        frozenset({"cell_date"}),
        lambda path, outside: path.write_bytes(workbook_bytes(_year("160008"), {"E5": date(2016, 4, 1)})),
    ),
    # --- names and places
    HostileCase("220001_2015..csv", "a name with ..", frozenset({"file_name_characters"}), _rows(_year("220001"))),
    HostileCase(
        "240001_2015 (1).csv", "a name with spaces", frozenset({"file_name_characters"}), _rows(_year("240001"))
    ),
    HostileCase("東京都_2015.csv", "a non-ASCII name", frozenset({"file_name_characters"}), _rows(_year("130001"))),
    HostileCase(
        "２８０００３_２０１５.csv",
        "full-width digits in the name",
        frozenset({"file_name_characters"}),
        _rows(_year("280003")),
    ),
    HostileCase(
        "C:\\inbox\\..\\290009_2015.csv",
        "an absolute Windows path in the name",
        frozenset({"file_name_characters"}),
        _rows(_year("290009")),
    ),
    HostileCase("tokyo_2015.csv", "a name without the center code", frozenset({"file_name"}), _rows(_year("130001"))),
    HostileCase(
        "420000/430005_2015.csv",
        "a file in another center's folder",
        frozenset({"folder_mismatch"}),
        _rows(_year("430005")),
    ),
    HostileCase(
        "320005_2015.csv",
        "a symlink to a valid file outside the inbox",
        frozenset({"file_symlink"}),
        _symlink_to_a_valid_file("320005"),
    ),
    HostileCase(
        "340006",
        "a symlink to a center folder outside the inbox",
        frozenset({"file_symlink"}),
        _symlink_to_a_folder("340006"),
    ),
    HostileCase(
        "450006_2015.csv.part",
        "still being written when the run starts (named .part until complete)",
        frozenset({"file_partial"}),
        _rows(_year("450006")),
    ),
    # --- found by the reliability review (issue 11): each once crashed the run or lost data silently
    HostileCase(
        "401005_2015.csv",
        "a data row above the header (once dropped as a title)",
        frozenset({"row_above_header"}),
        _data_row_above_the_header("401005"),
    ),
    HostileCase(
        "401307_2015.xlsx",
        "a damaged deflate stream in the sheet (zlib.error)",
        frozenset({"xlsx_unreadable"}),
        _bytes(_corrupt_deflate("401307")),
    ),
    HostileCase(
        "431001_2015.xlsx",
        "members compressed with Deflate64 (NotImplementedError)",
        frozenset({"xlsx_unreadable"}),
        _bytes(_with_zip_headers("431001", method=9)),
    ),
    HostileCase(
        "410004_2017.xlsx",
        "encrypted zip members (RuntimeError: password required)",
        frozenset({"xlsx_unreadable"}),
        _bytes(_with_zip_headers("410004", encrypted=True)),
    ),
    HostileCase(
        "210005/old/210005_2016.csv",
        "two folders deep (once ignored without a word)",
        frozenset({"file_too_deep"}),
        _rows(_year("210005", 2016)),
    ),
    HostileCase(
        "470007_2016_" + "x" * 230 + ".csv",
        "a 246-character name (its quarantine name was too long for the file system)",
        frozenset({"file_name"}),
        _rows(_year("470007", 2016)),
    ),
    HostileCase(
        "141500_2018.csv",
        "a superscript in a count (NFKC once stored 15¹ as 151)",
        frozenset({"count_not_a_number"}),
        _rows(_cells("141500", {2: {"count": "15¹"}}, 2018)),
    ),
    HostileCase(
        "020001_2016.csv",
        "Arabic-Indic digits in a count and a year",
        frozenset({"count_not_a_number", "fiscal_year_format"}),
        _rows(_cells("020001", {2: {"count": "١٥٢٠"}, 3: {"fiscal_year": "٢٠١٦"}}, 2016)),
    ),
    HostileCase(
        "020001_2017.csv",
        "terminal escape sequences in a cell (shown escaped in every report)",
        frozenset({"category_unknown", "item_missing"}),
        _rows(_cells("020001", {3: {"category": "\x1b]0;owned\x07\x1b[2J"}}, 2017)),
    ),
    HostileCase(
        "401005_2016\n\x1b[2J.csv",
        "a newline and an escape sequence in the name (a forged summary line)",
        frozenset({"file_name_characters"}),
        _rows(_year("401005", 2016)),
    ),
    HostileCase(
        "440001/430005_2015.csv",
        "the same bytes as another wrong-folder file (each keeps its own quarantine path and report)",
        frozenset({"folder_mismatch"}),
        _rows(_year("430005")),
    ),
)
STILL_BEING_WRITTEN = "450006_2015.csv.part"


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()  # a zip with no member: only its end-of-directory record
    return buffer.getvalue()


def build_corpus(inbox: Path, outside: Path) -> None:
    """Write every case, each stamped long ago (a run takes files by their content, not their age)."""
    outside.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        path = inbox / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        case.write(path, outside)
        os.utime(path, (SETTLED_MTIME, SETTLED_MTIME), follow_symlinks=False)
