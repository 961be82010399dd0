"""One definition per rule: the pandera schemas are built from the catalogue, and every failure is a rule's.

A check no rule names, or a failure pandera cannot place on a row (a wrong dtype, a check that
raised), is a bug in the validation: it stops the batch with a message naming the check and column
instead of being dropped (a dropped failure would accept a file nothing was checked on).
"""

import copy
from pathlib import Path

import pandera.pandas as pa
import pytest
from helpers_validation import submission_rows, validate_rows

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
    assert len(RULES) == 44
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


def test_a_failing_check_no_rule_names_stops_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_extra_check(monkeypatch, pa.Check(lambda rows: rows["count"] > 10**6, name="not_a_rule"))
    with pytest.raises(validation.UnexplainedSchemaFailure, match=r"check 'not_a_rule' on column '\w+' failed \(row"):
        validate_rows(tmp_path, submission_rows(2016))


def test_a_failure_without_a_row_stops_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def raises(rows: object) -> bool:
        raise ZeroDivisionError("a bug in a check")

    _with_extra_check(monkeypatch, pa.Check(raises, name="category_unknown"))  # a rule's name, but no row
    with pytest.raises(
        validation.UnexplainedSchemaFailure, match=r"check 'category_unknown' on column .*\(no row: .*ZeroDivisionError"
    ):
        validate_rows(tmp_path, submission_rows(2016))
