"""Prefect configured offline and quiet, before Prefect is imported.

Without a configured API (``PREFECT_API_URL``) ``hikikomori run`` starts a temporary local server
(``hikikomori.flows.temporary_server``); these defaults keep it from looking up telemetry hosts and
give a cold machine time to start it. Anything the user has set in the environment wins.
"""

import os
from pathlib import Path

from hikikomori.settings import Settings


def configure_prefect_environment(settings: Settings) -> None:
    defaults = {
        "PREFECT_HOME": str(settings.prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        # The temporary server's task_run_recorder logs a traceback while it is stopped at exit;
        # its real failures reach the client as errors anyway.
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def server_startup_timeout() -> float:
    """How long a run waits for its temporary server to answer (Prefect's own setting)."""
    return float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
