"""One selector language for every policy kind.

Kubernetes label selectors (matchLabels/matchExpressions) and Calico selector expressions both translate
into this small expression tree, so the compile stage evaluates one thing, vectorised over endpoint classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netverify.model.hash_once import hash_once, hash_slot


class Selector:
    """Base of the selector expression tree; `matches` is the slow, obviously-correct definition."""

    __slots__ = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class MatchAll(Selector):
    """Every in-scope object (an empty Kubernetes selector, Calico `all()` or an empty Calico selector)."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def __str__(self) -> str:
        return "all()"


@dataclass(frozen=True, slots=True)
class MatchGlobal(Selector):
    """Calico `global()`: matches non-namespaced resources; the scope, not the labels, gives it meaning."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def __str__(self) -> str:
        return "global()"


@dataclass(frozen=True, slots=True)
class HasKey(Selector):
    key: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.key in labels

    def __str__(self) -> str:
        return f"has({self.key})"


@dataclass(frozen=True, slots=True)
class Equals(Selector):
    key: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return labels.get(self.key) == self.value

    def __str__(self) -> str:
        return f"{self.key} == '{self.value}'"


@hash_once
@dataclass(frozen=True, slots=True)
class InSet(Selector):
    """`key in {..}`: the label must be present with one of the values."""

    key: str
    values: frozenset[str]
    _hash: int | None = hash_slot()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        return value is not None and value in self.values

    def __str__(self) -> str:
        return f"{self.key} in {{{', '.join(repr(v) for v in sorted(self.values))}}}"


@dataclass(frozen=True, slots=True)
class StringTest(Selector):
    """Calico `contains`, `starts with`, `ends with`: the label must be present."""

    key: str
    op: str  # "contains" | "starts with" | "ends with"
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        found = labels.get(self.key)
        if found is None:
            return False
        if self.op == "contains":
            return self.value in found
        if self.op == "starts with":
            return found.startswith(self.value)
        if self.op == "ends with":
            return found.endswith(self.value)
        raise ValueError(f"unknown string operator {self.op!r}")

    def __str__(self) -> str:
        return f"{self.key} {self.op} '{self.value}'"


@hash_once
@dataclass(frozen=True, slots=True)
class Not(Selector):
    operand: Selector
    _hash: int | None = hash_slot()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return not self.operand.matches(labels)

    def __str__(self) -> str:
        return f"!({self.operand})"


@hash_once
@dataclass(frozen=True, slots=True)
class And(Selector):
    operands: tuple[Selector, ...]
    _hash: int | None = hash_slot()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(op.matches(labels) for op in self.operands)

    def __str__(self) -> str:
        return " && ".join(f"({op})" for op in self.operands) if self.operands else "all()"


@hash_once
@dataclass(frozen=True, slots=True)
class Or(Selector):
    operands: tuple[Selector, ...]
    _hash: int | None = hash_slot()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return any(op.matches(labels) for op in self.operands)

    def __str__(self) -> str:
        return " || ".join(f"({op})" for op in self.operands) if self.operands else "!all()"


def conjunction(parts: list[Selector]) -> Selector:
    """AND of parts, simplified so that equal selectors written differently still share a cache key."""
    flat = [p for p in parts if not isinstance(p, MatchAll)]
    if not flat:
        return MatchAll()
    if len(flat) == 1:
        return flat[0]
    return And(tuple(flat))


def not_equals(key: str, value: str) -> Selector:
    """`key != value` (also true when the label is absent), as both Calico and NotIn define it."""
    return Not(Equals(key, value))


def not_in(key: str, values: frozenset[str]) -> Selector:
    """`key not in {..}` (also true when the label is absent)."""
    return Not(InSet(key, values))
