"""What goes wrong around ALBs (issue 4; reference aws-alb-ingress-subnets.md §5, §6.2), each with file:line.

Violations (fail the check): an IngressGroup whose members belong to different tenants (one shared ALB:
any member can take over the others' traffic and set their exposure). Findings (warnings): conflicting
group settings, host/path takeover, pods whose policy blocks their own ALB (502/504), allow-by-CIDR rules
whose range holds pods, nodes or other tenants' load balancers, forwards to target groups netverify cannot
see, and Ingresses that bypass IngressClassParams through the legacy class annotation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from netverify.engine.hops import ALL, NONE, SOME, Hop, load_balancer_hops
from netverify.engine.matrix import ConnectivityMatrix
from netverify.model.addresses import IPRange
from netverify.model.ingress import LEGACY_CLASS_ANNOTATION
from netverify.model.load_balancers import LoadBalancer, Route
from netverify.model.peers import NetPeer, PeerIntersection, PeerMatch, PeerUnion
from netverify.model.policy import Action
from netverify.model.source import SourceRef

Tenant = Callable[[str], str]


@dataclass
class ConfigViolation:
    """A violation that is a configuration, not a flow: e.g. two tenants behind one load balancer."""

    rule: str
    message: str
    source: SourceRef | None
    tenants: list[str] = field(default_factory=list)
    related: list[SourceRef] = field(default_factory=list)

    @property
    def file(self) -> str | None:
        return self.source.file if self.source else None

    @property
    def line(self) -> int | None:
        return self.source.line if self.source else None

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "tenants": self.tenants,
            "related": [{"file": r.file, "line": r.line} for r in self.related],
        }


@dataclass
class LoadBalancerFinding:
    rule: str
    severity: str
    message: str
    source: SourceRef | None


def cross_tenant_groups(balancers: list[LoadBalancer], tenant: Tenant) -> list[ConfigViolation]:
    violations: list[ConfigViolation] = []
    for lb in balancers:
        tenants: dict[str, list] = {}
        for member in lb.members:
            tenants.setdefault(tenant(member.namespace), []).append(member)
        if len(tenants) < 2:
            continue
        first_tenant = next(iter(tenants))
        intruder = next(m for t, ms in tenants.items() if t != first_tenant for m in ms)
        listed = "; ".join(f"{t}: {', '.join(m.id for m in ms)}" for t, ms in tenants.items())
        violations.append(
            ConfigViolation(
                "ingress-group-cross-tenant",
                f"IngressGroup {lb.id} puts Ingresses of {len(tenants)} tenants behind one ALB ({listed}); any "
                "member can take over the others' hosts and paths and change their scheme, subnets and allowed "
                "sources",
                intruder.where("group.name"),
                sorted(tenants),
                [m.where("group.name") for m in lb.members if m is not intruder and m.source is not None],
            )
        )
    return violations


def _host_covers(first: str | None, second: str | None) -> bool:
    if first is None or first == second:
        return True
    if second is None:
        return False
    if first.startswith("*."):
        return second.endswith(first[1:]) and second.count(".") == first.count(".")
    return False


def _path_covers(first: Route, second: Route) -> bool:
    if first.path is None or first.path in ("/", "/*") and first.path_type != "Exact":
        return True
    if first.path_type == "Exact":
        return second.path_type == "Exact" and first.path == second.path
    wanted = second.path or "/"
    prefix = first.path.rstrip("/")
    return wanted == prefix or wanted.startswith(prefix + "/") or (first.path_type != "Prefix" and wanted == first.path)


def takeovers(lb: LoadBalancer) -> list[LoadBalancerFinding]:
    """A later rule of one namespace that an earlier rule of another namespace always answers first."""
    found: list[LoadBalancerFinding] = []
    for i, later in enumerate(lb.routes):
        for earlier in lb.routes[:i]:
            if earlier.ingress.namespace == later.ingress.namespace:
                continue
            if _host_covers(earlier.host, later.host) and _path_covers(earlier, later):
                found.append(
                    LoadBalancerFinding(
                        "ingress-host-takeover",
                        "warning",
                        f"IngressGroup {lb.id}: {later.match} of Ingress {later.ingress.id} is never reached: "
                        f"{earlier.match} of Ingress {earlier.ingress.id} (namespace {earlier.ingress.namespace}) "
                        "comes first in the ALB's rule order (group.order, then namespace/name) and takes its "
                        "traffic",
                        later.source,
                    )
                )
                break
    return found


def blocked_backends(hops: list[Hop], matrix: ConnectivityMatrix) -> list[LoadBalancerFinding]:
    found: list[LoadBalancerFinding] = []
    for hop in hops:
        if hop.admitted == ALL or hop.admitted not in (NONE, SOME):
            continue
        group = matrix.compiled.groups[hop.group]
        where = hop.target.source
        if hop.port is None:
            message = (
                f"ALB {hop.balancer.id} forwards to {hop.target.label}, whose target port "
                f"{hop.target.target_port!r} is not a container port of {group.id}: it answers 502/504"
            )
        else:
            how = "blocks" if hop.admitted == NONE else "admits only part of"
            message = (
                f"{group.id} is exposed by ALB {hop.balancer.id} ({hop.target.label}) but its policy {how} the "
                f"ALB's source addresses on {hop.purpose} port {hop.port_label}: requests will fail with 502/504"
                + ("" if hop.admitted == NONE else " whenever the ALB uses a blocked address")
            )
        found.append(LoadBalancerFinding("ingress-backend-blocked", "warning", message, where))
    return found


def unmanaged_backend_rules(lb: LoadBalancer) -> list[LoadBalancerFinding]:
    """Custom frontend security groups without managed backend rules: nothing opens the node/pod security
    groups to the ALB, so targets fail health checks (504) unless someone added the rules by hand."""
    if "security-groups" not in lb.settings or lb.settings.get("manage-backend-security-group-rules") == "true":
        return []
    member = next(m for m in lb.members if m.alb("security-groups") is not None)
    return [
        LoadBalancerFinding(
            "alb-backend-rules-unmanaged",
            "warning",
            f"ALB {lb.id} uses its own security groups ({lb.settings['security-groups']}) without "
            'manage-backend-security-group-rules: "true"; the controller adds no rule to the node or pod '
            "security groups, so targets answer only if someone opened them by hand (else 504), and who may "
            "reach the ALB depends on security group rules netverify cannot see",
            member.where("security-groups"),
        )
    ]


def unknown_targets(matrix: ConnectivityMatrix) -> list[LoadBalancerFinding]:
    model = matrix.compiled.load_balancers
    found: list[LoadBalancerFinding] = []
    for lb in model.balancers:
        for target in lb.target_groups:
            if target.external is not None:
                found.append(
                    LoadBalancerFinding(
                        "alb-unknown-target",
                        "warning",
                        f"ALB {lb.id} forwards to target group {target.external}, which the input does not "
                        "describe: its targets may be any tenant's pods (the controller checks no ownership)",
                        target.source,
                    )
                )
    for binding in model.bindings:
        found.append(
            LoadBalancerFinding(
                "alb-unknown-target",
                "warning",
                f"TargetGroupBinding in namespace {binding.namespace} registers "
                f"{binding.service.id if binding.service else 'a Service'} in target group "
                f"{binding.external}, whose load balancer the input does not describe (a tenant can bind its pods "
                "to any target group of the account)",
                binding.source,
            )
        )
    return found


def class_bypass(matrix: ConnectivityMatrix) -> list[LoadBalancerFinding]:
    cluster = matrix.compiled.cluster
    constrained = [
        p for p in cluster.ingress_class_params.values() if p.namespace_selector or p.group or p.scheme or p.subnet_ids
    ]
    if not constrained:
        return []
    names = ", ".join(sorted(p.name for p in constrained))
    return [
        LoadBalancerFinding(
            "ingress-class-bypass",
            "warning",
            f"Ingress {ingress.id} uses the legacy {LEGACY_CLASS_ANNOTATION} annotation: the controller manages it "
            f"without IngressClass or IngressClassParams ({names}), bypassing their namespaceSelector, scheme, "
            "group and subnets (--disable-ingress-class-annotation prevents this)",
            ingress.where(LEGACY_CLASS_ANNOTATION),
        )
        for ingress in matrix.compiled.load_balancers.legacy
    ]


def admitted_ranges(peer: PeerMatch) -> list[IPRange]:
    """The CIDRs a peer admits by (not through `notNets`/`except`, which only narrow it)."""
    if isinstance(peer, NetPeer):
        return list(peer.ranges)
    if isinstance(peer, (PeerUnion, PeerIntersection)):
        return [r for term in peer.terms for r in admitted_ranges(term)]
    return []


def cidr_admissions(
    matrix: ConnectivityMatrix, tenant: Tenant, shared: frozenset[str] = frozenset()
) -> tuple[list[ConfigViolation], list[LoadBalancerFinding]]:
    """Allow rules whose CIDR holds pods, nodes, or load balancers of tenants other than the policy's.

    A namespaced rule whose range overlaps a subnet where pods of other tenants may get addresses (the VPC
    CNI gives pods their node's subnet) admits those tenants' pods: a violation, even when egress policy
    happens to stop them today. Nodes only, or a cluster-wide policy, are warnings.
    """
    cluster = matrix.compiled.cluster
    balancers = matrix.compiled.load_balancers.balancers
    pod_tenants = {tenant(g.namespace) for g in cluster.groups if g.namespace and g.namespace not in shared}
    violations: list[ConfigViolation] = []
    found: list[LoadBalancerFinding] = []
    for policy in cluster.policies:
        owner = tenant(policy.namespace) if policy.namespace else None
        for rule in [*(policy.ingress or ()), *(policy.egress or ())]:
            if rule.action is not Action.ALLOW:
                continue
            ranges = admitted_ranges(rule.peer)
            if not ranges:
                continue
            where = rule.source or policy.source
            holders = [s for s in cluster.subnets if {"pods", "nodes"} & s.roles and any(s.overlaps(r) for r in ranges)]
            names = ", ".join(s.name or s.id for s in holders)
            strangers = sorted(pod_tenants - {owner}) if any("pods" in s.roles for s in holders) else []
            if owner is not None and strangers:
                violations.append(
                    ConfigViolation(
                        "cidr-admits-other-tenants",
                        f"{policy.kind} {policy.name} {rule.name}: its CIDR overlaps subnet(s) {names}, where pods "
                        f"of tenant(s) {', '.join(strangers)} get their addresses: the rule admits them",
                        where,
                        [owner, *strangers],
                    )
                )
            elif holders:
                what = " and ".join(sorted({role for s in holders for role in s.roles & {"pods", "nodes"}}))
                found.append(
                    LoadBalancerFinding(
                        "cidr-admits-pods",
                        "warning",
                        f"{policy.kind} {policy.name} {rule.name}: its CIDR overlaps subnet(s) {names} that hold "
                        f"{what}: the rule admits them too, not only load balancers",
                        where,
                    )
                )
            tenants = sorted(
                {
                    tenant(m.namespace)
                    for lb in balancers
                    if lb.source_ranges
                    for m in lb.members
                    if any(r.overlaps(s) for r in ranges for s in lb.source_ranges)
                }
            )
            others = [t for t in tenants if t != owner]
            if others and (owner is not None or len(tenants) > 1):
                found.append(
                    LoadBalancerFinding(
                        "cidr-admits-load-balancers",
                        "warning",
                        f"{policy.kind} {policy.name}: its CIDR holds the ALBs of tenant(s) {', '.join(others)}; "
                        "it admits their load balancers too (safe only while no ALB forwards across tenants)",
                        where,
                    )
                )
    return violations, found


def check_load_balancers(
    matrix: ConnectivityMatrix, tenant: Tenant, shared: frozenset[str] = frozenset()
) -> tuple[list[ConfigViolation], list[LoadBalancerFinding]]:
    """`shared`: namespaces the contract shares both ways with every tenant (their pods are no leak)."""
    model = matrix.compiled.load_balancers
    findings = [LoadBalancerFinding(d.code, d.severity.value, d.message, d.source) for d in model.diagnostics]
    for lb in model.balancers:
        findings.extend(takeovers(lb) + unmanaged_backend_rules(lb))
    findings += blocked_backends(load_balancer_hops(matrix), matrix)
    cidr_violations, cidr_findings = cidr_admissions(matrix, tenant, shared)
    findings += unknown_targets(matrix) + class_bypass(matrix) + cidr_findings
    return cross_tenant_groups(model.balancers, tenant) + cidr_violations, findings
