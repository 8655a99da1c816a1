"""JSON that people can read: indented structure, but any value that fits on a short line kept on one."""

from __future__ import annotations

import json
from typing import Any

INLINE_WIDTH = 110


def dumps(value: Any, indent: int = 2, level: int = 0) -> str:
    compact = json.dumps(value, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or len(compact) + indent * level <= INLINE_WIDTH:
        return compact
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    return "[\n" + ",\n".join(f"{inner}{dumps(v, indent, level + 1)}" for v in value) + f"\n{pad}]"
