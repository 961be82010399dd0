"""``hikikomori validate``: the pre-check a center runs before sending, and what it prints.

Reads nothing but the files, the reference data and (with ``--warehouse``) a read-only view of
the warehouse; writes nothing. Kept free of Prefect and Great Expectations so it starts fast.
"""

from dataclasses import dataclass
from pathlib import Path

from hikikomori.domain.reference import load_reference_data
from hikikomori.domain.text import display_width, printable, printable_json
from hikikomori.pipeline.plausibility import (
    PlausibilityWarning,
    outlier_rule,
    plausibility_warnings,
    warnings_for_accepted,
)
from hikikomori.schemas.files import receive
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.validation import Totals, ValidatedFile, validate_files
from hikikomori.settings import Settings

_HEADINGS = {
    "ja": ("行", "セル", "列", "値", "問題", "直し方"),
    "en": ("row", "cell", "column", "value", "problem", "how to fix"),
}
_VALUE_WIDTH = 24


class WarehouseUnavailableError(RuntimeError):
    """The warehouse cannot be opened read-only (missing, or a run holds its write lock)."""


@dataclass(frozen=True)
class PrecheckResult:
    file: str
    issues: list[Issue]
    warnings: list[PlausibilityWarning]

    @property
    def valid(self) -> bool:
        return not self.issues


def precheck(paths: list[Path], settings: Settings, warehouse: Path | None = None) -> list[PrecheckResult]:
    """Validate the files as a run would; warn against the warehouse's previous years if given."""
    received = [receive(path.resolve(), path.resolve().parent, settings.limits) for path in paths]
    reference = load_reference_data(settings.reference_dir, settings.registry_path)
    results = validate_files(received, reference, settings.as_of, settings.limits)
    warnings = _warnings(results, warehouse, settings)
    return [
        PrecheckResult(
            result.received.name,
            result.issues,
            [warning for warning in warnings if warning.file == result.received.name],
        )
        for result in results
    ]


def _warnings(results: list[ValidatedFile], warehouse: Path | None, settings: Settings) -> list[PlausibilityWarning]:
    """Without a warehouse, the file's own figures only; with one, also against the center's previous year
    and the other centers of the same year (marts.center_referral_rates)."""
    factor = settings.change_warning_factor
    accepted: list[tuple[str, str, int, Totals]] = [
        (result.received.name, result.center_code, result.fiscal_year, result.loaded.totals)
        for result in results
        if result.loaded is not None and result.center_code is not None and result.fiscal_year is not None
    ]
    if warehouse is None:
        return [
            warning
            for name, center, year, totals in accepted
            for warning in plausibility_warnings(name, center, year, totals, None, factor)
        ]
    from hikikomori.warehouse.connection import DatabaseError, connect  # duckdb only when a warehouse is asked for
    from hikikomori.warehouse.migrate import MigrationError, require_current

    try:
        with connect(warehouse, read_only=True) as connection:
            require_current(connection)
            return warnings_for_accepted(connection, accepted, factor, outlier_rule(settings))
    except (DatabaseError, MigrationError) as error:
        raise WarehouseUnavailableError(str(error)) from error


def format_table(results: list[PrecheckResult], lang: str = "ja") -> str:
    """One block per file: OK, or a table of every problem; then any warnings. Names and values from the
    files are shown with control characters escaped."""
    lines: list[str] = []
    for result in results:
        name = printable(result.file)
        if result.valid:
            lines.append(f"{name}: OK 問題はありません" if lang == "ja" else f"{name}: OK, no problems found")
        else:
            count = len(result.issues)
            lines.append(
                f"{name}: NG {count} 件の問題があります（このままでは受け付けられません）"
                if lang == "ja"
                else f"{name}: {count} problem(s); the file would be rejected"
            )
            lines.extend(
                "  " + line for line in _table(_HEADINGS[lang], [_issue_cells(i, lang) for i in result.issues])
            )
        for warning in result.warnings:
            message = warning.message_ja if lang == "ja" else warning.message_en
            lines.append(f"  {'注意' if lang == 'ja' else 'warning'}: {message} [{warning.rule}]")
    return "\n".join(lines) + "\n"


def format_json(results: list[PrecheckResult]) -> str:
    """For systems: every issue and warning with both languages' messages and fixes (control characters
    as JSON escapes: the same values, nothing a terminal acts on)."""
    return printable_json(
        [
            {
                "file": result.file,
                "valid": result.valid,
                "issues": [issue.as_record() for issue in result.issues],
                "warnings": [warning.as_record() for warning in result.warnings],
            }
            for result in results
        ],
        indent=2,
    )


def _issue_cells(issue: Issue, lang: str) -> tuple[str, ...]:
    value = printable(issue.value or "")
    if display_width(value) > _VALUE_WIDTH:
        value = value[: _VALUE_WIDTH - 1] + "…"
    return (
        str(issue.row) if issue.row is not None else "-",
        issue.cell or "-",
        issue.column or "-",
        value or "-",
        f"{issue.message_ja if lang == 'ja' else issue.message_en} [{issue.rule}]",
        issue.fix_ja if lang == "ja" else issue.fix_en,
    )


def _table(headings: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(display_width(row[index]) for row in [headings, *rows]) for index in range(len(headings))]
    return [
        "  ".join(_pad(text, width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in [headings, *rows]
    ]


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
