"""The data-quality results as one offline page of the report (``data_quality.html``).

Great Expectations' own Data Docs site does not fit a closed network: its pages load Bootstrap,
jQuery and Vega from CDNs (offline, the index's list of results, drawn by those scripts, is empty)
and a logo from a cloud address carrying the data context's id. So the gate's results are drawn
here instead, into plain HTML: inline styles, no scripts, nothing loaded from anywhere. Every
check shows what it checks (the YAML's descriptions, Japanese and English), the expectation and
its arguments, the outcome, and for a failure the count and examples of the rows that broke it.
"""

import html
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import version

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.labels import label
from hikikomori.domain.vocabulary import QualityOutcome
from hikikomori.pipeline.quality import CheckResult, QualityCheck
from hikikomori.report.pages import html_document

PAGE_NAME = "data_quality.html"
_HEADER = (
    "結果 / result",
    "チェック / check",
    "期待 / expectation",
    "引数 / arguments",
    "内容",
    "description",
    "詳細 / details",
)


def quality_page(
    results: Sequence[CheckResult],
    checks: Sequence[QualityCheck],
    checked_at: datetime,
    source: str,
    report_name: str,
) -> str:
    """The page: totals, the checks that failed or raised, a summary per dataset, then every check."""
    arguments = {check.name: check.arguments for check in checks}
    totals = Counter(result.outcome for result in results)
    problems = [result for result in results if result.outcome != QualityOutcome.PASS]
    by_dataset: dict[str, list[CheckResult]] = {}
    for result in results:
        by_dataset.setdefault(result.dataset or result.check_name, []).append(result)

    parts = [
        "<h1>データ品質チェックの結果<br><small>Data-quality results</small></h1>",
        f'<p class="meta">検証日時 / checked at: {checked_at.astimezone(JAPAN):%Y-%m-%d %H:%M:%S} JST'
        f" · 読み取り元 / source: {html.escape(source)}"
        f" · Great Expectations {html.escape(version('great_expectations'))}"
        " · チェックは sql/ の各モデルの YAML（data_tests）/ the checks are the data tests of the models' YAML</p>",
        f'<p><a href="{html.escape(report_name)}">← 全国実績の報告書 / the national report</a></p>',
        "<p>"
        + " · ".join(
            f'<span class="{outcome}">{html.escape(label(outcome).both)} {totals[str(outcome)]}</span>'
            for outcome in QualityOutcome
        )
        + f" / {len(results)} 件 / checks</p>",
    ]
    if problems:
        parts.append("<h2>不合格・エラー / failed or raised</h2>")
        parts.append(_checks_table(problems, arguments))
    parts.append("<h2>対象ごとの結果 / by dataset</h2>")
    summary_rows = "".join(
        f'<tr><td><a href="#{_anchor(dataset)}"><code>{html.escape(dataset)}</code></a></td>'
        f'<td class="number">{len(group)}</td>'
        + "".join(
            f'<td class="number">{sum(result.outcome == outcome for result in group)}</td>'
            for outcome in QualityOutcome
        )
        + "</tr>"
        for dataset, group in by_dataset.items()
    )
    parts.append(
        "<table><tr><th>対象 / dataset</th><th>チェック数 / checks</th>"
        + "".join(f"<th>{html.escape(label(outcome).both)}</th>" for outcome in QualityOutcome)
        + f"</tr>{summary_rows}</table>"
    )
    parts.append("<h2>すべてのチェック / every check</h2>")
    for dataset, group in by_dataset.items():
        parts.append(f'<h3 id="{_anchor(dataset)}"><code>{html.escape(dataset)}</code></h3>')
        parts.append(_checks_table(group, arguments))
    return html_document("データ品質チェックの結果 / Data-quality results", "".join(parts))


def _checks_table(results: Sequence[CheckResult], arguments: dict[str, dict[str, object]]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in _HEADER)
    rows = []
    for result in results:
        shown = json.dumps(arguments.get(result.check_name, {}), ensure_ascii=False, default=str)
        details = result.details
        if result.unexpected_count and not details:
            details = f"{result.unexpected_count} 件 / rows"
        cells = [
            f'<td class="{html.escape(result.outcome)}">{html.escape(label(QualityOutcome(result.outcome)).both)}</td>',
            f"<td><code>{html.escape(result.check_name)}</code></td>",
            f"<td><code>{html.escape(result.expectation)}</code></td>",
            f"<td><code>{html.escape(shown)}</code></td>",
            f"<td>{html.escape(result.description_ja)}</td>",
            f"<td>{html.escape(result.description_en)}</td>",
            f"<td>{html.escape(details)}</td>",
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _anchor(dataset: str) -> str:
    return "dataset-" + "".join(character if character.isalnum() else "-" for character in dataset)
