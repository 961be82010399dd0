"""The report's tables as values, before they become HTML or a workbook.

A cell is a number (``int``: a count, ``float``: a figure shown to one decimal), a ``Share`` (a
percentage), text, or None (no figure). Each output decides how to show it: the HTML writes
``1,193`` and ``19.5%``; the workbook stores the number itself with the matching number format.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    """A share of a total as a percentage (0–100, unrounded), shown to one decimal as the paper prints it."""

    percent: float

    @property
    def fraction(self) -> float:
        """What a spreadsheet stores under the ``0.0%`` format (19.5% is 0.195)."""
        return self.percent / 100

    def __str__(self) -> str:
        return f"{self.percent:.1f}%"


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[object]]
    note: str = ""
    frozen_columns: int = 1  # columns kept in view when scrolling across (the year, and 件数/率 in share tables)
    paired_rows: bool = False  # rows come in pairs (件数 and 率 of one year): the year's cell spans both
