"""The Excel form a center fills in: ``hikikomori template``, or downloaded from the portal.

The first sheet is the submission itself in the canonical long layout, so a filled form (or the
same sheet saved as CSV from Excel) is read by ``submission_files`` like any CSV: a few title rows,
the header row, one row per item of the year's form. Staff read the Japanese headings (row 4); the
machine column names the reader looks for (row 5) sit under them in small grey type. Forms made
before the Japanese headings existed have row 4 empty: both are read the same way. Only the count
cells are unlocked, and the cursor starts on the first; Excel's own data validation keeps them
whole numbers ≥ 0. A second sheet, 記入方法, explains the form and how to submit it (the portal).
"""

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from hikikomori.domain.fiscal_years import fiscal_year_label
from hikikomori.domain.labels import label
from hikikomori.domain.reference import TOTAL_CATEGORY, Center, ReferenceData
from hikikomori.domain.vocabulary import Measure
from hikikomori.schemas.files import JAPANESE_HEADINGS, OPTIONAL_ITEM_MARK, SUBMISSION_COLUMNS, TEMPLATE_LABEL_COLUMN

DATA_SHEET = "報告"
INSTRUCTIONS_SHEET = "記入方法"
HEADER_ROW = 5  # rows 1-3 are titles; the reader finds the header row by its center_code heading
JAPANESE_HEADER_ROW = 4  # what staff read; rows above the header row are never data

COUNT_COLUMN = "E"
_LABEL_COLUMN = "F"
_MEASURE_COLUMN = 3  # C: the measure's code, for the reader; the label column says it in Japanese

_JAPANESE_FONT = "Noto Sans CJK JP"  # falls back to the viewer's Japanese font where not installed
_INPUT_FILL = PatternFill("solid", start_color="FFF2CC")
_OPTIONAL_FILL = PatternFill("solid", start_color="E2EFDA")
_LOCKED_FILL = PatternFill("solid", start_color="EDEDED")
_HEADER_FILL = PatternFill("solid", start_color="BDD7EE")
_MACHINE_FONT = Font(name=_JAPANESE_FONT, size=8, color="7F7F7F")  # the column names the reader needs
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

INSTRUCTIONS = (
    "記入方法（ひきこもり地域支援センター 実績報告）",
    "",
    "1. 「報告」シートの黄色のセル（「件数（入力欄）」の列）に、その年度の件数を半角の整数で入力してください。",
    "   0件の項目も空欄にせず 0 を入力してください。数式・日付・文字は入力しないでください。",
    "2. 緑色の行（任意）は、ひきこもりサポーターの活動件数です。報告しない場合は空欄のままにしてください。",
    "3. 団体コード・年度・項目の列は変更できません（シートは保護されています）。",
    "   5行目の小さな英字（center_code など）はシステムが読む列名です。そのままにしてください。",
    "4. 関係機関につないだ件数は区分ごとに入力します。合計は集計側で計算するため入力不要です。",
    "5. 入力したら上書き保存し、ファイル名は変えないでください（例: 130001_2016.xlsx）。",
    "6. 提出は「提出ポータル」から行います。事務局から案内されたアドレスをブラウザで開いてログインし、",
    "   「ファイルを提出する」でこのファイルを選んで「アップロードして検査する」を押してください。",
    "   その場で検査され、問題があればセル番地（例: E7）と直し方がすべて表示されます。",
    "   直して保存し、もう一度アップロードしてください。",
    "   問題がなければ受付番号が表示されます。受付票はポータルからいつでもダウンロードできます。",
    "   ポータルでは年度ごとの状況（未提出 / 受付済み・集計待ち / 取込済み 第N版 / 差戻し）と",
    "   提出期限も確認できます。",
    "",
    "延べ相談件数: 同じ方が3回相談した場合は3件と数えます。",
    "関係機関につないだ件数: 専門機関での支援が決定した件数を、つないだ先の区分ごとに数えます。",
    "",
    "「ハローワーク」が2行あることについて（平成28年度以降の様式）:",
    "   国が公表している詳細な集計表には「ハローワーク」という列が2つあります。",
    "   2つ目の列がハローワーク（公共職業安定所）で、全国集計の「ハローワーク」に数えられます。",
    "   1つ目の列は全国集計では「その他」に数えられており、何を指すかは公表資料に書かれていません。",
    "   この様式では1つ目を「ハローワーク（出典の重複ラベル）」としています。",
    "   ハローワーク（公共職業安定所）につないだ件数は、もう1つの「ハローワーク」の行に入力してください。",
    "   「ハローワーク（出典の重複ラベル）」の行は、これまでその列に数えてきた件数があればその数を、",
    "   なければ 0 を入力してください。",
    "",
    "English: type each count (a whole number, 0 if none) in the yellow cells of the sheet 報告.",
    "The green row (supporter activities) is optional: leave it empty if not reported.",
    "Other cells are locked. Submit the saved file through the submission portal (log in, upload it):",
    "it is checked at once, and every problem is shown with its cell; a file without problems gets a receipt number.",
    "The form has two ハローワーク rows because the national table has two columns of that name: the second is",
    "Hello Work (public employment office); the first, labelled as the source's duplicated label, counts as Other.",
)
# Plain words beside the items whose published label alone is ambiguous (DOMAIN.md: the duplicated ハローワーク).
_ITEM_NOTES = {
    "hello_work_duplicate": "（1つ目の列・「その他」に集計。記入方法を参照）",
    "hello_work": "（公共職業安定所）",
}


@dataclass(frozen=True)
class TemplateItem:
    """One row of the form: the canonical measure and category, and the label staff read."""

    measure: Measure
    category: str  # what the category cell shows: ``total`` or the category's Japanese label
    label: str
    optional: bool = False


def template_items(reference: ReferenceData, fiscal_year: int) -> list[TemplateItem]:
    """The rows of that fiscal year's form, in the published column order."""
    referrals = sorted(reference.form_categories(reference.form_for(fiscal_year)), key=lambda c: c.display_order)
    return [
        TemplateItem(Measure.CONSULTATIONS, TOTAL_CATEGORY, f"{label(Measure.CONSULTATIONS).ja} (consultations)"),
        *(
            TemplateItem(
                Measure.REFERRALS,
                category.label_ja,
                f"{label(Measure.REFERRALS).ja}: {category.label_ja}{_ITEM_NOTES.get(category.category, '')}",
            )
            for category in referrals
        ),
        TemplateItem(
            Measure.SUPPORTER_ACTIVITIES,
            TOTAL_CATEGORY,
            f"{OPTIONAL_ITEM_MARK}{label(Measure.SUPPORTER_ACTIVITIES).ja}（報告しない場合は空欄）",
            optional=True,
        ),
    ]


def build_template(reference: ReferenceData, center: Center, fiscal_year: int) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    _fill_data_sheet(sheet, center, fiscal_year, template_items(reference, fiscal_year))
    _fill_instructions(workbook.create_sheet(INSTRUCTIONS_SHEET))
    return workbook


def write_template(reference: ReferenceData, center: Center, fiscal_year: int, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    build_template(reference, center, fiscal_year).save(path)
    return path


def template_file_name(center_code: str, fiscal_year: int) -> str:
    return f"{center_code}_{fiscal_year}.xlsx"


def centers_open_in(reference: ReferenceData, fiscal_year: int) -> list[Center]:
    return [center for center in reference.centers.values() if center.opened_fiscal_year <= fiscal_year]


def _fill_data_sheet(sheet: Worksheet, center: Center, fiscal_year: int, items: list[TemplateItem]) -> None:
    year_label = fiscal_year_label(fiscal_year)
    titles = (
        ("ひきこもり地域支援センター 実績報告 / annual report", Font(name=_JAPANESE_FONT, bold=True, size=14)),
        (
            f"団体: {center.center_name}（団体コード {center.center_code}）　年度: {year_label}（{fiscal_year}年度）",
            Font(name=_JAPANESE_FONT, bold=True, size=12),
        ),
        (
            "黄色のセルに件数（0以上の整数）を入力し、保存して提出ポータルからアップロードしてください。"
            "緑色の行は任意です。詳しくは「記入方法」シート。",
            Font(name=_JAPANESE_FONT, size=10),
        ),
    )
    for row, (text, font) in enumerate(titles, start=1):
        cell = sheet.cell(row=row, column=1, value=text)
        cell.font = font
    for column, name in enumerate(JAPANESE_HEADINGS, start=1):
        cell = sheet.cell(row=JAPANESE_HEADER_ROW, column=column, value=name)
        cell.font = Font(name=_JAPANESE_FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BOX
        cell.alignment = Alignment(vertical="center")
    header = (*SUBMISSION_COLUMNS, TEMPLATE_LABEL_COLUMN)
    for column, name in enumerate(header, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=name)
        cell.font = _MACHINE_FONT
        cell.border = _BOX
    first_row = HEADER_ROW + 1
    for row, item in enumerate(items, start=first_row):
        values = (center.center_code, year_label, item.measure.value, item.category, None, item.label)
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.font = _MACHINE_FONT if column == _MEASURE_COLUMN else Font(name=_JAPANESE_FONT)
            cell.border = _BOX
            cell.fill = _LOCKED_FILL
        sheet.cell(row=row, column=1).number_format = "@"  # keeps the code's leading zero
        count = sheet[f"{COUNT_COLUMN}{row}"]
        count.protection = Protection(locked=False)
        count.fill = _OPTIONAL_FILL if item.optional else _INPUT_FILL
        count.number_format = "#,##0"
        if item.optional:
            sheet[f"{_LABEL_COLUMN}{row}"].fill = _OPTIONAL_FILL
    last_row = first_row + len(items) - 1
    rule = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showInputMessage=True,
        promptTitle="件数を入力",
        prompt="0以上の整数を入力してください（0件なら 0）。数式・日付は使えません。",
        showErrorMessage=True,
        errorTitle="入力できない値です",
        error="件数は0以上の整数で入力してください。",
    )
    rule.add(f"{COUNT_COLUMN}{first_row}:{COUNT_COLUMN}{last_row}")
    sheet.add_data_validation(rule)
    for letter, width in zip("ABCDEF", (12, 12, 14, 34, 14, 84), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.row_dimensions[JAPANESE_HEADER_ROW].height = 22
    sheet.freeze_panes = f"A{first_row}"
    # The cursor starts on the first count cell (frozen panes: the selection of the lower pane).
    first_input = f"{COUNT_COLUMN}{first_row}"
    for selection in sheet.sheet_view.selection:
        selection.activeCell = first_input
        selection.sqref = first_input
    sheet.protection.sheet = True  # no password: it guards against slips, not against the center
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{JAPANESE_HEADER_ROW}:{HEADER_ROW}"


def _fill_instructions(sheet: Worksheet) -> None:
    for row, line in enumerate(INSTRUCTIONS, start=1):
        cell = sheet.cell(row=row, column=1, value=line)
        cell.font = Font(name=_JAPANESE_FONT, bold=row == 1, size=13 if row == 1 else 11)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.column_dimensions["A"].width = 110
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.protection.sheet = True
