"""Helpers shared by the tests: settings pinned to a fixed run date, pipeline steps without Prefect."""

import os
import shutil
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from hikikomori.domain.reference import load_reference_data
from hikikomori.pipeline import operations
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.intake import TakenFile
from hikikomori.settings import Settings, load_settings
from hikikomori.warehouse.connection import connect

AS_OF = date(2026, 11, 26)
REPO_ROOT = Path(__file__).resolve().parent.parent  # the tests run from a checkout
EXAMPLE_SUBMISSIONS = REPO_ROOT / "examples" / "submissions"
# Tests write a file and run at once: the wait for files still being written is tested on its own.
NO_SETTLE_TIME = {"HIKIKOMORI_SETTLE_SECONDS": "0"}


def make_settings(root: Path, registry: Path | None = None) -> Settings:
    return load_settings(
        inbox=root / "inbox",
        warehouse=root / "warehouse" / "hikikomori.duckdb",
        registry=registry,
        environ={"HIKIKOMORI_AS_OF": AS_OF.isoformat(), **NO_SETTLE_TIME},
    )


def run_steps(settings: Settings, run_id: str = "test-run", *, quality_gate: bool = False) -> list[TakenFile]:
    """The flow's steps as plain calls: what ``hikikomori run`` does, minus Prefect.

    The quality gate costs seconds (Great Expectations), so only the tests about it ask for it.
    """
    pipeline.prepare_warehouse(settings)
    pipeline.record_deadline_calendar(settings, run_id)
    received = pipeline.collect_submissions(settings)
    validated = pipeline.validate_submissions(received, settings)
    outcomes = pipeline.load_submissions(validated, settings, run_id)
    pipeline.rebuild_models(settings, run_id)
    if quality_gate:
        pipeline.check_quality(settings, run_id)
    return outcomes


def run_audited(settings: Settings, run_id: str = "test-run") -> list[TakenFile]:
    """A whole run as every flow does it (one at a time, recorded in ops.pipeline_runs, analysts' copy
    published), minus Prefect; a wait for another run is announced on stderr."""
    with operations.audited_run(
        settings, run_id, "test", on_wait=lambda message: print(message, file=sys.stderr, flush=True)
    ) as audit:
        pipeline.record_deadline_calendar(settings, run_id)
        received = pipeline.collect_submissions(settings)
        audit.files_seen = len(received)
        outcomes = pipeline.load_submissions(pipeline.validate_submissions(received, settings), settings, run_id)
        pipeline.rebuild_models(settings, run_id)
    return outcomes


def query(warehouse: Path, sql: str, parameters: list[object] | None = None) -> pd.DataFrame:
    with connect(warehouse, read_only=True) as connection:
        return connection.execute(sql, parameters or []).df()


def write_submission(
    inbox: Path,
    center_code: str,
    fiscal_year: int,
    consultations: int,
    referrals: dict[str, int],
    *,
    supporter_activities: int | None = None,
    in_center_folder: bool = False,
) -> Path:
    """A canonical CSV for one center and year (referrals: every category of the year's form)."""
    lines = [
        "center_code,fiscal_year,measure,category,count",
        f"{center_code},{fiscal_year},consultations,total,{consultations}",
    ]
    lines += [f"{center_code},{fiscal_year},referrals,{category},{count}" for category, count in referrals.items()]
    if supporter_activities is not None:
        lines.append(f"{center_code},{fiscal_year},supporter_activities,total,{supporter_activities}")
    folder = inbox / center_code if in_center_folder else inbox
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{center_code}_{fiscal_year}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def summary_referrals(**counts: int) -> dict[str, int]:
    """The FY≤2015 form's nine groups, zero unless given."""
    return _form_referrals("summary", counts)


def detailed_referrals(**counts: int) -> dict[str, int]:
    """The FY≥2016 form's 21 categories, zero unless given."""
    return _form_referrals("detailed", counts)


def _form_referrals(form: str, counts: dict[str, int]) -> dict[str, int]:
    reference = load_reference_data()
    categories = [category.category for category in reference.form_categories(form)]
    unknown = set(counts) - set(categories)
    assert not unknown, f"not on the {form} form: {unknown}"
    return {category: counts.get(category, 0) for category in categories}


# Written beside each stored file for the center, not submissions themselves.
SIDECAR_SUFFIXES = (".errors.csv", ".errors.txt")


def stored_submissions(*folders: Path) -> set[Path]:
    """The submission files kept in the archive or quarantine folders, without their sidecars."""
    return {
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and not path.name.endswith(SIDECAR_SUFFIXES)
    }


def system_program(name: str) -> str:
    """The path of a program from Debian's packages that a test drives (make test installs them).

    Without it the test is skipped when pytest is run by hand, and fails under ``make test``
    (HIKIKOMORI_TESTS_NEED_SYSTEM_PACKAGES=1), so CI never passes a test it did not run.
    """
    path = shutil.which(name)
    if path is None:
        message = f"needs {name} from Debian's packages (sudo make system-packages)"
        if os.environ.get("HIKIKOMORI_TESTS_NEED_SYSTEM_PACKAGES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def sql_with_a_broken_mart(sql_dir: Path, tmp_path: Path) -> Path:
    """A copy of the SQL project with one more mart that parses and reads a real model (the runner
    refuses unknown relations itself) but fails when DuckDB builds it (``no_such_model``)."""
    broken_sql = tmp_path / "sql"
    shutil.copytree(sql_dir, broken_sql)
    (broken_sql / "marts" / "broken_mart.sql").write_text(
        "select no_such_model(center_code) as broken from staging.stg_centers", encoding="utf-8"
    )
    (broken_sql / "marts" / "broken_mart.yml").write_text(
        "models: [{name: broken_mart, description: {ja: 壊れたモデル, en: a broken model}}]", encoding="utf-8"
    )
    return broken_sql
