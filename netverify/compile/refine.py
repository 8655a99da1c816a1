"""Cut the IP atoms of a compiled cluster at new CIDR boundaries, keeping everything already computed.

A policy that names a CIDR no other policy names splits IP atoms. Before the split every rule matched a
whole old atom or none of it, and every verdict treated its addresses alike, so each new atom inherits its
parent's peer-list entries and matrix columns; only the policies of the change then need evaluating. The
endpoint classes stay as they were unless the new boundary falls between the addresses of two endpoints of
one class (the class would split): that case is left to a full compile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from netverify.compile.classes import EndpointClass
from netverify.compile.compiled import CompiledCluster
from netverify.compile.ip_atoms import IPAtoms
from netverify.compile.peers import PeerSpace
from netverify.compile.tables import DirectionTables
from netverify.model.addresses import IPRange


def remap_atom_peers(tables: DirectionTables, n_classes: int, child_start: np.ndarray, child_count: np.ndarray):
    """The tables with every IP-atom peer replaced by the atoms it was cut into (lists stay sorted)."""
    peers = tables.rule_peer
    atom = np.maximum(peers - n_classes, 0)
    is_atom = peers >= n_classes
    width = np.where(is_atom, child_count[atom], 1)
    first = np.where(is_atom, n_classes + child_start[atom], peers)
    ends = np.cumsum(width)
    expanded = np.repeat(first - (ends - width), width) + np.arange(ends[-1] if len(ends) else 0)
    before = np.concatenate(([0], ends))
    return replace(tables, rule_peer_ptr=before[tables.rule_peer_ptr], rule_peer=expanded.astype(np.int64))


def refined_classes(compiled: CompiledCluster, atoms: IPAtoms, split: np.ndarray, first_child: np.ndarray):
    """Classes with their address atoms renumbered, or None when the endpoints of a class now have their
    addresses in different atoms (the class would split)."""
    classes: list[EndpointClass] = []
    for cls in compiled.classes:
        if not cls.ip_atoms:
            classes.append(cls)
            continue
        if not any(split[a] for a in cls.ip_atoms):
            classes.append(replace(cls, ip_atoms=tuple(int(first_child[a]) for a in cls.ip_atoms)))
            continue
        found = {
            tuple(sorted({a for a in (atoms.index_of(f, ip) for f, ip in compiled.groups[g].ips) if a is not None}))
            for g in cls.groups
        }
        if len(found) != 1:
            return None
        classes.append(replace(cls, ip_atoms=found.pop()))
    return classes


def refine_atoms(compiled: CompiledCluster, ranges: Iterable[IPRange]) -> tuple[CompiledCluster, np.ndarray] | None:
    """(compiled with atoms cut at `ranges`' ends, column map: for each new peer index the old one), or
    None when endpoint classes would have to split."""
    ranges = list(ranges)
    old = compiled.atoms
    atoms = IPAtoms([*old.atoms, *ranges])
    atoms.ipv6_mentioned = old.ipv6_mentioned or any(r.family == 6 for r in ranges)
    parent = np.array([old.index_of(a.family, a.first) for a in atoms.atoms], dtype=np.int64)
    child_count = np.bincount(parent, minlength=len(old))
    child_start = np.concatenate(([0], np.cumsum(child_count)[:-1]))
    classes = refined_classes(compiled, atoms, child_count > 1, child_start)
    if classes is None:
        return None
    cluster, n = compiled.cluster, compiled.n_classes
    peers = PeerSpace(
        classes,
        cluster.namespaces,
        atoms,
        compiled.profile,
        cluster.network_sets,
        cluster.service_accounts,
        unknown_address_space=compiled.peers.unknown_space,
        nodes=cluster.nodes,
    )
    refined = replace(
        compiled,
        classes=classes,
        atoms=atoms,
        peers=peers,
        ingress=remap_atom_peers(compiled.ingress, n, child_start, child_count),
        egress=remap_atom_peers(compiled.egress, n, child_start, child_count),
    )
    return refined, np.concatenate((np.arange(n), n + parent))
