"""validate_files against CONTRACT.md §1: every rule a center can break, with the exact report.

The base files are helpers_validation's valid FY2015 summary-form and FY2016 detailed-form files
for 東京都 (130001, opened FY2014); each case alters them and checks what a center would see:
the file rejected, and each issue's rule, row, column, cell, value, expected value and messages.
"""

from datetime import date
from pathlib import Path

import pytest
from helpers_validation import (
    CONSULTATIONS,
    DETAILED_COUNTS,
    SUMMARY_COUNTS,
    SUPPORTER_ACTIVITIES,
    Row,
    altered,
    submission_rows,
    validate,
    validate_rows,
    write_submission,
)
from openpyxl import Workbook

from hikikomori.domain.center_codes import check_digit
from hikikomori.schemas.rules import RULES, Issue

SUMMARY = submission_rows(2015)  # rows 2-13; referral total on row 12
DETAILED = submission_rows(2016)  # rows 2-25; referral total on row 24
F2015, F2016 = "130001_2015.csv", "130001_2016.csv"
LETTERS = {"center_code": "A", "fiscal_year": "B", "measure": "C", "category": "D", "count": "E"}
UNREGISTERED = "99999" + str(check_digit("99999"))  # valid check digit, not in the registry
HEADER = "center_code,fiscal_year,measure,category,count\n"
ROW = "130001,2016,consultations,total,1520\n"

# The messages of rules whose text does not depend on the file: (Japanese, English).
FIXED_MESSAGES = {
    "file_empty": ("ファイルが空です", "the file is empty"),
    "file_not_text": (
        "CSVとして読めません（文字ではないデータが含まれています）",
        "not a CSV text file (contains binary data)",
    ),
    "file_encoding": (
        "文字コードを判別できません",
        "the text is neither UTF-8 nor CP932 (Shift_JIS)",
    ),
    "xlsx_unreadable": (
        "Excelファイルとして開けません（zipfile.BadZipFile: File is not a zip file）",
        "cannot be opened as an .xlsx workbook (zipfile.BadZipFile: File is not a zip file)",
    ),
    "file_name": (
        "ファイル名が「団体コード_年度.csv」または「.xlsx」の形ではありません",
        "file name must be <center_code>_<fiscal_year>.csv or .xlsx",
    ),
    "no_data_rows": ("データ行がありません", "the file has a header but no data rows"),
    "cell_formula": ("セルに数式が入っています", "the cell holds a formula"),
    "cell_date": ("セルに日付が入っています", "the cell holds a date"),
    "center_code_format": ("団体コードは6桁の数字です", "center_code must be 6 digits"),
    "center_code_check_digit": (
        "団体コードの検査数字（6桁目）が正しくありません",
        "center_code has a wrong check digit",
    ),
    "fiscal_year_format": (
        "年度の書き方が正しくありません",
        "fiscal_year is not a recognised form",
    ),
    "category_blank": ("category 列が空です", "category is blank"),
    "count_blank": ("件数が空欄です", "count is blank"),
    "count_negative": ("件数にマイナスの値は使えません", "count must not be negative"),
    "count_fraction": ("件数に小数は使えません", "count must be a whole number"),
    "count_not_a_number": ("件数が数値ではありません", "count is not a number"),
}


def cell_issue(file: str, rule: str, row: int, column: str, value: str, expected: str | None = None) -> Issue:
    return Issue(file, rule, row, column, f"{LETTERS[column]}{row}", value, expected)


def missing(file: str, item: str) -> Issue:
    return Issue(file, "item_missing", column="category", value=item)


def messages(issue: Issue) -> tuple[str, str]:
    return issue.message_ja, issue.message_en


def rejected_alone(inbox: Path, rows: list[Row], name: str | None = None) -> list[Issue]:
    result = validate_rows(inbox, rows, name)
    assert not result.accepted
    assert result.rows is None
    return result.issues


def accepted_rows(inbox: Path, rows: list[Row], name: str | None = None) -> list[tuple]:
    """The loaded (row_number, measure, category, count) tuples of a file that must be accepted."""
    result = validate_rows(inbox, rows, name)
    assert result.issues == []
    assert result.accepted
    assert result.rows is not None
    assert str(result.rows["count"].dtype) == "int64"
    return list(result.rows.itertuples(index=False, name=None))


def write_xlsx(inbox: Path, rows: list[Row], name: str, cells: dict[str, object]) -> Path:
    """The rows as a workbook (counts as numbers), with some cells overwritten."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([*row[:4], int(row[4]) if row[4].isdigit() else row[4]])
    for address, value in cells.items():
        sheet[address] = value
    path = inbox / name
    workbook.save(path)
    return path


# --- accepted files ------------------------------------------------------------------------------


def test_valid_summary_file_rows(tmp_path: Path) -> None:
    referrals = enumerate(SUMMARY_COUNTS.items(), start=3)
    assert accepted_rows(tmp_path, SUMMARY) == [
        (2, "consultations", "total", CONSULTATIONS),
        *((number, "referrals", code, count) for number, (code, count) in referrals),
        (12, "referrals", "total", sum(SUMMARY_COUNTS.values())),
        (13, "supporter_activities", "total", SUPPORTER_ACTIVITIES),
    ]


def test_valid_detailed_file_rows_and_identity(tmp_path: Path) -> None:
    result = validate_rows(tmp_path, DETAILED)
    assert result.accepted
    assert (result.center_code, result.fiscal_year) == ("130001", 2016)
    assert result.rows is not None
    assert list(result.rows.columns) == ["row_number", "measure", "category", "count"]
    referrals = result.rows[result.rows.measure == "referrals"]
    assert dict(zip(referrals.category, referrals["count"], strict=True)) == {
        **DETAILED_COUNTS,
        "total": sum(DETAILED_COUNTS.values()),
    }


@pytest.mark.parametrize(
    ("rows", "name"),
    [
        # referral total omitted
        (altered(SUMMARY, drop=[12]), F2015),
        # supporter_activities omitted
        (altered(SUMMARY, drop=[13]), F2015),
        # both optional rows omitted
        (altered(DETAILED, drop=[24, 25]), F2016),
        # FY2025 has ended by 2026-11-26
        (submission_rows(2025), "130001_2025.csv"),
        # the center's own opening year
        (submission_rows(2014), "130001_2014.csv"),
        # in the center's own folder
        (SUMMARY, f"130001/{F2015}"),
    ],
)
def test_accepted_variants(tmp_path: Path, rows: list[Row], name: str) -> None:
    assert accepted_rows(tmp_path, rows, name)


SUMMARY_LABELS = [
    "精神保健福祉センター",
    "保健所・保健センター",
    "医療機関",
    "NPO法人等",
    "地域若者サポートステーション",
    "ハローワーク",
    "児童相談所",
    "福祉事務所",
    "その他",
]
DETAILED_LABELS = [
    "福祉事務所",
    "福祉事務所以外の市区町村窓口",
    "社会福祉協議会",
    "自立相談支援事業実施機関",
    "地域包括支援センター",
    "児童相談所",
    "児童家庭支援センター",
    "保健所・保健センター",
    "精神保健福祉センター",
    "発達障害者支援センター",
    "医療機関",
    "ハローワーク（出典の重複ラベル）",
    "地域若者サポートステーション",
    "ハローワーク",
    "企業",
    "学校・教育委員会等",
    "民間支援団体(当事者団体・NPO法人等)",
    "障害者雇用促進関連施設",
    "障害者総合支援関連施設",
    "他のひきこもり地域支援センター",
    "その他",
]


@pytest.mark.parametrize(
    ("rows", "labels", "codes", "encoding"),
    [
        # the 9 summary groups, UTF-8
        (SUMMARY, SUMMARY_LABELS, list(SUMMARY_COUNTS), "utf-8"),
        # the 21 detailed categories, UTF-8 with BOM
        (DETAILED, DETAILED_LABELS, list(DETAILED_COUNTS), "utf-8-sig"),
        # the 21 detailed categories, CP932 as Excel in Japan saves it
        (DETAILED, DETAILED_LABELS, list(DETAILED_COUNTS), "cp932"),
    ],
)
def test_japanese_labels_are_read_as_codes(
    tmp_path: Path, rows: list[Row], labels: list[str], codes: list[str], encoding: str
) -> None:
    labelled = altered(rows, {n: {"category": label} for n, label in enumerate(labels, start=3)})
    path = write_submission(tmp_path, labelled, encoding=encoding, newline="\r\n")
    (result,) = validate(tmp_path, path)
    assert result.issues == []
    assert result.rows is not None
    referrals = result.rows[result.rows.measure == "referrals"]
    assert referrals.category.tolist() == [*codes, "total"]


@pytest.mark.parametrize(
    ("row", "label", "code"),
    [
        # full-width parentheses in 民間支援団体(当事者団体・NPO法人等)
        (19, "民間支援団体（当事者団体・NPO法人等）", "private_support_org"),
        # the plain label ハローワーク means hello_work
        (16, "ハローワーク", "hello_work"),
        # the duplicated column given by its code
        (14, "hello_work_duplicate", "hello_work_duplicate"),
        # ... or by the project's own label
        (14, "ハローワーク（出典の重複ラベル）", "hello_work_duplicate"),
        # ... with half-width parentheses
        (14, "ハローワーク(出典の重複ラベル)", "hello_work_duplicate"),
    ],
)
def test_label_variants(tmp_path: Path, row: int, label: str, code: str) -> None:
    loaded = accepted_rows(tmp_path, altered(DETAILED, {row: {"category": label}}))
    assert (row, "referrals", code, DETAILED_COUNTS[code]) in loaded


@pytest.mark.parametrize(
    ("year", "text"),
    [
        (2016, "2016年度"),  # Western year with 年度
        (2016, "平成28年度"),  # era name
        (2016, "平成28"),  # era name without 年度
        (2016, "H28"),  # letter form
        (2016, "h28"),  # lower-case letter
        (2016, "ｈ２８"),  # full-width
        (2019, "令和元年度"),  # 元 for the first year
        (2019, "平成31年度"),  # FY2019's name before the era changed
        (2019, "R1"),  # 令和 letter form
        (2024, "令和6年度"),  # later 令和 year
        (2024, "R6"),  # later 令和 letter form
        (2015, "H27"),  # a summary-form year in letter form
    ],
)
def test_every_fiscal_year_form_in_the_file(tmp_path: Path, year: int, text: str) -> None:
    rows = submission_rows(year)
    rows = altered(rows, {n: {"fiscal_year": text} for n in range(2, len(rows) + 1)})
    result = validate_rows(tmp_path, rows, f"130001_{year}.csv")
    assert result.issues == []
    assert result.fiscal_year == year


@pytest.mark.parametrize(
    "text",
    [
        "1,323",  # thousands separator (quoted in the CSV)
        "１３２３",  # full-width digits
        " 1323 ",  # surrounding spaces
        "1323.0",  # Excel's float rendering
        "１，３２３",  # full-width digits and comma
    ],
)
def test_every_count_form(tmp_path: Path, text: str) -> None:
    loaded = accepted_rows(tmp_path, altered(SUMMARY, {2: {"count": text}}))
    assert loaded[0] == (2, "consultations", "total", 1323)


def test_matching_referral_total_in_another_count_form(tmp_path: Path) -> None:
    total = sum(DETAILED_COUNTS.values())
    loaded = accepted_rows(tmp_path, altered(DETAILED, {24: {"count": f"{total}.0"}}))
    assert (24, "referrals", "total", total) in loaded


def test_valid_xlsx(tmp_path: Path) -> None:
    (result,) = validate(tmp_path, write_xlsx(tmp_path, SUMMARY, "130001_2015.xlsx", {}))
    assert result.issues == []
    assert result.rows is not None
    assert result.rows["count"].sum() == CONSULTATIONS + 2 * sum(SUMMARY_COUNTS.values()) + SUPPORTER_ACTIVITIES


# --- one value -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "count_blank"),  # blank cell
        ("-3", "count_negative"),  # ASCII minus
        ("－3", "count_negative"),  # full-width minus
        ("▲3", "count_negative"),  # Japanese accounting negative mark
        ("1.5", "count_fraction"),  # fraction
        ("abc", "count_not_a_number"),  # text
        ("15¹", "count_not_a_number"),  # a superscript: NFKC would have stored 151
        ("١٥", "count_not_a_number"),  # Arabic-Indic digits
    ],
)
def test_count_problems(tmp_path: Path, value: str, rule: str) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {5: {"count": value}}))
    assert issues == [cell_issue(F2015, rule, 5, "count", value)]
    assert messages(issues[0]) == FIXED_MESSAGES[rule]


@pytest.mark.parametrize("value", ["1000000001", "9223372036854775807", str(10**30), "1,000,000,001"])
def test_a_count_over_the_maximum_per_item_is_rejected_with_the_maximum(tmp_path: Path, value: str) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {5: {"count": value}}))
    assert issues == [cell_issue(F2015, "count_too_large", 5, "count", value, expected="1,000,000,000")]
    assert messages(issues[0]) == (
        f"件数 {value} が1項目の上限 1,000,000,000 を超えています",
        f"count {value} is over the maximum of 1,000,000,000 per item",
    )


def test_the_maximum_itself_is_a_count(tmp_path: Path) -> None:
    rows = altered(SUMMARY, {2: {"count": "1000000000"}})
    assert (2, "consultations", "total", 10**9) in accepted_rows(tmp_path, rows)


def test_counts_stay_exact_beside_unreadable_counts_of_other_files(tmp_path: Path) -> None:
    """A batch holding a null count and a huge one once went through float64: 2**53 + 1 became 2**53,
    and 2**63 - 1 beside ``abc`` crashed the whole batch (TypeError: cannot safely cast float64)."""
    huge_and_text = write_submission(tmp_path, altered(SUMMARY, {2: {"count": str(2**63 - 1)}, 3: {"count": "abc"}}))
    valid = write_submission(
        tmp_path, altered(submission_rows(2015, "270008"), {2: {"count": "999999999"}}), "270008_2015.csv"
    )
    bad, good = validate(tmp_path, huge_and_text, valid)
    assert {issue.rule for issue in bad.issues} == {"count_too_large", "count_not_a_number"}
    assert good.accepted and good.rows is not None
    assert good.rows["count"].tolist()[0] == 999_999_999
    assert str(good.rows["count"].dtype) == "int64"


def test_count_problem_cell_follows_the_column_order(tmp_path: Path) -> None:
    reversed_columns = [row[::-1] for row in altered(SUMMARY, {5: {"count": "-1"}})]
    (result,) = validate(tmp_path, write_submission(tmp_path, reversed_columns, F2015))
    assert result.issues == [Issue(F2015, "count_negative", 5, "count", "A5", "-1")]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("13001", "center_code_format"),  # five digits (a leading digit lost)
        ("13000a", "center_code_format"),  # not all digits
        ("130002", "center_code_check_digit"),  # wrong check digit
    ],
)
def test_center_code_format_and_check_digit(tmp_path: Path, value: str, rule: str) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {2: {"center_code": value}}), F2015)
    assert issues == [cell_issue(F2015, rule, 2, "center_code", value)]
    assert messages(issues[0]) == FIXED_MESSAGES[rule]


def test_center_code_mismatch_with_file_name(tmp_path: Path) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {2: {"center_code": "010006"}}), F2015)
    assert issues == [cell_issue(F2015, "center_code_mismatch", 2, "center_code", "010006", "130001")]
    assert messages(issues[0]) == (
        "団体コード 010006 がファイル名の 130001 と一致しません",
        "center_code 010006 differs from the file name's 130001",
    )


def test_center_not_registered(tmp_path: Path) -> None:
    name = f"{UNREGISTERED}_2015.csv"
    issues = rejected_alone(tmp_path, submission_rows(2015, UNREGISTERED))
    assert issues == [cell_issue(name, "center_not_registered", n, "center_code", UNREGISTERED) for n in range(2, 14)]
    assert messages(issues[0]) == (
        f"団体コード {UNREGISTERED} はセンター名簿にありません",
        f"center {UNREGISTERED} is not in the center registry",
    )


def test_center_not_open_in_that_year(tmp_path: Path) -> None:
    # 岡山県 (330001) opened in FY2017, so it has nothing to report for FY2016.
    name, opened = "330001_2016.csv", "2017 (平成29年度)"
    issues = rejected_alone(tmp_path, submission_rows(2016, "330001"))
    assert issues == [cell_issue(name, "center_not_open", n, "center_code", "330001", opened) for n in range(2, 26)]
    assert messages(issues[0]) == (
        "330001 のセンターは 2017 (平成29年度) に開所したため、この年度は報告対象外です",
        "center 330001 opened in FY2017 (平成29年度), after this fiscal year",
    )


@pytest.mark.parametrize(
    "value",
    [
        "平成32",  # 平成 has no 32nd year
        "R0",  # era years start at 1
        "15",  # two-digit year
        "",  # blank
    ],
)
def test_fiscal_year_format(tmp_path: Path, value: str) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {2: {"fiscal_year": value}}), F2015)
    assert issues == [cell_issue(F2015, "fiscal_year_format", 2, "fiscal_year", value)]
    assert messages(issues[0]) == FIXED_MESSAGES["fiscal_year_format"]


@pytest.mark.parametrize(
    "value",
    [
        "2014",  # another year
        "H26",  # another year in era form
    ],
)
def test_fiscal_year_mismatch_with_file_name(tmp_path: Path, value: str) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {2: {"fiscal_year": value}}), F2015)
    assert issues == [cell_issue(F2015, "fiscal_year_mismatch", 2, "fiscal_year", value, "2015")]
    assert messages(issues[0]) == (
        f"年度 {value} がファイル名の 2015 と一致しません",
        f"fiscal year {value} differs from the file name's 2015",
    )


def test_fiscal_year_not_ended(tmp_path: Path) -> None:
    # On 2026-11-26 FY2026 is still running; FY2025 is the latest that can be reported.
    name, latest = "130001_2026.csv", "2025 (令和7年度)"
    issues = rejected_alone(tmp_path, submission_rows(2026))
    assert issues == [cell_issue(name, "fiscal_year_not_ended", n, "fiscal_year", "2026", latest) for n in range(2, 26)]
    assert messages(issues[0]) == (
        "2026 はまだ終わっていない年度です（提出できるのは 2025 (令和7年度) まで）",
        "fiscal year 2026 has not ended yet (latest accepted: FY2025 (令和7年度))",
    )


def test_fiscal_year_out_of_range(tmp_path: Path) -> None:
    # FY1988 is before 平成元年度; no center was open then either, which is reported too.
    name, opened, first = "130001_1988.csv", "2014 (平成26年度)", "1989 (平成元年度)"
    issues = rejected_alone(tmp_path, submission_rows(1988))
    assert issues == [
        issue
        for n in range(2, 14)
        for issue in (
            cell_issue(name, "center_not_open", n, "center_code", "130001", opened),
            cell_issue(name, "fiscal_year_out_of_range", n, "fiscal_year", "1988", first),
        )
    ]
    assert messages(issues[1]) == (
        "年度 1988 は受付の範囲外です（1989 (平成元年度) 以降）",
        "fiscal year 1988 is out of range (from FY1989 (平成元年度))",
    )


def test_measure_unknown(tmp_path: Path) -> None:
    # supporter_activities is optional, so its misspelt row leaves nothing else missing.
    issues = rejected_alone(tmp_path, altered(SUMMARY, {13: {"measure": "supporter_activity"}}))
    assert issues == [cell_issue(F2015, "measure_unknown", 13, "measure", "supporter_activity")]
    assert messages(issues[0]) == (
        "measure 列の値 supporter_activity は使えません",
        "measure supporter_activity is not one of consultations, referrals, supporter_activities",
    )


def test_misspelt_referral_measure_is_not_also_blamed_on_the_total(tmp_path: Path) -> None:
    # Row 3 was meant as a referral: the total row cannot be judged, and is not reported.
    issues = rejected_alone(tmp_path, altered(SUMMARY, {3: {"measure": "referral"}}))
    assert {issue.rule for issue in issues} == {"measure_unknown", "item_missing"}


def test_category_blank(tmp_path: Path) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {13: {"category": " "}}))
    assert issues == [cell_issue(F2015, "category_blank", 13, "category", " ")]
    assert messages(issues[0]) == FIXED_MESSAGES["category_blank"]


@pytest.mark.parametrize(
    ("rows", "name", "row", "value", "form", "also"),
    [
        # not a category at all (on the optional supporter_activities row)
        (altered(SUMMARY, {13: {"category": "foo"}}), F2015, 13, "foo", "2015 (平成27年度)", []),
        # consultations takes only total, so consultations is then missing too
        (
            altered(DETAILED, {2: {"category": "company"}}),
            F2016,
            2,
            "company",
            "2016 (平成28年度)",
            [missing(F2016, "consultations / total (consultations)")],
        ),
    ],
)
def test_category_unknown(
    tmp_path: Path, rows: list[Row], name: str, row: int, value: str, form: str, also: list[Issue]
) -> None:
    issues = rejected_alone(tmp_path, rows, name)
    assert issues == [cell_issue(name, "category_unknown", row, "category", value, form), *also]
    assert messages(issues[0]) == (
        f"category 列の値 {value} はこの項目の区分にありません",
        f"category {value} is not a category of this measure on the FY{form} form",
    )


@pytest.mark.parametrize(
    ("rows", "value", "form"),
    [
        (SUMMARY, "company", "2015 (平成27年度)"),  # a detailed code in a summary-form year
        (SUMMARY, "企業", "2015 (平成27年度)"),  # ... given by its label
        (DETAILED, "npo", "2016 (平成28年度)"),  # a summary code in a detailed-form year
        (DETAILED, "NPO法人等", "2016 (平成28年度)"),  # ... given by its label
    ],
)
def test_category_of_the_other_form(tmp_path: Path, rows: list[Row], value: str, form: str) -> None:
    year, extra_row = rows[1][1], len(rows) + 1
    name = f"130001_{year}.csv"
    issues = rejected_alone(tmp_path, [*rows, ["130001", year, "referrals", value, "0"]])
    assert issues == [cell_issue(name, "category_other_form", extra_row, "category", value, form)]
    assert messages(issues[0]) == (
        f"区分 {value} は {form} の様式にはありません",
        f"category {value} belongs to the other years' form, not the FY{form} form",
    )


@pytest.mark.parametrize(
    ("extra", "value", "first"),
    [
        (["referrals", "medical_institution", "0"], "medical_institution", "5"),  # same code twice
        (["referrals", "医療機関", "0"], "医療機関", "5"),  # the code's label after the code
        (["consultations", "total", "1"], "total", "2"),  # consultations twice
        (["supporter_activities", "total", "1"], "total", "13"),  # optional, still at most once
    ],
)
def test_category_duplicate(tmp_path: Path, extra: list[str], value: str, first: str) -> None:
    issues = rejected_alone(tmp_path, [*SUMMARY, ["130001", "2015", *extra]])
    assert issues == [cell_issue(F2015, "category_duplicate", 14, "category", value, first)]
    assert messages(issues[0]) == (
        f"区分 {value} が2回以上あります（最初は {first} 行目）",
        f"category {value} appears more than once (first on row {first})",
    )


def test_plain_hello_work_label_twice_means_hello_work_twice(tmp_path: Path) -> None:
    rows = altered(DETAILED, {14: {"category": "ハローワーク"}, 16: {"category": "ハローワーク"}})
    assert rejected_alone(tmp_path, rows) == [
        cell_issue(F2016, "category_duplicate", 16, "category", "ハローワーク", "14"),
        missing(F2016, "referrals / hello_work_duplicate (ハローワーク（出典の重複ラベル）)"),
    ]


@pytest.mark.parametrize(
    ("rows", "name", "item"),
    [
        # a summary group's row removed (with the total, which would no longer match)
        (altered(SUMMARY, drop=[5, 12]), F2015, "referrals / medical_institution (医療機関)"),
        # a detailed category's row removed
        (
            altered(DETAILED, drop=[14, 24]),
            F2016,
            "referrals / hello_work_duplicate (ハローワーク（出典の重複ラベル）)",
        ),
        # consultations removed
        (altered(SUMMARY, drop=[2]), F2015, "consultations / total (consultations)"),
    ],
)
def test_item_missing(tmp_path: Path, rows: list[Row], name: str, item: str) -> None:
    issues = rejected_alone(tmp_path, rows, name)
    assert issues == [missing(name, item)]
    assert messages(issues[0]) == (
        f"必須の項目 {item} の行がありません",
        f"required item {item} is missing",
    )


def test_item_missing_with_total_still_present(tmp_path: Path) -> None:
    # The total row moves up to row 11 and no longer matches the 8 remaining groups.
    assert rejected_alone(tmp_path, altered(SUMMARY, drop=[5])) == [
        cell_issue(F2015, "referral_total_mismatch", 11, "count", "71", "63"),
        missing(F2015, "referrals / medical_institution (医療機関)"),
    ]


@pytest.mark.parametrize(
    ("rows", "name", "row", "value", "expected"),
    [
        # the summary total off by one
        (altered(SUMMARY, {12: {"count": "70"}}), F2015, 12, "70", "71"),
        # a detailed category changed, the total not
        (altered(DETAILED, {3: {"count": "3"}}), F2016, 24, "71", "72"),
    ],
)
def test_referral_total_mismatch(
    tmp_path: Path, rows: list[Row], name: str, row: int, value: str, expected: str
) -> None:
    issues = rejected_alone(tmp_path, rows, name)
    assert issues == [cell_issue(name, "referral_total_mismatch", row, "count", value, expected)]
    assert messages(issues[0]) == (
        f"referrals の合計 {value} が各区分の和 {expected} と一致しません",
        f"referrals total {value} differs from the sum of its categories {expected}",
    )


# --- the file as a whole -------------------------------------------------------------------------


def test_file_name(tmp_path: Path) -> None:
    (result,) = validate(tmp_path, write_submission(tmp_path, DETAILED, "tokyo_2016.csv"))
    assert result.issues == [Issue("tokyo_2016.csv", "file_name", value="tokyo_2016.csv")]
    assert messages(result.issues[0]) == FIXED_MESSAGES["file_name"]


def test_folder_mismatch(tmp_path: Path) -> None:
    name = f"010006/{F2016}"
    (result,) = validate(tmp_path, write_submission(tmp_path, DETAILED, name))
    assert result.issues == [Issue(name, "folder_mismatch", value="130001", expected="010006")]
    assert messages(result.issues[0]) == (
        "フォルダ 010006 に別の団体 130001 のファイルがあります",
        "file for center 130001 is in the folder of center 010006",
    )


@pytest.mark.parametrize(
    ("name", "content", "issue"),
    [
        # zero bytes
        (F2016, b"", Issue(F2016, "file_empty")),
        # binary junk
        (F2016, b"\x00\x01\x02", Issue(F2016, "file_not_text")),
        # neither UTF-8 nor CP932 (0x85 0x40 is unassigned in CP932)
        (
            F2016,
            HEADER.encode() + b"130001,2016,consultations,total,\x85\x40\n",
            Issue(F2016, "file_encoding"),
        ),
        # not a workbook
        (
            "130001_2016.xlsx",
            b"not a zip file",
            Issue("130001_2016.xlsx", "xlsx_unreadable", value="zipfile.BadZipFile: File is not a zip file"),
        ),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, issue: Issue) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    (result,) = validate(tmp_path, path)
    assert result.issues == [issue]
    assert messages(issue) == FIXED_MESSAGES[issue.rule]
    assert result.rows is None


@pytest.mark.parametrize(
    ("content", "rule", "value", "ja", "en"),
    [
        # the category column missing
        (
            b"center_code,fiscal_year,measure,count\n130001,2016,consultations,1520\n",
            "header_missing",
            "category",
            "見出し行に必要な列 category がありません",
            "header lacks column(s) category",
        ),
        # an extra column
        (
            (HEADER.strip() + ",note\n" + ROW.strip() + ",x\n").encode(),
            "header_unknown",
            "note",
            "見出し行に不明な列 note があります",
            "header has unknown column(s) note",
        ),
        # a column twice
        (
            (HEADER.strip() + ",count\n" + ROW.strip() + ",1\n").encode(),
            "header_duplicate",
            "count",
            "見出し行に列 count が2回以上あります",
            "header repeats column(s) count",
        ),
    ],
)
def test_header_problems(tmp_path: Path, content: bytes, rule: str, value: str, ja: str, en: str) -> None:
    path = tmp_path / F2016
    path.write_bytes(content)
    (result,) = validate(tmp_path, path)
    assert result.issues == [Issue(F2016, rule, row=1, value=value)]
    assert messages(result.issues[0]) == (ja, en)


def test_row_with_wrong_field_count(tmp_path: Path) -> None:
    path = write_submission(tmp_path, DETAILED)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("130001,2016,supporter_activities,total,1,323\n")  # an unquoted 1,323
    (result,) = validate(tmp_path, path)
    assert result.issues == [Issue(F2016, "row_length", row=26, value="6", expected="5")]
    assert messages(result.issues[0]) == (
        "この行の列数 (6) が見出しの列数 (5) と違います",
        "this row has 6 fields but the header has 5",
    )


def test_header_only_file_in_a_batch(tmp_path: Path) -> None:
    header_only = tmp_path / F2015
    header_only.write_text(HEADER, encoding="utf-8")
    bad, good = validate(tmp_path, header_only, write_submission(tmp_path, DETAILED))
    assert bad.issues == [Issue(F2015, "no_data_rows")]
    assert messages(bad.issues[0]) == FIXED_MESSAGES["no_data_rows"]
    assert good.accepted


def test_header_only_file_alone(tmp_path: Path) -> None:
    header_only = tmp_path / F2015
    header_only.write_text(HEADER, encoding="utf-8")
    (result,) = validate(tmp_path, header_only)
    assert result.issues == [Issue(F2015, "no_data_rows")]


def test_file_without_referral_rows_alone(tmp_path: Path) -> None:
    assert rejected_alone(tmp_path, altered(SUMMARY, drop=range(3, 13))) == [
        missing(F2015, f"referrals / {code} ({label})")
        for code, label in zip(SUMMARY_COUNTS, SUMMARY_LABELS, strict=True)
    ]


@pytest.mark.parametrize(
    ("cell", "value", "rule", "text"),
    [
        ("E12", "=SUM(E3:E11)", "cell_formula", "=SUM(E3:E11)"),  # the total as a formula
        ("E5", date(2016, 4, 1), "cell_date", "2016-04-01T00:00:00"),  # a count shown as a date
    ],
)
def test_xlsx_cell_problems(tmp_path: Path, cell: str, value: object, rule: str, text: str) -> None:
    name = "130001_2015.xlsx"
    (result,) = validate(tmp_path, write_xlsx(tmp_path, SUMMARY, name, {cell: value}))
    row = int(cell[1:])
    # Reported once, as what the cell is; not again as a count that is not a number.
    assert result.issues == [Issue(name, rule, row=row, column="count", cell=cell, value=text)]
    assert messages(result.issues[0]) == FIXED_MESSAGES[rule]


# --- several problems, several files ------------------------------------------------------------


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    changes = {2: {"count": "1.5"}, 3: {"fiscal_year": "平成32"}, 4: {"center_code": "130002"}}
    assert rejected_alone(tmp_path, altered(SUMMARY, changes)) == [
        cell_issue(F2015, "count_fraction", 2, "count", "1.5"),
        cell_issue(F2015, "fiscal_year_format", 3, "fiscal_year", "平成32"),
        cell_issue(F2015, "center_code_check_digit", 4, "center_code", "130002"),
    ]


def test_bad_files_do_not_affect_a_good_file_in_the_same_batch(tmp_path: Path) -> None:
    mismatched = write_submission(tmp_path, altered(SUMMARY, {12: {"count": "70"}}))
    binary = tmp_path / "010006_2016.csv"
    binary.write_bytes(b"\x00junk")
    good = write_submission(tmp_path, DETAILED)
    results = validate(tmp_path, mismatched, binary, good)
    assert [result.received.name for result in results] == [F2015, "010006_2016.csv", F2016]
    total_issue = cell_issue(F2015, "referral_total_mismatch", 12, "count", "70", "71")
    assert results[0].issues == [total_issue]
    assert results[1].issues == [Issue("010006_2016.csv", "file_not_text")]
    assert results[2].issues == []
    assert results[2].rows is not None
    referrals = sum(DETAILED_COUNTS.values())
    assert results[2].rows["count"].sum() == CONSULTATIONS + 2 * referrals + SUPPORTER_ACTIVITIES


def test_pre_heisei_year_with_unknown_category_does_not_stop_the_batch(tmp_path: Path) -> None:
    bad = write_submission(tmp_path, altered(submission_rows(1988), {5: {"category": "foo"}}))
    good = write_submission(tmp_path, DETAILED)
    bad_result, good_result = validate(tmp_path, bad, good)
    assert "category_unknown" in {issue.rule for issue in bad_result.issues}
    assert good_result.accepted


def test_every_rule_is_exercised_here() -> None:
    """A rule added to hikikomori.schemas.rules without a case here, in the hostile corpus or among the
    per-file faults (tests/test_faults.py: what a file system or a step can do to one file) fails here."""
    here = Path(__file__)
    source = "".join(
        here.with_name(name).read_text(encoding="utf-8") for name in (here.name, "hostile_corpus.py", "test_faults.py")
    )
    assert [code for code in RULES if f'"{code}"' not in source] == []
