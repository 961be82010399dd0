"""The data-quality gate: the data tests of the models' YAML, checked after each build.

One definition serves both: each data test in ``sql/**/*.yml`` (keys, not-null, accepted values,
ranges, and the checks across models that live as models in ``sql/quality/``) becomes one check
here, with its name, description and Great Expectations expectation. Two evaluations of the same
checks, which a test holds to the same verdicts and counts:

- the run's gate, ``check_warehouse``: each check counted in DuckDB, in SQL over the relation
  (``hikikomori.warehouse.data_tests``), with Great Expectations' semantics. Nothing is read into
  pandas and Great Expectations is not imported: it cost a run ≈ 3 s of import and ≈ 200 MiB
  before the first check, and GX on a run's largest relations more again;
- ``validate_frames`` / ``run_checks``: Great Expectations itself, on pandas DataFrames read from
  the warehouse (its SQL datasources do not work against DuckDB), for the report's data-quality
  page on the analysts' copy. Imported only there, never by ``hikikomori validate``.

A run's gate (``run_gate``) counts the checks unless nothing they read has changed since the last
gate, every one of whose checks passed: then it records that gate's results again, saying whose
evaluation they are (``hikikomori.warehouse.gate_runs``).
"""

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.vocabulary import QualityOutcome
from hikikomori.resources import package_path
from hikikomori.warehouse import data_tests, gate_runs, queries
from hikikomori.warehouse.connection import Connection, DatabaseError, connect, read_in_parallel, transaction
from hikikomori.warehouse.model_builds import inputs_digest
from hikikomori.warehouse.models import load_docs
from hikikomori.warehouse.project import DataTest

GATE_READERS = 2  # relations the gate reads at once (check_warehouse); this machine's 2 cores measured


@dataclass(frozen=True)
class QualityCheck:
    name: str
    description_ja: str
    description_en: str
    query: str  # the frame the expectation is validated against (checks with the same query share it)
    expectation: str  # class name in great_expectations.expectations
    arguments: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""  # the model or source checked, for people scanning the results


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


def quality_checks(sql_dir: Path | None = None) -> tuple[QualityCheck, ...]:
    """One check per data test of the project's YAML (default: the installed package's ``sql/``)."""
    tests = load_docs(sql_dir or package_path("sql")).data_tests
    columns: dict[str, list[str]] = {}
    for test in tests:
        wanted = columns.setdefault(test.relation, [])
        wanted += [column for column in test.columns if column not in wanted]
    return tuple(_check(test, queries.relation_columns_query(test.relation, columns[test.relation])) for test in tests)


def _check(test: DataTest, query: str) -> QualityCheck:
    column = test.columns[0] if test.columns else None
    expectations: dict[str, tuple[str, dict[str, Any]]] = {
        "unique": ("ExpectColumnValuesToBeUnique", {"column": column}),
        "unique_combination_of_columns": ("ExpectCompoundColumnsToBeUnique", {"column_list": list(test.columns)}),
        "not_null": ("ExpectColumnValuesToNotBeNull", {"column": column}),
        "accepted_values": (
            "ExpectColumnValuesToBeInSet",
            {"column": column, "value_set": test.parameters.get("values")},
        ),
        "accepted_range": (
            "ExpectColumnValuesToBeBetween",
            {
                "column": column,
                **{key: test.parameters[key] for key in ("min_value", "max_value") if key in test.parameters},
            },
        ),
        "expect_column_pair_values_to_be_equal": (
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": test.parameters.get("column_A"), "column_B": test.parameters.get("column_B")},
        ),
    }
    expectation, arguments = expectations[test.kind]
    return QualityCheck(
        test.name, test.description.ja, test.description.en, query, expectation, arguments, dataset=test.relation
    )


# The expectations the YAML's data tests become, as SQL (``hikikomori.warehouse.data_tests``).
_IN_SQL: dict[str, Callable[[data_tests.Frame, dict[str, Any]], data_tests.Test]] = {
    "ExpectColumnValuesToNotBeNull": lambda rows, args: data_tests.not_null(rows, args["column"]),
    "ExpectColumnValuesToBeBetween": lambda rows, args: data_tests.between(
        rows, args["column"], args.get("min_value"), args.get("max_value")
    ),
    "ExpectColumnPairValuesToBeEqual": lambda rows, args: data_tests.pair_equal(
        rows, args["column_A"], args["column_B"]
    ),
    "ExpectColumnValuesToBeUnique": lambda rows, args: data_tests.unique(rows, [args["column"]]),
    "ExpectCompoundColumnsToBeUnique": lambda rows, args: data_tests.unique(rows, args["column_list"]),
    "ExpectColumnValuesToBeInSet": lambda rows, args: data_tests.in_set(rows, args["column"], args["value_set"]),
}


def check_warehouse(connection: Connection, checks: Sequence[QualityCheck]) -> list[CheckResult]:
    """The run's gate: every check counted in DuckDB, one statement per relation; results in the order of ``checks``.

    Verdicts and counts as ``validate_frames`` (Great Expectations) gives them for the same rows; a
    relation that cannot be read, a column it does not have, or an expectation with no SQL makes
    the check an error, never a failure. The relations are read ``GATE_READERS`` at a time, each
    reader with its own cursor: the statements are small, and one at a time they left a core idle
    (0.22–0.33 s for the bundled examples' 43 relations, 0.17–0.20 s two at a time).
    """
    groups: dict[str, list[QualityCheck]] = {}
    for check in checks:
        groups.setdefault(check.query, []).append(check)
    results: dict[str, CheckResult] = {}
    for relation_results in read_in_parallel(connection, _check_relation, list(groups.items()), GATE_READERS):
        results.update(relation_results)
    return [results[check.name] for check in checks]


def _check_relation(connection: Connection, relation: tuple[str, list[QualityCheck]]) -> dict[str, CheckResult]:
    """The checks of one relation (its select, and the checks reading it), by check name."""
    query, group = relation
    try:
        checked = data_tests.frame(connection, query)
    except DatabaseError as error:
        return {check.name: _result(check, QualityOutcome.ERROR, None, _error_text(error)) for check in group}
    results: dict[str, CheckResult] = {}
    tests: dict[str, data_tests.Test] = {}
    for check in group:
        try:
            if check.expectation not in _IN_SQL:
                raise NotImplementedError(f"no SQL evaluation of {check.expectation}")
            tests[check.name] = _IN_SQL[check.expectation](checked, check.arguments)
        except (KeyError, ValueError, TypeError, NotImplementedError) as error:  # the check itself is broken
            results[check.name] = _result(check, QualityOutcome.ERROR, None, _error_text(error))
    by_name = {check.name: check for check in group}
    for name, unexpected in zip(tests, data_tests.count(connection, checked, list(tests.values())), strict=True):
        results[name] = (
            _result(by_name[name], QualityOutcome.ERROR, None, _error_text(unexpected))
            if isinstance(unexpected, Exception)
            else _counted(by_name[name], unexpected)
        )
    return results


def _counted(check: QualityCheck, unexpected: data_tests.Unexpected) -> CheckResult:
    if not unexpected.count:
        return _result(check, QualityOutcome.PASS, 0, "")
    # As Great Expectations shows them: a {column: value} per row for a combination, [a, b] for a pair.
    columns = check.arguments.get("column_list")
    sample = [
        (dict(zip(columns, value, strict=True)) if columns else list(value)) if isinstance(value, tuple) else value
        for value in unexpected.sample
    ]
    return _result(check, QualityOutcome.FAIL, unexpected.count, _details(unexpected.count, sample))


def run_checks(warehouse_path: Path, checks: Sequence[QualityCheck] | None = None) -> list[CheckResult]:
    """Read every check's frame from the warehouse (read-only), then validate them; see ``validate_frames``."""
    checks = quality_checks() if checks is None else checks
    with connect(warehouse_path, read_only=True) as connection:
        frames = read_frames(connection, checks)
    return validate_frames(frames, checks)


FrameSource = Callable[[str], pd.DataFrame | Exception]  # a check's query → its frame, or the error reading it


def read_frames(connection: Connection, checks: Sequence[QualityCheck]) -> FrameSource:
    """Every distinct query's frame, read now (so the connection can be closed before validating)."""
    return queries.read_frames(connection, list(dict.fromkeys(check.query for check in checks))).__getitem__


def validate_frames(frames: FrameSource, checks: Sequence[QualityCheck]) -> list[CheckResult]:
    """Validate the checks of each frame as one suite, in an in-memory Great Expectations context.

    Results come back in the order of ``checks``. A frame that could not be read (e.g. a missing
    model) makes each of its checks an error. Nothing is written and nothing is sent: usage
    statistics are off and no Data Docs site is built (the report draws the results into its own
    offline page, ``hikikomori.report.quality_page``).
    """
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # closed networks: never send usage statistics
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context: Any = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        ),
    )
    source = context.data_sources.add_or_update_pandas("warehouse")
    results: dict[str, CheckResult] = {}
    groups: dict[str, list[QualityCheck]] = {}
    for check in checks:
        groups.setdefault(check.query, []).append(check)
    for number, (query, group) in enumerate(groups.items(), start=1):
        frame = frames(query)
        if isinstance(frame, Exception):
            results.update({check.name: _result(check, "error", None, _error_text(frame)) for check in group})
            continue
        expectations = []
        for check in group:
            try:
                expectations.append(
                    getattr(gx.expectations, check.expectation)(**check.arguments, meta={"check": check.name})
                )
            except Exception as error:  # a broken check is an error in the gate, not bad data
                results[check.name] = _result(check, "error", None, _error_text(error))
        if not expectations:
            continue
        name = f"{number:03d}_{group[0].dataset or group[0].name}"
        try:
            batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
            )
            checkpoint = context.checkpoints.add(gx.Checkpoint(name=name, validation_definitions=[validation]))
            outcome = checkpoint.run(batch_parameters={"dataframe": frame})
            (validation_result,) = outcome.run_results.values()
            by_name = {check.name: check for check in group}
            for expectation_result in validation_result.results:
                configuration = expectation_result.expectation_config
                checked = by_name[configuration.meta["check"]] if configuration and configuration.meta else None
                if checked is not None:
                    results[checked.name] = _from_expectation_result(checked, expectation_result)
        except Exception as error:  # the suite itself could not run: each of its checks raised
            results.update(
                {
                    check.name: _result(check, "error", None, _error_text(error))
                    for check in group
                    if check.name not in results
                }
            )
    return [results[check.name] for check in checks]


def gate_inputs(sql_dir: Path, reference_dir: Path, registry_path: Path) -> str:
    """``inputs_digest`` of what the checks and the models are made from, and of the code that counts the
    checks: part of the gate's fingerprint (``hikikomori.warehouse.gate_runs``)."""
    return inputs_digest([sql_dir, reference_dir, registry_path, Path(__file__), Path(data_tests.__file__)])


def run_gate(connection: Connection, checks: Sequence[QualityCheck], run_id: str, inputs: str) -> list[CheckResult]:
    """The gate of run ``run_id``, recorded in quality.gate_runs and quality.expectation_results.

    When the fingerprint of what the checks read equals the last gate's, and that gate counted every
    one of these checks and each passed, its results are recorded again for this run, naming the run
    that counted them; otherwise every check is counted now (``check_warehouse``). In order of ``checks``.
    """
    found = gate_runs.gate_fingerprint(connection, inputs)
    now = datetime.now(JAPAN)
    last = gate_runs.last_gate_run(connection)
    if last is not None and last.fingerprint == found:
        taken = _passed_results(gate_runs.evaluation_results(connection, last.evaluated_in), checks)
        if taken is not None:
            with transaction(connection):
                gate_runs.record_results_again(connection, run_id, last.evaluated_in)
                gate_runs.record_gate_run(connection, gate_runs.GateRun(run_id, found, last.evaluated_in, now))
            return taken
    results = check_warehouse(connection, checks)
    with transaction(connection):
        store_results(connection, results, run_id, now)
        gate_runs.record_gate_run(connection, gate_runs.GateRun(run_id, found, run_id, now))
    return results


def _passed_results(rows: list[dict[str, Any]], checks: Sequence[QualityCheck]) -> list[CheckResult] | None:
    """The recorded results as ``checks`` (in their order), if they are exactly these checks, all passed."""
    recorded = {str(row["check_name"]): row for row in rows}
    if len(rows) != len(checks) or set(recorded) != {check.name for check in checks}:
        return None
    if any(row["outcome"] != QualityOutcome.PASS for row in rows):
        return None
    fields = [name for name in CheckResult.__dataclass_fields__ if name != "unexpected_count"]
    return [
        CheckResult(
            **{name: str(recorded[check.name][name]) for name in fields},
            unexpected_count=_count(recorded[check.name]["unexpected_count"]),
        )
        for check in checks
    ]


def _count(value: object) -> int | None:
    return None if value is None else int(str(value))


def store_results(connection: Connection, results: list[CheckResult], run_id: str, checked_at: datetime) -> None:
    """Append one row per check to quality.expectation_results (the table comes from migration 0004)."""
    frame = pd.DataFrame([{"run_id": run_id, "checked_at": checked_at, **asdict(result)} for result in results])
    frame["unexpected_count"] = frame["unexpected_count"].astype("Int64")
    queries.append_quality_results(connection, frame)


def gate_failure(results: list[CheckResult]) -> str | None:
    """The message that stops the run, naming every check that failed or raised; None when all passed."""
    failed = [result for result in results if result.outcome == QualityOutcome.FAIL]
    errors = [result for result in results if result.outcome == QualityOutcome.ERROR]
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


def _from_expectation_result(check: QualityCheck, result: Any) -> CheckResult:
    exception_info = result.exception_info or {}
    raised = [
        info.get("exception_message")
        for info in [exception_info, *exception_info.values()]
        if isinstance(info, dict) and info.get("raised_exception")
    ]
    if raised:
        return _result(check, QualityOutcome.ERROR, None, str(raised[0]).splitlines()[0])
    observed = result.result or {}
    unexpected_count = observed.get("unexpected_count")
    details = ""
    if not result.success:
        sample = observed.get("partial_unexpected_list") or observed.get("observed_value")
        details = _details(unexpected_count, sample)
    outcome = QualityOutcome.PASS if result.success else QualityOutcome.FAIL
    return _result(check, outcome, unexpected_count, details)


def _details(unexpected_count: int | None, sample: Any) -> str:
    return f"{unexpected_count} 件 / rows; 例 e.g. {json.dumps(sample, ensure_ascii=False, default=str)}"


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _result(check: QualityCheck, outcome: str, unexpected_count: int | None, details: str) -> CheckResult:
    return CheckResult(
        check_name=check.name,
        dataset=check.dataset,
        expectation=check.expectation,
        description_ja=check.description_ja,
        description_en=check.description_en,
        outcome=str(outcome),
        unexpected_count=unexpected_count,
        details=details,
    )
