"""The data-quality gate: Great Expectations checks on the staging and mart tables after each build.

Each check is a query (the frame to validate, read from DuckDB) and one expectation. Great
Expectations' SQL datasources do not work against DuckDB, so frames are validated as pandas
DataFrames. Great Expectations costs seconds to import: it is imported only inside
``run_checks``, never by ``hikikomori validate``. The warehouse path is a parameter, so the gate
can check the pipeline's warehouse or an analysts' copy.
"""

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.warehouse.comments import apply_comments, load_catalog
from hikikomori.warehouse.connection import connect

RESULTS_TABLE = "quality.expectation_results"


@dataclass(frozen=True)
class QualityCheck:
    name: str
    description_ja: str
    description_en: str
    query: str  # the frame the expectation is validated against
    expectation: str  # class name in great_expectations.expectations
    arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def dataset(self) -> str:
        """The first table the query reads, for people scanning the results."""
        words = self.query.split()
        return next((word for word in words if word.count(".") == 1 and word.split(".")[0] in _LAYERS), "")


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    dataset: str
    expectation: str
    description_ja: str
    description_en: str
    outcome: str  # pass | fail (bad data) | error (the check itself raised)
    unexpected_count: int | None
    details: str


class QualityGateFailed(RuntimeError):
    """Raised after the results are stored, when a check failed or raised and the setting says to stop."""


_LAYERS = ("staging", "intermediate", "marts", "reference")
_SHARE_TOLERANCE = 1e-6

CHECKS: tuple[QualityCheck, ...] = (
    QualityCheck(
        "reported_counts_non_negative",
        "報告された件数は0以上",
        "every reported count is zero or more",
        "select reported_count from staging.stg_submission_rows",
        "ExpectColumnValuesToBeBetween",
        {"column": "reported_count", "min_value": 0},
    ),
    QualityCheck(
        "consultations_non_negative",
        "延べ相談件数（全国）は0以上",
        "national consultations are zero or more",
        "select consultations from marts.consultation_totals",
        "ExpectColumnValuesToBeBetween",
        {"column": "consultations", "min_value": 0},
    ),
    QualityCheck(
        "referrals_non_negative",
        "関係機関別の紹介件数は0以上",
        "referrals per agency group are zero or more",
        "select referrals from marts.referral_shares",
        "ExpectColumnValuesToBeBetween",
        {"column": "referrals", "min_value": 0},
    ),
    QualityCheck(
        "referral_shares_sum_to_100",
        "集計区分の割合は年度ごとに合計100%",
        "summary-group shares sum to 100 in every year with referrals",
        """
        select fiscal_year, sum(share_pct) as share_total
        from marts.referral_shares
        group by fiscal_year
        having sum(referrals) > 0
        """,
        "ExpectColumnValuesToBeBetween",
        {"column": "share_total", "min_value": 100 - _SHARE_TOLERANCE, "max_value": 100 + _SHARE_TOLERANCE},
    ),
    QualityCheck(
        "referral_detail_shares_sum_to_100",
        "詳細区分の割合は年度ごとに合計100%",
        "detailed-category shares sum to 100 in every year with referrals",
        """
        select fiscal_year, sum(share_pct) as share_total
        from marts.referral_detail_shares
        group by fiscal_year
        having sum(referrals) > 0
        """,
        "ExpectColumnValuesToBeBetween",
        {"column": "share_total", "min_value": 100 - _SHARE_TOLERANCE, "max_value": 100 + _SHARE_TOLERANCE},
    ),
    QualityCheck(
        "consultation_totals_match_submissions",
        "全国の延べ相談件数 = 最新の受理版の合計",
        "national consultations equal the sum of the latest accepted submissions",
        """
        with submitted as (
            select latest_submissions.fiscal_year, sum(submission_rows.reported_count) as submitted_total
            from intermediate.int_latest_submissions as latest_submissions
            inner join staging.stg_submission_rows as submission_rows
                on latest_submissions.receipt_id = submission_rows.receipt_id
            where submission_rows.measure = 'consultations'
            group by latest_submissions.fiscal_year
        )
        select
            coalesce(consultation_totals.fiscal_year, submitted.fiscal_year) as fiscal_year,
            consultation_totals.consultations as mart_total,
            submitted.submitted_total
        from marts.consultation_totals as consultation_totals
        full outer join submitted
            on consultation_totals.fiscal_year = submitted.fiscal_year
        """,
        "ExpectColumnPairValuesToBeEqual",
        {"column_A": "mart_total", "column_B": "submitted_total"},
    ),
    QualityCheck(
        "referral_totals_match_submissions",
        "全国の紹介件数 = 最新の受理版の合計（合計行を除く）",
        "national referrals equal the sum of the latest accepted submissions (total rows left out)",
        """
        with submitted as (
            select latest_submissions.fiscal_year, sum(submission_rows.reported_count) as submitted_total
            from intermediate.int_latest_submissions as latest_submissions
            inner join staging.stg_submission_rows as submission_rows
                on latest_submissions.receipt_id = submission_rows.receipt_id
            where submission_rows.measure = 'referrals' and not submission_rows.is_total
            group by latest_submissions.fiscal_year
        ),
        mart as (
            select fiscal_year, sum(referrals) as mart_total
            from marts.referral_shares
            group by fiscal_year
        )
        select
            coalesce(mart.fiscal_year, submitted.fiscal_year) as fiscal_year,
            mart.mart_total,
            submitted.submitted_total
        from mart
        full outer join submitted
            on mart.fiscal_year = submitted.fiscal_year
        """,
        "ExpectColumnPairValuesToBeEqual",
        {"column_A": "mart_total", "column_B": "submitted_total"},
    ),
    QualityCheck(
        "one_referral_target_per_year",
        "紹介件数のある年度ごとに成果目標（紹介件数）の行がちょうど1行",
        "exactly one referrals target row per fiscal year with referrals",
        """
        with years as (
            select distinct fiscal_year from intermediate.int_national_actuals where measure = 'referrals'
        )
        select years.fiscal_year, count(outcome_targets.fiscal_year) as target_rows
        from years
        left join marts.outcome_targets as outcome_targets
            on years.fiscal_year = outcome_targets.fiscal_year
            and outcome_targets.target = 'referrals_per_center'
        group by years.fiscal_year
        """,
        "ExpectColumnValuesToBeBetween",
        {"column": "target_rows", "min_value": 1, "max_value": 1},
    ),
    QualityCheck(
        "outcome_targets_unique",
        "成果目標は年度 × 目標ごとに1行",
        "one outcome-target row per fiscal year and target",
        "select fiscal_year, target from marts.outcome_targets",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": ["fiscal_year", "target"]},
    ),
    QualityCheck(
        "outcome_target_status_known",
        "成果目標の判定は pass / fail / no_baseline のいずれか",
        "every outcome-target verdict is pass, fail or no_baseline",
        "select status from marts.outcome_targets",
        "ExpectColumnValuesToBeInSet",
        {"column": "status", "value_set": ["pass", "fail", "no_baseline"]},
    ),
    QualityCheck(
        "expected_centers_have_status",
        "データのある年度に設置済みのセンターすべてに提出状況がある",
        "every center expected in a fiscal year with data has a submission status",
        """
        with years as (
            select distinct fiscal_year from intermediate.int_latest_submissions
        ),
        expected as (
            select years.fiscal_year, centers.center_code
            from years
            inner join staging.stg_centers as centers
                on centers.opened_fiscal_year <= years.fiscal_year
        )
        select expected.fiscal_year, expected.center_code, submission_status.status
        from expected
        left join marts.submission_status as submission_status
            on expected.fiscal_year = submission_status.fiscal_year
            and expected.center_code = submission_status.center_code
        """,
        "ExpectColumnValuesToNotBeNull",
        {"column": "status"},
    ),
    QualityCheck(
        "submission_status_known",
        "提出状況は accepted / rejected / missing のいずれか",
        "every submission status is accepted, rejected or missing",
        "select status from marts.submission_status",
        "ExpectColumnValuesToBeInSet",
        {"column": "status", "value_set": ["accepted", "rejected", "missing"]},
    ),
    QualityCheck(
        "submission_status_unique",
        "提出状況は年度 × センターごとに1行",
        "one submission-status row per fiscal year and center",
        "select fiscal_year, center_code from marts.submission_status",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": ["fiscal_year", "center_code"]},
    ),
)


def run_checks(
    warehouse_path: Path, checks: tuple[QualityCheck, ...] = CHECKS, *, docs_dir: Path | None = None
) -> list[CheckResult]:
    """Validate every check's frame; with ``docs_dir``, also write a Great Expectations Data Docs site there.

    ``docs_dir`` belongs to the site: it is emptied first, so a rebuilt report never mixes in old checks.
    """
    with connect(warehouse_path, read_only=True) as connection:
        frames = {check.name: _frame(connection, check) for check in checks}
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # closed networks: no usage statistics
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if docs_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        shutil.rmtree(docs_dir, ignore_errors=True)
        docs_dir.mkdir(parents=True)
        context = gx.get_context(mode="file", project_root_dir=docs_dir)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_or_update_pandas("warehouse")
    results = []
    for check in checks:
        frame = frames[check.name]
        if isinstance(frame, Exception):
            results.append(_result(check, "error", None, _error_text(frame)))
            continue
        try:
            expectation = getattr(gx.expectations, check.expectation)(**check.arguments)
            batch_definition = source.add_dataframe_asset(check.name).add_batch_definition_whole_dataframe(check.name)
            suite = context.suites.add(gx.ExpectationSuite(name=check.name, expectations=[expectation]))
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=check.name, data=batch_definition, suite=suite)
            )
            actions = [] if docs_dir is None else [gx.checkpoint.UpdateDataDocsAction(name="data_docs")]
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(name=check.name, validation_definitions=[validation], actions=actions)
            )
            outcome = checkpoint.run(batch_parameters={"dataframe": frame})
            (validation_result,) = outcome.run_results.values()
            results.append(_from_expectation_result(check, validation_result.results[0]))
        except Exception as error:  # a broken check is an error in the gate, not bad data
            results.append(_result(check, "error", None, _error_text(error)))
    return results


def data_docs_index(docs_dir: Path) -> Path:
    return docs_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def store_results(warehouse_path: Path, results: list[CheckResult], run_id: str, catalog_path: Path) -> None:
    """Append one row per check to quality.expectation_results, then comment the table."""
    checked_at = datetime.now(JAPAN)
    frame = pd.DataFrame([{"run_id": run_id, "checked_at": checked_at, **asdict(result)} for result in results])
    frame["unexpected_count"] = frame["unexpected_count"].astype("Int64")
    with connect(warehouse_path) as connection:
        connection.execute("create schema if not exists quality")
        connection.execute(
            f"""
            create table if not exists {RESULTS_TABLE} (
                run_id varchar not null,
                checked_at timestamptz not null,
                check_name varchar not null,
                dataset varchar not null,
                expectation varchar not null,
                description_ja varchar not null,
                description_en varchar not null,
                outcome varchar not null check (outcome in ('pass', 'fail', 'error')),
                unexpected_count bigint,
                details varchar not null
            )
            """
        )
        connection.register("quality_result_rows", frame)
        try:
            connection.execute(f"insert into {RESULTS_TABLE} by name select * from quality_result_rows")
        finally:
            connection.unregister("quality_result_rows")
        apply_comments(connection, load_catalog(catalog_path))


def gate_failure(results: list[CheckResult]) -> str | None:
    """The message that stops the run, naming every check that failed or raised; None when all passed."""
    failed = [result for result in results if result.outcome == "fail"]
    errors = [result for result in results if result.outcome == "error"]
    if not failed and not errors:
        return None
    parts = []
    if failed:
        parts.append(
            "データ品質チェック不合格 / quality checks failed: "
            + "; ".join(f"{result.check_name} ({result.description_ja}: {result.details})" for result in failed)
        )
    if errors:
        parts.append(
            "チェック自体のエラー / checks that raised: "
            + "; ".join(f"{result.check_name} ({result.details})" for result in errors)
        )
    return " | ".join(parts)


def _frame(connection: Any, check: QualityCheck) -> pd.DataFrame | Exception:
    try:
        return connection.execute(check.query).df()
    except Exception as error:  # e.g. a mart that is missing: reported as this check's error
        return error


def _from_expectation_result(check: QualityCheck, result: Any) -> CheckResult:
    exception_info = result.exception_info or {}
    raised = [
        info.get("exception_message")
        for info in [exception_info, *exception_info.values()]
        if isinstance(info, dict) and info.get("raised_exception")
    ]
    if raised:
        return _result(check, "error", None, str(raised[0]).splitlines()[0])
    observed = result.result or {}
    unexpected_count = observed.get("unexpected_count")
    details = ""
    if not result.success:
        sample = observed.get("partial_unexpected_list") or observed.get("observed_value")
        # The first column of the frame (a fiscal year where there is one) says where the bad value is.
        details = f"{unexpected_count} 件 / rows; 例 e.g. {json.dumps(sample, ensure_ascii=False, default=str)}"
    return _result(check, "pass" if result.success else "fail", unexpected_count, details)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _result(check: QualityCheck, outcome: str, unexpected_count: int | None, details: str) -> CheckResult:
    return CheckResult(
        check_name=check.name,
        dataset=check.dataset,
        expectation=check.expectation,
        description_ja=check.description_ja,
        description_en=check.description_en,
        outcome=outcome,
        unexpected_count=unexpected_count,
        details=details,
    )
