"""The portal's pages through Django's test client: a center's path and the ministry's."""

import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

from django.test import Client
from openpyxl import load_workbook
from portal_support import HOKKAIDO, PASSWORD, TOKYO, account, client_for, csv_bytes, portal_folders, upload_file
from support import run_audited, write_submission

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.portal.models import AuditEvent, Upload
from hikikomori.settings import Settings

BROKEN = (
    csv_bytes()
    .replace(b"consultations,total,1520", b"consultations,total,abc")
    .replace(b"referrals,company,0", b"referrals,company,-3")
)


def test_login_page_has_the_contract_inputs_and_logs_a_center_in(portal: Settings) -> None:
    account("tokyo")
    client = Client()  # logs in through the form, as a person does
    page = client.get("/login").content.decode()
    assert 'name="username"' in page and 'name="password"' in page

    response = client.post("/login", {"username": "tokyo", "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/").content.decode()
    assert "東京都（団体コード 130001）" in home
    assert "平成28年度（2016）" in home and "2017年6月30日" in home  # the year, its deadline
    assert "未提出" in home


def test_a_broken_file_shows_every_problem_with_its_cell_and_is_kept_but_not_handed_over(portal: Settings) -> None:
    client = client_for(account("tokyo"))

    response = upload_file(client, "130001_2016.csv", BROKEN)

    page = response.content.decode()
    assert response.status_code == 200
    assert "2 件の問題があります" in page
    assert ">E2<" in page and "<code>abc</code>" in page and "件数が数値ではありません" in page
    assert ">E17<" in page and "件数にマイナスの値は使えません" in page
    upload = Upload.objects.get()
    assert upload.verdict == "refused" and bytes(upload.content.data) == BROKEN
    assert portal_folders(portal.inbox_dir) == []


def test_a_passed_file_gets_its_receipt_and_is_handed_over_in_its_own_folder(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    content = csv_bytes(consultations=1400, welfare_office=3)

    page = upload_file(client, "130001_2016.csv", content).content.decode()

    receipt = hashlib.sha256(content).hexdigest()
    assert "受け付けました" in page and receipt in page
    upload = Upload.objects.get()
    (folder,) = portal_folders(portal.inbox_dir)
    assert folder.name == str(upload.id)
    assert (folder / "130001_2016.csv").read_bytes() == content
    manifest = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    assert manifest == {
        "upload_id": str(upload.id),
        "receipt": receipt,
        "center_code": TOKYO,
        "fiscal_year": 2016,
        "file_name": "130001_2016.csv",
        "uploaded_at": upload.uploaded_at.astimezone(JAPAN).isoformat(),
        "username": "tokyo",
    }
    assert manifest["uploaded_at"].endswith("+09:00")
    assert "受付済み・集計待ち" in page


def test_statuses_follow_the_pipeline_through_the_analysts_copy(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    assert "集計結果（分析用コピー）はまだありません" in client.get("/").content.decode()
    first = upload_file(client, "130001_2016.csv", csv_bytes(consultations=1400))
    assert first.status_code == 200
    write_submission(portal.inbox_dir / TOKYO, TOKYO, 2015, 10, {"x": 1}, in_center_folder=False)  # rejected

    run_audited(portal)

    home = client.get("/").content.decode()
    assert "取込済み 第1版" in home  # FY2016, from the portal upload
    assert "差戻し" in home  # FY2015: only a rejected file arrived (not through the portal)
    upload = Upload.objects.get()
    assert "取込済み 第1版" in client.get(f"/uploads/{upload.id}").content.decode()
    upload_file(client, "130001_2016.csv", csv_bytes(consultations=1500))
    year = client.get("/years/2016").content.decode()
    assert "受付済み・集計待ち（取込済み 第1版）" in year
    run_audited(portal)
    assert "取込済み 第2版" in client.get("/years/2016").content.decode()


def test_the_form_of_a_year_downloads_for_the_centers_own_code(portal: Settings) -> None:
    client = client_for(account("tokyo"))

    response = client.get("/years/2016/form.xlsx")

    assert response.status_code == 200
    assert 'filename="130001_2016.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert sheet["A6"].value == TOKYO and sheet["B6"].value == "平成28年度"
    assert client.get("/years/2013/form.xlsx").status_code == 404  # 東京都 opened in FY2014
    assert AuditEvent.objects.filter(action="download", detail__kind="form").count() == 1


def test_error_report_receipt_and_original_file_download(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    upload_file(client, "130001_2016.csv", BROKEN)
    content = csv_bytes(consultations=1400)
    upload_file(client, "130001_2016.csv", content)
    refused, passed = Upload.objects.order_by("uploaded_at")

    errors = b"".join(client.get(f"/uploads/{refused.id}/errors.csv").streaming_content).decode("utf-8-sig")
    receipt = b"".join(client.get(f"/uploads/{passed.id}/receipt.txt").streaming_content).decode("utf-8-sig")
    original = b"".join(client.get(f"/uploads/{passed.id}/file").streaming_content)

    assert errors.splitlines()[0].startswith("file,row,cell,column,value,rule")
    assert "E2" in errors and "count_not_a_number" in errors
    assert passed.sha256 in receipt and "延べ相談件数 (consultations): 1,400" in receipt
    assert original == content
    assert client.get(f"/uploads/{passed.id}/errors.csv").status_code == 404  # a passed file has none
    assert client.get(f"/uploads/{refused.id}/receipt.txt").status_code == 404  # a refused one no receipt
    assert AuditEvent.objects.filter(action="download").count() == 3


def test_a_warning_is_shown_and_the_figures_confirmed_with_a_comment(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    page = upload_file(client, "130001_2016.csv", csv_bytes(consultations=2, welfare_office=5)).content.decode()
    upload = Upload.objects.get()
    assert "関係機関につないだ件数 5 件が延べ相談件数 2 件を上回っています" in page
    assert f'action="/uploads/{upload.id}/comment"' in page

    response = client.post(f"/uploads/{upload.id}/comment", {"comment": "5件は前年度からの継続支援です"})

    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.comment == "5件は前年度からの継続支援です"
    assert "5件は前年度からの継続支援です" in client.get(f"/uploads/{upload.id}").content.decode()
    assert AuditEvent.objects.filter(action="comment", username="tokyo").exists()


def test_a_change_against_the_previous_year_is_warned_from_the_analysts_copy(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    upload_file(client, "130001_2016.csv", csv_bytes(consultations=1000))
    run_audited(portal)

    page = upload_file(client, "130001_2017.csv", csv_bytes(fiscal_year=2017, consultations=9000)).content.decode()

    assert "延べ相談件数 9,000 件が前年度の 1,000 件から 3 倍を超えて変わっています" in page


def test_the_ministry_follows_collection_nationally_and_per_center(portal: Settings, copy_examples) -> None:
    copy_examples(portal)
    tokyo = client_for(account("tokyo"))
    upload_file(tokyo, "130001_2019.csv", csv_bytes(fiscal_year=2019, consultations=1400))
    # Version 1 came through the portal: its upload time (the hand-over's upload.json, taken in by the run)
    # counts for the deadline, not the run's.
    uploaded_at = datetime(2020, 6, 30, 23, 59, tzinfo=JAPAN)
    Upload.objects.update(uploaded_at=uploaded_at)
    (folder,) = portal_folders(portal.inbox_dir)
    manifest = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    (folder / "upload.json").write_text(json.dumps({**manifest, "uploaded_at": uploaded_at.isoformat()}))
    run_audited(portal)
    upload_file(tokyo, "130001_2020.csv", csv_bytes(fiscal_year=2020, consultations=1400))  # waits for a run
    ministry = client_for(account("mhlw", None))

    overview = ministry.get("/ministry?year=2019").content.decode()
    national = ministry.get("/ministry/national").content.decode()
    center = ministry.get(f"/ministry/centers/{TOKYO}").content.decode()

    assert ministry.get("/").url == "/ministry"
    tokyo_row = overview.split(f"<td>{TOKYO}</td>")[1].split("</tr>")[0]
    assert "取込済み 第1版" in tokyo_row and "期限内" in tokyo_row
    assert overview.split("自治体ごとの状況")[1].count("<tr>") - 1 == 67  # every center open in FY2019
    assert "受付済み・集計待ち" in ministry.get("/ministry?year=2020").content.decode()
    assert "90,794" in national  # FY2016 consultations from the examples
    assert "130001_2019.csv" in center and "tokyo" in center
    assert ministry.get("/ministry/centers/999999").status_code == 404


def test_without_an_analysts_copy_every_page_says_so(portal: Settings) -> None:
    tokyo = client_for(account("tokyo"))
    upload_file(tokyo, "130001_2016.csv", csv_bytes())
    upload = Upload.objects.get()
    ministry = client_for(account("mhlw", None))
    portal.analytics_path.parent.mkdir(parents=True, exist_ok=True)

    for client, path in [
        (tokyo, "/"),
        (tokyo, "/years/2016"),
        (tokyo, f"/uploads/{upload.id}"),
        (ministry, "/ministry"),
        (ministry, "/ministry/national"),
        (ministry, f"/ministry/centers/{TOKYO}"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "集計結果（分析用コピー）はまだありません" in response.content.decode(), path
    Path(portal.analytics_path).write_bytes(b"not a duckdb file")
    assert "今は読み取れません" in ministry.get("/ministry").content.decode()


def test_another_centers_uploads_are_not_in_a_centers_history(portal: Settings) -> None:
    tokyo = client_for(account("tokyo"))
    hokkaido = client_for(account("hokkaido", HOKKAIDO))
    upload_file(hokkaido, "010006_2016.csv", csv_bytes(HOKKAIDO))

    page = tokyo.get("/").content.decode()

    assert "010006_2016.csv" not in page and "まだ提出はありません" in page


def test_the_portals_migrations_match_its_models(db: None) -> None:
    from django.core.management import call_command

    call_command("makemigrations", "portal", "--check", "--dry-run", verbosity=0)  # exits 1 when they differ
