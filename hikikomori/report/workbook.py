"""The report's workbook, ready to publish: one sheet per table, laid out for reading and for print.

- Numbers are numbers: counts with ``#,##0``, figures to one decimal with ``#,##0.0``, shares stored
  as fractions with ``0.0%`` (19.5% is the number 0.195), so they sum, sort and chart in Excel.
- Columns are as wide as their contents, Japanese counted double; long headers wrap instead of
  being cut; the header row (and the year column) stays in view when scrolling.
- Print: A4, fitted to the page width (as many pages down as needed), the header row repeated on
  every page, print area = the table and its note, page numbers and the creation time in JST.
- The paper's layouts: in a share table each year has a 件数 row and a 率 row; the year's cell spans both.

Every text cell goes through ``spreadsheet_cell`` (never a formula).
"""

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.spreadsheet import spreadsheet_cell, spreadsheet_safe
from hikikomori.domain.text import display_width
from hikikomori.report.layout import Share, Table

COUNT_FORMAT = "#,##0"
FIGURE_FORMAT = "#,##0.0"
SHARE_FORMAT = "0.0%"
NO_FIGURE = "—"

TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
_HEADER_WRAP = 14  # a longer number-column header wraps (in lines of even length) rather than widen the column
_TEXT_WIDTH_LIMIT = 40  # a text column wraps beyond this width
_WIDTH_PER_UNIT = 1.1  # Excel's width unit is one digit of the default font; Japanese takes about two
_LINE_HEIGHT = 16  # points per line of 11-point text, Japanese included
_PORTRAIT_WIDTH = 95  # about what fits across A4 portrait at 100%; wider tables print landscape
_LANDSCAPE_WIDTH = 145  # about what fits across A4 landscape at 100%
_SMALLEST_SCALE = 0.7  # a table that would print smaller than this spans more pages across (its first columns repeated)

_FONT = DEFAULT_FONT.name  # the workbook's own font, named on every styled cell (else viewers pick a serif)
_BORDER_SIDE = Side(style="thin", color="BBBBBB")
_BORDER = Border(left=_BORDER_SIDE, right=_BORDER_SIDE, top=_BORDER_SIDE, bottom=_BORDER_SIDE)
_HEADER_FILL = PatternFill("solid", fgColor="E8EEF6")


def write_workbook(tables: Sequence[Table], path: Path, created_at: datetime) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for position, table in enumerate(tables, start=1):
        sheet = workbook.create_sheet(f"{position}_{table.title.split(' / ')[0][:25]}")
        _write_table(sheet, table, created_at)
    workbook.save(path)


def _write_table(sheet: Worksheet, table: Table, created_at: datetime) -> None:
    columns = len(table.header)
    sheet.cell(TITLE_ROW, 1, spreadsheet_cell(table.title)).font = Font(name=_FONT, bold=True, size=12)
    for column, name in enumerate(table.header, start=1):
        cell = sheet.cell(HEADER_ROW, column, spreadsheet_cell(name))
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for offset, row in enumerate(table.rows):
        for column, value in enumerate(row, start=1):
            _write_value(sheet.cell(FIRST_DATA_ROW + offset, column), value)
    last_row = FIRST_DATA_ROW + len(table.rows) - 1
    if table.paired_rows:
        for first in range(FIRST_DATA_ROW, last_row, 2):
            sheet.merge_cells(start_row=first, start_column=1, end_row=first + 1, end_column=1)
            sheet.cell(first, 1).alignment = Alignment(vertical="center")

    widths = _column_widths(table)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = round(width * _WIDTH_PER_UNIT + 2, 1)
    sheet.row_dimensions[HEADER_ROW].height = _LINE_HEIGHT * max(
        _lines(str(name), width) for name, width in zip(table.header, widths, strict=True)
    )
    for offset, row in enumerate(table.rows):
        lines = max((_lines(_shown(value), width) for value, width in zip(row, widths, strict=True)), default=1)
        if lines > 1:
            sheet.row_dimensions[FIRST_DATA_ROW + offset].height = _LINE_HEIGHT * lines

    last_column = get_column_letter(columns)
    last_printed = last_row
    if table.note:
        last_printed = last_row + 2
        note = sheet.cell(last_printed, 1, spreadsheet_cell(table.note))
        note.alignment = Alignment(wrap_text=True, vertical="top")
        note.font = Font(name=_FONT, size=9, color="555555")
        sheet.merge_cells(start_row=last_printed, start_column=1, end_row=last_printed, end_column=columns)
        sheet.row_dimensions[last_printed].height = _LINE_HEIGHT * _lines(table.note, sum(widths) * 0.9)

    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, table.frozen_columns + 1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A{TITLE_ROW}:{last_column}{last_printed}"
    _page_setup(sheet, table, sum(widths), created_at)


def _write_value(cell: Cell, value: object) -> None:
    value = value.item() if hasattr(value, "item") else value  # numpy scalars to Python numbers
    if isinstance(value, Share):
        cell.value, cell.number_format = value.fraction, SHARE_FORMAT
        alignment = Alignment(horizontal="right")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        cell.value = NO_FIGURE if value is None else spreadsheet_cell(value)
        alignment = Alignment(horizontal="center" if value is None else "left", vertical="center", wrap_text=True)
    else:
        cell.value = value
        cell.number_format = COUNT_FORMAT if isinstance(value, int) else FIGURE_FORMAT
        alignment = Alignment(horizontal="right", vertical="center")
    cell.alignment = alignment
    cell.border = _BORDER


def _shown(value: object) -> str:
    """The text a cell shows (for its width), as its number format displays it."""
    value = value.item() if hasattr(value, "item") else value
    if value is None:
        return NO_FIGURE
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _is_number(value: object) -> bool:
    value = value.item() if hasattr(value, "item") else value
    return isinstance(value, Share) or (isinstance(value, int | float) and not isinstance(value, bool))


def _column_widths(table: Table) -> list[float]:
    """Each column's width in characters (Japanese counted double)."""
    widths = []
    for index, name in enumerate(table.header):
        values = [row[index] for row in table.rows]
        contents = max((display_width(_shown(value)) for value in values), default=0)
        header = display_width(str(name))
        if values and all(_is_number(value) or value is None for value in values):
            header_line = math.ceil(header / math.ceil(header / _HEADER_WRAP))  # the header in lines of even length
            widths.append(float(max(contents, header_line, 4)))
        else:
            widths.append(float(min(max(contents, min(header, _HEADER_WRAP * 2), 4), _TEXT_WIDTH_LIMIT)))
    return widths


def _lines(text: str, width: float) -> int:
    """Lines the text takes when wrapped at ``width`` characters (Japanese counted double)."""
    return max(1, sum(math.ceil(display_width(line) / max(width, 1)) or 1 for line in text.split("\n")))


def _page_setup(sheet: Worksheet, table: Table, width: float, created_at: datetime) -> None:
    printed = width * _WIDTH_PER_UNIT + 2 * len(table.header)
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if printed > _PORTRAIT_WIDTH else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    # Every column on the page's width, unless that would print too small: then a few pages across,
    # each repeating the first columns (the year, 件数/率).
    pages_across = max(1, math.ceil(printed / (_LANDSCAPE_WIDTH / _SMALLEST_SCALE)))
    sheet.page_setup.fitToWidth = pages_across
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    if pages_across > 1:
        sheet.print_title_cols = f"A:{get_column_letter(table.frozen_columns)}"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.left.text = spreadsheet_safe(table.title).replace("&", "&&")  # & starts a header code
    sheet.oddHeader.left.size = 9
    sheet.oddFooter.center.text = "&P / &N"
    sheet.oddFooter.right.text = f"作成 {created_at.astimezone(JAPAN):%Y-%m-%d %H:%M} JST"
    sheet.oddFooter.right.size = 9
