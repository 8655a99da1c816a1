"""A parsed YAML/JSON document with a side table of source positions.

Positions are kept beside the data (keyed by the path of keys and indices from the document root),
never injected into it, so the data stays exactly what the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netverify.model.source import SourceRef

Path = tuple[str | int, ...]


@dataclass(slots=True)
class SourceMap:
    """Path from the document root -> (line, column), both 1-based."""

    file: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    tags: dict[Path, str] = field(default_factory=dict)  # local YAML tags (`!Ref`): only CloudFormation has them

    def locate(self, path: Path = ()) -> SourceRef:
        """Position of `path`, or of its nearest recorded ancestor (line 0 when nothing is known)."""
        path = tuple(path)
        while True:
            found = self.positions.get(path)
            if found is not None:
                return SourceRef(self.file, found[0], found[1])
            if not path:
                return SourceRef(self.file, 0)
            path = path[:-1]


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
