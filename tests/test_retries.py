"""Retries only for what a retry can fix: the warehouse locked or busy, a passing I/O error.

A model's SQL error fails the same way on every attempt, so the run fails at once with its cause.
"""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from prefect.states import Failed
from support import AS_OF, sql_with_a_broken_mart

from hikikomori.flows import hikikomori_run
from hikikomori.flows.hikikomori_run import retry_only_what_a_retry_can_fix
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.operations import WarehouseBusy
from hikikomori.settings import Settings

HOLD_THE_WAREHOUSE = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
"""


def retried(error: BaseException) -> bool:
    """Whether Prefect would retry a task that failed with this error."""
    return retry_only_what_a_retry_can_fix(hikikomori_run.build_models, None, Failed(data=error))


def test_a_model_sql_error_is_not_retried(workspace: Settings, tmp_path: Path) -> None:
    workspace = replace(workspace, sql_dir=sql_with_a_broken_mart(workspace.sql_dir, tmp_path))

    pipeline.prepare_warehouse(workspace)  # a run applies the migrations before it builds

    with pytest.raises(duckdb.CatalogException, match="no_such_model") as raised:
        pipeline.rebuild_models(workspace)

    assert not retried(raised.value)


def test_the_warehouse_locked_by_another_process_is_waited_for_then_named(
    workspace: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    """A step waits for the warehouse as a run waits for the run lock (bounded), then names the holder.

    Waiting is the retry: a wait that ran out is not retried again by Prefect.
    """
    workspace.warehouse_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WAREHOUSE, str(workspace.warehouse_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseBusy, match=rf"\(PID {holder.pid}\)\) after 1 s; analysts should open") as raised:
            pipeline.rebuild_models(replace(workspace, run_lock_timeout_seconds=1))
    finally:
        holder.communicate("done\n", timeout=60)

    assert "Waiting up to 1 s" in capfd.readouterr().err
    assert not retried(raised.value)


def test_a_lock_error_raised_by_duckdb_itself_is_retried() -> None:
    assert retried(duckdb.IOException('IO Error: Could not set lock on file "h.duckdb"'))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError("No space left on device"), True),
        (duckdb.TransactionException("TransactionContext Error: Conflict on tuple deletion!"), True),
        (RuntimeError("while loading"), False),
        (KeyError("a bug"), False),
        (duckdb.BinderException('Referenced column "x" not found'), False),
        (duckdb.ParserException("syntax error"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_only_io_lock_and_conflict_errors_are_retried(error: BaseException, expected: bool) -> None:
    assert retried(error) is expected


def test_an_io_error_raised_as_the_cause_of_another_is_retried() -> None:
    try:
        try:
            raise OSError("the archive is briefly unavailable")
        except OSError as cause:
            raise RuntimeError("could not store the file") from cause
    except RuntimeError as error:
        assert retried(error)


def test_the_steps_that_write_retry_and_the_others_do_not() -> None:
    tasks = {
        task.name: task
        for task in (
            hikikomori_run.discover,
            hikikomori_run.validate,
            hikikomori_run.load,
            hikikomori_run.build_models,
            hikikomori_run.quality_gate,
            hikikomori_run.summarize,
        )
    }
    retrying = {name for name, task in tasks.items() if task.retries}
    assert retrying == {"load", "build-models", "summary"}
    assert all(tasks[name].retry_condition_fn is retry_only_what_a_retry_can_fix for name in retrying)


FLAKY_FLOW_RUN = """
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hikikomori.flows.prefect_setup import configure_prefect_environment
from hikikomori.settings import load_settings

root = Path(sys.argv[1])
settings = load_settings(inbox=root / "inbox", warehouse=root / "warehouse" / "h.duckdb")
configure_prefect_environment(settings)
from prefect import flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from hikikomori.flows.hikikomori_run import build_models
from hikikomori.pipeline import steps
from hikikomori.warehouse.model_builds import ModelBuild

attempts = []


def rebuild_failing_once_with(error):
    def rebuild(settings, run_id=None):
        attempts.append(error)
        if len(attempts) == 1:
            raise error
        return ModelBuild(1, run_id, datetime.now(UTC), 0, built_now=True)

    return rebuild


@flow
def two_builds():
    # The flow's own build-models task, as configured (retries, delay, retry condition).
    lock_error = duckdb.IOException('Could not set lock on file "h.duckdb"')
    for error in (lock_error, duckdb.CatalogException("Table staging.no_such_model does not exist")):
        attempts.clear()
        steps.rebuild_models = rebuild_failing_once_with(error)
        state = build_models(settings, return_state=True)
        print(type(error).__name__, "attempts", len(attempts), state.type.value, flush=True)


with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
    two_builds()
"""


@pytest.mark.integration
def test_a_real_flow_run_retries_a_lock_error_and_not_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    environment = {**os.environ, "HIKIKOMORI_AS_OF": AS_OF.isoformat()}
    result = subprocess.run(
        [sys.executable, "-c", FLAKY_FLOW_RUN, str(tmp_path)],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.splitlines() == ["IOException attempts 2 COMPLETED", "CatalogException attempts 1 FAILED"], (
        result.stdout + result.stderr[-3000:]
    )
