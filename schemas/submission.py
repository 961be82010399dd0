"""The two validation layers for submission rows, as pandera schemas built from the rule catalogue.

1. ``RAW_SUBMISSION_ROWS``: every cell as text, checked by the value rules of
   ``hikikomori.schemas.rules`` against the forms CONTRACT.md §1 accepts.
2. ``SUBMISSION_ROWS_IN_CONTEXT``: parsed values beside the context they are judged in (the file's
   name, the registry, the fiscal year's form, the run date), checked by the context rules, row by
   row and across rows.

Every check is one rule's, named by its code, so each failure has its message. Frames hold many
files at once (``file_id``), so one validation call serves a whole run.
"""

from collections.abc import Callable
from typing import Any

import pandas as pd
import pandera.pandas as pa

from hikikomori.domain.vocabulary import Measure
from hikikomori.schemas.files import SUBMISSION_COLUMNS
from hikikomori.schemas.rules import CONTEXT_RULES, VALUE_RULES, ContextRule, ValueRule

REQUIRED_TOTAL_MEASURES = (Measure.CONSULTATIONS,)  # supporter_activities is optional, at most once

_TEXT_DESCRIPTIONS = {
    "center_code": "団体コード: 6 digits with a check digit",
    "fiscal_year": "年度: 2016, 平成28年度, H28, 令和元年度, R6 …",
    "measure": "consultations | referrals | supporter_activities",
    "category": "category code or its Japanese label",
    "count": "件数: a whole number ≥ 0, as typed",
}


def per_distinct_value(values: "pd.Series[Any]", function: Callable[[Any], Any]) -> "pd.Series[Any]":
    """``function`` of each value, computed once per distinct value (nulls stay null: None).

    One hash pass (``pd.factorize``) numbers the distinct values; the results, their dtype inferred
    (all bool: bool), are taken by those numbers (a null's, -1, takes the None put last).
    """
    codes, distinct = pd.factorize(values)
    nulls = [None] if (codes < 0).any() else []
    results = pd.Series([*map(function, distinct), *nulls], dtype=object).infer_objects()
    return pd.Series(results.array.take(codes), index=values.index, name=values.name)


def _value_check(rule: ValueRule) -> pa.Check:
    # Once per distinct text, mapped back onto the rows: a batch of thousands of files repeats the
    # same codes, years and counts, and an element-wise check would call Python once per cell.
    # ignore_na would pass null cells: the raw frame has none (every cell is the text read, "" when
    # empty; a null would fail the column's not-null check), and finding that out cost a null test of
    # the whole column per rule (9 rules, 18 ms at 10,000 files).
    return pa.Check(lambda values: per_distinct_value(values, rule.valid), name=rule.code, ignore_na=False)


def _context_check(rule: ContextRule) -> pa.Check:
    # ignore_na would pass the rows whose every column is null: there are none (file_id is never null),
    # and finding that out cost a null test of every cell of the frame per rule.
    return pa.Check(rule.holds, name=rule.code, ignore_na=False)


def _raw_submission_rows() -> pa.DataFrameSchema:
    checks: dict[str, list[pa.Check]] = {column: [] for column in SUBMISSION_COLUMNS}
    for rule in VALUE_RULES:
        checks[rule.column].append(_value_check(rule))  # a KeyError: the rule names no submission column
    return pa.DataFrameSchema(
        {
            "file_id": pa.Column(int, description="which file of the batch the row came from"),
            # An invariant of the reader, not a rule: its failure is an internal error.
            "row_number": pa.Column(int, pa.Check.ge(2), description="spreadsheet row number (header = 1)"),
            **{
                column: pa.Column(str, checks[column], description=_TEXT_DESCRIPTIONS[column])
                for column in SUBMISSION_COLUMNS
            },
        },
        name="RawSubmissionRows",
        description="One data row of a submission file, every cell still the text the center wrote.",
        strict=True,
        coerce=False,
    )


def _nullable(dtype: str, description: str) -> pa.Column:
    return pa.Column(dtype, nullable=True, description=description)


def _submission_rows_in_context() -> pa.DataFrameSchema:
    for rule in CONTEXT_RULES:
        if rule.column not in SUBMISSION_COLUMNS:
            raise KeyError(f"rule {rule.code} points at {rule.column!r}, not a submission column")
    return pa.DataFrameSchema(
        {
            "file_id": pa.Column(int, description="which file of the batch the row came from"),
            "row_number": pa.Column(int, description="spreadsheet row number (header = 1)"),
            "center_code": _nullable("string", "団体コード"),
            "fiscal_year": _nullable("Int64", "fiscal year (Western)"),
            "measure": _nullable("string", "measure code"),
            "category": _nullable("string", "category code on the year's form; null when not on it"),
            "category_text": pa.Column("string", description="category as written"),
            "category_in_other_form": pa.Column(
                bool, description="the text names a category of the other referral form (9 groups vs 21 categories)"
            ),
            "count": _nullable("Int64", "件数 (exact; a number beyond Int64 is held at its maximum)"),
            "max_count": pa.Column("Int64", description="the largest count accepted per item (InputLimits.max_count)"),
            "expected_center_code": _nullable("string", "the file name's center code (else the first row's)"),
            "expected_fiscal_year": _nullable("Int64", "the file name's fiscal year (else the first row's)"),
            "center_opened_fiscal_year": _nullable(
                "Int64", "the registry's opening year for center_code; null if unregistered"
            ),
            "last_ended_fiscal_year": pa.Column(
                "Int64", description="the latest fiscal year that has ended on the run date"
            ),
            "form": _nullable("string", "referral form of the year"),
            "referral_category_sum": _nullable(
                "Int64", "the file's sum of referral categories; null when any is unreadable"
            ),
            "first_row_of_category": _nullable(
                "Int64", "row number where this measure and category first appear in the file"
            ),
        },
        checks=[_context_check(rule) for rule in CONTEXT_RULES],
        name="SubmissionRowsInContext",
        description="One data row with its values parsed (null where the text was invalid) and its context.",
        strict=True,
        coerce=False,
    )


RAW_SUBMISSION_ROWS = _raw_submission_rows()
SUBMISSION_ROWS_IN_CONTEXT = _submission_rows_in_context()
