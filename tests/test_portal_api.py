"""``/api/v1/submissions`` as CONTRACT.md §4 fixes it."""

import hashlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from portal_support import HOKKAIDO, TOKYO, account, csv_bytes, portal_folders
from support import run_audited

from hikikomori.portal.accounts import issue_token
from hikikomori.settings import Settings


def post(token: str, name: str, content: bytes, **extra: Any) -> Any:
    return Client().post(
        "/api/v1/submissions",
        {"file": SimpleUploadedFile(name, content)},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def listing(token: str) -> list[dict[str, Any]]:
    response = Client().get("/api/v1/submissions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    return response.json()


def test_a_file_without_problems_is_submitted_with_its_receipt(portal: Settings) -> None:
    account("tokyo")
    token = issue_token("tokyo")
    content = csv_bytes(consultations=1, welfare_office=3)

    response = post(token, "130001_2016.csv", content)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "submitted"
    assert body["receipt"] == hashlib.sha256(content).hexdigest()
    assert (body["center_code"], body["fiscal_year"]) == (TOKYO, 2016)
    assert [warning["rule"] for warning in body["warnings"]] == ["referrals_exceed_consultations"]
    assert len(portal_folders(portal.inbox_dir)) == 1


def test_a_file_breaking_a_rule_is_rejected_with_every_issue(portal: Settings) -> None:
    account("tokyo")
    content = csv_bytes().replace(b"consultations,total,1520", b"consultations,total,1.5")

    response = post(issue_token("tokyo"), "130001_2016.csv", content)

    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "rejected"
    (issue,) = body["issues"]
    assert {key: issue[key] for key in ("row", "column", "cell", "value", "rule")} == {
        "row": 2,
        "column": "count",
        "cell": "E2",
        "value": "1.5",
        "rule": "count_fraction",
    }
    assert issue["message_ja"] == "件数に小数は使えません" and issue["message_en"]
    assert portal_folders(portal.inbox_dir) == []


def test_refusals_401_403_413(portal: Settings) -> None:
    account("tokyo")
    token = issue_token("tokyo")
    no_token = Client().post("/api/v1/submissions", {"file": SimpleUploadedFile("130001_2016.csv", csv_bytes())})
    session_only = Client()
    session_only.force_login(account("tokyo2"))  # a browser session is no API credential

    assert no_token.status_code == 401 and no_token["WWW-Authenticate"].startswith("Bearer")
    assert session_only.get("/api/v1/submissions").status_code == 401
    assert post("hkk_not-a-token", "130001_2016.csv", csv_bytes()).status_code == 401
    assert post(token, "010006_2016.csv", csv_bytes(HOKKAIDO)).status_code == 403
    limit = portal.portal.max_request_bytes
    assert post(token, "130001_2016.csv", csv_bytes(), CONTENT_LENGTH=str(limit + 1)).status_code == 413
    big = b"x" * (portal.portal.max_upload_bytes + 1)  # a body within the request limit, a file over the file limit
    assert post(token, "130001_2016.csv", big).status_code == 413
    assert Client().post("/api/v1/submissions", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 400
    assert portal_folders(portal.inbox_dir) == []


def test_the_list_follows_each_upload_through_the_pipeline_newest_first(portal: Settings) -> None:
    account("tokyo")
    account("hokkaido", HOKKAIDO)
    account("mhlw", None)
    tokyo, hokkaido, ministry = (issue_token(name) for name in ("tokyo", "hokkaido", "mhlw"))
    first = csv_bytes(consultations=100)
    post(tokyo, "130001_2016.csv", first)
    post(tokyo, "130001_2016.csv", b"center_code\n130001\n")  # rejected at once
    post(hokkaido, "010006_2016.csv", csv_bytes(HOKKAIDO))
    assert [item["status"] for item in listing(tokyo)] == ["rejected", "submitted"]

    run_audited(portal)
    post(tokyo, "130001_2016.csv", csv_bytes(consultations=200))
    post(tokyo, "130001_2016.csv", first)  # back to the first figures: a new version again
    run_audited(portal)
    post(tokyo, "130001_2016.csv", first)  # the same as the latest version
    run_audited(portal)

    items = listing(tokyo)
    assert [(item["status"], item["version"]) for item in items] == [
        ("duplicate", None),
        ("accepted", 3),
        ("accepted", 2),
        ("rejected", None),
        ("accepted", 1),
    ]
    assert set(items[0]) >= {"receipt", "file_name", "fiscal_year", "uploaded_at", "status", "version"}
    assert items[-1]["receipt"] == hashlib.sha256(first).hexdigest()
    assert items[0]["uploaded_at"] > items[1]["uploaded_at"] and items[0]["uploaded_at"].endswith("+09:00")
    assert {item["center_code"] for item in listing(ministry)} == {TOKYO, HOKKAIDO}
    assert len(listing(ministry)) == 6 and len(listing(hokkaido)) == 1
