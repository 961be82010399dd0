"""Writing to the warehouse: reference tables, and each received file in one transaction.

Values always reach DuckDB as bound parameters or registered DataFrames, never inside SQL text.
"""

from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import pandas as pd

from hikikomori.fiscal_years import FIRST_LABELLED_FISCAL_YEAR, fiscal_year_label
from hikikomori.reference import ReferenceData
from schemas.issues import Issue

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


def load_reference(connection: duckdb.DuckDBPyConnection, reference: ReferenceData) -> None:
    """Replace the reference tables with the current registry and category lists, atomically."""
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
                {"fiscal_year": year, "fiscal_year_label": fiscal_year_label(year)}
                for year in range(FIRST_LABELLED_FISCAL_YEAR, LAST_LABELLED_FISCAL_YEAR + 1)
            ]
        ),
    }
    connection.execute("begin transaction")
    try:
        for table, frame in frames.items():
            connection.register("reference_frame", frame)
            # Table names are this module's constants, not input.
            connection.execute(f"create or replace table reference.{table} as select * from reference_frame")
            connection.unregister("reference_frame")
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise


def latest_accepted_sha256(connection: duckdb.DuckDBPyConnection, center_code: str, fiscal_year: int) -> str | None:
    row = connection.execute(
        """
        select content_sha256 from raw.submissions
        where center_code = ? and fiscal_year = ?
        order by version desc limit 1
        """,
        [center_code, fiscal_year],
    ).fetchall()
    return row[0][0] if row else None


def receipt_of_taken_file(
    connection: duckdb.DuckDBPyConnection, file_name: str, content_sha256: str, modified_at: datetime
) -> tuple[Receipt, int | None] | None:
    """The receipt already recorded for this very inbox file, and its version if accepted.

    A run that stopped between recording a file and removing it from the inbox leaves the file
    there unchanged: same name, same content, last modified before it was received. A center
    sending the same content again writes a new file, modified after the earlier receipt.
    """
    rows = connection.execute(
        """
        select received.*, submissions.version
        from raw.received_files as received
        left join raw.submissions as submissions using (receipt_id)
        where received.file_name = ? and received.content_sha256 = ? and received.received_at >= ?
        order by received.received_at desc
        limit 1
        """,
        [file_name, content_sha256, modified_at],
    ).fetchall()
    if not rows:
        return None
    *fields, version = rows[0]
    return Receipt(*fields), version


def record_receipt(
    connection: duckdb.DuckDBPyConnection,
    receipt: Receipt,
    rows: pd.DataFrame | None = None,
    issues: list[Issue] | None = None,
) -> int | None:
    """Record one file in one transaction; for an accepted file, add it as the next version.

    Returns the version number given to an accepted file.
    """
    connection.execute("begin transaction")
    try:
        connection.execute(
            "insert into raw.received_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(asdict(receipt).values()),
        )
        version = None
        if receipt.outcome == "accepted" and rows is not None:
            version = _add_version(connection, receipt, rows)
        if issues:
            connection.executemany(
                "insert into raw.validation_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        receipt.receipt_id,
                        number,
                        issue.row,
                        issue.column,
                        issue.cell,
                        issue.value,
                        issue.rule,
                        issue.message_ja,
                        issue.message_en,
                    ]
                    for number, issue in enumerate(issues, start=1)
                ],
            )
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return version


def _add_version(connection: duckdb.DuckDBPyConnection, receipt: Receipt, rows: pd.DataFrame) -> int:
    (version,) = connection.execute(
        "select coalesce(max(version), 0) + 1 from raw.submissions where center_code = ? and fiscal_year = ?",
        [receipt.center_code, receipt.fiscal_year],
    ).fetchall()[0]
    connection.execute(
        "insert into raw.submissions values (?, ?, ?, ?, ?)",
        [
            receipt.receipt_id,
            receipt.center_code,
            receipt.fiscal_year,
            version,
            receipt.content_sha256,
        ],
    )
    connection.register("submission_rows_frame", rows.assign(receipt_id=receipt.receipt_id))
    connection.execute(
        """
        insert into raw.submission_rows (receipt_id, row_number, measure, category, count)
        select receipt_id, row_number, measure, category, count from submission_rows_frame
        """
    )
    connection.unregister("submission_rows_frame")
    return int(version)
