"""Fiscal years as staff write them (CONTRACT.md §1, DOMAIN.md "Fiscal years and era names")."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hikikomori.domain.fiscal_years import fiscal_year_label, last_ended_fiscal_year, parse_fiscal_year


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2016", 2016),  # Western year
        ("2016年度", 2016),  # Western year with 年度
        ("平成28年度", 2016),  # full era form
        ("平成28", 2016),  # era without 年度
        ("H28", 2016),  # letter form
        ("h28", 2016),  # lower-case letter
        ("ｈ２８", 2016),  # full-width letter and digits
        ("令和6年度", 2024),  # 令和 era
        ("令和元年度", 2019),  # year 1 written 元
        ("R6", 2024),  # 令和 letter form
        ("平成31年度", 2019),  # FY2019's name before 令和 began in May 2019
        ("平成元年度", 1989),  # first 平成 year
        (" 2016 ", 2016),  # surrounding spaces
        ("平成 28 年度", 2016),  # spaces inside, as some people type it
        ("令和\u30006年度", 2024),  # a full-width space inside
    ],
)
def test_accepted_forms(text: str, year: int) -> None:
    assert parse_fiscal_year(text) == year


@pytest.mark.parametrize(
    "text",
    [
        "平成32",  # 平成 ended in its 31st year
        "R0",  # era years start at 1
        "H0",  # era years start at 1
        "abc",  # not a year at all
        "",  # blank
        "16",  # two-digit Western year is ambiguous
    ],
)
def test_rejected_forms(text: str) -> None:
    with pytest.raises(ValueError):
        parse_fiscal_year(text)


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (1989, "平成元年度"),  # first labelled year
        (2016, "平成28年度"),  # the paper's latest year
        (2018, "平成30年度"),  # last 平成 fiscal year
        (2019, "令和元年度"),  # first 令和 fiscal year
        (2024, "令和6年度"),  # a later 令和 year
    ],
)
def test_labels(year: int, label: str) -> None:
    assert fiscal_year_label(year) == label


def test_no_label_before_heisei() -> None:
    with pytest.raises(ValueError):
        fiscal_year_label(1988)


@pytest.mark.parametrize(
    ("as_of", "year"),
    [
        (date(2026, 3, 31), 2024),  # FY2025 is still running on its last day
        (date(2026, 4, 1), 2025),  # FY2025 ended the day before
        (date(2026, 11, 26), 2025),  # the suite's run date
        (date(2027, 1, 1), 2025),  # January belongs to the fiscal year that began in April
    ],
)
def test_last_ended_fiscal_year(as_of: date, year: int) -> None:
    assert last_ended_fiscal_year(as_of) == year


@given(st.integers(min_value=1989, max_value=2100))
def test_label_round_trips(year: int) -> None:
    assert parse_fiscal_year(fiscal_year_label(year)) == year


@given(st.integers(min_value=1989, max_value=2100))
def test_short_letter_form_round_trips(year: int) -> None:
    short = f"H{year - 1988}" if year <= 2018 else f"R{year - 2018}"
    assert parse_fiscal_year(short) == year
