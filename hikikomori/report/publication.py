"""Per-center tables for publication, with small counts hidden (see hikikomori.report.suppression).

One table per fiscal year: a row per center with an accepted submission, its consultations,
supporter activities and referrals by summary group, and a national total row. The figures come
from ``marts.center_figures``; this module only lays them out and hides cells. Totals are
published as computed; hidden cells show ``x``. When the table is too small to hide a cell safely
(e.g. a single center), every per-center cell is hidden and only the national totals are shown.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from hikikomori.domain.spreadsheet import spreadsheet_cell, spreadsheet_safe
from hikikomori.report.suppression import SuppressionImpossible, suppression_mask
from hikikomori.warehouse import queries
from hikikomori.warehouse.connection import connect

HIDDEN = "x"
NOTE_JA = (
    "秘匿について: 1〜2件のセルは個人の特定を防ぐため「x」と表示しています（一次秘匿）。"
    "行・列の合計から逆算されないよう、ほかのセルも「x」にしています（二次秘匿）。合計はすべて実数です。"
)
NOTE_EN = (
    "Suppression: counts of 1-2 are shown as 'x' so no person can be identified (primary suppression); "
    "further cells are shown as 'x' so that no hidden count can be worked out from the row or column "
    "totals (secondary suppression). All totals are the true figures."
)
ALL_HIDDEN_NOTE_JA = (
    "この年度は報告したセンターが少なく、合計から逆算されないように一部だけを秘匿することができないため、"
    "センター別の値をすべて「x」にしています（全国の合計のみ公表）。"
)
ALL_HIDDEN_NOTE_EN = (
    "Too few centers reported this fiscal year to hide small counts from the totals: every per-center "
    "figure is shown as 'x' and only the national totals are published."
)
_HEADERS = {
    ("consultations", "total"): "延べ相談件数 / consultations",
    ("supporter_activities", "total"): "サポーター活動件数 / supporter activities",
    ("referrals", "total"): "紹介総数 / referrals total",
}


@dataclass(frozen=True)
class PublicationTable:
    fiscal_year: int
    fiscal_year_label: str
    header: list[str]
    rows: list[list[object]]  # per center, hidden cells as "x"; the last row is the national total
    hidden_cells: int
    all_hidden: bool = False  # too few centers to hide only some cells: every per-center cell is hidden

    @property
    def notes(self) -> list[str]:
        return [NOTE_JA, NOTE_EN] + ([ALL_HIDDEN_NOTE_JA, ALL_HIDDEN_NOTE_EN] if self.all_hidden else [])


def per_center_table(warehouse_path: Path, fiscal_year: int) -> PublicationTable:
    with connect(warehouse_path, read_only=True) as connection:
        figures = queries.center_figures(connection, fiscal_year)
    return publication_table(figures, fiscal_year)


def publication_table(figures: pd.DataFrame, fiscal_year: int) -> PublicationTable:
    """Lay out one year of ``marts.center_figures`` as the published table, small counts hidden."""
    columns = figures.drop_duplicates(["measure", "category"]).sort_values("display_order")
    keys = list(zip(columns["measure"], columns["category"], strict=True))
    labels = dict(zip(keys, columns["agency_group_label"], strict=True))
    wide = (
        figures.pivot(index=["center_code", "center_name"], columns=["measure", "category"], values="reported_count")
        .reindex(columns=pd.MultiIndex.from_tuples(keys))
        .sort_index()
        .astype("int64")
    )
    values = wide.to_numpy(dtype=np.int64)
    position = {key: index for index, key in enumerate(keys)}
    groups = [position[key] for key in keys if key[0] == "referrals" and key[1] != "total"]
    # Each count column alone (only its national total is published), then the groups with their row totals.
    blocks = [([position[key]], False) for key in keys if key[0] != "referrals"] + [(groups, True)]
    mask = np.zeros(values.shape, dtype=bool)
    all_hidden = False
    try:
        for indices, row_totals in blocks:
            mask[:, indices] = suppression_mask(values[:, indices], row_totals=row_totals)
    except SuppressionImpossible:  # too small a table: publish the national totals only
        mask[:] = True
        all_hidden = True
    header = ["center_code", "自治体 / center", *[_HEADERS.get(key) or str(labels[key]) for key in keys]]
    rows: list[list[object]] = [
        [code, name, *[HIDDEN if hidden else int(value) for value, hidden in zip(values[row], mask[row], strict=True)]]
        for row, (code, name) in enumerate(wide.index)
    ]
    totals: list[object] = ["", "全国 / national", *[int(total) for total in values.sum(axis=0)]]
    label = str(figures["fiscal_year_label"].iloc[0]) if not figures.empty else str(fiscal_year)
    return PublicationTable(fiscal_year, label, header, [*rows, totals], int(mask.sum()), all_hidden)


def write_publication(table: PublicationTable, out_dir: Path) -> list[Path]:
    """The table as CSV (UTF-8 with BOM, which Excel opens with Japanese intact) and .xlsx, note included."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"per_center_{table.fiscal_year}"
    title = f"センター別実績 {table.fiscal_year_label} / per-center figures FY{table.fiscal_year}"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(title)])
    writer.writerow([spreadsheet_safe(cell) for cell in table.header])
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in table.rows])
    writer.writerow([])
    writer.writerows([[spreadsheet_safe(note)] for note in table.notes])
    csv_path = out_dir / f"{stem}.csv"
    csv_path.write_bytes(buffer.getvalue().encode("utf-8-sig"))

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"FY{table.fiscal_year}"
    lines: list[list[object]] = [[title], list(table.header), *table.rows, []]
    lines += [[note] for note in table.notes]
    for row in lines:
        sheet.append([spreadsheet_cell(cell) for cell in row])
    xlsx_path = out_dir / f"{stem}.xlsx"
    workbook.save(xlsx_path)
    return [csv_path, xlsx_path]
