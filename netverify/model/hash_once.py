"""Frozen expression trees (peers, selectors) that remember their hash.

Compiling a cluster looks peer and selector trees up in caches thousands of times, and a dataclass
computes the hash of a tree from its children's hashes on every call: a third of compile time at 800
workloads. A tree is immutable, so its hash is computed once and kept in a `_hash` field that takes no part
in construction, equality or repr.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, TypeVar

T = TypeVar("T")


def hash_slot() -> Any:
    """The `_hash` field of a class decorated with `hash_once` (last field; never set by callers)."""
    return field(default=None, init=False, repr=False, compare=False)


def hash_once(cls: type[T]) -> type[T]:
    """Applied above `@dataclass(frozen=True, ...)`: wrap the generated `__hash__` so it runs once."""
    compute = cls.__hash__

    def __hash__(self) -> int:
        found = self._hash
        if found is None:
            found = compute(self)
            object.__setattr__(self, "_hash", found)
        return found

    cls.__hash__ = __hash__  # type: ignore[method-assign]
    return cls
