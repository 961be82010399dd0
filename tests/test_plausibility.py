"""Plausibility for small annual counts: a robust comparison of centers within a year (modified z-score on
the median and MAD of referrals per consultation), warnings only, in the run summary and the pre-check."""

import json
from pathlib import Path

import pytest
from support import detailed_referrals, run_steps, write_submission

from hikikomori.cli import main
from hikikomori.domain.reference import load_reference_data
from hikikomori.pipeline.plausibility import OutlierRule, YearSpread, modified_z_score, within_year_warnings
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.pipeline.steps import summarize
from hikikomori.settings import Settings

SPREAD = YearSpread(2016, centers=20, median=0.10, mad=0.02, mean_absolute_deviation=0.03)
RULE = OutlierRule(z_threshold=3.5, min_centers=10)


def test_the_modified_z_score_uses_median_and_mad() -> None:
    assert modified_z_score(0.10, SPREAD) == 0
    assert modified_z_score(0.20, SPREAD) == pytest.approx(0.6745 * 0.10 / 0.02)  # 3.37
    assert modified_z_score(0.0, SPREAD) == pytest.approx(-0.6745 * 0.10 / 0.02)


def test_a_year_whose_mad_is_zero_falls_back_on_the_mean_absolute_deviation() -> None:
    """Half the centers or more with one ratio make the MAD 0: the mean absolute deviation stands in."""
    flat = YearSpread(2016, centers=20, median=0.10, mad=0.0, mean_absolute_deviation=0.01)
    assert modified_z_score(0.15, flat) == pytest.approx(0.05 / (1.253314 * 0.01))
    assert modified_z_score(0.15, YearSpread(2016, 20, 0.10, 0.0, 0.0)) is None  # every ratio the same


@pytest.mark.parametrize(
    ("totals", "spread", "warned"),
    [
        ({"consultations": 100, "referrals": 21}, SPREAD, True),  # z = 0.6745 × 0.11 / 0.02 = 3.71
        ({"consultations": 100, "referrals": 20}, SPREAD, False),  # z = 3.37: within 3.5
        ({"consultations": 100, "referrals": 0}, SPREAD, False),  # z = -3.37
        ({"consultations": 100, "referrals": 0}, YearSpread(2016, 20, 0.10, 0.01, 0.02), True),  # z = -6.7
        ({"consultations": 100, "referrals": 40}, YearSpread(2016, 9, 0.10, 0.02, 0.03), False),  # too few centers
        ({"consultations": 0, "referrals": 0}, SPREAD, False),  # no ratio
        ({"consultations": 100, "referrals": 40}, None, False),  # no centers to compare with
    ],
)
def test_within_year_warnings(totals: dict[str, int], spread: YearSpread | None, warned: bool) -> None:
    warnings = within_year_warnings("f.csv", "130001", 2016, totals, spread, RULE)
    assert [warning.rule for warning in warnings] == (["referral_rate_outlier"] if warned else [])


def test_an_outlying_center_is_warned_in_the_run_summary_and_accepted(workspace: Settings) -> None:
    centers = sorted(center.center_code for center in load_reference_data().centers.values())[:12]
    for number, center in enumerate(centers):  # referrals per consultation from 0.08 to 0.13
        write_submission(workspace.inbox_dir, center, 2016, 200, detailed_referrals(school=16 + number // 2))
    write_submission(workspace.inbox_dir, "130001", 2016, 200, detailed_referrals(school=120))  # 0.6

    outcomes = run_steps(workspace)
    summary = summarize(workspace, "run", outcomes)

    assert {item.outcome for item in outcomes} == {"accepted"}  # a warning never rejects
    outliers = [warning for warning in summary.warnings if warning.rule == "referral_rate_outlier"]
    assert [(warning.center_code, round(warning.ratio or 0, 2)) for warning in outliers] == [("130001", 0.6)]
    assert "同じ年度のセンターの中央値 0.095 から大きく離れています" in format_run_summary(summary)


def test_the_precheck_warns_against_the_years_centers_and_still_exits_0(
    example_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = write_submission(tmp_path / "send", "130001", 2016, 1505, detailed_referrals(school=600))
    usual = write_submission(tmp_path / "usual", "010006", 2016, 1000, detailed_referrals(school=80))

    assert main(["validate", "--warehouse", str(example_warehouse), "--format", "json", str(odd), str(usual)]) == 0

    results = json.loads(capsys.readouterr().out)
    assert [[warning["rule"] for warning in result["warnings"]] for result in results] == [
        ["change_from_previous_year", "referral_rate_outlier"],  # 600 referrals: 5 times FY2015's, and far off
        [],
    ]
    warning = results[0]["warnings"][1]
    assert warning["z_score"] > 3.5 and warning["ratio"] == pytest.approx(600 / 1505)
    assert "modified z-score" in warning["message_en"] and "修正Zスコア" in warning["message_ja"]
