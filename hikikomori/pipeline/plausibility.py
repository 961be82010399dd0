"""Warnings that never reject a file: figures that are allowed but worth a second look.

- a center's consultations or referrals changing by more than a factor (settings) from its
  previous fiscal year, when the warehouse holds that year;
- referrals exceeding consultations (every referral starts as a consultation);
- within the fiscal year, a center's referrals per consultation far from the other centers':
  a modified z-score (Iglewicz and Hoaglin) on the median and the median absolute deviation (MAD)
  of the year's ratios, from ``marts.center_referral_rates``. Annual counts per center are small and
  skewed, so the mean ± standard deviation would flag too much (DHIS2's documentation warns of it);
  median and MAD are not moved by the outliers they look for.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hikikomori.domain.labels import label
from hikikomori.domain.vocabulary import Measure, PlausibilityRule
from hikikomori.schemas.validation import Totals
from hikikomori.settings import Settings
from hikikomori.warehouse import queries

if TYPE_CHECKING:  # the pre-check imports duckdb only when given a warehouse
    from hikikomori.warehouse import Connection

CHECKED_MEASURES = (Measure.CONSULTATIONS, Measure.REFERRALS)
# Iglewicz & Hoaglin: M = 0.6745 (x − median) / MAD, where 0.6745 makes the MAD comparable with a
# standard deviation for normal data. When the MAD is 0 (half the centers or more share one ratio),
# the mean absolute deviation from the median stands in: M = (x − median) / (1.253314 · MeanAD).
_MAD_CONSISTENCY = 0.6745
_MEAN_AD_CONSISTENCY = 1.253314


@dataclass(frozen=True)
class OutlierRule:
    """When a within-year comparison is made, and what counts as far (settings)."""

    z_threshold: float = 3.5
    min_centers: int = 10


def outlier_rule(settings: Settings) -> OutlierRule:
    return OutlierRule(settings.outlier_z_threshold, settings.outlier_min_centers)


@dataclass(frozen=True)
class YearSpread:
    """The centre and spread of one fiscal year's referrals per consultation, over its centers."""

    fiscal_year: int
    centers: int
    median: float
    mad: float
    mean_absolute_deviation: float


@dataclass(frozen=True)
class PlausibilityWarning:
    file: str
    center_code: str
    fiscal_year: int
    rule: str  # a PlausibilityRule
    measure: Measure
    value: int
    compared_with: int  # the previous year's total, or the consultations
    factor: float | None = None
    # referral_rate_outlier: the center's ratio, the year's median and the modified z-score
    ratio: float | None = None
    median: float | None = None
    z_score: float | None = None

    @property
    def message_ja(self) -> str:
        if self.rule == PlausibilityRule.CHANGE_FROM_PREVIOUS_YEAR:
            return (
                f"{label(Measure(self.measure)).ja} {self.value:,} 件が前年度の {self.compared_with:,} 件から"
                f" {self.factor:g} 倍を超えて変わっています。誤りでなければそのまま提出できます"
            )
        if self.rule == PlausibilityRule.REFERRAL_RATE_OUTLIER:
            return (
                f"相談1件あたりの{label(Measure.REFERRALS).ja}（{self.value:,} ÷ {self.compared_with:,} ="
                f" {self.ratio:.3f}）が、同じ年度のセンターの中央値 {self.median:.3f} から大きく離れています"
                f"（修正Zスコア {self.z_score:+.1f}）。誤りでなければそのまま提出できます"
            )
        return (
            f"{label(Measure.REFERRALS).ja} {self.value:,} 件が{label(Measure.CONSULTATIONS).ja}"
            f" {self.compared_with:,} 件を上回っています。"
            "誤りでなければそのまま提出できます"
        )

    @property
    def message_en(self) -> str:
        if self.rule == PlausibilityRule.CHANGE_FROM_PREVIOUS_YEAR:
            return (
                f"{self.measure} {self.value:,} changed by more than {self.factor:g}x from the previous year's"
                f" {self.compared_with:,}; if correct, the file can be sent as it is"
            )
        if self.rule == PlausibilityRule.REFERRAL_RATE_OUTLIER:
            return (
                f"referrals per consultation ({self.value:,} / {self.compared_with:,} = {self.ratio:.3f}) are far"
                f" from the median of the year's centers, {self.median:.3f} (modified z-score {self.z_score:+.1f});"
                " if correct, the file can be sent as it is"
            )
        return (
            f"referrals {self.value:,} exceed consultations {self.compared_with:,};"
            " if correct, the file can be sent as it is"
        )

    def as_record(self) -> dict[str, object]:
        return {
            "file": self.file,
            "center_code": self.center_code,
            "fiscal_year": self.fiscal_year,
            "rule": self.rule,
            "measure": self.measure,
            "value": self.value,
            "compared_with": self.compared_with,
            "factor": self.factor,
            "ratio": self.ratio,
            "median": self.median,
            "z_score": self.z_score,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }


def warehouse_totals(connection: "Connection", pairs: list[tuple[str, int]]) -> dict[tuple[str, int], Totals]:
    """The counted totals of these (center, fiscal year) pairs, from the built marts."""
    totals: dict[tuple[str, int], Totals] = {}
    for center_code, fiscal_year, measure, total in queries.center_totals(connection, pairs):
        totals.setdefault((center_code, fiscal_year), {})[measure] = total
    return totals


def plausibility_warnings(
    file: str,
    center_code: str,
    fiscal_year: int,
    current: Totals,
    previous: Totals | None,
    factor: float,
) -> list[PlausibilityWarning]:
    warnings = []
    for measure in CHECKED_MEASURES:
        if previous is None or measure not in current or measure not in previous:
            continue
        value, before = current[measure], previous[measure]
        if max(value, before) > factor * min(value, before):
            warnings.append(
                PlausibilityWarning(
                    file,
                    center_code,
                    fiscal_year,
                    PlausibilityRule.CHANGE_FROM_PREVIOUS_YEAR,
                    measure,
                    value,
                    before,
                    factor,
                )
            )
    referrals, consultations = current.get(Measure.REFERRALS), current.get(Measure.CONSULTATIONS)
    if referrals is not None and consultations is not None and referrals > consultations:
        warnings.append(
            PlausibilityWarning(
                file,
                center_code,
                fiscal_year,
                PlausibilityRule.REFERRALS_EXCEED_CONSULTATIONS,
                Measure.REFERRALS,
                referrals,
                consultations,
            )
        )
    return warnings


def modified_z_score(ratio: float, spread: YearSpread) -> float | None:
    """How far a ratio lies from the year's median, in robust standard deviations (None: no spread)."""
    if spread.mad > 0:
        return _MAD_CONSISTENCY * (ratio - spread.median) / spread.mad
    if spread.mean_absolute_deviation > 0:
        return (ratio - spread.median) / (_MEAN_AD_CONSISTENCY * spread.mean_absolute_deviation)
    return None  # every center of the year has the same ratio


def within_year_warnings(
    file: str, center_code: str, fiscal_year: int, current: Totals, spread: YearSpread | None, rule: OutlierRule
) -> list[PlausibilityWarning]:
    """A warning when the file's referrals per consultation are far from the year's other centers'."""
    referrals, consultations = current.get(Measure.REFERRALS), current.get(Measure.CONSULTATIONS)
    if spread is None or spread.centers < rule.min_centers or referrals is None or not consultations:
        return []
    ratio = referrals / consultations
    z_score = modified_z_score(ratio, spread)
    if z_score is None or abs(z_score) <= rule.z_threshold:
        return []
    return [
        PlausibilityWarning(
            file,
            center_code,
            fiscal_year,
            PlausibilityRule.REFERRAL_RATE_OUTLIER,
            Measure.REFERRALS,
            referrals,
            consultations,
            ratio=ratio,
            median=spread.median,
            z_score=z_score,
        )
    ]


def year_spreads(connection: "Connection", fiscal_years: list[int]) -> dict[int, YearSpread]:
    """Each year's median and spread of referrals per consultation (``marts.center_referral_rates``)."""
    return {row[0]: YearSpread(*row) for row in queries.referral_rate_spreads(connection, fiscal_years)}


def warnings_for_accepted(
    connection: "Connection",
    accepted: list[tuple[str, str, int, Totals]],
    factor: float,
    outliers: OutlierRule | None = None,
) -> list[PlausibilityWarning]:
    """Warnings for accepted files given as (file name, center, fiscal year, totals read).

    Against the warehouse: the center's previous year, and (with ``outliers``) the year's centers.
    """
    previous = warehouse_totals(connection, [(center, year - 1) for _, center, year, _ in accepted])
    spreads = year_spreads(connection, sorted({year for _, _, year, _ in accepted})) if outliers else {}
    warnings = []
    for file, center, year, current in accepted:
        warnings += plausibility_warnings(file, center, year, current, previous.get((center, year - 1)), factor)
        if outliers is not None:
            warnings += within_year_warnings(file, center, year, current, spreads.get(year), outliers)
    return warnings
