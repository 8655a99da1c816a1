"""The address space cut at every CIDR boundary any rule mentions: within an atom all addresses are alike."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from netverify.model.addresses import IPRange, family_max


class IPAtoms:
    """Sorted disjoint ranges covering all of IPv4 and IPv6.

    Both families are always modelled (a pod allowed everywhere reaches the IPv6 internet too);
    `ipv6_mentioned` tells reports whether IPv6 is worth listing.
    """

    def __init__(self, ranges: Iterable[IPRange], include_ipv6: bool = False):
        cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
        families = {4, 6}
        self.ipv6_mentioned = include_ipv6
        for r in ranges:
            self.ipv6_mentioned |= r.family == 6
            cuts[r.family].add(r.first)
            if r.last < family_max(r.family):
                cuts[r.family].add(r.last + 1)
        self.atoms: list[IPRange] = []
        self._starts: dict[int, list[int]] = {}
        self._offset: dict[int, int] = {}
        for family in sorted(families):
            starts = sorted(cuts[family])
            self._starts[family] = starts
            self._offset[family] = len(self.atoms)
            for i, start in enumerate(starts):
                end = starts[i + 1] - 1 if i + 1 < len(starts) else family_max(family)
                self.atoms.append(IPRange(family, start, end))

    def __len__(self) -> int:
        return len(self.atoms)

    def index_of(self, family: int, address: int) -> int | None:
        """Atom holding the address, or None when that family is not modelled."""
        starts = self._starts.get(family)
        if starts is None:
            return None
        return self._offset[family] + bisect.bisect_right(starts, address) - 1

    def covered(self, ranges: Iterable[IPRange]) -> list[int]:
        """Atoms inside the given ranges (each atom is wholly inside or outside, by construction)."""
        found: list[int] = []
        for r in ranges:
            first = self.index_of(r.family, r.first)
            last = self.index_of(r.family, r.last)
            if first is None or last is None:
                continue
            found.extend(range(first, last + 1))
        return found
