"""Tenant isolation: every pod-to-pod flow between tenants that the contract does not declare is a
violation, named with the policies and rules that allowed it (file:line)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.diagnostics import UNMODELLED_POLICY, Diagnostic, Severity
from netverify.model.policy import Action
from netverify.model.services import ServiceMatch, ServiceUnion
from netverify.model.source import SourceRef
from netverify.verify.contract import Contract, pods_match, port_spec_service
from netverify.verify.explain import Decision, trace_direction, trace_flow
from netverify.verify.load_balancer_checks import check_load_balancers

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


@dataclass(frozen=True)
class Suppression:
    """Why a violation does not fail the check: a policy annotation, a contract `allow` entry, or the
    baseline; `file`/`line` point at the annotated policy, the contract entry or the baseline entry."""

    kind: str  # "annotation", "contract" or "baseline"
    justification: str
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "justification": self.justification, "file": self.file, "line": self.line}

    def __str__(self) -> str:
        where = f" at {self.file}:{self.line}" if self.file and self.line else ""
        return f"{self.kind}{where}: {self.justification}"


@dataclass
class Violation:
    rule: str
    src: Endpoint
    dst: Endpoint
    conn: ConnSet
    src_tenant: str
    dst_tenant: str
    allowed_by: list[AllowedBy] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)  # empty: the violation fails the check

    def to_json(self) -> dict:
        data = {
            "rule": self.rule,
            "src": self.src.id,
            "dst": self.dst.id,
            "src_tenant": self.src_tenant,
            "dst_tenant": self.dst_tenant,
            "conn": self.conn.to_json(),
            "allowed_by": [a.to_json() for a in self.allowed_by],
        }
        if self.suppressions:
            data["suppressions"] = [s.to_json() for s in self.suppressions]
        return data


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
    """`violations` fail the check; `suppressed` (annotation or contract `allow`) and `baselined` ones do
    not, and are reported so that every exception stays visible."""

    violations: list  # Violation (a flow) or ConfigViolation (e.g. tenants sharing a load balancer)
    findings: list[Finding]
    errors: list[Diagnostic]
    stats: dict
    suppressed: list[Violation] = field(default_factory=list)
    baselined: list[Violation] = field(default_factory=list)
    baseline: str | None = None  # the baseline file the violations were compared with
    endpoint_sources: dict[str, SourceRef] = field(default_factory=dict)  # where each endpoint is defined
    tenants: list[str] = field(default_factory=list)  # every tenant with a pod, sorted
    # flow judgements before annotation suppression, kept so that a re-check costs O(change):
    # (cross-tenant flows that fail the contract, flows the contract's `allow` declares), in pair order
    judged: tuple[list, list] = field(default=((), ()), repr=False, compare=False)
    # verify.recheck.CheckIndex: where each judged flow sits among the endpoint pairs
    index: Any = field(default=None, repr=False, compare=False)

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
            "suppressed": [v.to_json() for v in self.suppressed],
            "baselined": [v.to_json() for v in self.baselined],
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
    """The rules (or defaults) that allowed `conn` from src to dst, on both sides, without repeats; src may be
    an external endpoint (then only the destination's ingress decides).

    Not only the rule that decided: also every rule that would allow the flow if the ones before it were
    fixed (the same trace without their policies), so that fixing the reported rule is not a surprise.
    """
    assert dst.class_index is not None
    compiled = matrix.compiled
    atoms = np.flatnonzero(compiled.services.unpack(conn.words))[:MAX_EXPLAINED_ATOMS]
    found: dict[tuple, AllowedBy] = {}
    source = ("class", src.class_index) if src.class_index is not None else ("atom", src.atoms[0])
    src_peer = src.class_index if src.class_index is not None else matrix.n_classes + src.atoms[0]
    for atom in atoms:
        flow = trace_flow(compiled, source, ("class", dst.class_index), int(atom))
        sides = ((flow.egress, src_peer, dst.class_index), (flow.ingress, dst.class_index, src_peer))
        for trace, target, peer in sides:
            if trace is None:
                continue
            direction = trace.direction.value
            decision = trace.deciding
            if decision is None or decision.step != "rule" or decision.action is not Action.ALLOW:
                last = trace.decisions[-1].detail if trace.decisions else "allowed by default"
                found.setdefault((direction, "default"), AllowedBy(direction, "default", None, last, None, None))
                continue
            ignored: set[int] = set()
            while decision is not None and decision.step == "rule" and decision.action is Action.ALLOW:
                _record_rule(matrix, found, direction, decision, peer)
                assert decision.policy_index is not None
                ignored.add(decision.policy_index)
                again = trace_direction(compiled, trace.direction, target, peer, int(atom), frozenset(ignored))
                decision = again.deciding if again.allowed else None
    return list(found.values())


def _record_rule(
    matrix: ConnectivityMatrix, found: dict[tuple, AllowedBy], direction: str, decision: Decision, peer: int
) -> None:
    """`peer`: the other end's index in the peer space (a class, or n_classes + an IP atom)."""
    assert decision.policy is not None and decision.rule is not None
    key = (direction, decision.policy.kind, decision.policy.name, decision.rule.name)
    if key in found:
        return
    found[key] = AllowedBy(
        direction,
        decision.policy.kind,
        decision.policy.name,
        decision.rule.name,
        decision.rule.source.file,
        decision.rule.source.line,
        uncertain=not matrix.compiled.peers.mask(decision.rule.peer, possible=False)[peer],
    )


class FlowJudge:
    """Decides whether one allowed pod-to-pod flow breaks the contract, and explains it (one per check): what
    is left after `shared` fails, what the contract's `allow` entries cover is declared (reported, not failing).
    """

    def __init__(self, matrix: ConnectivityMatrix, contract: Contract):
        self.matrix = matrix
        self.contract = contract
        self.namespaces = matrix.compiled.cluster.namespaces
        self._tenants: dict[str, str] = {}
        self.shared = [(entry, _ports_mask(matrix, entry.ports)) for entry in contract.spec.shared or []]
        self.allows = [
            (i, entry, _ports_mask(matrix, entry.ports)) for i, entry in enumerate(contract.spec.allow or [])
        ]

    def tenant(self, namespace: str) -> str:
        if namespace not in self._tenants:
            self._tenants[namespace] = self.contract.tenant_of(self.namespaces.get(namespace), namespace)
        return self._tenants[namespace]

    def judge(self, src: Endpoint, dst: Endpoint, conn: ConnSet) -> tuple[Violation | None, Violation | None]:
        """(the part of the flow that violates the contract, the part its `allow` entries declare)."""
        if src.is_external or dst.is_external or src.namespace is None or dst.namespace is None:
            return None, None  # addresses and host endpoints belong to no tenant
        src_tenant, dst_tenant = self.tenant(src.namespace), self.tenant(dst.namespace)
        if src_tenant == dst_tenant:
            return None, None
        matrix, contract = self.matrix, self.contract
        remaining = conn.words.copy()
        src_labels, dst_labels = _labels(matrix, src), _labels(matrix, dst)
        for entry, mask in self.shared:
            to_shared = entry.namespace == dst.namespace and pods_match(entry.pods, dst_labels)
            from_shared = entry.both_ways and entry.namespace == src.namespace and pods_match(entry.pods, src_labels)
            if to_shared or from_shared:
                remaining &= ~mask
        excepted = np.zeros_like(remaining)
        reasons: list[Suppression] = []
        for index, entry, mask in self.allows:
            if contract.party_matches(
                entry.from_, src.namespace, src_tenant, src_labels
            ) and contract.party_matches(entry.to, dst.namespace, dst_tenant, dst_labels):
                if (remaining & mask).any():
                    excepted |= remaining & mask
                    reasons.append(contract.allow_suppression(index))
                remaining &= ~mask
        found: list[Violation | None] = []
        for words, why in ((remaining, []), (excepted, reasons)):
            if not words.any():
                found.append(None)
                continue
            flow = ConnSet(words, conn.space)
            # a declared flow is explained by its contract entry (in `why`); tracing the rules that opened it
            # would cost as much as a violation for every flow a broad `allow` covers
            explained = explain_allowed(matrix, src, dst, flow) if not why else []
            found.append(Violation("cross-tenant-flow", src, dst, flow, src_tenant, dst_tenant, explained, why))
        return found[0], found[1]


ROW_BLOCK = 256  # source endpoints per block: bounds the temporary (block x endpoints x words) copies


def cross_tenant_flows(
    matrix: ConnectivityMatrix, tenant: Callable[[str], str], progress: Callable[[int, int], None] | None = None
) -> Iterator[tuple[Endpoint, Endpoint, ConnSet]]:
    """Pod-to-pod flows whose ends are in different tenants, in the order of `matrix.connections()`.

    Addresses and host endpoints belong to no tenant. Same-tenant pairs are dropped with numpy, a block of
    source rows at a time, so Python only walks the flows that can be violations (at 100,000 pods the
    same-tenant flows outnumber them).
    """
    pods = [e for e in matrix.workload_endpoints() if e.namespace is not None]
    if not pods:
        return
    codes: dict[str, int] = {}
    tenants = np.array([codes.setdefault(tenant(e.namespace), len(codes)) for e in pods], dtype=np.int64)
    classes = np.array([e.class_index for e in pods], dtype=np.int64)
    space = matrix.compiled.services
    for first in range(0, len(pods), ROW_BLOCK):
        rows = matrix.pod_rows[classes[first : first + ROW_BLOCK]][:, classes]
        flowing = rows.any(axis=2) & (tenants[first : first + ROW_BLOCK, None] != tenants[None, :])
        for i, k in zip(*np.nonzero(flowing), strict=True):
            yield pods[first + i], pods[k], ConnSet(rows[i, k], space)
        if progress is not None:
            progress(min(first + ROW_BLOCK, len(pods)), len(pods))


def check_isolation(
    matrix: ConnectivityMatrix, contract: Contract, progress: Callable[[int, int], None] | None = None
) -> CheckResult:
    """`progress(done, total)`: source endpoints checked."""
    judge = FlowJudge(matrix, contract)
    violations: list[Violation] = []
    declared: list[Violation] = []
    for src, dst, conn in cross_tenant_flows(matrix, judge.tenant, progress):
        failing, excepted = judge.judge(src, dst, conn)
        if failing is not None:
            violations.append(failing)
        if excepted is not None:
            declared.append(excepted)
    return finish_check(matrix, contract, judge, violations, declared)


def cluster_findings(cluster) -> list[Finding]:
    """Findings the loader reported (unsupported kinds, approximated rules, ...)."""
    return [
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


def finish_check(
    matrix: ConnectivityMatrix,
    contract: Contract,
    judge: FlowJudge,
    violations: list,
    declared: list,
    policy_findings: bool = True,
) -> CheckResult:
    """Everything after judging the flows, shared by the full check and the incremental re-check:
    annotation suppressions, exposure, load balancer checks, findings, statistics. `policy_findings=False`
    leaves out the contract-free findings (selects nothing, shadowed, ...), which never change the verdict
    and cost a pass over every policy; the statistics then say so."""
    from netverify.verify.exposure import check_exposure  # it builds Violations: imported here, not at the top
    from netverify.verify.findings import find_policy_findings  # imports a numba kernel
    from netverify.verify.suppressions import suppress_annotated

    cluster = matrix.compiled.cluster
    judged = (violations, declared)
    failing, annotated = suppress_annotated(matrix, violations)
    shared_everywhere = frozenset(
        e.namespace for e in contract.spec.shared or [] if e.both_ways and not e.pods and not e.ports
    )
    config_violations, lb_findings = check_load_balancers(matrix, judge.tenant, shared_everywhere)
    exposure = contract.spec.exposure.internet if contract.spec.exposure else None
    failing = failing + check_exposure(matrix, exposure, explain_allowed, judge.tenant)
    findings = cluster_findings(cluster)
    findings += [
        Finding(f.rule, f.severity, f.message, f.source.file if f.source else None, f.source.line if f.source else None)
        for f in lb_findings
    ]
    if policy_findings:
        findings += find_policy_findings(matrix.compiled)
    tenants = sorted({judge.tenant(g.namespace) for g in cluster.groups})
    stats = {
        "endpoints": len(matrix.workload_endpoints()),
        "classes": matrix.n_classes,
        "ip_atoms": len(matrix.compiled.atoms.atoms),
        "service_atoms": matrix.compiled.services.size,
        "policies": len(cluster.policies),
        "tenants": len(tenants),
        "seconds": round(matrix.seconds, 3),
    }
    if not policy_findings:
        stats["policy_findings"] = "not computed"
    sources = {group.id: group.source for group in matrix.compiled.groups if group.source is not None}
    return CheckResult(
        [*failing, *config_violations],
        findings,
        cluster.errors,
        stats,
        suppressed=annotated + declared,
        endpoint_sources=sources,
        tenants=tenants,
        judged=judged,
    )
