"""Fiscal-year governance (CONTRACT.md §5): closing a year, pending and accepted revisions, reopening,
and what each command answers when a request cannot be done."""

import fcntl
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from support import (
    EXAMPLE_SUBMISSIONS,
    detailed_referrals,
    make_settings,
    query,
    run_audited,
    write_submission,
)

from hikikomori.cli import main
from hikikomori.pipeline import governance
from hikikomori.pipeline.governance import RequestRefused
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.migrate import available_migrations

TOKYO, OSAKA, HOKKAIDO = "130001", "270008", "010006"
# The marts whose figures a closed year fixes (status marts also show pending revisions).
FIGURE_MARTS = (
    "consultation_totals",
    "referral_shares",
    "referral_detail_shares",
    "outcome_targets",
    "center_figures",
    "center_referral_rates",
)


def send(settings: Settings, center: str, year: int, consultations: int, **referrals: int) -> None:
    write_submission(settings.inbox_dir, center, year, consultations, detailed_referrals(**referrals))


def figures(settings: Settings, fiscal_year: int | None = None) -> dict[str, list[dict[str, object]]]:
    """The figure marts' rows (of one fiscal year, or all), in a fixed order."""
    marts = {}
    for table in FIGURE_MARTS:  # the module's own constants
        frame = query(settings.warehouse_path, f"select * from marts.{table} order by all")
        if fiscal_year is not None:
            frame = frame[frame.fiscal_year == fiscal_year]
        marts[table] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return marts


def center_figures(settings: Settings, fiscal_year: int) -> pd.DataFrame:
    return query(
        settings.warehouse_path,
        "select center_code, measure, category, reported_count from marts.center_figures "
        "where fiscal_year = ? order by all",
        [fiscal_year],
    )


def built_once(tmp_path_factory: pytest.TempPathFactory, close: bool) -> Path:
    """Three centers' FY2016 and FY2017 taken in by one run (FY2016 closed if asked): the warehouse folder."""
    settings = make_settings(tmp_path_factory.mktemp("closed" if close else "open"))
    for center, consultations in ((TOKYO, 100), (OSAKA, 200), (HOKKAIDO, 300)):
        send(settings, center, 2016, consultations, school=consultations // 10)
        send(settings, center, 2017, consultations + 10, school=consultations // 10 + 1)
    run_audited(settings, "first")
    if close:
        governance.close_year(settings, 2016, "平成28年度の公表", quality_gate=False)
    return settings.warehouse_path.parent


@pytest.fixture(scope="module")
def open_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_once(tmp_path_factory, close=False)


@pytest.fixture(scope="module")
def closed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_once(tmp_path_factory, close=True)


def copied(template: Path, workspace: Settings) -> Settings:
    """The workspace with its own copy of a warehouse built once for this module."""
    shutil.copytree(template, workspace.warehouse_path.parent)
    return workspace


@pytest.fixture
def two_years(open_template: Path, workspace: Settings) -> Settings:
    """Three centers' FY2016 and FY2017, taken in by one run; nothing closed yet."""
    return copied(open_template, workspace)


@pytest.fixture
def closed_2016(closed_template: Path, workspace: Settings) -> Settings:
    """The same, with FY2016 closed (decision 1, note 平成28年度の公表)."""
    return copied(closed_template, workspace)


def test_a_closed_year_is_unchanged_by_late_files_until_a_revision_is_accepted(closed_2016: Settings) -> None:
    before = figures(closed_2016)
    send(closed_2016, TOKYO, 2016, 999, school=90)  # a late correction of the closed year

    outcomes = run_audited(closed_2016, "late")

    assert [(item.outcome, item.version) for item in outcomes] == [("accepted", 2)]  # validated, archived, recorded
    assert figures(closed_2016) == before  # FY2016 and FY2017's verdicts (FY2016 is their baseline) unchanged
    status = query(
        closed_2016.warehouse_path,
        "select version, pending_version from marts.submission_status where fiscal_year = 2016 and center_code = ?",
        [TOKYO],
    )
    assert status.to_dict("records") == [{"version": 1, "pending_version": 2}]
    runs = query(closed_2016.warehouse_path, "select fiscal_years_rebuilt from ops.pipeline_runs where run_id = 'late'")
    assert list(runs.fiscal_years_rebuilt.item()) == []  # the run changed no year's figures


def test_accepting_a_revision_changes_exactly_that_centers_figures(closed_2016: Settings) -> None:
    before = center_figures(closed_2016, 2016)
    send(closed_2016, TOKYO, 2016, 999, school=90)
    send(closed_2016, OSAKA, 2016, 555, school=55)
    run_audited(closed_2016, "late")

    decision = governance.accept_revision(closed_2016, 2016, TOKYO, "東京都の訂正（学校への紹介）", quality_gate=False)

    assert (decision.from_version, decision.to_version) == (1, 2)
    after = center_figures(closed_2016, 2016)
    changed = before.merge(after, on=["center_code", "measure", "category"], suffixes=("_before", "_after"))
    changed = changed[changed.reported_count_before != changed.reported_count_after]
    assert set(changed.center_code) == {TOKYO}  # Osaka's late file is still pending, Hokkaido untouched
    assert changed[["measure", "category", "reported_count_before", "reported_count_after"]].values.tolist() == [
        ["consultations", "total", 100, 999],
        ["referrals", "other", 10, 90],  # school rolls up into その他
        ["referrals", "total", 10, 90],
    ]
    totals = query(
        closed_2016.warehouse_path, "select consultations from marts.consultation_totals where fiscal_year = 2016"
    )
    assert totals.consultations.item() == 999 + 200 + 300
    target = query(closed_2016.warehouse_path, "select baseline from marts.outcome_targets where fiscal_year = 2017")
    assert target.baseline.tolist() == [90 + 20 + 30]  # FY2017's baseline follows the accepted revision
    revisions = query(closed_2016.warehouse_path, "select * from ops.revisions")
    assert revisions[["fiscal_year", "center_code", "from_version", "to_version", "note"]].values.tolist() == [
        [2016, TOKYO, 1, 2, "東京都の訂正（学校への紹介）"]
    ]
    pending = query(closed_2016.warehouse_path, "select center_code from intermediate.int_pending_revisions")
    assert pending.center_code.tolist() == [OSAKA]


def test_reopening_returns_to_latest_wins(closed_2016: Settings, tmp_path: Path) -> None:
    send(closed_2016, TOKYO, 2016, 999, school=90)
    send(closed_2016, OSAKA, 2016, 555, school=55)
    run_audited(closed_2016, "late")
    governance.accept_revision(closed_2016, 2016, TOKYO, "訂正", quality_gate=False)

    governance.reopen_year(closed_2016, 2016, "全センターの最新版で再集計", quality_gate=False)

    never_closed = make_settings(tmp_path / "never-closed")  # the same files, no decision ever
    for center, consultations in ((TOKYO, 100), (OSAKA, 200), (HOKKAIDO, 300)):
        send(never_closed, center, 2016, consultations, school=consultations // 10)
        send(never_closed, center, 2017, consultations + 10, school=consultations // 10 + 1)
    run_audited(never_closed, "first")
    send(never_closed, TOKYO, 2016, 999, school=90)
    send(never_closed, OSAKA, 2016, 555, school=55)
    run_audited(never_closed, "late")
    assert figures(closed_2016) == figures(never_closed)
    reopening = query(
        closed_2016.warehouse_path,
        "select center_code is null and from_version is null and to_version is null as for_the_year, note "
        "from ops.revisions where action = 'reopen_year'",
    )
    assert reopening.values.tolist() == [[True, "全センターの最新版で再集計"]]


def test_a_year_closed_again_counts_what_was_latest_at_its_second_closing(closed_2016: Settings) -> None:
    governance.reopen_year(closed_2016, 2016, "再集計", quality_gate=False)
    send(closed_2016, TOKYO, 2016, 700, school=70)
    run_audited(closed_2016, "while-open")
    governance.close_year(closed_2016, 2016, "再公表", quality_gate=False)
    send(closed_2016, TOKYO, 2016, 800, school=80)
    run_audited(closed_2016, "late-again")

    totals = query(
        closed_2016.warehouse_path, "select consultations from marts.consultation_totals where fiscal_year = 2016"
    )
    assert totals.consultations.item() == 700 + 200 + 300
    publications = query(closed_2016.warehouse_path, "select publication_id, note from ops.publications order by 1")
    assert publications.note.tolist() == ["平成28年度の公表", "再公表"]
    years = query(closed_2016.warehouse_path, "select * from marts.fiscal_year_status where fiscal_year = 2016")
    assert years[["is_closed", "publication_id", "pending_revisions"]].values.tolist() == [
        [True, publications.publication_id.iloc[-1], 1]
    ]


def test_each_command_succeeds_and_publishes_the_analysts_copy(
    two_years: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = ["--warehouse", str(two_years.warehouse_path)]
    assert main(["close-year", "--fiscal-year", "2016", "--note", "平成28年度の公表", *warehouse]) == 0
    assert "2016 (平成28年度) 確定（公表） / closed (published) (#1): 3 センターの版を確定" in capsys.readouterr().out
    send(two_years, TOKYO, 2016, 150, school=10, company=2)
    run_audited(two_years, "late")

    assert main(["revisions", *warehouse]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("2016 (平成28年度) 130001 東京都: 集計中 counted 第1版 → 保留中 pending 第2版")
    assert listed[1:] == [
        "  延べ相談件数 / consultations: 100 → 150",
        "  関係機関につないだ件数 企業 / referrals: Company: 0 → 2",
    ]
    assert main(["accept-revision", "--fiscal-year", "H28", "--center", TOKYO, "--note", "訂正", *warehouse]) == 0
    assert "修正の採用 / revision accepted (#2): 団体 130001: 第1版 v1 → 第2版 v2" in capsys.readouterr().out
    assert main(["revisions", "--fiscal-year", "2016", *warehouse]) == 0
    assert capsys.readouterr().out == "保留中の修正はありません / no pending revisions\n"
    assert main(["reopen-year", "--fiscal-year", "2016", "--note", "再集計", *warehouse]) == 0
    assert "確定の解除 / reopened (#3)" in capsys.readouterr().out

    runs = query(two_years.warehouse_path, "select flow_name, status, fiscal_years_rebuilt from ops.pipeline_runs")
    governed = runs[runs.flow_name != "test"]
    assert governed.flow_name.tolist() == ["close-year", "revisions", "accept-revision", "revisions", "reopen-year"]
    assert set(governed.status) == {"completed"}
    assert [list(years) for years in governed.fiscal_years_rebuilt] == [[], [], [2016], [], [2016]]
    with connect(two_years.analytics_path, read_only=True) as copy:  # republished by the last command
        assert copy.execute("select count(*) from ops.revisions").fetchall() == [(2,)]
        checks = copy.execute("select distinct outcome from quality.expectation_results").fetchall()
    assert checks == [("pass",)]  # each command ran the quality gate


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["close-year", "--fiscal-year", "2030", "--note", "x"], "no accepted submission for FY2030 (unknown year)"),
        (["close-year", "--fiscal-year", "2016", "--note", "x"], "FY2016 is already closed"),
        (["close-year", "--fiscal-year", "2017", "--note", " "], "give the reason with --note"),
        (["revisions", "--fiscal-year", "2017"], "FY2017 is open: its latest versions count"),
        (["revisions", "--fiscal-year", "2015"], "no accepted submission for FY2015 (unknown year)"),
        (["accept-revision", "--fiscal-year", "2016", "--center", TOKYO, "--note", "x"], "nothing pending for center"),
        (["accept-revision", "--fiscal-year", "2017", "--center", TOKYO, "--note", "x"], "FY2017 is open"),
        (["accept-revision", "--fiscal-year", "2016", "--center", "130000", "--note", "x"], "not a center code"),
        (["reopen-year", "--fiscal-year", "2017", "--note", "x"], "FY2017 is open"),
        (["reopen-year", "--fiscal-year", "2030", "--note", "x"], "unknown year"),
    ],
)
def test_a_request_that_cannot_be_done_exits_1_with_one_line_and_changes_nothing(
    closed_2016: Settings, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    decisions = query(closed_2016.warehouse_path, "select * from raw.fiscal_year_decisions")
    runs = query(closed_2016.warehouse_path, "select * from ops.pipeline_runs")

    assert main([*arguments, "--warehouse", str(closed_2016.warehouse_path)]) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"hikikomori {arguments[0]}: ") and message in error
    pd.testing.assert_frame_equal(
        query(closed_2016.warehouse_path, "select * from raw.fiscal_year_decisions"), decisions
    )
    pd.testing.assert_frame_equal(query(closed_2016.warehouse_path, "select * from ops.pipeline_runs"), runs)


def test_a_command_on_a_missing_warehouse_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["close-year", "--fiscal-year", "2016", "--note", "x", "--warehouse", str(tmp_path / "no.duckdb")]) == 1
    assert "warehouse not found" in capsys.readouterr().err


def test_a_command_waits_for_the_run_lock_and_gives_up_with_one_line(
    two_years: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with two_years.run_lock_path.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a run holds the warehouse
        arguments = ["close-year", "--fiscal-year", "2016", "--note", "x", "--lock-timeout", "0.2"]
        code = main([*arguments, "--warehouse", str(two_years.warehouse_path)])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("hikikomori close-year failed: RunLockTimeout:")
    assert query(two_years.warehouse_path, "select count(*) as n from raw.fiscal_year_decisions").n.item() == 0


def test_a_command_upgrades_a_warehouse_of_the_previous_main(workspace: Settings) -> None:
    import gzip

    from test_migrations import PREVIOUS_MAIN_WAREHOUSE

    workspace.warehouse_path.parent.mkdir(parents=True)
    with gzip.open(PREVIOUS_MAIN_WAREHOUSE) as packed, workspace.warehouse_path.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)

    decision = governance.close_year(workspace, 2016, "公表", quality_gate=False)

    assert decision.counted_centers == 4
    ledger = query(workspace.warehouse_path, "select max(version) as latest from ops.schema_migrations")
    assert ledger.latest.item() == available_migrations()[-1].version  # every migration applied


def test_what_changed_between_two_versions_from_the_cli(
    closed_2016: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    send(closed_2016, TOKYO, 2016, 100, school=12)
    run_audited(closed_2016, "second")
    warehouse = ["--warehouse", str(closed_2016.warehouse_path)]

    assert main(["diff", "--center", TOKYO, "--fiscal-year", "2016", *warehouse]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "東京都（130001）2016 (平成28年度): 第1版 → 第2版 / version 1 → 2",
        "  関係機関につないだ件数 学校・教育委員会等 / referrals: School or board of education: 10 → 12",
    ]
    assert main(["diff", "--center", TOKYO, "--fiscal-year", "2016", "--from", "2", "--to", "1", *warehouse]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith(": 12 → 10")
    assert main(["diff", "--center", TOKYO, "--fiscal-year", "2016", "--to", "3", *warehouse]) == 1
    assert "no version 3 of center 130001 for FY2016 (versions: 1, 2)" in capsys.readouterr().err
    assert main(["diff", "--center", OSAKA, "--fiscal-year", "2016", *warehouse]) == 1
    assert "version 1 has no earlier version" in capsys.readouterr().err


def test_a_comparison_lists_items_added_or_left_out(closed_2016: Settings) -> None:
    path = write_submission(
        closed_2016.inbox_dir, TOKYO, 2016, 100, detailed_referrals(school=10), supporter_activities=4
    )
    path.write_text(path.read_text(encoding="utf-8") + f"{TOKYO},2016,referrals,total,10\n", encoding="utf-8")
    run_audited(closed_2016, "second")

    with connect(closed_2016.analytics_path, read_only=True) as connection:
        comparison = governance.compare_versions(connection, TOKYO, 2016)

    assert [governance.format_change(change) for change in comparison.changes] == [
        "関係機関につないだ件数（合計） / referrals (total): — → 10",
        "ひきこもりサポーターの活動件数 / supporter activities: — → 4",
    ]
    assert [(version.version, version.counted) for version in comparison.versions] == [(1, True), (2, False)]
    with connect(closed_2016.analytics_path, read_only=True) as connection, pytest.raises(RequestRefused):
        governance.compare_versions(connection, TOKYO, 2016, 2, 2)


def test_the_supporter_target_never_compares_one_center_with_65(tmp_path: Path) -> None:
    """The issue's reproduction: one center adds the optional サポーター row to its FY2016 file."""
    settings = make_settings(tmp_path)
    shutil.copytree(EXAMPLE_SUBMISSIONS, settings.inbox_dir)
    tokyo_2016 = settings.inbox_dir / "130001_2016.csv"
    tokyo_2016.write_text(
        tokyo_2016.read_text(encoding="utf-8") + "130001,平成28年度,supporter_activities,total,25\n", encoding="utf-8"
    )

    run_audited(settings)

    target = query(
        settings.warehouse_path,
        "select * from marts.outcome_targets where fiscal_year = 2017 and target = 'supporter_activities'",
    ).iloc[0]
    # National against national would pass: 1,175 from 65 centers > 25 from one. Like with like compares
    # Tokyo with itself: 20 in FY2017 against 25 in FY2016.
    assert (target.actual, target.baseline) == (1175, 25)
    assert (target.compared_actual, target.compared_baseline) == (20, 25)
    assert (target.centers_reporting_previous, target.centers_reporting_current, target.centers_in_both_years) == (
        1,
        65,
        1,
    )
    assert target.status == "fail" and target.provisional


def test_the_reports_revision_notes_and_provisional_verdicts(closed_2016: Settings, tmp_path: Path) -> None:
    from hikikomori.report.national import build_report

    send(closed_2016, TOKYO, 2016, 999, school=90)
    send(closed_2016, OSAKA, 2016, 555, school=55)
    run_audited(closed_2016, "late")
    governance.accept_revision(closed_2016, 2016, TOKYO, "東京都: 学校への紹介を<訂正>", quality_gate=False)

    page = build_report(closed_2016.warehouse_path, tmp_path / "report").html.read_text(encoding="utf-8")

    revisions = page.split("確定した年度と修正 / closed years and their revisions")[1].split("</table>")[0]
    assert "平成28年度の公表" in revisions and "確定（公表） closed (published)" in revisions
    assert "東京都（130001）" in revisions and "第1版 → 第2版" in revisions
    assert "東京都: 学校への紹介を&lt;訂正&gt;" in revisions  # notes are escaped
    assert "保留中の修正 / pending revisions: 平成28年度 1." in page.split("closed years and their revisions")[1]
    rates = page.split("報告率と期限内提出率 / reporting rate and timeliness")[1].split("</table>")[0]
    assert "確定 closed" in rates and "未確定 open" in rates
    targets = page.split("成果目標 / outcome targets")[1].split("</table>")[0]
    assert targets.count("<td>暫定</td>") == 1  # FY2017: its own year is open
    assert targets.count("<td>確定</td>") == 1  # FY2016 (no baseline): closed


def test_a_refused_request_releases_the_lock(two_years: Settings) -> None:
    """The next command runs at once after a refusal."""
    with pytest.raises(RequestRefused):
        governance.reopen_year(two_years, 2016, "open year", quality_gate=False)
    fast = replace(two_years, run_lock_timeout_seconds=0.1)
    assert governance.close_year(fast, 2016, "公表", quality_gate=False).decision_id == 1


def test_a_center_missing_at_closing_sends_its_first_file_late(closed_2016: Settings) -> None:
    yokohama = "141003"
    send(closed_2016, yokohama, 2016, 40, school=4)
    run_audited(closed_2016, "late")

    (pending,) = governance.list_revisions(closed_2016, 2016, quality_gate=False)

    assert (pending.revision.center_code, pending.revision.counted_version, pending.revision.pending_version) == (
        yokohama,
        None,
        1,
    )
    assert [governance.format_change(change) for change in pending.changes][:2] == [
        "延べ相談件数 / consultations: — → 40",
        "関係機関につないだ件数 福祉事務所 / referrals: Welfare office: — → 0",
    ]
    status = query(
        closed_2016.warehouse_path,
        "select status, version, pending_version, on_time from marts.submission_status "
        "where fiscal_year = 2016 and center_code = ?",
        [yokohama],
    )
    assert status.astype(object).where(status.notna(), None).values.tolist() == [["missing", None, 1, False]]
    decision = governance.accept_revision(closed_2016, 2016, yokohama, "横浜市の遅れた提出を採用", quality_gate=False)
    assert (decision.from_version, decision.to_version) == (None, 1)
    centers = query(
        closed_2016.warehouse_path, "select centers_reporting from marts.consultation_totals where fiscal_year = 2016"
    )
    assert centers.centers_reporting.item() == 4


def test_a_comparison_without_changed_counts_says_so() -> None:
    comparison = governance.VersionComparison("130001", 2016, 1, 2, changes=[], versions=[])

    assert governance.format_comparison(comparison, "東京都") == (
        "東京都（130001）2016 (平成28年度): 第1版 → 第2版 / version 1 → 2\n"
        "  件数の違いはありません / no count differs\n"
    )
