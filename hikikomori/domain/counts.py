"""Counts as centers type them: 1323, 1,323, １３２３, " 1323 ", Excel's 1323.0.

Parsed to exact Python integers (never through a float). Only ASCII digits count, after the
full-width forms are made ASCII: ``15¹``, ``①`` or Arabic-Indic digits are not numbers here.
How large a count may be is a setting (``InputLimits.max_count``), judged by the validation.
"""

import re
from enum import StrEnum

from hikikomori.domain.text import normalize_width

_WHOLE = re.compile(r"^([0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.0+)?$")
_NEGATIVE = re.compile(r"^[-−▲△]\s*[0-9,.]+$")  # ▲ and △ are how Japanese tables mark negatives
_FRACTION = re.compile(r"^([0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)\.[0-9]+$")


class CountProblem(StrEnum):
    """Why a count as typed is not a count; the value is the rule code in error reports."""

    BLANK = "count_blank"
    NEGATIVE = "count_negative"
    FRACTION = "count_fraction"
    NOT_A_NUMBER = "count_not_a_number"


def count_problem(text: str) -> CountProblem | None:
    """What is wrong with a count as typed, or None when it is an accepted form (of any size)."""
    value = normalize_width(text)
    if not value:
        return CountProblem.BLANK
    if _WHOLE.match(value):
        return None
    if _NEGATIVE.match(value):
        return CountProblem.NEGATIVE
    if _FRACTION.match(value):
        return CountProblem.FRACTION
    return CountProblem.NOT_A_NUMBER


def parse_count(text: str) -> int:
    """The exact count a typed value means (any size); raises ValueError naming the problem otherwise."""
    problem = count_problem(text)
    if problem is not None:
        raise ValueError(f"{problem}: {text!r}")
    return int(normalize_width(text).split(".")[0].replace(",", ""))
