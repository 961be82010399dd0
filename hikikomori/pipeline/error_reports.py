"""Error reports a center reads: a CSV that Excel opens with Japanese intact, and plain text.

Text from the file (its name, a cell's value) is shown with control characters escaped
(``printable``): a report opened in a terminal or an editor shows them, never acts on them.
"""

import csv
import io

from hikikomori.domain.spreadsheet import spreadsheet_safe
from hikikomori.domain.text import printable
from hikikomori.schemas.rules import Issue

REPORT_COLUMNS = (
    "file",
    "row",
    "cell",
    "column",
    "value",
    "rule",
    "message_ja",
    "message_en",
    "fix_ja",
    "fix_en",
)


def issues_csv(issues: list[Issue]) -> bytes:
    """The issues as CSV in UTF-8 with BOM, which Excel opens without garbling Japanese."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for issue in issues:
        record = issue.as_record()
        writer.writerow([spreadsheet_safe(printable(record[column])) for column in REPORT_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def issues_text(file_name: str, issues: list[Issue]) -> str:
    """A short human summary: one line per problem, Japanese then English."""
    lines = [
        f"{printable(file_name)}: {len(issues)} 件の問題があり、受け付けられませんでした / "
        f"rejected with {len(issues)} problem(s)"
    ]
    for issue in issues:
        where = " ".join(
            part
            for part in (
                f"{issue.row}行目" if issue.row is not None else "",
                f"セル{issue.cell}" if issue.cell else "",
                f"列 {issue.column}" if issue.column else "",
                f"値「{printable(issue.value)}」" if issue.value is not None and issue.row is not None else "",
            )
            if part
        )
        lines.append(f"  - {where + ': ' if where else ''}{issue.message_ja} [{issue.rule}]")
        lines.append(f"    {issue.message_en}.")
        lines.append(f"    直し方: {issue.fix_ja} / how to fix: {issue.fix_en}")
    return "\n".join(lines) + "\n"
