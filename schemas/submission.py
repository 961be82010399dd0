"""The two validation layers for submission rows, as pandera DataFrameModels.

1. ``RawSubmissionRows``: every cell as text, checked against the forms CONTRACT.md §1 accepts.
2. ``SubmissionRowsInContext``: parsed values beside the context they are judged in (the file's
   name, the registry, the fiscal year's form, the run date), checked row by row and across rows.

Check names are rule codes from ``hikikomori.schemas.rules``, which turns a failure into a center's message.
Frames hold many files at once (``file_id``), so one validation call serves a whole run.
"""

from collections.abc import Callable
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from hikikomori.domain.center_codes import has_valid_check_digit, is_six_digits
from hikikomori.domain.counts import CountProblem, count_problem
from hikikomori.domain.fiscal_years import FIRST_LABELLED_FISCAL_YEAR, parse_fiscal_year
from hikikomori.domain.text import normalize_text

MEASURES = ("consultations", "referrals", "supporter_activities")
REQUIRED_TOTAL_MEASURES = ("consultations",)  # supporter_activities is optional, at most once


def per_distinct_value(values: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """``function`` of each value, computed once per distinct value (nulls stay null)."""
    distinct = values.dropna().unique()
    return values.map(dict(zip(distinct, map(function, distinct), strict=True)))


def _is_fiscal_year(text: str) -> bool:
    try:
        parse_fiscal_year(text)
    except ValueError:
        return False
    return True


class RawSubmissionRows(pa.DataFrameModel):
    """One data row of a submission file, every cell still the text the center wrote."""

    file_id: Series[int] = pa.Field(description="which file of the batch the row came from")
    row_number: Series[int] = pa.Field(ge=2, description="spreadsheet row number (header = 1)")
    center_code: Series[str] = pa.Field(description="団体コード: 6 digits with a check digit")
    fiscal_year: Series[str] = pa.Field(description="年度: 2016, 平成28年度, H28, 令和元年度, R6 …")
    measure: Series[str] = pa.Field(description="consultations | referrals | supporter_activities")
    category: Series[str] = pa.Field(description="category code or its Japanese label")
    count: Series[str] = pa.Field(description="件数: a whole number ≥ 0, as typed")

    # Each check runs its rule once per distinct text and maps the verdict back onto the rows: a
    # batch of thousands of files repeats the same codes, years and counts, and pandera's
    # element-wise checks call Python once per cell.
    @pa.check("center_code", name="center_code_format")
    def _center_code_format(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: is_six_digits(normalize_text(value)))

    @pa.check("center_code", name="center_code_check_digit")
    def _center_code_check_digit(cls, values: Series[str]) -> Series[bool]:
        def valid(value: str) -> bool:
            code = normalize_text(value)
            return not is_six_digits(code) or has_valid_check_digit(code)

        return per_distinct_value(values, valid)

    @pa.check("fiscal_year", name="fiscal_year_format")
    def _fiscal_year_format(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, _is_fiscal_year)

    @pa.check("measure", name="measure_unknown")
    def _measure_known(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: value.strip() in MEASURES)

    @pa.check("category", name="category_blank")
    def _category_not_blank(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: bool(normalize_text(value)))

    @pa.check("count", name="count_blank")
    def _count_not_blank(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: count_problem(value) is not CountProblem.BLANK)

    @pa.check("count", name="count_negative")
    def _count_not_negative(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: count_problem(value) is not CountProblem.NEGATIVE)

    @pa.check("count", name="count_fraction")
    def _count_whole(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: count_problem(value) is not CountProblem.FRACTION)

    @pa.check("count", name="count_not_a_number")
    def _count_numeric(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: count_problem(value) is not CountProblem.NOT_A_NUMBER)

    @pa.check("count", name="count_too_large")
    def _count_in_range(cls, values: Series[str]) -> Series[bool]:
        return per_distinct_value(values, lambda value: count_problem(value) is not CountProblem.TOO_LARGE)

    class Config:
        strict = True
        coerce = False


class SubmissionRowsInContext(pa.DataFrameModel):
    """One data row with its values parsed (null where the text was invalid) and its context."""

    file_id: Series[int] = pa.Field(description="which file of the batch the row came from")
    row_number: Series[int] = pa.Field(description="spreadsheet row number (header = 1)")
    center_code: Series[pd.StringDtype] = pa.Field(nullable=True, description="団体コード")
    fiscal_year: Series[pd.Int64Dtype] = pa.Field(nullable=True, description="fiscal year (Western)")
    measure: Series[pd.StringDtype] = pa.Field(nullable=True, description="measure code")
    category: Series[pd.StringDtype] = pa.Field(
        nullable=True, description="category code on the year's form; null when not on it"
    )
    category_text: Series[pd.StringDtype] = pa.Field(description="category as written")
    category_in_other_form: Series[bool] = pa.Field(
        description="the text names a category of the other referral form (9 groups vs 21 categories)"
    )
    count: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0, description="件数")
    expected_center_code: Series[pd.StringDtype] = pa.Field(
        nullable=True, description="the file name's center code (else the first row's)"
    )
    expected_fiscal_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="the file name's fiscal year (else the first row's)"
    )
    center_opened_fiscal_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        description="the registry's opening year for center_code; null if unregistered",
    )
    last_ended_fiscal_year: Series[pd.Int64Dtype] = pa.Field(
        description="the latest fiscal year that has ended on the run date"
    )
    form: Series[pd.StringDtype] = pa.Field(nullable=True, description="referral form of the year")
    referral_category_sum: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        description="the file's sum of referral categories; null when any is unreadable",
    )
    first_row_of_category: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        description="row number where this measure and category first appear in the file",
    )

    @pa.dataframe_check(name="center_code_mismatch")
    def _same_center(cls, frame: pd.DataFrame) -> Series[bool]:
        return _unknown(frame.center_code, frame.expected_center_code) | (
            frame.center_code == frame.expected_center_code
        )

    @pa.dataframe_check(name="fiscal_year_mismatch")
    def _same_fiscal_year(cls, frame: pd.DataFrame) -> Series[bool]:
        return _unknown(frame.fiscal_year, frame.expected_fiscal_year) | (
            frame.fiscal_year == frame.expected_fiscal_year
        )

    @pa.dataframe_check(name="center_not_registered")
    def _registered(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame.center_code.isna() | frame.center_opened_fiscal_year.notna()

    @pa.dataframe_check(name="center_not_open")
    def _open(cls, frame: pd.DataFrame) -> Series[bool]:
        return _unknown(frame.fiscal_year, frame.center_opened_fiscal_year) | (
            frame.fiscal_year >= frame.center_opened_fiscal_year
        )

    @pa.dataframe_check(name="fiscal_year_out_of_range")
    def _in_range(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame.fiscal_year.isna() | (frame.fiscal_year >= FIRST_LABELLED_FISCAL_YEAR)

    @pa.dataframe_check(name="fiscal_year_not_ended")
    def _ended(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame.fiscal_year.isna() | (frame.fiscal_year <= frame.last_ended_fiscal_year)

    @pa.dataframe_check(name="category_other_form")
    def _category_on_this_form(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame.category.notna() | ~frame.category_in_other_form | frame.measure.isna()

    @pa.dataframe_check(name="category_unknown")
    def _category_known(cls, frame: pd.DataFrame) -> Series[bool]:
        blank = frame.category_text.str.strip() == ""
        return frame.category.notna() | frame.category_in_other_form | frame.measure.isna() | blank | frame.form.isna()

    @pa.dataframe_check(name="category_duplicate")
    def _category_once(cls, frame: pd.DataFrame) -> Series[bool]:
        return frame.first_row_of_category.isna() | (frame.first_row_of_category == frame.row_number)

    @pa.dataframe_check(name="referral_total_mismatch")
    def _total_is_sum(cls, frame: pd.DataFrame) -> Series[bool]:
        is_total = (frame.measure == "referrals") & (frame.category == "total")
        comparable = is_total.fillna(False) & frame["count"].notna() & frame.referral_category_sum.notna()
        return ~comparable | (frame["count"] == frame.referral_category_sum).fillna(True)

    class Config:
        strict = True
        coerce = False


def _unknown(*columns: pd.Series) -> pd.Series:
    """Rows where any of the compared values is null: another rule already reports them."""
    result = columns[0].isna()
    for column in columns[1:]:
        result = result | column.isna()
    return result
