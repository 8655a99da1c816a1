"""The contract's `exposure`: which pods may be reached from the internet, and how.

`internet: ingress-only`: only through a load balancer; a pod whose own policy admits internet addresses
(an ipBlock/nets rule, or no ingress policy at all) is a violation. `internet: none`: not even through an
internet-facing ALB. `any` (or no `exposure`) checks nothing. Internet addresses are everything outside
private, shared, loopback, link-local and multicast space and the VPC subnets the input describes: an ALB
hides its clients (the pod sees the ALB's own address), so an internet address reaching a pod means a raw
L3 path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.addresses import IPRange, parse_cidr, subtract
from netverify.verify.load_balancer_checks import ConfigViolation

NOT_INTERNET = tuple(
    parse_cidr(c)
    for c in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
EXPOSURE_LEVELS = ("any", "ingress-only", "none")

Explain = Callable[[ConnectivityMatrix, Endpoint, Endpoint, ConnSet], list]


def internet_atoms(matrix: ConnectivityMatrix) -> list[tuple[int, list[IPRange]]]:
    """IP atoms with internet addresses in them, and those addresses."""
    compiled = matrix.compiled
    excluded = list(NOT_INTERNET) + [r for subnet in compiled.cluster.subnets for r in subnet.cidrs]
    found = []
    for a, atom in enumerate(compiled.atoms.atoms):
        public = subtract(atom, excluded)
        if public:
            found.append((a, public))
    return found


def direct_exposure(matrix: ConnectivityMatrix, explain: Explain, tenant: Callable[[str], str]) -> list:
    """Pods whose policy admits internet addresses themselves: one violation per workload."""
    from netverify.verify.results import Violation

    compiled = matrix.compiled
    public = internet_atoms(matrix)
    if not public:
        return []
    columns = np.array([compiled.n_classes + a for a, _ in public], dtype=np.int64)
    violations = []
    for dst in matrix.workload_endpoints():
        if dst.namespace is None:
            continue
        rows = matrix.ingress[dst.class_index, columns]
        reached = np.flatnonzero(rows.any(axis=1))
        if not len(reached):
            continue
        words = np.bitwise_or.reduce(rows[reached], axis=0)
        ranges = [r for k in reached for r in public[k][1]]
        label = ranges[0].label if len(ranges) == 1 else f"internet ({len(ranges)} ranges, e.g. {ranges[0].label})"
        src = Endpoint(label, "external", atoms=(public[reached[0]][0],))
        conn = ConnSet(words, compiled.services)
        violations.append(
            Violation(
                "internet-exposure", src, dst, conn, "internet", tenant(dst.namespace), explain(matrix, src, dst, conn)
            )
        )
    return violations


def public_load_balancers(matrix: ConnectivityMatrix) -> list[ConfigViolation]:
    found = []
    for lb in matrix.compiled.load_balancers.balancers:
        if lb.scheme != "internet-facing" or not any(t.groups or t.external for t in lb.target_groups):
            continue
        member = next((m for m in lb.members if m.alb("scheme") == "internet-facing"), lb.members[0])
        found.append(
            ConfigViolation(
                "internet-exposure",
                f"ALB {lb.id} is internet-facing and forwards to namespaces {', '.join(lb.namespaces)}; the contract "
                "says exposure.internet: none",
                member.where("scheme"),
            )
        )
    return found


def check_exposure(matrix: ConnectivityMatrix, level: str | None, explain: Explain, tenant) -> list:
    if level in (None, "any"):
        return []
    violations = direct_exposure(matrix, explain, tenant)
    if level == "none":
        violations += public_load_balancers(matrix)
    return violations
