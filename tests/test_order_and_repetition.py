"""Property: any order and any repetition of the same set of files gives identical marts."""

import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import detailed_referrals, make_settings, query, run_steps, summary_referrals, write_submission

from hikikomori.settings import Settings

# (center, fiscal year, consultations, referrals, accepted?): three valid files and a broken one.
FILES = (
    ("130001", 2015, 100, summary_referrals(npo=4, other=2), True),
    ("270008", 2015, 50, summary_referrals(hello_work=1), True),
    ("130001", 2016, 120, detailed_referrals(school=3, company=1), True),
    ("010006", 2015, -5, summary_referrals(), False),  # a negative count: rejected every time
)


def write_file(settings: Settings, index: int, mtime: int) -> None:
    center, year, consultations, referrals, valid = FILES[index]
    path = write_submission(settings.inbox_dir, center, year, abs(consultations), referrals)
    if not valid:
        path.write_text(path.read_text(encoding="utf-8").replace(f",{abs(consultations)}\n", f",{consultations}\n"))
    os.utime(path, (mtime, mtime))


def marts(settings: Settings) -> dict[str, pd.DataFrame]:
    tables = query(settings.warehouse_path, "select table_name from duckdb_tables() where schema_name = 'marts'")
    return {
        table: query(settings.warehouse_path, f"select * from marts.{table} order by all").drop(
            columns=["received_at", "first_submitted_at"], errors="ignore"
        )
        for table in sorted(tables.table_name)  # names listed by DuckDB itself
    }


def run_batches(settings: Settings, batches: list[list[int]]) -> dict[str, pd.DataFrame]:
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    for number, batch in enumerate(batches):
        for position, index in enumerate(batch):
            write_file(settings, index, 1_700_000_000 + 100 * number + position)
        run_steps(settings, run_id=f"run-{number}")
    return marts(settings)


@st.composite
def orders_with_repeats(draw: st.DrawFn) -> list[list[int]]:
    """Every file at least once, in any order, some again, split into runs (a run holds a name once)."""
    sequence = draw(st.permutations(range(len(FILES)))) + draw(st.lists(st.sampled_from(range(len(FILES))), max_size=3))
    cuts = draw(st.lists(st.integers(1, len(sequence) - 1), max_size=2, unique=True))
    batches: list[list[int]] = []
    for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(sequence)], strict=True):
        batches.append([])
        for index in sequence[start:end]:
            if index in batches[-1]:
                batches.append([])
            batches[-1].append(index)
    return [batch for batch in batches if batch]


@pytest.fixture(scope="module")
def reference_marts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return run_batches(make_settings(tmp_path_factory.mktemp("reference")), [list(range(len(FILES)))])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=orders_with_repeats())
def test_any_order_and_repetition_gives_the_same_marts(
    tmp_path_factory: pytest.TempPathFactory, reference_marts: dict[str, pd.DataFrame], batches: list[list[int]]
) -> None:
    actual = run_batches(make_settings(tmp_path_factory.mktemp("order")), batches)
    assert actual.keys() == reference_marts.keys()
    for name, frame in reference_marts.items():
        pd.testing.assert_frame_equal(actual[name], frame, obj=name)
