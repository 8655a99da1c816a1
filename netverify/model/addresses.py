"""IP address ranges as integer intervals, one space per family.

Ranges (not networks) are the unit because atoms and `except` holes are ranges; the printable form is
the inclusive `first-last` that DESIGN.md fixes for external endpoints.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPV4_MAX = (1 << 32) - 1
IPV6_MAX = (1 << 128) - 1


@dataclass(frozen=True, slots=True, order=True)
class IPRange:
    """Inclusive range of addresses of one family (4 or 6)."""

    family: int
    first: int
    last: int

    @property
    def label(self) -> str:
        cls = ipaddress.IPv4Address if self.family == 4 else ipaddress.IPv6Address
        return f"{cls(self.first)}-{cls(self.last)}"

    def contains(self, family: int, address: int) -> bool:
        return family == self.family and self.first <= address <= self.last

    def covers(self, other: IPRange) -> bool:
        return self.family == other.family and self.first <= other.first and other.last <= self.last

    def overlaps(self, other: IPRange) -> bool:
        return self.family == other.family and self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        return self.label


def family_max(family: int) -> int:
    return IPV4_MAX if family == 4 else IPV6_MAX


def parse_cidr(text: str) -> IPRange:
    """Parse a CIDR; raises ValueError with a message fit for a user.

    Host bits are tolerated (the API server accepts `10.0.0.1/8` in ipBlock) and masked off. A policy
    repository writes the same few CIDRs thousands of times, so parsed ones are remembered.
    """
    if type(text) is str:
        try:
            return _parsed_cidrs[text]
        except KeyError:
            pass
    found = _parse_cidr(text)
    if len(_parsed_cidrs) < _REMEMBERED_CIDRS:
        _parsed_cidrs[text] = found
    return found


_REMEMBERED_CIDRS = 100_000
_parsed_cidrs: dict[str, IPRange] = {}


def _parse_cidr(text: str) -> IPRange:
    if not isinstance(text, str) or "/" not in text:
        raise ValueError(f"invalid CIDR {text!r}: expected an address and prefix length such as 10.0.0.0/16")
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"invalid CIDR {text!r}: expected an IPv4 or IPv6 network such as 10.0.0.0/16 or fd00::/64"
        ) from None
    return IPRange(net.version, int(net.network_address), int(net.broadcast_address))


def parse_address(text: str) -> tuple[int, int]:
    """Parse a single address into (family, integer)."""
    try:
        addr = ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise ValueError(f"invalid IP address {text!r}: expected an IPv4 or IPv6 address") from None
    return addr.version, int(addr)


def subtract(base: IPRange, holes: list[IPRange]) -> list[IPRange]:
    """`base` minus the union of `holes` (of any family), as sorted disjoint ranges."""
    pieces = [base]
    for hole in sorted(h for h in holes if h.family == base.family):
        remaining: list[IPRange] = []
        for piece in pieces:
            if hole.last < piece.first or hole.first > piece.last:
                remaining.append(piece)
                continue
            if piece.first < hole.first:
                remaining.append(IPRange(piece.family, piece.first, hole.first - 1))
            if hole.last < piece.last:
                remaining.append(IPRange(piece.family, hole.last + 1, piece.last))
        pieces = remaining
    return pieces
