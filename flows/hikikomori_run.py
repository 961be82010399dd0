"""The main pipeline as a Prefect flow: discover → validate → load → build models → summary.

A handful of tasks for the whole batch, not one per file: Prefect's per-task overhead would
dominate a run of thousands of small files.
"""

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from hikikomori import pipeline
from hikikomori.intake import FileOutcome
from hikikomori.settings import Settings, load_settings
from hikikomori.submission_files import ReceivedFile
from hikikomori.validation import ValidatedFile


@task(name="discover", cache_policy=NO_CACHE)
def discover(settings: Settings) -> list[ReceivedFile]:
    received = pipeline.collect_submissions(settings)
    get_run_logger().info("%d file(s) in %s", len(received), settings.inbox_dir)
    return received


@task(name="validate", cache_policy=NO_CACHE)
def validate(received: list[ReceivedFile], settings: Settings) -> list[ValidatedFile]:
    validated = pipeline.validate_submissions(received, settings)
    rejected = sum(not result.accepted for result in validated)
    get_run_logger().info("%d valid, %d rejected", len(validated) - rejected, rejected)
    return validated


@task(name="load", cache_policy=NO_CACHE)
def load(validated: list[ValidatedFile], settings: Settings, run_id: str) -> list[FileOutcome]:
    return pipeline.load_submissions(validated, settings, run_id)


@task(name="build-models", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def build_models(settings: Settings) -> list[str]:
    return pipeline.rebuild_models(settings)


@task(name="summary", cache_policy=NO_CACHE)
def summarize(settings: Settings, run_id: str, outcomes: list[FileOutcome]) -> pipeline.RunSummary:
    summary = pipeline.summarize(settings, run_id, outcomes)
    create_table_artifact(
        key="outcome-targets",
        table=summary.outcome_targets,
        description="成果目標の判定 (outcome-target verdicts per fiscal year)",
    )
    return summary


@flow(name="hikikomori-run", log_prints=False)
def hikikomori_run(
    inbox: str | None = None,
    warehouse: str | None = None,
    registry: str | None = None,
    fiscal_years: list[int] | None = None,
) -> pipeline.RunSummary:
    """Take every submission in the inbox into the warehouse and rebuild the national tables."""
    settings = load_settings(
        inbox=Path(inbox) if inbox else None,
        warehouse=Path(warehouse) if warehouse else None,
        registry=Path(registry) if registry else None,
        fiscal_years=tuple(fiscal_years or ()),
    )
    run_id = str(flow_run.get_id())
    received = discover(settings)
    # quote(): Prefect would otherwise walk every element of these per-file lists (thousands of
    # files, their issues and rows) looking for upstream futures before each task starts.
    validated = validate(quote(received), settings)
    outcomes = load(quote(validated), settings, run_id)
    build_models(settings)
    return summarize(settings, run_id, quote(outcomes))
