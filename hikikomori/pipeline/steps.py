"""The steps of ``hikikomori run`` as plain functions; ``flows/`` wires them into Prefect.

prepare (migrations) → deadline calendar → discover → validate → load (archive/quarantine, one
transaction per batch) → build models → quality gate → summary. Each step opens one connection to the
warehouse. The governance commands (``hikikomori.pipeline.governance``) reuse them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.reference import ReferenceData, load_reference_data
from hikikomori.domain.vocabulary import FileOutcome
from hikikomori.pipeline.deadlines import read_calendar
from hikikomori.pipeline.intake import TakenFile, left_folder, record_left_folders, remove_interrupted_writes, take_in
from hikikomori.pipeline.operations import writer
from hikikomori.pipeline.plausibility import PlausibilityWarning, outlier_rule, warnings_for_accepted
from hikikomori.pipeline.quality import (
    CheckResult,
    QualityGateFailed,
    gate_failure,
    gate_inputs,
    quality_checks,
    run_gate,
)
from hikikomori.schemas.files import ReceivedFile, list_inbox, receive, remove_emptied_portal_uploads, unlisted_folder
from hikikomori.schemas.validation import ValidatedFile, validate_files
from hikikomori.settings import Settings
from hikikomori.warehouse import Connection, gate_runs, governance, queries
from hikikomori.warehouse.connection import checkpoint, connect
from hikikomori.warehouse.loading import load_reference
from hikikomori.warehouse.migrate import Migration, migrate
from hikikomori.warehouse.model_builds import ModelBuild, build_and_record, current_build, inputs_digest
from hikikomori.warehouse.models import load_project

PROGRESS_STEPS = 10  # a long load reports its progress about this many times


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    outcomes: list[TakenFile]
    outcome_targets: list[dict[str, object]]
    warehouse_path: str
    warnings: list[PlausibilityWarning] = field(default_factory=list)  # never rejections
    quality_results: list[CheckResult] = field(default_factory=list)
    # Accepted files of closed fiscal years: recorded as pending revisions, they changed no figure.
    pending_revisions: list[TakenFile] = field(default_factory=list)
    reporting_rates: list[dict[str, object]] = field(default_factory=list)  # marts.reporting_rates
    started_at: datetime | None = None  # as recorded in ops.pipeline_runs (shown in Japan time)
    # What went wrong after the run's work was committed (the run is complete all the same).
    notes: list[str] = field(default_factory=list)
    model_build: ModelBuild | None = None  # the build of the models, or the earlier one found current
    # The run whose evaluation the gate's results are (this run's own, or one taken over: quality.gate_runs).
    gate_evaluated_in: str | None = None

    def count(self, outcome: FileOutcome) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)


def prepare_warehouse(settings: Settings) -> list[Migration]:
    """Apply the warehouse's pending migrations (every writer does this first; a run under its lock)."""
    with writer(settings) as connection:
        return migrate(connection)


def record_deadline_calendar(settings: Settings, run_id: str) -> list[int]:
    """Record the deadline calendar given to this run (if any) in the warehouse, where it stays in effect
    for later rebuilds; returns the fiscal years whose deadline it changed. A calendar that cannot be read
    stops the run before any file is taken (``CalendarError``)."""
    if settings.calendar_path is None:
        return []
    deadlines = read_calendar(settings.calendar_path)
    with writer(settings) as connection:
        return governance.record_calendar(connection, deadlines, str(settings.calendar_path), run_id)


def load_reference_for(settings: Settings) -> ReferenceData:
    return load_reference_data(settings.reference_dir, settings.registry_path)


def collect_submissions(settings: Settings) -> list[ReceivedFile]:
    """Read every submission waiting in the inbox (only the requested fiscal years, if any).

    Never raises for a file: one that cannot be read is returned refused, with the reason; a folder
    that cannot be listed is returned as an entry refused the same way (it stays in the inbox).
    """
    started = datetime.now().timestamp()
    listing = list_inbox(settings.inbox_dir)
    received = [receive(path, settings.inbox_dir, settings.limits, now=started) for path in listing.files]
    if settings.fiscal_years:
        received = [item for item in received if item.name_fiscal_year in settings.fiscal_years]
    return received + [unlisted_folder(folder, issue) for folder, issue in listing.unlisted]


def validate_submissions(received: list[ReceivedFile], settings: Settings) -> list[ValidatedFile]:
    return validate_files(received, load_reference_for(settings), settings.as_of, settings.limits)


def load_submissions(
    validated: list[ValidatedFile],
    settings: Settings,
    run_id: str,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[TakenFile]:
    """Take the files in, in batches for progress.

    A file already recorded (by this run before a step was retried, or by an earlier run) is not
    recorded again: ``intake.take_in`` recognises it by name, content and time.
    """
    with writer(settings) as connection:
        # A run stopped between a file's removal and its upload folder's: the folder goes now, or stays
        # with its reason.
        outcomes = [left_folder(name, issue) for name, issue in remove_emptied_portal_uploads(settings.inbox_dir)]
        record_left_folders(connection, run_id, outcomes)
        remove_interrupted_writes(settings)
        batch_size = max(1, -(-len(validated) // PROGRESS_STEPS))
        outcomes += take_in(validated, settings, connection, run_id, batch_size=batch_size, on_progress=on_progress)
        # What the load logged goes into the file before the build reads it: a build over a long unwritten
        # log, then one checkpoint of both, cost 0.1–0.2 s more at 10,000 files than two checkpoints.
        checkpoint(connection)
        return outcomes


def rebuild_models(settings: Settings, run_id: str | None = None, *, rebuild: bool | None = None) -> ModelBuild:
    """Refresh the reference tables, then rebuild and comment every model in one transaction, recorded
    with the build's fingerprint (``hikikomori.warehouse.model_builds``).

    Nothing is built when the fingerprint equals the last build's (no input changed and the models are
    as that build left them): the warehouse already holds what a build would write. ``rebuild`` (default:
    the settings', ``hikikomori run --rebuild``) builds all the same.
    """
    inputs = inputs_digest([settings.sql_dir, settings.reference_dir, settings.registry_path])
    with writer(settings) as connection:
        if not (settings.rebuild_models if rebuild is None else rebuild):
            current = current_build(connection, inputs)
            if current is not None:
                return current
        project = load_project(settings.sql_dir)  # a model that cannot be built stops here, before any change
        load_reference(connection, load_reference_for(settings))
        return build_and_record(connection, project, inputs, run_id)


def describe_build(build: ModelBuild) -> str:
    """One line: the models built now, or current since an earlier build."""
    if build.built_now:
        return f"モデルを構築しました（{build.models} 件）/ built {build.models} models"
    since = build.built_at.astimezone(JAPAN).strftime("%Y-%m-%d %H:%M:%S JST")
    by = f"（実行 {build.run_id}）" if build.run_id else ""
    by_en = f" (run {build.run_id})" if build.run_id else ""
    return (
        f"モデルは最新（入力に変更なし、{since} の構築{by}のまま）/ models current: inputs unchanged since "
        f"the build of {since}{by_en}"
    )


def check_quality(settings: Settings, run_id: str) -> list[CheckResult]:
    """Run the data-quality gate and store its results; stop the run on a failure if the settings say so."""
    checks = quality_checks(settings.sql_dir)
    inputs = gate_inputs(settings.sql_dir, settings.reference_dir, settings.registry_path)
    with writer(settings) as connection:
        results = run_gate(connection, checks, run_id, inputs)
    message = gate_failure(results)
    if message and settings.quality_fails_run:
        raise QualityGateFailed(message)
    return results


def summarize(
    settings: Settings, run_id: str, outcomes: list[TakenFile], quality_results: list[CheckResult] | None = None
) -> RunSummary:
    with connect(settings.warehouse_path, read_only=True) as connection:
        targets = queries.outcome_targets(connection)
        rates = queries.reporting_rates(connection)
        warnings = run_warnings(connection, outcomes, settings)
        closed = queries.closed_fiscal_years(connection)
        started_at = queries.run_started_at(connection, run_id)
        gate_evaluated_in = gate_runs.evaluated_in(connection, run_id)
    pending = [item for item in outcomes if item.outcome is FileOutcome.ACCEPTED and item.fiscal_year in closed]
    return RunSummary(
        run_id,
        outcomes,
        _records(targets),
        str(settings.warehouse_path),
        warnings,
        quality_results or [],
        pending,
        _records(rates),
        started_at,
        gate_evaluated_in=gate_evaluated_in,
    )


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """A frame's rows as plain dicts, None where a value is missing."""
    return [
        {str(column): value for column, value in row.items()}
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]


def run_warnings(connection: Connection, outcomes: list[TakenFile], settings: Settings) -> list[PlausibilityWarning]:
    """Warnings for the files accepted in this run, on each file's own figures (its version, counted or
    a pending revision), against the center's counted previous year and the year's other centers."""
    accepted = [
        (item.file_name, item.center_code, item.fiscal_year, item.version)
        for item in outcomes
        if item.outcome is FileOutcome.ACCEPTED
        and item.center_code is not None
        and item.fiscal_year is not None
        and item.version is not None
    ]
    totals: dict[tuple[str, int, int], dict[str, int]] = {}
    for center, year, version, measure, total in queries.version_totals(
        connection, [(center, year, version) for _, center, year, version in accepted]
    ):
        totals.setdefault((center, year, version), {})[measure] = total
    files = [(name, center, year, totals.get((center, year, version), {})) for name, center, year, version in accepted]
    return warnings_for_accepted(connection, files, settings.change_warning_factor, outlier_rule(settings))
