"""Versioned migrations: applied once each, in order, in a transaction; a warehouse made by the previous
main (commit 3741fef) upgrades in place and keeps every receipt, version and row."""

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest
from support import detailed_referrals, query, run_audited, write_submission

from hikikomori.cli import main
from hikikomori.pipeline import steps as pipeline
from hikikomori.settings import Settings
from hikikomori.warehouse.comments import missing_comments
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.migrate import Migration, MigrationError, applied_versions, available_migrations, migrate

# Built by `hikikomori run` at commit 3741fef (run date 2026-11-26) from 130001, 010006, 141003 and
# 271004 for FY2015 and FY2016, plus 271004_2017.csv, which was rejected.
PREVIOUS_MAIN_WAREHOUSE = Path(__file__).parent / "fixtures" / "warehouse_main_3741fef.duckdb.gz"
EVIDENCE_TABLES = (
    "raw.received_files",
    "raw.submissions",
    "raw.submission_rows",
    "raw.validation_issues",
    "ops.pipeline_runs",
    "quality.expectation_results",
)


def rows_of(warehouse: Path, table: str, columns: tuple[str, ...] = ()) -> set[tuple[object, ...]]:
    """The table's rows (only ``columns``, when given: a later migration may have added others)."""
    selected = ", ".join(f'"{column}"' for column in columns) or "*"  # the tests' own names
    with connect(warehouse, read_only=True) as connection:
        rows = connection.execute(f"select {selected} from {table}").fetchall()
    return {tuple(tuple(value) if isinstance(value, list) else value for value in row) for row in rows}


def columns_of(warehouse: Path, table: str) -> tuple[str, ...]:
    schema, name = table.split(".")
    with connect(warehouse, read_only=True) as connection:
        rows = connection.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
    return tuple(row[0] for row in rows)


def test_a_new_warehouse_gets_every_migration_once_in_order(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as connection:
        applied = migrate(connection)
        again = migrate(connection)
        ledger = connection.execute("select version, name from ops.schema_migrations order by version").fetchall()
    assert [migration.version for migration in applied] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert again == []
    assert ledger == [
        (1, "raw_tables"),
        (2, "ops_tables"),
        (3, "reference_tables"),
        (4, "quality_tables"),
        (5, "run_files"),
        (6, "received_files_submitted_at"),
        (7, "fiscal_year_default_deadlines"),
        (8, "deadline_calendar"),
        (9, "fiscal_year_decisions"),
        (10, "model_builds"),
        (11, "gate_runs"),
    ]


def test_opening_a_connection_changes_nothing(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as connection:
        tables = connection.execute("select count(*) from duckdb_tables()").fetchall()
    assert tables == [(0,)]


def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    good = Migration(1, "good", "create schema raw; create table raw.kept (a integer);")
    bad = Migration(2, "bad", "create table raw.half (a integer); insert into raw.nope values (1);")
    with connect(tmp_path / "w.duckdb") as connection:
        with pytest.raises(MigrationError, match=r"migration 0002_bad failed: .*nope"):
            migrate(connection, (good, bad))
        tables = {row[0] for row in connection.execute("select table_name from duckdb_tables()").fetchall()}
        assert applied_versions(connection).keys() == {1}
    assert tables == {"kept", "schema_migrations"}


def test_an_applied_migration_that_was_edited_is_refused(tmp_path: Path) -> None:
    original = Migration(1, "first", "create table t (a integer);")
    with connect(tmp_path / "w.duckdb") as connection:
        migrate(connection, (original,))
        with pytest.raises(MigrationError, match="0001_first"):
            migrate(connection, (Migration(1, "first", "create table t (a bigint);"),))


def test_a_warehouse_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    later = (*available_migrations(), Migration(999, "from_the_future", "select 1;"))
    with connect(tmp_path / "w.duckdb") as connection:
        migrate(connection, later)
        with pytest.raises(MigrationError, match="0999"):
            migrate(connection)


@pytest.fixture
def previous_main(workspace: Settings) -> Settings:
    """The warehouse of the previous main, unpacked where this workspace's runs write."""
    workspace.warehouse_path.parent.mkdir(parents=True)
    with gzip.open(PREVIOUS_MAIN_WAREHOUSE) as packed, workspace.warehouse_path.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    return workspace


def test_the_previous_mains_warehouse_upgrades_in_place(previous_main: Settings) -> None:
    warehouse = previous_main.warehouse_path
    columns = {table: columns_of(warehouse, table) for table in EVIDENCE_TABLES}
    before = {table: rows_of(warehouse, table) for table in EVIDENCE_TABLES}
    columns = {table: columns_of(warehouse, table) for table in EVIDENCE_TABLES}
    old_totals = query(warehouse, "select fiscal_year, consultations from marts.consultation_totals")
    write_submission(previous_main.inbox_dir, "271004", 2017, 300, detailed_referrals(school=4, hello_work=2))
    write_submission(previous_main.inbox_dir, "130001", 2017, 1700, detailed_referrals(private_support_org=9))

    outcomes = run_audited(previous_main, run_id="after-upgrade")
    pipeline.check_quality(previous_main, "after-upgrade")

    assert [outcome.outcome for outcome in outcomes] == ["accepted", "accepted"]
    for table, rows in before.items():  # every receipt, version, row, run and result is still there, unchanged
        assert rows <= rows_of(warehouse, table, columns[table]), table
    assert len(before["raw.received_files"]) == 9 and len(before["raw.submission_rows"]) == 128
    ledger = query(warehouse, "select version from ops.schema_migrations order by version")
    assert ledger.version.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    # Files recorded before migration 0006 were submitted, for their timeliness, when they were taken in.
    times = query(warehouse, "select count(*) as n from raw.received_files where submitted_at = received_at")
    assert times.n.item() == len(before["raw.received_files"]) + 2
    totals = query(warehouse, "select fiscal_year, consultations from marts.consultation_totals order by 1")
    assert totals.to_dict("records") == [*old_totals.to_dict("records"), {"fiscal_year": 2017, "consultations": 2000}]
    status = query(
        warehouse,
        "select status, version from marts.submission_status where fiscal_year = 2017 and center_code = ?",
        ["271004"],
    )
    assert status.to_dict("records") == [{"status": "accepted", "version": 1}]  # rejected before, accepted now
    # The upgraded warehouse's models were built by the run (none was recorded before 0010), then found current.
    assert query(warehouse, "select run_id from ops.model_builds").run_id.tolist() == ["after-upgrade"]
    assert not pipeline.rebuild_models(previous_main).built_now
    quality = query(warehouse, "select run_id, outcome from quality.expectation_results where run_id = 'after-upgrade'")
    assert len(quality) > 13 and set(quality.outcome) == {"pass"}
    with connect(warehouse, read_only=True) as connection:
        assert missing_comments(connection) == []


def test_the_upgraded_reference_tables_are_typed_and_keyed(previous_main: Settings) -> None:
    run_audited(previous_main, run_id="after-upgrade")
    types = query(
        previous_main.warehouse_path,
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = 'reference' and table_name = 'centers'",
    )
    assert dict(zip(types.column_name, types.data_type, strict=True))["opened_fiscal_year"] == "INTEGER"
    with connect(previous_main.warehouse_path) as connection, pytest.raises(duckdb.ConstraintException):
        connection.execute("insert into reference.centers select * from reference.centers limit 1")
    assert query(previous_main.warehouse_path, "select count(*) as n from reference.centers").n.item() == 67


def test_reading_a_warehouse_not_yet_upgraded_says_how_to_upgrade_it(
    previous_main: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["report", "--warehouse", str(previous_main.warehouse_path), "--out", str(tmp_path / "report")]
    assert main(arguments) == 1
    assert "one `hikikomori run` upgrades it" in capsys.readouterr().err
    assert applied_versions_of(previous_main.warehouse_path) == {}  # a reader never migrates


def applied_versions_of(warehouse: Path) -> dict[int, str]:
    with connect(warehouse, read_only=True) as connection:
        return applied_versions(connection)
