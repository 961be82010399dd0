"""Every configurable value, from environment variables and command-line flags.

Precedence: a flag given on the command line, then ``HIKIKOMORI_*`` environment variables, then
the defaults below. The folders a run writes to (archive, quarantine, Prefect's home) sit beside
the warehouse file unless set, so one ``--warehouse`` keeps a run's whole state together.
"""

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
JAPAN = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Settings:
    inbox_dir: Path
    warehouse_path: Path
    archive_dir: Path
    quarantine_dir: Path
    registry_path: Path
    reference_dir: Path
    sql_dir: Path
    prefect_home: Path
    as_of: date  # "today" for the rule that a fiscal year must have ended
    fiscal_years: tuple[int, ...] = field(default=())  # empty: every fiscal year in the inbox
    comments_path: Path = PROJECT_ROOT / "warehouse" / "comments.yaml"  # comments on every table and column
    quality_fails_run: bool = True  # a failed data-quality expectation fails the run
    example_queries_dir: Path = PROJECT_ROOT / "docs" / "queries"  # analysts' example queries

    @property
    def state_dir(self) -> Path:
        return self.warehouse_path.parent

    @property
    def report_dir(self) -> Path:
        """Where ``hikikomori report`` writes unless ``--out`` is given."""
        return self.state_dir / "report"


def load_settings(
    *,
    inbox: Path | None = None,
    warehouse: Path | None = None,
    registry: Path | None = None,
    fiscal_years: tuple[int, ...] = (),
    environ: dict[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HIKIKOMORI_DATA_DIR", "data"))
    warehouse_path = warehouse or Path(env.get("HIKIKOMORI_WAREHOUSE", data_dir / "warehouse" / "hikikomori.duckdb"))
    state_dir = warehouse_path.parent
    return Settings(
        inbox_dir=inbox or Path(env.get("HIKIKOMORI_INBOX", data_dir / "inbox")),
        warehouse_path=warehouse_path,
        archive_dir=Path(env.get("HIKIKOMORI_ARCHIVE", state_dir / "archive")),
        quarantine_dir=Path(env.get("HIKIKOMORI_QUARANTINE", state_dir / "quarantine")),
        registry_path=registry or Path(env.get("HIKIKOMORI_REGISTRY", PROJECT_ROOT / "reference" / "centers.csv")),
        reference_dir=Path(env.get("HIKIKOMORI_REFERENCE_DIR", PROJECT_ROOT / "reference")),
        sql_dir=Path(env.get("HIKIKOMORI_SQL_DIR", PROJECT_ROOT / "sql")),
        prefect_home=Path(env.get("PREFECT_HOME", state_dir / "prefect")),
        as_of=_as_of(env.get("HIKIKOMORI_AS_OF")),
        fiscal_years=tuple(sorted(set(fiscal_years))),
        comments_path=Path(env.get("HIKIKOMORI_COMMENTS", PROJECT_ROOT / "warehouse" / "comments.yaml")),
        quality_fails_run=_flag(env.get("HIKIKOMORI_QUALITY_FAILS_RUN", "true")),
        example_queries_dir=Path(env.get("HIKIKOMORI_QUERIES_DIR", PROJECT_ROOT / "docs" / "queries")),
    )


def _flag(text: str) -> bool:
    if text.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if text.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _as_of(text: str | None) -> date:
    return date.fromisoformat(text) if text else datetime.now(JAPAN).date()
