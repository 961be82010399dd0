"""全国地方公共団体コード: 5 digits and a check digit (DOMAIN.md "Who reports")."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hikikomori.domain.center_codes import check_digit, has_valid_check_digit, is_six_digits

FIVE_DIGITS = st.text(alphabet="0123456789", min_size=5, max_size=5)


@pytest.mark.parametrize(
    "code",
    [
        "010006",  # 北海道
        "130001",  # 東京都
        "110001",  # 埼玉県: remainder 0, check digit (11 - 0) mod 10 = 1
        "090000",  # 栃木県: remainder 1, check digit 0
        "011002",  # 札幌市, a designated city
    ],
)
def test_domain_examples_are_valid(code: str) -> None:
    assert is_six_digits(code)
    assert check_digit(code[:5]) == int(code[5])
    assert has_valid_check_digit(code)


@pytest.mark.parametrize(
    "code",
    [
        "10006",  # Excel dropped the leading zero
        "0100060",  # seven digits
        "01000a",  # not all digits
        "",  # blank
    ],
)
def test_not_six_digits(code: str) -> None:
    assert not is_six_digits(code)
    assert not has_valid_check_digit(code)


@given(FIVE_DIGITS)
def test_appending_the_check_digit_gives_a_valid_code(first_five: str) -> None:
    assert has_valid_check_digit(first_five + str(check_digit(first_five)))


@given(FIVE_DIGITS, st.integers(min_value=0, max_value=9))
def test_any_other_final_digit_is_invalid(first_five: str, final: int) -> None:
    assume(final != check_digit(first_five))
    assert not has_valid_check_digit(f"{first_five}{final}")
