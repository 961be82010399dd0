"""The hostile corpus (tests/hostile_corpus.py) in one run beside valid files.

Every broken or hostile file is rejected (or, when still being written, left for the next run)
with exactly the rules its case names and a message with every detail filled in; the valid files
of the same run load, and nothing outside the inbox is read or touched.
"""

import json
import os
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from helpers_validation import submission_rows, write_submission
from hostile_corpus import (
    CASES,
    CORPUS_LIMITS,
    SETTLED_MTIME,
    SQL_INJECTION,
    STILL_BEING_WRITTEN,
    HostileCase,
    build_corpus,
    workbook_bytes,
)
from support import make_settings, query, run_steps

from hikikomori.domain.text import printable, printable_json
from hikikomori.pipeline.intake import TakenFile
from hikikomori.schemas.rules import RULES
from hikikomori.settings import Settings
from hikikomori.warehouse.connection import connect

# Valid files in the same run: a summary-form CSV, a detailed-form CP932 CSV with Japanese labels,
# a workbook, and a file in its center's folder.
VALID = {
    "271403_2015.csv": submission_rows(2015, "271403"),
    "281000_2016.csv": submission_rows(2016, "281000"),
    "331007_2015.xlsx": submission_rows(2015, "331007"),
    "341002/341002_2016.csv": submission_rows(2016, "341002"),
}


@dataclass(frozen=True)
class CorpusRun:
    settings: Settings
    outside: Path
    outcomes: dict[str, TakenFile]


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    root = tmp_path_factory.mktemp("corpus")
    settings = replace(make_settings(root), limits=CORPUS_LIMITS)
    build_corpus(settings.inbox_dir, root / "outside")
    for name, rows in VALID.items():
        path = settings.inbox_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".xlsx"):
            path.write_bytes(workbook_bytes(rows))
        else:
            write_submission(path.parent, rows, path.name, encoding="cp932" if "2016" in name else "utf-8")
        os.utime(path, (SETTLED_MTIME, SETTLED_MTIME))
    outcomes = {outcome.file_name: outcome for outcome in run_steps(settings)}
    return CorpusRun(settings, root / "outside", outcomes)


@dataclass(frozen=True)
class RecordedIssue:
    rule: str
    value: str | None
    message_ja: str
    message_en: str


def recorded_issues(settings: Settings, file_name: str) -> list[RecordedIssue]:
    """The issues the warehouse holds for a file, with the messages as the center read them."""
    with connect(settings.warehouse_path, read_only=True) as connection:
        rows = connection.execute(
            """
            select issues.rule, issues.value, issues.message_ja, issues.message_en
            from raw.validation_issues as issues
            inner join raw.received_files as received using (receipt_id)
            where received.file_name = ?
            order by issues.issue_number
            """,
            [file_name],
        ).fetchall()
    return [RecordedIssue(*row) for row in rows]


def test_the_corpus_has_at_least_40_distinct_files() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)
    assert {rule for case in CASES for rule in case.rules} <= set(RULES)


@pytest.mark.parametrize(
    "case", [case for case in CASES if case.name != STILL_BEING_WRITTEN], ids=lambda case: case.what
)
def test_hostile_file_is_quarantined_with_exactly_its_rules(corpus_run: CorpusRun, case: HostileCase) -> None:
    outcome = corpus_run.outcomes[case.name]
    assert outcome.outcome == "rejected"
    assert outcome.stored_path.is_relative_to(corpus_run.settings.quarantine_dir)
    assert outcome.stored_path.exists()
    issues = recorded_issues(corpus_run.settings, case.name)
    assert {issue.rule for issue in issues} == case.rules
    report = Path(f"{outcome.stored_path}.errors.txt").read_text(encoding="utf-8")
    for issue in issues:
        # Every placeholder of the message is filled: a precise message, not a template.
        rule = RULES[issue.rule]
        if "{value}" in rule.message_ja + rule.message_en:
            assert issue.value is not None and issue.value.strip(), issue.rule
        # {expected} is not stored: filled means no "None" besides what the value itself says
        beside_the_value = (issue.message_ja + issue.message_en).replace(printable(issue.value or ""), "")
        assert "None" not in beside_the_value, issue.rule
        assert issue.message_ja in report and f"[{issue.rule}]" in report
    assert not os.path.lexists(corpus_run.settings.inbox_dir / case.name)


def test_file_still_being_written_waits_in_the_inbox_unrecorded(corpus_run: CorpusRun) -> None:
    outcome = corpus_run.outcomes[STILL_BEING_WRITTEN]
    assert outcome.outcome == "deferred"
    assert (corpus_run.settings.inbox_dir / STILL_BEING_WRITTEN).exists()
    assert recorded_issues(corpus_run.settings, STILL_BEING_WRITTEN) == []
    received = query(
        corpus_run.settings.warehouse_path,
        "select count(*) as n from raw.received_files where file_name = ?",
        [STILL_BEING_WRITTEN],
    )
    assert received.n.item() == 0


def test_valid_files_of_the_same_run_load(corpus_run: CorpusRun) -> None:
    assert {name: corpus_run.outcomes[name].outcome for name in VALID} == dict.fromkeys(VALID, "accepted")
    accepted = query(
        corpus_run.settings.warehouse_path, "select center_code, fiscal_year from raw.submissions order by all"
    )
    assert list(accepted.itertuples(index=False, name=None)) == [
        ("271403", 2015),
        ("281000", 2016),
        ("331007", 2015),
        ("341002", 2016),
    ]
    totals = query(
        corpus_run.settings.warehouse_path,
        "select fiscal_year, centers_reporting from marts.consultation_totals order by all",
    )
    assert list(totals.itertuples(index=False, name=None)) == [(2015, 2), (2016, 2)]


@pytest.mark.parametrize(
    ("name", "rule", "message"),
    [
        # the size as read by stat, the file itself never read whole
        ("180009_2015.csv", "file_too_large", "the file is {size:,} bytes, over the limit of 262,144 bytes"),
        # rows beyond the limit are not read
        ("190004_2015.csv", "too_many_rows", "the file has more than 100 rows"),
        # the zip's declared sizes, before anything is unpacked
        (
            "100005_2015.xlsx",
            "xlsx_too_large",
            "the workbook unpacks to {unpacked:,} bytes, over the limit of 1,048,576 bytes",
        ),
    ],
)
def test_limits_are_reported_with_their_values(corpus_run: CorpusRun, name: str, rule: str, message: str) -> None:
    stored = corpus_run.outcomes[name].stored_path
    with zipfile.ZipFile(stored) if name.endswith(".xlsx") else nullcontext() as archive:
        unpacked = sum(member.file_size for member in archive.infolist()) if archive else 0
    (issue,) = recorded_issues(corpus_run.settings, name)
    assert (issue.rule, issue.message_en) == (rule, message.format(size=stored.stat().st_size, unpacked=unpacked))


def test_symlinks_are_never_followed(corpus_run: CorpusRun) -> None:
    secret = corpus_run.outside / "secret_320005.csv"
    folder_file = corpus_run.outside / "folder_340006" / "340006_2015.csv"
    assert secret.exists() and folder_file.exists()  # the targets are left as they were
    for name, target in (("320005_2015.csv", secret), ("340006", folder_file.parent)):
        stored = corpus_run.outcomes[name].stored_path
        assert stored.name.endswith(".symlink")
        assert stored.read_text(encoding="utf-8") == str(target)  # the link's target, not its content
    archived = query(
        corpus_run.settings.warehouse_path,
        "select count(*) as n from raw.submissions where center_code in ('320005', '340006')",
    )
    assert archived.n.item() == 0


def test_sql_in_a_cell_is_stored_as_text_and_runs_nowhere(corpus_run: CorpusRun) -> None:
    (issue,) = recorded_issues(corpus_run.settings, "151009_2015.csv")
    assert issue.value == SQL_INJECTION
    assert query(corpus_run.settings.warehouse_path, "select count(*) as n from raw.submissions").n.item() == 4


def test_quarantine_names_stay_inside_the_quarantine(corpus_run: CorpusRun) -> None:
    quarantine = corpus_run.settings.quarantine_dir.resolve()
    stored = [outcome.stored_path for outcome in corpus_run.outcomes.values() if outcome.outcome == "rejected"]
    assert len(stored) == len(set(stored)) == len(CASES) - 1  # one path each: no report overwrites another
    for path in stored:
        assert path.resolve().parent == quarantine
        assert path.name.isascii() and " " not in path.name and "\\" not in path.name
        assert len(f"{path.name}.errors.csv".encode()) < 255


def test_the_same_bytes_in_two_wrong_folders_keep_two_reports(corpus_run: CorpusRun) -> None:
    first, second = (corpus_run.outcomes[name] for name in ("420000/430005_2015.csv", "440001/430005_2015.csv"))
    assert first.stored_path.read_bytes() == second.stored_path.read_bytes()
    assert first.stored_path != second.stored_path
    assert "420000" in Path(f"{first.stored_path}.errors.txt").read_text(encoding="utf-8")
    assert "440001" in Path(f"{second.stored_path}.errors.txt").read_text(encoding="utf-8")


def test_control_characters_from_a_file_are_shown_escaped_in_its_reports(corpus_run: CorpusRun) -> None:
    for name in ("020001_2017.csv", "401005_2016\n\x1b[2J.csv"):
        stored = corpus_run.outcomes[name].stored_path
        for report in (Path(f"{stored}.errors.txt"), Path(f"{stored}.errors.csv")):
            text = report.read_text(encoding="utf-8-sig")
            assert "\x1b" not in text and "\x07" not in text, report.name
            assert "\\x1b" in text, report.name  # shown as the four characters \x1b
        assert "\n" not in Path(f"{stored}.errors.txt").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize("text", ["東京\u202eevil.csv", "x\x1b]0;title\x07y", "line\u2028break", "普通の名前 ok.csv"])
def test_json_for_people_escapes_what_a_terminal_acts_on_and_keeps_the_data(text: str) -> None:
    shown = printable_json({"file": text, "totals": {"consultations": 1}}, indent=2)
    assert json.loads(shown) == {"file": text, "totals": {"consultations": 1}}
    assert all(line.isprintable() for line in shown.split("\n"))
