"""Protocol and destination-port space cut into atoms at every boundary a rule or named port names.

Port protocols (TCP, UDP, SCTP) are cut by port; other protocols by protocol number. A set of services is
then a bit vector over atoms, packed into uint64 words for the engine.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable

import numpy as np

from netverify.model.services import (
    ICMP,
    ICMPV6,
    PROTOCOL_MAX,
    VALUE_DOMAINS,
    AnyService,
    ProtocolPorts,
    ServiceComplement,
    ServiceIntersection,
    ServiceMatch,
    ServiceUnion,
)


def walk_service(tree: ServiceMatch) -> Iterable[ProtocolPorts]:
    if isinstance(tree, ProtocolPorts):
        yield tree
    elif isinstance(tree, (ServiceUnion, ServiceIntersection)):
        for term in tree.terms:
            yield from walk_service(term)
    elif isinstance(tree, ServiceComplement):
        yield from walk_service(tree.term)


class ServiceSpace:
    def __init__(self, trees: Iterable[ServiceMatch], named_ports: Iterable[tuple[int, int]] = ()):
        port_cuts: dict[int, set[int]] = {p: {lo} for p, (lo, _) in VALUE_DOMAINS.items()}
        protocol_cuts = {0, PROTOCOL_MAX + 1}
        for protocol in (*VALUE_DOMAINS, ICMP, ICMPV6):
            protocol_cuts.update((protocol, protocol + 1))

        def add_port_range(protocol: int, lo: int, hi: int) -> None:
            port_cuts[protocol].add(lo)
            if hi < VALUE_DOMAINS[protocol][1]:
                port_cuts[protocol].add(hi + 1)

        for tree in trees:
            for term in walk_service(tree):
                protocol_cuts.update((term.protocol, term.protocol + 1))
                if term.protocol in port_cuts and term.ranges:
                    for lo, hi in term.ranges:
                        add_port_range(term.protocol, lo, hi)
        for protocol, port in named_ports:
            if protocol in port_cuts:
                add_port_range(protocol, port, port)

        proto_lo: list[int] = []
        proto_hi: list[int] = []
        port_lo: list[int] = []
        port_hi: list[int] = []
        self._port_starts: dict[int, list[int]] = {}
        self._port_offset: dict[int, int] = {}
        ordered = sorted(protocol_cuts)
        self._protocol_starts = ordered[:-1]
        self._protocol_atom: list[int] = []
        for i in range(len(ordered) - 1):
            lo, hi = ordered[i], ordered[i + 1] - 1
            self._protocol_atom.append(len(proto_lo))
            if lo == hi and lo in port_cuts:
                starts = sorted(port_cuts[lo])
                self._port_starts[lo] = starts
                self._port_offset[lo] = len(proto_lo)
                for j, start in enumerate(starts):
                    end = starts[j + 1] - 1 if j + 1 < len(starts) else VALUE_DOMAINS[lo][1]
                    proto_lo.append(lo)
                    proto_hi.append(lo)
                    port_lo.append(start)
                    port_hi.append(end)
            else:
                proto_lo.append(lo)
                proto_hi.append(hi)
                port_lo.append(0)
                port_hi.append(0)
        self.proto_lo = np.array(proto_lo, dtype=np.int32)
        self.proto_hi = np.array(proto_hi, dtype=np.int32)
        self.port_lo = np.array(port_lo, dtype=np.int32)
        self.port_hi = np.array(port_hi, dtype=np.int32)
        self.size = len(proto_lo)
        self.words = (self.size + 63) // 64
        self._full = self.pack(np.ones(self.size, dtype=bool))

    def atoms_of_protocol(self, protocol: int) -> range:
        """Every atom of one protocol (one atom for a protocol without values)."""
        if protocol in self._port_starts:
            first = self._port_offset[protocol]
            return range(first, first + len(self._port_starts[protocol]))
        atom = self.atom_of(protocol, None)
        return range(atom, atom + 1)

    def atom_of(self, protocol: int, port: int | None) -> int:
        """The atom holding (protocol, port); port is ignored for protocols without ports."""
        if protocol in self._port_starts:
            if port is None:
                raise ValueError(f"protocol {protocol} needs a port")
            starts = self._port_starts[protocol]
            return self._port_offset[protocol] + bisect.bisect_right(starts, port) - 1
        index = bisect.bisect_right(self._protocol_starts, protocol) - 1
        return self._protocol_atom[index]

    def mask(self, tree: ServiceMatch, port_names: dict[tuple[int, int], str] | None = None) -> np.ndarray:
        """Atoms the tree matches; named ports resolve through `port_names` ((protocol, port) -> name)."""
        if isinstance(tree, AnyService):
            return np.ones(self.size, dtype=bool)
        if isinstance(tree, ProtocolPorts):
            in_protocol = (self.proto_lo <= tree.protocol) & (tree.protocol <= self.proto_hi)
            if tree.protocol not in self._port_starts or (tree.ranges is None and not tree.names):
                return in_protocol
            result = np.zeros(self.size, dtype=bool)
            for lo, hi in tree.ranges or ():
                result |= in_protocol & (self.port_lo >= lo) & (self.port_hi <= hi)
            if tree.names and port_names:
                for (protocol, port), name in port_names.items():
                    if protocol == tree.protocol and name in tree.names:
                        result[self.atom_of(protocol, port)] = True
            return result
        if isinstance(tree, ServiceUnion):
            result = np.zeros(self.size, dtype=bool)
            for term in tree.terms:
                result |= self.mask(term, port_names)
            return result
        if isinstance(tree, ServiceIntersection):
            result = np.ones(self.size, dtype=bool)
            for term in tree.terms:
                result &= self.mask(term, port_names)
            return result
        if isinstance(tree, ServiceComplement):
            return ~self.mask(tree.term, port_names)
        raise TypeError(f"unsupported service node {type(tree).__name__}")

    @functools.cached_property
    def atom_rows(self) -> list[tuple[int, int, int, int]]:
        """(protocol first, protocol last, value first, value last) per atom, as plain ints for fast loops."""
        columns = (self.proto_lo, self.proto_hi, self.port_lo, self.port_hi)
        return list(zip(*(c.tolist() for c in columns), strict=True))

    def pack(self, mask: np.ndarray) -> np.ndarray:
        """Bool vector over atoms -> uint64 words (bit i of word w is atom 64*w + i)."""
        padded = np.zeros(self.words * 64, dtype=bool)
        padded[: self.size] = mask
        bits = np.packbits(padded.reshape(-1, 8), axis=1, bitorder="little").reshape(-1)
        return bits.view(np.uint64).copy()

    def unpack(self, words: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), bitorder="little")
        return bits[: self.size].astype(bool)

    @property
    def full(self) -> np.ndarray:
        return self._full
