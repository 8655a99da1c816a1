"""Tenant isolation: every pod-to-pod flow between tenants that the contract does not declare is a
violation, named with the policies and rules that allowed it (file:line)."""

from __future__ import annotations

from collections.abc import Callable

from netverify.engine.matrix import ConnectivityMatrix
from netverify.model.diagnostics import UNMODELLED_POLICY, Severity
from netverify.model.services import ServiceMatch
from netverify.verify.allowed_by import explain_allowed
from netverify.verify.contract import Contract, port_spec_service
from netverify.verify.flow_judge import FlowJudge, cross_tenant_blocks
from netverify.verify.load_balancer_checks import check_load_balancers
from netverify.verify.results import AllowedBy, CheckResult, Finding, Suppression, Violation

__all__ = [  # the result types stay importable from here, where the API has always offered them
    "AllowedBy",
    "CheckResult",
    "Finding",
    "Suppression",
    "Violation",
    "check_isolation",
    "cluster_findings",
    "contract_services",
    "explain_allowed",
    "finish_check",
]

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


def contract_services(contract: Contract) -> list[ServiceMatch]:
    """Ports the contract names: the service space is cut at them so exemptions are exact."""
    entries = [*(contract.spec.shared or []), *(contract.spec.allow or [])]
    return [port_spec_service(text) for entry in entries for text in entry.ports or []]


def check_isolation(
    matrix: ConnectivityMatrix, contract: Contract, progress: Callable[[int, int], None] | None = None
) -> CheckResult:
    """`progress(done, total)`: source endpoints checked."""
    judge = FlowJudge(matrix, contract)
    violations: list[Violation] = []
    declared: list[Violation] = []
    for block in cross_tenant_blocks(matrix, judge.tenant, progress):
        judge.judge_block(block, violations, declared)
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
