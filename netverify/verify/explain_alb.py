"""The ALB hop of a packet trace: internet (or one ALB) -> load balancer -> route -> Service -> pod port,
and the pod's ingress verdict for the ALB's own addresses, rule by rule.

A pod behind an ALB never sees the client; it sees the ALB's subnet addresses (and node addresses in
instance mode with externalTrafficPolicy Cluster). So "can the internet reach this pod" has two answers:
through each internet-facing ALB that routes to it (frontend, route, and the pod admitting the ALB), and
directly (a raw L3 path: the pod admitting internet addresses itself), which the ordinary trace shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netverify.engine.hops import Hop, admitting_atoms, source_ranges, target_hops
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.load_balancers import LoadBalancer, Route, TargetGroup
from netverify.verify.explain import ExplainedGroup, explain_pair

INTERNET = "internet"


@dataclass
class LoadBalancerPath:
    balancer: LoadBalancer
    routes: list[Route]  # the listener rules that forward to this target (empty: the default backend)
    target: TargetGroup
    hops: list[Hop]  # traffic port, then health-check port
    source_atom: int | None  # the ALB address the trace below uses (an admitted one when any is)
    traces: list[ExplainedGroup]  # the pod's ingress for that address, per hop

    @property
    def reachable(self) -> bool:
        return bool(self.hops) and self.hops[0].reaches


def _routes_to(lb: LoadBalancer, target: TargetGroup) -> list[Route]:
    return [r for r in lb.routes if any(t is target for t in r.targets)]


def _representative_atom(matrix: ConnectivityMatrix, hop: Hop, ranges) -> int | None:
    """An ALB address atom the pod admits on the hop's port if there is one, else the first of them."""
    if hop.port is None:
        atoms = matrix.compiled.atoms.covered(ranges or [])
        return atoms[0] if atoms else None
    atoms, allowed = admitting_atoms(matrix, hop.group, hop.protocol, hop.port, ranges or [])
    if not atoms:
        return None
    admitted = np.flatnonzero(allowed)
    return atoms[int(admitted[0])] if len(admitted) else atoms[0]


def load_balancer_paths(matrix: ConnectivityMatrix, src: str, dst: Endpoint) -> list[LoadBalancerPath]:
    """Every ALB path from `src` (INTERNET: internet-facing ALBs; or an ALB's endpoint id) to `dst`."""
    compiled = matrix.compiled
    group_ids = {g: group.id for g, group in enumerate(compiled.groups)}
    wanted = dst.owner or dst.id
    paths: list[LoadBalancerPath] = []
    for lb in compiled.load_balancers.balancers:
        if src == INTERNET and lb.scheme != "internet-facing":
            continue
        if src not in (INTERNET, lb.endpoint_id):
            continue
        for target in lb.target_groups:
            hops = [h for h in target_hops(matrix, lb, target) if group_ids[h.group] == wanted]
            if not hops:
                continue
            ranges = source_ranges(matrix, lb, target)
            atom = _representative_atom(matrix, hops[0], ranges)
            traces = []
            if atom is not None:
                for hop in hops:
                    if hop.port is None:
                        continue
                    service = compiled.services.atom_of(hop.protocol, hop.port)
                    traces += explain_pair(compiled, ("atom", atom), ("class", dst.class_index), [service])
            paths.append(LoadBalancerPath(lb, _routes_to(lb, target), target, hops, atom, traces))
    return paths


def internet_source(matrix: ConnectivityMatrix, dst: Endpoint) -> Endpoint | None:
    """An internet address for the direct trace: one the destination admits if any, else the first one."""
    from netverify.verify.exposure import internet_atoms

    public = internet_atoms(matrix)
    if not public:
        return None
    compiled = matrix.compiled
    chosen = public[0]
    if dst.class_index is not None:
        for atom, ranges in public:
            if matrix.ingress[dst.class_index, compiled.n_classes + atom].any():
                chosen = (atom, ranges)
                break
    atom, ranges = chosen
    return Endpoint(f"{INTERNET} ({ranges[0].label})", "external", atoms=(atom,))
