"""Problems found in the input, collected (never raised past the loader) and reported together."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from netverify.model.source import SourceRef

# Code of the diagnostic for an object of a policy kind that is not modelled: results cannot be proven.
UNMODELLED_POLICY = "unmodelled-policy"


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    message: str
    source: SourceRef | None = None
    code: str = "input"

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        tag = "" if self.severity is Severity.ERROR else f"{self.severity.value}: "
        return f"{where}{tag}{self.message}"


class InputError(Exception):
    """Raised inside a kind parser for one object; the loader turns it into a Diagnostic and goes on."""

    def __init__(self, message: str, source: SourceRef | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
