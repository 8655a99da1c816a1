"""The load balancer part of the connectivity map: sources -> ALB (its listeners) and ALB -> target pods.

An ALB is an endpoint of its own (`alb:<group>`, kind LoadBalancer). What reaches it is its frontend
(inbound CIDRs on its listen ports; an internal ALB only from inside the VPC). What it reaches is every
target workload whose policy may admit it on the target port: placement unknown or partly admitted counts
as reachable, because exposure errs toward reachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.hops import load_balancer_hops
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.addresses import IPRange
from netverify.model.load_balancers import LoadBalancer

LOAD_BALANCER_KIND = "LoadBalancer"


@dataclass(frozen=True)
class ListenerPorts:
    """The TCP ports an ALB listens on, in the matrix's `conn` shape."""

    ports: tuple[int, ...]

    def to_json(self) -> dict:
        return {"TCP": [[p, p] for p in self.ports]}

    def __str__(self) -> str:
        return "TCP " + ",".join(str(p) for p in self.ports)


def balancer_endpoint(lb: LoadBalancer) -> Endpoint:
    return Endpoint(lb.endpoint_id, LOAD_BALANCER_KIND, name=lb.id)


def balancer_json(lb: LoadBalancer) -> dict:
    data = balancer_endpoint(lb).to_json()
    data.update({"scheme": lb.scheme, "namespaces": lb.namespaces, "ingresses": [m.id for m in lb.members]})
    if lb.source_ranges is not None:
        data["subnets"] = [s.id for s in lb.subnets]
    return data


def _frontend(lb: LoadBalancer) -> list[IPRange]:
    return list(lb.inbound) if lb.inbound is not None else [IPRange(4, 0, (1 << 32) - 1)]


def frontend_flows(lb: LoadBalancer) -> Iterator[tuple[Endpoint, Endpoint, ListenerPorts]]:
    """(source range, ALB, listener ports) for each range the ALB's frontend admits."""
    alb = balancer_endpoint(lb)
    ports = ListenerPorts(tuple(sorted({port for _, port in lb.listen_ports})))
    for r in _frontend(lb):
        yield Endpoint(r.label, "external"), alb, ports


def load_balancer_flows(
    matrix: ConnectivityMatrix, per_pod: bool = False
) -> Iterator[tuple[Endpoint, Endpoint, object]]:
    """Per ALB: its frontend flows, then (ALB, workload, target ports whose pods may admit the ALB)."""
    space = matrix.compiled.services
    endpoints = matrix.workload_endpoints(per_pod)
    by_group: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        by_group.setdefault(endpoint.owner or endpoint.id, []).append(endpoint)
    hops = load_balancer_hops(matrix)
    for lb in matrix.compiled.load_balancers.balancers:
        alb = balancer_endpoint(lb)
        yield from frontend_flows(lb)
        reached: dict[int, np.ndarray] = {}
        for hop in hops:
            if hop.balancer is not lb or not hop.reaches:
                continue
            words = reached.setdefault(hop.group, np.zeros(space.words, dtype=np.uint64))
            atom = space.atom_of(hop.protocol, hop.port)
            words[atom // 64] |= np.uint64(1) << np.uint64(atom % 64)
        for group, words in reached.items():
            for endpoint in by_group.get(matrix.compiled.groups[group].id, []):
                yield alb, endpoint, ConnSet(words, space)


def load_balancer_endpoints(matrix: ConnectivityMatrix) -> list[dict]:
    return [balancer_json(lb) for lb in matrix.compiled.load_balancers.balancers]

