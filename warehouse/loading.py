"""Writing to the warehouse: reference tables, and each batch of received files in one transaction.

Values always reach DuckDB as bound parameters or registered DataFrames, never inside SQL text.
"""

from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from hikikomori.domain.fiscal_years import FIRST_LABELLED_FISCAL_YEAR, default_deadline, fiscal_year_label
from hikikomori.domain.reference import ReferenceData
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.validation import FileRows, rows_of
from hikikomori.warehouse.connection import transaction
from hikikomori.warehouse.run_audit import RunFile, insert_run_files

LAST_LABELLED_FISCAL_YEAR = 2099


@dataclass(frozen=True)
class Receipt:
    """What the warehouse records about one file taken from the inbox."""

    receipt_id: str
    run_id: str
    file_name: str
    content_sha256: str
    size_bytes: int
    center_code: str | None
    fiscal_year: int | None
    outcome: str  # accepted | rejected | duplicate
    stored_path: str
    received_at: datetime
    issue_count: int
    # When the file was submitted (its timeliness): a portal upload's time, else ``received_at``.
    # Last, as in raw.received_files (migration 0006 added the column at the end).
    submitted_at: datetime


def load_reference(connection: duckdb.DuckDBPyConnection, reference: ReferenceData) -> None:
    """Replace the rows of the reference tables (migration 0003) with the current registry and lists, atomically."""
    published = pd.read_csv(reference.reference_dir / "published_establishment.csv", dtype="Int64")
    frames = {
        "centers": pd.DataFrame([asdict(center) for center in reference.centers.values()]),
        "referral_groups": pd.DataFrame([asdict(group) for group in reference.groups]),
        "referral_categories": pd.DataFrame([asdict(category) for category in reference.categories]),
        "referral_forms": pd.DataFrame([asdict(form) for form in reference.forms]).astype(
            {"first_fiscal_year": "Int64", "last_fiscal_year": "Int64"}
        ),
        "published_establishment": published,
        "fiscal_years": pd.DataFrame(
            [
                {
                    "fiscal_year": year,
                    "fiscal_year_label": fiscal_year_label(year),
                    "default_deadline": default_deadline(year),
                }
                for year in range(FIRST_LABELLED_FISCAL_YEAR, LAST_LABELLED_FISCAL_YEAR + 1)
            ]
        ),
    }
    with transaction(connection):
        for table, frame in frames.items():
            replace_rows(connection, "reference", table, frame)


def replace_rows(connection: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pd.DataFrame) -> None:
    """Delete every row of the table and insert the frame's, by column name (inside the caller's transaction).

    ``schema``, ``table`` and the frame's column names are the code's own constants, never input.
    """
    names = ", ".join(f'"{column}"' for column in frame.columns)
    connection.register("replacement_rows", frame)
    try:
        connection.execute(f"delete from {schema}.{table}")
        connection.execute(f"insert into {schema}.{table} ({names}) select {names} from replacement_rows")
    finally:
        connection.unregister("replacement_rows")


@dataclass(frozen=True)
class Recorded:
    """What one receipt became: ``duplicate`` when an accepted file repeats the latest version."""

    outcome: str  # accepted | rejected | duplicate
    version: int | None  # set for an accepted file


def receipts_of_taken_files(
    connection: duckdb.DuckDBPyConnection, files: list[tuple[str, str, datetime]]
) -> dict[tuple[str, str], tuple[Receipt, int | None]]:
    """The receipts already recorded for these very inbox files, with the version if accepted.

    ``files`` are (file name, content hash, inode change time). A run that stopped between recording
    a file and removing it from the inbox (or could not remove it) leaves the file there unchanged:
    same name, same content, its inode last changed before it was received. A center sending the same
    content again writes a new file, whose inode changes after the earlier receipt even when the copy
    keeps the old modification time (``cp -p``): it is recorded again. One query for the whole batch.
    """
    if not files:
        return {}
    candidates = pd.DataFrame(files, columns=["file_name", "content_sha256", "changed_at"])
    connection.register("inbox_files_frame", candidates)
    rows = connection.execute(
        """
        select received.*, submissions.version
        from raw.received_files as received
        inner join inbox_files_frame as inbox_files
            on received.file_name = inbox_files.file_name
            and received.content_sha256 = inbox_files.content_sha256
            and received.received_at >= inbox_files.changed_at
        left join raw.submissions as submissions
            on received.receipt_id = submissions.receipt_id
        qualify row_number() over (
            partition by received.file_name, received.content_sha256 order by received.received_at desc
        ) = 1
        """
    ).fetchall()
    connection.unregister("inbox_files_frame")
    taken = {}
    for *fields, version in rows:
        receipt = Receipt(*fields)
        taken[(receipt.file_name, receipt.content_sha256)] = (receipt, version)
    return taken


def record_receipts(
    connection: duckdb.DuckDBPyConnection,
    receipts: list[Receipt],
    rows: dict[str, FileRows],
    issues: dict[str, list[Issue]],
    run_files: list[RunFile] | None = None,
) -> list[Recorded]:
    """Record a whole batch of files in one transaction, in arrival order.

    ``receipts`` carry ``accepted`` (valid) or ``rejected``. Each valid file becomes the next version
    of its (center, fiscal year), unless its content equals the latest version, in the warehouse or
    earlier in this batch: then it is a ``duplicate``. ``rows`` (LOADED_COLUMNS) and ``issues`` are
    keyed by receipt_id. Each receipt's outcome goes to ``ops.run_files`` too, with ``run_files``: the
    batch's other files (left in the inbox, or recorded before). One transaction for the batch, not
    one per file: a commit per file made loading thousands of files take minutes.
    """
    with transaction(connection):
        latest = _latest_versions(connection, receipts)
        recorded = []
        for receipt in receipts:
            key = (receipt.center_code, receipt.fiscal_year)
            if receipt.outcome != "accepted":
                recorded.append(Recorded(receipt.outcome, None))
            elif key in latest and latest[key][0] == receipt.content_sha256:
                recorded.append(Recorded("duplicate", None))
            else:
                version = latest.get(key, ("", 0))[1] + 1
                latest[key] = (receipt.content_sha256, version)
                recorded.append(Recorded("accepted", version))
        _insert_batch(connection, receipts, recorded, rows, issues)
        insert_run_files(
            connection,
            [
                RunFile(receipt.run_id, receipt.file_name, result.outcome, receipt.receipt_id)
                for receipt, result in zip(receipts, recorded, strict=True)
            ]
            + list(run_files or []),
        )
    return recorded


def _latest_versions(
    connection: duckdb.DuckDBPyConnection, receipts: list[Receipt]
) -> dict[tuple[str | None, int | None], tuple[str, int]]:
    """(content hash, version) of the latest accepted version of each (center, year) in the batch."""
    keys = pd.DataFrame(
        {
            "center_code": pd.Series([receipt.center_code for receipt in receipts], dtype="string"),
            "fiscal_year": pd.Series([receipt.fiscal_year for receipt in receipts], dtype="Int64"),
        }
    ).drop_duplicates()
    connection.register("batch_keys_frame", keys)
    latest = connection.execute(
        """
        select submissions.center_code, submissions.fiscal_year,
               arg_max(submissions.content_sha256, submissions.version), max(submissions.version)
        from raw.submissions as submissions
        inner join batch_keys_frame as batch_keys
            on submissions.center_code = batch_keys.center_code
            and submissions.fiscal_year = batch_keys.fiscal_year
        group by submissions.center_code, submissions.fiscal_year
        """
    ).fetchall()
    connection.unregister("batch_keys_frame")
    return {
        (center_code, int(fiscal_year)): (sha256, int(version)) for center_code, fiscal_year, sha256, version in latest
    }


def _insert_batch(
    connection: duckdb.DuckDBPyConnection,
    receipts: list[Receipt],
    recorded: list[Recorded],
    rows: dict[str, FileRows],
    issues: dict[str, list[Issue]],
) -> None:
    """Each raw table gets one insert from one registered DataFrame."""
    received_files = pd.DataFrame(
        [vars(receipt) for receipt in receipts], columns=list(Receipt.__dataclass_fields__)
    ).astype({"fiscal_year": "Int64"})
    received_files["outcome"] = [result.outcome for result in recorded]
    accepted = [(receipt, result.version) for receipt, result in zip(receipts, recorded, strict=True) if result.version]
    submissions = pd.DataFrame(
        [
            (receipt.receipt_id, receipt.center_code, receipt.fiscal_year, version, receipt.content_sha256)
            for receipt, version in accepted
        ],
        columns=["receipt_id", "center_code", "fiscal_year", "version", "content_sha256"],
    )
    # One take from the validated batch's frame, not a frame per file put together again.
    submission_rows = rows_of([rows[receipt.receipt_id] for receipt, _ in accepted]).loc[:, list(_ROW_COLUMNS)]
    # The receipt id as a column of the whole batch (adding it per file is far slower). The text columns
    # as categories: DuckDB reads a code per row rather than a Python string per cell, which it can only
    # do holding the interpreter's lock, while the run's other thread writes the next batch's files.
    submission_rows["receipt_id"] = pd.Categorical.from_codes(
        np.repeat(np.arange(len(accepted)), [len(rows[receipt.receipt_id]) for receipt, _ in accepted]),
        dtype=pd.CategoricalDtype([receipt.receipt_id for receipt, _ in accepted]),
    )
    for column in ("measure", "category"):
        submission_rows[column] = submission_rows[column].astype("category")
    validation_issues = pd.DataFrame(
        [
            (
                receipt_id,
                number,
                issue.row,
                issue.column,
                issue.cell,
                issue.value,
                issue.rule,
                issue.message_ja,
                issue.message_en,
            )
            for receipt_id, file_issues in issues.items()
            for number, issue in enumerate(file_issues, start=1)
        ],
        columns=list(_ISSUE_COLUMNS),
    ).astype({"row_number": "Int64"})
    inserts = {
        "received_files": (received_files, tuple(Receipt.__dataclass_fields__)),
        "submissions": (submissions, ("receipt_id", "center_code", "fiscal_year", "version", "content_sha256")),
        "submission_rows": (submission_rows, ("receipt_id", *_ROW_COLUMNS)),
        "validation_issues": (validation_issues, _ISSUE_COLUMNS),
    }
    for table, (frame, columns) in inserts.items():
        if frame.empty:
            continue
        connection.register("batch_frame", frame)
        names = ", ".join(columns)
        # Table and column names are this module's constants, not input.
        connection.execute(f"insert into raw.{table} ({names}) select {names} from batch_frame")
        connection.unregister("batch_frame")


_ROW_COLUMNS = ("row_number", "measure", "category", "count")
_ISSUE_COLUMNS = (
    "receipt_id",
    "issue_number",
    "row_number",
    "column_name",
    "cell",
    "value",
    "rule",
    "message_ja",
    "message_en",
)
