"""全国地方公共団体コード: 5 digits and a check digit."""

import re

_SIX_DIGITS = re.compile(r"^[0-9]{6}$")  # ASCII only: \d also matches other scripts' digits


def check_digit(first_five: str) -> int:
    """Weights 6,5,4,3,2; r = sum mod 11; check digit = (11 − r) mod 10."""
    remainder = sum(int(digit) * weight for digit, weight in zip(first_five, (6, 5, 4, 3, 2), strict=True)) % 11
    return (11 - remainder) % 10


def is_six_digits(code: str) -> bool:
    return bool(_SIX_DIGITS.match(code))


def has_valid_check_digit(code: str) -> bool:
    return is_six_digits(code) and check_digit(code[:5]) == int(code[5])
