"""The national tables of the analysts' copy as the ministry's page shows them (Japanese first)."""

from dataclasses import dataclass, field

from hikikomori.domain.labels import label
from hikikomori.domain.reference import ReferenceData
from hikikomori.domain.vocabulary import Target, TargetStatus

Rows = tuple[list[str], list[tuple[object, ...]]]  # (columns, rows) as portal_queries returns them


@dataclass(frozen=True)
class Cell:
    text: str
    number: bool = False
    note: str = ""  # shown small under the text (a share)


@dataclass(frozen=True)
class Table:
    title: str
    headings: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def national_tables(tables: dict[str, Rows], reference: ReferenceData) -> list[Table]:
    return [
        _consultations(tables["consultation_totals"]),
        _referrals(tables["referral_shares"], reference),
        _targets(tables["outcome_targets"]),
        _reporting(tables["reporting_rates"]),
    ]


def _records(rows: Rows) -> list[dict[str, object]]:
    columns, values = rows
    return [dict(zip(columns, row, strict=True)) for row in values]


def _int(value: object) -> int:
    assert isinstance(value, int), value  # counts are exact integers end to end
    return value


def _float(value: object) -> float:
    assert isinstance(value, int | float), value
    return float(value)


def _count(value: object) -> Cell:
    return Cell("—" if value is None else f"{_int(value):,}", number=True)


def _year(record: dict[str, object]) -> Cell:
    return Cell(f"{record['fiscal_year_label']}（{record['fiscal_year']}）")


def _consultations(rows: Rows) -> Table:
    return Table(
        "延べ相談件数 / consultations",
        ["年度 / fiscal year", "設置自治体数 / centers", "報告自治体数 / reporting", "延べ相談件数 / consultations"],
        [
            [
                _year(record),
                _count(record["centers_established"]),
                _count(record["centers_reporting"]),
                _count(record["consultations"]),
            ]
            for record in _records(rows)
        ],
    )


def _referrals(rows: Rows, reference: ReferenceData) -> Table:
    """One row per fiscal year, one column per agency group in the published order: count (share)."""
    groups = sorted(reference.groups, key=lambda group: group.display_order)
    by_year: dict[int, dict[str, dict[str, object]]] = {}
    labels: dict[int, str] = {}
    for record in _records(rows):
        year = _int(record["fiscal_year"])
        by_year.setdefault(year, {})[str(record["agency_group"])] = record
        labels[year] = str(record.get("fiscal_year_label") or year)
    table = Table(
        "関係機関につないだ件数（区分別、件数と割合）/ referrals by agency group (count, share)",
        ["年度 / fiscal year", *(group.label_ja for group in groups), "総計 / total"],
    )
    for year in sorted(by_year):
        cells = [Cell(f"{labels[year]}（{year}）")]
        for group in groups:
            found = by_year[year].get(group.agency_group)
            if found is None:
                cells.append(Cell("—", number=True))
            else:
                share = found["share_pct"]  # none when the year's total is 0
                percent = f"{_float(share):.1f}%" if share is not None else ""
                cells.append(Cell(f"{_int(found['referrals']):,}", number=True, note=percent))
        total = sum(_int(record["referrals"]) for record in by_year[year].values())
        table.rows.append([*cells, _count(total)])
    return table


def _targets(rows: Rows) -> Table:
    table = Table(
        "成果目標の判定 / outcome targets",
        [
            "年度 / fiscal year",
            "目標 / target",
            "実績 / actual",
            "前年度実績 / baseline",
            "目標値 / target value",
            "判定 / verdict",
            "暫定 / provisional",
            "報告センター 前年度/当年度/両年度 / centers reporting",
        ],
    )
    for record in _records(rows):
        target = label(Target(str(record["target"]))).ja
        value = record["target_value"]
        table.rows.append(
            [
                _year(record),
                Cell(target),
                _count(record["actual"]),
                _count(record["baseline"]),
                Cell("—" if value is None else f"{_float(value):,.1f}", number=True),
                Cell(label(TargetStatus(str(record["status"]))).both),
                Cell("暫定 provisional" if record["provisional"] else "確定 final"),
                Cell(
                    "/".join(
                        "—" if record[column] is None else f"{_int(record[column]):,}"
                        for column in (
                            "centers_reporting_previous",
                            "centers_reporting_current",
                            "centers_in_both_years",
                        )
                    ),
                    number=True,
                ),
            ]
        )
    return table


def _reporting(rows: Rows) -> Table:
    """Reporting rate and timeliness per fiscal year, as marts.reporting_rates has them."""
    return Table(
        "報告率と期限内提出率 / reporting rate and timeliness",
        [
            "年度 / fiscal year",
            "提出期限 / deadline",
            "確定 / closed",
            "対象 / expected",
            "受理 / accepted",
            "期限内 / on time",
            "報告率 / reporting rate",
            "期限内提出率 / timeliness",
        ],
        [
            [
                _year(record),
                Cell(str(record["deadline"])),
                Cell("確定 closed" if record["is_closed"] else "未確定 open"),
                _count(record["centers_expected"]),
                _count(record["centers_accepted"]),
                _count(record["centers_on_time"]),
                Cell(f"{_float(record['reporting_rate_pct']):.1f}%", number=True),
                Cell(f"{_float(record['timeliness_pct']):.1f}%", number=True),
            ]
            for record in _records(rows)
        ],
    )
