"""Manifests in the plain block style, read line by line without libyaml's event stream.

Almost every manifest is written the way `kubectl` and generators write it: block mappings and lists, one
`key: value` or `- item` per line, single-line scalars, `{}` and `[]`, comments. libyaml costs about a
microsecond per event before any Python object exists; reading such text by lines takes less than half
the time (0.13 s instead of 0.28 s for the 800-workload benchmark's 51,000 lines).

The reader accepts only text whose meaning in that subset is certain, and returns None for anything else
(flow collections other than `{}` and `[]`, block scalars, anchors, tags, multi-line scalars, backslash
escapes, tabs, non-ASCII, a key without a value, ...): the caller then reads the whole text with
`yamltree.StreamBuilder`, which stays the definition. What it returns is what StreamBuilder builds for the
same text: the same data (plain scalars go through the same resolver), the same positions, the same first
and last lines; a property test holds it to that on generated and on mutated documents.
"""

from __future__ import annotations

import re
from typing import Any

from netverify.load.documents import Path
from netverify.load.yamltree import MAX_DEPTH, MAX_NODES, Built, PlainScalars

#: Anything outside printable ASCII and newlines (tabs, CR, control characters, BOM, UTF-8 text).
_OUTSIDE = re.compile(r"[^\n -~]")
#: One line: its indentation, a list dash with its spaces, a `key:` (a plain key of the usual characters, or
#: a quoted one without escapes, followed by spaces or the end of the line: a colon followed by anything
#: else belongs to a scalar, as in `a:b` or `http://`), and the rest.
_LINE = re.compile(r"""^( *)(- +)?(?:([A-Za-z0-9_][\w./-]*|"[^"\\\n]*"|'[^'\n]*'):(?: +|$))?(.*)$""", re.M)
#: Lines that begin or end a document, or carry a directive (only a bare `---` is in the subset).
_MARKER = re.compile(r"^(?:---|\.\.\.|%).*$", re.M)
_DOUBLE = re.compile(r'"([^"\\]*)"(?: +#.*| *)$')
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: +#.*| *)$")  # `''` is a quote inside single quotes
_EMPTY_FLOW = re.compile(r"(\{\}|\[\])(?: +#.*| *)$")
#: What a one-line plain scalar may not contain (a colon that would make it a key; flow brackets and commas
#: are ordinary characters past the first in block context, as in Calico's `role in {'a', 'b'}`) and may not
#: start with (YAML indicators; `-` only as in `-1` or `--x`).
_NOT_INSIDE = re.compile(r": |:$")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_MISSING: Any = object()


class _Declined(Exception):
    """The text leaves the subset; StreamBuilder reads it."""


def read_block_documents(text: str) -> list[Built] | None:
    """Every document of `text` as StreamBuilder builds it, or None when the text leaves the subset."""
    if _OUTSIDE.search(text):
        return None
    try:
        return _Reader().documents(text)
    except _Declined:
        return None


class _Reader:
    """One stream's reading; scalar values are remembered by the text written, since manifests repeat the
    same few thousand of them."""

    def __init__(self) -> None:
        self.plain = PlainScalars()
        self.values: dict[str, Any] = {}

    def documents(self, text: str) -> list[Built]:
        total = text.count("\n") + 1
        cuts = []  # each `---`: its line, where it starts, where it ends
        line = offset = 0
        for marker in _MARKER.finditer(text):
            if marker.group() != "---":
                raise _Declined
            line += text.count("\n", offset, marker.start())
            offset = marker.start()
            cuts.append((line, marker.start(), marker.end()))
        built: list[Built] = []
        start_line = start_char = 0
        for segment, (end_line, end_char, after) in enumerate([*cuts, (total, len(text), len(text))]):
            # one document's lines at a time: a large file's line table never exists whole
            lines = _LINE.findall(text, start_char, end_char)
            if len(lines) != text.count("\n", start_char, end_char) + 1 and start_char <= end_char:
                raise _Declined  # pragma: no cover - one match per line is what the pattern is for
            document = self._document(lines, start_line)
            if document is not None:
                built.append(document)
            elif segment:  # `---` with nothing after it before the next `---` or the end
                if end_line == total and not text.endswith("\n"):
                    raise _Declined  # the stream ends on that `---` line itself
                built.append(_empty_document(min(end_line, total - 1)))
            start_line, start_char = end_line + 1, after + 1
        return built

    def _document(self, lines: list[tuple[str, str, str, str]], base: int) -> Built | None:
        """One document's lines (the first is line `base` of the stream, 0-based), or None when they hold
        nothing but comments and blanks."""
        if len(lines) > MAX_NODES // 3:  # a line is at most three nodes (`- key: value`)
            raise _Declined
        values = self.values
        positions: dict[Path, tuple[int, int]] = {}
        root: dict[str, Any] | None = None
        stack: list[tuple[int, Any, Path, bool]] = []  # the open blocks around the current one
        indent_now, current, path_now, in_map = 0, None, (), True  # the current block
        pending: tuple[str, Path, tuple[int, int]] | None = None  # `key:` waiting for its block
        first = last = base
        for index, (spaces, dash, key, rest) in enumerate(lines, base):
            if not dash and not key:
                if not rest or rest[0] == "#":
                    continue
                raise _Declined  # neither `key:` nor `- `: a continued scalar, a flow collection, ...
            indent = len(spaces)
            last = index
            if root is None:
                if dash:
                    raise _Declined  # a list at the root: not a manifest
                root = current = {}
                indent_now, first, root_indent = indent, index, indent
            elif pending is not None:
                if indent > indent_now or (indent == indent_now and dash):
                    block: Any = [] if dash else {}
                    pending_key, pending_path, pending_pos = pending
                    current[pending_key] = block
                    positions[pending_path] = pending_pos
                    stack.append((indent_now, current, path_now, in_map))
                    if len(stack) >= MAX_DEPTH:
                        raise _Declined
                    indent_now, current, path_now, in_map = indent, block, pending_path, not dash
                    pending = None
                else:
                    raise _Declined  # `key:` with no value: a null, left to libyaml
            elif indent != indent_now:
                while indent < indent_now and stack:
                    indent_now, current, path_now, in_map = stack.pop()
                if indent != indent_now:
                    raise _Declined  # deeper than a finished entry (a continued scalar), or between blocks
            if not in_map and not dash:  # the end of a list written at its key's indent (a list's parent
                indent_now, current, path_now, in_map = stack.pop()  # is always a mapping here)
                if indent != indent_now:
                    raise _Declined
            if dash:
                if in_map:
                    raise _Declined
                column = indent + len(dash)
                item_path = path_now + (len(current),)
                positions[item_path] = (index + 1, column + 1)
                if not key:  # a scalar item
                    if not rest or rest[0] == "#":
                        raise _Declined  # an empty item: a null (`- - x`, a list in a list, fails as a value)
                    value = values.get(rest, _MISSING)
                    current.append(self._value(rest) if value is _MISSING else value)
                    continue
                mapping: dict[str, Any] = {}
                current.append(mapping)
                stack.append((indent_now, current, path_now, in_map))
                if len(stack) >= MAX_DEPTH:
                    raise _Declined
                indent_now, current, path_now, in_map = column, mapping, item_path, True
                indent = column
            if key[0] == '"' or key[0] == "'":
                key = key[1:-1]
            path = path_now + (key,)
            if not rest or rest[0] == "#":
                pending = (key, path, (index + 1, indent + 1))
                continue
            positions[path] = (index + 1, indent + 1)
            value = values.get(rest, _MISSING)
            current[key] = self._value(rest) if value is _MISSING else value
        if root is None:
            return None
        if pending is not None:
            raise _Declined
        positions[()] = (first + 1, root_indent + 1)
        return Built(root, positions, first, last, {})

    def _value(self, text: str) -> Any:
        """A value written on one line: a quoted or plain scalar, `{}` or `[]`. Scalars are remembered by
        the text written (comment included), collections are new each time."""
        first = text[0]
        if first == "{" or first == "[":
            if _EMPTY_FLOW.match(text) is None:
                raise _Declined
            return {} if first == "{" else []
        if first == '"' or first == "'":
            quoted = (_DOUBLE if first == '"' else _SINGLE).match(text)
            if quoted is None:
                raise _Declined
            value = quoted.group(1) if first == '"' else quoted.group(1).replace("''", "'")
        else:
            if first in _INDICATORS and (first != "-" or len(text) < 2 or text[1] == " "):
                raise _Declined
            comment = text.find(" #")
            written = (text if comment < 0 else text[:comment]).rstrip(" ")
            if _NOT_INSIDE.search(written):
                raise _Declined
            value = self.plain(written)
        self.values[text] = value
        return value


def _empty_document(line: int) -> Built:
    """libyaml's empty document: a null placed where the next token begins (the next `---`, or the end of
    a stream that ends with a newline: both at the start of `line`)."""
    return Built(None, {(): (line + 1, 1)}, line, max(line - 1, 0), {})
