"""Self-contained HTML for the notebook displays: escaped text, inline styles, no scripts, no network."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

MAX_ROWS = 50  # rows of a table shown inline; the rest are counted in a "... N more" line

_TABLE = "border-collapse:collapse;font-size:12px;margin:4px 0"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"
_HEAD = _CELL + ";background:#f2f2f2"
VERDICT_COLORS = {True: "#1a7f37", False: "#cf222e"}


def text(value: object) -> str:
    return escape(str(value))


def verdict(allowed: bool, label: str | None = None) -> str:
    word = label or ("ALLOWED" if allowed else "DENIED")
    return f'<b style="color:{VERDICT_COLORS[allowed]}">{escape(word)}</b>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], total: int | None = None) -> str:
    """Rows are HTML already (escape with `text`); only the first MAX_ROWS are shown."""
    shown = []
    count = 0
    for row in rows:
        count += 1
        if len(shown) < MAX_ROWS:
            shown.append("<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>")
    total = count if total is None else total
    head = "<tr>" + "".join(f'<th style="{_HEAD}">{escape(h)}</th>' for h in headers) + "</tr>"
    more = f"<div><i>... {total - len(shown)} more</i></div>" if total > len(shown) else ""
    return f'<table style="{_TABLE}">{head}{"".join(shown)}</table>{more}'


def section(title: str, body: str) -> str:
    return f'<div style="margin:6px 0"><div style="font-weight:bold">{escape(title)}</div>{body}</div>'


def card(title: str, summary: str, body: str = "") -> str:
    """The frame of every result: a bold title line, an escaped summary, then the body."""
    return (
        '<div style="font-family:sans-serif;font-size:13px">'
        f'<div style="font-size:14px"><b>{escape(title)}</b> {summary}</div>{body}</div>'
    )


def png_image(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{escape(alt)}" style="max-width:100%" src="data:image/png;base64,{encoded}"/>'
