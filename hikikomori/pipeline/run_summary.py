"""The summary ``hikikomori run`` prints at the end.

Every file the run found is accounted for: taken in (accepted, rejected, duplicate), or left in the
inbox (deferred) or gone, each of those named with its reason. File names are shown with control
characters escaped (``printable``): a name cannot forge a line of the summary or drive the terminal.
"""

from collections import Counter
from datetime import date

from hikikomori.domain.fiscal_years import JAPAN, describe_fiscal_year
from hikikomori.domain.labels import label
from hikikomori.domain.text import display_width, printable
from hikikomori.domain.vocabulary import FileOutcome, QualityOutcome, Target, TargetStatus
from hikikomori.pipeline.intake import TakenFile
from hikikomori.pipeline.steps import RunSummary, describe_build

_COUNTED = ((FileOutcome.ACCEPTED, 10), (FileOutcome.REJECTED, 10), (FileOutcome.DUPLICATE, 11))  # column widths


def format_run_summary(summary: RunSummary) -> str:
    counts = ", ".join(f"{label(outcome).both} {summary.count(outcome)}" for outcome, _ in _COUNTED)
    seen = len(summary.outcomes)
    left = sum(1 for item in summary.outcomes if item.outcome in (FileOutcome.DEFERRED, FileOutcome.GONE))
    lines = [f"受付ファイル {seen - left} 件 / files taken in: {seen - left}  ({counts})"]
    by_year = Counter((item.fiscal_year, item.outcome) for item in summary.outcomes)
    years = sorted(
        {year for year, outcome in by_year if outcome not in (FileOutcome.DEFERRED, FileOutcome.GONE)},
        key=lambda year: (year is None, year or 0),
    )
    if years:
        lines.append("")
        lines.append(f"  {'年度 FY':<8}" + "".join(f"{outcome:>{width}}" for outcome, width in _COUNTED))
        for year in years:
            lines.append(
                f"  {year if year is not None else '?':<8}"
                + "".join(f"{by_year[(year, outcome)]:>{width}}" for outcome, width in _COUNTED)
            )
    rejected = [item for item in summary.outcomes if item.outcome is FileOutcome.REJECTED]
    if rejected:
        lines.append("")
        lines.append("差戻し（エラーレポートを同じ場所に保存）/ rejected, error report beside the file:")
        lines.extend(
            f"  {printable(item.file_name)}: {item.issue_count} 件の問題 → {item.stored_path}.errors.txt"
            for item in rejected
        )
    _with_reasons(
        lines,
        "保留（受付フォルダに残したファイルと理由、次回の実行で再度確認）/ left in the inbox, with the reason:",
        [item for item in summary.outcomes if item.outcome is FileOutcome.DEFERRED],
    )
    _with_reasons(
        lines,
        "消失（読む前に受付フォルダから消えたファイル）/ gone before the run read them:",
        [item for item in summary.outcomes if item.outcome is FileOutcome.GONE],
    )
    _with_reasons(
        lines,
        "取込後の問題（記録済み）/ recorded, but:",
        [
            item
            for item in summary.outcomes
            if item.reason is not None and item.outcome not in (FileOutcome.DEFERRED, FileOutcome.GONE)
        ],
    )
    if summary.pending_revisions:
        lines.append("")
        lines.append(
            "確定した年度のファイル（保留中の修正、数値は変わりません。hikikomori revisions で確認）/ "
            "files for closed years (pending revisions: no figure changed; see hikikomori revisions):"
        )
        lines.extend(
            f"  {printable(item.file_name)}: {describe_fiscal_year(item.fiscal_year or 0)} "
            f"第{item.version}版 / version {item.version}"
            for item in summary.pending_revisions
        )
    if summary.warnings:
        lines.append("")
        lines.append("注意（受付済み・差戻しではありません）/ warnings on accepted files (not rejections):")
        lines.extend(f"  {printable(warning.file)}: {warning.message_ja}" for warning in summary.warnings)
    if summary.reporting_rates:
        lines.append("")
        lines.append("報告率・期限内提出率 / reporting rate and timeliness (marts.reporting_rates):")
        lines.append(
            f"  {'FY':<6}{'年度':<10}{'deadline':<12}{'expected':>9}{'accepted':>9}{'on time':>9}"
            f"{'reporting':>11}{'timeliness':>12}  {'確定 closed'}"
        )
        for row in summary.reporting_rates:
            lines.append(
                f"  {row['fiscal_year']:<6}{row['fiscal_year_label']:<8}{_date(row['deadline']):<12}"
                f"{_number(row['centers_expected']):>9}{_number(row['centers_accepted']):>9}"
                f"{_number(row['centers_on_time']):>9}{_percent(row['reporting_rate_pct']):>11}"
                f"{_percent(row['timeliness_pct']):>12}  {'確定 closed' if row['is_closed'] else '-'}"
            )
    lines.append("")
    lines.append("成果目標 / outcome targets (marts.outcome_targets):")
    lines.append(
        f"  {'FY':<6}{'年度':<10}{'target':<24}{'actual':>10}{'baseline':>10}{'target_value':>14}  {'status':<30}"
        "centers prev/cur/both"
    )
    for row in summary.outcome_targets:
        status = label(TargetStatus(str(row["status"]))).both + (" 暫定" if row.get("provisional") else "")
        lines.append(
            f"  {row['fiscal_year']:<6}{row['fiscal_year_label']:<8}{row['target']:<24}"
            f"{_number(row['actual']):>10}{_number(row['baseline']):>10}{_number(row['target_value']):>14}  "
            f"{status:<{30 - (display_width(status) - len(status))}}{_coverage(row)}"
        )
    if any(row.get("provisional") for row in summary.outcome_targets):
        lines.append(
            "  暫定: どちらかの年度が未確定、または両年度で報告したセンターが違う / provisional: either year is open "
            "or the reporting centers differ"
        )
    if summary.quality_results:
        lines.append("")
        lines.append("データ品質チェック / data-quality gate (quality.expectation_results):")
        # Every check passing is one line (the checks are the data tests of sql/**/*.yml, over a hundred);
        # each one that failed or raised is listed with what it checks and why.
        passed = sum(1 for result in summary.quality_results if result.outcome == QualityOutcome.PASS)
        lines.append(f"  {label(QualityOutcome.PASS).both:<12}{passed} / {len(summary.quality_results)} 件 / checks")
        taken_from = summary.gate_evaluated_in
        if taken_from is not None and taken_from != summary.run_id:
            lines.append(
                f"  実行 {taken_from} の評価を引き継ぎ（その後、チェックが読むものは何も変わっていません）/ "
                f"the results of run {taken_from}, taken over: nothing the checks read has changed since"
            )
        for result in summary.quality_results:
            if result.outcome == QualityOutcome.PASS:
                continue
            lines.append(
                f"  {label(QualityOutcome(result.outcome)).both:<12}{result.check_name:<40}{result.description_ja}"
                + (f"  {result.details}" if result.details else "")
            )
    if summary.notes:
        lines.append("")
        lines.append("実行後の注意 / after the run:")
        lines.extend(f"  {note}" for note in summary.notes)
    lines.append("")
    if summary.started_at is not None:
        started = summary.started_at.astimezone(JAPAN)
        lines.append(f"実行 / run: {summary.run_id}（開始 / started {started:%Y-%m-%d %H:%M:%S} JST）")
    if summary.model_build is not None:
        lines.append(f"集計表 / models: {describe_build(summary.model_build)}")
    lines.append(f"ウェアハウス / warehouse: {summary.warehouse_path}")
    return "\n".join(lines)


def _coverage(row: dict[str, object]) -> str:
    """Centers reporting the target's measure in the previous year, this year and both; for the supporter
    target, the like-with-like figures it compared."""
    counts = "/".join(_number(row.get(column)) for column in _COVERAGE)
    if row["target"] == Target.SUPPORTER_ACTIVITIES and row.get("compared_actual") is not None:
        counts += f"  ({_number(row['compared_actual'])} vs {_number(row['compared_baseline'])})"
    return counts


_COVERAGE = ("centers_reporting_previous", "centers_reporting_current", "centers_in_both_years")


def _date(value: object) -> str:
    return f"{value:%Y-%m-%d}" if isinstance(value, date) else "-"


def _percent(value: object) -> str:
    return f"{value:.1f}%" if isinstance(value, int | float) else "-"


def _with_reasons(lines: list[str], heading: str, items: list[TakenFile]) -> None:
    """A heading, then each file with its reason in both languages and the rule's code."""
    if not items:
        return
    lines.append("")
    lines.append(heading)
    for item in items:
        reason = item.reason
        lines.append(f"  {printable(item.file_name)}")
        if reason is not None:
            lines.append(f"    {reason.message_ja} [{reason.rule}]")
            lines.append(f"    {reason.message_en}")


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"
