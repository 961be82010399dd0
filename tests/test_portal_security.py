"""The portal against OWASP ASVS level 1: access control, CSRF, sessions, passwords, input, output, logging."""

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.models import Session
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django.urls import URLPattern, get_resolver
from django.utils import timezone
from openpyxl import load_workbook
from portal_support import HOKKAIDO, PASSWORD, TOKYO, account, client_for, csv_bytes, portal_folders, upload_file

from hikikomori.portal.accounts import disable_account, issue_token
from hikikomori.portal.middleware import ChunkedBodyLimit
from hikikomori.portal.models import AuditEvent, Upload, User
from hikikomori.resources import package_path
from hikikomori.settings import Settings


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def test_a_center_reaches_only_its_own_center_on_every_page_and_api_call(portal: Settings) -> None:
    tokyo_user = account("tokyo")
    tokyo = client_for(tokyo_user)
    hokkaido = client_for(account("hokkaido", HOKKAIDO))
    upload_file(hokkaido, "010006_2016.csv", csv_bytes(HOKKAIDO, consultations=777))
    upload_file(hokkaido, "010006_2017.csv", b"center_code\n010006\n")
    passed, refused = Upload.objects.order_by("uploaded_at")
    token = issue_token("tokyo")
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    secrets = [passed.sha256.encode(), refused.sha256.encode(), b"010006_2016.csv", b"010006_2017.csv", b"777"]

    answers = {
        "login": tokyo.get("/login"),
        "logout": None,  # tested with sessions: ends only the caller's own session
        "password": tokyo.get("/password"),
        "home": tokyo.get("/"),
        "upload": upload_file(tokyo, "010006_2016.csv", csv_bytes(HOKKAIDO)),
        "year": tokyo.get("/years/2016"),
        "template": None,  # tested below: the caller's own form
        "upload_detail": tokyo.get(f"/uploads/{passed.id}"),
        "upload_comment": tokyo.post(f"/uploads/{passed.id}/comment", {"comment": "x"}),
        "upload_file": tokyo.get(f"/uploads/{passed.id}/file"),
        "upload_errors": tokyo.get(f"/uploads/{refused.id}/errors.csv"),
        "upload_receipt": tokyo.get(f"/uploads/{passed.id}/receipt.txt"),
        "ministry": tokyo.get("/ministry?year=2016"),
        "ministry_center": tokyo.get(f"/ministry/centers/{HOKKAIDO}"),
        "ministry_national": tokyo.get("/ministry/national"),
        "ministry_changes": tokyo.get(f"/ministry/centers/{HOKKAIDO}/years/2016/changes"),
        "api_submissions": Client().get("/api/v1/submissions", **api),
    }
    api_post = Client().post("/api/v1/submissions", {"file": _file("010006_2016.csv", csv_bytes(HOKKAIDO))}, **api)
    admin = tokyo.get("/admin/portal/upload/")

    # Every named page (the unnamed one is the favicon's redirect; the admin is tried below).
    named = {
        pattern.name for pattern in get_resolver().url_patterns if isinstance(pattern, URLPattern) and pattern.name
    }
    assert set(answers) == named  # every page of the portal is tried
    expected = {
        "login": 302,  # already logged in: to the caller's own home
        "upload": 403,
        "upload_detail": 404,
        "upload_comment": 404,
        "upload_file": 404,
        "upload_errors": 404,
        "upload_receipt": 404,
        "ministry": 403,
        "ministry_center": 403,
        "ministry_national": 403,
        "ministry_changes": 403,
    }
    for name, response in answers.items():
        if response is None:
            continue
        assert response.status_code == expected.get(name, 200), name
        body = _body(response)
        assert not any(secret in body for secret in secrets), name
    assert api_post.status_code == 403
    assert answers["api_submissions"].json() == []
    assert admin.status_code == 302 and "/admin/login/" in admin["Location"]
    assert Upload.objects.filter(center_code=TOKYO).count() == 0  # the other center's file was not taken
    assert AuditEvent.objects.filter(action="upload_forbidden", username="tokyo").count() == 2
    form = load_workbook(io.BytesIO(_body(tokyo.get("/years/2016/form.xlsx")))).worksheets[0]
    assert form["A6"].value == TOKYO  # no page takes a center code: the form is always the caller's own


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_the_ministry_cannot_use_a_centers_pages_or_upload(portal: Settings) -> None:
    ministry = client_for(account("mhlw", None))
    assert upload_file(ministry, "130001_2016.csv", csv_bytes()).status_code == 403
    assert ministry.get("/years/2016").status_code == 403
    assert ministry.get("/years/2016/form.xlsx").status_code == 403
    token = issue_token("mhlw")
    response = Client().post(
        "/api/v1/submissions", {"file": _file("130001_2016.csv", csv_bytes())}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 403
    assert Upload.objects.count() == 0


def _csrf_token(client: Client, path: str) -> str:
    page = client.get(path).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, path
    return match.group(1)


def test_every_state_changing_form_needs_its_csrf_token_and_cross_site_posts_are_refused(portal: Settings) -> None:
    user = account("tokyo")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    upload_file(client_for(user), "130001_2016.csv", csv_bytes(consultations=1, welfare_office=5))
    upload = Upload.objects.get()
    forms = {
        "/upload": {"file": _file("130001_2016.csv", csv_bytes())},
        f"/uploads/{upload.id}/comment": {"comment": "ok"},
        "/password": {"old_password": PASSWORD, "new_password1": "another-long-pass-1", "new_password2": "x"},
        "/logout": {},
    }
    for path, data in forms.items():
        assert client.post(path, data).status_code == 403, path
    assert (
        Client(enforce_csrf_checks=True).post("/login", {"username": "tokyo", "password": PASSWORD}).status_code == 403
    )
    assert Upload.objects.count() == 1

    token = _csrf_token(client, "/")
    cross_site = client.post(
        "/upload",
        {"file": _file("130001_2016.csv", csv_bytes()), "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://evil.example",
    )
    same_site = client.post(
        "/upload",
        {"file": _file("130001_2016.csv", csv_bytes()), "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://testserver",
    )
    assert cross_site.status_code == 403 and "送信を受け付けられませんでした" in cross_site.content.decode()
    assert same_site.status_code == 200
    assert Upload.objects.count() == 2


def test_login_is_throttled_after_repeated_failures_and_every_attempt_is_logged(portal: Settings) -> None:
    account("tokyo")
    client = Client()
    for _ in range(portal.portal.login_failure_limit - 1):
        failed = client.post("/login", {"username": "tokyo", "password": "wrong-password-0"})
        assert failed.status_code == 200 and "正しいユーザー名とパスワード" in failed.content.decode()

    locked = client.post("/login", {"username": "tokyo", "password": "wrong-password-0"})
    after = client.post("/login", {"username": "tokyo", "password": PASSWORD})  # right, but too late

    assert locked.status_code == 429 and after.status_code == 429
    assert "ログインを一時停止しています" in after.content.decode()
    assert client.get("/").status_code == 302  # not logged in
    actions = list(AuditEvent.objects.filter(username="tokyo").values_list("action", flat=True))
    # The right password during the lock-out is refused and logged as one more failure.
    assert actions.count("login_failed") == portal.portal.login_failure_limit + 1
    assert "locked_out" in actions and "login" not in actions


def test_a_successful_login_is_logged_with_its_address(portal: Settings) -> None:
    account("tokyo")
    Client().post("/login", {"username": "tokyo", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    event = AuditEvent.objects.get(action="login")
    assert (event.username, event.center_code, event.address) == ("tokyo", TOKYO, "192.0.2.7")


def test_sessions_end_when_idle_at_browser_close_and_on_logout(portal: Settings) -> None:
    account("tokyo")
    client = Client()
    response = client.post("/login", {"username": "tokyo", "password": PASSWORD})
    cookie = response.cookies["hikikomori_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    session = Session.objects.get()
    idle = session.expire_date - timezone.now()
    assert (
        timedelta(seconds=portal.portal.session_idle_seconds - 60)
        < idle
        <= timedelta(seconds=portal.portal.session_idle_seconds)
    )

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))  # idle for too long
    assert client.get("/").status_code == 302

    client.post("/login", {"username": "tokyo", "password": PASSWORD})
    stolen = client.cookies["hikikomori_session"].value
    assert client.post("/logout").status_code == 302
    replay = Client()
    replay.cookies["hikikomori_session"] = stolen
    assert replay.get("/").status_code == 302  # the old session is gone from the server
    assert not Session.objects.filter(session_key=stolen).exists()
    assert AuditEvent.objects.filter(action="logout").count() == 1


def test_passwords_are_stored_only_as_argon2id_and_weaker_hashes_never_verify(portal: Settings) -> None:
    user = account("tokyo")
    assert user.password.startswith("argon2$argon2id$")
    assert PASSWORD not in user.password
    User.objects.filter(pk=user.pk).update(password=MD5PasswordHasher().encode(PASSWORD, "somesalt"))
    refused = Client().post("/login", {"username": "tokyo", "password": PASSWORD})
    assert refused.status_code == 200 and "正しいユーザー名とパスワード" in refused.content.decode()


def test_api_tokens_are_stored_only_as_hashes_and_a_new_one_replaces_the_old(portal: Settings) -> None:
    account("tokyo")
    old = issue_token("tokyo")
    new = issue_token("tokyo")
    dump = "\n".join(connection.connection.iterdump())

    assert old not in dump and new not in dump
    assert hashlib.sha256(new.encode()).hexdigest() in dump

    def listing(token: str) -> int:
        return Client().get("/api/v1/submissions", HTTP_AUTHORIZATION=f"Bearer {token}").status_code

    assert (listing(old), listing(new), listing("hkk_guess")) == (401, 200, 401)
    disable_account("tokyo")
    assert listing(new) == 401
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"account_created", "token_issued", "account_disabled", "api_denied"} <= actions


def test_a_disabled_account_is_logged_out_everywhere_and_cannot_log_in(portal: Settings) -> None:
    account("tokyo")
    client = Client()
    client.post("/login", {"username": "tokyo", "password": PASSWORD})
    assert client.get("/").status_code == 200
    disable_account("tokyo")
    assert client.get("/").status_code == 302
    assert Client().post("/login", {"username": "tokyo", "password": PASSWORD}).status_code == 200  # form again


class _UnreadableStream:
    """A request body that must never be read."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the body was read")

    readline = read


class _CountingStream:
    def __init__(self, size: int) -> None:
        self.left, self.read_bytes = size, 0

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        self.read_bytes += size
        return b"x" * size


def _wsgi(environ: dict[str, Any]) -> tuple[str, bytes]:
    app = ChunkedBodyLimit(WSGIHandler(), lambda: portal_limit())
    answer: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        answer["status"] = status

    body = b"".join(app(environ, start_response))
    return answer["status"], body


def portal_limit() -> int:
    from django.conf import settings

    return settings.HIKIKOMORI.portal.max_request_bytes


def _environ(**extra: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/submissions",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "multipart/form-data; boundary=b",
        **extra,
    }


def test_an_upload_over_the_limit_is_refused_with_413_before_its_body_is_read(portal: Settings) -> None:
    limit = portal.portal.max_request_bytes
    status, body = _wsgi(_environ(CONTENT_LENGTH=str(limit + 1), **{"wsgi.input": _UnreadableStream()}))
    assert status.startswith("413") and b"too_large" in body

    stream = _CountingStream(50 * 1024 * 1024)  # a chunked body of 50 MB: counted while it streams in
    status, _ = _wsgi(_environ(HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": stream}))
    assert status.startswith("413")
    assert stream.read_bytes <= limit + 1

    page = client_for(account("tokyo")).post("/upload", {}, CONTENT_LENGTH=str(limit + 1))
    assert page.status_code == 413 and "ファイルが大きすぎます" in page.content.decode()
    assert Upload.objects.count() == 0


def test_a_chunked_upload_within_the_limit_is_judged_like_any_other(portal: Settings) -> None:
    account("tokyo")
    token = issue_token("tokyo")
    content = csv_bytes()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="130001_2016.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + content + b"\r\n--b--\r\n"
    )
    status, answer = _wsgi(
        _environ(
            HTTP_TRANSFER_ENCODING="chunked",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            **{"wsgi.input": io.BytesIO(body)},
        )
    )
    assert status.startswith("201"), answer
    assert hashlib.sha256(content).hexdigest().encode() in answer


@pytest.mark.parametrize(
    "name",
    ["../../130001_2016.csv", "..\\..\\130001_2016.csv", "/etc/130001_2016.csv", "C:\\Windows\\130001_2016.csv"],
)
def test_names_from_users_are_never_used_as_paths(portal: Settings, tmp_path: Path, name: str) -> None:
    client = client_for(account("tokyo"))

    upload_file(client, name, csv_bytes())

    (folder,) = portal_folders(portal.inbox_dir)
    written = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()}
    assert written == {f"inbox/_portal/{folder.name}/130001_2016.csv", f"inbox/_portal/{folder.name}/upload.json"}
    assert Upload.objects.get().file_name == "130001_2016.csv"  # the name's last part, shown only


def test_names_with_characters_outside_the_rules_are_refused_and_never_written(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    page = upload_file(client, "130001_2016 (1).csv", csv_bytes()).content.decode()  # a browser's second copy
    assert "使えない文字" in page
    assert portal_folders(portal.inbox_dir) == []


def test_everything_from_a_file_is_shown_as_text(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    hostile = "<img src=x onerror=alert(1)>"
    content = csv_bytes().replace(b"referrals,company,0", f"referrals,{hostile},0".encode())

    page = upload_file(client, "130001_2016.csv", content).content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page


def test_security_headers_and_no_store_on_every_page_with_data(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    upload_file(client, "130001_2016.csv", csv_bytes())
    upload = Upload.objects.get()
    ministry = client_for(account("mhlw", None))
    token = issue_token("tokyo")
    responses = [
        client.get("/"),
        client.get("/years/2016"),
        client.get(f"/uploads/{upload.id}"),
        client.get(f"/uploads/{upload.id}/receipt.txt"),
        ministry.get("/ministry"),
        ministry.get("/ministry/national"),
        Client().get("/api/v1/submissions", HTTP_AUTHORIZATION=f"Bearer {token}"),
        Client().get("/login"),
    ]
    for response in responses:
        assert "no-store" in response["Cache-Control"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_portals_templates_have_no_inline_script_or_style() -> None:
    templates = list(package_path("portal", "templates").rglob("*.html"))
    assert len(templates) >= 10
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert "<script" not in text and "<style" not in text, template.name
        assert not re.search(r"\son[a-z]+=|\sstyle=|javascript:", text), template.name


def test_the_admin_page_manages_accounts_for_ministry_administrators_and_logs_changes(portal: Settings) -> None:
    admin = client_for(account("chief", None, admin=True))
    assert admin.get("/admin/portal/user/").status_code == 200
    assert client_for(account("mhlw", None)).get("/admin/portal/user/").status_code == 302  # not an administrator

    form = {
        "username": "osaka",
        "role": "center",
        "center_code": "270008",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    created = admin.post("/admin/portal/user/add/", {**form, "usable_password": "true"})
    bad = admin.post(
        "/admin/portal/user/add/", {**form, "username": "nowhere", "center_code": "999999", "usable_password": "true"}
    )

    assert created.status_code == 302, created.content.decode()[:2000]
    assert User.objects.get(username="osaka").center_code == "270008"
    assert bad.status_code == 200 and not User.objects.filter(username="nowhere").exists()
    event = AuditEvent.objects.filter(action="account_created", username="chief").get()
    assert event.detail["account"] == "osaka"
    assert admin.get("/admin/portal/auditevent/").status_code == 200
    assert admin.post(f"/admin/portal/auditevent/{event.pk}/delete/").status_code == 403  # the log is read-only
