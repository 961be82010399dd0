"""Values written into spreadsheets (CSV that Excel opens, .xlsx cells) shown as text, never run."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """Text that a spreadsheet will show, never run: a leading formula character is escaped."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def spreadsheet_cell(value: object) -> object:
    """A value for an .xlsx cell: numbers stay numbers, text goes through spreadsheet_safe."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return spreadsheet_safe(value)
