"""Installed = checkout: the built wheel, installed with the locked dependencies into a fresh environment,
runs every command from a folder that is not the checkout.

As a data engineer installs it on a server: ``uv build --wheel``, a new virtual environment, the
locked dependencies (``uv export``) and the wheel; then ``validate``, ``template``, ``run`` on a
full fiscal year of the examples and ``report``, each from an unrelated folder.
"""

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support import AS_OF, EXAMPLE_SUBMISSIONS, REPO_ROOT, detailed_referrals, query, write_submission

pytestmark = pytest.mark.integration  # builds a wheel and a virtual environment

UV = REPO_ROOT / ".tools" / "bin" / "uv"  # installed by `make setup`
FISCAL_YEAR = 2016  # every center's file of one year: enough centers for the report's publication tables
PAPER_CONSULTATIONS_2016 = 90794
PAPER_REFERRALS_2016 = 7520


def _run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def _succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _succeeded(_run([UV, "build", "--wheel", "--out-dir", out], cwd=REPO_ROOT))
    (built,) = out.glob("hikikomori-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh environment holding the locked dependencies and the wheel."""
    root = tmp_path_factory.mktemp("server")
    requirements = root / "requirements.txt"
    _succeeded(
        _run(
            [UV, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--output-file", requirements],
            cwd=REPO_ROOT,
        )
    )
    venv = root / "venv"
    _succeeded(_run([UV, "venv", "--python", "python3.11", venv], cwd=root))
    _succeeded(_run([UV, "pip", "install", "--python", venv / "bin" / "python", "-r", requirements, wheel], cwd=root))
    return venv / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder with nothing of the checkout in it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def _environment() -> dict[str, str]:
    """The user's environment without anything pointing into the checkout or its virtual environment."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HIKIKOMORI_", "PREFECT_", "PYTHON", "VIRTUAL_ENV", "UV_"))
    }
    return {**environment, "HIKIKOMORI_AS_OF": AS_OF.isoformat()}


def test_the_wheel_carries_the_models_reference_data_migrations_and_queries(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for folder, count in {
        "hikikomori/sql/staging/": len(list((REPO_ROOT / "sql" / "staging").glob("*.sql"))),
        "hikikomori/sql/intermediate/": len(list((REPO_ROOT / "sql" / "intermediate").glob("*.sql"))),
        "hikikomori/sql/marts/": len(list((REPO_ROOT / "sql" / "marts").glob("*.sql"))),
        "hikikomori/sql/analyses/": len(list((REPO_ROOT / "sql" / "analyses").glob("*.sql"))),
        "hikikomori/warehouse/migrations/": len(list((REPO_ROOT / "warehouse" / "migrations").glob("*.sql"))),
        "hikikomori/domain/data/": len(list((REPO_ROOT / "hikikomori" / "domain" / "data").glob("*.csv"))),
    }.items():
        shipped = [name for name in names if name.startswith(folder) and name.endswith((".sql", ".csv"))]
        assert count > 0 and len(shipped) == count, (folder, shipped)
    assert "hikikomori/sql/marts/outcome_targets.sql" in names
    assert "hikikomori/domain/data/centers.csv" in names
    distribution = "-".join(wheel.name.split("-")[:2])  # hikikomori-0.1.0
    assert {name.split("/")[0] for name in names} == {"hikikomori", f"{distribution}.dist-info"}


def test_the_installed_package_claims_no_generic_import_names(installed: Path, elsewhere: Path) -> None:
    probe = (
        "import importlib.util, hikikomori.flows, hikikomori.schemas, hikikomori.warehouse;"
        "print([name for name in ('flows', 'schemas', 'warehouse', 'sql') if importlib.util.find_spec(name)])"
    )
    result = _succeeded(_run([installed / "python", "-c", probe], cwd=elsewhere, env=_environment()))
    assert result.stdout.strip() == "[]"
    site_packages = next((installed.parent / "lib").glob("python3*/site-packages"))
    assert not any((site_packages / name).exists() for name in ("flows", "schemas", "warehouse", "sql"))


def test_validate_and_template_work_from_any_folder(installed: Path, elsewhere: Path) -> None:
    environment = _environment()
    example = EXAMPLE_SUBMISSIONS / f"130001_{FISCAL_YEAR}.csv"

    validated = _succeeded(_run([installed / "hikikomori", "validate", example], cwd=elsewhere, env=environment))
    assert validated.stdout == f"130001_{FISCAL_YEAR}.csv: OK 問題はありません\n"

    form = elsewhere / "form.xlsx"
    templated = _run(
        [installed / "hikikomori", "template", "--center", "130001", "--fiscal-year", "H28", "--out", form],
        cwd=elsewhere,
        env=environment,
    )
    assert _succeeded(templated).stdout == f"様式を作成しました / wrote {form}\n"
    assert load_workbook(form).worksheets[0]["B6"].value == "平成28年度"

    broken = write_submission(elsewhere / "to_send", "130001", FISCAL_YEAR, -5, detailed_referrals())
    rejected = _run([installed / "hikikomori", "validate", broken], cwd=elsewhere, env=environment)
    assert rejected.returncode == 1
    assert "件数にマイナスの値は使えません [count_negative]" in rejected.stdout


def test_run_and_report_work_from_any_folder(installed: Path, elsewhere: Path) -> None:
    environment = _environment()
    inbox, warehouse = elsewhere / "inbox", elsewhere / "state" / "hikikomori.duckdb"
    year_files = sorted(EXAMPLE_SUBMISSIONS.rglob(f"*_{FISCAL_YEAR}.*"))
    for source in year_files:
        target = inbox / source.relative_to(EXAMPLE_SUBMISSIONS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)

    run = _run(
        [installed / "hikikomori", "run", "--inbox", inbox, "--warehouse", warehouse], cwd=elsewhere, env=environment
    )

    _succeeded(run)
    counted = f"(取込 accepted {len(year_files)}, 差戻し rejected 0, 重複 duplicate 0)"
    assert f"受付ファイル {len(year_files)} 件 / files taken in: {len(year_files)}  {counted}" in run.stdout
    assert not any(path.is_file() for path in inbox.rglob("*"))
    totals = query(warehouse, "select * from marts.consultation_totals")
    assert totals[["fiscal_year", "centers_reporting", "consultations"]].values.tolist() == [
        [FISCAL_YEAR, len(year_files), PAPER_CONSULTATIONS_2016]
    ]
    shares = query(warehouse, "select sum(referrals) as referrals from marts.referral_shares")
    assert shares.referrals.item() == PAPER_REFERRALS_2016

    out = elsewhere / "report"
    report = _run(
        [installed / "hikikomori", "report", "--warehouse", warehouse, "--out", out], cwd=elsewhere, env=environment
    )

    _succeeded(report)
    html = out / f"national_report_{FISCAL_YEAR}.html"
    assert f"報告書 / report: {html}" in report.stdout
    assert f"{PAPER_CONSULTATIONS_2016:,}" in html.read_text(encoding="utf-8")
    for written in (
        out / f"national_report_{FISCAL_YEAR}.xlsx",
        out / "publication" / f"per_center_{FISCAL_YEAR}.csv",
        out / "publication" / f"per_center_{FISCAL_YEAR}.xlsx",
        out / "charts" / "consultations.png",
    ):
        assert written.stat().st_size > 0, written
    assert sorted(path.name for path in elsewhere.iterdir()) == ["inbox", "report", "state"]  # nothing else written
