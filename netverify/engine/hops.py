"""Load balancer hops: does each target pod admit its ALB, on the traffic port and the health-check port?

A pod behind an ALB sees the ALB's own addresses (target type ip, or instance with externalTrafficPolicy
Local), inside the ALB's subnets; in instance mode with externalTrafficPolicy Cluster it may also see node
addresses (reference §1.5). The ALB's network interfaces can take any address of its subnets, so a pod
admits its ALB for sure only when every address of those subnets is allowed, and is reachable through it
when any is (an exposure question errs toward reachable, a breakage question toward broken).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netverify.engine.matrix import ConnectivityMatrix
from netverify.model.addresses import IPRange
from netverify.model.load_balancers import LoadBalancer, TargetGroup
from netverify.model.services import protocol_name

ALL, SOME, NONE, UNKNOWN = "all", "some", "none", "unknown"


@dataclass(frozen=True)
class Hop:
    """ALB -> one target workload on one pod port: how much of the ALB's address space the pod admits."""

    balancer: LoadBalancer
    target: TargetGroup
    group: int  # index into the compiled endpoint groups
    protocol: int
    port: int | None  # None: a named target port the pod does not have
    purpose: str  # "traffic" or "health check"
    admitted: str  # ALL, SOME, NONE, or UNKNOWN (the ALB's placement is unknown)

    @property
    def port_label(self) -> str:
        return f"{self.port}/{protocol_name(self.protocol)}" if self.port is not None else "?"

    @property
    def reaches(self) -> bool:
        """Traffic can get through this hop (to a real pod port, from some ALB address or an unknown one)."""
        return self.purpose == "traffic" and self.port is not None and self.admitted != NONE


def source_ranges(matrix: ConnectivityMatrix, balancer: LoadBalancer, target: TargetGroup) -> list[IPRange] | None:
    """Addresses the target pods may see this ALB's traffic from; None when unknown."""
    if balancer.source_ranges is None:
        return None
    ranges = list(balancer.source_ranges)
    if target.snat_to_nodes:
        cluster = matrix.compiled.cluster
        ranges += [IPRange(f, a, a) for node in cluster.nodes for f, a in node.addresses]
        ranges += [r for subnet in cluster.subnets if "nodes" in subnet.roles for r in subnet.cidrs]
    return ranges


def _pod_port(matrix: ConnectivityMatrix, group: int, target: TargetGroup, port: int | str | None) -> int | None:
    if isinstance(port, int) or port is None:
        return port
    for container_port in matrix.compiled.groups[group].ports:
        if container_port.name == port and container_port.protocol == target.service_port.protocol:
            return container_port.port
    return None


def admitting_atoms(
    matrix: ConnectivityMatrix, group: int, protocol: int, port: int, ranges: list[IPRange]
) -> tuple[list[int], np.ndarray]:
    """The IP atoms of `ranges`, and for each whether the group's pods admit it on (protocol, port)."""
    compiled = matrix.compiled
    atoms = compiled.atoms.covered(ranges)
    if not atoms:
        return atoms, np.zeros(0, dtype=bool)
    service = compiled.services.atom_of(protocol, port)
    word, bit = divmod(service, 64)
    row = matrix.ingress[compiled.group_class[group], compiled.n_classes + np.asarray(atoms), word]
    return atoms, ((row >> np.uint64(bit)) & np.uint64(1)).astype(bool)


def admitted(matrix: ConnectivityMatrix, group: int, protocol: int, port: int, ranges: list[IPRange]) -> str:
    atoms, allowed = admitting_atoms(matrix, group, protocol, port, ranges)
    if not atoms:
        return NONE
    if allowed.all():
        return ALL
    return SOME if allowed.any() else NONE


def target_hops(matrix: ConnectivityMatrix, balancer: LoadBalancer, target: TargetGroup) -> list[Hop]:
    if target.service_port is None:
        return []  # a target group netverify cannot see
    ranges = source_ranges(matrix, balancer, target)
    protocol = target.service_port.protocol
    hops: list[Hop] = []
    for group in target.groups:
        ports = [("traffic", target.target_port)]
        if target.health_check_port is not None:
            ports.append(("health check", target.health_check_port))
        for purpose, wanted in ports:
            port = _pod_port(matrix, group, target, wanted)
            if port is None:
                hops.append(Hop(balancer, target, group, protocol, None, purpose, NONE))
            elif ranges is None:
                hops.append(Hop(balancer, target, group, protocol, port, purpose, UNKNOWN))
            else:
                hops.append(Hop(balancer, target, group, protocol, port, purpose, admitted(matrix, group, protocol,
                                                                                          port, ranges)))
    return hops


def load_balancer_hops(matrix: ConnectivityMatrix) -> list[Hop]:
    """Every ALB -> target workload hop of the cluster, in load balancer order."""
    hops: list[Hop] = []
    for balancer in matrix.compiled.load_balancers.balancers:
        for target in balancer.target_groups:
            hops.extend(target_hops(matrix, balancer, target))
    return hops
