"""YAML text -> plain Python documents plus a side table of source positions.

We build the objects straight from libyaml's *event* stream instead of `yaml.compose_all` + a node walk:
the Cython composer recurses on the C stack and crashes the interpreter (SIGSEGV) on a few hundred
thousand nested brackets, while the event parser keeps its own heap stack, so depth can be checked as
we go. Building from events also skips the node objects, which makes it faster than `yaml.load_all`
even though every position is recorded.

Semantics follow `yaml.SafeLoader` (same resolver and scalar constructors, merge keys `<<`, an alias
shares the anchored object), except that mapping keys are always strings (the text as written: `80:`
-> "80", `on:` -> "on"), a scalar that only looks like a date (`2021-02-30`) stays a string, and
collections tagged other than !!map/!!seq are rejected. Local tags (`!Ref x`, `!GetAtt [a, b]`, as
CloudFormation writes its functions) are kept beside the data: the value is built as if untagged (a
tagged scalar stays the string written) and `Built.tags` says which paths carried which tag, so a reader
can tell a literal from an expression and everyone else can refuse them. Inside an aliased or merged value only the
value itself has a position (the alias or the `<<` key); deeper paths fall back to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from netverify.load.documents import Path

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # CSafeLoader is no SafeLoader subclass

MAX_NODES = 5_000_000
MAX_DEPTH = 1_000
_CACHE_LIMIT = 200_000  # distinct plain scalars whose resolved value we remember

_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_NO_KEY: Any = object()  # a mapping frame waiting for its next key
_MERGE: Any = object()  # the pending key is a merge key `<<`
_NO_TAGS: tuple = ()  # a value without local tags (shared, so untagged scalars allocate nothing)


class DocumentError(Exception):
    """One document cannot be built. Unless `fatal`, the next document can still be read.

    Too-deep nesting is fatal: skipping the rest of such a document means letting libyaml scan it, and
    its scanner costs O(flow depth) per token, quadratic on `[[[[...` (minutes for a 400 kB file).
    """

    def __init__(self, message: str, line: int, column: int, fatal: bool = False):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.fatal = fatal


@dataclass(slots=True)
class Built:
    """A document as built from the stream; `start_line`/`end_line` are 0-based, for `# Source:` lookup."""

    data: Any
    positions: dict[Path, tuple[int, int]]
    start_line: int
    end_line: int
    tags: dict[Path, tuple[str, tuple[int, int]]]  # local tag and its position, by path of the tagged value


@dataclass(slots=True)
class _Frame:
    container: Any
    path: Path
    is_map: bool
    anchor: str | None
    count_start: int
    start: tuple[int, int]
    key: Any = _NO_KEY
    key_pos: tuple[int, int] = (0, 0)
    merges: list[Any] | None = None
    merge_pos: tuple[int, int] = (0, 0)
    merged_into: _Frame | None = None  # set on the value of a `<<` key: merged into that frame at its end


def _is_local(tag: str) -> bool:
    """`!Ref` (local), not `!` (non-specific) nor `tag:yaml.org,2002:int` (what `!!int` resolves to)."""
    return tag.startswith("!") and tag != "!"


def _tags_under(tags: dict[Path, tuple[str, tuple[int, int]]], root: Path) -> list[tuple[Path, str, tuple[int, int]]]:
    """The local tags inside the value at `root`, by path relative to it (what an alias of it carries)."""
    depth = len(root)
    return [(path[depth:], tag, pos) for path, (tag, pos) in tags.items() if path[:depth] == root]


def _place_tags(
    tags: dict[Path, tuple[str, tuple[int, int]]], path: Path, carried: list[tuple[Path, str, tuple[int, int]]]
) -> None:
    for relative, tag, pos in carried:
        tags[path + relative] = (tag, pos)


def _mark(event: Any) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1)


class PlainScalars:
    """Untagged plain scalars resolved exactly like SafeLoader (`80` -> 80, `on` -> True, `~` -> None),
    each distinct text once: manifests repeat the same few values thousands of times."""

    def __init__(self, loader: Any = None):
        self._loader = Loader("") if loader is None else loader
        self._cache: dict[str, Any] = {}
        resolvers = self._loader.yaml_implicit_resolvers
        self._resolver_starts = None if None in resolvers else frozenset(resolvers)

    def __call__(self, value: str) -> Any:
        starts = self._resolver_starts
        if starts is not None and value[:1] not in starts:
            return value
        cache = self._cache
        try:
            return cache[value]
        except KeyError:
            pass
        loader = self._loader
        tag = loader.resolve(ScalarNode, value, (True, False))
        result: Any = value
        constructor = loader.yaml_constructors.get(tag)
        if tag != _STR_TAG and constructor is not None:
            try:
                result = constructor(loader, ScalarNode(tag, value))
            except (ValueError, OverflowError):  # e.g. `2021-02-30` matches the timestamp pattern only
                result = value
        if len(cache) < _CACHE_LIMIT:
            cache[value] = result
        return result


class StreamBuilder:
    """Builds the documents of one stream, one at a time, so a late syntax error keeps earlier documents.

    Parser errors (`yaml.MarkedYAMLError`, `yaml.reader.ReaderError`) propagate: after one, libyaml cannot
    resynchronise, so the caller keeps what was built and stops. A `DocumentError` spoils one document
    only; `documents()` skips past it.
    """

    def __init__(self, text: str):
        self._loader = Loader(text)
        self._get_event = self._loader.get_event
        self._get_event()  # StreamStartEvent
        self._plain = PlainScalars(self._loader)

    def close(self) -> None:
        self._loader.dispose()

    def documents(self) -> Iterator[Built | DocumentError]:
        """Each document of the stream, or the error that spoiled it; ends after a fatal error."""
        while True:
            try:
                built = self.next_document()
            except DocumentError as exc:
                yield exc
                if exc.fatal:
                    return
                try:
                    self.skip_document()
                except DocumentError as deeper:
                    yield deeper
                    return
                continue
            if built is None:
                return
            yield built

    def skip_document(self) -> None:
        """Consume events up to the end of the current document, still refusing too-deep nesting."""
        get_event = self._get_event
        depth = 0
        while True:
            event = get_event()
            cls = type(event)
            if cls is DocumentEndEvent:
                return
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(event)
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                depth -= 1

    def _tagged(self, event: Any) -> Any:
        """An explicitly tagged scalar (`!!int "80"`): go through the standard constructor."""
        loader = self._loader
        node = ScalarNode(event.tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            message = f"invalid YAML: {exc.problem} (expected plain YAML without custom tags)"
            raise DocumentError(message, *_mark(event)) from None
        except (ValueError, TypeError, OverflowError) as exc:  # `!!int abc`
            message = f"invalid YAML: cannot read {event.value!r} as {event.tag}: {exc}"
            raise DocumentError(message, *_mark(event)) from None
        finally:
            loader.constructed_objects.clear()

    def next_document(self) -> Built | None:
        get_event = self._get_event
        event = get_event()
        if type(event) is StreamEndEvent:
            return None
        plain = self._plain
        positions: dict[Path, tuple[int, int]] = {}
        tags: dict[Path, tuple[str, tuple[int, int]]] = {}
        carried: Any = _NO_TAGS  # local tags of the value being placed: [(relative path, tag, position)]
        anchor_tags: dict[str, list[tuple[Path, str, tuple[int, int]]]] = {}  # an alias carries its anchor's
        anchors: dict[str, tuple[Any, int]] = {}
        stack: list[_Frame] = []
        count = 0
        root: Any = None
        root_pos = (0, 0)
        last = event
        while True:
            event = get_event()
            cls = type(event)
            if cls is ScalarEvent:
                count += 1
                tag = event.tag
                carried = _NO_TAGS
                if tag is None or tag == "!":
                    value = plain(event.value) if event.implicit[0] else event.value
                elif _is_local(tag):
                    value, carried = event.value, [((), tag, _mark(event))]
                else:
                    value = self._tagged(event)
                last = event
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                    anchor_tags[event.anchor] = carried
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                count += 1
                if event.tag not in _PLAIN_COLLECTION_TAGS and not _is_local(event.tag):
                    raise DocumentError(
                        f"invalid YAML: unsupported tag {event.tag!r} (expected a plain mapping or list)",
                        *_mark(event),
                    )
                if len(stack) >= MAX_DEPTH:
                    raise _too_deep(event)
                if count > MAX_NODES:
                    raise DocumentError(_too_big(), *_mark(event))
                last = event
                pos = _mark(event)
                container: Any = {} if cls is MappingStartEvent else []
                frame = _Frame(container, (), cls is MappingStartEvent, event.anchor, count, pos)
                if stack:
                    top = stack[-1]
                    if top.is_map:
                        if top.key is _NO_KEY:
                            raise DocumentError(
                                "invalid YAML: a mapping key must be a plain value (expected key: value)",
                                *pos,
                            )
                        if top.key is _MERGE:
                            frame.path = top.path + ("<<",)
                            frame.merged_into = top
                        else:
                            frame.path = top.path + (top.key,)
                            positions[frame.path] = top.key_pos
                            top.container[top.key] = container
                        top.key = _NO_KEY
                    else:
                        frame.path = top.path + (len(top.container),)
                        positions[frame.path] = pos
                        top.container.append(container)
                else:
                    root, root_pos = container, pos
                if event.tag is not None and _is_local(event.tag):
                    tags[frame.path] = (event.tag, pos)
                stack.append(frame)
                continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = stack.pop()
                if frame.merges is not None:
                    _apply_merges(frame, positions)
                value = frame.container
                if frame.anchor is not None:
                    anchors[frame.anchor] = (value, count - frame.count_start + 1)
                    if tags:
                        anchor_tags[frame.anchor] = _tags_under(tags, frame.path)
                if count > MAX_NODES:
                    raise DocumentError(_too_big(), *frame.start)
                if frame.merged_into is None:
                    continue
                _add_merge(frame.merged_into, value, frame.start)
                continue
            elif cls is AliasEvent:
                found = anchors.get(event.anchor)
                if found is None:
                    raise DocumentError(f"invalid YAML: found undefined alias {event.anchor!r}", *_mark(event))
                value, size = found
                carried = anchor_tags.get(event.anchor, _NO_TAGS)
                count += size
                if count > MAX_NODES:
                    raise DocumentError(_too_big(), *_mark(event))
                last = event
            elif cls is DocumentEndEvent:
                positions[()] = root_pos
                return Built(root, positions, root_pos[0] - 1, _last_line(last), tags)
            else:  # pragma: no cover - the parser emits nothing else inside a document
                raise DocumentError(f"invalid YAML: unexpected {cls.__name__}", *_mark(event))

            # A finished scalar or alias: place it in the enclosing collection.
            if not stack:
                root, root_pos = value, _mark(event)
                if carried:
                    _place_tags(tags, (), carried)
                continue
            top = stack[-1]
            if top.is_map:
                key = top.key
                if key is _NO_KEY:
                    if isinstance(value, (dict, list)):
                        raise DocumentError(
                            "invalid YAML: a mapping key must be a plain value (expected key: value)",
                            *_mark(event),
                        )
                    if cls is ScalarEvent:
                        if event.value == "<<" and event.implicit[0] and event.tag is None:
                            top.key = _MERGE
                            top.merge_pos = _mark(event)
                            continue
                        top.key = event.value
                    else:
                        top.key = value if isinstance(value, str) else str(value)
                    mark = event.start_mark
                    top.key_pos = (mark.line + 1, mark.column + 1)
                    continue
                if key is _MERGE:
                    _add_merge(top, value, _mark(event))
                else:
                    positions[top.path + (key,)] = top.key_pos
                    top.container[key] = value
                    if carried:
                        _place_tags(tags, top.path + (key,), carried)
                top.key = _NO_KEY
            else:
                seq = top.container
                mark = event.start_mark
                positions[top.path + (len(seq),)] = (mark.line + 1, mark.column + 1)
                if carried:
                    _place_tags(tags, top.path + (len(seq),), carried)
                seq.append(value)


def _last_line(event: Any) -> int:
    """0-based line of the last character of `event` (a block scalar's end mark sits on the next line)."""
    mark = event.end_mark
    return mark.line - 1 if mark.column == 0 and mark.line > 0 else mark.line


def _too_deep(event: Any) -> DocumentError:
    message = (
        f"document nests deeper than {MAX_DEPTH} levels (expected a Kubernetes object); "
        "the rest of this input is not read"
    )
    return DocumentError(message, *_mark(event), fatal=True)


def _too_big() -> str:
    return f"document expands to more than {MAX_NODES:,} nodes (YAML alias bomb?)"


def _add_merge(frame: _Frame, value: Any, pos: tuple[int, int]) -> None:
    """Queue the value of a `<<` key; it is applied when the mapping ends, so explicit keys always win."""
    if isinstance(value, dict):
        sources = [value]
    elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
        sources = list(reversed(value))  # the first mapping listed wins, as in SafeLoader
    else:
        raise DocumentError("invalid YAML: the value of a merge key `<<` must be a mapping or a list of mappings", *pos)
    if frame.merges is None:
        frame.merges = []
    frame.merges.extend(sources)


def _apply_merges(frame: _Frame, positions: dict[Path, tuple[int, int]]) -> None:
    merged: dict[str, Any] = {}
    for source in frame.merges or ():
        merged.update(source)
    explicit = frame.container
    for key in merged.keys() - explicit.keys():
        positions[frame.path + (key,)] = frame.merge_pos
    merged.update(explicit)
    explicit.clear()  # keep the object: the parent already holds it
    explicit.update(merged)
