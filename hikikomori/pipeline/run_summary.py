"""The summary ``hikikomori run`` prints at the end."""

from collections import Counter

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.labels import label
from hikikomori.domain.vocabulary import FileOutcome, QualityOutcome, TargetStatus
from hikikomori.pipeline.steps import RunSummary

_COUNTED = ((FileOutcome.ACCEPTED, 10), (FileOutcome.REJECTED, 10), (FileOutcome.DUPLICATE, 11))  # column widths


def format_run_summary(summary: RunSummary) -> str:
    counts = ", ".join(f"{label(outcome).both} {summary.count(outcome)}" for outcome, _ in _COUNTED)
    lines = [f"受付ファイル {len(summary.outcomes)} 件 / files taken in: {len(summary.outcomes)}  ({counts})"]
    by_year = Counter((item.fiscal_year, item.outcome) for item in summary.outcomes)
    years = sorted({year for year, _ in by_year}, key=lambda year: (year is None, year or 0))
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
            f"  {item.file_name}: {item.issue_count} 件の問題 → {item.stored_path}.errors.txt" for item in rejected
        )
    deferred = [item for item in summary.outcomes if item.outcome is FileOutcome.DEFERRED]
    if deferred:
        lines.append("")
        lines.append("保留（書き込み中の可能性、次回の実行で受付）/ deferred (may still be being written):")
        lines.extend(f"  {item.file_name}" for item in deferred)
    if summary.warnings:
        lines.append("")
        lines.append("注意（受付済み・差戻しではありません）/ warnings on accepted files (not rejections):")
        lines.extend(f"  {warning.file}: {warning.message_ja}" for warning in summary.warnings)
    lines.append("")
    lines.append("成果目標 / outcome targets (marts.outcome_targets):")
    lines.append(f"  {'FY':<6}{'年度':<10}{'target':<24}{'actual':>10}{'baseline':>10}{'target_value':>14}  status")
    for row in summary.outcome_targets:
        lines.append(
            f"  {row['fiscal_year']:<6}{row['fiscal_year_label']:<8}{row['target']:<24}"
            f"{_number(row['actual']):>10}{_number(row['baseline']):>10}{_number(row['target_value']):>14}  "
            f"{label(TargetStatus(str(row['status']))).both}"
        )
    if summary.quality_results:
        lines.append("")
        lines.append("データ品質チェック / data-quality gate (quality.expectation_results):")
        # Every check passing is one line (the checks are the data tests of sql/**/*.yml, over a hundred);
        # each one that failed or raised is listed with what it checks and why.
        passed = sum(1 for result in summary.quality_results if result.outcome == QualityOutcome.PASS)
        lines.append(f"  {label(QualityOutcome.PASS).both:<12}{passed} / {len(summary.quality_results)} 件 / checks")
        for result in summary.quality_results:
            if result.outcome == QualityOutcome.PASS:
                continue
            lines.append(
                f"  {label(QualityOutcome(result.outcome)).both:<12}{result.check_name:<40}{result.description_ja}"
                + (f"  {result.details}" if result.details else "")
            )
    lines.append("")
    if summary.started_at is not None:
        started = summary.started_at.astimezone(JAPAN)
        lines.append(f"実行 / run: {summary.run_id}（開始 / started {started:%Y-%m-%d %H:%M:%S} JST）")
    lines.append(f"ウェアハウス / warehouse: {summary.warehouse_path}")
    return "\n".join(lines)


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"
