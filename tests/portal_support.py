"""Fixtures and helpers for the portal's tests (registered by conftest.py as a plugin).

The Django test client drives the pages and the API in-process; ``portal`` points the portal at a
test's own inbox, warehouse and analysts' copy. ``served_portal`` runs the real ``hikikomori serve``.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from support import AS_OF, NO_SETTLE_TIME, detailed_referrals, make_settings

from hikikomori.settings import Settings

PASSWORD = "correct-horse-battery-9"
TOKYO, HOKKAIDO = "130001", "010006"
_SERVER_START_SECONDS = 60


@pytest.fixture
def portal(settings: object, tmp_path: Path, db: None) -> Settings:
    """The portal's settings for one test: its own folders (Django's test database)."""
    ours = make_settings(tmp_path)
    settings.HIKIKOMORI = ours  # type: ignore[attr-defined]
    return ours


def account(username: str, center_code: str | None = TOKYO, *, admin: bool = False) -> object:
    from hikikomori.portal.accounts import create_account
    from hikikomori.portal.uploads import reference_data

    user, _ = create_account(reference_data(), username, center_code=center_code, password=PASSWORD, admin=admin)
    return user


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def csv_bytes(center_code: str = TOKYO, fiscal_year: int = 2016, consultations: int = 1520, **referrals: int) -> bytes:
    """A canonical CSV of the detailed form (FY2016 on); referral categories zero unless given."""
    lines = [
        "center_code,fiscal_year,measure,category,count",
        f"{center_code},{fiscal_year},consultations,total,{consultations}",
    ]
    lines += [
        f"{center_code},{fiscal_year},referrals,{category},{count}"
        for category, count in detailed_referrals(**referrals).items()
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def upload_file(client: Client, name: str, content: bytes, **extra: object) -> object:
    return client.post("/upload", {"file": SimpleUploadedFile(name, content)}, **extra)


def portal_folders(inbox: Path) -> list[Path]:
    return sorted(path for path in (inbox / "_portal").glob("*") if path.is_dir()) if inbox.exists() else []


# A real server, for what only a real server shows: signals, body limits on the wire, the browser.


@dataclass(frozen=True)
class ServedPortal:
    url: str
    settings: Settings
    process: subprocess.Popen[str]
    environment: dict[str, str]

    def cli(self, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``hikikomori …`` against the same portal database."""
        return subprocess.run(
            [sys.executable, "-m", "hikikomori.cli", *arguments],
            input=stdin,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        **NO_SETTLE_TIME,
        "HIKIKOMORI_AS_OF": AS_OF.isoformat(),
        "HIKIKOMORI_WAREHOUSE": str(settings.warehouse_path),
        "HIKIKOMORI_INBOX": str(settings.inbox_dir),
        "HIKIKOMORI_PORTAL_WORKERS": "2",
    }


def start_server(settings: Settings, environment: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hikikomori.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=settings.warehouse_path.parent.parent,  # not the checkout: nothing may depend on it
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + _SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal stopped at start:\n{process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the portal did not answer in time")


def stop_server(process: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
    """Stop the server with a signal; its exit code and everything it printed."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise
    return process.returncode, output


@pytest.fixture
def served_portal(tmp_path: Path) -> Iterator[ServedPortal]:
    settings = make_settings(tmp_path / "state")
    settings.inbox_dir.mkdir(parents=True)
    environment = server_environment(settings)
    process, url = start_server(settings, environment)
    try:
        yield ServedPortal(url, settings, process, environment)
    finally:
        stop_server(process)
