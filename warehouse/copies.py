"""The analysts' copy of the warehouse, written in a storage format that DuckDB 1.x clients read.

DuckDB 2.0 writes its files in storage version 69, which DuckDB 1.x refuses ("can only read versions
between 64 and 68"): the CLI on the package index (duckdb-cli 1.5.6), DBeaver's driver, R and Python
clients on 1.x. DuckDB 2.0 can write the older format: attach a new file with ``STORAGE_VERSION``,
attach the warehouse read-only, and ``COPY FROM DATABASE`` copies every schema, table, view,
constraint and comment into it. Measured here: a copy written as ``v1.1.0`` opens and every table
and view reads in DuckDB 1.1.3, 1.2.2, 1.3.2, 1.4.1, duckdb-cli 1.5.6 and 2.0.1; DuckDB 1.0.0
cannot read it (primary keys are serialised in a way 1.0 does not know).

A warehouse the run creates is written in that older format from the start (``connection.connect``):
its copy is then the checkpointed file itself, copied byte for byte (a 5,000-file warehouse: ≈ 0.9 s
through ``COPY FROM DATABASE``, which rebuilds every table and index, against milliseconds). A
warehouse created before in DuckDB 2.0's own format is still copied table by table.
"""

import shutil
import struct
import tempfile
from functools import cache
from pathlib import Path

import duckdb

from hikikomori.warehouse.connection import connect_in_memory

_HEADER = struct.Struct("<4sQ")  # DuckDB's file header: b"DUCK" at byte 8, then its storage version number


def write_portable_copy(source: Path, target: Path, storage_version: str) -> None:
    """Copy the warehouse at ``source`` (no writer may hold it) into a new file ``target``, written in
    the storage format of DuckDB ``storage_version`` (e.g. ``v1.1.0``).

    ``target`` must not exist yet. The copy is complete and checkpointed when this returns (detaching
    a database writes everything into its file: no write-ahead log is left beside it).
    """
    if target.exists():
        raise FileExistsError(f"the copy must be written to a new file: {target}")
    checkpointed = not Path(f"{source}.wal").exists()
    if checkpointed and _storage_number(source) <= _storage_number_of(storage_version):
        shutil.copyfile(source, target)  # already in a format DuckDB ``storage_version`` reads
        return
    connection = connect_in_memory()
    try:
        connection.execute("attach ? as portable_copy (storage_version ?)", [str(target), storage_version])
        connection.execute("attach ? as warehouse_source (read_only)", [str(source)])
        connection.execute("copy from database warehouse_source to portable_copy")
        connection.execute("detach warehouse_source")
        connection.execute("detach portable_copy")
    finally:
        connection.close()


def _storage_number(path: Path) -> int:
    """The storage version number in a DuckDB file's header (DuckDB 2.0's own format writes 999)."""
    with open(path, "rb") as handle:
        header = handle.read(8 + _HEADER.size)
    magic, number = _HEADER.unpack_from(header, 8)
    if magic != b"DUCK":
        raise ValueError(f"not a DuckDB file: {path}")
    return int(number)


@cache
def _storage_number_of(storage_version: str) -> int:
    """The header number of a file DuckDB writes for ``storage_version``: asked of DuckDB itself, once."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.duckdb"
        duckdb.connect(str(probe), config={"storage_compatibility_version": storage_version}).close()
        return _storage_number(probe)
