"""What a run agrees to read: the limits every submission file is checked against before it is read whole."""

from dataclasses import dataclass

# The largest per-item maximum a setting may choose. The marts sum at most 24 items per center and year
# (one row per category, each once) as BIGINT: 24 × 10^12 per center leaves room for 384,000 centers
# before a national sum could pass 2^63 - 1, so no sum the warehouse computes can overflow.
MAX_COUNT_CEILING = 10**12


@dataclass(frozen=True)
class InputLimits:
    """What a run agrees to read: a file beyond a limit is quarantined without being read whole."""

    max_file_bytes: int = 5 * 1024 * 1024  # a full submission is about 1 KB
    max_rows: int = 1_000  # filled rows (entirely empty ones are ignored); a full submission has at most 25
    max_xlsx_uncompressed_bytes: int = 20 * 1024 * 1024  # what a workbook may unpack to (zip bombs)
    # The largest count one item may have: far above any center's yearly figures (90,794 national
    # consultations in FY2016), far below what a sum can overflow. A larger count is count_too_large.
    max_count: int = 1_000_000_000
    # A file changed this recently (by the local clock: its inode change time, which no copy can carry
    # over from the sender) may still be being written: it waits in the inbox. 0 (the default) turns the
    # wait off: a file is taken when its size and times are unchanged across the read; writers that
    # cannot write atomically name the file *.part until it is complete.
    settle_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.max_count <= MAX_COUNT_CEILING:
            raise ValueError(f"max_count must be between 1 and {MAX_COUNT_CEILING:,}, not {self.max_count:,}")
