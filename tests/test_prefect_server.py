"""prefect.yaml is real: deploy it to a Prefect server on loopback, trigger annual-report, run a worker once."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import AS_OF, REPO_ROOT, query, summary_referrals, write_submission

PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "hikikomori"
SERVER_START_TIMEOUT_SECONDS = 300
COMMAND_TIMEOUT_SECONDS = 600


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A Prefect server of our own (own PREFECT_HOME, free port); yields the environment that talks to it."""
    port = free_loopback_port()
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_", "HIKIKOMORI_"))},
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        # Nothing here is scheduled to run now; only the run the test triggers should exist.
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "HIKIKOMORI_DATA_DIR": str(tmp_path / "data"),
        "HIKIKOMORI_AS_OF": AS_OF.isoformat(),
        "HIKIKOMORI_SETTLE_SECONDS": "0",  # the files are written just before the run
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so every process it started is stopped with it
    )
    try:
        wait_until_healthy(server, port, tmp_path / "server.log")
        yield environment
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def answers_health_check(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
            return response.status == 200
    except OSError:  # not listening yet (connection refused) or still starting (timeout)
        return False


def wait_until_healthy(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"prefect server exited: {log.read_text(encoding='utf-8')[-3000:]}")
        if answers_health_check(port):
            return
        time.sleep(1)
    pytest.fail(f"prefect server did not start: {log.read_text(encoding='utf-8')[-3000:]}")


def prefect(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [PREFECT, *arguments],
        env=environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, f"prefect {' '.join(arguments)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.integration
def test_annual_report_deployment_runs_on_a_worker(prefect_server: dict[str, str]) -> None:
    data_dir = Path(prefect_server["HIKIKOMORI_DATA_DIR"])
    inbox = data_dir / "inbox"
    write_submission(inbox, "130001", 2015, 100, summary_referrals(npo=3))
    write_submission(inbox, "270008", 2015, 40, summary_referrals())
    other_year = write_submission(inbox, "270008", 2014, 30, summary_referrals())

    prefect(prefect_server, "work-pool", "create", POOL, "--type", "process")
    deployed = prefect(prefect_server, "--no-prompt", "deploy", "--all")
    assert all(name in deployed for name in ("annual-report", "intake", "backfill"))
    deployment = json.loads(
        prefect(prefect_server, "deployment", "inspect", "hikikomori-annual-report/annual-report", "-o", "json")
    )
    (schedule,) = deployment["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == ("0 7 1 7 *", "Asia/Tokyo")

    triggered = prefect(
        prefect_server, "deployment", "run", "hikikomori-annual-report/annual-report", "-p", "fiscal_year=2015"
    )
    flow_run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", triggered).group(1)
    prefect(prefect_server, "worker", "start", "--pool", POOL, "--run-once")

    flow_run = json.loads(prefect(prefect_server, "flow-run", "inspect", flow_run_id, "-o", "json"))
    assert flow_run["state"]["type"] == "COMPLETED", flow_run["state"]
    artifacts = json.loads(prefect(prefect_server, "artifact", "inspect", "outcome-targets", "-o", "json"))
    assert [artifact["flow_run_id"] for artifact in artifacts] == [flow_run_id]
    warehouse = data_dir / "warehouse" / "hikikomori.duckdb"
    (run,) = query(warehouse, "select * from ops.pipeline_runs").itertuples()
    assert (run.run_id, run.flow_name, run.status) == (flow_run_id, "hikikomori-annual-report", "completed")
    assert (list(run.fiscal_years_requested), run.files_accepted) == ([2015], 2)
    assert other_year.exists()  # another fiscal year: left in the inbox
    analysts = data_dir / "warehouse" / "hikikomori_analytics.duckdb"
    assert query(analysts, "select consultations from marts.consultation_totals").consultations.tolist() == [140]
