"""A parsed YAML/JSON document with a side table of source positions.

Positions are kept beside the data (keyed by the path of keys and indices from the document root),
never injected into it, so the data stays exactly what the user wrote.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import Any

from netverify.model.source import SourceRef

Path = tuple[str | int, ...]


class SourceMap:
    """Path from the document root -> (line, column), both 1-based.

    A map can travel between processes packed (`pack`): the positions of paths up to `EAGER_DEPTH` long
    stay a dict, the deeper ones are one marshalled string, unpacked on the first question about a deeper
    path. Loading asks where a document begins and where its policy rules are (`spec.ingress[3]`); only
    error messages go deeper. Unpickling the full tables was most of what a read-ahead helper's results
    cost the main process.
    """

    EAGER_DEPTH = 3

    __slots__ = ("file", "_positions", "_packed", "tags")

    def __init__(
        self,
        file: str,
        positions: dict[Path, tuple[int, int]] | None = None,
        tags: dict[Path, str] | None = None,  # local YAML tags (`!Ref`): only CloudFormation has them
    ):
        self.file = file
        self._positions = {} if positions is None else positions
        self._packed: bytes | None = None
        self.tags = {} if tags is None else tags

    @property
    def positions(self) -> dict[Path, tuple[int, int]]:
        if self._packed is not None:
            self._unpack()
        return self._positions

    def pack(self) -> None:
        """Marshal the positions of paths deeper than EAGER_DEPTH (idempotent; a map that cannot be
        marshalled stays as it is). Marshal, not pickle: the tables hold only tuples, strings and ints, and
        load faster so."""
        if self._packed is not None:
            return
        limit = self.EAGER_DEPTH
        deep = {path: at for path, at in self._positions.items() if len(path) > limit}
        if not deep:
            return
        try:
            packed = marshal.dumps(deep)
        except ValueError:  # pragma: no cover - positions are tuples of str and int by construction
            return
        self._positions = {path: at for path, at in self._positions.items() if len(path) <= limit}
        self._packed = packed

    def _unpack(self) -> None:
        self._positions.update(marshal.loads(self._packed))  # noqa: S302 - written by our read-ahead helper
        self._packed = None

    def locate(self, path: Path = ()) -> SourceRef:
        """Position of `path`, or of its nearest recorded ancestor (line 0 when nothing is known)."""
        path = tuple(path)
        if len(path) > self.EAGER_DEPTH and self._packed is not None:
            self._unpack()
        positions = self._positions
        while True:
            found = positions.get(path)
            if found is not None:
                return SourceRef(self.file, found[0], found[1])
            if not path:
                return SourceRef(self.file, 0)
            path = path[:-1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceMap):
            return NotImplemented
        return (self.file, self.positions, self.tags) == (other.file, other.positions, other.tags)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaced

    def __repr__(self) -> str:
        return f"SourceMap(file={self.file!r}, positions={self.positions!r}, tags={self.tags!r})"

    def __getstate__(self) -> tuple:
        return (self.file, self._positions, self._packed, self.tags)

    def __setstate__(self, state: tuple) -> None:
        self.file, self._positions, self._packed, self.tags = state


@dataclass(slots=True)
class Document:
    """One object of the input (a `List` is already expanded into its items)."""

    data: Any
    source_map: SourceMap
    base: Path = ()  # where `data` sits inside the original document (e.g. ("items", 3) for List items)
    origin: str | None = None  # Helm's `# Source:` template, when the stream came from `helm template`

    @property
    def file(self) -> str:
        return self.source_map.file

    def source(self, *path: str | int) -> SourceRef:
        """Position of a path inside this object's data."""
        return self.source_map.locate(self.base + tuple(path))

    def tag(self, *path: str | int) -> str | None:
        """The local YAML tag (`!Ref`, `!Sub`) written on the value at `path`, if any."""
        return self.source_map.tags.get(self.base + tuple(path))

    @property
    def kind(self) -> str | None:
        return self.data.get("kind") if isinstance(self.data, dict) else None

    @property
    def api_version(self) -> str | None:
        return self.data.get("apiVersion") if isinstance(self.data, dict) else None
