"""Versioned migrations: the only place tables the pipeline writes are defined or changed.

``warehouse/migrations/NNNN_name.sql`` are applied in order of their number, each in its own
transaction together with its row in ``ops.schema_migrations`` (version, name, checksum,
applied_at), so a migration is either wholly applied and recorded or not at all. A run applies the
pending ones once, at its start and under the run lock (``hikikomori.pipeline.operations``);
opening a connection never changes the warehouse.

A migration once applied is history: its text must not change (the recorded SHA-256 must match
the file), and a warehouse holding a migration this package does not know was upgraded by a newer
version: both stop with a message instead of guessing. The ledger itself is the one table created
here, before any migration runs.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from hikikomori.resources import package_path

LEDGER = "ops.schema_migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LEDGER_DDL = """
create schema if not exists ops;
create table if not exists ops.schema_migrations (
    version integer primary key,
    name varchar not null,
    checksum varchar not null,
    applied_at timestamptz not null
);
"""


class MigrationError(RuntimeError):
    """The warehouse and this package's migrations disagree, or a migration failed."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def migrations_dir() -> Path:
    return package_path("warehouse", "migrations")


@cache
def available_migrations(folder: Path | None = None) -> tuple[Migration, ...]:
    """Every migration shipped in ``folder`` (default: the package's), in version order."""
    folder = folder or migrations_dir()
    found: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file names are NNNN_name.sql (lowercase): {path.name}")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version:04d}: {found[version].label}, {path.name}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return tuple(found[version] for version in sorted(found))


def applied_versions(connection: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """version → checksum of every migration recorded in the warehouse (empty before the first)."""
    exists = connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'ops' and table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return {}
    return dict(connection.execute("select version, checksum from ops.schema_migrations").fetchall())


def pending_migrations(
    connection: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] | None = None
) -> list[Migration]:
    """The migrations still to apply, after checking the recorded ones against the files."""
    migrations = available_migrations() if migrations is None else migrations
    applied = applied_versions(connection)
    known = {migration.version: migration for migration in migrations}
    unknown = sorted(set(applied) - set(known))
    if unknown:
        raise MigrationError(
            "このウェアハウスは新しい版の hikikomori で更新されています / the warehouse holds migrations this "
            f"version of hikikomori does not know ({', '.join(f'{version:04d}' for version in unknown)}): "
            "install the newer package"
        )
    changed = [known[version].label for version, checksum in applied.items() if known[version].checksum != checksum]
    if changed:
        raise MigrationError(
            f"applied migrations were edited afterwards ({', '.join(sorted(changed))}): "
            "never change an applied migration, add a new one"
        )
    return [migration for migration in migrations if migration.version not in applied]


def migrate(connection: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] | None = None) -> list[Migration]:
    """Apply every pending migration in order, each in its own transaction; returns those applied."""
    connection.execute(_LEDGER_DDL)
    pending = pending_migrations(connection, migrations)
    for migration in pending:
        connection.execute("begin transaction")
        try:
            connection.execute(migration.sql)
            connection.execute(
                "insert into ops.schema_migrations (version, name, checksum, applied_at) values (?, ?, ?, ?)",
                [migration.version, migration.name, migration.checksum, datetime.now(UTC)],
            )
            connection.execute("commit")
        except duckdb.Error as error:
            connection.execute("rollback")
            raise MigrationError(f"migration {migration.label} failed: {error}") from error
    return pending


def require_current(connection: duckdb.DuckDBPyConnection) -> None:
    """For readers (read-only): stop with a clear message when the warehouse has not been upgraded yet."""
    pending = pending_migrations(connection)
    if pending:
        raise MigrationError(
            "ウェアハウスが古い形式です。`hikikomori run` を一度実行すると更新されます / the warehouse predates "
            f"this version of hikikomori (pending migrations {', '.join(migration.label for migration in pending)}): "
            "one `hikikomori run` upgrades it"
        )
