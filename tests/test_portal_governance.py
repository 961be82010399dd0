"""The portal reads deadlines and timeliness from the analysts' copy (one definition, the pipeline's) and
shows the ministry what changed between two versions of a center's submission."""

import re
from dataclasses import replace
from pathlib import Path

from portal_support import TOKYO, account, client_for, csv_bytes, upload_file
from support import run_audited

from hikikomori.pipeline import governance
from hikikomori.settings import Settings


def test_the_ministry_sees_what_changed_between_two_versions(portal: Settings) -> None:
    tokyo = client_for(account("tokyo"))
    upload_file(tokyo, "130001_2016.csv", csv_bytes(consultations=1500, school=3))
    run_audited(portal, "first")
    governance.close_year(portal, 2016, "公表", quality_gate=False)
    upload_file(tokyo, "130001_2016.csv", csv_bytes(consultations=1520, school=5, company=1))
    run_audited(portal, "late")
    ministry = client_for(account("mhlw", None))

    page = ministry.get(f"/ministry/centers/{TOKYO}/years/2016/changes").content.decode()

    assert "第1版 → 第2版で変わった項目" in page
    changes = page.split("変わった項目 / items changed")[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">([^<]*) <span class="en">', changes) == [
        "延べ相談件数",
        "関係機関につないだ件数 企業",
        "関係機関につないだ件数 学校・教育委員会等",
    ]
    assert '<td class="number">1,500</td>' in changes and '<td class="number">1,520</td>' in changes
    assert "集計中" in page  # version 1 still counts: the year is closed, version 2 is pending
    overview = ministry.get("/ministry?year=2016").content.decode()
    assert "保留中の修正 第2版" in overview and "確定済み" in overview
    assert (
        f"/ministry/centers/{TOKYO}/years/2016/changes" in ministry.get(f"/ministry/centers/{TOKYO}").content.decode()
    )
    assert ministry.get(f"/ministry/centers/{TOKYO}/years/2016/changes?from=1&to=9").status_code == 404
    assert ministry.get(f"/ministry/centers/{TOKYO}/years/2016/changes?from=x").status_code == 404
    assert tokyo.get(f"/ministry/centers/{TOKYO}/years/2016/changes").status_code == 403


def test_deadlines_and_timeliness_come_from_the_analysts_copy(portal: Settings, tmp_path: Path) -> None:
    calendar = tmp_path / "calendar.csv"
    calendar.write_text("fiscal_year,deadline\n2016,2099-12-31\n", encoding="utf-8")
    tokyo = client_for(account("tokyo"))
    upload_file(tokyo, "130001_2016.csv", csv_bytes())
    run_audited(replace(portal, calendar_path=calendar))
    ministry = client_for(account("mhlw", None))

    home = tokyo.get("/").content.decode()
    overview = ministry.get("/ministry?year=2016").content.decode()

    assert "2099年12月31日" in home and "2017年6月30日" not in home  # the calendar's deadline, not the default
    assert "2099年12月31日" in overview
    tokyo_row = overview.split(f"<td>{TOKYO}</td>")[1].split("</tr>")[0]
    assert "期限内" in tokyo_row  # the mart's on_time (uploaded today, well before 2099)
    summary = overview.split("集計 / summary")[1].split("</table>")[0]
    assert "1.6%" in summary  # the mart's reporting rate and timeliness: 1 of 64 centers
    national = ministry.get("/ministry/national").content.decode()
    rates = national.split("報告率と期限内提出率 / reporting rate and timeliness")[1].split("</table>")[0]
    assert "2099-12-31" in rates and rates.count("1.6%") == 2
    assert "暫定 provisional" in national.split("成果目標の判定 / outcome targets")[1]
