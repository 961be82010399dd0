"""Prefect's temporary API server for ``hikikomori run``, started before anything heavy is imported.

With no Prefect server configured (``PREFECT_API_URL``), Prefect's client starts a temporary one the
first time a flow needs its API: it imports the server's whole application into the run's process
(≈ 2.5 s), then starts the server in a subprocess that imports it again and boots (≈ 3–4 s), one
after the other. ``hikikomori run`` starts that same server itself, as the first thing it does: the
application Prefect serves (``prefect.server.api.server:create_app``, under uvicorn, with the
environment Prefect gives its temporary server: no UI, the services of an ephemeral server), with the
database in Prefect's home as before. Prefect is then pointed at it with ``PREFECT_API_URL``. The
server boots on one core while the run imports Prefect, pandas and DuckDB on the other, and the run's
own process never imports the server.

The listening socket is opened here, on a free loopback port, and handed to the server process, so
no port is picked by chance and taken by another process in between. The server lives as long as
the run: stopped when the run ends, however it ends (after Prefect's queued events and logs are sent
to it), and by the kernel when the run's process dies without stopping it (``PR_SET_PDEATHSIG`` on
Linux: SIGTERM or SIGKILL to ``hikikomori run`` leaves no server behind).
"""

import gc
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# What Prefect's own temporary server runs with (prefect.server.api.server.SubprocessASGIServer).
SERVER_ENVIRONMENT = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
# Unless set otherwise: no automations (their triggers and actions services took ≈ 0.3 s of the start);
# nobody can define one on a server that lives for one run and has no UI.
SERVER_DEFAULTS = {"PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false"}
STOP_TIMEOUT_SECONDS = 5.0  # then killed, as Prefect does
DRAIN_TIMEOUT_SECONDS = 30.0  # Prefect's queued events and logs, sent before the server stops
_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ServerStartError(RuntimeError):
    """The temporary server exited or did not answer in time."""


class TemporaryServer:
    """Prefect's API server in a child process, listening on a loopback port chosen here."""

    def __init__(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        try:
            self.port: int = listener.getsockname()[1]
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(listener.fileno()), str(os.getpid())],
                env={**SERVER_DEFAULTS, **os.environ, **SERVER_ENVIRONMENT},
                pass_fds=(listener.fileno(),),
            )
        finally:
            listener.close()  # the server process holds its own copy

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_until_ready(self, timeout: float) -> None:
        """Return once the server answers its health check; raise if it exits or stays silent ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServerStartError(f"Prefect's temporary server exited with code {code} before it answered")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerStartError(f"Prefect's temporary server did not answer within {timeout:g} s")
            if self._healthy(min(remaining, 5.0)):
                return
            time.sleep(_POLL_SECONDS)

    def _healthy(self, timeout: float) -> bool:
        # The socket already listens: the request waits in its queue until the server accepts it.
        # http.client, not urllib: a proxy configured for the machine must not see loopback requests.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", "/api/health")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def prefect_api(startup_timeout: float) -> Iterator[TemporaryServer | None]:
    """The Prefect API the run talks to: the configured one, else a temporary server started now.

    Call before Prefect is imported (Prefect reads ``PREFECT_API_URL`` then). Yields the temporary
    server (``wait_until_ready`` before the first flow), or None when ``PREFECT_API_URL`` is set.
    """
    if os.environ.get("PREFECT_API_URL"):
        yield None
        return
    server = TemporaryServer()
    os.environ["PREFECT_API_URL"] = server.api_url
    # The temporary server has no UI and is gone after the run: no "View at http://127.0.0.1:…" link.
    no_ui_link = "PREFECT_UI_URL" not in os.environ
    if no_ui_link:
        os.environ["PREFECT_UI_URL"] = ""
    try:
        yield server
    finally:
        try:
            send_what_prefect_queued()
        finally:
            server.stop()
            os.environ.pop("PREFECT_API_URL", None)
            if no_ui_link:
                os.environ.pop("PREFECT_UI_URL", None)


def send_what_prefect_queued() -> None:
    """Prefect sends task runs' events and the runs' logs from background queues, at exit at the
    latest: send them now, while the server still runs."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        worker.drain_all(timeout=DRAIN_TIMEOUT_SECONDS)


def _serve(listener_fd: int, parent_pid: int) -> None:
    """The server process: Prefect's application on the inherited socket, until SIGTERM.

    Its boot is mostly importing Prefect's server and building its application, objects the process
    keeps to its end: made with the cycle collector paused, then frozen out of its sight (2.1–2.3 s →
    1.6 s: ``pipeline/memory.py``).
    """
    _end_with(parent_pid)
    from hikikomori.pipeline.memory import collector_paused

    with collector_paused():
        import uvicorn

        config = uvicorn.Config("prefect.server.api.server:create_app", factory=True, log_level="error", lifespan="on")
        config.load()  # imports the server and makes its application
        gc.freeze()
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=listener_fd)])


def _end_with(parent_pid: int) -> None:
    """Be sent SIGTERM when the run's process dies (Linux); exit now if it is already gone."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        sys.exit(0)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
