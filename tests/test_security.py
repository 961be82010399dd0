"""Security: folders, paths, SQL, read-only access and error reports a spreadsheet opens."""

import csv
import io
import re

import duckdb
import pytest
from support import REPO_ROOT, query, run_steps, summary_referrals, write_submission

from hikikomori.pipeline.error_reports import REPORT_COLUMNS, issues_csv
from hikikomori.pipeline.intake import take_in
from hikikomori.schemas.files import ReceivedFile
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.validation import ValidatedFile
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import connect
from hikikomori.warehouse.migrate import migrate

TOKYO, OSAKA = "130001", "270008"


def test_a_centers_folder_cannot_carry_another_centers_data(workspace: Settings) -> None:
    # Osaka's file in Tokyo's folder, and a file named for Tokyo in Tokyo's folder holding Osaka's rows.
    write_submission(workspace.inbox_dir / TOKYO, OSAKA, 2015, 50, summary_referrals(npo=1))
    disguised = write_submission(workspace.inbox_dir, OSAKA, 2014, 60, summary_referrals(npo=2))
    target = workspace.inbox_dir / TOKYO / f"{TOKYO}_2014.csv"
    disguised.rename(target)

    outcomes = {outcome.file_name: outcome for outcome in run_steps(workspace)}

    assert {name: outcome.outcome for name, outcome in outcomes.items()} == {
        f"{TOKYO}/{OSAKA}_2015.csv": "rejected",
        f"{TOKYO}/{TOKYO}_2014.csv": "rejected",
    }
    rules = query(workspace.warehouse_path, "select distinct rule from raw.validation_issues order by rule")
    assert rules.rule.tolist() == ["center_code_mismatch", "folder_mismatch"]
    assert query(workspace.warehouse_path, "select count(*) as n from raw.submissions").n.item() == 0


@pytest.mark.parametrize(
    "name",
    [
        "../../escape.csv",  # parent steps
        "/etc/passwd",  # absolute
        "..\\..\\windows.csv",  # Windows parent steps
        "C:\\Windows\\evil.csv",  # Windows absolute
        "東京都/../../../x.csv",  # non-ASCII and parent steps
        "..",  # nothing but a parent step
    ],
)
def test_quarantine_paths_never_leave_the_quarantine(workspace: Settings, name: str) -> None:
    received = ReceivedFile(workspace.inbox_dir / "absent.csv", name, b"x", "0" * 64, None, None, None)
    result = ValidatedFile(received, issues=[Issue(name, "file_name", value=name)])
    with connect(workspace.warehouse_path) as connection:
        migrate(connection)
        (outcome,) = take_in([result], workspace, connection, "run")
    quarantine = workspace.quarantine_dir.resolve()
    assert outcome.stored_path.resolve().parent == quarantine
    assert outcome.stored_path.name.isascii()
    assert sorted(path.parent.resolve() for path in workspace.quarantine_dir.rglob("*")) == [quarantine] * 3


def test_hostile_cell_values_are_data_not_sql(workspace: Settings) -> None:
    hostile = "'); drop table raw.submissions; --"
    path = write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    path.write_text(path.read_text(encoding="utf-8").replace(",other,", f',"{hostile}",'), encoding="utf-8")
    write_submission(workspace.inbox_dir, OSAKA, 2015, 50, summary_referrals())

    run_steps(workspace)

    values = query(workspace.warehouse_path, "select value from raw.validation_issues where rule = 'category_unknown'")
    assert values.value.tolist() == [hostile]
    assert query(workspace.warehouse_path, "select count(*) as n from raw.submissions").n.item() == 1


def test_sql_text_is_formatted_only_from_the_codes_own_names() -> None:
    """Every f-string handed to execute() interpolates only model, layer or table names of the code."""
    allowed = {
        # warehouse/models.py: layer and model names (file names restricted to identifiers), catalog names
        # of stale models (restricted to identifiers), and the model's own SQL
        *("layer.name", "model.materialization", "model.qualified_name", "model.sql", "kind", "relation"),
        # warehouse/loading.py and queries.py: the modules' own table, column and ordering constants
        *("schema", "table", "names", "order"),
        # warehouse/unit_testing.py: its own table names, and definitions read from the in-memory catalog
        *("_RESULT", "_EXPECTED", "definition"),
        # COMMENT ON takes no parameters: catalog names and the project's own YAML text (sql/**/*.yml)
        *("row.kind", "row.schema_name", "row.name", "_literal(relation.description.text)"),
        # SET TimeZone takes no parameters: the zone's name, a constant (Asia/Tokyo)
        "JAPAN.key",
        # SET checkpoint_threshold takes none either: a number of MiB from the settings, made an int
        "int(wal_mib)",
        # queries.py: a mart's select, from table and key names checked to be identifiers (COPY TO takes none)
        "_mart_select(name, order_by)",
        # data_tests.py: the select of the relation a data test checks (queries.relation_columns_query, from
        # the project's YAML, names checked to be identifiers); its statements quote checked column names only
        "query",
    }
    sources = [path for folder in ("hikikomori", "warehouse", "flows") for path in (REPO_ROOT / folder).rglob("*.py")]
    interpolated = {
        expression
        for path in sources
        for statement in re.findall(r'execute\(\s*f"([^"]*)"', path.read_text(encoding="utf-8"))
        for expression in re.findall(r"\{([^}]*)\}", statement)
    }
    assert interpolated <= allowed


def test_analysts_read_only_connection_cannot_write(workspace: Settings) -> None:
    write_submission(workspace.inbox_dir, TOKYO, 2015, 100, summary_referrals())
    run_steps(workspace)
    with connect(workspace.warehouse_path, read_only=True) as connection:
        for statement in (
            "delete from raw.submissions",
            "drop table marts.consultation_totals",
            "create table x (a int)",
        ):
            with pytest.raises(duckdb.Error, match="read-only"):
                connection.execute(statement)
    assert query(workspace.warehouse_path, "select count(*) as n from raw.submissions").n.item() == 1


@pytest.mark.parametrize(
    ("start", "shown"),
    [
        ("=", "'="),  # quoted: shown as the text it was, with the quote Excel hides
        ("+", "'+"),
        ("-", "'-"),
        ("@", "'@"),
        ("\t", "\\t"),  # control characters are shown escaped (printable), so no quote is needed
        ("\r", "\\r"),
    ],
)
def test_error_report_cells_never_start_a_formula(start: str, shown: str) -> None:
    text = f'{start}HYPERLINK("http://example.invalid")'
    issue = Issue(text, "category_unknown", row=2, column=text, cell=text, value=text, expected=text)
    content = issues_csv([issue]).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(content, newline="")) for cell in row]
    assert len(cells) == 2 * len(REPORT_COLUMNS)  # header and one issue
    assert [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))] == []
    assert f'{shown}HYPERLINK("http://example.invalid")' in cells
