"""Deadlines and timeliness (CONTRACT.md §3 v2, §5): on time is the first accepted version submitted by the
end of the deadline day, Japan time; a portal upload counts from its upload time; a deadline calendar
given once stays in effect."""

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from portal_support import csv_bytes
from support import detailed_referrals, query, run_audited, write_submission

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.pipeline import governance
from hikikomori.pipeline.deadlines import CalendarError, read_calendar
from hikikomori.portal.handover import hand_over
from hikikomori.schemas.files import PortalManifest
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import connect

TOKYO, OSAKA, HOKKAIDO, YOKOHAMA = "130001", "270008", "010006", "141003"


def upload(
    settings: Settings, center: str, uploaded_at: str, fiscal_year: int = 2016, consultations: int = 1520
) -> None:
    """A passed portal upload handed over as the portal does it, with its upload time."""
    manifest = PortalManifest(
        f"upload-{center}-{uploaded_at[:19].replace(':', '')}",
        "0" * 64,
        center,
        fiscal_year,
        f"{center}_{fiscal_year}.csv",
        uploaded_at,
        "staff",
    )
    content = csv_bytes(center, fiscal_year, consultations)
    hand_over(settings.inbox_dir, manifest, f"{center}_{fiscal_year}.csv", content)


def status(settings: Settings, fiscal_year: int = 2016) -> dict[str, dict[str, object]]:
    """The centers that submitted something for the year: deadline, first submission, on time, status."""
    found = rows(
        settings,
        "select center_code, deadline, first_submitted_at, on_time, status from marts.submission_status "
        "where fiscal_year = ? and first_submitted_at is not null",
        [fiscal_year],
    )
    return {str(row.pop("center_code")): row for row in found}


def rows(settings: Settings, sql: str, parameters: list[object] | None = None) -> list[dict[str, object]]:
    """A query's rows with DuckDB's own Python values (dates stay dates)."""
    with connect(settings.warehouse_path, read_only=True) as connection:
        result = connection.execute(sql, parameters or [])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def write_calendar(path: Path, *rows: str) -> Path:
    path.write_text("\n".join(["fiscal_year,deadline", *rows]) + "\n", encoding="utf-8")
    return path


def test_a_portal_upload_counts_from_its_upload_time_on_both_sides_of_midnight_in_japan(workspace: Settings) -> None:
    upload(workspace, TOKYO, "2017-06-30T23:59:59.999999+09:00")  # the last moment of the deadline day
    upload(workspace, OSAKA, "2017-07-01T00:00:00+09:00")  # the first moment after it
    upload(workspace, HOKKAIDO, "2017-06-30T15:30:00+00:00")  # 30 June in UTC, 1 July 00:30 in Japan

    run_audited(workspace)

    rows = status(workspace)
    assert {center: row["on_time"] for center, row in rows.items()} == {TOKYO: True, OSAKA: False, HOKKAIDO: False}
    assert {row["deadline"] for row in rows.values()} == {date(2017, 6, 30)}
    assert rows[TOKYO]["first_submitted_at"] == datetime(2017, 6, 30, 23, 59, 59, 999999, tzinfo=JAPAN)
    rates = query(workspace.warehouse_path, "select * from marts.reporting_rates").iloc[0]
    assert (rates.centers_expected, rates.centers_accepted, rates.centers_on_time) == (64, 3, 1)
    assert rates.reporting_rate_pct == pytest.approx(100 * 3 / 64) and rates.timeliness_pct == pytest.approx(100 / 64)


def test_the_first_accepted_version_decides_and_a_missing_center_has_none(workspace: Settings) -> None:
    upload(workspace, TOKYO, "2017-06-01T10:00:00+09:00")
    run_audited(workspace, "first")
    upload(workspace, TOKYO, "2017-09-01T10:00:00+09:00", consultations=1600)  # a late correction: version 2
    run_audited(workspace, "second")

    tokyo = query(
        workspace.warehouse_path,
        "select version, on_time from marts.submission_status where fiscal_year = 2016 and center_code = ?",
        [TOKYO],
    )
    assert tokyo.to_dict("records") == [{"version": 2, "on_time": True}]
    missing = query(
        workspace.warehouse_path,
        "select count(*) as n from marts.submission_status where fiscal_year = 2016 and status = 'missing' "
        "and on_time is null and first_submitted_at is null",
    )
    assert missing.n.item() == 63


def test_a_file_from_the_inbox_counts_from_when_the_run_took_it_in(workspace: Settings, tmp_path: Path) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2016, 100, detailed_referrals())
    write_submission(workspace.inbox_dir, OSAKA, 2017, 100, detailed_referrals())
    # FY2016's deadline moved to the far future, FY2017's left at 30 June 2018 (long past).
    calendar = write_calendar(tmp_path / "calendar.csv", "2016,2099-12-31")

    run_audited(replace(workspace, calendar_path=calendar))

    assert status(workspace, 2016)[TOKYO]["on_time"] is True
    assert status(workspace, 2016)[TOKYO]["deadline"] == date(2099, 12, 31)
    assert status(workspace, 2017)[OSAKA]["on_time"] is False
    received = query(
        workspace.warehouse_path, "select count(*) as n from raw.received_files where submitted_at = received_at"
    )
    assert received.n.item() == 2


def test_a_calendar_given_once_stays_in_effect(workspace: Settings, tmp_path: Path) -> None:
    calendar = write_calendar(tmp_path / "calendar.csv", "平成28年度,2017-07-31", "2017,2018-06-29")
    write_submission(workspace.inbox_dir, TOKYO, 2016, 100, detailed_referrals())
    run_audited(replace(workspace, calendar_path=calendar), "with-calendar")
    write_submission(workspace.inbox_dir, TOKYO, 2017, 100, detailed_referrals())

    run_audited(workspace, "without-calendar")  # no calendar given this time
    run_audited(replace(workspace, calendar_path=calendar), "same-calendar-again")

    years = rows(
        workspace,
        "select fiscal_year, deadline, deadline_source from marts.fiscal_year_status where fiscal_year >= 2015",
    )
    assert [tuple(row.values()) for row in years] == [
        (2015, date(2016, 6, 30), "default"),
        (2016, date(2017, 7, 31), "calendar"),
        (2017, date(2018, 6, 29), "calendar"),
    ]
    recorded = query(workspace.warehouse_path, "select fiscal_year, run_id from raw.deadline_calendar order by 1")
    assert recorded.values.tolist() == [[2016, "with-calendar"], [2017, "with-calendar"]]  # recorded once

    run_audited(replace(workspace, calendar_path=write_calendar(tmp_path / "later.csv", "2017,2018-08-31")), "later")
    deadline = rows(workspace, "select deadline from marts.fiscal_year_status where fiscal_year = 2017")
    assert deadline == [{"deadline": date(2018, 8, 31)}]


def test_a_closed_year_keeps_the_deadline_it_was_closed_with(workspace: Settings, tmp_path: Path) -> None:
    upload(workspace, TOKYO, "2017-07-15T10:00:00+09:00")
    run_audited(replace(workspace, calendar_path=write_calendar(tmp_path / "a.csv", "2016,2017-07-31")))
    governance.close_year(workspace, 2016, "公表", quality_gate=False)

    run_audited(replace(workspace, calendar_path=write_calendar(tmp_path / "b.csv", "2016,2017-07-10")), "changed")

    assert status(workspace)[TOKYO]["on_time"] is True  # judged by the deadline in effect at closing
    assert status(workspace)[TOKYO]["deadline"] == date(2017, 7, 31)
    governance.reopen_year(workspace, 2016, "再集計", quality_gate=False)
    assert status(workspace)[TOKYO]["on_time"] is False  # reopened: the latest calendar entry counts
    assert status(workspace)[TOKYO]["deadline"] == date(2017, 7, 10)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["fiscal_year;deadline"], "needs the header fiscal_year,deadline"),
        (["fiscal_year,deadline", "2016,30/06/2017"], "line 2: not an ISO date"),
        (["fiscal_year,deadline", "二千十六,2017-06-30"], "line 2: not a fiscal year"),
        (["fiscal_year,deadline", "2016,2017-03-31"], "is not after the year ends (2017-03-31)"),
        (["fiscal_year,deadline", "2016,2017-06-30", "H28,2017-07-31"], "line 3: FY2016 appears twice"),
        (["fiscal_year,deadline", "2016,2017-06-30,extra"], "line 2: expected fiscal_year,deadline"),
    ],
)
def test_a_calendar_that_cannot_be_used_is_refused_with_its_line(tmp_path: Path, rows: list[str], message: str) -> None:
    path = tmp_path / "calendar.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=re.escape(message)):
        read_calendar(path)


def test_a_calendar_is_read_with_era_years_a_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "calendar.csv"
    path.write_text("\ufefffiscal_year,deadline\r\nH28,2017-07-31\r\n,\r\n令和元年度,2020-09-30\r\n", encoding="utf-8")
    assert read_calendar(path) == {2016: date(2017, 7, 31), 2019: date(2020, 9, 30)}


def test_a_run_given_a_broken_calendar_fails_before_taking_any_file(workspace: Settings, tmp_path: Path) -> None:
    sent = write_submission(workspace.inbox_dir, TOKYO, 2016, 100, detailed_referrals())
    broken = write_calendar(tmp_path / "calendar.csv", "2016,tomorrow")

    with pytest.raises(CalendarError):
        run_audited(replace(workspace, calendar_path=broken), "broken")

    assert sent.exists()
    runs = query(workspace.warehouse_path, "select status, error from ops.pipeline_runs")
    assert runs.status.tolist() == ["failed"] and runs.error.item().startswith("CalendarError:")
