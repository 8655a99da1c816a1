"""Everything the engine needs, derived once from a Cluster and a CNI profile."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from netverify.compile.classes import EndpointClass, build_classes
from netverify.compile.ip_atoms import IPAtoms
from netverify.compile.load_balancers import LoadBalancerModel, build_load_balancers
from netverify.compile.peers import PeerSpace
from netverify.compile.profiles import Profile, built_in_policies, get_profile, pod_ranges
from netverify.compile.service_atoms import ServiceSpace
from netverify.compile.tables import FINAL_ALLOW, FINAL_DENY, DirectionTables, build_direction
from netverify.model.addresses import IPRange
from netverify.model.cluster import Cluster
from netverify.model.peers import ByIdentity, NetPeer, PeerMatch, walk_peer
from netverify.model.policy import Direction, Policy
from netverify.model.services import ProtocolPorts, ServiceMatch
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


def mentioned_ranges(cluster: Cluster, nodes: list[PeerMatch]) -> list[IPRange]:
    """`nodes`: the peer nodes of the cluster's policies (`peer_nodes`)."""
    found: list[IPRange] = []
    for node in nodes:
        if isinstance(node, NetPeer):
            found.extend(node.ranges)
    for network_set in cluster.network_sets:
        found.extend(network_set.ranges)
    for node in cluster.nodes:  # node addresses are their own atoms, so `nodes` peers match exactly them
        found.extend(IPRange(family, address, address) for family, address in node.addresses)
    for subnet in cluster.subnets:  # where load balancers, nodes and pods sit: the ALB checks ask per subnet
        found.extend(subnet.cidrs)
    return found


def pod_address_space(cluster: Cluster, pod_cidrs: tuple[str, ...] | list[str] | None) -> tuple[IPRange, ...]:
    """Where pods without a known address may be: `--pod-cidr` if given, else the subnets the infrastructure
    files say hold pods (with the VPC CNI, pods take addresses in their node's subnet), else private space."""
    if pod_cidrs is None:
        pod_subnets = tuple(r for subnet in cluster.subnets if "pods" in subnet.roles for r in subnet.cidrs)
        if pod_subnets:
            return pod_subnets
    return pod_ranges(pod_cidrs)


def identified_ids(nodes: list[PeerMatch]) -> set[str]:
    """Endpoint ids some `ByIdentity` peer node names: those endpoints need classes of their own."""
    return {ident for node in nodes if isinstance(node, ByIdentity) for ident in node.ids}


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
    load_balancers: LoadBalancerModel  # ALBs (one per IngressGroup) and target group bindings
    extra_services: tuple[ServiceMatch, ...] = ()  # what compile_cluster was asked, kept so an edit can redo it
    pod_cidrs: tuple[str, ...] | None = None
    cuts: Any = None  # compile.edit.CutIndex, built by the first incremental edit and carried along

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
    progress=None,
) -> CompiledCluster:
    """`extra_services`: services a question will ask about (a contract's ports), so atoms align with them.
    `pod_cidrs`: where pods whose address the input does not give may live (None: private address space;
    empty: nowhere, i.e. CIDR rules never match them). `progress(done, total)`: policies compiled, per direction."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    extra_services = tuple(extra_services)
    nodes = list(peer_nodes(cluster.policies))  # walked once for both of its uses
    ranges = mentioned_ranges(cluster, nodes)
    groups = cluster.endpoint_groups
    has_ipv6 = any(family == 6 for group in groups for family, _ in group.ips)
    atoms = IPAtoms(ranges, include_ipv6=has_ipv6)
    classes, group_class = build_classes(groups, atoms, identified_ids(nodes))
    service_trees = [
        rule.service for policy in cluster.policies for rules in (policy.ingress, policy.egress) for rule in rules or ()
    ]
    named = {(p.protocol, p.port) for cls in classes for p in cls.ports if p.name}
    load_balancers = build_load_balancers(cluster)
    services = ServiceSpace(set(service_trees) | set(extra_services) | target_services(load_balancers), named)
    peers = PeerSpace(
        classes,
        cluster.namespaces,
        atoms,
        profile,
        cluster.network_sets,
        cluster.service_accounts,
        unknown_address_space=pod_address_space(cluster, pod_cidrs),
        nodes=cluster.nodes,
    )
    symbols: dict[tuple[int, str], int] = {}
    defaults = final_defaults(classes)
    policies = [*built_in_policies(profile, groups), *cluster.policies]
    ingress = build_direction(Direction.INGRESS, policies, peers, services, symbols, defaults, progress)
    egress = build_direction(Direction.EGRESS, policies, peers, services, symbols, defaults, progress)
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
        load_balancers=load_balancers,
        extra_services=extra_services,
        pod_cidrs=None if pod_cidrs is None else tuple(pod_cidrs),
    )


def target_services(model: LoadBalancerModel) -> set[ServiceMatch]:
    """The ports load balancers send to, so each is an atom of its own and the ALB checks ask exactly it."""
    found: set[ServiceMatch] = set()
    for target in [t for lb in model.balancers for t in lb.target_groups] + model.bindings:
        if target.service_port is not None:
            for port in (target.target_port, target.health_check_port):
                if isinstance(port, int):
                    found.add(ProtocolPorts(target.service_port.protocol, ((port, port),)))
    return found
