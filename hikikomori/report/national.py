"""The national report: one self-contained HTML file, a workbook ready to publish (the paper's
layouts), publication exports with small counts hidden, and the data-quality results as a page.

The pages need no network (closed ministry networks) and load nothing: styles are inline, charts
are embedded PNGs, there are no scripts. Times are shown in Japan time. The warehouse path is a
parameter, so the report can be built from any copy of the warehouse (by default the analysts' copy).
"""

import base64
import html
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.labels import label
from hikikomori.domain.vocabulary import FiscalYearAction, QualityOutcome, SubmissionStatus, Target, TargetStatus
from hikikomori.pipeline.quality import CheckResult, quality_checks, read_frames, validate_frames
from hikikomori.report import charts
from hikikomori.report.layout import Share, Table
from hikikomori.report.pages import html_document
from hikikomori.report.publication import PublicationTable, publication_table, write_publication
from hikikomori.report.quality_page import PAGE_NAME as QUALITY_PAGE
from hikikomori.report.quality_page import quality_page
from hikikomori.report.workbook import write_workbook
from hikikomori.warehouse import queries
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.migrate import require_current

# A verdict cell (its label as shown) is coloured by its class in _STYLE.
_VERDICT_CSS = {
    label(verdict).both: str(verdict)
    for verdict in (
        TargetStatus.PASS,
        TargetStatus.FAIL,
        QualityOutcome.PASS,
        QualityOutcome.FAIL,
        QualityOutcome.ERROR,
    )
}
_TARGET_FORMULAS = {
    Target.REFERRALS_PER_CENTER: (
        "専門機関での支援が決定した件数 > 前年度の件数 ÷ 前年度の設置数 × 当年度の設置数",
        "referrals(Y) > referrals(Y-1) / centers(Y-1) x centers(Y)",
    ),
    Target.SUPPORTER_ACTIVITIES: (
        "ひきこもりサポーターの活動件数 > 前年度の活動件数",
        "supporter_activities(Y) > supporter_activities(Y-1)",
    ),
}


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    workbook: Path
    publication: list[Path]
    quality_page: Path  # the data-quality results, linked from the report


@dataclass(frozen=True)
class Provenance:
    """Where the figures come from and when, shown on every page (times in JST)."""

    source: Path
    created_at: datetime
    last_run: tuple[str, datetime] | None  # the latest completed run in the file read

    def describe(self) -> str:
        parts = [f"作成 / created {self.created_at.astimezone(JAPAN):%Y-%m-%d %H:%M} JST"]
        if self.last_run is not None:
            run_id, ended_at = self.last_run
            finished = ended_at.astimezone(JAPAN)
            parts.append(f"データ / data: 実行 run {run_id}（{finished:%Y-%m-%d %H:%M} JST 完了 / completed）")
        parts.append(f"読み取り元 / source: {self.source.name}")
        return " · ".join(parts)


def build_report(warehouse_path: Path, out_dir: Path, fiscal_year: int | None = None) -> ReportFiles:
    """Write the report for every fiscal year up to ``fiscal_year`` (default: the latest with data).

    One read-only connection reads everything the report shows; it is closed before the checks run.
    """
    last = fiscal_year if fiscal_year is not None else 9999
    checks = quality_checks()
    with connect(warehouse_path, read_only=True) as connection:
        require_current(connection)
        data = queries.report_marts(connection, last)
        data["history"] = queries.governance_history(connection, last)
        if data["consultations"].empty:
            raise ValueError(f"no fiscal year with data up to {last} in {warehouse_path}")
        year = int(data["consultations"]["fiscal_year"].max())
        figures = queries.center_figures(connection, year)
        frames = read_frames(connection, checks)
        provenance = Provenance(warehouse_path, datetime.now(JAPAN), queries.latest_completed_run(connection))
    out_dir.mkdir(parents=True, exist_ok=True)
    quality = validate_frames(frames, checks)
    checked_at = datetime.now(JAPAN)
    tables = _tables(data, quality)

    chart_images = {
        "consultations": charts.consultations_chart(data["consultations"]),
        "referral_shares": charts.referral_shares_chart(data["shares"]),
        "centers": charts.centers_chart(data["establishment"]),
    }
    chart_dir = out_dir / "charts"
    chart_dir.mkdir(exist_ok=True)
    for name, image in chart_images.items():
        (chart_dir / f"{name}.png").write_bytes(image)

    publication = publication_table(figures, year)
    publication_paths = write_publication(publication, out_dir / "publication")

    html_path = out_dir / f"national_report_{year}.html"
    html_path.write_text(_html(year, data, tables, chart_images, publication, provenance), encoding="utf-8")
    quality_path = out_dir / QUALITY_PAGE
    quality_path.write_text(
        quality_page(quality, checks, checked_at, warehouse_path.name, html_path.name), encoding="utf-8"
    )
    workbook_path = out_dir / f"national_report_{year}.xlsx"
    write_workbook(tables, workbook_path, provenance.created_at)
    return ReportFiles(html_path, workbook_path, publication_paths, quality_path)


def _none(value: Any) -> object:
    """A cell as read from DuckDB, None where it is null (NA, NaN or NaT alike)."""
    return None if pd.isna(value) else value


def _agreement(matches_published: Any) -> str:
    if pd.isna(matches_published):
        return "—"  # the paper has no figure for that year
    return "一致" if matches_published else "不一致 mismatch"


def _share_table(frame: pd.DataFrame, key: str, label: str, title: str) -> Table:
    """The paper's layout: a count row and a 率 (share) row per fiscal year, one column per agency."""
    columns = frame.drop_duplicates(key).sort_values("display_order")[label].tolist()
    rows: list[list[object]] = []
    for (_, year_label), year in frame.groupby(["fiscal_year", "fiscal_year_label"], sort=True):
        by_label = year.set_index(label)
        rows.append(
            [
                year_label,
                "件数",
                *[int(by_label.loc[name, "referrals"]) for name in columns],
                int(year["referrals"].sum()),
            ]
        )
        rows.append(["", "率", *[Share(float(by_label.loc[name, "share_pct"])) for name in columns], Share(100.0)])
    return Table(title, ["年度", "", *columns, "総計"], rows, frozen_columns=2, paired_rows=True)


def _tables(data: dict[str, pd.DataFrame], quality: list[CheckResult]) -> list[Table]:
    consultations = data["consultations"]
    establishment = data["establishment"]
    status = data["status"]
    tables = [
        Table(
            "設置自治体数 / centers established",
            ["年度", "新規（名簿）", "累計（名簿）", "新規（論文）", "累計（論文）", "一致 / matches"],
            [
                [
                    row["fiscal_year_label"],
                    row["new_centers"],
                    row["cumulative_centers"],
                    _none(row["published_new"]),
                    _none(row["published_cumulative"]),
                    _agreement(row["matches_published"]),
                ]
                for row in establishment.to_dict("records")
            ],
            "名簿（自治体ごとの設置年度）と論文の年度別設置数の表は一部の年度で食い違います。"
            " The registry and the paper's table disagree in some years; both are shown.",
        ),
        Table(
            "延べ相談件数 / consultations",
            ["年度", "設置自治体数", "報告自治体数", "延べ相談件数"],
            [
                [row["fiscal_year_label"], row["centers_established"], row["centers_reporting"], row["consultations"]]
                for row in consultations.to_dict("records")
            ],
        ),
        _share_table(
            data["shares"],
            "agency_group",
            "agency_group_label",
            "関係機関につないだ件数と率（集計区分） / referrals by agency group",
        ),
    ]
    if not data["detail"].empty:
        tables.append(
            _share_table(
                data["detail"],
                "agency",
                "agency_label",
                "関係機関につないだ件数と率（詳細版） / referrals by detailed category",
            )
        )
    tables.append(
        Table(
            "成果目標 / outcome targets",
            [
                "年度",
                "目標 / target",
                "実績",
                "前年度",
                "前年度設置数",
                "当年度設置数",
                "目標値",
                "判定",
                "暫定/確定",
                "報告センター 前年度/当年度/両年度",
                "比べた実績",
                "比べた前年度",
            ],
            [
                [
                    row["fiscal_year_label"],
                    label(Target(row["target"])).ja,
                    row["actual"],
                    _none(row["baseline"]),
                    _none(row["centers_previous"]),
                    _none(row["centers_current"]),
                    None if pd.isna(row["target_value"]) else round(float(row["target_value"]), 1),
                    label(TargetStatus(row["status"])).both,
                    "暫定" if row["provisional"] else "確定",
                    "/".join(_count_text(row[column]) for column in _COVERAGE),
                    *_compared(row),
                ]
                for row in data["targets"].to_dict("records")
            ],
            # The formulas once, in the note: a column repeating them on every row made the table too wide to print.
            "算式: "
            + "、".join(f"{label(target).ja}: {japanese}" for target, (japanese, _) in _TARGET_FORMULAS.items())
            + "。Formulas: "
            + "; ".join(f"{target}: {english}" for target, (_, english) in _TARGET_FORMULAS.items())
            + "。暫定: どちらかの年度が未確定（数値が変わりうる）、または両年度で報告したセンターが違う"
            "（確定: そうでない）。"
            "サポーター活動件数は両年度に報告したセンターどうしで比べる（比べた実績・比べた前年度の列）。"
            " 暫定 provisional: either year is open (its figures may change) or the two years' reporting centers"
            " differ (確定 final otherwise). Supporter activities are compared like with like: the centers that"
            " reported in both years (比べた実績, 比べた前年度).",
        )
    )
    tables.append(_reporting_table(data["reporting"]))
    completeness = []
    for (_, year_label), year in status.groupby(["fiscal_year", "fiscal_year_label"], sort=True):
        centers = {status: year.loc[year["status"] == status, "center_name"].tolist() for status in SubmissionStatus}
        completeness.append(
            [
                year_label,
                len(year),
                len(centers[SubmissionStatus.ACCEPTED]),
                len(centers[SubmissionStatus.REJECTED]),
                "、".join(centers[SubmissionStatus.REJECTED]) or "—",
                len(centers[SubmissionStatus.MISSING]),
                "、".join(centers[SubmissionStatus.MISSING]) or "—",
            ]
        )
    tables.append(
        Table(
            "提出状況 / submission completeness",
            [
                "年度",
                "対象センター",
                label(SubmissionStatus.ACCEPTED).ja,
                label(SubmissionStatus.REJECTED).ja,
                "差戻しのセンター",
                label(SubmissionStatus.MISSING).ja,
                "未提出のセンター",
            ],
            completeness,
        )
    )
    tables.append(_revisions_table(data["history"], data["years"]))
    tables.append(
        Table(
            "データ品質チェック / data-quality checks",
            ["結果", "チェック", "内容", "description", "詳細"],
            [
                [
                    label(QualityOutcome(result.outcome)).both,
                    result.check_name,
                    result.description_ja,
                    result.description_en,
                    result.details,
                ]
                for result in quality
            ],
            f"チェックごとの引数と詳細 / every check with its arguments and details: {QUALITY_PAGE}",
        )
    )
    return tables


_COVERAGE = ("centers_reporting_previous", "centers_reporting_current", "centers_in_both_years")


def _count_text(value: Any) -> str:
    return "—" if pd.isna(value) else f"{int(value):,}"


def _compared(row: dict[Hashable, Any]) -> tuple[int | None, int | None]:
    """The like-with-like figures of the supporter target (the referral target compares its own columns)."""
    if row["target"] != Target.SUPPORTER_ACTIVITIES or pd.isna(row["compared_actual"]):
        return None, None
    return int(row["compared_actual"]), int(row["compared_baseline"])


def _reporting_table(reporting: pd.DataFrame) -> Table:
    return Table(
        "報告率と期限内提出率 / reporting rate and timeliness",
        ["年度", "提出期限", "確定", "対象センター", "受理", "期限内", "報告率", "期限内提出率"],
        [
            [
                row["fiscal_year_label"],
                f"{row['deadline']:%Y-%m-%d}" if not pd.isna(row["deadline"]) else None,
                "確定 closed" if row["is_closed"] else "未確定 open",
                row["centers_expected"],
                row["centers_accepted"],
                row["centers_on_time"],
                Share(float(row["reporting_rate_pct"])),
                Share(float(row["timeliness_pct"])),
            ]
            for row in reporting.to_dict("records")
        ],
        "報告率 = 受理 ÷ 対象、期限内提出率 = 期限内 ÷ 対象。"
        "期限内は最初の受理版を提出期限の日の終わり（日本時間）までに提出したもの"
        "（ポータル経由はアップロードの日時）。"
        " Reporting rate = accepted / expected; timeliness = first"
        " accepted version submitted by the end of the deadline day, Japan time (a portal upload: its upload time),"
        " / expected.",
    )


def _revisions_table(history: pd.DataFrame, years: pd.DataFrame) -> Table:
    """Every closing, accepted revision and reopening of the years shown, with its note, in the order decided."""
    closed = years[years["is_closed"]]
    pending = ", ".join(
        f"{row['fiscal_year_label']} {int(row['pending_revisions'])}"
        for row in closed.to_dict("records")
        if row["pending_revisions"]
    )
    return Table(
        "確定した年度と修正 / closed years and their revisions",
        ["年度", "決定", "センター", "版", "日時（日本時間）", "理由 / note"],
        [
            [
                row["fiscal_year_label"],
                label(FiscalYearAction(row["action"])).both,
                "—" if pd.isna(row["center_code"]) else f"{row['center_name'] or ''}（{row['center_code']}）",
                _versions(row),
                f"{row['decided_at'].astimezone(JAPAN):%Y-%m-%d %H:%M}",
                row["note"],
            ]
            for row in history.to_dict("records")
        ],
        "確定した年度の数値は確定時の版と採用した修正から作る。"
        "後から届いたファイルは保留中の修正として記録し、採用するまで数値は変わらない。"
        " A closed year's figures come from the versions that counted at closing and accepted revisions; later files"
        " are pending revisions that change nothing until accepted."
        + (f" 保留中の修正 / pending revisions: {pending}." if pending else ""),
    )


def _versions(row: dict[Hashable, Any]) -> str:
    if row["action"] != FiscalYearAction.ACCEPT_REVISION:
        return "—"
    before = "なし" if pd.isna(row["from_version"]) else f"第{int(row['from_version'])}版"
    return f"{before} → 第{int(row['to_version'])}版"


def _cell_html(value: object) -> str:
    if value is None:
        return '<td class="number">—</td>'
    if isinstance(value, Share):
        return f'<td class="number">{value}</td>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
        return f'<td class="number">{text}</td>'
    text = str(value)
    css = _VERDICT_CSS.get(text)
    return f'<td class="{css}">{html.escape(text)}</td>' if css else f"<td>{html.escape(text)}</td>"


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in table.header)
    body = "".join("<tr>" + "".join(_cell_html(_plain(cell)) for cell in row) + "</tr>" for row in table.rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>{note}"


def _plain(value: object) -> object:
    """numpy scalars to Python numbers, for formatting and for openpyxl."""
    return value.item() if hasattr(value, "item") else value


def _html(
    year: int,
    data: dict[str, pd.DataFrame],
    tables: list[Table],
    images: dict[str, bytes],
    publication: PublicationTable,
    provenance: Provenance,
) -> str:
    def image(name: str, alt: str) -> str:
        encoded = base64.b64encode(images[name]).decode("ascii")
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'

    label = data["consultations"]["fiscal_year_label"].iloc[-1]
    by_title = {table.title.split(" / ")[0]: _table_html(table) for table in tables}
    sections = [
        by_title["設置自治体数"],
        image("centers", "設置自治体数の推移 / centers established"),
        by_title["延べ相談件数"],
        image("consultations", "延べ相談件数の推移 / consultations"),
        by_title["関係機関につないだ件数と率（集計区分）"],
        image("referral_shares", "関係機関別の割合 / referral shares"),
        *[
            html_table
            for title, html_table in by_title.items()
            if title.startswith("関係機関につないだ件数と率（詳細版）")
        ],
        by_title["報告率と期限内提出率"],
        by_title["成果目標"],
        by_title["提出状況"],
        by_title["確定した年度と修正"],
        by_title["データ品質チェック"],
        f'<p><a href="{QUALITY_PAGE}">データ品質チェックの詳細（チェックごとの引数・不一致の例）/ '
        "data-quality results in detail</a></p>",
        "<h2>公表用センター別表 / per-center publication tables</h2>",
        f"<p>publication/per_center_{year}.csv, .xlsx — {publication.hidden_cells} セルを秘匿 / cells hidden.</p>",
        f'<p class="note">{"<br>".join(html.escape(note) for note in publication.notes)}</p>',
    ]
    body = (
        f"<h1>ひきこもり地域支援センター 全国実績（{html.escape(label)}まで）<br>"
        f"<small>National report of the regional hikikomori support centers, up to FY{year}</small></h1>"
        f'<p class="meta">{html.escape(provenance.describe())}</p>' + "".join(sections)
    )
    return html_document(f"ひきこもり地域支援センター 全国実績 {label}まで", body)
