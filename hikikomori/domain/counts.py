"""Counts as centers type them: 1323, 1,323, １３２３, " 1323 ", Excel's 1323.0."""

import re
from enum import StrEnum

from hikikomori.domain.text import normalize_text

MAX_COUNT = 2**63 - 1  # the warehouse stores counts as BIGINT

_WHOLE = re.compile(r"^(\d+|\d{1,3}(?:,\d{3})+)(?:\.0+)?$")
_NEGATIVE = re.compile(r"^[-−▲△]\s*[\d,.]+$")  # ▲ and △ are how Japanese tables mark negatives
_FRACTION = re.compile(r"^(\d+|\d{1,3}(?:,\d{3})+)\.\d+$")


class CountProblem(StrEnum):
    """Why a count was not accepted; the value is the rule code in error reports."""

    BLANK = "count_blank"
    NEGATIVE = "count_negative"
    FRACTION = "count_fraction"
    NOT_A_NUMBER = "count_not_a_number"
    TOO_LARGE = "count_too_large"


def count_problem(text: str) -> CountProblem | None:
    """What is wrong with a count as typed, or None when it is an accepted form."""
    value = normalize_text(text)
    if not value:
        return CountProblem.BLANK
    if _WHOLE.match(value):
        return None if _to_int(value) <= MAX_COUNT else CountProblem.TOO_LARGE
    if _NEGATIVE.match(value):
        return CountProblem.NEGATIVE
    if _FRACTION.match(value):
        return CountProblem.FRACTION
    return CountProblem.NOT_A_NUMBER


def parse_count(text: str) -> int:
    """The count a typed value means; raises ValueError naming the problem otherwise."""
    problem = count_problem(text)
    if problem is not None:
        raise ValueError(f"{problem}: {text!r}")
    return _to_int(normalize_text(text))


def _to_int(value: str) -> int:
    return int(value.split(".")[0].replace(",", ""))
