"""Where a model object came from, so every verdict can point at a file and line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A position in an input file (1-based line and column; column 0 when unknown)."""

    file: str
    line: int
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        if self.column:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}"


UNKNOWN_SOURCE = SourceRef("<unknown>", 0)
