"""A set of services (protocol + destination port) allowed for one flow, as packed service-atom bits."""

from __future__ import annotations

from typing import Any

import numpy as np

from netverify.compile.service_atoms import ServiceSpace
from netverify.model.services import ICMP_PROTOCOLS, VALUE_DOMAINS, parse_protocol, protocol_name


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
        return self.words.tobytes() == self.space.full.tobytes()

    def __bool__(self) -> bool:
        return not self.is_empty

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnSet) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.words.tobytes())

    def contains(self, protocol: int | str, port: int | None = None) -> bool:
        """Is (protocol, port) allowed? For ICMP the port is `type * 256 + code`; None asks "any value"."""
        if isinstance(protocol, str):
            protocol = parse_protocol(protocol)
        if port is None and protocol in VALUE_DOMAINS:
            return any(self._has(atom) for atom in self.space.atoms_of_protocol(protocol))
        return self._has(self.space.atom_of(protocol, port))

    def _has(self, atom: int) -> bool:
        return bool((int(self.words[atom // 64]) >> (atom % 64)) & 1)

    def protocols(self) -> dict[int, list[tuple[int, int]] | bool]:
        """Protocol number -> merged inclusive port ranges, or True for a protocol without ports."""
        table = self.space.atom_rows
        result: dict[int, list[tuple[int, int]] | bool] = {}
        for w, word in enumerate(self.words.tolist()):
            while word:
                low = word & -word
                word ^= low
                lo, hi, first, last = table[64 * w + low.bit_length() - 1]
                if lo == hi and lo in VALUE_DOMAINS:
                    ranges = result.setdefault(lo, [])
                    assert isinstance(ranges, list)
                    if ranges and ranges[-1][1] + 1 == first:
                        ranges[-1] = (ranges[-1][0], last)
                    else:
                        ranges.append((first, last))
                else:
                    for number in range(lo, hi + 1):
                        result[number] = True
        return result

    def to_json(self) -> Any:
        """DESIGN.md's `conn`: "all", or protocol name -> [[first, last], ...] / true.

        ICMP and ICMPv6 are `true` when every type is allowed, else a list of {"type": t} (every code) or
        {"type": t, "codes": [[first, last], ...]}.
        """
        if self.is_all:
            return "all"
        result: dict[str, Any] = {}
        for number, value in sorted(self.protocols().items()):
            name = protocol_name(number)
            if isinstance(value, list) and number in ICMP_PROTOCOLS:
                result[name] = True if value == [VALUE_DOMAINS[number]] else _icmp_json(value)
            else:
                result[name] = [list(r) for r in value] if isinstance(value, list) else True
        return result

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


def _icmp_json(ranges: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Value ranges (type * 256 + code) -> one entry per ICMP type."""
    by_type: dict[int, list[list[int]]] = {}
    for first, last in ranges:
        for icmp_type in range(first // 256, last // 256 + 1):
            lo = max(first, icmp_type * 256) - icmp_type * 256
            hi = min(last, icmp_type * 256 + 255) - icmp_type * 256
            by_type.setdefault(icmp_type, []).append([lo, hi])
    return [{"type": t} if codes == [[0, 255]] else {"type": t, "codes": codes} for t, codes in sorted(by_type.items())]


def _describe(number: int, value: list[tuple[int, int]] | bool) -> str:
    name = protocol_name(number)
    if value is True:
        return name
    if number in ICMP_PROTOCOLS:
        assert isinstance(value, list)
        if value == [VALUE_DOMAINS[number]]:
            return name
        parts = []
        for entry in _icmp_json(value):
            codes = entry.get("codes")
            text = f"type {entry['type']}"
            if codes:
                text += " code " + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in codes)
            parts.append(text)
        return f"{name} " + ", ".join(parts)
    assert isinstance(value, list)
    if value == [(1, 65535)]:
        return f"{name} all ports"
    return f"{name} " + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in value)
