"""What a rule matches on the destination side of a flow: protocol and destination port.

Protocols are IANA numbers; TCP, UDP and SCTP carry ports (1-65535). A named port is resolved later,
per destination endpoint, because two pods may give one name different numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

TCP, UDP, SCTP, ICMP, ICMPV6, UDPLITE = 6, 17, 132, 1, 58, 136
PORT_PROTOCOLS = (TCP, UDP, SCTP)
PORT_MIN, PORT_MAX = 1, 65535
PROTOCOL_MAX = 255
ICMP_PROTOCOLS = (ICMP, ICMPV6)

# Protocols with a second dimension, and its domain. Ports for TCP/UDP/SCTP/UDPLite; for ICMP and ICMPv6
# the value is `type * 256 + code`, so "type 3, any code" is the range 768-1023.
VALUE_DOMAINS: dict[int, tuple[int, int]] = {
    TCP: (PORT_MIN, PORT_MAX),
    UDP: (PORT_MIN, PORT_MAX),
    SCTP: (PORT_MIN, PORT_MAX),
    UDPLITE: (PORT_MIN, PORT_MAX),
    ICMP: (0, 0xFFFF),
    ICMPV6: (0, 0xFFFF),
}


def icmp_range(icmp_type: int, code: int | None) -> tuple[int, int]:
    """The value range of an ICMP type (any code) or of one type/code pair."""
    if code is None:
        return (icmp_type * 256, icmp_type * 256 + 255)
    return (icmp_type * 256 + code, icmp_type * 256 + code)

PROTOCOL_NAMES = {TCP: "TCP", UDP: "UDP", SCTP: "SCTP", ICMP: "ICMP", ICMPV6: "ICMPv6", UDPLITE: "UDPLite"}
PROTOCOL_NUMBERS = {name.upper(): number for number, name in PROTOCOL_NAMES.items()}


def protocol_name(number: int) -> str:
    return PROTOCOL_NAMES.get(number, str(number))


def parse_protocol(value: object) -> int:
    """A protocol name (any case) or number 0-255; raises ValueError with a user-facing message."""
    if isinstance(value, bool):
        raise ValueError(f"invalid protocol {value!r}: expected TCP, UDP, SCTP, ICMP, ICMPv6 or a number 0-255")
    if isinstance(value, int):
        if 0 <= value <= PROTOCOL_MAX:
            return value
    elif isinstance(value, str):
        upper = value.strip().upper()
        if upper in PROTOCOL_NUMBERS:
            return PROTOCOL_NUMBERS[upper]
        if upper.isdigit() and int(upper) <= PROTOCOL_MAX:
            return int(upper)
    raise ValueError(f"invalid protocol {value!r}: expected TCP, UDP, SCTP, ICMP, ICMPv6 or a number 0-255")


class ServiceMatch:
    """Base of the service-match tree (protocol and destination port)."""

    __slots__ = ()

    def matches(self, protocol: int, port: int | None, port_names: dict[tuple[int, int], str]) -> bool:
        """Slow definition: `port_names` maps (protocol, port) of the destination to its port name."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class AnyService(ServiceMatch):
    """Every protocol and port (Kubernetes `ports` omitted or empty)."""

    def matches(self, protocol, port, port_names) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ProtocolPorts(ServiceMatch):
    """One protocol; `ranges` None means every value (or a protocol without values); `names` are named ports.

    Values are destination ports, or `type * 256 + code` for ICMP and ICMPv6 (see VALUE_DOMAINS).

    A port protocol with `ranges == ()` and no names matches nothing (it only exists to keep the tree regular).
    """

    protocol: int
    ranges: tuple[tuple[int, int], ...] | None = None
    names: tuple[str, ...] = ()

    def matches(self, protocol, port, port_names) -> bool:
        if protocol != self.protocol:
            return False
        if self.ranges is None and not self.names:
            return True
        if port is None:
            return False
        if self.ranges and any(lo <= port <= hi for lo, hi in self.ranges):
            return True
        return bool(self.names) and port_names.get((protocol, port)) in self.names


@dataclass(frozen=True, slots=True)
class ServiceUnion(ServiceMatch):
    terms: tuple[ServiceMatch, ...]

    def matches(self, protocol, port, port_names) -> bool:
        return any(t.matches(protocol, port, port_names) for t in self.terms)


@dataclass(frozen=True, slots=True)
class ServiceIntersection(ServiceMatch):
    terms: tuple[ServiceMatch, ...]

    def matches(self, protocol, port, port_names) -> bool:
        return all(t.matches(protocol, port, port_names) for t in self.terms)


@dataclass(frozen=True, slots=True)
class ServiceComplement(ServiceMatch):
    term: ServiceMatch

    def matches(self, protocol, port, port_names) -> bool:
        return not self.term.matches(protocol, port, port_names)


NO_SERVICE = ServiceUnion(())
