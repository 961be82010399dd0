"""The temporary Prefect server ``hikikomori run`` starts for itself, and what stops it."""

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import AS_OF, make_settings, summary_referrals, write_submission

from hikikomori.flows.temporary_server import TemporaryServer

HIKIKOMORI = str(Path(sys.executable).with_name("hikikomori"))
ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")},
    "HIKIKOMORI_AS_OF": AS_OF.isoformat(),
}
WAIT_SECONDS = 120


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


@pytest.mark.integration
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopping_a_run_stops_its_temporary_server(tmp_path: Path, stop: signal.Signals) -> None:
    settings = make_settings(tmp_path)
    write_submission(settings.inbox_dir, "130001", 2015, 100, summary_referrals())
    settings.run_lock_path.parent.mkdir(parents=True)
    with settings.run_lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run holds the warehouse: this one waits inside its flow
        run = subprocess.Popen(
            [HIKIKOMORI, "run", "--inbox", str(settings.inbox_dir), "--warehouse", str(settings.warehouse_path)],
            env={**ENVIRONMENT, "PREFECT_HOME": str(tmp_path / "prefect")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert run.stdout is not None
            seen = []
            for line in run.stdout:  # until the flow runs on the temporary server and waits for the lock
                seen.append(line)
                if "another run holds" in line:
                    break
            else:
                pytest.fail("".join(seen[-30:]))
            (server,) = [pid for pid in children(run.pid) if "hikikomori.flows.temporary_server" in command_line(pid)]

            run.send_signal(stop)
            run.wait(timeout=WAIT_SECONDS)
            deadline = time.monotonic() + WAIT_SECONDS
            while alive(server) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not alive(server), f"the temporary server {server} outlived the run"
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    assert (settings.inbox_dir / "130001_2015.csv").exists()  # nothing taken in


def test_the_temporary_server_answers_on_the_port_it_was_given_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith("PREFECT_")]:
        monkeypatch.delenv(name)
    # Offline and quiet, as a run configures it (hikikomori.flows.prefect_setup).
    for name, value in {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    }.items():
        monkeypatch.setenv(name, value)

    server = TemporaryServer()
    try:
        server.wait_until_ready(timeout=WAIT_SECONDS)
        assert server.api_url == f"http://127.0.0.1:{server.port}/api"
    finally:
        server.stop()
    assert server.process.returncode is not None


def test_what_runs_before_the_server_starts_imports_nothing_heavy() -> None:
    # hikikomori run checks its settings, stop handling and free space, then starts the server: each
    # module it needs for that must not delay the start by importing Prefect, pandas or DuckDB.
    script = (
        "import sys\n"
        "import hikikomori.cli, hikikomori.flows.prefect_setup, hikikomori.flows.temporary_server\n"
        "import hikikomori.pipeline.stops\n"
        "print(sorted(name for name in ('prefect', 'pandas', 'duckdb') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_the_runs_parameters_are_recorded_as_prefect_records_them_without_importing_fastapi() -> None:
    # Prefect converts a flow's parameters with FastAPI's jsonable_encoder, importing FastAPI's whole
    # application stack into the run; hikikomori-run's parameters are plain JSON and recorded as they are.
    script = (
        "import sys\n"
        "from prefect import Flow\n"
        "from hikikomori.flows.hikikomori_run import hikikomori_run\n"
        "plain = {'inbox': '/in', 'warehouse': None, 'fiscal_years': [2016, 2017],\n"
        "         'run_lock_timeout_seconds': 1.5, 'calendar': None, 'rebuild': True}\n"
        "ours = hikikomori_run.serialize_parameters(plain)\n"
        "print('fastapi' in sys.modules)\n"
        "print(ours == Flow.serialize_parameters(hikikomori_run, plain), 'fastapi' in sys.modules)\n"
        "print(hikikomori_run.serialize_parameters({'inbox': object()}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    assert result.stdout.splitlines() == ["False", "True True", "{'inbox': '<object>'}"]
