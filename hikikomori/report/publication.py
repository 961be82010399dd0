"""Per-center tables for publication, with small counts hidden (see hikikomori.report.suppression).

One table per fiscal year: a row per center with an accepted submission, its consultations,
supporter activities and referrals by summary group, and a national total row. Totals are
published as computed; hidden cells show ``x``.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from hikikomori.domain.spreadsheet import spreadsheet_cell, spreadsheet_safe
from hikikomori.report.suppression import suppression_mask
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


@dataclass(frozen=True)
class PublicationTable:
    fiscal_year: int
    fiscal_year_label: str
    header: list[str]
    rows: list[list[object]]  # per center, hidden cells as "x"; the last row is the national total
    hidden_cells: int


def per_center_table(warehouse_path: Path, fiscal_year: int) -> PublicationTable:
    with connect(warehouse_path, read_only=True) as connection:
        items = connection.execute(
            """
            select
                reported_items.center_code,
                centers.center_name,
                reported_items.measure,
                coalesce(reported_items.agency_group, 'total') as column_key,
                sum(reported_items.reported_count) as reported_count
            from intermediate.int_center_reported_items as reported_items
            inner join staging.stg_centers as centers
                on reported_items.center_code = centers.center_code
            where reported_items.fiscal_year = ?
            group by all
            """,
            [fiscal_year],
        ).df()
        groups = connection.execute(
            "select agency_group, agency_group_label from staging.stg_referral_groups order by display_order"
        ).fetchall()
        label = connection.execute(
            "select fiscal_year_label from staging.stg_fiscal_years where fiscal_year = ?", [fiscal_year]
        ).fetchall()
    items["key"] = items["measure"] + ":" + items["column_key"]
    wide = items.pivot_table(
        index=["center_code", "center_name"], columns="key", values="reported_count", aggfunc="sum", fill_value=0
    ).sort_index()
    group_keys = [f"referrals:{group}" for group, _ in groups]
    for key in ["consultations:total", "supporter_activities:total", *group_keys]:
        if key not in wide:
            wide[key] = 0
    wide = wide.astype("int64")
    reports_supporters = "supporter_activities:total" in set(items["key"])
    shown = wide.astype(object)
    hidden = 0
    blocks = [(["consultations:total"], False), (group_keys, True)]
    if reports_supporters:
        blocks.insert(1, (["supporter_activities:total"], False))
    for keys, row_totals in blocks:
        mask = suppression_mask(wide[keys].to_numpy(dtype=np.int64), row_totals=row_totals)
        hidden += int(mask.sum())
        shown[keys] = shown[keys].mask(mask, HIDDEN)
    header = ["center_code", "自治体 / center", "延べ相談件数 / consultations"]
    header += ["サポーター活動件数 / supporter activities"] if reports_supporters else []
    header += [group_label for _, group_label in groups] + ["紹介総数 / referrals total"]
    value_keys = ["consultations:total"] + (["supporter_activities:total"] if reports_supporters else []) + group_keys
    rows = [
        [
            code,
            name,
            *[shown.loc[(code, name), key] for key in value_keys],
            int(wide.loc[(code, name), group_keys].sum()),
        ]
        for code, name in wide.index
    ]
    totals = ["", "全国 / national", *[int(wide[key].sum()) for key in value_keys], int(wide[group_keys].sum().sum())]
    return PublicationTable(fiscal_year, label[0][0] if label else str(fiscal_year), header, [*rows, totals], hidden)


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
    writer.writerow([spreadsheet_safe(NOTE_JA)])
    writer.writerow([spreadsheet_safe(NOTE_EN)])
    csv_path = out_dir / f"{stem}.csv"
    csv_path.write_bytes(buffer.getvalue().encode("utf-8-sig"))

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"FY{table.fiscal_year}"
    for row in [[title], table.header, *table.rows, [], [NOTE_JA], [NOTE_EN]]:
        sheet.append([spreadsheet_cell(cell) for cell in row])
    xlsx_path = out_dir / f"{stem}.xlsx"
    workbook.save(xlsx_path)
    return [csv_path, xlsx_path]
