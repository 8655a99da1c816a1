"""JSON that people can read: indented structure, but any value that fits on a short line kept on one.

Rendered bottom-up in one pass: each value is encoded once, and a container is joined from its children's
text. (Encoding every subtree again at every level was quadratic in the depth and took minutes on a
`check` report with a hundred thousand violations.) A container with a child that had to be broken over
lines is itself broken: its one-line form would be longer than the child's by its brackets at least.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

INLINE_WIDTH = 110
_SEPARATORS = (", ", ": ")


def dumps(value: Any, indent: int = 2, level: int = 0) -> str:
    return _render(value, indent, level)[0]


def _scalar(value: Any) -> str:
    """What `json.dumps` prints for a leaf, without its per-call set-up for the common types."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value, separators=_SEPARATORS)


def _render(value: Any, indent: int, level: int) -> tuple[str, bool]:
    """(text, whether the text is the one-line form)."""
    kind = type(value)
    if kind is dict and value and all(type(k) is str for k in value):
        keys = [encode_basestring_ascii(k) for k in value]
        children = [_render(v, indent, level + 1) for v in value.values()]
        if all(flat for _, flat in children):
            line = "{" + ", ".join(f"{k}: {text}" for k, (text, _) in zip(keys, children, strict=True)) + "}"
            if len(line) + indent * level <= INLINE_WIDTH:
                return line, True
        pad, inner = " " * (indent * level), " " * (indent * (level + 1))
        body = ",\n".join(f"{inner}{k}: {text}" for k, (text, _) in zip(keys, children, strict=True))
        return "{\n" + body + f"\n{pad}}}", False
    if kind is list and value:
        children = [_render(v, indent, level + 1) for v in value]
        if all(flat for _, flat in children):
            line = "[" + ", ".join(text for text, _ in children) + "]"
            if len(line) + indent * level <= INLINE_WIDTH:
                return line, True
        pad, inner = " " * (indent * level), " " * (indent * (level + 1))
        return "[\n" + ",\n".join(f"{inner}{text}" for text, _ in children) + f"\n{pad}]", False
    if isinstance(value, (dict, list)) and value:  # subclasses, non-string keys: the general encoder
        return _render_general(value, indent, level)
    return _scalar(value), True


def _render_general(value: Any, indent: int, level: int) -> tuple[str, bool]:
    compact = json.dumps(value, separators=_SEPARATORS)
    if len(compact) + indent * level <= INLINE_WIDTH:
        return compact, True
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {_render(v, indent, level + 1)[0]}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}", False
    return "[\n" + ",\n".join(f"{inner}{_render(v, indent, level + 1)[0]}" for v in value) + f"\n{pad}]", False
