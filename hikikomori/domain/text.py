"""Normalising what people type in Excel: full-width characters, stray spaces."""

import unicodedata


def normalize_text(value: str) -> str:
    """NFKC-normalise and strip, so ``１３２３`` reads as ``1323`` and ``（`` as ``(``."""
    return unicodedata.normalize("NFKC", value).strip()
