"""Everything the engine needs, derived once from a Cluster and a CNI profile."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from netverify.compile.classes import EndpointClass, build_classes
from netverify.compile.ip_atoms import IPAtoms
from netverify.compile.peers import PeerSpace
from netverify.compile.profiles import Profile, built_in_policies, get_profile, pod_ranges
from netverify.compile.service_atoms import ServiceSpace
from netverify.compile.tables import FINAL_ALLOW, FINAL_DENY, DirectionTables, build_direction
from netverify.model.addresses import IPRange
from netverify.model.cluster import Cluster
from netverify.model.peers import ByIdentity, NetPeer, PeerMatch, walk_peer
from netverify.model.policy import Direction, Policy
from netverify.model.services import ServiceMatch
from netverify.model.workloads import PodGroup


def peer_nodes(policies: list[Policy]) -> Iterable[PeerMatch]:
    """Every node of every distinct peer tree the policies use (applies_to, peers, targets)."""
    seen: set[PeerMatch] = set()
    for policy in policies:
        trees = [policy.applies_to]
        for rules in (policy.ingress, policy.egress):
            trees.extend(rule.peer for rule in rules or ())
            trees.extend(rule.target for rule in rules or () if rule.target is not None)
        for tree in trees:
            if tree in seen:
                continue
            seen.add(tree)
            yield from walk_peer(tree)


def mentioned_ranges(cluster: Cluster) -> list[IPRange]:
    found: list[IPRange] = []
    for node in peer_nodes(cluster.policies):
        if isinstance(node, NetPeer):
            found.extend(node.ranges)
    for network_set in cluster.network_sets:
        found.extend(network_set.ranges)
    for node in cluster.nodes:  # node addresses are their own atoms, so `nodes` peers match exactly them
        found.extend(IPRange(family, address, address) for family, address in node.addresses)
    return found


def identified_ids(cluster: Cluster) -> set[str]:
    """Endpoint ids some `ByIdentity` peer names: those endpoints need classes of their own."""
    return {ident for node in peer_nodes(cluster.policies) if isinstance(node, ByIdentity) for ident in node.ids}


def final_defaults(classes: list[EndpointClass]) -> np.ndarray:
    """What no tier decided: pods allow it (Calico's namespace profile, Kubernetes' default); a Calico host
    endpoint drops it (reference §4.3: host endpoints are default deny, except failsafe)."""
    return np.array([FINAL_DENY if cls.host else FINAL_ALLOW for cls in classes], dtype=np.int64)


@dataclass
class CompiledCluster:
    cluster: Cluster
    profile: Profile
    groups: list[PodGroup]  # every endpoint: the cluster's pods and workloads, then its host endpoints
    classes: list[EndpointClass]
    group_class: np.ndarray  # (groups,) class of each group
    atoms: IPAtoms
    services: ServiceSpace
    peers: PeerSpace
    ingress: DirectionTables
    egress: DirectionTables
    symbols: dict[tuple[int, str], int]
    symbol_atom: np.ndarray  # (symbols, classes): service atom of that named port on that class, or -1

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def tables(self, direction: Direction) -> DirectionTables:
        return self.ingress if direction is Direction.INGRESS else self.egress


def compile_cluster(
    cluster: Cluster,
    profile: Profile | str = "generic",
    extra_services: Iterable[ServiceMatch] = (),
    pod_cidrs: tuple[str, ...] | list[str] | None = None,
) -> CompiledCluster:
    """`extra_services`: services a question will ask about (a contract's ports), so atoms align with them.
    `pod_cidrs`: where pods whose address the input does not give may live (None: private address space;
    empty: nowhere, i.e. CIDR rules never match them)."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    ranges = mentioned_ranges(cluster)
    groups = cluster.endpoint_groups
    has_ipv6 = any(family == 6 for group in groups for family, _ in group.ips)
    atoms = IPAtoms(ranges, include_ipv6=has_ipv6)
    classes, group_class = build_classes(groups, atoms, identified_ids(cluster))
    service_trees = [
        rule.service for policy in cluster.policies for rules in (policy.ingress, policy.egress) for rule in rules or ()
    ]
    named = {(p.protocol, p.port) for cls in classes for p in cls.ports if p.name}
    services = ServiceSpace(set(service_trees) | set(extra_services), named)
    peers = PeerSpace(
        classes,
        cluster.namespaces,
        atoms,
        profile,
        cluster.network_sets,
        cluster.service_accounts,
        unknown_address_space=pod_ranges(pod_cidrs),
        nodes=cluster.nodes,
    )
    symbols: dict[tuple[int, str], int] = {}
    defaults = final_defaults(classes)
    policies = [*built_in_policies(profile, groups), *cluster.policies]
    ingress = build_direction(Direction.INGRESS, policies, peers, services, symbols, defaults)
    egress = build_direction(Direction.EGRESS, policies, peers, services, symbols, defaults)
    symbol_atom = np.full((max(len(symbols), 1), len(classes)), -1, dtype=np.int64)
    for c, cls in enumerate(classes):
        for port in cls.ports:
            if port.name and (port.protocol, port.name) in symbols:
                symbol_atom[symbols[(port.protocol, port.name)], c] = services.atom_of(port.protocol, port.port)
    return CompiledCluster(
        cluster=cluster,
        profile=profile,
        groups=groups,
        classes=classes,
        group_class=group_class,
        atoms=atoms,
        services=services,
        peers=peers,
        ingress=ingress,
        egress=egress,
        symbols=symbols,
        symbol_atom=symbol_atom,
    )
