"""Small-cell suppression: no hidden cell can be worked out from the published totals."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hikikomori.report.suppression import SuppressionImpossible, hidden_value_ranges, suppression_mask


def assert_protected(values: np.ndarray, mask: np.ndarray, *, row_totals: bool = True) -> None:
    """The published figures (visible cells, totals, counts >= 0) leave every hidden cell at least two values.

    hidden_value_ranges solves a linear programme per hidden cell; a two-way table's constraint
    matrix is totally unimodular, so low < high means two whole values fit.
    """
    assert mask[np.isin(values, (1, 2))].all(), "every count of 1-2 is hidden"
    for column in range(values.shape[1]):
        assert mask[:, column].sum() != 1
    if row_totals:
        for row in range(values.shape[0]):
            assert mask[row].sum() != 1
    for low, high in hidden_value_ranges(values, mask, row_totals=row_totals):
        assert high > low, "a hidden cell is pinned down by the published totals"


small_tables = st.integers(2, 6).flatmap(
    lambda rows: st.integers(2, 5).flatmap(
        lambda columns: st.lists(
            st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 7, 12, 40]), min_size=columns, max_size=columns),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(small_tables)
def test_no_hidden_cell_can_be_recovered_from_row_and_column_totals(table: list[list[int]]) -> None:
    values = np.array(table)
    try:
        mask = suppression_mask(values)
    except SuppressionImpossible:
        assert np.count_nonzero(values > 0) <= values.shape[0] + values.shape[1], "only sparse tables are impossible"
        return
    assert_protected(values, mask)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2, 3, 9, 150]), min_size=3, max_size=12))
def test_a_single_column_hides_at_least_two_cells(column: list[int]) -> None:
    values = np.array(column).reshape(-1, 1)
    if np.count_nonzero(values > 0) < 2:
        return  # one non-zero count equals the published total: nothing can hide it
    assert_protected(values, suppression_mask(values, row_totals=False), row_totals=False)


@pytest.mark.parametrize(
    ("table", "hidden"),
    [
        # one small cell: its row and column each need a second hidden cell, closing a rectangle
        ([[1, 5, 9], [6, 7, 8], [10, 11, 12]], [[1, 1, 0], [1, 1, 0], [0, 0, 0]]),
        # no small cells: nothing hidden
        ([[3, 5], [6, 7]], [[0, 0], [0, 0]]),
    ],
)
def test_known_tables(table: list[list[int]], hidden: list[list[int]]) -> None:
    assert suppression_mask(np.array(table)).astype(int).tolist() == hidden
