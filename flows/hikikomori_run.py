"""The main pipeline as a Prefect flow: discover → validate → load → build models → quality gate → summary.

A handful of tasks for the whole batch, not one per file: Prefect's per-task overhead would
dominate a run of thousands of small files. Every flow (this one and ``flows/production.py``)
runs the steps through ``run_pipeline``: one run at a time, audited, analysts' copy published.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from prefect import Flow, Task, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.exceptions import TerminationSignal
from prefect.runtime import flow_run
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import State
from prefect.utilities.annotations import quote

from hikikomori.pipeline import memory, operations, stops
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.intake import TakenFile
from hikikomori.pipeline.quality import CheckResult
from hikikomori.schemas.files import ReceivedFile
from hikikomori.schemas.validation import ValidatedFile
from hikikomori.settings import Settings, load_settings
from hikikomori.warehouse.errors import retry_can_fix
from hikikomori.warehouse.model_builds import ModelBuild

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
RETRIES = 2  # for load, build-models and summary: safe to retry (a retried load skips what its run recorded)
RETRY_DELAY_SECONDS = 2


def retry_only_what_a_retry_can_fix(failed_task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect's ``retry_condition_fn``: retry an I/O, lock or transaction-conflict error, nothing else.

    A model's SQL error or a bug fails the same way on every attempt: the run fails at once with it.
    """
    try:
        state.result()
    except Exception as error:
        return retry_can_fix(error)
    return False


def unwalked(value: T) -> T:
    """``value`` as a task argument Prefect passes on without walking it for upstream futures.

    Without it Prefect walks every element of the per-file lists (thousands of files, their issues
    and rows) before each task starts. The task receives ``value`` itself: ``quote`` is unwrapped.
    """
    return cast(T, quote(value))


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


@task(
    name="load",
    cache_policy=NO_CACHE,
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_only_what_a_retry_can_fix,
)
def load(validated: list[ValidatedFile], settings: Settings, run_id: str) -> list[TakenFile]:
    logger = get_run_logger()
    return pipeline.load_submissions(
        validated,
        settings,
        run_id,
        on_progress=lambda done, total: logger.info("取込 taken in %d/%d", done, total),
    )


@task(
    name="build-models",
    cache_policy=NO_CACHE,
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_only_what_a_retry_can_fix,
)
def build_models(settings: Settings, run_id: str | None = None) -> ModelBuild:
    build = pipeline.rebuild_models(settings, run_id)
    get_run_logger().info("%s", pipeline.describe_build(build))
    return build


@task(name="quality-gate", cache_policy=NO_CACHE)
def quality_gate(settings: Settings, run_id: str) -> list[CheckResult]:
    return pipeline.check_quality(settings, run_id)


@task(
    name="summary",
    cache_policy=NO_CACHE,
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_only_what_a_retry_can_fix,
)
def summarize(
    settings: Settings, run_id: str, outcomes: list[TakenFile], quality_results: list[CheckResult]
) -> pipeline.RunSummary:
    summary = pipeline.summarize(settings, run_id, outcomes, quality_results)
    create_table_artifact(
        key="outcome-targets",
        table=summary.outcome_targets,
        description="成果目標の判定 (outcome-target verdicts per fiscal year)",
    )
    return summary


# The summaries of runs whose work is committed, for ``run_in_foreground`` (see there).
_COMMITTED: ContextVar[list[pipeline.RunSummary] | None] = ContextVar("hikikomori_committed_runs", default=None)


def flow_result(summary: pipeline.RunSummary) -> quote:
    """What a flow returns: its summary, which Prefect passes on without walking (``.unquote()`` gives it).

    Prefect looks for futures in whatever a flow returns; in a summary of 10,000 files that walk took
    ≈ 0.8 s at the end of the run.
    """
    return quote(summary)


def run_pipeline(settings: Settings) -> pipeline.RunSummary:
    """The steps inside the current flow run, holding the warehouse and recorded in ops.pipeline_runs.

    Once the run is recorded completed its work is committed, and nothing after it reports the run
    failed: the summary (which only reads) falls back to the plain step if its task cannot be run.
    """
    run_id = str(flow_run.get_id())
    # What was imported, then each file read and validated: out of the cycle collector's sight until the
    # summary is made (``pipeline/memory.py``).
    with memory.run_objects_frozen() as freeze:
        with (
            stops.stops_noted(),
            operations.audited_run(settings, run_id, str(flow_run.get_flow_name()), get_run_logger().warning) as audit,
        ):
            pipeline.record_deadline_calendar(settings, run_id)  # stays in effect for every later rebuild
            received = discover(settings)
            freeze()
            audit.files_seen = len(received)
            validated = validate(unwalked(received), settings)
            freeze()
            outcomes = load(unwalked(validated), settings, run_id)
            build = build_models(settings, run_id)
            # A failed gate raises: the run is recorded as failed and the analysts' copy is not replaced.
            quality_results = quality_gate(settings, run_id)
        committed = _COMMITTED.get()
        if committed is not None:
            committed.append(pipeline.RunSummary(run_id, outcomes, [], str(settings.warehouse_path), notes=audit.notes))
        try:
            summary = summarize(settings, run_id, unwalked(outcomes), quality_results)
        except Exception as error:  # e.g. Prefect's server unreachable: the summary is read without a task
            summary = pipeline.summarize(settings, run_id, outcomes, quality_results)
            audit.notes.append(
                f"要約はタスクとして記録できませんでした / the summary task failed: {stops.one_line(error)}"
            )
    summary = replace(summary, notes=[*summary.notes, *audit.notes], model_build=build)
    if committed is not None:
        committed[-1] = summary
    return summary


class _PlainParametersFlow(Flow[P, R]):
    """A flow whose parameters are JSON values already (paths as text, years, a number, a flag, None):
    recorded on Prefect's server as they are.

    Prefect's own ``serialize_parameters`` converts each value with FastAPI's ``jsonable_encoder``,
    which imports FastAPI's whole application stack into the run (≈ 0.2 s of CPU measured, on every
    run) to give back the same values. Any value that is not plain JSON still goes through it.
    """

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if all(_plain_json(value) for value in parameters.values()):
            return dict(parameters)
        return super().serialize_parameters(parameters)


def _plain_json(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, list) and all(_plain_json(item) for item in value)


def plain_parameters_flow(name: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """``@flow(name=…, log_prints=False)`` for a flow whose parameters are plain JSON values."""

    def decorate(function: Callable[P, R]) -> Flow[P, R]:
        return _PlainParametersFlow(function, name=name, log_prints=False)

    return decorate


@plain_parameters_flow(name="hikikomori-run")
def hikikomori_run(
    inbox: str | None = None,
    warehouse: str | None = None,
    registry: str | None = None,
    fiscal_years: list[int] | None = None,
    run_lock_timeout_seconds: float | None = None,
    calendar: str | None = None,
    rebuild: bool = False,
) -> quote:
    """Take every submission in the inbox into the warehouse and rebuild the national tables."""
    settings = load_settings(
        inbox=Path(inbox) if inbox else None,
        warehouse=Path(warehouse) if warehouse else None,
        registry=Path(registry) if registry else None,
        fiscal_years=tuple(fiscal_years or ()),
        run_lock_timeout_seconds=run_lock_timeout_seconds,
        calendar=Path(calendar) if calendar else None,
        rebuild_models=rebuild,
    )
    return flow_result(run_pipeline(settings))


def run_in_foreground(settings: Settings) -> pipeline.RunSummary:
    """``hikikomori run``: one flow run of ``hikikomori_run`` with these settings, in this process.

    Once the run's work is committed (recorded completed in ops.pipeline_runs), a failure of Prefect's
    own bookkeeping after it (reporting the flow run's final state to its temporary server) is a note
    of the summary, never the run's failure. A stop (SIGTERM inside the flow run) is ``RunStopped``.
    """
    committed: list[pipeline.RunSummary] = []
    token = _COMMITTED.set(committed)
    # A heartbeat thread per flow run costs about a second and guards nothing in a run in the foreground.
    try:
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            return hikikomori_run(
                inbox=str(settings.inbox_dir),
                warehouse=str(settings.warehouse_path),
                registry=str(settings.registry_path),
                fiscal_years=list(settings.fiscal_years),
                run_lock_timeout_seconds=settings.run_lock_timeout_seconds,
                calendar=str(settings.calendar_path) if settings.calendar_path else None,
                rebuild=settings.rebuild_models,
            ).unquote()
    except TerminationSignal as stop:
        raise stops.RunStopped(stop.signal) from stop
    except Exception as error:
        if not committed:
            raise
        note = (
            "Prefect がフロー実行の終了を記録できませんでした（取込と集計は完了しています）/ Prefect could not "
            f"record the end of the flow run; the run's work is committed: {stops.one_line(error)}"
        )
        return replace(committed[-1], notes=[*committed[-1].notes, note])
    finally:
        _COMMITTED.reset(token)
