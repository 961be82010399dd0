"""The steps of ``hikikomori run`` as plain functions; ``flows/`` wires them into Prefect.

discover → validate → load (archive/quarantine, one transaction per run) → build models → summary
"""

from dataclasses import dataclass

from hikikomori.intake import FileOutcome, take_in
from hikikomori.reference import ReferenceData, load_reference_data
from hikikomori.settings import Settings
from hikikomori.submission_files import ReceivedFile, discover_submissions, receive
from hikikomori.validation import ValidatedFile, validate_files
from warehouse.connection import connect
from warehouse.loading import load_reference
from warehouse.models import build_models


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    outcomes: list[FileOutcome]
    outcome_targets: list[dict[str, object]]
    warehouse_path: str

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)


def load_reference_for(settings: Settings) -> ReferenceData:
    return load_reference_data(settings.reference_dir, settings.registry_path)


def collect_submissions(settings: Settings) -> list[ReceivedFile]:
    """Read every submission waiting in the inbox (only the requested fiscal years, if any)."""
    received = [receive(path, settings.inbox_dir) for path in discover_submissions(settings.inbox_dir)]
    if settings.fiscal_years:
        received = [item for item in received if item.name_fiscal_year in settings.fiscal_years]
    return received


def validate_submissions(received: list[ReceivedFile], settings: Settings) -> list[ValidatedFile]:
    return validate_files(received, load_reference_for(settings), settings.as_of)


def load_submissions(validated: list[ValidatedFile], settings: Settings, run_id: str) -> list[FileOutcome]:
    with connect(settings.warehouse_path) as connection:
        return take_in(validated, settings, connection, run_id)


def rebuild_models(settings: Settings) -> list[str]:
    """Refresh the reference tables, then rebuild every model from the raw tables."""
    with connect(settings.warehouse_path) as connection:
        load_reference(connection, load_reference_for(settings))
        return build_models(connection, settings.sql_dir)


def summarize(settings: Settings, run_id: str, outcomes: list[FileOutcome]) -> RunSummary:
    with connect(settings.warehouse_path, read_only=True) as connection:
        targets = connection.execute(
            """
            select fiscal_year, fiscal_year_label, target, actual, baseline, centers_previous,
                   centers_current, round(target_value, 1) as target_value, status
            from marts.outcome_targets
            order by fiscal_year, target
            """
        ).df()
    return RunSummary(
        run_id,
        outcomes,
        targets.astype(object).where(targets.notna(), None).to_dict("records"),
        str(settings.warehouse_path),
    )
