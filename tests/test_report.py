"""The national report built from the example submissions: the paper's figures, offline HTML, xlsx, publication."""

import csv
import io
import re
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from support import system_program

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.spreadsheet import spreadsheet_cell
from hikikomori.domain.text import display_width
from hikikomori.pipeline.quality import CheckResult, QualityCheck, quality_checks
from hikikomori.report.national import ReportFiles, build_report
from hikikomori.report.publication import HIDDEN, PublicationTable, write_publication
from hikikomori.report.quality_page import quality_page
from hikikomori.report.suppression import hidden_value_ranges

PAPER_CONSULTATIONS = [34312, 54470, 69701, 83211, 90794]
PAPER_REFERRAL_TOTALS = [3360, 4904, 7270, 7421, 7520]


@pytest.fixture(scope="module")
def report(example_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return build_report(example_warehouse, tmp_path_factory.mktemp("report"), fiscal_year=2016)


def test_the_html_shows_the_papers_figures(report: ReportFiles) -> None:
    page = report.html.read_text(encoding="utf-8")
    for figure in PAPER_CONSULTATIONS + PAPER_REFERRAL_TOTALS:
        assert f"{figure:,}" in page
    assert "17.6%" in page  # 精神保健福祉センター's FY2016 share as the paper prints it
    assert "不一致 mismatch" in page  # the registry and the paper disagree on some years
    assert "平成29年度" not in page  # --fiscal-year 2016 stops there
    assert page.count("合格 pass") == len(quality_checks()) and "エラー error" not in page


def test_the_html_needs_no_network(report: ReportFiles) -> None:
    page = report.html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    for reference in ("http://", "https://", "<link", "<script"):
        assert reference not in page


# Anything a page would load or send: an attribute naming a URL with a scheme or host, a stylesheet import.
LOADS_FROM_ELSEWHERE = re.compile(
    r"""(?:src|href|action|srcset|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)(?!image/png;base64,)|url\(|@import""",
    re.IGNORECASE,
)


def test_no_generated_page_loads_anything_and_none_has_scripts(report: ReportFiles) -> None:
    pages = sorted(report.html.parent.rglob("*.html"))
    assert report.html in pages and report.quality_page in pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not LOADS_FROM_ELSEWHERE.findall(text.replace("data:image/png;base64,", "")), page.name
        assert "<script" not in text.lower() and "<link" not in text.lower(), page.name
    assert not (report.html.parent / "data_docs").exists()  # no Great Expectations site with CDN pages


def test_the_quality_results_are_in_the_page_without_scripts_and_linked(report: ReportFiles) -> None:
    page = report.quality_page.read_text(encoding="utf-8")
    checks = quality_checks()
    assert page.count('<td class="pass">合格 pass</td>') == len(checks)
    for check in checks:
        assert f"<code>{check.name}</code>" in page
    assert f'href="{report.html.name}"' in page
    assert f'href="{report.quality_page.name}"' in report.html.read_text(encoding="utf-8")
    assert "JST" in page


def test_a_failed_check_is_listed_first_with_its_details_escaped() -> None:
    check = QualityCheck(
        "shares_sum", "和が100", "sum to 100", "select 1", "ExpectColumnValuesToBeBetween", {"column": "total"}
    )
    failed = CheckResult(
        "shares_sum", "quality.x", check.expectation, "和が100", "sum to 100", "fail", 2, "<b>99.9</b>"
    )
    page = quality_page([failed], [check], datetime(2017, 7, 1, 7, 0, tzinfo=JAPAN), "copy.duckdb", "report.html")
    failures = page[page.index("不合格・エラー / failed or raised") : page.index("対象ごとの結果")]
    assert "shares_sum" in failures and "&lt;b&gt;99.9&lt;/b&gt;" in failures and "<b>99.9" not in page
    assert "2017-07-01 07:00:00 JST" in page and "{&quot;column&quot;: &quot;total&quot;}" in page


NUMBER_AS_TEXT = re.compile(r"^\s*-?[\d,.]+\s*%?\s*$")  # '19.5%', '1,193'


def test_the_workbook_stores_numbers_with_their_formats(report: ReportFiles) -> None:
    workbook = load_workbook(report.workbook)
    shares = next(sheet for sheet in workbook if "集計区分" in sheet.title)
    header = [cell.value for cell in shares[2]]
    column = header.index("精神保健福祉センター") + 1
    fy2016 = next(row for row in range(3, shares.max_row + 1) if shares.cell(row, 1).value == "平成28年度")
    count, share = shares.cell(fy2016, column), shares.cell(fy2016 + 1, column)
    assert (count.value, count.number_format) == (1323, "#,##0")
    assert share.number_format == "0.0%" and f"{share.value:.1%}" == "17.6%"  # a fraction, shown as the paper prints
    assert f"A{fy2016}:A{fy2016 + 1}" in {str(merged) for merged in shares.merged_cells.ranges}
    targets = next(sheet for sheet in workbook if "成果目標" in sheet.title)
    values = [cell for row in targets.iter_rows(min_row=3) for cell in row if isinstance(cell.value, float)]
    assert values and {cell.number_format for cell in values} == {"#,##0.0"}
    for sheet in workbook:
        for row in sheet.iter_rows(min_row=3):
            for cell in row:
                assert not (isinstance(cell.value, str) and NUMBER_AS_TEXT.match(cell.value)), (sheet.title, cell)
                # An int is a count, or a share of 100.0% or a figure like 7786.0 read back from the file.
                if isinstance(cell.value, int) and not isinstance(cell.value, bool):
                    assert cell.number_format in {"#,##0", "0.0%", "#,##0.0"}, (sheet.title, cell.coordinate)


def test_the_workbook_is_laid_out_for_reading_and_print(report: ReportFiles) -> None:
    workbook = load_workbook(report.workbook)
    for sheet in workbook:
        header = [cell.value for cell in sheet[2]]
        assert sheet.freeze_panes in {"B3", "C3"}, sheet.title
        assert sheet.print_title_rows == "$2:$2" and sheet.print_area, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
        assert sheet.page_setup.paperSize == int(sheet.PAPERSIZE_A4)
        assert "JST" in sheet.oddFooter.right.text
        for index, name in enumerate(header, start=1):
            width = sheet.column_dimensions[get_column_letter(index)].width
            numbers = [cell.value for cell in sheet[get_column_letter(index)][2:] if isinstance(cell.value, int)]
            # every count fits, and a header fits in at most its wrapped lines (Japanese counted double)
            assert all(width >= display_width(f"{value:,}") for value in numbers), (sheet.title, name)
            lines = sheet.row_dimensions[2].height / 16
            assert width * lines >= display_width(str(name)), (sheet.title, name)
    detail = next(sheet for sheet in workbook if "詳細版" in sheet.title)
    assert detail.page_setup.orientation == "landscape" and detail.print_title_cols == "$A:$B"


@pytest.mark.integration
def test_libreoffice_prints_the_workbook_with_its_formats(report: ReportFiles, tmp_path: Path) -> None:
    soffice, pdftotext = system_program("soffice"), system_program("pdftotext")
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(report.workbook)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = tmp_path / report.workbook.with_suffix(".pdf").name
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "1,323" in text and "17.6%" in text and "90,794" in text  # the number formats as a spreadsheet shows them
    # Each page's header names its sheet: every table fits one page (fitted to its width), but the
    # 21-category table, printed two pages across, and the list of quality checks, as long as it needs.
    headers = [page.strip().splitlines()[0].strip() for page in text.split("\f") if page.strip()]
    pages_per_sheet = {sheet: headers.count(sheet) for sheet in dict.fromkeys(headers)}
    detailed = next(sheet for sheet in pages_per_sheet if "詳細版" in sheet)
    checks = next(sheet for sheet in pages_per_sheet if "データ品質チェック" in sheet)
    assert pages_per_sheet.pop(detailed) == 2
    assert pages_per_sheet.pop(checks) >= 1
    assert len(pages_per_sheet) >= 6 and set(pages_per_sheet.values()) == {1}, pages_per_sheet


def test_the_workbook_has_the_papers_layouts(report: ReportFiles) -> None:
    workbook = load_workbook(report.workbook)
    values = {
        title: [list(row) for row in workbook[title].iter_rows(values_only=True)] for title in workbook.sheetnames
    }
    consultations = next(rows for title, rows in values.items() if "延べ相談件数" in title)
    assert [row[3] for row in consultations[2:]] == PAPER_CONSULTATIONS
    referrals = next(rows for title, rows in values.items() if "集計区分" in title)
    assert [row[1] for row in referrals[2:4]] == ["件数", "率"]
    assert [row[-1] for row in referrals[2::2]] == PAPER_REFERRAL_TOTALS


def test_the_publication_hides_small_counts_safely(report: ReportFiles, example_warehouse: Path) -> None:
    csv_path = next(path for path in report.publication if path.suffix == ".csv")
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[1], [row for row in rows[2:] if len(row) > 1 and row[0]]
    national = next(row for row in rows if len(row) > 1 and row[1].startswith("全国"))
    groups = slice(header.index("精神保健福祉センター"), header.index("その他") + 1)
    assert int(national[-1]) == 7520  # totals are published as computed
    assert [int(value) for value in national[groups]] == [1323, 823, 723, 981, 674, 106, 50, 239, 2601]
    shown = np.array([row[groups] for row in body])
    mask = shown == HIDDEN
    assert mask.any()
    # Rebuild the true table from the visible cells and the published totals it must honour: the
    # ranges are computed only from what is published (visible cells, row and column totals).
    row_totals = np.array([int(row[-1]) for row in body])
    column_totals = np.array([int(value) for value in national[groups]])
    visible = np.where(mask, 0, np.char.replace(shown, HIDDEN, "0").astype(int))
    residual_rows, residual_columns = row_totals - visible.sum(axis=1), column_totals - visible.sum(axis=0)
    stand_in = _any_table_with_margins(mask, residual_rows, residual_columns) + visible
    for low, high in hidden_value_ranges(stand_in, mask):
        assert high > low


def _any_table_with_margins(mask: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """A non-negative table, zero outside the mask, with the given margins (northwest-corner on the mask)."""
    from scipy.optimize import linprog

    cells = list(zip(*np.nonzero(mask), strict=True))
    equations = [[float(cell[0] == row) for cell in cells] for row in range(mask.shape[0])]
    equations += [[float(cell[1] == column) for cell in cells] for column in range(mask.shape[1])]
    solution = linprog(np.zeros(len(cells)), A_eq=equations, b_eq=[*rows, *columns], bounds=(0, None))
    table = np.zeros(mask.shape, dtype=np.int64)
    for (row, column), value in zip(cells, solution.x, strict=True):
        table[row, column] = round(value)
    return table


@pytest.mark.parametrize("text", ["=1+1", "+81", "-3", "@SUM(A1)"])
def test_spreadsheet_cells_never_start_a_formula(text: str, tmp_path: Path) -> None:
    table = PublicationTable(2016, "平成28年度", ["center_code", text], [["010006", text]], 0)
    write_publication(table, tmp_path)
    cells = [
        cell
        for row in load_workbook(tmp_path / "per_center_2016.xlsx").active.iter_rows(values_only=True)
        for cell in row
        if cell
    ]
    assert f"'{text}" in cells and text not in cells
    assert spreadsheet_cell(-3) == -3  # numbers stay numbers
