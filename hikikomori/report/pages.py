"""The report's HTML pages: self-contained (inline styles, no scripts, nothing loaded from anywhere),
so they open the same on a closed network and send nothing when opened on a networked one."""

import html

STYLE = """
body { font-family: "IPAexGothic", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif; margin: 2em; color: #222; }
h1 { border-bottom: 3px solid #1f4e79; padding-bottom: .3em; }
h2 { color: #1f4e79; margin-top: 2em; }
h3 { color: #1f4e79; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 7px; vertical-align: top; }
th { background: #e8eef6; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr > td:first-child, tr > td:nth-child(2) { white-space: nowrap; }
.note, .meta { color: #555; font-size: 12px; max-width: 60em; }
.pass { color: #1a7f37; } .fail { color: #c62828; font-weight: bold; } .error { color: #b26a00; font-weight: bold; }
code { font-size: 12px; }
img { max-width: 100%; }
"""


def html_document(title: str, body: str) -> str:
    """A whole page: Japanese, UTF-8, the shared inline style, ``body`` as given (already escaped)."""
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
