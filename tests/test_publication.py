"""Per-center publication tables: laid out from marts.center_figures; a year too small to hide a few
cells is published with every per-center cell hidden (national totals only)."""

import csv
import io
from pathlib import Path

import pytest
from support import run_steps, summary_referrals, write_submission

from hikikomori.cli import main
from hikikomori.report.publication import ALL_HIDDEN_NOTE_JA, HIDDEN, per_center_table
from hikikomori.report.suppression import SuppressionImpossible, suppression_mask
from hikikomori.settings import Settings


def test_the_table_is_the_marts_figures_laid_out(example_warehouse: Path) -> None:
    table = per_center_table(example_warehouse, 2016)
    assert table.header[:3] == ["center_code", "自治体 / center", "延べ相談件数 / consultations"]
    assert table.header[-1] == "紹介総数 / referrals total"
    national = table.rows[-1]
    assert national[1] == "全国 / national"
    assert national[2] == 90794 and national[-1] == 7520  # the paper's FY2016 totals
    assert len(table.rows) == 64 + 1
    assert not table.all_hidden and table.hidden_cells > 0


@pytest.fixture
def one_center(workspace: Settings) -> Settings:
    """FY2015 with a single reporting center, one of whose counts is small."""
    write_submission(workspace.inbox_dir, "130001", 2015, 100, summary_referrals(npo=1, other=6))
    run_steps(workspace)
    return workspace


def test_one_center_cannot_be_protected_by_hiding_some_cells() -> None:
    with pytest.raises(SuppressionImpossible):
        suppression_mask([[0, 1, 6]])


def test_a_year_with_one_center_hides_every_per_center_cell(one_center: Settings) -> None:
    table = per_center_table(one_center.warehouse_path, 2015)
    (center, national) = table.rows
    assert table.all_hidden
    assert center[:2] == ["130001", "東京都"] and set(center[2:]) == {HIDDEN}
    assert national[2] == 100 and national[-1] == 7  # the totals stay published
    assert table.hidden_cells == len(center) - 2
    assert ALL_HIDDEN_NOTE_JA in table.notes


def test_the_report_is_written_for_a_year_with_one_center(one_center: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", "--warehouse", str(one_center.warehouse_path), "--out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO((out / "publication" / "per_center_2015.csv").read_text(encoding="utf-8-sig"))))
    assert rows[2][2:] == [HIDDEN] * (len(rows[2]) - 2)
    assert [ALL_HIDDEN_NOTE_JA] in rows
    assert ALL_HIDDEN_NOTE_JA in (out / "national_report_2015.html").read_text(encoding="utf-8")
