"""Counts as centers type them (CONTRACT.md §1, ``count``): exact integers of any size (how large a
count may be is the validation's setting, ``InputLimits.max_count``), ASCII or full-width digits only."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hikikomori.domain.counts import CountProblem, count_problem, parse_count

COUNTS = st.integers(min_value=0, max_value=10**30)  # parsed exactly, far beyond what a float holds
FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("1323", 1323),  # plain digits
        ("1,323", 1323),  # thousands separator
        ("１３２３", 1323),  # full-width digits
        (" 1323 ", 1323),  # surrounding spaces
        ("1323.0", 1323),  # Excel's float rendering
        ("１，３２３", 1323),  # full-width digits and comma
        ("0", 0),  # zero is a count
        (str(2**63 - 1), 2**63 - 1),  # the largest BIGINT
        ("9007199254740993", 9007199254740993),  # 2**53 + 1: a float64 would make it ...992
        (str(10**30), 10**30),  # exact at any size (count_too_large is judged against the setting)
        ("\u3000１３２３\u3000", 1323),  # ideographic spaces around full-width digits
    ],
)
def test_accepted_forms(text: str, count: int) -> None:
    assert count_problem(text) is None
    assert parse_count(text) == count


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", CountProblem.BLANK),  # empty cell
        ("   ", CountProblem.BLANK),  # spaces only
        ("-3", CountProblem.NEGATIVE),  # ASCII minus
        ("－3", CountProblem.NEGATIVE),  # full-width minus
        ("▲3", CountProblem.NEGATIVE),  # Japanese accounting negative mark
        ("1.5", CountProblem.FRACTION),  # fraction
        ("abc", CountProblem.NOT_A_NUMBER),  # text
        ("12件", CountProblem.NOT_A_NUMBER),  # number with a unit
        ("15¹", CountProblem.NOT_A_NUMBER),  # a superscript (NFKC would make it 151)
        ("①", CountProblem.NOT_A_NUMBER),  # a circled digit (NFKC would make it 1)
        ("١٥٢٠", CountProblem.NOT_A_NUMBER),  # Arabic-Indic digits (Python's \\d and int() accept them)
        ("۱۵", CountProblem.NOT_A_NUMBER),  # Extended Arabic-Indic digits
        ("१५", CountProblem.NOT_A_NUMBER),  # Devanagari digits
        ("𝟏𝟓", CountProblem.NOT_A_NUMBER),  # mathematical bold digits (NFKC would make them 15)
        ("1,5,0", CountProblem.NOT_A_NUMBER),  # commas that are not thousands separators
    ],
)
def test_problems(text: str, problem: CountProblem) -> None:
    assert count_problem(text) is problem
    with pytest.raises(ValueError, match=problem.value):
        parse_count(text)


@given(COUNTS)
def test_plain_digits(n: int) -> None:
    assert parse_count(str(n)) == n


@given(COUNTS)
def test_thousands_separators(n: int) -> None:
    assert parse_count(f"{n:,}") == n


@given(COUNTS)
def test_full_width(n: int) -> None:
    assert parse_count(f"{n:,}".translate(FULL_WIDTH)) == n
    assert parse_count(str(n).translate(FULL_WIDTH)) == n


@given(COUNTS)
def test_excel_float_form(n: int) -> None:
    assert parse_count(f"{n}.0") == n
