"""The Excel form (``hikikomori template``) and reading it back, filled in, as a center would."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from helpers_validation import reference, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from support import make_settings, query, run_steps

from hikikomori.cli import main
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.template import (
    DATA_SHEET,
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    JAPANESE_HEADER_ROW,
    JAPANESE_HEADINGS,
    template_items,
    write_template,
)

FIRST_ITEM_ROW = HEADER_ROW + 1


def make_template(folder: Path, center_code: str = "130001", fiscal_year: int = 2016) -> Path:
    center = reference().centers[center_code]
    return write_template(reference(), center, fiscal_year, folder / f"{center_code}_{fiscal_year}.xlsx")


def fill(path: Path, counts: list[object]) -> None:
    """Type counts into the count column, top to bottom (None leaves a cell empty)."""
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for row, value in enumerate(counts, start=FIRST_ITEM_ROW):
        sheet[f"E{row}"] = value
    workbook.save(path)


def cp932_export(path: Path) -> Path:
    """The first sheet as Excel's 'CSV (comma delimited)' writes it on a Japanese PC."""
    sheet = load_workbook(path, data_only=True).worksheets[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(["" if value is None else value for value in row])
    target = path.with_suffix(".csv")
    target.write_bytes(buffer.getvalue().encode("cp932"))
    return target


def typed_rows(fiscal_year: int, counts: list[int]) -> list[tuple[int, str, str, int]]:
    items = template_items(reference(), fiscal_year)
    codes = {category.label_ja: category.category for category in reference().categories}
    return [
        (row, item.measure, codes.get(item.category, item.category), count)
        for row, (item, count) in enumerate(zip(items, counts, strict=False), start=FIRST_ITEM_ROW)
    ]


@pytest.mark.parametrize(
    ("center_code", "fiscal_year", "items"),
    [
        ("130001", 2015, 11),  # summary form: consultations, 9 groups, supporter activities
        ("011002", 2016, 23),  # detailed form: consultations, 21 categories, supporter activities
    ],
)
def test_form_layout_and_protection(tmp_path: Path, center_code: str, fiscal_year: int, items: int) -> None:
    workbook = load_workbook(make_template(tmp_path, center_code, fiscal_year))
    sheet = workbook.worksheets[0]
    assert workbook.sheetnames == [DATA_SHEET, INSTRUCTIONS_SHEET]
    header = [cell.value for cell in sheet[HEADER_ROW]]
    assert header == ["center_code", "fiscal_year", "measure", "category", "count", "項目名"]
    last = FIRST_ITEM_ROW + items - 1
    assert sheet.max_row == last
    center = reference().centers[center_code]
    assert center.center_name in sheet["A2"].value
    for row in range(FIRST_ITEM_ROW, last + 1):
        assert sheet[f"A{row}"].value == center_code
        assert sheet[f"B{row}"].value == ("平成27年度" if fiscal_year == 2015 else "平成28年度")
        assert all(sheet[f"{letter}{row}"].protection.locked for letter in "ABCDF")
        assert not sheet[f"E{row}"].protection.locked
    assert sheet.protection.sheet
    (rule,) = sheet.data_validations.dataValidation
    assert (rule.type, rule.operator, rule.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert str(rule.sqref) == f"E{FIRST_ITEM_ROW}:E{last}"
    assert rule.showInputMessage and rule.prompt
    assert sheet[f"F{last}"].value.startswith("（任意）")  # supporter activities, optional
    assert "記入方法" in workbook[INSTRUCTIONS_SHEET]["A1"].value


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(counts=st.lists(st.integers(min_value=0, max_value=10**7), min_size=23, max_size=23))
def test_filled_form_and_its_cp932_export_read_back_as_typed(tmp_path: Path, counts: list[int]) -> None:
    folder = tmp_path / str(abs(hash(tuple(counts))))
    folder.mkdir()
    path = make_template(folder)
    fill(path, counts)
    workbook_result, csv_result = validate(folder, path, cp932_export(path))
    for result in (workbook_result, csv_result):
        assert result.issues == []
        assert list(result.rows.itertuples(index=False, name=None)) == typed_rows(2016, counts)


def test_optional_row_left_empty_is_not_reported(tmp_path: Path) -> None:
    path = make_template(tmp_path, fiscal_year=2015)
    fill(path, [1520, *range(9)])  # the supporter-activities row stays empty
    workbook_result, csv_result = validate(tmp_path, path, cp932_export(path))
    for result in (workbook_result, csv_result):
        assert result.accepted
        assert "supporter_activities" not in set(result.rows.measure)


def test_required_row_left_empty_is_rejected_with_its_cell(tmp_path: Path) -> None:
    path = make_template(tmp_path, fiscal_year=2015)
    fill(path, [None, *range(9), 3])
    (result,) = validate(tmp_path, path)
    assert result.issues == [Issue(path.name, "count_blank", row=6, column="count", cell="E6", value="")]
    assert result.issues[0].message_ja == "件数が空欄です"
    assert result.issues[0].fix_ja == "0件の場合は 0 を入力してください"


@pytest.mark.parametrize(
    ("value", "rule", "text", "message_ja"),
    [
        ("=SUM(E7:E9)", "cell_formula", "=SUM(E7:E9)", "セルに数式が入っています"),  # a formula
        (date(2016, 4, 1), "cell_date", "2016-04-01T00:00:00", "セルに日付が入っています"),  # a date
        ("十二", "count_not_a_number", "十二", "件数が数値ではありません"),  # text where a number belongs
    ],
)
def test_cell_problems_name_the_cell(tmp_path: Path, value: object, rule: str, text: str, message_ja: str) -> None:
    path = make_template(tmp_path, fiscal_year=2015)
    fill(path, [1520, 1, 2, value, *range(6), 3])  # row 9 holds the bad value
    (result,) = validate(tmp_path, path)
    assert result.issues == [Issue(path.name, rule, row=9, column="count", cell="E9", value=text)]
    assert result.issues[0].message_ja == message_ja


def test_filled_form_and_export_load_the_typed_figures_into_the_warehouse(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    counts = [1520, *range(1, 22), 12]
    for center_code in ("130001", "010006"):
        path = make_template(settings.inbox_dir / center_code, center_code)
        fill(path, counts)
        if center_code == "010006":  # sent as the CP932 CSV export instead of the workbook
            cp932_export(path)
            path.unlink()

    outcomes = run_steps(settings)

    assert [item.outcome for item in outcomes] == ["accepted", "accepted"]
    totals = query(
        settings.warehouse_path,
        "select center_code, measure, measure_total from intermediate.int_center_measure_totals order by all",
    )
    expected = {"consultations": 1520, "referrals": sum(range(1, 22)), "supporter_activities": 12}
    for center_code in ("010006", "130001"):
        rows = totals[totals.center_code == center_code]
        assert dict(zip(rows.measure, rows.measure_total, strict=True)) == expected


def test_cli_writes_one_form_or_one_per_open_center(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--center", "130001", "--fiscal-year", "H28", "--out", str(tmp_path / "a.xlsx")]) == 0
    assert load_workbook(tmp_path / "a.xlsx").worksheets[0]["B6"].value == "平成28年度"

    assert main(["template", "--all", "--fiscal-year", "2013", "--out", str(tmp_path / "all")]) == 0
    written = sorted(path.name for path in (tmp_path / "all").iterdir())
    opened = sorted(code for code, center in reference().centers.items() if center.opened_fiscal_year <= 2013)
    assert written == [f"{code}_2013.xlsx" for code in opened]
    assert f"{len(opened)} 件の様式を作成しました" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--center", "141500", "--fiscal-year", "2017"], "center opened in FY2018"),  # 相模原市 opened later
        (["--center", "999999", "--fiscal-year", "2017"], "not in the registry"),  # unknown code
        (["--center", "130001", "--fiscal-year", "昭和60"], "not a fiscal year"),  # unreadable year
    ],
)
def test_cli_refuses_a_form_that_cannot_be_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["template", *arguments, "--out", str(tmp_path / "x.xlsx")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_staff_read_japanese_headings_and_start_on_the_first_count_cell(tmp_path: Path) -> None:
    workbook = load_workbook(make_template(tmp_path))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[JAPANESE_HEADER_ROW]] == list(JAPANESE_HEADINGS)
    assert sheet[f"A{HEADER_ROW}"].font.sz == 8  # the machine column names, small and grey
    assert sheet[f"A{HEADER_ROW}"].font.color.rgb.endswith("7F7F7F")
    assert workbook.active.title == DATA_SHEET
    assert [(view.activeCell, view.sqref) for view in sheet.sheet_view.selection] == [("E6", "E6")]


def test_the_form_sends_staff_to_the_portal_and_explains_the_two_hello_work_rows(tmp_path: Path) -> None:
    workbook = load_workbook(make_template(tmp_path))
    instructions = "\n".join(str(row[0].value or "") for row in workbook[INSTRUCTIONS_SHEET].iter_rows())
    labels = {row[3].value: row[5].value for row in workbook.worksheets[0].iter_rows(min_row=FIRST_ITEM_ROW)}
    assert "提出ポータル" in instructions and "hikikomori validate" not in instructions
    assert "「ハローワーク」が2行あることについて" in instructions and "公共職業安定所" in instructions
    assert "「その他」に集計" in labels["ハローワーク（出典の重複ラベル）"]
    assert labels["ハローワーク"].endswith("（公共職業安定所）")


def test_a_form_made_before_the_japanese_headings_is_read_the_same(tmp_path: Path) -> None:
    path = make_template(tmp_path, fiscal_year=2015)
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for cell in sheet[JAPANESE_HEADER_ROW]:
        cell.value = None  # the earlier form: titles, an empty row, then the header
    workbook.save(path)
    fill(path, [1520, *range(9), 3])

    workbook_result, csv_result = validate(tmp_path, path, cp932_export(path))

    for result in (workbook_result, csv_result):
        assert result.accepted, result.issues
        assert list(result.rows.itertuples(index=False, name=None)) == typed_rows(2015, [1520, *range(9), 3])
