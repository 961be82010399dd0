"""The deadline calendar: ``fiscal_year,deadline`` (ISO dates), given to a run with ``--calendar FILE``
or ``HIKIKOMORI_CALENDAR`` (CONTRACT.md §5).

Official statistics must not change because a file was not passed again: the calendar is recorded in
the warehouse when given (``raw.deadline_calendar``, only the years whose deadline differs from the
one recorded last) and stays in effect for every later rebuild, with or without ``--calendar``. A
year not in any calendar keeps the default, 30 June after it ends. A closed year keeps the deadline
it had when it was closed (``int_fiscal_year_deadlines``): a later entry for it takes effect only if
the year is reopened. To go back to the default, give the default date.
"""

import csv
import io
from datetime import date
from pathlib import Path

from hikikomori.domain.fiscal_years import fiscal_year_end, parse_fiscal_year

CALENDAR_COLUMNS = ("fiscal_year", "deadline")


class CalendarError(ValueError):
    """The calendar file cannot be used; the message names the line and the value."""


def read_calendar(path: Path) -> dict[int, date]:
    """fiscal year → deadline, from a UTF-8 CSV (a BOM is allowed) with the header ``fiscal_year,deadline``."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CalendarError(f"提出期限表を読めません / cannot read the deadline calendar {path}: {error}") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = tuple(cell.strip() for cell in rows[0]) if rows else ()
    if header != CALENDAR_COLUMNS:
        raise CalendarError(
            f"提出期限表の見出しは fiscal_year,deadline です / the deadline calendar {path} needs the header "
            f"fiscal_year,deadline (found {','.join(header) or 'nothing'})"
        )
    deadlines: dict[int, date] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CALENDAR_COLUMNS):
            raise CalendarError(f"{path} line {line}: expected fiscal_year,deadline, found {','.join(row)!r}")
        year_text, deadline_text = (cell.strip() for cell in row)
        try:
            fiscal_year = parse_fiscal_year(year_text)
        except ValueError:
            raise CalendarError(f"{path} line {line}: not a fiscal year: {year_text!r}") from None
        try:
            deadline = date.fromisoformat(deadline_text)
        except ValueError:
            raise CalendarError(f"{path} line {line}: not an ISO date (YYYY-MM-DD): {deadline_text!r}") from None
        if deadline <= fiscal_year_end(fiscal_year):
            raise CalendarError(
                f"{path} line {line}: FY{fiscal_year}'s deadline {deadline} is not after the year ends "
                f"({fiscal_year_end(fiscal_year)})"
            )
        if fiscal_year in deadlines:
            raise CalendarError(f"{path} line {line}: FY{fiscal_year} appears twice")
        deadlines[fiscal_year] = deadline
    return deadlines
