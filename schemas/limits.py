"""What a run agrees to read: the limits every submission file is checked against before it is read whole."""

from dataclasses import dataclass


@dataclass(frozen=True)
class InputLimits:
    """What a run agrees to read: a file beyond a limit is quarantined without being read whole."""

    max_file_bytes: int = 5 * 1024 * 1024  # a full submission is about 1 KB
    max_rows: int = 1_000  # a full submission has at most 25 rows
    max_xlsx_uncompressed_bytes: int = 20 * 1024 * 1024  # what a workbook may unpack to (zip bombs)
    # A file modified this recently when the run looks at it may still be being written: it waits
    # in the inbox for the next run. 0 turns the check off.
    settle_seconds: float = 10.0
