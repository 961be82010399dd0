"""Closing a fiscal year, its revisions, and reopening it (CONTRACT.md §5): the ministry's commands.

Each command works as a run does (``operations``): it takes the run lock (one writer at a time),
applies pending migrations, records a deadline calendar if one is configured, rebuilds the models so
that the request is judged on this version's definitions, and refuses a request that cannot be done
(``RequestRefused``: one line, nothing recorded). A decision is then recorded and the models rebuilt,
checked by the quality gate and published to the analysts' copy, audited in ``ops.pipeline_runs``
under the command's name like any run.

- ``close-year``: the versions that count now (each center's latest) are recorded; from then on the
  year's figures, and its role as the baseline of the next year's targets, come from them. Files for
  the year still arrive and are validated, archived and recorded: pending revisions, which change
  nothing.
- ``accept-revision``: the center's latest pending version counts from now on; every other center's
  counted version stays.
- ``reopen-year``: the year counts the latest versions again (latest wins).
- ``revisions``: the pending revisions, with each reported item whose count differs (old → new).
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hikikomori.domain.center_codes import has_valid_check_digit, is_six_digits
from hikikomori.domain.fiscal_years import JAPAN, describe_fiscal_year
from hikikomori.domain.labels import label
from hikikomori.domain.vocabulary import FiscalYearAction, Measure
from hikikomori.pipeline import operations
from hikikomori.pipeline import steps as pipeline
from hikikomori.settings import Settings
from hikikomori.warehouse import Connection, governance
from hikikomori.warehouse.governance import Decision, ItemChange, PendingRevision, VersionInfo, YearState

# ops.pipeline_runs.flow_name of each command's run
FLOW_NAMES = {
    FiscalYearAction.CLOSE_YEAR: "close-year",
    FiscalYearAction.ACCEPT_REVISION: "accept-revision",
    FiscalYearAction.REOPEN_YEAR: "reopen-year",
}
REVISIONS_FLOW_NAME = "revisions"


class RequestRefused(Exception):
    """A request that cannot be done (unknown or open year, nothing pending, already closed …): one line."""


@dataclass(frozen=True)
class RevisionChanges:
    """A pending revision and what it changes, item by item (old → new)."""

    revision: PendingRevision
    changes: list[ItemChange]


@dataclass(frozen=True)
class VersionComparison:
    """What changed between two versions of a center's submission for a fiscal year, item by item."""

    center_code: str
    fiscal_year: int
    old_version: int
    new_version: int
    changes: list[ItemChange]
    versions: list[VersionInfo]  # every accepted version of the center's year, oldest first


OnWait = Callable[[str], None]


def close_year(
    settings: Settings, fiscal_year: int, note: str, *, on_wait: OnWait = print, quality_gate: bool = True
) -> Decision:
    def check(state: YearState, _: Connection) -> None:
        _require_data(state)
        if state.closed:
            raise RequestRefused(
                f"{describe_fiscal_year(fiscal_year)} は確定済みです / FY{fiscal_year} is already closed "
                "(reopen-year first to close it again)"
            )

    return _decide(settings, fiscal_year, FiscalYearAction.CLOSE_YEAR, note, check, None, on_wait, quality_gate)


def accept_revision(
    settings: Settings,
    fiscal_year: int,
    center_code: str,
    note: str,
    *,
    on_wait: OnWait = print,
    quality_gate: bool = True,
) -> Decision:
    def check(state: YearState, connection: Connection) -> None:
        if not (is_six_digits(center_code) and has_valid_check_digit(center_code)):
            raise RequestRefused(f"団体コードではありません / not a center code: {center_code!r}")
        _require_closed(state)
        if not any(item.center_code == center_code for item in governance.pending_revisions(connection, fiscal_year)):
            raise RequestRefused(
                f"{describe_fiscal_year(fiscal_year)} の団体 {center_code} に保留中の修正はありません / "
                f"nothing pending for center {center_code} in FY{fiscal_year}"
            )

    return _decide(
        settings, fiscal_year, FiscalYearAction.ACCEPT_REVISION, note, check, center_code, on_wait, quality_gate
    )


def reopen_year(
    settings: Settings, fiscal_year: int, note: str, *, on_wait: OnWait = print, quality_gate: bool = True
) -> Decision:
    def check(state: YearState, _: Connection) -> None:
        _require_closed(state)

    return _decide(settings, fiscal_year, FiscalYearAction.REOPEN_YEAR, note, check, None, on_wait, quality_gate)


def list_revisions(
    settings: Settings,
    fiscal_year: int | None = None,
    *,
    on_wait: OnWait = print,
    quality_gate: bool = True,
) -> list[RevisionChanges]:
    """The pending revisions (of one closed year, or of all), each with its changed items.

    Like the other commands it holds the warehouse, rebuilds and republishes the analysts' copy, so
    the copy shows the pending revisions as they are now.
    """
    run_id = str(uuid.uuid4())
    with operations.holding_warehouse(settings, on_wait):
        pipeline.record_deadline_calendar(settings, run_id)
        pipeline.rebuild_models(settings, run_id)
        if fiscal_year is not None:
            with operations.writer(settings, on_wait) as connection:
                state = governance.year_state(connection, fiscal_year)
            _require_closed(state)
        with operations.audited(settings, run_id, REVISIONS_FLOW_NAME, _years(fiscal_year)):
            if quality_gate:
                pipeline.check_quality(settings, run_id)
            with operations.writer(settings, on_wait) as connection:
                return [
                    RevisionChanges(
                        revision,
                        governance.version_changes(
                            connection,
                            revision.center_code,
                            revision.fiscal_year,
                            revision.counted_version,
                            revision.pending_version,
                        ),
                    )
                    for revision in governance.pending_revisions(connection, fiscal_year)
                ]


def _decide(
    settings: Settings,
    fiscal_year: int,
    action: FiscalYearAction,
    note: str,
    check: Callable[[YearState, Connection], None],
    center_code: str | None,
    on_wait: OnWait,
    quality_gate: bool,
) -> Decision:
    if not note.strip():
        raise RequestRefused("--note に理由を書いてください / give the reason with --note")
    run_id = str(uuid.uuid4())
    with operations.holding_warehouse(settings, on_wait):
        pipeline.record_deadline_calendar(settings, run_id)
        pipeline.rebuild_models(settings, run_id)  # the request is judged on this version's models
        with operations.writer(settings, on_wait) as connection:
            check(governance.year_state(connection, fiscal_year), connection)
        with operations.audited(settings, run_id, FLOW_NAMES[action], (fiscal_year,)) as audit:
            with operations.writer(settings, on_wait) as connection:
                decision = governance.record_decision(
                    connection, fiscal_year, action, note.strip(), run_id, center_code
                )
            if action is not FiscalYearAction.CLOSE_YEAR:  # closing keeps every figure as it is
                audit.fiscal_years_changed.add(fiscal_year)
            pipeline.rebuild_models(settings, run_id)
            if quality_gate:
                pipeline.check_quality(settings, run_id)
    return decision


def compare_versions(
    connection: Connection,
    center_code: str,
    fiscal_year: int,
    old_version: int | None = None,
    new_version: int | None = None,
) -> VersionComparison:
    """Compare two accepted versions (read-only; the portal calls it on the analysts' copy).

    By default the newest version against the one that counts (a pending revision: what accepting it
    would change), or, when the newest counts, against the version before it.
    """
    versions = governance.submission_versions(connection, center_code, fiscal_year)
    numbers = [version.version for version in versions]
    if not numbers:
        raise RequestRefused(
            f"団体 {center_code} の {describe_fiscal_year(fiscal_year)} に受理した版はありません / "
            f"no accepted version of center {center_code} for FY{fiscal_year}"
        )
    new = numbers[-1] if new_version is None else new_version
    if old_version is None:
        counted = next((version.version for version in versions if version.counted), None)
        old: int | None = counted if counted is not None and counted != new else new - 1
        if old == 0:
            raise RequestRefused(
                f"比べる前の版がありません（第{new}版のみ）/ version {new} has no earlier version to compare with"
            )
    else:
        old = old_version
    unknown = [number for number in (old, new) if number not in numbers]
    if unknown:
        raise RequestRefused(
            f"その版はありません / no version {unknown[0]} of center {center_code} for FY{fiscal_year} "
            f"(versions: {', '.join(str(number) for number in numbers)})"
        )
    assert old is not None  # not in numbers otherwise
    if old == new:
        raise RequestRefused(f"同じ版どうしです / version {old} compared with itself: give two different versions")
    changes = governance.version_changes(connection, center_code, fiscal_year, old, new)
    return VersionComparison(center_code, fiscal_year, old, new, changes, versions)


def format_comparison(comparison: VersionComparison, center_name: str = "") -> str:
    """``hikikomori diff``: a heading, then each item whose count differs (old → new), Japanese and English."""
    old, new = comparison.old_version, comparison.new_version
    lines = [
        f"{center_name}（{comparison.center_code}）{describe_fiscal_year(comparison.fiscal_year)}: "
        f"第{old}版 → 第{new}版 / version {old} → {new}"
    ]
    lines.extend(_change_lines(comparison.changes))
    return "\n".join(lines) + "\n"


def _require_data(state: YearState) -> None:
    if not state.has_data:
        raise RequestRefused(
            f"{describe_fiscal_year(state.fiscal_year)} には受理した提出がありません / no accepted submission for "
            f"FY{state.fiscal_year} (unknown year)"
        )


def _require_closed(state: YearState) -> None:
    _require_data(state)
    if not state.closed:
        raise RequestRefused(
            f"{describe_fiscal_year(state.fiscal_year)} は確定していません（最新の版を集計中）/ "
            f"FY{state.fiscal_year} is open: its latest versions count, there is nothing to revise (close-year first)"
        )


def _years(fiscal_year: int | None) -> tuple[int, ...]:
    return () if fiscal_year is None else (fiscal_year,)


def item_label(change: ItemChange) -> tuple[str, str]:
    """An item as people read it: (Japanese, English), e.g. ("関係機関につないだ件数 学校・教育委員会等", …)."""
    measure = label(Measure(change.measure))
    if change.category == "total":
        suffix_ja, suffix_en = ("（合計）", " (total)") if change.measure == Measure.REFERRALS else ("", "")
        return f"{measure.ja}{suffix_ja}", f"{measure.en}{suffix_en}"
    return (
        f"{measure.ja} {change.category_label or change.category}",
        f"{measure.en}: {change.category_label_en or change.category}",
    )


def format_change(change: ItemChange) -> str:
    """``関係機関につないだ件数 学校・教育委員会等 / referrals: schools: 3 → 5`` (— where an item is absent)."""
    ja, en = item_label(change)
    old = "—" if change.old is None else f"{change.old:,}"
    new = "—" if change.new is None else f"{change.new:,}"
    return f"{ja} / {en}: {old} → {new}"


def format_decision(decision: Decision) -> str:
    """What a command prints on success."""
    action = label(decision.action)
    year = describe_fiscal_year(decision.fiscal_year)
    if decision.action is FiscalYearAction.CLOSE_YEAR:
        detail = f"{decision.counted_centers} センターの版を確定 / versions of {decision.counted_centers} centers fixed"
    elif decision.action is FiscalYearAction.ACCEPT_REVISION:
        before = (
            "なし none" if decision.from_version is None else f"第{decision.from_version}版 v{decision.from_version}"
        )
        detail = f"団体 {decision.center_code}: {before} → 第{decision.to_version}版 v{decision.to_version}"
    else:
        detail = "最新の版を集計します / the latest versions count again"
    return f"{year} {action.ja} / {action.en} (#{decision.decision_id}): {detail}"


def format_revisions(revisions: list[RevisionChanges]) -> str:
    """The pending revisions as ``hikikomori revisions`` prints them."""
    if not revisions:
        return "保留中の修正はありません / no pending revisions\n"
    lines = []
    for item in revisions:
        revision = item.revision
        counted = "なし none" if revision.counted_version is None else f"第{revision.counted_version}版"
        lines.append(
            f"{describe_fiscal_year(revision.fiscal_year)} {revision.center_code} {revision.center_name or ''}: "
            f"集計中 counted {counted} → 保留中 pending 第{revision.pending_version}版 "
            f"(受付 received {revision.pending_received_at.astimezone(JAPAN):%Y-%m-%d %H:%M} JST)"
        )
        lines.extend(_change_lines(item.changes))
    return "\n".join(lines) + "\n"


def _change_lines(changes: Sequence[ItemChange]) -> list[str]:
    """Each changed item indented under its heading, or one line saying nothing changed."""
    if not changes:
        return ["  件数の違いはありません / no count differs"]
    return [f"  {format_change(change)}" for change in changes]
