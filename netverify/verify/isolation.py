"""Tenant isolation: every pod-to-pod flow between tenants that the contract does not declare is a
violation, named with the policies and rules that allowed it (file:line)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.diagnostics import UNMODELLED_POLICY, Diagnostic, Severity
from netverify.model.policy import Action
from netverify.model.services import ServiceMatch, ServiceUnion
from netverify.verify.contract import Contract, pods_match, port_spec_service
from netverify.verify.explain import trace_flow

MAX_EXPLAINED_ATOMS = 16
FINDING_CODES = {
    UNMODELLED_POLICY: "warning",
    "approximated-rule": "warning",
    "host-endpoint-only": "info",
    "unsupported-field": "warning",
    "ambiguous-priority": "warning",
    "ignored-rules": "warning",
    "untracked-policy": "warning",
    "undefined-profile": "warning",
    "host-endpoint-address": "warning",
}


@dataclass(frozen=True)
class AllowedBy:
    """A policy rule (or an endpoint's default) that let the flow through on one side."""

    direction: str
    kind: str
    policy: str | None
    rule: str | None
    file: str | None
    line: int | None
    uncertain: bool = False  # the rule matches only if an unknown pod address falls inside its CIDR

    def to_json(self) -> dict:
        data = {"policy": self.policy, "kind": self.kind, "direction": self.direction, "rule": self.rule}
        data.update({"file": self.file, "line": self.line})
        if self.uncertain:
            data["uncertain"] = True
        return data

    def __str__(self) -> str:
        if self.policy is None:
            return f"{self.direction}: {self.rule}"
        where = f" at {self.file}:{self.line}" if self.file else ""
        maybe = (
            " (only if the peer's unknown pod address lies in the rule's CIDR; --pod-cidr tells where pods live)"
            if self.uncertain
            else ""
        )
        return f"{self.direction}: {self.kind} {self.policy} {self.rule}{where}{maybe}"


@dataclass
class Violation:
    rule: str
    src: Endpoint
    dst: Endpoint
    conn: ConnSet
    src_tenant: str
    dst_tenant: str
    allowed_by: list[AllowedBy] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "src": self.src.id,
            "dst": self.dst.id,
            "src_tenant": self.src_tenant,
            "dst_tenant": self.dst_tenant,
            "conn": self.conn.to_json(),
            "allowed_by": [a.to_json() for a in self.allowed_by],
        }


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


@dataclass
class CheckResult:
    violations: list[Violation]
    findings: list[Finding]
    errors: list[Diagnostic]
    stats: dict

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors

    @property
    def proven(self) -> bool:
        """False when the input holds policy kinds that are not modelled: a flow they deny or allow is
        invisible here, so "holds" would claim more than was checked."""
        return not any(f.rule == UNMODELLED_POLICY for f in self.findings)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "proven": self.proven,
            "violations": [v.to_json() for v in self.violations],
            "findings": [f.to_json() for f in self.findings],
            "errors": [
                {
                    "message": e.message,
                    "file": e.source.file if e.source else None,
                    "line": e.source.line if e.source else None,
                }
                for e in self.errors
            ],
            "stats": self.stats,
        }


def contract_services(contract: Contract) -> list[ServiceMatch]:
    """Ports the contract names: the service space is cut at them so exemptions are exact."""
    entries = [*(contract.spec.shared or []), *(contract.spec.allow or [])]
    return [port_spec_service(text) for entry in entries for text in entry.ports or []]


def _ports_mask(matrix: ConnectivityMatrix, ports: list[str] | None) -> np.ndarray:
    space = matrix.compiled.services
    if not ports:
        return space.full
    return space.pack(space.mask(ServiceUnion(tuple(port_spec_service(text) for text in ports))))


def _labels(matrix: ConnectivityMatrix, endpoint: Endpoint) -> dict[str, str]:
    assert endpoint.class_index is not None
    return matrix.compiled.classes[endpoint.class_index].labels


def explain_allowed(
    matrix: ConnectivityMatrix, src: Endpoint, dst: Endpoint, conn: ConnSet
) -> list[AllowedBy]:
    """The rules (or defaults) that allowed `conn` from src to dst, on both sides, without repeats."""
    assert src.class_index is not None and dst.class_index is not None
    atoms = np.flatnonzero(matrix.compiled.services.unpack(conn.words))[:MAX_EXPLAINED_ATOMS]
    found: dict[tuple, AllowedBy] = {}
    peers = matrix.compiled.peers
    for atom in atoms:
        flow = trace_flow(matrix.compiled, ("class", src.class_index), ("class", dst.class_index), int(atom))
        for trace in (flow.egress, flow.ingress):
            if trace is None:
                continue
            decision = trace.deciding
            direction = trace.direction.value
            if decision is not None and decision.step == "rule" and decision.action is Action.ALLOW:
                assert decision.policy is not None and decision.rule is not None
                other = dst.class_index if direction == "egress" else src.class_index
                key = (direction, decision.policy.kind, decision.policy.name, decision.rule.name)
                found.setdefault(
                    key,
                    AllowedBy(
                        direction,
                        decision.policy.kind,
                        decision.policy.name,
                        decision.rule.name,
                        decision.rule.source.file,
                        decision.rule.source.line,
                        uncertain=not peers.mask(decision.rule.peer, possible=False)[other],
                    ),
                )
            else:
                last = trace.decisions[-1].detail if trace.decisions else "allowed by default"
                key = (direction, "default")
                found.setdefault(key, AllowedBy(direction, "default", None, last, None, None))
    return list(found.values())


def check_isolation(matrix: ConnectivityMatrix, contract: Contract) -> CheckResult:
    cluster = matrix.compiled.cluster
    namespaces = cluster.namespaces
    tenant_cache: dict[str, str] = {}

    def tenant(namespace: str) -> str:
        if namespace not in tenant_cache:
            tenant_cache[namespace] = contract.tenant_of(namespaces.get(namespace), namespace)
        return tenant_cache[namespace]

    shared = [(entry, _ports_mask(matrix, entry.ports)) for entry in contract.spec.shared or []]
    allows = [(entry, _ports_mask(matrix, entry.ports)) for entry in contract.spec.allow or []]
    violations: list[Violation] = []
    for src, dst, conn in matrix.connections():
        if src.is_external or dst.is_external or src.namespace is None or dst.namespace is None:
            continue  # addresses and host endpoints belong to no tenant
        src_tenant, dst_tenant = tenant(src.namespace), tenant(dst.namespace)
        if src_tenant == dst_tenant:
            continue
        remaining = conn.words.copy()
        src_labels, dst_labels = _labels(matrix, src), _labels(matrix, dst)
        for entry, mask in shared:
            to_shared = entry.namespace == dst.namespace and pods_match(entry.pods, dst_labels)
            from_shared = entry.both_ways and entry.namespace == src.namespace and pods_match(entry.pods, src_labels)
            if to_shared or from_shared:
                remaining &= ~mask
        for entry, mask in allows:
            if contract.party_matches(
                entry.from_, src.namespace, src_tenant, src_labels
            ) and contract.party_matches(entry.to, dst.namespace, dst_tenant, dst_labels):
                remaining &= ~mask
        if not remaining.any():
            continue
        leak = ConnSet(remaining, conn.space)
        violations.append(
            Violation(
                "cross-tenant-flow",
                src,
                dst,
                leak,
                src_tenant,
                dst_tenant,
                explain_allowed(matrix, src, dst, leak),
            )
        )
    findings = [
        Finding(
            d.code,
            FINDING_CODES[d.code],
            f"the result cannot be proven: {d.message}" if d.code == UNMODELLED_POLICY else d.message,
            d.source.file if d.source else None,
            d.source.line if d.source else None,
        )
        for d in cluster.diagnostics
        if d.severity is not Severity.ERROR and d.code in FINDING_CODES
    ]
    stats = {
        "endpoints": len(matrix.workload_endpoints()),
        "classes": matrix.n_classes,
        "policies": len(cluster.policies),
        "tenants": len({tenant(g.namespace) for g in cluster.groups}),
        "seconds": round(matrix.seconds, 3),
    }
    return CheckResult(violations, findings, cluster.errors, stats)
