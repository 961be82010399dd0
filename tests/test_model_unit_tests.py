"""Every unit test in the models' YAML (one pytest id each), and the runner's own behaviour."""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from hikikomori.settings import load_settings
from hikikomori.warehouse.models import LAYERS, load_project
from hikikomori.warehouse.project import UnitTest
from hikikomori.warehouse.unit_testing import UnitTestDefinitionError, UnitTestRunner

PROJECT = load_project(load_settings().sql_dir)
UNIT_TESTS = PROJECT.docs.unit_tests


@pytest.fixture(scope="module")
def runner() -> UnitTestRunner:
    return UnitTestRunner(PROJECT)


@pytest.mark.parametrize("test", UNIT_TESTS, ids=[test.test_id for test in UNIT_TESTS])
def test_model(runner: UnitTestRunner, test: UnitTest) -> None:
    result = runner.run(test)
    assert result.passed, result.message


def test_every_mart_has_unit_tests() -> None:
    marts = {model.qualified_name for model in PROJECT.models if model.layer == "marts"}
    tested = {test.model for test in UNIT_TESTS}
    assert marts - tested == set()
    assert {layer.name for layer in LAYERS} >= {test.model.split(".")[0] for test in UNIT_TESTS}


def test_the_required_cases_are_covered() -> None:
    names = {test.test_id for test in UNIT_TESTS}
    assert {
        "marts.outcome_targets::an_actual_exactly_on_the_target_fails",
        "marts.outcome_targets::one_more_than_the_target_passes",
        "marts.outcome_targets::a_year_without_referrals_has_no_referral_target_and_the_next_has_no_baseline",
        "marts.referral_shares::detailed_categories_roll_up_into_their_groups",
        "marts.referral_shares::a_year_without_referrals_has_no_rows",
    } <= names


def test_a_wrong_expectation_is_reported_with_a_readable_diff(runner: UnitTestRunner) -> None:
    tie = next(test for test in UNIT_TESTS if test.name == "an_actual_exactly_on_the_target_fails")
    wrong = replace(
        tie, expect=tuple({**row, "status": "pass"} if row["fiscal_year"] == 2016 else row for row in tie.expect)
    )

    result = runner.run(wrong)

    assert not result.passed
    lines = result.message.splitlines()
    assert lines[0].startswith(
        "marts.outcome_targets::an_actual_exactly_on_the_target_fails (marts/outcome_targets.yml)"
    )
    assert lines[1] == "  expected but not produced (1):"
    assert lines[2].split() == [
        "fiscal_year",
        "target",
        "actual",
        "baseline",
        "centers_previous",
        "centers_current",
        "target_value",
        "status",
    ]
    assert lines[3].split() == ["2016", "referrals_per_center", "64", "60", "60", "64", "64.0", "pass"]
    assert lines[4] == "  produced but not expected (1):"
    assert lines[6].split()[-1] == "fail"


def test_a_float_tie_rule_broken_in_the_sql_fails_its_unit_test(tmp_path: Path) -> None:
    """Comparing the float target instead of whole numbers passes an actual exactly on the target."""
    sql_dir = tmp_path / "sql"
    shutil.copytree(load_settings().sql_dir, sql_dir)
    model = sql_dir / "marts" / "outcome_targets.sql"
    text = model.read_text(encoding="utf-8")
    model.write_text(
        text.replace(
            "when targets.exceeds_target then 'pass'", "when targets.actual > targets.target_value then 'pass'"
        ),
        encoding="utf-8",
    )
    project = load_project(sql_dir)
    tie = next(
        test for test in project.docs.unit_tests if test.name == "a_tie_that_floating_point_would_pass_still_fails"
    )

    result = UnitTestRunner(project).run(tie)

    assert not result.passed and "pass" in result.message


def test_floats_match_within_a_small_tolerance(runner: UnitTestRunner) -> None:
    shares = next(test for test in UNIT_TESTS if test.name == "detailed_categories_roll_up_into_their_groups")
    near = replace(shares, expect=tuple({**row, "share_pct": row["share_pct"] + 1e-12} for row in shares.expect))
    far = replace(shares, expect=tuple({**row, "share_pct": row["share_pct"] + 1e-6} for row in shares.expect))
    assert runner.run(near).passed
    assert not runner.run(far).passed


def test_rows_are_compared_as_a_multiset(runner: UnitTestRunner) -> None:
    shares = next(test for test in UNIT_TESTS if test.name == "detailed_categories_roll_up_into_their_groups")
    assert runner.run(replace(shares, expect=tuple(reversed(shares.expect)))).passed
    assert not runner.run(replace(shares, expect=(*shares.expect, shares.expect[0]))).passed


def test_a_unit_test_naming_what_the_model_does_not_read_is_an_error(runner: UnitTestRunner) -> None:
    tie = next(test for test in UNIT_TESTS if test.name == "an_actual_exactly_on_the_target_fails")
    stranger = replace(tie, given=(replace(tie.given[0], relation="raw.submissions"),))
    with pytest.raises(UnitTestDefinitionError, match=r"does not read raw\.submissions"):
        runner.run(stranger)
    typo = replace(tie, given=(replace(tie.given[0], rows=({"fiscal_yaer": 2015},)),))
    with pytest.raises(UnitTestDefinitionError, match="no column fiscal_yaer"):
        runner.run(typo)
