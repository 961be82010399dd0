"""validate_files against CONTRACT.md §1: every rule a center can break, with the exact report.

The base files are helpers_validation's valid FY2015 summary-form and FY2016 detailed-form files
for 東京都 (130001, opened FY2014); each case alters them and checks the outcome a center sees.
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

from hikikomori.center_codes import check_digit
from schemas.issues import RULES, Issue

SUMMARY = submission_rows(2015)  # rows 2-13; referral total on row 12
DETAILED = submission_rows(2016)  # rows 2-25; referral total on row 24
F2015, F2016 = "130001_2015.csv", "130001_2016.csv"
LETTERS = {"center_code": "A", "fiscal_year": "B", "measure": "C", "category": "D", "count": "E"}
UNREGISTERED = "99999" + str(check_digit("99999"))  # valid check digit, not in the registry


def cell_issue(
    file: str, rule: str, row: int, column: str, value: str, expected: str | None = None
) -> Issue:
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


# --- accepted files ---------------------------------------------------------------------------


def test_valid_summary_file_rows(tmp_path: Path) -> None:
    expected = [
        (2, "consultations", "total", CONSULTATIONS),
        *(
            (number, "referrals", code, count)
            for number, (code, count) in enumerate(SUMMARY_COUNTS.items(), start=3)
        ),
        (12, "referrals", "total", sum(SUMMARY_COUNTS.values())),
        (13, "supporter_activities", "total", SUPPORTER_ACTIVITIES),
    ]
    assert accepted_rows(tmp_path, SUMMARY) == expected


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
        (altered(SUMMARY, drop=[12]), F2015),  # referral total omitted
        (altered(SUMMARY, drop=[13]), F2015),  # supporter_activities omitted
        (altered(DETAILED, drop=[24, 25]), F2016),  # both optional rows omitted
        (altered(DETAILED, {2: {"category": "合計"}, 24: {"category": "総計"}}), F2016),
        # ^ the paper's total headings as category labels
        (altered(DETAILED, {19: {"measure": " referrals "}}), F2016),  # spaces around measure
        (altered(SUMMARY, {2: {"center_code": "１３０００１"}}), F2015),  # full-width center code
        (submission_rows(2025), "130001_2025.csv"),  # FY2025 has ended by 2026-11-26
        (submission_rows(2014), "130001_2014.csv"),  # the center's opening year
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
    ("rows", "labels", "codes"),
    [
        (SUMMARY, SUMMARY_LABELS, list(SUMMARY_COUNTS)),  # the 9 summary groups
        (DETAILED, DETAILED_LABELS, list(DETAILED_COUNTS)),  # the 21 detailed categories
    ],
)
def test_japanese_labels_are_read_as_codes(
    tmp_path: Path, rows: list[Row], labels: list[str], codes: list[str]
) -> None:
    labelled = altered(rows, {n: {"category": label} for n, label in enumerate(labels, start=3)})
    loaded = accepted_rows(tmp_path, labelled)
    assert [category for _, measure, category, _ in loaded if measure == "referrals"] == [
        *codes,
        "total",
    ]


@pytest.mark.parametrize(
    ("row", "label", "code"),
    [
        (
            19,
            "民間支援団体（当事者団体・NPO法人等）",
            "private_support_org",
        ),  # full-width parentheses
        (16, "ハローワーク", "hello_work"),  # the plain label means hello_work
        (14, "hello_work_duplicate", "hello_work_duplicate"),  # the duplicated column by code
        (
            14,
            "ハローワーク（出典の重複ラベル）",
            "hello_work_duplicate",
        ),  # ... by the project's label
        (
            14,
            "ハローワーク(出典の重複ラベル)",
            "hello_work_duplicate",
        ),  # ... half-width parentheses
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


def test_referral_total_given_in_an_accepted_form(tmp_path: Path) -> None:
    total = sum(DETAILED_COUNTS.values())
    loaded = accepted_rows(tmp_path, altered(DETAILED, {24: {"count": f"{total}.0"}}))
    assert (24, "referrals", "total", total) in loaded


def test_valid_xlsx_template_layout(tmp_path: Path) -> None:
    (result,) = validate(tmp_path, write_xlsx(tmp_path, SUMMARY, "130001_2015.xlsx", {}))
    assert result.issues == []
    assert result.rows is not None
    assert result.rows["count"].tolist()[:2] == [
        CONSULTATIONS,
        SUMMARY_COUNTS["mental_health_welfare_center"],
    ]


# --- one value ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule", "ja", "en"),
    [
        ("", "count_blank", "件数が空欄です", "count is blank"),  # blank cell
        ("-3", "count_negative", "件数にマイナスの値は使えません", "count must not be negative"),
        ("－3", "count_negative", "件数にマイナスの値は使えません", "count must not be negative"),
        # ^ full-width minus
        ("▲3", "count_negative", "件数にマイナスの値は使えません", "count must not be negative"),
        # ^ Japanese accounting negative mark
        ("1.5", "count_fraction", "件数に小数は使えません", "count must be a whole number"),
        ("abc", "count_not_a_number", "件数が数値ではありません", "count is not a number"),  # text
        (str(2**63), "count_too_large", "件数が大きすぎます", "count is too large"),  # > BIGINT
    ],
)
def test_count_problems(tmp_path: Path, value: str, rule: str, ja: str, en: str) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {5: {"count": value}}))
    assert issues == [cell_issue(F2015, rule, 5, "count", value)]
    assert messages(issues[0]) == (ja, en)


@pytest.mark.parametrize(
    ("value", "rule", "expected", "ja", "en"),
    [
        (
            "13001",
            "center_code_format",
            None,
            "団体コードは6桁の数字です",
            "center_code must be 6 digits",
        ),  # five digits (a leading digit lost)
        (
            "13000a",
            "center_code_format",
            None,
            "団体コードは6桁の数字です",
            "center_code must be 6 digits",
        ),  # not all digits
        (
            "130002",
            "center_code_check_digit",
            None,
            "団体コードの検査数字（6桁目）が正しくありません",
            "center_code has a wrong check digit",
        ),  # wrong check digit
        (
            "010006",
            "center_code_mismatch",
            "130001",
            "団体コード 010006 がファイル名の 130001 と一致しません",
            "center_code 010006 differs from the file name's 130001",
        ),  # another registered center
    ],
)
def test_center_code_problems_on_one_row(
    tmp_path: Path, value: str, rule: str, expected: str | None, ja: str, en: str
) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {2: {"center_code": value}}), F2015)
    assert issues == [cell_issue(F2015, rule, 2, "center_code", value, expected)]
    assert messages(issues[0]) == (ja, en)


def test_center_not_registered(tmp_path: Path) -> None:
    name = f"{UNREGISTERED}_2015.csv"
    issues = rejected_alone(tmp_path, submission_rows(2015, UNREGISTERED))
    assert issues == [
        cell_issue(name, "center_not_registered", n, "center_code", UNREGISTERED)
        for n in range(2, 14)
    ]
    assert messages(issues[0]) == (
        f"団体コード {UNREGISTERED} はセンター名簿にありません",
        f"center {UNREGISTERED} is not in the center registry",
    )


def test_center_not_open_in_that_year(tmp_path: Path) -> None:
    # 岡山県 (330001) opened in FY2017, so it has nothing to report for FY2016.
    issues = rejected_alone(tmp_path, submission_rows(2016, "330001"))
    assert issues == [
        cell_issue(
            "330001_2016.csv", "center_not_open", n, "center_code", "330001", "平成29年度 (2017)"
        )
        for n in range(2, 26)
    ]
    assert messages(issues[0]) == (
        "330001 のセンターは 平成29年度 (2017) 開所のため、この年度は報告対象外です",
        "center 330001 opened in FY平成29年度 (2017), after this fiscal year",
    )


@pytest.mark.parametrize(
    ("value", "rule", "expected", "ja", "en"),
    [
        (
            "平成32",
            "fiscal_year_format",
            None,
            "年度の書き方が正しくありません",
            "fiscal_year is not a recognised form",
        ),  # 平成 has no 32nd year
        (
            "15",
            "fiscal_year_format",
            None,
            "年度の書き方が正しくありません",
            "fiscal_year is not a recognised form",
        ),  # two-digit year
        (
            "2014",
            "fiscal_year_mismatch",
            "2015",
            "年度 2014 がファイル名の 2015 と一致しません",
            "fiscal year 2014 differs from the file name's 2015",
        ),  # another year
        (
            "H26",
            "fiscal_year_mismatch",
            "2015",
            "年度 H26 がファイル名の 2015 と一致しません",
            "fiscal year H26 differs from the file name's 2015",
        ),  # another year in era form
    ],
)
def test_fiscal_year_problems_on_one_row(
    tmp_path: Path, value: str, rule: str, expected: str | None, ja: str, en: str
) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {2: {"fiscal_year": value}}), F2015)
    assert issues == [cell_issue(F2015, rule, 2, "fiscal_year", value, expected)]
    assert messages(issues[0]) == (ja, en)


def test_fiscal_year_not_ended(tmp_path: Path) -> None:
    # On 2026-11-26 FY2026 is still running; FY2025 is the latest that can be reported.
    issues = rejected_alone(tmp_path, submission_rows(2026))
    assert issues == [
        cell_issue(
            "130001_2026.csv", "fiscal_year_not_ended", n, "fiscal_year", "2026", "令和7年度 (2025)"
        )
        for n in range(2, 26)
    ]
    assert messages(issues[0]) == (
        "2026 はまだ終わっていない年度です（令和7年度 (2025)まで提出できます）",
        "fiscal year 2026 has not ended yet (latest accepted: 令和7年度 (2025))",
    )


def test_fiscal_year_out_of_range(tmp_path: Path) -> None:
    # FY1988 is before 平成元年度; no center was open then either.
    name = "130001_1988.csv"
    issues = rejected_alone(tmp_path, submission_rows(1988))
    assert issues == [
        issue
        for n in range(2, 14)
        for issue in (
            cell_issue(name, "center_not_open", n, "center_code", "130001", "平成26年度 (2014)"),
            cell_issue(
                name, "fiscal_year_out_of_range", n, "fiscal_year", "1988", "平成元年度 (1989)"
            ),
        )
    ]
    assert messages(issues[1]) == (
        "年度 1988 は受付の範囲外です（平成元年度 (1989)以降）",
        "fiscal year 1988 is out of range (from 平成元年度 (1989))",
    )


def test_measure_unknown(tmp_path: Path) -> None:
    # supporter_activities is optional, so its misspelt row leaves nothing else missing.
    issues = rejected_alone(tmp_path, altered(SUMMARY, {13: {"measure": "supporter_activity"}}))
    assert issues == [cell_issue(F2015, "measure_unknown", 13, "measure", "supporter_activity")]
    assert messages(issues[0]) == (
        "measure 列の値 supporter_activity は使えません",
        "measure supporter_activity is not one of consultations, referrals, supporter_activities",
    )


def test_category_blank(tmp_path: Path) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, {13: {"category": " "}}))
    assert issues == [cell_issue(F2015, "category_blank", 13, "category", " ")]
    assert messages(issues[0]) == ("category 列が空です", "category is blank")


@pytest.mark.parametrize(
    ("rows", "name", "row", "value", "form", "also"),
    [
        (altered(SUMMARY, {13: {"category": "foo"}}), F2015, 13, "foo", "平成27年度 (2015)", []),
        # ^ not a category at all (on the optional supporter_activities row)
        (
            altered(DETAILED, {2: {"category": "company"}}),
            F2016,
            2,
            "company",
            "平成28年度 (2016)",
            [missing(F2016, "consultations / total (consultations)")],
        ),
        # ^ consultations takes only total, so consultations is then missing too
    ],
)
def test_category_unknown(
    tmp_path: Path, rows: list[Row], name: str, row: int, value: str, form: str, also: list[Issue]
) -> None:
    issues = rejected_alone(tmp_path, rows, name)
    assert issues == [cell_issue(name, "category_unknown", row, "category", value, form), *also]
    assert messages(issues[0]) == (
        f"category 列の値 {value} はこの項目の区分にありません",
        f"category {value} is not a category of this measure on the {form} form",
    )


@pytest.mark.parametrize(
    ("rows", "value", "form"),
    [
        (SUMMARY, "company", "平成27年度 (2015)"),  # a detailed code in a summary-form year
        (SUMMARY, "企業", "平成27年度 (2015)"),  # ... given by its label
        (DETAILED, "npo", "平成28年度 (2016)"),  # a summary code in a detailed-form year
        (DETAILED, "NPO法人等", "平成28年度 (2016)"),  # ... given by its label
    ],
)
def test_category_of_the_other_form(tmp_path: Path, rows: list[Row], value: str, form: str) -> None:
    extra_row = len(rows) + 1
    name = f"130001_{rows[1][1]}.csv"
    issues = rejected_alone(tmp_path, [*rows, ["130001", rows[1][1], "referrals", value, "0"]])
    assert issues == [cell_issue(name, "category_other_form", extra_row, "category", value, form)]
    assert messages(issues[0]) == (
        f"区分 {value} は {form} の様式にはありません",
        f"category {value} belongs to the other year's form, not the {form} form",
    )


@pytest.mark.parametrize(
    ("extra", "value", "first"),
    [
        (["referrals", "medical_institution", "0"], "medical_institution", "5"),  # same code twice
        (["referrals", "医療機関", "0"], "医療機関", "5"),  # the code's label after the code
        (["consultations", "total", "1"], "total", "2"),  # consultations twice
        (["supporter_activities", "total", "1"], "total", "13"),  # optional row, still at most once
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
    issues = rejected_alone(tmp_path, rows)
    assert issues == [
        cell_issue(F2016, "category_duplicate", 16, "category", "ハローワーク", "14"),
        missing(F2016, "referrals / hello_work_duplicate (ハローワーク（出典の重複ラベル）)"),
    ]


@pytest.mark.parametrize(
    ("rows", "name", "item"),
    [
        (altered(SUMMARY, drop=[5, 12]), F2015, "referrals / medical_institution (医療機関)"),
        # ^ a summary group's row removed (with the total, which would no longer match)
        (
            altered(DETAILED, drop=[14, 24]),
            F2016,
            "referrals / hello_work_duplicate (ハローワーク（出典の重複ラベル）)",
        ),
        # ^ a detailed category's row removed
        (altered(SUMMARY, drop=[2]), F2015, "consultations / total (consultations)"),
        # ^ consultations removed
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
    issues = rejected_alone(tmp_path, altered(SUMMARY, drop=[5]))
    assert issues == [
        cell_issue(F2015, "referral_total_mismatch", 11, "count", "71", "63"),
        missing(F2015, "referrals / medical_institution (医療機関)"),
    ]


@pytest.mark.parametrize(
    ("rows", "name", "row", "value", "expected"),
    [
        (
            altered(SUMMARY, {12: {"count": "70"}}),
            F2015,
            12,
            "70",
            "71",
        ),  # summary total off by one
        (altered(DETAILED, {3: {"count": "3"}}), F2016, 24, "71", "72"),  # a category changed
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

HEADER = "center_code,fiscal_year,measure,category,count\n"
ROW = "130001,2016,consultations,total,1520\n"


@pytest.mark.parametrize(
    ("name", "issue", "ja", "en"),
    [
        (
            "tokyo_2016.csv",
            Issue("tokyo_2016.csv", "file_name", value="tokyo_2016.csv"),
            "ファイル名が「団体コード_年度.csv」または「.xlsx」の形ではありません",
            "file name must be <center_code>_<fiscal_year>.csv or .xlsx",
        ),  # no center code in the name
        (
            "010006/130001_2016.csv",
            Issue("010006/130001_2016.csv", "folder_mismatch", value="130001", expected="010006"),
            "フォルダ 010006 に別の団体 130001 のファイルがあります",
            "file for center 130001 is in the folder of center 010006",
        ),  # another center's folder
    ],
)
def test_file_name_problems(tmp_path: Path, name: str, issue: Issue, ja: str, en: str) -> None:
    (result,) = validate(tmp_path, write_submission(tmp_path, DETAILED, name))
    assert result.issues == [issue]
    assert messages(issue) == (ja, en)
    assert result.rows is None


@pytest.mark.parametrize(
    ("name", "content", "issue", "ja", "en"),
    [
        (F2016, b"", Issue(F2016, "file_empty"), "ファイルが空です", "the file is empty"),
        # ^ zero bytes
        (
            F2016,
            b"\x00\x01\x02",
            Issue(F2016, "file_not_text"),
            "CSVとして読めません（文字ではないデータが含まれています）",
            "not a CSV text file (contains binary data)",
        ),  # binary junk
        (
            F2016,
            (HEADER + "130001,2016,consultations,total,").encode() + b"\x85\x40\n",
            Issue(F2016, "file_encoding"),
            "文字コードを判別できません",
            "the text is neither UTF-8 nor CP932 (Shift_JIS)",
        ),  # undecodable bytes
        (
            "130001_2016.xlsx",
            b"not a zip file",
            Issue("130001_2016.xlsx", "xlsx_unreadable", value="BadZipFile"),
            "Excelファイルとして開けません",
            "cannot be opened as an .xlsx workbook",
        ),  # not a workbook
        (
            F2016,
            b"center_code,fiscal_year,measure,count\n130001,2016,consultations,1520\n",
            Issue(F2016, "header_missing", row=1, value="category"),
            "見出し行に必要な列 category がありません",
            "header lacks column(s) category",
        ),
        # ^ a column missing
        (
            F2016,
            (HEADER.strip() + ",note\n" + ROW.strip() + ",x\n").encode(),
            Issue(F2016, "header_unknown", row=1, value="note"),
            "見出し行に不明な列 note があります",
            "header has unknown column(s) note",
        ),
        # ^ an extra column
        (
            F2016,
            (HEADER.strip() + ",count\n" + ROW.strip() + ",1\n").encode(),
            Issue(F2016, "header_duplicate", row=1, value="count"),
            "見出し行に列 count が2回以上あります",
            "header repeats column(s) count",
        ),
        # ^ a column twice
    ],
)
def test_unreadable_files(
    tmp_path: Path, name: str, content: bytes, issue: Issue, ja: str, en: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    (result,) = validate(tmp_path, path)
    assert result.issues == [issue]
    assert messages(issue) == (ja, en)
    assert result.rows is None


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
    assert messages(bad.issues[0]) == (
        "データ行がありません",
        "the file has a header but no data rows",
    )
    assert good.accepted


@pytest.mark.xfail(
    reason="BUG: validate_files crashes when no file of the batch has a referral "
    "row (ValueError in _referral_category_sums)",
    strict=True,
)
def test_header_only_file_alone(tmp_path: Path) -> None:
    header_only = tmp_path / F2015
    header_only.write_text(HEADER, encoding="utf-8")
    (result,) = validate(tmp_path, header_only)
    assert result.issues == [Issue(F2015, "no_data_rows")]


@pytest.mark.xfail(
    reason="BUG: validate_files crashes when no file of the batch has a referral "
    "row (ValueError in _referral_category_sums)",
    strict=True,
)
def test_file_without_referral_rows_alone(tmp_path: Path) -> None:
    issues = rejected_alone(tmp_path, altered(SUMMARY, drop=range(3, 13)))
    assert issues == [
        missing(F2015, f"referrals / {code} ({label})")
        for code, label in zip(SUMMARY_COUNTS, SUMMARY_LABELS, strict=True)
    ]


@pytest.mark.parametrize(
    ("cell", "value", "rule", "text", "ja", "en"),
    [
        (
            "E12",
            "=SUM(E3:E11)",
            "cell_formula",
            "=SUM(E3:E11)",
            "セルに数式が入っています",
            "the cell holds a formula",
        ),  # the total typed as a formula
        (
            "E5",
            date(2016, 4, 1),
            "cell_date",
            "2016-04-01T00:00:00",
            "セルに日付が入っています",
            "the cell holds a date",
        ),  # a count cell formatted as a date
    ],
)
def test_xlsx_cell_problems(
    tmp_path: Path, cell: str, value: object, rule: str, text: str, ja: str, en: str
) -> None:
    name = "130001_2015.xlsx"
    (result,) = validate(tmp_path, write_xlsx(tmp_path, SUMMARY, name, {cell: value}))
    row = int(cell[1:])
    assert result.issues == [
        Issue(name, rule, row=row, cell=cell, value=text),
        cell_issue(name, "count_not_a_number", row, "count", text),
    ]
    assert messages(result.issues[0]) == (ja, en)


# --- several problems, several files ------------------------------------------------------------


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    rows = altered(
        SUMMARY,
        {2: {"count": "1.5"}, 3: {"fiscal_year": "平成32"}, 4: {"center_code": "130002"}},
    )
    assert rejected_alone(tmp_path, rows) == [
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
    assert results[0].issues == [
        cell_issue(F2015, "referral_total_mismatch", 12, "count", "70", "71")
    ]
    assert results[1].issues == [Issue("010006_2016.csv", "file_not_text")]
    assert results[2].issues == []
    assert results[2].rows is not None
    assert (
        results[2].rows["count"].sum()
        == CONSULTATIONS + 2 * sum(DETAILED_COUNTS.values()) + SUPPORTER_ACTIVITIES
    )


@pytest.mark.xfail(
    reason="BUG: a pre-1989 fiscal year with an unknown category crashes the whole "
    "batch (fiscal_year_label(1988) raises in _expected)",
    strict=True,
)
def test_pre_heisei_year_with_unknown_category_does_not_stop_the_batch(tmp_path: Path) -> None:
    bad = write_submission(tmp_path, altered(submission_rows(1988), {5: {"category": "foo"}}))
    good = write_submission(tmp_path, DETAILED)
    bad_result, good_result = validate(tmp_path, bad, good)
    assert "category_unknown" in {issue.rule for issue in bad_result.issues}
    assert good_result.accepted


def test_every_rule_is_exercised_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    assert [code for code in RULES if f'"{code}"' not in source] == []
