"""Validate a batch of received files at once, keeping each file's problems its own.

All rows of all readable files go through the pandera schemas in one frame; every failure is
turned into an ``Issue`` that names the file, spreadsheet row, column/cell, value and rule.
"""

import gc
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import groupby
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pandera.pandas as pa
from pandas.api.typing import NAType

from hikikomori.domain.counts import parse_count
from hikikomori.domain.fiscal_years import last_ended_fiscal_year, parse_fiscal_year
from hikikomori.domain.reference import TOTAL_CATEGORY, TOTAL_LABELS, ReferenceData
from hikikomori.domain.text import normalize_text, normalize_width
from hikikomori.domain.vocabulary import FileOutcome, FileStep, Measure
from hikikomori.schemas.containment import StepFailure, contained
from hikikomori.schemas.files import (
    SUBMISSION_COLUMNS,
    ReceivedFile,
    TextTable,
    file_name_issues,
    read_table,
)
from hikikomori.schemas.limits import InputLimits
from hikikomori.schemas.rules import CONTEXT_RULES, RULES, VALUE_RULES, ContextRule, Issue, Rule, ValueRule
from hikikomori.schemas.submission import (
    RAW_SUBMISSION_ROWS,
    REQUIRED_TOTAL_MEASURES,
    SUBMISSION_ROWS_IN_CONTEXT,
    per_distinct_value,
)

LOADED_COLUMNS = ("row_number", "measure", "category", "count")
INT64_MAX = 2**63 - 1

Totals = dict[str, int]  # measure → a center's total for the year


_VALUE_RULES = {rule.code: rule for rule in VALUE_RULES}
_CONTEXT_RULES = {rule.code: rule for rule in CONTEXT_RULES}
AnyRule = TypeVar("AnyRule", bound=Rule)
_ITEM_MISSING = RULES["item_missing"]


class UnexplainedSchemaFailure(RuntimeError):
    """A pandera failure that no rule explains: a bug in the validation itself, never in a file.

    It has no row (a column's dtype, a check that raised) or a check name that is no rule's code.
    Dropping it would accept a file nothing was checked on, so the run stops and says which.
    """


class _Failure(NamedTuple):
    frame_row: int  # index label in the batch frames (raw and typed share it)
    rule: ValueRule | ContextRule
    expected: str | None


@dataclass(frozen=True)
class FileRows:
    """An accepted file's rows: a range of its batch's frame, which is never cut into a frame per file.

    ``batch`` holds LOADED_COLUMNS of every accepted file of a validation batch (index 0 … n-1), each
    file's rows contiguous; the warehouse takes a load's rows from it in one go (``rows_of``).
    """

    batch: pd.DataFrame
    start: int
    stop: int
    totals: "Totals"  # per measure, as the receipt shows them

    def __len__(self) -> int:
        return self.stop - self.start

    def frame(self) -> pd.DataFrame:
        """This file's rows as a frame of their own (index 0 … n-1)."""
        return self.batch.iloc[self.start : self.stop].reset_index(drop=True)


def rows_of(files: "list[FileRows]") -> pd.DataFrame:
    """These files' rows in this order, in one frame (index 0 … n-1): one take per batch they come from."""
    if not files:
        return pd.DataFrame({column: [] for column in LOADED_COLUMNS})
    taken = []
    for _, group in groupby(files, key=lambda rows: id(rows.batch)):
        parts = list(group)
        positions = np.concatenate([np.arange(part.start, part.stop) for part in parts])
        taken.append(parts[0].batch.take(positions))
    return pd.concat(taken, ignore_index=True) if len(taken) > 1 else taken[0].reset_index(drop=True)


@dataclass
class ValidatedFile:
    received: ReceivedFile
    issues: list[Issue] = field(default_factory=list)
    center_code: str | None = None
    fiscal_year: int | None = None
    loaded: FileRows | None = None  # set only when the file is accepted

    @property
    def accepted(self) -> bool:
        return not self.issues

    @property
    def rows(self) -> pd.DataFrame | None:
        """An accepted file's rows (LOADED_COLUMNS) as a frame of their own; None unless accepted."""
        return None if self.loaded is None else self.loaded.frame()

    @property
    def held(self) -> Issue | None:
        """The issue keeping the file out of this run (left in the inbox, or gone), if any."""
        return next((issue for issue in self.issues if issue.outcome is not FileOutcome.REJECTED), None)


@dataclass
class _Verdict:
    """What the rules found in one file of a batch (applied to its ValidatedFile once the batch succeeded)."""

    issues: list[Issue] = field(default_factory=list)
    center_code: str | None = None
    fiscal_year: int | None = None
    rows: FileRows | None = None


def validate_files(
    files: list[ReceivedFile], reference: ReferenceData, as_of: date, limits: InputLimits | None = None
) -> list[ValidatedFile]:
    """Every file's issues; each file's failure of any kind is its own (``schemas/containment.py``)."""
    with _cycle_collector_paused():
        return _validate_files(files, reference, as_of, limits or InputLimits())


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch is read and judged; it runs again as before after.

    Reference counting still frees everything at once; only reference cycles wait (a batch makes hardly
    any). A batch allocates several small containers per row (the reader's rows and cells): each full
    collection on the way walked all of them, 0.15–0.2 s of a 10,000-file batch's 1.1 s. Whichever
    caller paused it resumes it (gc.isenabled), so batches validated at once in threads leave it on.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _validate_files(
    files: list[ReceivedFile], reference: ReferenceData, as_of: date, limits: InputLimits
) -> list[ValidatedFile]:
    results = [
        ValidatedFile(received, center_code=received.name_center_code, fiscal_year=received.name_fiscal_year)
        for received in files
    ]
    tables: dict[int, TextTable] = {}
    for file_id, result in enumerate(results):
        refusal = result.received.refusal
        if refusal is not None and (refusal.outcome is not FileOutcome.REJECTED or refusal.rule == "file_symlink"):
            result.issues.append(refusal)  # nothing else about it is known (or judged yet)
            continue
        parsed = contained(FileStep.PARSE, partial(_read, result.received, limits))
        if isinstance(parsed, StepFailure):
            result.issues.append(parsed.issue(result.received.name))
            continue
        table, issues = parsed
        result.issues.extend(issues)
        if table is not None:
            tables[file_id] = table
    if tables:
        _validate_contained(tables, results, reference, as_of, limits)
    for result in results:
        result.issues.sort(key=lambda issue: (issue.row is None, issue.row or 0, issue.column or "", issue.rule))
    return results


def _read(received: ReceivedFile, limits: InputLimits) -> tuple[TextTable | None, list[Issue]]:
    table, issues = read_table(received, limits)
    return table, file_name_issues(received) + issues


def _validate_contained(
    tables: dict[int, TextTable],
    results: list[ValidatedFile],
    reference: ReferenceData,
    as_of: date,
    limits: InputLimits,
) -> None:
    """The whole batch at once; if that raises, each file alone, so only the file that raises is held back."""
    received = [result.received for result in results]
    rejected = frozenset(file_id for file_id in tables if results[file_id].issues)
    batch = contained(FileStep.VALIDATE, partial(_verdicts, tables, received, rejected, reference, as_of, limits))
    if isinstance(batch, StepFailure):
        batch_or_alone: dict[int, _Verdict | StepFailure] = {
            file_id: _alone(file_id, table, received, rejected, reference, as_of, limits)
            for file_id, table in tables.items()
        }
    else:
        batch_or_alone = dict(batch)
    for file_id, verdict in batch_or_alone.items():
        result = results[file_id]
        if isinstance(verdict, StepFailure):
            result.issues.append(verdict.issue(result.received.name))
            continue
        result.issues.extend(verdict.issues)
        result.center_code = result.center_code or verdict.center_code
        result.fiscal_year = result.fiscal_year if result.fiscal_year is not None else verdict.fiscal_year
        result.loaded = verdict.rows if result.accepted else None


def _alone(
    file_id: int,
    table: TextTable,
    received: list[ReceivedFile],
    rejected: frozenset[int],
    reference: ReferenceData,
    as_of: date,
    limits: InputLimits,
) -> "_Verdict | StepFailure":
    check = partial(_verdicts, {file_id: table}, received, rejected, reference, as_of, limits)
    verdicts = contained(FileStep.VALIDATE, check)
    return verdicts if isinstance(verdicts, StepFailure) else verdicts[file_id]


def _verdicts(
    tables: dict[int, TextTable],
    received: list[ReceivedFile],
    rejected: frozenset[int],
    reference: ReferenceData,
    as_of: date,
    limits: InputLimits,
) -> dict[int, _Verdict]:
    """The rules over every row of these files in one frame; changes nothing until it has succeeded.

    ``rejected``: files the reader already found problems in (their rows are checked, never loaded).
    """
    verdicts = {file_id: _Verdict() for file_id in tables}
    raw = _raw_frame(tables)
    raw_failures = _raw_failures(raw)
    bad_cells = {(failure.frame_row, failure.rule.column) for failure in raw_failures}
    typed = _typed_frame(raw, bad_cells, received, reference, as_of, limits)
    cell_of = _cell_addresses(tables)
    file_ids, row_numbers = raw["file_id"].tolist(), raw["row_number"].tolist()  # the index is 0 … n-1
    for failure in raw_failures + _typed_failures(typed):
        column = failure.rule.column
        file_id, row_number = int(file_ids[failure.frame_row]), int(row_numbers[failure.frame_row])
        if (row_number, column) in tables[file_id].flagged_cells:
            continue
        verdicts[file_id].issues.append(
            Issue(
                received[file_id].name,
                failure.rule.code,
                row=row_number,
                column=column,
                cell=f"{cell_of[file_id][column]}{row_number}",
                value=str(raw.at[failure.frame_row, column]),
                expected=failure.expected,
            )
        )
    # Batch-wide rather than per file (a per-file loop of pandas calls dominated large runs).
    firsts = typed.groupby("file_id").agg(center_code=("center_code", "first"), fiscal_year=("fiscal_year", "first"))
    for file_id, missing in _missing_items(typed, reference).items():
        verdicts[file_id].issues.extend(
            Issue(received[file_id].name, _ITEM_MISSING.code, column=_ITEM_MISSING.column, value=value)
            for value in missing
        )
    for file_id, center_code, fiscal_year in zip(
        firsts.index.tolist(), firsts["center_code"].tolist(), firsts["fiscal_year"].tolist(), strict=True
    ):
        verdict = verdicts[int(file_id)]
        verdict.center_code = center_code if pd.notna(center_code) else None
        verdict.fiscal_year = int(fiscal_year) if pd.notna(fiscal_year) else None
    clean = {file_id: not verdicts[file_id].issues and file_id not in rejected for file_id in verdicts}
    accepted = typed.file_id.map(clean).astype(bool)
    # Counts are Int64 built from Python ints (never float64); an accepted file's are all within max_count.
    loaded = typed.loc[accepted, ["file_id", *LOADED_COLUMNS]].astype(
        {"measure": str, "category": str, "count": "int64"}
    )
    # A file's rows are contiguous (the frame is built file by file): ranges of one frame, never a frame per file.
    starts = loaded.file_id.ne(loaded.file_id.shift()).to_numpy().nonzero()[0].tolist()
    rows = loaded.loc[:, list(LOADED_COLUMNS)].reset_index(drop=True)
    stops = [*starts[1:], len(loaded)] if starts else []
    totals = _totals(loaded)
    for file_id, start, stop in zip(loaded.file_id.to_numpy()[starts].tolist(), starts, stops, strict=True):
        verdicts[file_id].rows = FileRows(rows, start, stop, totals.get(file_id, {}))
    return verdicts


def _raw_frame(tables: dict[int, TextTable]) -> pd.DataFrame:
    """Every data row of every file in one frame, built from column lists (one DataFrame, not one per file).

    Equal texts are made one string object (a batch repeats the same codes, years and counts): each
    later pass over a column (null tests, ``pd.factorize``) then reads a few thousand strings, not one
    per cell scattered through memory, several times faster.
    """
    file_ids: list[int] = []
    row_numbers: list[int] = []
    cells: dict[str, list[str]] = {column: [] for column in SUBMISSION_COLUMNS}
    texts_seen: dict[str, str] = {}
    one_object = texts_seen.setdefault
    for file_id, table in tables.items():
        if not table.rows:
            continue
        numbers, rows = zip(*table.rows, strict=True)
        file_ids.extend([file_id] * len(numbers))
        row_numbers.extend(numbers)
        by_position = list(zip(*rows, strict=True))  # a table's rows all have the header's width
        for column in SUBMISSION_COLUMNS:
            texts = by_position[table.header.index(column)]
            cells[column].extend(map(one_object, texts, texts))
    return pd.DataFrame(
        {
            "file_id": np.array(file_ids, dtype=np.int64),
            "row_number": np.array(row_numbers, dtype=np.int64),
            **{column: pd.array(np.array(texts, dtype=object), dtype=str) for column, texts in cells.items()},
        }
    )


def _raw_failures(raw: pd.DataFrame) -> list[_Failure]:
    """Failures of the text layer; their cells' text is unusable for the typed layer."""
    try:
        # In place: the schemas coerce nothing (coerce=False), so validation leaves the frame as it is;
        # pandera's copy of it first cost 25 ms of the raw layer's 130 at 10,000 files.
        RAW_SUBMISSION_ROWS.validate(raw, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        return [_Failure(row, rule, None) for row, rule in _explained(errors.failure_cases, _VALUE_RULES)]
    return []


def _typed_frame(
    raw: pd.DataFrame,
    bad_cells: set[tuple[int, str]],
    received: list[ReceivedFile],
    reference: ReferenceData,
    as_of: date,
    limits: InputLimits,
) -> pd.DataFrame:
    def usable(column: str) -> npt.NDArray[np.bool_]:
        return ~raw.index.isin([index for index, bad_column in bad_cells if bad_column == column])

    center_code = per_distinct_value(raw.center_code, normalize_width).where(usable("center_code")).astype("string")
    measure = per_distinct_value(raw.measure, str.strip).where(usable("measure")).astype("string")
    typed = pd.DataFrame(
        {
            "file_id": raw.file_id,
            "row_number": raw.row_number,
            "center_code": center_code,
            "fiscal_year": exact_integers(raw.fiscal_year.where(usable("fiscal_year")), parse_fiscal_year),
            "measure": measure,
            "category_text": raw.category.astype("string"),
            "count": exact_integers(raw["count"].where(usable("count")), parse_count),
        }
    )
    typed["max_count"] = _same_integer(limits.max_count, len(typed))
    first = typed.groupby("file_id").first()  # first non-null value per file
    name_codes = pd.Series({file_id: received[file_id].name_center_code for file_id in first.index})
    name_years = pd.Series({file_id: received[file_id].name_fiscal_year for file_id in first.index})
    typed["expected_center_code"] = typed.file_id.map(name_codes.fillna(first.center_code)).astype("string")
    typed["expected_fiscal_year"] = typed.file_id.map(name_years.astype("Int64").fillna(first.fiscal_year)).astype(
        "Int64"
    )
    opened = {code: center.opened_fiscal_year for code, center in reference.centers.items()}
    typed["center_opened_fiscal_year"] = per_distinct_value(typed.center_code, opened.get).astype("Int64")
    typed["last_ended_fiscal_year"] = _same_integer(last_ended_fiscal_year(as_of), len(typed))
    form_year = typed.fiscal_year.fillna(typed.expected_fiscal_year)
    typed["form"] = per_distinct_value(form_year, reference.form_for).astype("string")
    # Resolved once per distinct (measure, form, text): a batch repeats the same few hundred.
    category, in_other_form = per_distinct_combination(
        [typed.measure, typed.form, typed.category_text], partial(_resolve, reference), parts=2
    )
    typed["category"] = pd.array(category, dtype="string")
    typed["category_in_other_form"] = pd.array(in_other_form, dtype=bool)
    typed["referral_category_sum"] = _referral_category_sums(typed)
    typed["first_row_of_category"] = _first_row_of_category(typed)
    return typed.loc[:, list(SUBMISSION_ROWS_IN_CONTEXT.columns)]


def _same_integer(value: int, length: int) -> pd.arrays.IntegerArray:
    """``value`` on every row, as Int64 (from one filled array: a list of ``length`` ints cost 5 ms a column
    at 200,000 rows)."""
    return pd.arrays.IntegerArray(np.full(length, value, dtype=np.int64), np.zeros(length, dtype=bool))


def exact_integers(texts: "pd.Series[Any]", parse: Callable[[str], int]) -> "pd.Series[Any]":
    """Each text's integer, exactly, as Int64 (null where the text is null), parsed once per distinct text.

    Built from Python ints, never through float64 (a column with a null and a large number would be
    float64 and round it). A number beyond Int64 is held at Int64's maximum: it can only fail
    ``count_too_large`` (whose message shows the text as typed), never be loaded.
    """
    codes, distinct = pd.factorize(texts)  # a null's code is -1: it takes the placeholder 0 put last, masked
    parsed = np.array([*(min(parse(text), INT64_MAX) for text in distinct), 0], dtype=np.int64)
    return pd.Series(pd.arrays.IntegerArray(parsed[codes], codes < 0), index=texts.index)


def per_distinct_combination(
    columns: "list[pd.Series[Any]]", function: Callable[..., tuple[Any, ...]], parts: int
) -> "list[npt.NDArray[np.object_]]":
    """``function(*values)`` of each row, computed once per distinct combination of the columns' values.

    ``function`` returns a tuple of ``parts`` values; the result is one object array per part, a value per
    row. The rows are numbered by ``pd.factorize`` column by column (a null is one more value), and the
    function is called with the values of each combination's first row, as ``tolist()`` gives them.
    """
    combined = _combinations(columns)
    _, first_rows = np.unique(combined, return_index=True)  # codes number combinations in order of appearance
    arguments = [column.iloc[first_rows].tolist() for column in columns]
    results = [function(*values) for values in zip(*arguments, strict=True)]
    return [np.array([*(result[part] for result in results), None], dtype=object)[combined] for part in range(parts)]


def _combinations(columns: "list[pd.Series[Any]]") -> "npt.NDArray[np.intp]":
    """Each row's combination of the columns' values as a number 0 … k-1, in order of first appearance.

    ``pd.factorize`` column by column, a null being one more value: the numbers stay below the number
    of rows, so each step's product stays far within int64.
    """
    combined = np.zeros(len(columns[0]), dtype=np.intp)
    for column in columns:
        codes, distinct = pd.factorize(column)
        combined, _ = pd.factorize(combined * (len(distinct) + 1) + (codes + 1))
    return combined


def _first_row_of_category(typed: pd.DataFrame) -> "pd.Series[Any]":
    """Per row, the smallest row number of its file with the same measure and category (null if either is)."""
    keys = _combinations([typed.file_id, typed.measure, typed.category])
    smallest = np.full(keys.max() + 1 if len(keys) else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, keys, typed.row_number.to_numpy(dtype=np.int64))
    unknown = (typed.measure.isna() | typed.category.isna()).to_numpy()
    return pd.Series(pd.arrays.IntegerArray(smallest[keys], unknown), index=typed.index)


def _resolve(reference: ReferenceData, measure: str | NAType, form: str | NAType, text: str) -> tuple[str | None, bool]:
    """(category code on the year's form or None, whether the text names the other form's category)."""
    if pd.isna(measure) or pd.isna(form):
        return None, False
    if measure != Measure.REFERRALS:
        value = normalize_text(text)
        return (TOTAL_CATEGORY if value == TOTAL_CATEGORY or value in TOTAL_LABELS else None), False
    code = reference.resolve_category(form, text)
    if code is not None:
        return code, False
    other_forms = (candidate.form for candidate in reference.forms if candidate.form != form)
    return None, any(reference.resolve_category(other, text) is not None for other in other_forms)


def _referral_category_sums(typed: pd.DataFrame) -> pd.Series:
    """Each file's sum over its referral categories.

    Null when the sum cannot be known: a referral item's count (or one over the maximum) or category
    is unreadable, or a row's measure is (it may have been a referral).
    """
    is_item = (typed.measure == Measure.REFERRALS).fillna(False) & (typed.category != TOTAL_CATEGORY).fillna(True)
    # A count over the maximum is judged by count_too_large; left out, the sum can never overflow Int64.
    unknown_count = typed["count"].isna() | (typed["count"] > typed["max_count"]).fillna(True)
    unreadable = typed.measure.isna() | (is_item & (unknown_count | typed.category.isna()))
    sums = typed["count"].where(is_item, 0).groupby(typed.file_id).sum(min_count=0)
    knowable = ~unreadable.groupby(typed.file_id).any()
    return typed.file_id.map(sums.where(knowable)).astype("Int64")


def _typed_failures(typed: pd.DataFrame) -> list[_Failure]:
    try:
        SUBMISSION_ROWS_IN_CONTEXT.validate(typed, lazy=True, inplace=True)  # in place: as in _raw_failures
    except pa.errors.SchemaErrors as errors:
        failures = []
        # A dataframe-level check reports each failing row once per column: one issue per rule and row.
        for row, rule in dict.fromkeys(_explained(errors.failure_cases, _CONTEXT_RULES)):
            failures.append(_Failure(row, rule, rule.expected(_typed_row(typed, row))))
        return failures
    return []


def _typed_row(typed: pd.DataFrame, row: int) -> Mapping[Hashable, Any]:
    return {column: typed[column].iat[row] for column in typed.columns}


def _explained(cases: pd.DataFrame, rules: Mapping[str, AnyRule]) -> list[tuple[int, AnyRule]]:
    """(row of the frame, rule) of every failure; raises on any failure no rule explains."""
    explained = []
    for case in cases.to_dict("records"):
        check, row = str(case["check"]), case["index"]
        rule = rules.get(check)
        if rule is None or pd.isna(row):
            raise UnexplainedSchemaFailure(
                f"pandera check {check!r} on column {case['column']!r} failed "
                f"({'no row' if pd.isna(row) else f'row {row}'}: {case['failure_case']!r}), "
                "and no rule of hikikomori.schemas.rules explains it"
            )
        explained.append((int(row), rule))
    return explained


def _missing_items(typed: pd.DataFrame, reference: ReferenceData) -> dict[int, list[str]]:
    """Per file, the required rows that are absent (as "measure / code (label)"), in form order.

    Missing rows have no cell to point at, so their issues carry no row number. A file's form is
    that of its first row with a known one; a file with none is not checked here.
    """
    required = {  # per form, its required items in order: (measure, category, as the issue shows it)
        form.form: [
            (str(measure), code, f"{measure} / {code} ({label})")
            for measure, code, label in [(measure, TOTAL_CATEGORY, measure) for measure in REQUIRED_TOTAL_MEASURES]
            + [(Measure.REFERRALS, item.category, item.label_ja) for item in reference.form_categories(form.form)]
        ]
        for form in reference.forms
    }
    numbers: dict[tuple[str, str], int] = {}  # each required (measure, category) of any form: a number
    for items in required.values():
        for measure, category, _ in items:
            numbers.setdefault((measure, category), len(numbers))

    def number(measure: str | NAType, category: str | NAType) -> tuple[int]:
        if isinstance(measure, str) and isinstance(category, str):
            return (numbers.get((measure, category), -1),)
        return (-1,)

    # Each row as file × item in one int64 (rows of no required item left out), then each form's files alike.
    (row_items,) = per_distinct_combination([typed.measure, typed.category], number, parts=1)
    row_items = row_items.astype(np.int64)
    present = np.unique(typed.file_id.to_numpy()[row_items >= 0] * len(numbers) + row_items[row_items >= 0])
    forms = typed.groupby("file_id").form.first().dropna()
    missing: dict[int, list[str]] = {}
    for form, items in required.items():
        file_ids = forms.index.to_numpy()[(forms == form).to_numpy()]
        wanted = np.array([numbers[(measure, category)] for measure, category, _ in items], dtype=np.int64)
        absent = ~np.isin(file_ids[:, None] * len(numbers) + wanted, present)  # a row per file, a column per item
        for position in np.flatnonzero(absent.any(axis=1)).tolist():
            missing[int(file_ids[position])] = [items[item][2] for item in np.flatnonzero(absent[position]).tolist()]
    return dict(sorted(missing.items()))


def _totals(loaded: pd.DataFrame) -> dict[int, Totals]:
    """Per file, its per-measure totals (``FileRows.totals``); referrals summed over their categories.

    Sorted by measure. Exact: summed as int64 only when no sum can pass its maximum (the largest count
    times the most rows of a file), else as Python ints.
    """
    counted = loaded.loc[(loaded.measure != Measure.REFERRALS) | (loaded.category != TOTAL_CATEGORY)]
    counts = counted["count"]
    if len(counted) and int(counts.max()) * int(counted.groupby("file_id").size().max()) > INT64_MAX:
        counts = counts.astype(object)  # Python ints: exact at any size
    sums = counts.groupby([counted.file_id, counted.measure], sort=True).sum()
    totals: dict[int, Totals] = {}
    file_ids, measures = (sums.index.get_level_values(level).tolist() for level in (0, 1))
    for file_id, measure, total in zip(file_ids, measures, sums.tolist(), strict=True):
        totals.setdefault(file_id, {})[measure] = total
    return totals


def _cell_addresses(tables: dict[int, TextTable]) -> dict[int, dict[str, str]]:
    """Column letter of each submission column, per file, as the spreadsheet shows it."""
    return {
        file_id: {column: table.column_letters[table.header.index(column)] for column in SUBMISSION_COLUMNS}
        for file_id, table in tables.items()
    }
