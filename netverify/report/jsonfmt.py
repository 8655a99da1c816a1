"""JSON that people can read: indented structure, but any value that fits on a short line kept on one.

A container is first encoded on one line by the C encoder (one reused encoder object: building one per
call, as `json.dumps` with separators does, cost more than the encoding); only when that line is too long
is it broken into its items, which are treated the same way. Leaves are written directly. So the Python
work is proportional to the containers that are broken over lines, not to every value of the document (a
`check` report with a hundred thousand violations took minutes the other way).
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

INLINE_WIDTH = 110
_ONE_LINE = json.JSONEncoder(separators=(", ", ": "))


def _raise_unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# `JSONEncoder.encode` builds a new C encoder on every call, which cost more than the encoding itself on a
# report's hundred thousand small containers; this one is built once. No circular-reference markers: report
# data is a tree. Without the C accelerator, the pure-Python encoder does the same job.
if c_make_encoder is not None:
    _C_ENCODER = c_make_encoder(
        None, _raise_unserializable, encode_basestring_ascii, None, ": ", ", ", False, False, True
    )

    def _encode(value: Any) -> str:
        return "".join(_C_ENCODER(value, 0))

else:  # pragma: no cover - CPython always ships _json
    _encode = _ONE_LINE.encode


class Encoded(dict):
    """A mapping that arrives with its one-line JSON text already written (`text` must be exactly what the
    encoder would print): a report of thousands of similar entries assembles each line from pieces it
    encoded once, instead of having every entry encoded whole."""

    __slots__ = ("text",)

    def __init__(self, items: dict, text: str):
        super().__init__(items)
        self.text = text


def dumps_compact(value: Any) -> str:
    """The one-line form this printer uses for a value that fits (`, ` and `: ` separators)."""
    return _encode(value)


def dumps(value: Any, indent: int = 2, level: int = 0) -> str:
    return _Printer(indent).value(value, level)


class _Printer:
    """One document's printing. Broken containers are remembered by their one-line text, so the same
    sub-report repeated across a hundred thousand violations (their `suppressions`) is laid out once."""

    def __init__(self, indent: int):
        self.indent = indent
        self.layouts: dict[tuple[str, int], str] = {}

    def value(self, value: Any, level: int) -> str:
        kind = type(value)
        if kind is str:
            return encode_basestring_ascii(value)
        if kind is dict or kind is list or kind is Encoded:
            return self.container(value, level) if value else ("[]" if kind is list else "{}")
        return _encode(value)

    def container(self, value: dict | list, level: int) -> str:
        room = INLINE_WIDTH - self.indent * level
        compact = None
        if value and _shortest(value) <= room:  # else encoding it only to measure would cost a big report's bulk
            compact = value.text if type(value) is Encoded else _encode(value)
            if len(compact) <= room:
                return compact
            known = self.layouts.get((compact, level))
            if known is not None:
                return known
        elif not value:
            return _encode(value)
        pad, inner = " " * (self.indent * level), " " * (self.indent * (level + 1))
        item = self.value
        if type(value) is not list:
            lines = [f"{inner}{_key(k)}: {item(v, level + 1)}" for k, v in value.items()]
            text = "{\n" + ",\n".join(lines) + f"\n{pad}}}"
        else:
            fits = room - self.indent  # an item's room, one level deeper
            items = [
                f"{inner}{v.text}" if type(v) is Encoded and len(v.text) <= fits else f"{inner}{item(v, level + 1)}"
                for v in value
            ]
            text = "[\n" + ",\n".join(items) + f"\n{pad}]"
        if compact is not None and len(compact) <= _REMEMBERED and len(self.layouts) < _REMEMBERED_COUNT:
            self.layouts[(compact, level)] = text
        return text


_REMEMBERED = 2_000  # one-line length up to which a broken container's layout is remembered
_REMEMBERED_COUNT = 10_000


def _shortest(value: dict | list) -> int:
    """A lower bound of the one-line length: `[1, 2]` takes 3 characters an item, `{"": 0}` seven."""
    return 3 * len(value) if type(value) is list else 7 * len(value)


def _key(key: Any) -> str:
    return encode_basestring_ascii(key) if type(key) is str else _encode(key)
