"""Normalising what people type in Excel (full-width characters, stray spaces), and showing it safely.

Two normalisations, for two purposes:

- ``normalize_text`` (NFKC) for labels matched against a closed list (``（`` reads as ``(``).
- ``normalize_width`` for numbers and codes: only the full-width forms of ASCII (``１３２３``,
  ``Ｈ２８``) and the ideographic space become ASCII. NFKC would also turn ``15¹`` into ``151``
  and ``①`` into ``1``; those stay as typed, and a check on ASCII digits refuses them.

``printable`` is the one helper for text from a file (a cell, a file name) on its way to a
terminal, a log or a report: control characters are shown escaped, never sent.
"""

import json
import unicodedata

# The full-width forms of ASCII (U+FF01-U+FF5E) and the ideographic space, as Japanese IMEs type them.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: ord(" ")}
# Unicode categories that move the cursor, change colours, reorder text or end a line in a terminal:
# Cc (C0 and C1 controls, DEL), Cf (format: bidi overrides, zero-width), Zl/Zp (line and paragraph
# separators), Cs (lone surrogates: bytes of a file name that are not UTF-8).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_SURROGATE_ESCAPES = range(0xDC80, 0xDD00)  # os.fsdecode's surrogateescape: byte b ↦ U+DC00 + b
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def normalize_text(value: str) -> str:
    """NFKC-normalise and strip, so ``１３２３`` reads as ``1323`` and ``（`` as ``(``: for labels only."""
    return unicodedata.normalize("NFKC", value).strip()


def display_width(text: str) -> int:
    """Columns a terminal or a spreadsheet gives the text: full-width (Japanese) characters take two."""
    return sum(2 if unicodedata.east_asian_width(character) in "FW" else 1 for character in text)


def normalize_width(value: str) -> str:
    """Full-width ASCII forms and ideographic spaces as ASCII, stripped; every other character as typed."""
    return value.translate(_WIDTH).strip()


def printable(value: object) -> str:
    """Text safe for a terminal, log or report: each control or format character shown as an escape.

    ``\\x1b]0;…`` stays visible as text instead of retitling the terminal; a newline in a file name
    cannot forge a line of a summary. Bytes of a name that are not UTF-8 show as ``\\xff``.
    """
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to escape (spaces are printable, tabs are not)
        return text
    return "".join(_escaped(character) for character in text)


def printable_json(value: object, *, indent: int | None = None) -> str:
    """``json.dumps`` (Japanese kept as it is) with each character ``printable`` would escape written as a
    JSON ``\\uXXXX`` escape: the same data for a program, nothing a terminal acts on for a person."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if text.replace(
        "\n", ""
    ).isprintable():  # the common case: no character to escape (every unsafe one is unprintable)
        return text
    return "".join(
        _json_escaped(character) if character != "\n" and _unsafe(character) else character for character in text
    )


def _unsafe(character: str) -> bool:
    return unicodedata.category(character) in _UNSAFE_CATEGORIES


def _json_escaped(character: str) -> str:
    data = character.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{data[index : index + 2].hex()}" for index in range(0, len(data), 2))


def _escaped(character: str) -> str:
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if code in _SURROGATE_ESCAPES:
        return f"\\x{code - 0xDC00:02x}"
    if unicodedata.category(character) not in _UNSAFE_CATEGORIES:
        return character
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
