"""JSON that people can read: indented structure, but any value that fits on a short line kept on one.

A container is first encoded on one line by the C encoder (one reused encoder object: building one per
call, as `json.dumps` with separators does, cost more than the encoding); only when that line is too long
is it broken into its items, which are treated the same way. Leaves are written directly. So the Python
work is proportional to the containers that are broken over lines, not to every value of the document (a
`check` report with a hundred thousand violations took minutes the other way).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

INLINE_WIDTH = 110
_ONE_LINE = json.JSONEncoder(separators=(", ", ": "))


def dumps(value: Any, indent: int = 2, level: int = 0) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if value is None or value is True or value is False:
        return "null" if value is None else "true" if value else "false"
    compact = _ONE_LINE.encode(value)
    if not isinstance(value, (dict, list)) or not value or len(compact) + indent * level <= INLINE_WIDTH:
        return compact
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict):
        items = [f"{inner}{_key(k)}: {dumps(v, indent, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    return "[\n" + ",\n".join(f"{inner}{dumps(v, indent, level + 1)}" for v in value) + f"\n{pad}]"


def _key(key: Any) -> str:
    return encode_basestring_ascii(key) if type(key) is str else _ONE_LINE.encode(key)
