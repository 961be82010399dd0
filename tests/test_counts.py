"""Counts as centers type them (CONTRACT.md §1, ``count``)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hikikomori.domain.counts import CountProblem, count_problem, parse_count

COUNTS = st.integers(min_value=0, max_value=2**63 - 1)
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
        (str(2**63), CountProblem.TOO_LARGE),  # beyond BIGINT
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
