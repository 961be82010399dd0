"""The data-quality gate on the example warehouse, and on marts broken on purpose.

The checks are the data tests of the models' YAML; the thirteen checks the gate had before they moved
there keep their names (``LEGACY_CHECKS``). A run counts them in DuckDB (``check_warehouse``); the
report validates them with Great Expectations (``run_checks``): both must give the same verdicts and
counts, on good data and on data broken in every way the checks look for.
"""

import contextlib
import dataclasses
import os
import shutil
import socket
import sys
from pathlib import Path

import duckdb
import pytest
from support import make_settings, query

from hikikomori.pipeline import quality
from hikikomori.pipeline.quality import (
    CheckResult,
    QualityCheck,
    QualityGateFailed,
    check_warehouse,
    quality_checks,
    run_checks,
)
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.pipeline.steps import RunSummary, check_quality
from hikikomori.warehouse.connection import Connection, connect, read_in_parallel

LEGACY_CHECKS = {
    "reported_counts_non_negative": "staging.stg_submission_rows",
    "consultations_non_negative": "marts.consultation_totals",
    "referrals_non_negative": "marts.referral_shares",
    "referral_shares_sum_to_100": "quality.referral_share_totals",
    "referral_detail_shares_sum_to_100": "quality.referral_share_totals",
    "consultation_totals_match_submissions": "quality.national_totals_reconciliation",
    "referral_totals_match_submissions": "quality.national_totals_reconciliation",
    "one_referral_target_per_year": "quality.referral_target_counts",
    "outcome_targets_unique": "marts.outcome_targets",
    "outcome_target_status_known": "marts.outcome_targets",
    "expected_centers_have_status": "quality.expected_center_statuses",
    "submission_status_known": "marts.submission_status",
    "submission_status_unique": "marts.submission_status",
}


def test_every_check_passes_on_the_example_warehouse(example_warehouse: Path) -> None:
    stored = query(example_warehouse, "select check_name, dataset, outcome from quality.expectation_results")
    assert sorted(stored["check_name"]) == sorted(check.name for check in quality_checks())
    assert set(stored["outcome"]) == {"pass"}
    assert LEGACY_CHECKS.items() <= dict(zip(stored["check_name"], stored["dataset"], strict=True)).items()


def test_every_model_key_is_a_check() -> None:
    checks = {check.name: check for check in quality_checks()}
    assert checks["outcome_targets_unique"].expectation == "ExpectCompoundColumnsToBeUnique"
    assert checks["outcome_targets_unique"].arguments == {"column_list": ["fiscal_year", "target"]}
    assert checks["int_latest_submissions_unique"].arguments == {"column_list": ["center_code", "fiscal_year"]}
    assert checks["outcome_target_status_known"].arguments == {
        "column": "status",
        "value_set": ["pass", "fail", "no_baseline"],
    }


def test_a_broken_mart_fails_the_run_naming_the_check(example_warehouse: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    shutil.copy(example_warehouse, settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("update marts.referral_shares set share_pct = share_pct + 1 where agency_group = 'other'")

    with pytest.raises(QualityGateFailed, match="referral_shares_sum_to_100"):
        check_quality(settings, "broken-run")

    stored = query(
        settings.warehouse_path,
        "select check_name, outcome from quality.expectation_results where run_id = 'broken-run' and outcome <> 'pass'",
    )
    assert stored.to_dict("records") == [{"check_name": "referral_shares_sum_to_100", "outcome": "fail"}]


def test_a_failure_does_not_stop_the_run_when_the_setting_says_so(example_warehouse: Path, tmp_path: Path) -> None:
    settings = dataclasses.replace(make_settings(tmp_path), quality_fails_run=False)
    settings.warehouse_path.parent.mkdir(parents=True)
    shutil.copy(example_warehouse, settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("update marts.consultation_totals set consultations = -1 where fiscal_year = 2016")

    results = check_quality(settings, "lenient-run")

    failed = {result.check_name for result in results if result.outcome == "fail"}
    assert failed == {"consultations_non_negative", "consultation_totals_match_submissions"}


# Checks that cannot run, and one that finds bad data, for contrast.
MISSING_COLUMN = QualityCheck(
    "missing_column",
    "列がない",
    "no such column",
    "select 1 as one",
    "ExpectColumnValuesToNotBeNull",
    {"column": "nope"},
)
MISSING_TABLE = QualityCheck(
    "missing_table",
    "表がない",
    "no such table",
    "select * from marts.nope",
    "ExpectColumnValuesToNotBeNull",
    {"column": "one"},
)
BAD_DATA = QualityCheck(
    "bad_data",
    "負の値",
    "a negative value",
    "select -1 as one",
    "ExpectColumnValuesToBeBetween",
    {"column": "one", "min_value": 0},
)


def test_a_check_that_raises_is_an_error_not_bad_data(example_warehouse: Path) -> None:
    # Great Expectations raises inside the expectation for the missing column; DuckDB fails the query
    # for the missing table.
    checks = (MISSING_COLUMN, MISSING_TABLE, BAD_DATA)
    outcomes = {result.check_name: result.outcome for result in run_checks(example_warehouse, checks)}
    assert outcomes == {"missing_column": "error", "missing_table": "error", "bad_data": "fail"}


BREAKAGES = [
    "update marts.referral_shares set share_pct = 'nan'::double where agency_group = 'other' and fiscal_year = 2016",
    "update marts.referral_shares set share_pct = -3 where agency_group = 'other' and fiscal_year = 2017",
    "update marts.referral_detail_shares set share_pct = null where fiscal_year = 2017",
    "insert into marts.outcome_targets select * from marts.outcome_targets where fiscal_year = 2016",
    "insert into marts.consultation_totals select * from marts.consultation_totals where fiscal_year = 2014",
    "update marts.consultation_totals set consultations = -5 where fiscal_year = 2015",
    "update marts.submission_status set status = 'bogus' where center_code in ('130001', '270001')",
    "update marts.submission_status set status = null where center_code = '010006'",
    "update marts.center_figures set measure = null where fiscal_year = 2013",
    "update marts.center_figures set measure = 'visits' where fiscal_year = 2012 and measure = 'referrals'",
    "update marts.center_establishment set cumulative_centers = null where fiscal_year = 2018",
]


@pytest.mark.parametrize("broken", [False, True], ids=["as built", "broken in every way"])
def test_the_runs_gate_in_sql_agrees_with_great_expectations(
    example_warehouse: Path, tmp_path: Path, broken: bool
) -> None:
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(example_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        for statement in BREAKAGES if broken else []:
            connection.execute(statement)
    checks = quality_checks()

    with connect(warehouse, read_only=True) as connection:
        in_sql = check_warehouse(connection, checks)
    in_gx = run_checks(warehouse, checks)

    assert [(result.check_name, result.outcome, result.unexpected_count) for result in in_sql] == [
        (result.check_name, result.outcome, result.unexpected_count) for result in in_gx
    ]
    failed = {result.expectation for result in in_sql if result.outcome == "fail"}
    assert failed == (set(_EXPECTATIONS) if broken else set())


_EXPECTATIONS = {
    "ExpectColumnValuesToNotBeNull": {"column": "a"},
    "ExpectColumnValuesToBeUnique": {"column": "a"},
    "ExpectCompoundColumnsToBeUnique": {"column_list": ["key", "a"]},
    "ExpectColumnValuesToBeInSet": {"column": "word", "value_set": ["x", "y", 1]},
    "ExpectColumnValuesToBeBetween": {"column": "a", "min_value": 0, "max_value": 5},
    "ExpectColumnPairValuesToBeEqual": {"column_A": "a", "column_B": "b"},
}


@pytest.mark.parametrize("expectation", list(_EXPECTATIONS))
def test_missing_values_count_in_sql_as_in_great_expectations(tmp_path: Path, expectation: str) -> None:
    """NULL and NaN, repeated values and missing pairs: each expectation's unexpected rows, both ways."""
    warehouse = tmp_path / "edges.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "create table edges as select * from (values "
            "(1, 1.0, 1.0, 'x'), (1, 1.0, 2.0, 'x'), (2, 'nan'::double, 'nan'::double, 'z'), "
            "(2, 'nan'::double, 3.0, null), (3, null, null, 'z'), (3, null, 4.0, '1'), (4, 7.5, 7.5, 'y'), "
            "(null, 7.5, 7.5, 'y')) as t(key, a, b, word)"
        )
    check = QualityCheck("edge", "境界", "edges", "select * from edges", expectation, _EXPECTATIONS[expectation])

    with connect(warehouse, read_only=True) as connection:
        (in_sql,) = check_warehouse(connection, [check])
    (in_gx,) = run_checks(warehouse, [check])

    assert (in_sql.outcome, in_sql.unexpected_count) == (in_gx.outcome, in_gx.unexpected_count)
    assert in_sql.outcome == "fail"


def test_a_check_the_sql_gate_cannot_count_is_an_error(example_warehouse: Path) -> None:
    unknown = QualityCheck(
        "unknown", "未対応", "no SQL for it", "select 1 as one", "ExpectColumnMeanToBeBetween", {"column": "one"}
    )
    checks = (MISSING_COLUMN, MISSING_TABLE, unknown, BAD_DATA)
    with connect(example_warehouse, read_only=True) as connection:
        results = check_warehouse(connection, checks)
    assert {result.check_name: result.outcome for result in results} == {
        "missing_column": "error",
        "missing_table": "error",
        "unknown": "error",
        "bad_data": "fail",
    }
    assert results[-1].details == "1 件 / rows; 例 e.g. [-1]"


def test_the_run_summary_lists_the_checks() -> None:
    result = CheckResult(
        "shares", "marts.referral_shares", "ExpectColumnValuesToBeBetween", "割合", "shares", "fail", 1, "1 件"
    )
    summary = RunSummary("run", [], [], "w.duckdb", quality_results=[result])
    assert "不合格 fail    shares" in format_run_summary(summary)


class NetworkWatch:
    """Every attempt of this process to resolve a name or open a connection, while watching."""

    def __init__(self) -> None:
        self.watching = False
        self.attempts: list[str] = []
        sys.addaudithook(self._hook)  # audit hooks stay for the process: this one only records while watching

    def _hook(self, event: str, arguments: tuple[object, ...]) -> None:
        if self.watching and event in {"socket.connect", "socket.getaddrinfo", "socket.sendto", "urllib.Request"}:
            self.attempts.append(f"{event} {arguments[:2]!r}")

    def __enter__(self) -> list[str]:
        self.attempts, self.watching = [], True
        return self.attempts

    def __exit__(self, *_: object) -> None:
        self.watching = False


@pytest.fixture(scope="module")
def network() -> NetworkWatch:
    return NetworkWatch()


def test_the_watch_sees_a_connection_attempt(network: NetworkWatch) -> None:
    with network as attempts, contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1", 9), timeout=0.2).close()
    assert any(attempt.startswith("socket.connect") for attempt in attempts)


def test_the_gate_sends_nothing_and_writes_nothing(
    network: NetworkWatch, example_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "GX_ANALYTICS_ENABLED", "true"
    )  # the gate turns usage statistics off whatever the environment says
    with network as attempts:
        results = run_checks(example_warehouse, quality_checks()[:3])
    assert [result.outcome for result in results] == ["pass"] * 3
    assert attempts == []
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    assert list(tmp_path.iterdir()) == []  # no gx/ folder, no Data Docs site, no context id


def test_the_gate_reads_relations_in_parallel_with_the_same_results(
    example_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two relations at a time (each through its own cursor, in the connection's time zone) give exactly
    what one at a time gives: verdicts, counts and the samples of what failed, in the checks' order."""
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(example_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        for statement in BREAKAGES:
            connection.execute(statement)
    checks = quality_checks()

    with connect(warehouse, read_only=True) as connection:  # shows times in Japan time: a session setting
        in_parallel = check_warehouse(connection, checks)
        monkeypatch.setattr(quality, "GATE_READERS", 1)
        one_at_a_time = check_warehouse(connection, checks)

    assert in_parallel == one_at_a_time
    assert [result.check_name for result in in_parallel] == [check.name for check in checks]
    assert any(result.outcome == "fail" for result in in_parallel)


def test_reading_in_parallel_keeps_the_order_and_the_time_zone_and_passes_errors_on(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as writer:
        writer.execute("create table t as select range as n from range(20)")
    with connect(tmp_path / "w.duckdb", read_only=True) as connection:
        zones = read_in_parallel(
            connection,
            lambda cursor, n: (n, cursor.execute("select current_setting('TimeZone')").fetchall()[0][0]),
            list(range(20)),
            3,
        )
        assert zones == [(n, "Asia/Tokyo") for n in range(20)]

        def fails_on_seven(cursor: Connection, n: int) -> int:
            if n == 7:
                raise ValueError("seven")
            return n

        with pytest.raises(ValueError, match="seven"):
            read_in_parallel(connection, fails_on_seven, list(range(20)), 2)
