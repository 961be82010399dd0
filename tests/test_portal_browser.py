"""The portal in a real browser (Playwright driving the OS's Chromium), with JavaScript turned off.

A center's path: log in with the keyboard, download the year's form, upload it with mistakes, read
every problem with its cell, upload the fix, get the receipt, see the status after a pipeline run.
The ministry's path: collection per year, one center's history, the national tables, the admin page.
Every page is photographed (set HIKIKOMORI_SCREENSHOT_DIR to keep the pictures).
"""

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from portal_support import TOKYO, ServedPortal
from support import EXAMPLE_SUBMISSIONS, run_audited, system_program

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--lang=ja",
]
PASSWORD = "browser-test-password-1"

pytestmark = pytest.mark.integration


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=system_program("chromium"), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Pages:
    """One browser tab without JavaScript, its console errors and its screenshots."""

    def __init__(self, browser: object, folder: Path) -> None:
        self.context = browser.new_context(  # type: ignore[attr-defined]
            java_script_enabled=False, locale="ja-JP", viewport={"width": 1200, "height": 900}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []  # console errors: a blocked script or style, a resource that failed
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.failed: list[str] = []  # every answer of 400 or more, page or resource
        self.page.on("response", lambda response: response.status >= 400 and self.failed.append(response.url))
        self.folder = folder

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)

    def text(self) -> str:
        return str(self.page.inner_text("main"))


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    keep = os.environ.get("HIKIKOMORI_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for picture in folder.glob("*.png"):
            shutil.copy(picture, Path(keep) / picture.name)


def fill_form(path: Path, counts: dict[int, object]) -> None:
    """Type counts into the form's count cells by row (the first item row is 6)."""
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for row in range(6, sheet.max_row + 1):
        sheet[f"E{row}"] = counts.get(row, 1)
    workbook.save(path)


def test_a_center_submits_its_form_and_follows_it_to_the_national_tables(
    served_portal: ServedPortal, browser: object, shots: Path, tmp_path: Path
) -> None:
    served_portal.cli("users", "add", "tokyo", "--center", TOKYO, "--password-stdin", stdin=PASSWORD + "\n")
    tab = Pages(browser, shots)
    page = tab.page

    page.goto(f"{served_portal.url}/login")
    tab.shot("portal_login")
    page.keyboard.type("tokyo")  # the user name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served_portal.url}/")
    assert "東京都（団体コード 130001）" in tab.text()
    tab.shot("portal_center_home")

    page.click("a[href='/years/2016']")
    assert "平成28年度（2016年度）" in tab.text() and "2017年6月30日" in tab.text()
    tab.shot("portal_year")
    with page.expect_download() as download:
        page.click("a[href='/years/2016/form.xlsx']")
    form = tmp_path / "130001_2016.xlsx"
    download.value.save_as(form)

    fill_form(form, {6: "十二", 9: "=1+1"})  # text and a formula where counts belong
    page.set_input_files("#id_file", str(form))
    page.click("form.upload button[type=submit]")
    problems = tab.text()
    assert "2 件の問題があります" in problems
    assert "E6" in problems and "十二" in problems and "件数が数値ではありません" in problems
    assert "E9" in problems and "セルに数式が入っています" in problems
    tab.shot("portal_upload_problems")

    fill_form(form, {6: 1520, 9: 4})
    page.set_input_files("#id_file", str(form))
    page.click("form.upload button[type=submit]")
    received = tab.text()
    assert "受け付けました" in received
    assert hashlib.sha256(form.read_bytes()).hexdigest() in received
    assert "受付済み・集計待ち" in received
    tab.shot("portal_upload_receipt")

    run_audited(served_portal.settings)  # the pipeline's run, as the scheduled intake does it

    page.goto(f"{served_portal.url}/")
    assert "取込済み 第1版" in tab.text()
    tab.shot("portal_center_after_run")
    page.click("a[href='/password']")
    assert "パスワード変更" in tab.text()
    tab.shot("portal_password")
    assert (tab.errors, tab.failed) == ([], [])  # nothing blocked by the content security policy, no 404s
    page.goto(f"{served_portal.url}/ministry")
    assert "このページは表示できません" in tab.text()  # a center account on a ministry page: 403
    tab.shot("portal_forbidden")
    page.click("button:has-text('ログアウト')")
    page.wait_for_url(f"{served_portal.url}/login")
    page.goto(f"{served_portal.url}/")
    assert page.url.startswith(f"{served_portal.url}/login")


def test_the_ministry_follows_collection(served_portal: ServedPortal, browser: object, shots: Path) -> None:
    shutil.copytree(EXAMPLE_SUBMISSIONS, served_portal.settings.inbox_dir, dirs_exist_ok=True)
    run_audited(served_portal.settings)
    served_portal.cli("users", "add", "mhlw", "--ministry", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    tab = Pages(browser, shots)
    page = tab.page

    page.goto(f"{served_portal.url}/login")
    page.fill("#id_username", "mhlw")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{served_portal.url}/ministry")
    page.select_option("#id_year", "2016")
    page.click("form.inline-form button")
    overview = tab.text()
    assert "提出状況 平成28年度" in overview and "報告率" in overview
    assert "北海道" in overview and "取込済み 第1版" in overview
    tab.shot("portal_ministry_overview")

    page.click("a:has-text('東京都')")
    assert "東京都（団体コード 130001）" in tab.text() and "取込済み 第1版" in tab.text()
    tab.shot("portal_ministry_center")

    page.click("a:has-text('全国集計')")
    assert "90,794" in tab.text()  # FY2016 consultations of the examples
    tab.shot("portal_ministry_national")

    page.click("a:has-text('アカウント管理')")
    page.click("a[href='/admin/portal/user/']")
    assert "mhlw" in page.inner_text("body")
    tab.shot("portal_admin_accounts")
    page.goto(f"{served_portal.url}/admin/portal/user/add/")
    assert "役割 / role" in page.inner_text("body")
    tab.shot("portal_admin_add_account")

    assert (tab.errors, tab.failed) == ([], [])  # nothing the content security policy had to block, no 404s
    page.goto(f"{served_portal.url}/no-such-page")
    assert "ページが見つかりません" in tab.text()
    tab.shot("portal_not_found")


def test_repeated_failed_logins_show_the_lockout_page(
    served_portal: ServedPortal, browser: object, shots: Path
) -> None:
    served_portal.cli("users", "add", "tokyo", "--center", TOKYO, "--password-stdin", stdin=PASSWORD + "\n")
    tab = Pages(browser, shots)
    page = tab.page
    for attempt in range(served_portal.settings.portal.login_failure_limit):
        page.goto(f"{served_portal.url}/login")
        page.fill("#id_username", "tokyo")
        page.fill("#id_password", "not-the-password")
        page.click("main button[type=submit]")
        if attempt == 0:
            assert "正しいユーザー名とパスワード" in tab.text()
            tab.shot("portal_login_failed")
    assert "ログインを一時停止しています" in tab.text()
    tab.shot("portal_locked_out")
