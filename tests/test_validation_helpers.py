"""The helpers that make a batch's validation cost per distinct value rather than per cell.

Each computes once per distinct value (or combination) and maps the results back onto the rows; what
they must keep: nulls null, integers exact near 2**63, each row its own result, the order of the rows.
"""

import gc
from pathlib import Path

import pandas as pd
import pytest
from helpers_validation import CONSULTATIONS, SUPPORTER_ACTIVITIES, altered, submission_rows, validate, write_submission

from hikikomori.domain.counts import parse_count
from hikikomori.schemas.submission import per_distinct_value
from hikikomori.schemas.validation import INT64_MAX, _totals, exact_integers, per_distinct_combination


def counted(function):  # type: ignore[no-untyped-def]
    """``function``, recording each argument it is called with."""
    calls = []

    def call(*arguments):  # type: ignore[no-untyped-def]
        calls.append(arguments)
        return function(*arguments)

    return call, calls


def test_per_distinct_value_calls_once_per_distinct_value_and_keeps_nulls_null() -> None:
    values = pd.Series(["b", None, "a", "b", None, "a"], index=[10, 11, 12, 13, 14, 15], dtype="str")
    function, calls = counted(str.upper)
    result = per_distinct_value(values, function)
    assert sorted(calls) == [("a",), ("b",)]
    assert result.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert result.isna().tolist() == [False, True, False, False, True, False]
    assert result[[10, 12, 13, 15]].tolist() == ["B", "A", "B", "A"]


def test_per_distinct_value_of_a_check_is_a_bool_series_without_nulls() -> None:
    values = pd.Series(["1", "x", "1", "2"], dtype="str")
    result = per_distinct_value(values, str.isdigit)
    assert result.dtype == bool
    assert result.tolist() == [True, False, True, True]


def test_per_distinct_value_of_nothing_and_of_nulls_only() -> None:
    assert per_distinct_value(pd.Series([], dtype="str"), str.upper).tolist() == []
    assert per_distinct_value(pd.Series([None, None], dtype="str"), str.upper).isna().all()


def test_exact_integers_near_int64_maximum_and_beyond_with_nulls() -> None:
    texts = pd.Series(
        [None, str(2**63 - 1), str(2**63 - 2), "9007199254740993", None, str(2**63), "10" * 20, "0"],
        dtype="str",
    )
    result = exact_integers(texts, parse_count)
    assert str(result.dtype) == "Int64"
    # Never through float64: 2**53 + 1 and 2**63 - 2 stay themselves; beyond Int64 is held at its maximum.
    assert result.tolist() == [pd.NA, INT64_MAX, 2**63 - 2, 2**53 + 1, pd.NA, INT64_MAX, INT64_MAX, 0]


def test_exact_integers_parses_each_distinct_text_once() -> None:
    parse, calls = counted(parse_count)
    result = exact_integers(pd.Series(["7", "7", None, "1,323", "7"], index=[5, 6, 7, 8, 9], dtype="str"), parse)
    assert sorted(calls) == [("1,323",), ("7",)]
    assert result.index.tolist() == [5, 6, 7, 8, 9]
    assert result.tolist() == [7, 7, pd.NA, 1323, 7]


def test_exact_integers_of_nulls_only_and_of_nothing() -> None:
    assert exact_integers(pd.Series([None, None], dtype="str"), parse_count).isna().all()
    assert exact_integers(pd.Series([], dtype="str"), parse_count).tolist() == []


def test_per_distinct_combination_once_per_combination_nulls_as_na() -> None:
    measures = pd.Series(["a", "a", None, "a", None, "b"], dtype="string")
    forms = pd.Series(["x", "y", "x", "x", "x", "x"], dtype="string")
    function, calls = counted(lambda measure, form: (f"{measure}{form}", measure is pd.NA))
    joined, unknown = per_distinct_combination([measures, forms], function, parts=2)
    assert len(calls) == 4  # (a, x), (a, y), (NA, x), (b, x)
    assert joined.tolist() == ["ax", "ay", "<NA>x", "ax", "<NA>x", "bx"]
    assert unknown.tolist() == [False, False, True, False, True, False]


def test_per_distinct_combination_of_no_rows() -> None:
    empty = pd.Series([], dtype="string")
    (result,) = per_distinct_combination([empty, empty], lambda *values: (1,), parts=1)
    assert result.tolist() == []


def test_totals_stay_exact_where_int64_would_overflow() -> None:
    rows = pd.DataFrame(
        {
            "file_id": [0, 0, 0, 1],
            "measure": pd.array(["referrals", "referrals", "referrals", "consultations"], dtype="str"),
            "category": pd.array(["npo", "other", "total", "total"], dtype="str"),
            "count": pd.array([2**62, 2**62, 1, 5], dtype="int64"),
        }
    )
    assert _totals(rows) == {0: {"referrals": 2**63}, 1: {"consultations": 5}}


def test_an_accepted_files_totals_leave_the_referral_total_row_out(tmp_path: Path) -> None:
    rows = submission_rows(2016)
    without_total = altered(rows, drop=[24])
    (with_total,) = validate(tmp_path / "a", write_submission(tmp_path / "a", rows))
    (alone,) = validate(tmp_path / "b", write_submission(tmp_path / "b", without_total))
    assert with_total.accepted and alone.accepted
    referrals = sum(int(row[4]) for row in rows[2:23])
    expected = {"consultations": CONSULTATIONS, "referrals": referrals, "supporter_activities": SUPPORTER_ACTIVITIES}
    assert with_total.loaded is not None and with_total.loaded.totals == expected
    assert alone.loaded is not None and alone.loaded.totals == expected


@pytest.mark.parametrize("enabled", [True, False])
def test_validation_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    path = write_submission(tmp_path, submission_rows(2016))
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        (result,) = validate(tmp_path, path)
        assert result.accepted
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
