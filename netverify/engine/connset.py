"""A set of services (protocol + destination port) allowed for one flow, as packed service-atom bits."""

from __future__ import annotations

from typing import Any

import numpy as np

from netverify.compile.service_atoms import ServiceSpace
from netverify.model.services import PORT_PROTOCOLS, PROTOCOL_NUMBERS, protocol_name


class ConnSet:
    __slots__ = ("words", "space")

    def __init__(self, words: np.ndarray, space: ServiceSpace):
        self.words = words
        self.space = space

    @property
    def is_empty(self) -> bool:
        return not self.words.any()

    @property
    def is_all(self) -> bool:
        return bool(np.array_equal(self.words, self.space.full))

    def __bool__(self) -> bool:
        return not self.is_empty

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnSet) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.words.tobytes())

    def contains(self, protocol: int | str, port: int | None = None) -> bool:
        if isinstance(protocol, str):
            protocol = PROTOCOL_NUMBERS[protocol.upper()] if not protocol.isdigit() else int(protocol)
        atom = self.space.atom_of(protocol, port)
        return bool((int(self.words[atom // 64]) >> (atom % 64)) & 1)

    def protocols(self) -> dict[int, list[tuple[int, int]] | bool]:
        """Protocol number -> merged inclusive port ranges, or True for a protocol without ports."""
        allowed = self.space.unpack(self.words)
        space = self.space
        result: dict[int, list[tuple[int, int]] | bool] = {}
        for atom in np.flatnonzero(allowed):
            lo, hi = int(space.proto_lo[atom]), int(space.proto_hi[atom])
            if lo == hi and lo in PORT_PROTOCOLS:
                ranges = result.setdefault(lo, [])
                assert isinstance(ranges, list)
                first, last = int(space.port_lo[atom]), int(space.port_hi[atom])
                if ranges and ranges[-1][1] + 1 == first:
                    ranges[-1] = (ranges[-1][0], last)
                else:
                    ranges.append((first, last))
            else:
                for number in range(lo, hi + 1):
                    result[number] = True
        return result

    def to_json(self) -> Any:
        """DESIGN.md's `conn`: "all", or protocol name -> [[first, last], ...] / true."""
        if self.is_all:
            return "all"
        return {
            protocol_name(number): [list(r) for r in value] if isinstance(value, list) else True
            for number, value in sorted(self.protocols().items())
        }

    def __str__(self) -> str:
        if self.is_all:
            return "all"
        if self.is_empty:
            return "none"
        parts = self.protocols()
        if len(parts) > 128:  # mostly everything: say what is missing instead
            missing = ConnSet(self.space.full & ~self.words, self.space)
            return f"all except {missing}"
        return "; ".join(_describe(number, value) for number, value in sorted(parts.items()))

    def __repr__(self) -> str:
        return f"ConnSet({self})"


def _describe(number: int, value: list[tuple[int, int]] | bool) -> str:
    name = protocol_name(number)
    if value is True:
        return name
    assert isinstance(value, list)
    if value == [(1, 65535)]:
        return f"{name} all ports"
    return f"{name} " + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in value)
