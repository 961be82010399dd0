"""The marts built from the bundled example submissions reproduce every figure the paper publishes.

Expected values are the paper's (DOMAIN.md); the marts compute them from per-center files.
"""

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from support import query

GROUPS = (
    "mental_health_welfare_center",
    "public_health_center",
    "medical_institution",
    "npo",
    "youth_support_station",
    "hello_work",
    "child_guidance_center",
    "welfare_office",
    "other",
)
PUBLISHED_CONSULTATIONS = {2012: 34312, 2013: 54470, 2014: 69701, 2015: 83211, 2016: 90794}
PUBLISHED_REFERRALS = {
    2012: (656, 488, 361, 339, 278, 101, 74, 82, 981),
    2013: (915, 722, 442, 397, 418, 96, 46, 85, 1783),
    2014: (1193, 992, 710, 848, 544, 123, 50, 104, 2706),
    2015: (1314, 815, 813, 1015, 568, 121, 94, 142, 2539),
    2016: (1323, 823, 723, 981, 674, 106, 50, 239, 2601),
}
PUBLISHED_REFERRAL_TOTALS = {2012: 3360, 2013: 4904, 2014: 7270, 2015: 7421, 2016: 7520}
PUBLISHED_SHARES = {
    2012: ("19.5", "14.5", "10.7", "10.1", "8.3", "3.0", "2.2", "2.4", "29.2"),
    2013: ("18.7", "14.7", "9.0", "8.1", "8.5", "2.0", "0.9", "1.7", "36.4"),
    2014: ("16.4", "13.6", "9.8", "11.7", "7.5", "1.7", "0.7", "1.4", "37.2"),
    2015: ("17.7", "11.0", "11.0", "13.7", "7.7", "1.6", "1.3", "1.9", "34.2"),
    2016: ("17.6", "10.9", "9.6", "13.0", "9.0", "1.4", "0.7", "3.2", "34.6"),
}
DETAILED_2016 = (
    ("welfare_office", 239, "3.2"),
    ("municipal_office", 313, "4.2"),
    ("social_welfare_council", 92, "1.2"),
    ("self_reliance_support_agency", 97, "1.3"),
    ("community_general_support_center", 31, "0.4"),
    ("child_guidance_center", 50, "0.7"),
    ("child_family_support_center", 42, "0.6"),
    ("public_health_center", 823, "10.9"),
    ("mental_health_welfare_center", 1323, "17.6"),
    ("developmental_disability_support_center", 89, "1.2"),
    ("medical_institution", 723, "9.6"),
    ("hello_work_duplicate", 92, "1.2"),
    ("youth_support_station", 674, "9.0"),
    ("hello_work", 106, "1.4"),
    ("company", 31, "0.4"),
    ("school", 363, "4.8"),
    ("private_support_org", 981, "13.0"),
    ("disability_employment_facility", 482, "6.4"),
    ("disability_welfare_facility", 86, "1.1"),
    ("other_hikikomori_center", 186, "2.5"),
    ("other", 697, "9.3"),
)
# (new, cumulative) as published in 年度別設置自治体数, and as the registry's opening years give.
PUBLISHED_ESTABLISHMENT = {
    2009: (18, 18),
    2010: (8, 26),
    2011: (6, 32),
    2012: (5, 37),
    2013: (7, 44),
    2014: (8, 52),
    2015: (9, 61),
    2016: (3, 64),
    2017: (2, 66),
    2018: (1, 67),
}
REGISTRY_CUMULATIVE = {
    2007: 1,
    2008: 2,
    2009: 17,
    2010: 25,
    2011: 32,
    2012: 37,
    2013: 45,
    2014: 53,
    2015: 61,
    2016: 64,
    2017: 66,
    2018: 67,
}


def printed_percent(value: float) -> str:
    """Round as the paper prints: half up, one decimal."""
    return str(Decimal(str(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("fiscal_year", sorted(PUBLISHED_CONSULTATIONS))
def test_consultation_totals_match_paper(example_warehouse: Path, fiscal_year: int) -> None:
    row = query(
        example_warehouse,
        "select * from marts.consultation_totals where fiscal_year = ?",
        [fiscal_year],
    )
    assert row.consultations.item() == PUBLISHED_CONSULTATIONS[fiscal_year]
    assert row.centers_established.item() == REGISTRY_CUMULATIVE[fiscal_year]
    assert row.centers_reporting.item() == REGISTRY_CUMULATIVE[fiscal_year]


def test_fiscal_year_labels(example_warehouse: Path) -> None:
    labels = query(example_warehouse, "select fiscal_year, fiscal_year_label from marts.consultation_totals")
    assert dict(zip(labels.fiscal_year, labels.fiscal_year_label, strict=True))[2016] == "平成28年度"


@pytest.mark.parametrize("fiscal_year", sorted(PUBLISHED_REFERRALS))
def test_referrals_by_group_match_paper(example_warehouse: Path, fiscal_year: int) -> None:
    rows = query(
        example_warehouse,
        "select * from marts.referral_shares where fiscal_year = ?",
        [fiscal_year],
    )
    by_group = rows.set_index("agency_group")
    assert tuple(by_group.loc[list(GROUPS), "referrals"]) == PUBLISHED_REFERRALS[fiscal_year]
    assert by_group.referrals.sum() == PUBLISHED_REFERRAL_TOTALS[fiscal_year]
    printed = tuple(printed_percent(by_group.at[group, "share_pct"]) for group in GROUPS)
    assert printed == PUBLISHED_SHARES[fiscal_year]
    assert by_group.share_pct.sum() == pytest.approx(100.0)


def test_referral_group_labels_are_published_labels(example_warehouse: Path) -> None:
    rows = query(
        example_warehouse,
        "select agency_group_label from marts.referral_shares where fiscal_year = 2016",
    )
    assert list(rows.agency_group_label) == [
        "精神保健福祉センター",
        "保健所・保健センター",
        "医療機関",
        "NPO法人等",
        "地域若者サポートステーション",
        "ハローワーク",
        "児童相談所",
        "福祉事務所",
        "その他",
    ]


def test_fiscal_2016_detail_matches_paper(example_warehouse: Path) -> None:
    rows = query(
        example_warehouse,
        "select * from marts.referral_detail_shares where fiscal_year = 2016 order by display_order",
    )
    assert tuple(rows.agency) == tuple(code for code, _, _ in DETAILED_2016)
    assert tuple(rows.referrals) == tuple(count for _, count, _ in DETAILED_2016)
    assert tuple(printed_percent(share) for share in rows.share_pct) == tuple(pct for _, _, pct in DETAILED_2016)
    duplicate = rows.set_index("agency").loc["hello_work_duplicate"]
    assert duplicate.agency_group == "other"
    assert duplicate.agency_label == "ハローワーク（出典の重複ラベル）"


def test_detail_is_only_for_years_reported_in_detail(example_warehouse: Path) -> None:
    years = query(
        example_warehouse,
        "select distinct fiscal_year from marts.referral_detail_shares order by 1",
    )
    assert list(years.fiscal_year) == [2016, 2017, 2018]


def test_center_establishment_shows_where_registry_and_paper_disagree(
    example_warehouse: Path,
) -> None:
    rows = query(example_warehouse, "select * from marts.center_establishment order by fiscal_year")
    assert dict(zip(rows.fiscal_year, rows.cumulative_centers, strict=True)) == REGISTRY_CUMULATIVE
    published = rows.dropna(subset=["published_new"]).set_index("fiscal_year")
    assert {
        year: (int(row.published_new), int(row.published_cumulative)) for year, row in published.iterrows()
    } == PUBLISHED_ESTABLISHMENT
    flags = {
        year: None if pd.isna(match) else bool(match)
        for year, match in zip(rows.fiscal_year, rows.matches_published, strict=True)
    }
    # DOMAIN.md: cumulative differs in 2009, 2010, 2013, 2014; new differs in 2009, 2011, 2013, 2015.
    assert {year for year, match in flags.items() if match is False} == {
        2009,
        2010,
        2011,
        2013,
        2014,
        2015,
    }
    assert {year for year, match in flags.items() if match is True} == {2012, 2016, 2017, 2018}
    assert flags[2007] is None and flags[2008] is None  # the paper has no figure before FY2009


@pytest.mark.parametrize(
    ("fiscal_year", "status", "target_value"),
    [
        (2012, "no_baseline", None),  # no FY2011 figures: no baseline
        (2013, "pass", 3360 / 37 * 45),  # 4,904 > 4,086.5
        (2014, "pass", 4904 / 45 * 53),  # 7,270 > 5,775.8
        (2015, "fail", 7270 / 53 * 61),  # 7,421 ≤ 8,367.4
        (2016, "fail", 7421 / 61 * 64),  # 7,520 ≤ 7,786.0
    ],
)
def test_referral_target_verdicts(
    example_warehouse: Path, fiscal_year: int, status: str, target_value: float | None
) -> None:
    row = query(
        example_warehouse,
        "select * from marts.outcome_targets where fiscal_year = ? and target = 'referrals_per_center'",
        [fiscal_year],
    ).iloc[0]
    assert row.status == status
    assert row.actual == PUBLISHED_REFERRAL_TOTALS[fiscal_year]
    assert row.centers_current == REGISTRY_CUMULATIVE[fiscal_year]
    if target_value is None:
        assert pd.isna(row.target_value) and pd.isna(row.baseline)
    else:
        assert row.baseline == PUBLISHED_REFERRAL_TOTALS[fiscal_year - 1]
        assert row.centers_previous == REGISTRY_CUMULATIVE[fiscal_year - 1]
        assert row.target_value == pytest.approx(target_value)


def test_one_target_row_per_year_with_an_actual(example_warehouse: Path) -> None:
    rows = query(example_warehouse, "select fiscal_year, target, status from marts.outcome_targets")
    assert not rows.duplicated(["fiscal_year", "target"]).any()
    referral_years = set(rows[rows.target == "referrals_per_center"].fiscal_year)
    assert referral_years == {2012, 2013, 2014, 2015, 2016, 2017, 2018}
    supporter = rows[rows.target == "supporter_activities"].set_index("fiscal_year").status.to_dict()
    assert set(supporter) == {2017, 2018}
    assert supporter[2017] == "no_baseline"  # supporter activities are first reported in FY2017


def test_submission_status_marks_the_rejected_example(example_warehouse: Path) -> None:
    rows = query(example_warehouse, "select * from marts.submission_status")
    counts = rows.groupby(["fiscal_year", "status"]).size().to_dict()
    assert counts[(2016, "accepted")] == 64
    osaka = rows[(rows.fiscal_year == 2017) & (rows.center_code == "271004")].iloc[0]
    assert osaka.status == "rejected"
    assert pd.isna(osaka.version)
    assert (rows[rows.status == "accepted"].version == 1).all()
