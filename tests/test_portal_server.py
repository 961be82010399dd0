"""``hikikomori serve`` and ``hikikomori users`` as the ministry runs them: real processes, real sockets."""

import hashlib
import http.client
import json
import signal
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
from portal_support import (
    TOKYO,
    ServedPortal,
    csv_bytes,
    server_environment,
    start_server,
    stop_server,
)
from support import REPO_ROOT, make_settings

pytestmark = pytest.mark.integration

PASSWORD = "served-portal-password-1"


def _connection(portal: ServedPortal) -> http.client.HTTPConnection:
    address = urlparse(portal.url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=30)


def _multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "hikikomori-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _post(portal: ServedPortal, token: str, name: str, content: bytes) -> tuple[int, dict[str, object]]:
    body, content_type = _multipart(name, content)
    connection = _connection(portal)
    connection.request(
        "POST",
        "/api/v1/submissions",
        body,
        {"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_sigterm_and_ctrl_c(tmp_path: Path, stop: signal.Signals) -> None:
    settings = make_settings(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    process, _ = start_server(settings, {**server_environment(settings), "HOME": str(home)})

    code, output = stop_server(process, stop)

    assert code == 0, output
    assert "Shutting down" in output and "Traceback" not in output
    assert settings.portal.database_path.is_file()  # beside the warehouse by default
    assert list(home.iterdir()) == []  # nothing written outside the state folder (no control socket)


def test_accounts_from_the_command_line_and_tokens_that_replace_each_other(served_portal: ServedPortal) -> None:
    added = served_portal.cli("users", "add", "tokyo", "--center", TOKYO, "--password-stdin", stdin=PASSWORD + "\n")
    generated = served_portal.cli("users", "add", "mhlw", "--ministry")
    unknown = served_portal.cli("users", "add", "nowhere", "--center", "999999", "--password-stdin", stdin=PASSWORD)
    first = served_portal.cli("users", "token", "tokyo").stdout.strip()
    second = served_portal.cli("users", "token", "tokyo").stdout.strip()

    assert added.returncode == 0 and "created tokyo" in added.stdout
    assert generated.returncode == 0 and "password (shown once)" in generated.stdout
    assert unknown.returncode == 1 and "not in the registry" in unknown.stderr
    assert first != second and second.startswith("hkk_")
    assert _post(served_portal, first, "130001_2016.csv", csv_bytes())[0] == 401
    status, body = _post(served_portal, second, "130001_2016.csv", csv_bytes())
    assert status == 201 and body["status"] == "submitted"

    disabled = served_portal.cli("users", "disable", "tokyo")
    listing = served_portal.cli("users", "list").stdout.splitlines()

    assert disabled.returncode == 0
    assert _post(served_portal, second, "130001_2016.csv", csv_bytes())[0] == 401
    assert listing[0].split("\t")[:3] == ["username", "role", "center"]
    rows = {line.split("\t")[0]: line.split("\t") for line in listing[1:]}
    assert rows["tokyo"][1:5] == ["center", TOKYO, "東京都", "no"]
    assert rows["mhlw"][1] == "ministry"


def test_the_size_limit_holds_on_the_wire_declared_or_chunked(served_portal: ServedPortal) -> None:
    served_portal.cli("users", "add", "tokyo", "--center", TOKYO, "--password-stdin", stdin=PASSWORD + "\n")
    token = served_portal.cli("users", "token", "tokyo").stdout.strip()
    limit = served_portal.settings.portal.max_request_bytes

    declared = _connection(served_portal)  # headers only: the body is never sent, the answer comes anyway
    declared.putrequest("POST", "/api/v1/submissions")
    for header, value in {
        "Authorization": f"Bearer {token}",
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(100 * limit),
    }.items():
        declared.putheader(header, value)
    declared.endheaders()
    answer = declared.getresponse()
    assert answer.status == 413 and json.loads(answer.read())["status"] == "too_large"

    chunked = _connection(served_portal)
    body, content_type = _multipart("130001_2016.csv", b"x" * (limit + 1))
    chunks = (body[start : start + 65536] for start in range(0, len(body), 65536))
    chunked.request(
        "POST",
        "/api/v1/submissions",
        chunks,
        {"Authorization": f"Bearer {token}", "Content-Type": content_type},
        encode_chunked=True,
    )
    assert chunked.getresponse().status == 413

    small = _connection(served_portal)
    body, content_type = _multipart("130001_2016.csv", csv_bytes())
    small.request(
        "POST",
        "/api/v1/submissions",
        iter([body[:100], body[100:]]),
        {"Authorization": f"Bearer {token}", "Content-Type": content_type},
        encode_chunked=True,
    )
    assert small.getresponse().status == 201


def test_the_wheel_carries_the_portals_templates_static_files_and_migrations(tmp_path: Path) -> None:
    uv = REPO_ROOT / ".tools" / "bin" / "uv"
    built = subprocess.run(
        [str(uv), "build", "--wheel", "--out-dir", str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "hikikomori/portal/templates/portal/base.html",
        "hikikomori/portal/templates/portal/upload.html",
        "hikikomori/portal/static/portal/portal.css",
        "hikikomori/portal/migrations/0001_initial.py",
        "hikikomori/warehouse/portal_queries.py",
    ):
        assert expected in names, expected


def test_two_uploads_before_a_hikikomori_run_become_versions_1_and_2(served_portal: ServedPortal) -> None:
    served_portal.cli("users", "add", "tokyo", "--center", TOKYO, "--password-stdin", stdin=PASSWORD + "\n")
    token = served_portal.cli("users", "token", "tokyo").stdout.strip()
    first, second = csv_bytes(consultations=111), csv_bytes(consultations=222)
    assert _post(served_portal, token, "130001_2016.csv", first)[0] == 201
    assert _post(served_portal, token, "130001_2016.csv", second)[0] == 201

    run = served_portal.cli("run")  # the Prefect flow, as the intake deployment runs it

    assert run.returncode == 0, run.stderr
    connection = _connection(served_portal)
    connection.request("GET", "/api/v1/submissions", headers={"Authorization": f"Bearer {token}"})
    listed = json.loads(connection.getresponse().read())
    assert [(item["status"], item["version"]) for item in listed] == [("accepted", 2), ("accepted", 1)]
    assert [item["receipt"] for item in listed] == [hashlib.sha256(body).hexdigest() for body in (second, first)]
    assert not any((served_portal.settings.inbox_dir / "_portal").iterdir())  # the upload folders are gone
