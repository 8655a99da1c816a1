"""Calico GlobalNetworkPolicy, NetworkPolicy, Tier, (Global)NetworkSet, and ServiceAccount labels.

Translation into the ordered model (reference/k8s-calico-anp-semantics.md §4): tiers by (order, name),
policies by (order, name), rules in order. A rule's `source`/`destination` split into the peer (the other
end), the target (the policy's own endpoint, which a rule may narrow further) and the service (protocol
and destination ports; ICMP type/code become values of the ICMP protocols). Where a rule uses something
this version cannot evaluate exactly (source ports, HTTP match, service references), it is approximated
toward
"allowed" — an Allow rule ignores the condition, a Deny or Pass rule is dropped — and a warning says so.

Calico selectors see host endpoints as well as pods. A GlobalNetworkPolicy with `doNotTrack` or `preDNAT`
applies to host endpoints only: it is loaded into the stage Felix runs it in (untracked policy in the raw
table, then preDNAT policy in the mangle table, both before normal policy), in its declared tier but with
a Pass default, because such policy that decides nothing hands the packet on to normal policy
(calico_hosts.py adds host endpoints, profiles and the failsafe rules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from netverify.load.builder import ClusterBuilder
from netverify.load.calico_selector import parse_calico_selector
from netverify.load.documents import Document
from netverify.load.kinds.calico_schema import (
    CalicoPolicyObject,
    CalicoRule,
    EntityRule,
    NetworkSetObject,
    TierObject,
    parse_net,
    parse_port,
)
from netverify.load.validation import parse_model
from netverify.model.addresses import parse_cidr
from netverify.model.peers import (
    NO_PEER,
    AnyPeer,
    EndpointPeer,
    EndpointScope,
    NetPeer,
    PeerComplement,
    PeerIntersection,
    PeerMatch,
    PeerUnion,
    PodIPMatching,
    SetScope,
)
from netverify.model.policy import (
    DEFAULT_TIER,
    KUBE_ADMIN_TIER,
    KUBE_BASELINE_TIER,
    NORMAL_RANK,
    PRE_DNAT_RANK,
    UNTRACKED_RANK,
    Action,
    Policy,
    Rule,
    Tier,
)
from netverify.model.selectors import MatchAll
from netverify.model.services import (
    AnyService,
    ProtocolPorts,
    ServiceComplement,
    ServiceIntersection,
    ServiceMatch,
    icmp_range,
    parse_protocol,
)
from netverify.model.source import SourceRef
from netverify.model.workloads import NetworkSet

BUILTIN_TIERS = {t.name: t for t in (DEFAULT_TIER, KUBE_ADMIN_TIER, KUBE_BASELINE_TIER)}
ALL_IPV4 = parse_cidr("0.0.0.0/0")
ALL_IPV6 = parse_cidr("::/0")


@dataclass
class Scope:
    """Where a policy's selectors look: one namespace (NetworkPolicy) or everywhere (GlobalNetworkPolicy)."""

    namespace: str | None


@dataclass
class Approximations:
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


def entity_match(entity: EntityRule, scope: Scope, approx: Approximations) -> PeerMatch | None:
    """The addresses/endpoints an EntityRule matches, ignoring its ports (None: no constraint)."""
    terms: list[PeerMatch] = []
    namespace_selector = parse_calico_selector(entity.namespaceSelector) if entity.namespaceSelector else None
    pinned = scope.namespace if namespace_selector is None else None
    accounts = entity.serviceAccounts
    if accounts is not None and not accounts.names and not accounts.selector:
        accounts = None  # `serviceAccounts: {}` builds no match in Calico: it constrains nothing
    if entity.selector is not None or namespace_selector is not None or accounts is not None:
        terms.append(
            EndpointPeer(
                parse_calico_selector(entity.selector) if entity.selector else MatchAll(),
                namespace=pinned,
                namespace_selector=namespace_selector,
                service_account_names=frozenset(accounts.names) if accounts and accounts.names else None,
                service_account_selector=parse_calico_selector(accounts.selector)
                if accounts and accounts.selector
                else None,
                sets=SetScope.IN_SCOPE,
                endpoints=EndpointScope.PODS_AND_HOSTS,
            )
        )
    if entity.notSelector is not None:
        if not terms and pinned is not None:
            # in a namespaced policy any selector field, notSelector included, limits the rule to endpoints
            # and sets of the policy's namespace (libcalico-go rules.go getEndpointSelector)
            terms.append(
                EndpointPeer(MatchAll(), namespace=pinned, sets=SetScope.IN_SCOPE,
                             endpoints=EndpointScope.PODS_AND_HOSTS)
            )
        # the scope joins only the positive selector: notSelector itself is unscoped (rules.go passes it
        # through as is), so it excludes whatever it names, in any namespace or none
        excluded = EndpointPeer(
            parse_calico_selector(entity.notSelector), sets=SetScope.IN_SCOPE, endpoints=EndpointScope.PODS_AND_HOSTS
        )
        terms.append(PeerComplement(excluded))
    if entity.nets:
        terms.append(NetPeer(tuple(parse_net(n) for n in entity.nets), PodIPMatching.ALWAYS))
    if entity.notNets:
        terms.append(PeerComplement(NetPeer(tuple(parse_net(n) for n in entity.notNets), PodIPMatching.ALWAYS)))
    if entity.services is not None:
        approx.add("a `services` match (Kubernetes Services are not modelled yet)")
        return None if not terms else _intersect(terms)
    return _intersect(terms) if terms else None


def _intersect(terms: list[PeerMatch]) -> PeerMatch:
    return terms[0] if len(terms) == 1 else PeerIntersection(tuple(terms))


def _split_ports(values: list[int | str]) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
    ranges: list[tuple[int, int]] = []
    names: list[str] = []
    for value in values:
        parsed = parse_port(value)
        if isinstance(parsed, str):
            names.append(parsed)
        else:
            ranges.append(parsed)
    return tuple(ranges), tuple(names)


def _every_port(values: list[int | str]) -> bool:
    """Does a port list admit every source port (so the condition is no condition)?"""
    ranges = [parse_port(v) for v in values]
    return any(isinstance(r, tuple) and r[0] <= 1 and r[1] == 65535 for r in ranges)


def service_match(rule: CalicoRule, approx: Approximations) -> ServiceMatch:
    terms: list[ServiceMatch] = []
    protocol = parse_protocol(rule.protocol) if rule.protocol is not None else None
    destination = rule.destination
    if protocol is not None:
        if destination.ports:
            ranges, names = _split_ports(destination.ports)
            terms.append(ProtocolPorts(protocol, ranges, names))
        else:
            terms.append(ProtocolPorts(protocol, None))
    if protocol is not None and destination.notPorts:
        ranges, names = _split_ports(destination.notPorts)
        terms.append(ServiceComplement(ProtocolPorts(protocol, ranges, names)))
    if rule.notProtocol is not None:
        terms.append(ServiceComplement(ProtocolPorts(parse_protocol(rule.notProtocol), None)))
    if rule.icmp is not None and protocol is not None:
        terms.append(ProtocolPorts(protocol, (icmp_range(rule.icmp.type, rule.icmp.code),)))
    if rule.notICMP is not None and protocol is not None:
        terms.append(ServiceComplement(ProtocolPorts(protocol, (icmp_range(rule.notICMP.type, rule.notICMP.code),))))
    if (rule.source.ports and not _every_port(rule.source.ports)) or rule.source.notPorts:
        approx.add("a source-port match")
    if rule.http is not None:
        approx.add("an HTTP (application layer) match")
    if not terms:
        return AnyService()
    return terms[0] if len(terms) == 1 else ServiceIntersection(tuple(terms))


def translate_rule(
    rule: CalicoRule, direction: str, scope: Scope, source: SourceRef, name: str
) -> tuple[Rule, list[str]]:
    approx = Approximations()
    if direction == "ingress":
        peer_entity, own_entity = rule.source, rule.destination
    else:
        peer_entity, own_entity = rule.destination, rule.source
    peer = entity_match(peer_entity, scope, approx)
    target = entity_match(own_entity, scope, approx)
    service = service_match(rule, approx)
    action = Action(rule.action)
    if rule.ipVersion is not None:
        family_range = ALL_IPV4 if rule.ipVersion == 4 else ALL_IPV6
        family = NetPeer((family_range,), PodIPMatching.ALWAYS)
        if action is Action.ALLOW:
            # endpoints whose address is not in the manifests may be of either family: count them in
            family = PeerUnion((family, EndpointPeer(MatchAll(), endpoints=EndpointScope.PODS_AND_HOSTS)))
        peer = family if peer is None else PeerIntersection((peer, family))
    if approx.reasons and action in (Action.DENY, Action.PASS):
        peer = NO_PEER  # a Deny/Pass we cannot evaluate exactly is dropped: never claim isolation we can't prove
    rule_model = Rule(action, peer if peer is not None else AnyPeer(), service, source, name, target)
    return rule_model, approx.reasons


def calico_types(spec) -> set[str]:
    if spec.types:
        return set(spec.types)
    if spec.egress and spec.ingress:
        return {"Ingress", "Egress"}
    if spec.egress:
        return {"Egress"}
    return {"Ingress"}


def translate_rules(
    rules: list[CalicoRule], direction: str, scope: Scope, doc: Document, builder: ClusterBuilder, *path: str
) -> tuple[Rule, ...]:
    """One direction's rules (at `path` in the document), with a warning for every approximation."""
    translated = []
    for i, rule in enumerate(rules):
        where = doc.source(*path, i)
        model_rule, reasons = translate_rule(rule, direction, scope, where, f"{direction}[{i}]")
        for reason in reasons:
            effect = "its condition is ignored (the rule may match more)" if rule.action in ("Allow", "Log") else (
                "the rule is treated as matching nothing"
            )
            builder.warning(f"{direction}[{i}] uses {reason}, which netverify approximates: {effect}", where,
                            code="approximated-rule")
        translated.append(model_rule)
    return tuple(translated)


def host_stage(spec) -> int:
    """The evaluation stage (tier rank) of a policy: untracked, preDNAT, or normal."""
    if spec.doNotTrack:
        return UNTRACKED_RANK
    if spec.preDNAT:
        return PRE_DNAT_RANK
    return NORMAL_RANK


def load_calico_policy(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(CalicoPolicyObject, doc.data, doc)
    kind = doc.kind or "NetworkPolicy"
    is_global = kind == "GlobalNetworkPolicy"
    spec = obj.spec
    namespace = None if is_global else (obj.metadata.namespace or "default")
    if is_global and spec.namespaceSelector is None and obj.metadata.namespace:
        builder.warning("metadata.namespace is ignored on a GlobalNetworkPolicy", doc.source("metadata"))
    for field_name in ("namespaceSelector", "doNotTrack", "preDNAT", "applyOnForward"):
        if not is_global and getattr(spec, field_name) is not None:
            builder.error(f"spec.{field_name} is only valid on a GlobalNetworkPolicy", doc.source("spec", field_name))
            return
    stage = host_stage(spec)
    scope = Scope(namespace)
    types = calico_types(spec)
    rules: dict[str, tuple[Rule, ...] | None] = {}
    for direction in ("ingress", "egress"):
        if direction.capitalize() not in types:
            rules[direction] = None
            if getattr(spec, direction):
                builder.warning(
                    f"spec.{direction} is ignored because types does not include {direction.capitalize()}",
                    doc.source("spec", direction),
                    code="ignored-rules",
                )
            continue
        rules[direction] = translate_rules(getattr(spec, direction) or [], direction, scope, doc, builder, "spec",
                                           direction)
    if stage == UNTRACKED_RANK and any(r.action is Action.ALLOW for rs in rules.values() for r in rs or ()):
        builder.warning(
            f"doNotTrack policy {obj.metadata.name!r}: packets it allows are not connection-tracked, so replies "
            "are not allowed automatically; each direction is reported as its own rules say (a reply needs an "
            "Allow of its own in the opposite direction)",
            doc.source("spec", "doNotTrack"),
            code="untracked-policy",
        )
    applies_to = EndpointPeer(
        parse_calico_selector(spec.selector) if spec.selector else MatchAll(),
        namespace=namespace,
        namespace_selector=parse_calico_selector(spec.namespaceSelector) if spec.namespaceSelector else None,
        service_account_selector=parse_calico_selector(spec.serviceAccountSelector)
        if spec.serviceAccountSelector
        else None,
        # preDNAT and doNotTrack policy is rendered for host endpoints only, never for pods
        endpoints=EndpointScope.PODS_AND_HOSTS if stage == NORMAL_RANK else EndpointScope.HOSTS,
    )
    tier_name = spec.tier or "default"
    name = obj.metadata.name if is_global else f"{namespace}/{obj.metadata.name}"
    builder.add_policy(
        Policy(
            kind=f"Calico{kind}" if not is_global else kind,
            name=name,
            namespace=namespace,
            # resolved against Tier objects once every document is loaded; the rank is the stage
            tier=Tier(tier_name, rank=stage),
            order=float(spec.order) if spec.order is not None else math.inf,
            applies_to=applies_to,
            ingress=rules["ingress"],
            egress=rules["egress"],
            source=doc.source(),
            annotations=dict(obj.metadata.annotations or {}),
        )
    )


def load_tier(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(TierObject, doc.data, doc)
    name = obj.metadata.name
    order = float(obj.spec.order) if obj.spec.order is not None else math.inf
    action = Action.PASS if obj.spec.defaultAction == "Pass" else Action.DENY
    if name in BUILTIN_TIERS:
        builtin = BUILTIN_TIERS[name]
        if order != builtin.order or action is not builtin.default_action:
            builder.warning(
                f"tier {name!r} is built in (order {builtin.order:g}, defaultAction "
                f"{builtin.default_action.value}); the manifest's settings are used",
                doc.source("spec"),
            )
    if name in builder.tiers:
        builder.error(f"Tier {name!r} is defined twice (first at {builder.tiers[name][1]})", doc.source(),
                      code="duplicate-object")
        return
    builder.tiers[name] = (Tier(name, order, action), doc.source())


def staged(tier: Tier, rank: int) -> Tier:
    """The tier as seen by one evaluation stage: untracked and preDNAT policy that decides nothing
    hands the packet on (Felix renders no end-of-tier drop outside normal policy)."""
    if rank == NORMAL_RANK:
        return tier
    return replace(tier, rank=rank, default_action=Action.PASS)


def resolve_tiers(builder: ClusterBuilder) -> None:
    """Give every policy its declared tier; a policy in an undefined tier is an error (Calico rejects it)."""
    resolved: list[Policy] = []
    for policy in builder.cluster.policies:
        name = policy.tier.name
        declared = builder.tiers.get(name)
        base = declared[0] if declared is not None else BUILTIN_TIERS.get(name)
        if base is not None:
            tier = staged(base, policy.tier.rank)
            resolved.append(replace(policy, tier=tier) if policy.tier != tier else policy)
        else:
            builder.error(
                f"{policy.kind} {policy.name!r} is in tier {name!r}, which no Tier object defines "
                "(expected a projectcalico.org/v3 Tier of that name)",
                policy.source,
                code="undefined-tier",
            )
    builder.cluster.policies = resolved


def load_network_set(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(NetworkSetObject, doc.data, doc)
    is_global = doc.kind == "GlobalNetworkSet"
    ranges = []
    for text in obj.spec.nets or []:
        ranges.append(parse_net(text))
    if obj.spec.allowedEgressDomains:
        builder.warning(
            "allowedEgressDomains needs DNS and is not modelled; only `nets` count",
            doc.source("spec", "allowedEgressDomains"),
            code="unsupported-field",
        )
    builder.cluster.network_sets.append(
        NetworkSet(
            obj.metadata.name,
            None if is_global else (obj.metadata.namespace or "default"),
            dict(obj.metadata.labels or {}),
            tuple(ranges),
            doc.source(),
        )
    )

