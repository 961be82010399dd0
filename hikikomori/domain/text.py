"""Normalising what people type in Excel (full-width characters, stray spaces), and how wide text shows."""

import unicodedata


def normalize_text(value: str) -> str:
    """NFKC-normalise and strip, so ``１３２３`` reads as ``1323`` and ``（`` as ``(``."""
    return unicodedata.normalize("NFKC", value).strip()


def display_width(text: str) -> int:
    """Columns a terminal or a spreadsheet gives the text: full-width (Japanese) characters take two."""
    return sum(2 if unicodedata.east_asian_width(character) in "FW" else 1 for character in text)
