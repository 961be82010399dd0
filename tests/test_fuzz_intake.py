"""Fuzzing the per-file path: whatever is done to the files, the run completes and loses nothing.

Hypothesis mutates valid CSV and .xlsx submissions (flipped and truncated bytes, broken zip members,
other encodings, huge or foreign numbers, odd names and places) and puts them in one inbox beside
untouched valid files. After one run:

- the run completed (no exception);
- every input is in exactly one place: taken in (its bytes in the archive or the quarantine, gone
  from the inbox), or still in the inbox with a reported reason;
- every untouched valid file is accepted and its rows are in the warehouse;
- nothing the run printed about the files carries a raw control character.

``HIKIKOMORI_FUZZ_EXAMPLES`` sets the number of examples (default 10, about 20 s; e.g. 500 for a
longer search).
"""

import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from helpers_validation import submission_rows
from hostile_corpus import workbook_bytes
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import make_settings, query, run_steps

from hikikomori.domain.text import printable
from hikikomori.pipeline import steps as pipeline
from hikikomori.pipeline.run_summary import format_run_summary
from hikikomori.schemas.files import display_name

EXAMPLES = int(os.environ.get("HIKIKOMORI_FUZZ_EXAMPLES", "10"))
# Untouched valid files (their centers are never mutated, so each is a new first version).
VALID = {
    "271403_2015.csv": ("csv", "utf-8", submission_rows(2015, "271403")),
    "281000/281000_2016.csv": ("csv", "cp932", submission_rows(2016, "281000")),
    "331007_2015.xlsx": ("xlsx", "", submission_rows(2015, "331007")),
}
# The files mutated: other centers' valid files.
SOURCES = [
    ("130001", 2015, "csv"),
    ("270008", 2016, "csv"),
    ("010006", 2015, "xlsx"),
    ("141003", 2016, "xlsx"),
]


FRACTIONS = st.floats(min_value=0, max_value=1, exclude_max=True)
# What a worksheet cell can hold (openpyxl refuses the C0 controls a CSV can carry).
CELL_CHARACTERS = st.characters(blacklist_categories=("Cc", "Cs"))


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(",".join(row) for row in rows) + "\r\n").encode(encoding)


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """One mutated submission: (path in the inbox, bytes)."""
    center, year, kind = draw(st.sampled_from(SOURCES))
    rows = [list(row) for row in submission_rows(year, center)]
    mutation = draw(st.sampled_from(["flip", "truncate", "numbers", "encoding", "zip_member", "zip_header", "none"]))
    if mutation == "numbers":  # huge, foreign or malformed numbers in counts and years
        for _ in range(draw(st.integers(1, 4))):
            row = draw(st.integers(1, len(rows) - 1))
            column = draw(st.sampled_from([1, 4]))
            rows[row][column] = draw(
                st.one_of(
                    st.integers(0, 10**40).map(str),
                    st.sampled_from(["9223372036854775807", "15¹", "١٥٢٠", "①", "1e9", "-0", "１２３", "NaN"]),
                    st.text(CELL_CHARACTERS if kind == "xlsx" else st.characters(), min_size=1, max_size=12),
                )
            ).replace(",", "")  # one cell each: a comma would change the row's shape
    content = workbook_bytes(rows) if kind == "xlsx" else csv_bytes(rows)
    if mutation == "encoding" and kind == "csv":
        text = content.decode("utf-8")
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp932", "utf-8-sig"]))
        content = text.encode(encoding, errors="replace")
    elif mutation == "flip" and content:
        # Positions drawn as fractions: a workbook's length varies with the time it was saved.
        data = bytearray(content)
        for fraction in draw(st.lists(FRACTIONS, min_size=1, max_size=8)):
            data[int(fraction * len(data))] ^= draw(st.integers(1, 255))
        content = bytes(data)
    elif mutation == "truncate":
        content = content[: int(draw(FRACTIONS) * len(content))]
    elif mutation == "zip_member" and kind == "xlsx":
        content = _with_member_replaced(content, draw(st.sampled_from(_members(content))), draw(st.binary(max_size=64)))
    elif mutation == "zip_header" and kind == "xlsx":
        data = bytearray(content)
        signature = draw(st.sampled_from([b"PK\x03\x04", b"PK\x01\x02"]))
        position = data.find(signature)
        offset = draw(st.sampled_from([6, 8, 10, 18, 22]))  # flags, method, time/sizes
        if position >= 0:
            data[position + offset] ^= draw(st.integers(1, 255))
        content = bytes(data)
    name = f"{center}_{year}.{kind}"
    place = draw(st.sampled_from(["top", "own folder", "other folder", "deep", "odd name", "odd bytes"]))
    if place == "own folder":
        name = f"{center}/{name}"
    elif place == "other folder":
        name = f"020001/{name}"
    elif place == "deep":
        name = f"{center}/old/{name}"
    elif place == "odd name":
        odd = draw(st.text(st.characters(exclude_characters="/\x00"), min_size=1, max_size=60))
        name = odd + "." + kind
    elif place == "odd bytes":
        raw = draw(st.binary(min_size=1, max_size=40).filter(lambda value: b"/" not in value and b"\x00" not in value))
        name = os.fsdecode(raw + b"." + kind.encode())
    return name, content


def _members(workbook: bytes) -> list[str]:
    return [info.filename for info in zipfile.ZipFile(io.BytesIO(workbook)).infolist()]


def _with_member_replaced(workbook: bytes, member: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == member else source.read(info.filename))
    return buffer.getvalue()


def _usable(name: str) -> bool:
    """A name this file system takes as one file, that the run is meant to look at (not hidden, not a lock file)."""
    parts = name.split("/")
    return all(
        part and part not in (".", "..") and not part.startswith((".", "~$")) and len(os.fsencode(part)) <= 255
        for part in parts
    )


@dataclass(frozen=True)
class Input:
    path: Path
    content: bytes


def write_inbox(inbox: Path, mutated: list[tuple[str, bytes]]) -> dict[str, Input]:
    """Every input by the name the run shows it under (relative to the inbox)."""
    inputs: dict[str, Input] = {}
    for name, (kind, encoding, rows) in VALID.items():
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(workbook_bytes(rows) if kind == "xlsx" else csv_bytes(rows, encoding))
        inputs[name] = Input(path, path.read_bytes())
    for name, content in mutated:
        path = inbox / name
        shown = display_name(Path(name))
        if not _usable(name) or shown in inputs or path.parent.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        inputs[shown] = Input(path, content)
    return inputs


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # each run draws afresh; a failure prints its example
    # Without shrinking: an example costs a whole run (about 2 s), and shrinking one took minutes.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(st.lists(mutated_files(), min_size=1, max_size=5))
def test_a_run_completes_and_every_file_is_in_exactly_one_place(mutated: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory(prefix="hikikomori-fuzz-") as root:
        workspace = make_settings(Path(root))
        workspace.inbox_dir.mkdir(parents=True)
        inputs = write_inbox(workspace.inbox_dir, mutated)

        outcomes = run_steps(workspace)  # completes: nothing a file holds stops it

        by_name = {outcome.file_name: outcome for outcome in outcomes}
        assert len(by_name) == len(outcomes) and set(by_name) == set(inputs)  # each input once
        archive, quarantine = workspace.archive_dir.resolve(), workspace.quarantine_dir.resolve()
        for name, item in inputs.items():
            outcome = by_name[name]
            if outcome.outcome in ("accepted", "duplicate", "rejected"):
                assert not os.path.lexists(item.path), name
                stored = outcome.stored_path.resolve()
                assert stored.parent.is_relative_to(archive if outcome.outcome != "rejected" else quarantine)
                if not stored.name.endswith(".symlink"):
                    assert stored.read_bytes() == item.content, name
            else:  # left where it was, with the reason
                assert outcome.outcome == "deferred" and outcome.reason is not None, (name, outcome)
                assert item.path.read_bytes() == item.content
        assert {name: by_name[name].outcome for name in VALID} == dict.fromkeys(VALID, "accepted")
        loaded = query(
            workspace.warehouse_path,
            "select distinct received.file_name from raw.submission_rows as rows "
            "join raw.received_files as received using (receipt_id)",
        )
        assert set(VALID) <= set(loaded.file_name)
        summary = format_run_summary(pipeline.summarize(workspace, "test-run", outcomes))
        assert all(printable(line) == line for line in summary.split("\n"))  # no raw control character
