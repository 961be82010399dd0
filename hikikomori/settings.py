"""Every configurable value, from environment variables and command-line flags.

Precedence: a flag given on the command line, then ``HIKIKOMORI_*`` environment variables, then
the defaults below. The folders a run writes to (archive, quarantine, Prefect's home) sit beside
the warehouse file unless set, so one ``--warehouse`` keeps a run's whole state together.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.domain.reference import bundled_reference_dir, bundled_registry
from hikikomori.resources import package_path
from hikikomori.schemas.limits import InputLimits

# DuckDB 2.0 writes files DuckDB 1.x cannot open; the analysts' copy is written in this older format,
# read by DuckDB 1.1 and newer (hikikomori.warehouse.copies says which versions were tried).
ANALYTICS_STORAGE_VERSION = "v1.1.0"


@dataclass(frozen=True)
class PortalSettings:
    """The web portal's own values (``hikikomori serve``); its state sits beside the warehouse by default."""

    database_path: Path  # accounts, sessions, audit log, uploads (SQLite)
    secret_key_path: Path  # created on first start (mode 0600) unless HIKIKOMORI_PORTAL_SECRET_KEY is set
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_hosts: tuple[str, ...] = ()  # besides the host served on and the loopback names
    https: bool = False  # behind a TLS proxy: secure cookies, HSTS, X-Forwarded-Proto trusted
    workers: int = 2  # server processes
    threads: int = 16  # threads per process: uploads arriving together are judged in one batch
    session_idle_seconds: int = 30 * 60  # a session ends after this long without a request
    login_failure_limit: int = 5  # failed logins (per user name and address) before a lock-out
    login_lockout_minutes: int = 15
    # "Today" for the rule that a fiscal year must have ended: pinned (HIKIKOMORI_AS_OF) or the
    # server's date in Japan at each request (a server runs across April 1st).
    as_of: date | None = None
    max_upload_bytes: int = InputLimits().max_file_bytes  # a larger upload is refused (413) unread

    @property
    def max_request_bytes(self) -> int:
        """The largest request body read: one submission at the size limit, plus the form's own fields."""
        return self.max_upload_bytes + 64 * 1024

    def today(self) -> date:
        return self.as_of or datetime.now(JAPAN).date()


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
    analytics_path: Path  # the copy analysts open, replaced atomically after each successful run
    run_lock_timeout_seconds: float  # how long a run waits for another one to finish
    portal: PortalSettings  # hikikomori serve
    fiscal_years: tuple[int, ...] = field(default=())  # empty: every fiscal year in the inbox
    limits: InputLimits = field(default_factory=InputLimits)
    # A center's consultations or referrals changing by more than this factor from its previous
    # year is reported as a warning (never a rejection).
    change_warning_factor: float = 3.0
    quality_fails_run: bool = True  # a failed data-quality expectation fails the run
    # A deadline calendar CSV (fiscal_year,deadline) given to this run: recorded in the warehouse, where
    # it stays in effect for every later rebuild (raw.deadline_calendar). None: the recorded ones only.
    calendar_path: Path | None = None
    # Build the SQL models even when their inputs are unchanged since the last build (``run --rebuild``).
    rebuild_models: bool = False
    # Within-year plausibility: a center's referrals per consultation whose modified z-score against
    # the year's other centers exceeds this is reported as a warning (never a rejection); 3.5 is
    # Iglewicz and Hoaglin's cut-off. Years with fewer centers than the minimum are not compared.
    outlier_z_threshold: float = 3.5
    outlier_min_centers: int = 10
    example_queries_dir: Path = field(default_factory=lambda: package_path("sql", "analyses"))
    # The DuckDB storage format the analysts' copy is written in (hikikomori.warehouse.copies).
    analytics_storage_version: str = ANALYTICS_STORAGE_VERSION
    # While a run writes, DuckDB checkpoints when its write-ahead log passes this many MiB rather than its
    # 16 (hikikomori.warehouse.connection.checkpoint_less_often), and once at the run's end; 10,000 files
    # log about 23 MiB, their models about as much again.
    run_checkpoint_mib: int = 256

    @property
    def state_dir(self) -> Path:
        return self.warehouse_path.parent

    @property
    def run_lock_path(self) -> Path:
        """Held exclusively by the run writing the warehouse."""
        return self.warehouse_path.with_name(f"{self.warehouse_path.name}.run.lock")


def load_limits(env: Mapping[str, str]) -> InputLimits:
    defaults = InputLimits()
    return InputLimits(
        max_file_bytes=int(env.get("HIKIKOMORI_MAX_FILE_BYTES", defaults.max_file_bytes)),
        max_rows=int(env.get("HIKIKOMORI_MAX_ROWS", defaults.max_rows)),
        max_count=int(env.get("HIKIKOMORI_MAX_COUNT", defaults.max_count)),
        max_xlsx_uncompressed_bytes=int(
            env.get("HIKIKOMORI_MAX_XLSX_UNCOMPRESSED_BYTES", defaults.max_xlsx_uncompressed_bytes)
        ),
        settle_seconds=float(env.get("HIKIKOMORI_SETTLE_SECONDS", defaults.settle_seconds)),
    )


def load_settings(
    *,
    inbox: Path | None = None,
    warehouse: Path | None = None,
    registry: Path | None = None,
    fiscal_years: tuple[int, ...] = (),
    run_lock_timeout_seconds: float | None = None,
    change_warning_factor: float | None = None,
    calendar: Path | None = None,
    rebuild_models: bool = False,
    environ: dict[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HIKIKOMORI_DATA_DIR", "data"))
    warehouse_path = warehouse or Path(env.get("HIKIKOMORI_WAREHOUSE", data_dir / "warehouse" / "hikikomori.duckdb"))
    state_dir = warehouse_path.parent
    analytics_default = state_dir / f"{warehouse_path.stem}_analytics.duckdb"
    limits = load_limits(env)
    return Settings(
        inbox_dir=inbox or Path(env.get("HIKIKOMORI_INBOX", data_dir / "inbox")),
        warehouse_path=warehouse_path,
        archive_dir=Path(env.get("HIKIKOMORI_ARCHIVE", state_dir / "archive")),
        quarantine_dir=Path(env.get("HIKIKOMORI_QUARANTINE", state_dir / "quarantine")),
        registry_path=registry or Path(env.get("HIKIKOMORI_REGISTRY", bundled_registry())),
        reference_dir=bundled_reference_dir(),
        sql_dir=package_path("sql"),
        prefect_home=Path(env.get("PREFECT_HOME", state_dir / "prefect")),
        as_of=_as_of(env.get("HIKIKOMORI_AS_OF")),
        analytics_path=Path(env.get("HIKIKOMORI_ANALYTICS_WAREHOUSE", analytics_default)),
        run_lock_timeout_seconds=(
            run_lock_timeout_seconds
            if run_lock_timeout_seconds is not None
            else float(env.get("HIKIKOMORI_RUN_LOCK_TIMEOUT", "1800"))
        ),
        fiscal_years=tuple(sorted(set(fiscal_years))),
        limits=limits,
        portal=load_portal_settings(env, state_dir, limits),
        change_warning_factor=change_warning_factor or float(env.get("HIKIKOMORI_CHANGE_WARNING_FACTOR", "3")),
        quality_fails_run=_flag(env.get("HIKIKOMORI_QUALITY_FAILS_RUN", "true")),
        analytics_storage_version=_storage_version(
            env.get("HIKIKOMORI_ANALYTICS_STORAGE_VERSION", ANALYTICS_STORAGE_VERSION)
        ),
        calendar_path=calendar or (Path(env["HIKIKOMORI_CALENDAR"]) if env.get("HIKIKOMORI_CALENDAR") else None),
        rebuild_models=rebuild_models,
        outlier_z_threshold=float(env.get("HIKIKOMORI_OUTLIER_Z", "3.5")),
        outlier_min_centers=int(env.get("HIKIKOMORI_OUTLIER_MIN_CENTERS", "10")),
    )


def load_portal_settings(env: Mapping[str, str], state_dir: Path, limits: InputLimits) -> PortalSettings:
    defaults = PortalSettings(database_path=Path(), secret_key_path=Path())
    database = Path(env.get("HIKIKOMORI_PORTAL_DATABASE", state_dir / "portal.sqlite3"))
    hosts = env.get("HIKIKOMORI_PORTAL_ALLOWED_HOSTS", "")
    return PortalSettings(
        database_path=database,
        secret_key_path=database.with_name(f"{database.stem}.secret_key"),
        secret_key=env.get("HIKIKOMORI_PORTAL_SECRET_KEY") or None,
        host=env.get("HIKIKOMORI_PORTAL_HOST", defaults.host),
        port=int(env.get("HIKIKOMORI_PORTAL_PORT", defaults.port)),
        allowed_hosts=tuple(host.strip() for host in hosts.split(",") if host.strip()),
        https=_flag(env.get("HIKIKOMORI_PORTAL_HTTPS", "false")),
        workers=int(env.get("HIKIKOMORI_PORTAL_WORKERS", defaults.workers)),
        threads=int(env.get("HIKIKOMORI_PORTAL_THREADS", defaults.threads)),
        session_idle_seconds=int(env.get("HIKIKOMORI_PORTAL_SESSION_IDLE_SECONDS", defaults.session_idle_seconds)),
        login_failure_limit=int(env.get("HIKIKOMORI_PORTAL_LOGIN_FAILURE_LIMIT", defaults.login_failure_limit)),
        login_lockout_minutes=int(env.get("HIKIKOMORI_PORTAL_LOGIN_LOCKOUT_MINUTES", defaults.login_lockout_minutes)),
        as_of=date.fromisoformat(env["HIKIKOMORI_AS_OF"]) if env.get("HIKIKOMORI_AS_OF") else None,
        max_upload_bytes=limits.max_file_bytes,
    )


def _storage_version(text: str) -> str:
    """A DuckDB version as STORAGE_VERSION takes it (``v1.1.0``): refused here, before a run, not after it."""
    if not re.fullmatch(r"v\d+\.\d+\.\d+", text.strip()):
        raise ValueError(f"HIKIKOMORI_ANALYTICS_STORAGE_VERSION: expected a version such as v1.1.0, got {text!r}")
    return text.strip()


def _flag(text: str) -> bool:
    if text.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if text.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _as_of(text: str | None) -> date:
    return date.fromisoformat(text) if text else datetime.now(JAPAN).date()
