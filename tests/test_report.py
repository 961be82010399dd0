"""The national report built from the example submissions: the paper's figures, offline HTML, xlsx, publication."""

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from hikikomori.domain.spreadsheet import spreadsheet_cell
from hikikomori.pipeline.quality import quality_checks
from hikikomori.report.national import ReportFiles, build_report
from hikikomori.report.publication import HIDDEN, PublicationTable, write_publication
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
