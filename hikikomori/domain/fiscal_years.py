"""Fiscal years (年度) and the era names staff write them in.

A fiscal year runs April 1 – March 31 and is named by the year it starts (FY2016 = 平成28年度).
"""

import re
from datetime import date
from zoneinfo import ZoneInfo

from hikikomori.domain.text import normalize_width

# (kanji, letter, offset to the Western year, first and last era year accepted)
_ERAS = {
    "平成": (1988, 1, 31),  # 平成31年度 is what FY2019 was called before 令和 began in May 2019
    "令和": (2018, 1, 99),
}
_ERA_LETTERS = {"H": "平成", "R": "令和"}
_WESTERN = re.compile(r"^([0-9]{4})(?:年度?)?$")  # ASCII digits (after full-width ones are made ASCII)
_ERA = re.compile(r"^(平成|令和|H|R)(元|[0-9]{1,2})(?:年度?)?$", re.IGNORECASE)

FIRST_LABELLED_FISCAL_YEAR = 1989  # 平成元年度
JAPAN = ZoneInfo("Asia/Tokyo")  # fiscal years, deadlines and receipts are in Japan time


def parse_fiscal_year(text: str) -> int:
    """Read a fiscal year as staff write it: 2016, 2016年度, 平成28年度, 平成28, H28, 令和元年度, R6.

    Raises ValueError for anything else.
    """
    value = re.sub(r"\s+", "", normalize_width(text))
    western = _WESTERN.match(value)
    if western:
        return int(western.group(1))
    era = _ERA.match(value)
    if not era:
        raise ValueError(f"not a fiscal year: {text!r}")
    era_name = _ERA_LETTERS.get(era.group(1).upper(), era.group(1))
    offset, first, last = _ERAS[era_name]
    era_year = 1 if era.group(2) == "元" else int(era.group(2))
    if not first <= era_year <= last:
        raise ValueError(f"{era_name}{era_year}年度 does not exist")
    return offset + era_year


def fiscal_year_label(fiscal_year: int) -> str:
    """The Japanese label of a fiscal year: 2016 → 平成28年度, 2019 → 令和元年度."""
    if fiscal_year < FIRST_LABELLED_FISCAL_YEAR:
        raise ValueError(f"no era label before FY{FIRST_LABELLED_FISCAL_YEAR}: {fiscal_year}")
    era_name = "令和" if fiscal_year >= 2019 else "平成"
    era_year = fiscal_year - _ERAS[era_name][0]
    return f"{era_name}{'元' if era_year == 1 else era_year}年度"


def describe_fiscal_year(fiscal_year: int) -> str:
    """A year for messages read in both languages: ``2016 (平成28年度)``, or just ``1988``."""
    if fiscal_year < FIRST_LABELLED_FISCAL_YEAR:
        return str(fiscal_year)
    return f"{fiscal_year} ({fiscal_year_label(fiscal_year)})"


def fiscal_year_end(fiscal_year: int) -> date:
    """The last day of a fiscal year: FY2016 ends on 2017-03-31."""
    return date(fiscal_year + 1, 3, 31)


def default_deadline(fiscal_year: int) -> date:
    """The submission deadline unless a calendar says otherwise: 30 June after the year ends (CONTRACT.md §5)."""
    return date(fiscal_year + 1, 6, 30)


def last_ended_fiscal_year(as_of: date) -> int:
    """The latest fiscal year that had ended by ``as_of`` (FY Y ends on March 31 of Y+1)."""
    current = as_of.year if as_of.month >= 4 else as_of.year - 1
    return current - 1
