"""Validate a batch of received files at once, keeping each file's problems its own.

All rows of all readable files go through the pandera schemas in one frame; every failure is
turned into an ``Issue`` that names the file, spreadsheet row, column/cell, value and rule.
"""

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pandera.pandas as pa

from hikikomori.domain.counts import parse_count
from hikikomori.domain.fiscal_years import (
    FIRST_LABELLED_FISCAL_YEAR,
    describe_fiscal_year,
    last_ended_fiscal_year,
    parse_fiscal_year,
)
from hikikomori.domain.reference import TOTAL_CATEGORY, TOTAL_LABELS, ReferenceData
from hikikomori.domain.text import normalize_text
from hikikomori.schemas.files import (
    SUBMISSION_COLUMNS,
    ReceivedFile,
    TextTable,
    file_name_issues,
    read_table,
)
from hikikomori.schemas.limits import InputLimits
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.submission import (
    REQUIRED_TOTAL_MEASURES,
    RawSubmissionRows,
    SubmissionRowsInContext,
    per_distinct_value,
)

# The cell a cross-row rule points at, when it fails.
_RULE_COLUMNS = {
    "center_code_mismatch": "center_code",
    "center_not_registered": "center_code",
    "center_not_open": "center_code",
    "fiscal_year_mismatch": "fiscal_year",
    "fiscal_year_out_of_range": "fiscal_year",
    "fiscal_year_not_ended": "fiscal_year",
    "category_other_form": "category",
    "category_unknown": "category",
    "category_duplicate": "category",
    "referral_total_mismatch": "count",
}
LOADED_COLUMNS = ("row_number", "measure", "category", "count")


@dataclass
class ValidatedFile:
    received: ReceivedFile
    issues: list[Issue] = field(default_factory=list)
    center_code: str | None = None
    fiscal_year: int | None = None
    rows: pd.DataFrame | None = None  # LOADED_COLUMNS, set only when the file is accepted

    @property
    def accepted(self) -> bool:
        return not self.issues


def validate_files(
    files: list[ReceivedFile], reference: ReferenceData, as_of: date, limits: InputLimits | None = None
) -> list[ValidatedFile]:
    results = [
        ValidatedFile(received, center_code=received.name_center_code, fiscal_year=received.name_fiscal_year)
        for received in files
    ]
    tables: dict[int, TextTable] = {}
    for file_id, result in enumerate(results):
        refusal = result.received.refusal
        if refusal is not None and refusal.rule in ("file_still_being_written", "file_symlink"):
            result.issues.append(refusal)  # nothing else about it is known (or judged yet)
            continue
        result.issues.extend(file_name_issues(result.received))
        table, issues = read_table(result.received, limits)
        result.issues.extend(issues)
        if table is not None:
            tables[file_id] = table
    if not tables:
        return results

    raw = _raw_frame(tables)
    raw_issues, bad_cells = _raw_failures(raw)
    typed = _typed_frame(raw, bad_cells, results, reference, as_of)
    cell_of = _cell_addresses(tables)
    for issue_row in raw_issues + _typed_failures(typed):
        index, rule, column, expected = issue_row
        file_id, row_number = int(raw.at[index, "file_id"]), int(raw.at[index, "row_number"])
        if (row_number, column) in tables[file_id].flagged_cells:
            continue
        results[file_id].issues.append(
            Issue(
                results[file_id].received.name,
                rule,
                row=row_number,
                column=column,
                cell=f"{cell_of[file_id][column]}{row_number}",
                value=str(raw.at[index, column]),
                expected=expected,
            )
        )
    # Batch-wide rather than per file (a per-file loop of pandas calls dominated large runs).
    firsts = typed.groupby("file_id").agg(center_code=("center_code", "first"), fiscal_year=("fiscal_year", "first"))
    for file_id, missing in _missing_items(typed, reference).items():
        results[file_id].issues.extend(
            Issue(results[file_id].received.name, "item_missing", column="category", value=value) for value in missing
        )
    for file_id, center_code, fiscal_year in firsts.itertuples():
        result = results[int(file_id)]
        if result.center_code is None and pd.notna(center_code):
            result.center_code = center_code
        if result.fiscal_year is None and pd.notna(fiscal_year):
            result.fiscal_year = int(fiscal_year)
    accepted = typed.file_id.map({file_id: results[file_id].accepted for file_id in firsts.index}).astype(bool)
    loaded = typed.loc[accepted, ["file_id", *LOADED_COLUMNS]].astype(
        {"measure": str, "category": str, "count": "int64"}
    )
    # A file's rows are contiguous (the frame is built file by file): slice rather than group.
    starts = loaded.file_id.ne(loaded.file_id.shift()).to_numpy().nonzero()[0].tolist()
    rows = loaded.loc[:, list(LOADED_COLUMNS)]
    stops = [*starts[1:], len(loaded)] if starts else []
    for start, stop in zip(starts, stops, strict=True):
        results[int(loaded.file_id.iat[start])].rows = rows.iloc[start:stop].reset_index(drop=True)
    for result in results:
        result.issues.sort(key=lambda issue: (issue.row is None, issue.row or 0, issue.column or "", issue.rule))
    return results


def _raw_frame(tables: dict[int, TextTable]) -> pd.DataFrame:
    """Every data row of every file in one frame, built from column lists (one DataFrame, not one per file)."""
    columns: dict[str, list] = {"file_id": [], "row_number": [], **{column: [] for column in SUBMISSION_COLUMNS}}
    for file_id, table in tables.items():
        columns["file_id"].extend([file_id] * len(table.rows))
        columns["row_number"].extend(number for number, _ in table.rows)
        for column in SUBMISSION_COLUMNS:
            position = table.header.index(column)
            columns[column].extend(values[position] for _, values in table.rows)
    return pd.DataFrame(columns).astype({"file_id": int, "row_number": int, **dict.fromkeys(SUBMISSION_COLUMNS, str)})


def _raw_failures(
    raw: pd.DataFrame,
) -> tuple[list[tuple[int, str, str, str | None]], set[tuple[int, str]]]:
    """Failures of the text layer, and the (row index, column) cells whose text is unusable."""
    try:
        RawSubmissionRows.validate(raw, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"])
        failures = [(int(case.index), str(case.check), str(case.column), None) for case in cases.itertuples()]
        return failures, {(index, column) for index, _, column, _ in failures}
    return [], set()


def _typed_frame(
    raw: pd.DataFrame,
    bad_cells: set[tuple[int, str]],
    results: list[ValidatedFile],
    reference: ReferenceData,
    as_of: date,
) -> pd.DataFrame:
    def usable(column: str) -> pd.Series:
        return ~raw.index.isin([index for index, bad_column in bad_cells if bad_column == column])

    center_code = per_distinct_value(raw.center_code, normalize_text).where(usable("center_code")).astype("string")
    fiscal_year = per_distinct_value(raw.fiscal_year.where(usable("fiscal_year")), parse_fiscal_year)
    measure = raw.measure.str.strip().where(usable("measure")).astype("string")
    count = per_distinct_value(raw["count"].where(usable("count")), parse_count)
    typed = pd.DataFrame(
        {
            "file_id": raw.file_id,
            "row_number": raw.row_number,
            "center_code": center_code,
            "fiscal_year": fiscal_year.astype("Int64"),
            "measure": measure,
            "category_text": raw.category.astype("string"),
            "count": count.astype("Int64"),
        }
    )
    first = typed.groupby("file_id").first()  # first non-null value per file
    name_codes = pd.Series({file_id: results[file_id].received.name_center_code for file_id in first.index})
    name_years = pd.Series({file_id: results[file_id].received.name_fiscal_year for file_id in first.index})
    typed["expected_center_code"] = typed.file_id.map(name_codes.fillna(first.center_code)).astype("string")
    typed["expected_fiscal_year"] = typed.file_id.map(name_years.astype("Int64").fillna(first.fiscal_year)).astype(
        "Int64"
    )
    opened = {code: center.opened_fiscal_year for code, center in reference.centers.items()}
    typed["center_opened_fiscal_year"] = typed.center_code.map(opened).astype("Int64")
    typed["last_ended_fiscal_year"] = pd.array([last_ended_fiscal_year(as_of)] * len(typed), dtype="Int64")
    form_year = typed.fiscal_year.fillna(typed.expected_fiscal_year)
    typed["form"] = per_distinct_value(form_year, reference.form_for).astype("string")
    # Resolved once per distinct (measure, form, text): a batch repeats the same few hundred.
    keys = list(zip(typed.measure.tolist(), typed.form.tolist(), typed.category_text.tolist(), strict=True))
    resolutions = {key: _resolve(reference, *key) for key in dict.fromkeys(keys)}
    typed["category"] = pd.array([resolutions[key][0] for key in keys], dtype="string")
    typed["category_in_other_form"] = [resolutions[key][1] for key in keys]
    typed["referral_category_sum"] = _referral_category_sums(typed)
    first_rows = typed.groupby(["file_id", "measure", "category"]).row_number.transform("min")
    typed["first_row_of_category"] = first_rows.astype("Int64")
    return typed.loc[:, list(SubmissionRowsInContext.to_schema().columns)]


def _resolve(reference: ReferenceData, measure: object, form: object, text: str) -> tuple[object, bool]:
    """(category code on the year's form or NA, whether the text names the other form's category)."""
    if pd.isna(measure) or pd.isna(form):
        return pd.NA, False
    if measure != "referrals":
        value = normalize_text(text)
        return (TOTAL_CATEGORY if value == TOTAL_CATEGORY or value in TOTAL_LABELS else pd.NA), False
    code = reference.resolve_category(str(form), text)
    if code is not None:
        return code, False
    other_forms = (candidate.form for candidate in reference.forms if candidate.form != form)
    return pd.NA, any(reference.resolve_category(other, text) is not None for other in other_forms)


def _referral_category_sums(typed: pd.DataFrame) -> pd.Series:
    """Each file's sum over its referral categories.

    Null when the sum cannot be known: a referral item's count or category is unreadable, or a
    row's measure is (it may have been a referral).
    """
    is_item = (typed.measure == "referrals").fillna(False) & (typed.category != TOTAL_CATEGORY).fillna(True)
    unreadable = typed.measure.isna() | (is_item & (typed["count"].isna() | typed.category.isna()))
    sums = typed["count"].where(is_item, 0).groupby(typed.file_id).sum(min_count=0)
    knowable = ~unreadable.groupby(typed.file_id).any()
    return typed.file_id.map(sums.where(knowable)).astype("Int64")


def _typed_failures(typed: pd.DataFrame) -> list[tuple[int, str, str, str | None]]:
    try:
        SubmissionRowsInContext.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"]).drop_duplicates(subset=["check", "index"])
        return [
            (
                int(case.index),
                str(case.check),
                _RULE_COLUMNS[str(case.check)],
                _expected(typed.loc[int(case.index)], str(case.check)),
            )
            for case in cases.itertuples()
        ]
    return []


def _expected(row: pd.Series, rule: str) -> str | None:
    """The value a rule compares against, for the center's message."""
    if rule == "center_code_mismatch":
        return str(row.expected_center_code)
    if rule == "fiscal_year_mismatch":
        return str(row.expected_fiscal_year)
    if rule == "center_not_open":
        return describe_fiscal_year(int(row.center_opened_fiscal_year))
    if rule == "fiscal_year_not_ended":
        return describe_fiscal_year(int(row.last_ended_fiscal_year))
    if rule == "fiscal_year_out_of_range":
        return describe_fiscal_year(FIRST_LABELLED_FISCAL_YEAR)
    if rule in ("category_other_form", "category_unknown"):
        year = row.fiscal_year if pd.notna(row.fiscal_year) else row.expected_fiscal_year
        return describe_fiscal_year(int(year)) if pd.notna(year) else None
    if rule == "category_duplicate":
        return str(row.first_row_of_category)
    if rule == "referral_total_mismatch":
        return str(row.referral_category_sum)
    return None


def _missing_items(typed: pd.DataFrame, reference: ReferenceData) -> dict[int, list[str]]:
    """Per file, the required rows that are absent (as "measure / code (label)"), in form order.

    Missing rows have no cell to point at, so their issues carry no row number. A file's form is
    that of its first row with a known one; a file with none is not checked here.
    """
    forms = typed.groupby("file_id").form.first().dropna()
    required = pd.DataFrame(
        [
            (form.form, order, measure, code, f"{measure} / {code} ({label})")
            for form in reference.forms
            for order, (measure, code, label) in enumerate(
                [(measure, TOTAL_CATEGORY, measure) for measure in REQUIRED_TOTAL_MEASURES]
                + [("referrals", item.category, item.label_ja) for item in reference.form_categories(form.form)]
            )
        ],
        columns=["form", "order", "measure", "category", "value"],
    ).astype({"form": "string", "measure": "string", "category": "string"})
    expected = forms.rename("form").reset_index().merge(required, on="form", how="inner")
    present = typed.loc[:, ["file_id", "measure", "category"]].dropna().drop_duplicates()
    merged = expected.merge(present, on=["file_id", "measure", "category"], how="left", indicator=True)
    missing = merged[merged["_merge"] == "left_only"].sort_values(["file_id", "order"])
    return {int(file_id): list(rows.value) for file_id, rows in missing.groupby("file_id", sort=False)}


def _cell_addresses(tables: dict[int, TextTable]) -> dict[int, dict[str, str]]:
    """Column letter of each submission column, per file, as the spreadsheet shows it."""
    return {
        file_id: {column: table.column_letters[table.header.index(column)] for column in SUBMISSION_COLUMNS}
        for file_id, table in tables.items()
    }
