"""The steps of ``hikikomori run`` as plain functions; ``flows/`` wires them into Prefect.

prepare (migrations) → discover → validate → load (archive/quarantine, one transaction per batch)
→ build models → quality gate → summary. Each step opens one connection to the warehouse.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hikikomori.domain.reference import ReferenceData, load_reference_data
from hikikomori.domain.vocabulary import FileOutcome
from hikikomori.pipeline.intake import TakenFile, take_in
from hikikomori.pipeline.plausibility import PlausibilityWarning, warehouse_totals, warnings_for_accepted
from hikikomori.pipeline.quality import (
    CheckResult,
    QualityGateFailed,
    check_warehouse,
    gate_failure,
    quality_checks,
    store_results,
)
from hikikomori.schemas.files import ReceivedFile, discover_submissions, receive, remove_emptied_portal_uploads
from hikikomori.schemas.validation import ValidatedFile, validate_files
from hikikomori.settings import Settings
from hikikomori.warehouse import Connection, queries
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.loading import load_reference
from hikikomori.warehouse.migrate import Migration, migrate
from hikikomori.warehouse.models import build_models, load_project

PROGRESS_STEPS = 10  # a long load reports its progress about this many times


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    outcomes: list[TakenFile]
    outcome_targets: list[dict[str, object]]
    warehouse_path: str
    warnings: list[PlausibilityWarning] = field(default_factory=list)  # never rejections
    quality_results: list[CheckResult] = field(default_factory=list)
    started_at: datetime | None = None  # as recorded in ops.pipeline_runs (shown in Japan time)

    def count(self, outcome: FileOutcome) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)


def prepare_warehouse(settings: Settings) -> list[Migration]:
    """Apply the warehouse's pending migrations (every writer does this first; a run under its lock)."""
    with connect(settings.warehouse_path) as connection:
        return migrate(connection)


def load_reference_for(settings: Settings) -> ReferenceData:
    return load_reference_data(settings.reference_dir, settings.registry_path)


def collect_submissions(settings: Settings) -> list[ReceivedFile]:
    """Read every submission waiting in the inbox (only the requested fiscal years, if any)."""
    started = datetime.now().timestamp()
    received = [
        receive(path, settings.inbox_dir, settings.limits, now=started)
        for path in discover_submissions(settings.inbox_dir)
    ]
    if settings.fiscal_years:
        received = [item for item in received if item.name_fiscal_year in settings.fiscal_years]
    return received


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
    remove_emptied_portal_uploads(settings.inbox_dir)  # a run stopped between a file's removal and its folder's
    with connect(settings.warehouse_path) as connection:
        outcomes: list[TakenFile] = []
        step = max(1, -(-len(validated) // PROGRESS_STEPS))
        for start in range(0, len(validated), step):
            outcomes += take_in(validated[start : start + step], settings, connection, run_id)
            if on_progress:
                on_progress(len(outcomes), len(validated))
        return outcomes


def rebuild_models(settings: Settings) -> list[str]:
    """Refresh the reference tables, then rebuild and comment every model in one transaction."""
    project = load_project(settings.sql_dir)  # a model that cannot be built stops here, before any change
    with connect(settings.warehouse_path) as connection:
        load_reference(connection, load_reference_for(settings))
        return build_models(connection, project)


def check_quality(settings: Settings, run_id: str) -> list[CheckResult]:
    """Run the data-quality gate and store its results; stop the run on a failure if the settings say so."""
    checks = quality_checks(settings.sql_dir)
    with connect(settings.warehouse_path) as connection:
        results = check_warehouse(connection, checks)
        store_results(connection, results, run_id)
    message = gate_failure(results)
    if message and settings.quality_fails_run:
        raise QualityGateFailed(message)
    return results


def summarize(
    settings: Settings, run_id: str, outcomes: list[TakenFile], quality_results: list[CheckResult] | None = None
) -> RunSummary:
    with connect(settings.warehouse_path, read_only=True) as connection:
        targets = queries.outcome_targets(connection)
        warnings = run_warnings(connection, outcomes, settings.change_warning_factor)
        started_at = queries.run_started_at(connection, run_id)
    return RunSummary(
        run_id,
        outcomes,
        [
            {str(column): value for column, value in row.items()}
            for row in targets.astype(object).where(targets.notna(), None).to_dict("records")
        ],
        str(settings.warehouse_path),
        warnings,
        quality_results or [],
        started_at,
    )


def run_warnings(connection: Connection, outcomes: list[TakenFile], factor: float) -> list[PlausibilityWarning]:
    """Warnings for the files accepted in this run, from the rebuilt models (the latest versions)."""
    pairs = [
        (item.file_name, item.center_code, item.fiscal_year)
        for item in outcomes
        if item.outcome is FileOutcome.ACCEPTED and item.center_code is not None and item.fiscal_year is not None
    ]
    current = warehouse_totals(connection, [(center, year) for _, center, year in pairs])
    accepted = [(name, center, year, current.get((center, year), {})) for name, center, year in pairs]
    return warnings_for_accepted(connection, accepted, factor)
