"""One definition per rule: the pandera schemas are built from the catalogue, and every failure is a rule's.

A check no rule names, or a failure pandera cannot place on a row (a wrong dtype, a check that
raised), is a bug in the validation: it is never dropped (a dropped failure would accept a file
nothing was checked on). Like any failure of a step on one file, it holds that file back in the inbox
(``file_not_checked``) with a message naming the check and column, and the run goes on.
"""

import copy
import re
from pathlib import Path

import pandera.pandas as pa
import pytest
from helpers_validation import altered, submission_rows, validate, validate_rows, write_submission

from hikikomori.schemas import validation
from hikikomori.schemas.files import SUBMISSION_COLUMNS
from hikikomori.schemas.rules import CONTEXT_RULES, RULES, VALUE_RULES, ContextRule, Issue, ValueRule
from hikikomori.schemas.submission import RAW_SUBMISSION_ROWS, SUBMISSION_ROWS_IN_CONTEXT


def test_each_value_rule_is_the_one_check_of_its_column_in_the_text_layer() -> None:
    for column in SUBMISSION_COLUMNS:
        checks = [check.name for check in RAW_SUBMISSION_ROWS.columns[column].checks]
        assert checks == [rule.code for rule in VALUE_RULES if rule.column == column]
    assert {check.name for check in RAW_SUBMISSION_ROWS.columns["row_number"].checks} == {"greater_than_or_equal_to"}


def test_the_context_layer_checks_exactly_the_context_rules() -> None:
    assert [check.name for check in SUBMISSION_ROWS_IN_CONTEXT.checks] == [rule.code for rule in CONTEXT_RULES]
    # No column-level check outside the catalogue (a `ge=0` on count once could only have crashed).
    assert [name for name, column in SUBMISSION_ROWS_IN_CONTEXT.columns.items() if column.checks] == []


def test_every_rule_has_its_messages_and_the_cell_rules_their_column() -> None:
    assert len(RULES) == 55
    for rule in RULES.values():
        assert rule.message_ja and rule.message_en and rule.fix_ja and rule.fix_en, rule.code
        if isinstance(rule, ValueRule | ContextRule):
            assert rule.column in SUBMISSION_COLUMNS, rule.code


def test_an_issue_of_an_unknown_rule_cannot_be_made() -> None:
    with pytest.raises(KeyError, match="no_such_rule"):
        Issue("130001_2016.csv", "no_such_rule")


def _with_extra_check(monkeypatch: pytest.MonkeyPatch, check: pa.Check) -> None:
    schema = copy.deepcopy(SUBMISSION_ROWS_IN_CONTEXT)
    schema.checks = [*schema.checks, check]
    monkeypatch.setattr(validation, "SUBMISSION_ROWS_IN_CONTEXT", schema)


def held_back_because(result: validation.ValidatedFile) -> str:
    """The file is neither accepted nor quarantined: it waits in the inbox; the reason's text."""
    assert not result.accepted and result.rows is None
    (issue,) = result.issues
    assert (issue.rule, issue.outcome) == ("file_not_checked", "deferred")
    assert issue.value is not None
    return issue.value


def test_a_failing_check_no_rule_names_holds_the_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_extra_check(monkeypatch, pa.Check(lambda rows: rows["count"] > 10**6, name="not_a_rule"))
    reason = held_back_because(validate_rows(tmp_path, submission_rows(2016)))
    assert re.match(
        r"validate: .*UnexplainedSchemaFailure: pandera check 'not_a_rule' on column '\w+' failed \(row", reason
    )


def test_a_failure_without_a_row_holds_the_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def raises(rows: object) -> bool:
        raise ZeroDivisionError("a bug in a check")

    _with_extra_check(monkeypatch, pa.Check(raises, name="category_unknown"))  # a rule's name, but no row
    reason = held_back_because(validate_rows(tmp_path, submission_rows(2016)))
    assert re.search(r"check 'category_unknown' on column .*\(no row: .*ZeroDivisionError", reason)


def test_only_the_file_the_validation_fails_on_is_held_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch fails as a whole, then each file is checked alone: the others are judged as usual."""
    _with_extra_check(monkeypatch, pa.Check(lambda rows: rows["count"] != 424242, name="not_a_rule"))
    odd = write_submission(tmp_path, altered(submission_rows(2016), {2: {"count": "424242"}}))
    fine = write_submission(tmp_path, submission_rows(2015))
    held, accepted = validate(tmp_path, odd, fine)
    assert "not_a_rule" in held_back_because(held)
    assert accepted.accepted and accepted.rows is not None
