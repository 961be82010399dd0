"""Warnings that never reject a file: figures that are allowed but worth a second look.

- a center's consultations or referrals changing by more than a factor (settings) from its
  previous fiscal year, when the warehouse holds that year;
- referrals exceeding consultations (every referral starts as a consultation).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hikikomori.domain.labels import label
from hikikomori.domain.vocabulary import Measure
from hikikomori.schemas.validation import Totals
from hikikomori.warehouse import queries

if TYPE_CHECKING:  # the pre-check imports duckdb only when given a warehouse
    from hikikomori.warehouse import Connection

CHECKED_MEASURES = (Measure.CONSULTATIONS, Measure.REFERRALS)


@dataclass(frozen=True)
class PlausibilityWarning:
    file: str
    center_code: str
    fiscal_year: int
    rule: str  # change_from_previous_year | referrals_exceed_consultations
    measure: Measure
    value: int
    compared_with: int  # the previous year's total, or the consultations
    factor: float | None = None

    @property
    def message_ja(self) -> str:
        if self.rule == "change_from_previous_year":
            return (
                f"{label(Measure(self.measure)).ja} {self.value:,} 件が前年度の {self.compared_with:,} 件から"
                f" {self.factor:g} 倍を超えて変わっています。誤りでなければそのまま提出できます"
            )
        return (
            f"{label(Measure.REFERRALS).ja} {self.value:,} 件が{label(Measure.CONSULTATIONS).ja}"
            f" {self.compared_with:,} 件を上回っています。"
            "誤りでなければそのまま提出できます"
        )

    @property
    def message_en(self) -> str:
        if self.rule == "change_from_previous_year":
            return (
                f"{self.measure} {self.value:,} changed by more than {self.factor:g}x from the previous year's"
                f" {self.compared_with:,}; if correct, the file can be sent as it is"
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
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }


def warehouse_totals(connection: "Connection", pairs: list[tuple[str, int]]) -> dict[tuple[str, int], Totals]:
    """The latest accepted totals of these (center, fiscal year) pairs, from the built marts."""
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
                    file, center_code, fiscal_year, "change_from_previous_year", measure, value, before, factor
                )
            )
    referrals, consultations = current.get(Measure.REFERRALS), current.get(Measure.CONSULTATIONS)
    if referrals is not None and consultations is not None and referrals > consultations:
        warnings.append(
            PlausibilityWarning(
                file,
                center_code,
                fiscal_year,
                "referrals_exceed_consultations",
                Measure.REFERRALS,
                referrals,
                consultations,
            )
        )
    return warnings


def warnings_for_accepted(
    connection: "Connection",
    accepted: list[tuple[str, str, int, Totals]],
    factor: float,
) -> list[PlausibilityWarning]:
    """Warnings for accepted files given as (file name, center, fiscal year, totals read)."""
    previous = warehouse_totals(connection, [(center, year - 1) for _, center, year, _ in accepted])
    return [
        warning
        for file, center, year, current in accepted
        for warning in plausibility_warnings(file, center, year, current, previous.get((center, year - 1)), factor)
    ]
