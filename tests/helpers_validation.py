"""Tiny submission files for the validation tests, and the reference data they are judged against.

Row numbers are those a spreadsheet shows (header = row 1). The FY2015 summary-form file has
consultations on row 2, the 9 referral groups on rows 3-11, the referral total on row 12 and
supporter_activities on row 13. The FY2016 detailed-form file has consultations on row 2, the 21
detailed categories on rows 3-23, the total on row 24 and supporter_activities on row 25.
"""

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from pathlib import Path

from hikikomori.domain.reference import ReferenceData, load_reference_data
from hikikomori.schemas.files import SUBMISSION_COLUMNS, receive
from hikikomori.schemas.validation import ValidatedFile, validate_files

AS_OF = date(2026, 11, 26)
CENTER = "130001"  # 東京都, opened FY2014

SUMMARY_COUNTS = {  # FY2015 form: the 9 summary groups
    "mental_health_welfare_center": 13,
    "public_health_center": 8,
    "medical_institution": 8,
    "npo": 10,
    "youth_support_station": 5,
    "hello_work": 1,
    "child_guidance_center": 0,
    "welfare_office": 1,
    "other": 25,
}
DETAILED_COUNTS = {  # FY2016 form: the 21 detailed categories
    "welfare_office": 2,
    "municipal_office": 3,
    "social_welfare_council": 1,
    "self_reliance_support_agency": 1,
    "community_general_support_center": 0,
    "child_guidance_center": 1,
    "child_family_support_center": 0,
    "public_health_center": 8,
    "mental_health_welfare_center": 13,
    "developmental_disability_support_center": 1,
    "medical_institution": 7,
    "hello_work_duplicate": 1,
    "youth_support_station": 6,
    "hello_work": 1,
    "company": 0,
    "school": 3,
    "private_support_org": 9,
    "disability_employment_facility": 4,
    "disability_welfare_facility": 1,
    "other_hikikomori_center": 2,
    "other": 7,
}
CONSULTATIONS = 1520
SUPPORTER_ACTIVITIES = 12

Row = list[str]


@cache
def reference() -> ReferenceData:
    return load_reference_data()


def submission_rows(fiscal_year: int, center_code: str = CENTER) -> list[Row]:
    """A valid file's rows, header first: the summary form up to FY2015, the detailed one after."""
    counts = SUMMARY_COUNTS if fiscal_year <= 2015 else DETAILED_COUNTS
    code, year = center_code, str(fiscal_year)
    return [
        list(SUBMISSION_COLUMNS),
        [code, year, "consultations", "total", str(CONSULTATIONS)],
        *([code, year, "referrals", category, str(count)] for category, count in counts.items()),
        [code, year, "referrals", "total", str(sum(counts.values()))],
        [code, year, "supporter_activities", "total", str(SUPPORTER_ACTIVITIES)],
    ]


def altered(
    rows: list[Row],
    changes: Mapping[int, Mapping[str, str]] | None = None,
    drop: Iterable[int] = (),
) -> list[Row]:
    """A copy of ``rows`` with cells changed ({row number: {column: text}}) and rows dropped."""
    result = [list(row) for row in rows]
    for number, cells in (changes or {}).items():
        for column, text in cells.items():
            result[number - 1][SUBMISSION_COLUMNS.index(column)] = text
    dropped = set(drop)
    return [row for number, row in enumerate(result, start=1) if number not in dropped]


def write_submission(
    folder: Path,
    rows: list[Row],
    name: str | None = None,
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Write rows as CSV, quoting values such as ``1,323``; the name defaults to the first row's."""
    path = folder / (name or f"{rows[1][0]}_{rows[1][1]}.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    csv.writer(text, lineterminator=newline).writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def validate(inbox: Path, *paths: Path) -> list[ValidatedFile]:
    return validate_files([receive(path, inbox) for path in paths], reference(), AS_OF)


def validate_rows(inbox: Path, rows: list[Row], name: str | None = None) -> ValidatedFile:
    """Write one file into the inbox and validate it alone."""
    (result,) = validate(inbox, write_submission(inbox, rows, name))
    return result
