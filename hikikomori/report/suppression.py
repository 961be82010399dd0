"""Small-cell suppression for published per-center tables.

Counts of 1–2 could identify people, so they are shown as ``x`` (primary suppression). Row and
column totals are published unchanged, so more cells are hidden (secondary suppression) until no
hidden cell can be worked out from them:

- every row and column holds either no hidden cell or at least two;
- in the graph whose nodes are rows and columns and whose edges are the hidden cells, no edge is a
  bridge (a hidden cell on no cycle is the difference of two known sums).

Secondary cells are the smallest positive counts available. Zeros can still pin a cell (a row
whose hidden cells must sum to 0), so a final check solves, for every hidden cell, the least and
greatest value that fits the published totals with counts >= 0 (a linear programme; the bounds of a
two-way table are whole numbers) and hides more until every range holds at least two values.
"""

from collections import deque

import numpy as np
from scipy.optimize import linprog

SMALL_COUNTS = (1, 2)


class SuppressionImpossible(ValueError):
    """The table is too small to hide a cell from its totals (e.g. a single row)."""


def suppression_mask(values: np.ndarray, *, row_totals: bool = True) -> np.ndarray:
    """Which cells to hide. ``row_totals=False`` when only the column totals are published."""
    counts = np.asarray(values, dtype=np.int64)
    mask = np.isin(counts, SMALL_COUNTS)
    # Each pass hides more cells where a hidden one could be worked out; stop when a pass hides none.
    changed = True
    while changed:
        changed = (
            _protect_lines(counts, mask, row_totals)
            or (row_totals and _protect_bridges(counts, mask))
            or _protect_pinned(counts, mask, row_totals)
        )
    return mask


def hidden_value_ranges(counts: np.ndarray, mask: np.ndarray, *, row_totals: bool = True) -> list[tuple[int, int]]:
    """For each hidden cell (row-major order), the least and greatest value the published figures allow."""
    hidden = list(zip(*np.nonzero(mask), strict=True))
    equations, targets = [], []
    lines = [(1, column) for column in range(counts.shape[1])] + (
        [(0, row) for row in range(counts.shape[0])] if row_totals else []
    )
    for axis, index in lines:
        members = [float(cell[axis] == index) for cell in hidden]
        if any(members):
            equations.append(members)
            line_mask = mask[:, index] if axis == 1 else mask[index]
            line = counts[:, index] if axis == 1 else counts[index]
            targets.append(float(line[line_mask].sum()))  # the published total minus the visible cells
    ranges = []
    for position in range(len(hidden)):
        objective = np.zeros(len(hidden))
        objective[position] = 1.0
        low = linprog(objective, A_eq=equations, b_eq=targets, bounds=(0, None)).fun
        high = -linprog(-objective, A_eq=equations, b_eq=targets, bounds=(0, None)).fun
        ranges.append((round(low), round(high)))
    return ranges


def _protect_pinned(counts: np.ndarray, mask: np.ndarray, row_totals: bool) -> bool:
    """Hide one more cell beside the first hidden cell whose value the totals pin down."""
    hidden = list(zip(*np.nonzero(mask), strict=True))
    for (row, column), (low, high) in zip(
        hidden, hidden_value_ranges(counts, mask, row_totals=row_totals), strict=True
    ):
        if low < high:
            continue
        beside = [(row, other) for other in range(counts.shape[1]) if row_totals and not mask[row, other]]
        beside += [(other, column) for other in range(counts.shape[0]) if not mask[other, column]]
        anywhere = [(r, c) for r in range(counts.shape[0]) for c in range(counts.shape[1]) if not mask[r, c]]
        mask[_cheapest(counts, beside or anywhere)] = True
        return True
    return False


def _protect_lines(counts: np.ndarray, mask: np.ndarray, row_totals: bool) -> bool:
    """Hide one more cell in the first column (or row) that hides exactly one; False when none does."""
    for column in range(counts.shape[1]):
        if mask[:, column].sum() == 1:
            mask[_cheapest(counts, [(row, column) for row in range(counts.shape[0]) if not mask[row, column]])] = True
            return True
    if row_totals:
        for row in range(counts.shape[0]):
            if mask[row].sum() == 1:
                cells = [(row, column) for column in range(counts.shape[1]) if not mask[row, column]]
                mask[_cheapest(counts, cells)] = True
                return True
    return False


def _protect_bridges(counts: np.ndarray, mask: np.ndarray) -> bool:
    """Put the first hidden cell that lies on no cycle onto one; False when every hidden cell is on a cycle."""
    hidden = [(int(row), int(column)) for row, column in zip(*np.nonzero(mask), strict=True)]
    for row, column in hidden:
        rows_side, columns_side = _reachable(hidden, ("row", row), skip=(row, column))
        if column in columns_side:
            continue  # the cell is on a cycle
        # Any hidden cell joining the row's side to the column's side closes a cycle through this one.
        crossing = [
            (other_row, other_column)
            for other_row in range(counts.shape[0])
            for other_column in range(counts.shape[1])
            if not mask[other_row, other_column] and ((other_row in rows_side) != (other_column in columns_side))
        ]
        mask[_cheapest(counts, crossing)] = True
        return True
    return False


def _reachable(
    hidden: list[tuple[int, int]], start: tuple[str, int], skip: tuple[int, int]
) -> tuple[set[int], set[int]]:
    """Rows and columns connected to ``start`` through hidden cells other than ``skip``."""
    rows: set[int] = set()
    columns: set[int] = set()
    queue = deque([start])
    while queue:
        kind, index = queue.popleft()
        seen = rows if kind == "row" else columns
        if index in seen:
            continue
        seen.add(index)
        for cell in hidden:
            if cell == skip:
                continue
            if kind == "row" and cell[0] == index:
                queue.append(("column", cell[1]))
            elif kind == "column" and cell[1] == index:
                queue.append(("row", cell[0]))
    return rows, columns


def _cheapest(counts: np.ndarray, cells: list[tuple[int, int]]) -> tuple[int, int]:
    """The smallest positive count among the cells (a zero only when nothing else is left)."""
    if not cells:
        raise SuppressionImpossible("表が小さすぎて秘匿できません / the table is too small to protect a hidden cell")
    return min(cells, key=lambda cell: (counts[cell] == 0, counts[cell]))
