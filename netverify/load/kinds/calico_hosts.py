"""Calico HostEndpoint and Profile, and what Felix does for host endpoints without being asked.

A HostEndpoint is a host interface that Calico policy protects (reference §4.1, §4.3). It becomes an
endpoint group that is not namespaced: Calico selectors (GlobalNetworkPolicy selectors, rule selectors in
scope) see it, Kubernetes and AdminNetworkPolicy selectors never do, and any address rule (`nets`,
`ipBlock`) matches its `expectedIPs`. For a host endpoint Felix evaluates, in this order:

1. the failsafe rules (default FailsafeInboundHostPorts / FailsafeOutboundHostPorts), which always allow;
2. untracked (`doNotTrack`) and then `preDNAT` GlobalNetworkPolicies (loaded by calico.py);
3. the normal tiers;
4. the endpoint's profiles, in its listed order: the first Allow accepts, a Deny drops, no match goes on;
5. what is still undecided is dropped: a host endpoint is default deny (the pods' default is allow).

The finalizer builds steps 1 and 4 as policies in ranked tiers (`Tier.rank`), so the engine needs nothing
but the per-endpoint final default of step 5. Profiles also give labels (`labelsToApply`) to the host
endpoints that list them. Pods list no profiles here: Calico's own `kns.*`/`ksa.*` profiles allow
everything for pods, which is the pods' final default already.

Not modelled: forwarded traffic (`applyOnForward`, and preDNAT policy for traffic routed through the host
to a local pod); the host endpoint stands for the host's own processes. Node-local shortcuts (host to
local pod always allowed) are not modelled either, because pod placement is not part of the input.
"""

from __future__ import annotations

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.calico import Scope, translate_rules
from netverify.load.kinds.calico_schema import HostEndpointObject, ProfileObject
from netverify.load.validation import parse_model
from netverify.model.addresses import parse_address
from netverify.model.peers import AnyPeer, ByIdentity, EndpointPeer, EndpointScope
from netverify.model.policy import (
    FAILSAFE_TIER,
    HOST_ONLY_RANKS,
    Action,
    EndpointProfile,
    Policy,
    Rule,
    profile_tier,
)
from netverify.model.selectors import MatchAll
from netverify.model.services import TCP, UDP, AnyService, ProtocolPorts, parse_protocol, protocol_name
from netverify.model.source import SourceRef
from netverify.model.workloads import HOST_ENDPOINT_KIND, ContainerPort, PodGroup

DEFAULT_ALLOW_PROFILE = "projectcalico-default-allow"
NAMESPACE_PROFILE_PREFIX = "kns."  # Calico's generated profile of a Kubernetes namespace: allows everything
ACCOUNT_PROFILE_PREFIX = "ksa."  # ...of a service account: labels only, no rules

# Felix defaults (FailsafeInboundHostPorts, FailsafeOutboundHostPorts): SSH, DHCP, DNS, BGP, etcd, Typha,
# the Kubernetes API server and kube-apiserver's etcd ports stay open whatever the policy says.
FAILSAFE_INBOUND: tuple[tuple[int, int], ...] = (
    (TCP, 22), (UDP, 68), (TCP, 179), (TCP, 2379), (TCP, 2380), (TCP, 5473), (TCP, 6443), (TCP, 6666), (TCP, 6667),
)
FAILSAFE_OUTBOUND: tuple[tuple[int, int], ...] = (
    (UDP, 53), (UDP, 67), (TCP, 179), (TCP, 2379), (TCP, 2380), (TCP, 5473), (TCP, 6443), (TCP, 6666), (TCP, 6667),
)
FAILSAFE_SOURCE = SourceRef("<felix default failsafe ports>", 0)
BUILTIN_PROFILE_SOURCE = SourceRef("<calico built-in profile>", 0)


def load_host_endpoint(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(HostEndpointObject, doc.data, doc)
    spec = obj.spec
    name = obj.metadata.name
    if obj.metadata.namespace:
        builder.warning("metadata.namespace is ignored: a HostEndpoint is cluster-scoped", doc.source("metadata"))
    first = builder.cluster.host_endpoints.get(name)
    if first is not None:
        builder.error(f"HostEndpoint {name!r} is defined twice (first at {first.source})", doc.source(),
                      code="duplicate-object")
        return
    if not spec.expectedIPs:
        builder.warning(
            f"HostEndpoint {name!r} has no expectedIPs: address rules (nets, ipBlock) cannot match it, only "
            "selectors can",
            doc.source("spec"),
            code="host-endpoint-address",
        )
    ports = tuple(ContainerPort(p.port, parse_protocol(p.protocol), p.name) for p in spec.ports or [])
    builder.cluster.host_endpoints[name] = PodGroup(
        kind=HOST_ENDPOINT_KIND,
        namespace=None,
        name=name,
        labels=dict(obj.metadata.labels or {}),
        service_account=None,
        ports=ports,
        ips=tuple(parse_address(text) for text in spec.expectedIPs or []),
        source=doc.source(),
        annotations=dict(obj.metadata.annotations or {}),
        profiles=tuple(spec.profiles or ()),
        node=spec.node,
    )


def load_profile(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(ProfileObject, doc.data, doc)
    name = obj.metadata.name
    first = builder.cluster.endpoint_profiles.get(name)
    if first is not None:
        builder.error(f"Profile {name!r} is defined twice (first at {first.source})", doc.source(),
                      code="duplicate-object")
        return
    scope = Scope(None)  # a profile is cluster-scoped: its selectors look everywhere, like a GlobalNetworkPolicy
    spec = obj.spec
    builder.cluster.endpoint_profiles[name] = EndpointProfile(
        name=name,
        ingress=translate_rules(spec.ingress or [], "ingress", scope, doc, builder, "spec", "ingress"),
        egress=translate_rules(spec.egress or [], "egress", scope, doc, builder, "spec", "egress"),
        labels_to_apply=dict(spec.labelsToApply or {}),
        source=doc.source(),
    )


def _allow_all_profile(name: str) -> EndpointProfile:
    rules = {
        direction: (Rule(Action.ALLOW, AnyPeer(), AnyService(), BUILTIN_PROFILE_SOURCE, f"{direction}[0]"),)
        for direction in ("ingress", "egress")
    }
    return EndpointProfile(name, rules["ingress"], rules["egress"], {}, BUILTIN_PROFILE_SOURCE)


def implicit_profile(name: str) -> EndpointProfile | None:
    """A profile Calico has without a manifest: the default-allow profile and the Kubernetes ones."""
    if name == DEFAULT_ALLOW_PROFILE or name.startswith(NAMESPACE_PROFILE_PREFIX):
        return _allow_all_profile(name)
    if name.startswith(ACCOUNT_PROFILE_PREFIX):
        return EndpointProfile(name, (), (), {}, BUILTIN_PROFILE_SOURCE)
    return None


def failsafe_policy() -> Policy:
    """Felix's default failsafe ports as Allow rules of host endpoints, from and to anywhere."""

    def rules(entries: tuple[tuple[int, int], ...], way: str) -> tuple[Rule, ...]:
        return tuple(
            Rule(Action.ALLOW, AnyPeer(), ProtocolPorts(protocol, ((port, port),)), FAILSAFE_SOURCE,
                 f"{way} {protocol_name(protocol)}:{port}")
            for protocol, port in entries
        )

    return Policy(
        kind="Failsafe",
        name="felix-default-failsafe",
        namespace=None,
        tier=FAILSAFE_TIER,
        order=0.0,
        applies_to=EndpointPeer(MatchAll(), endpoints=EndpointScope.HOSTS),
        ingress=rules(FAILSAFE_INBOUND, "inbound"),
        egress=rules(FAILSAFE_OUTBOUND, "outbound"),
        source=FAILSAFE_SOURCE,
    )


def finalize_host_endpoints(builder: ClusterBuilder) -> None:
    """Once every document is loaded: profile labels onto host endpoints, profile and failsafe stages.

    Runs after the tiers are resolved, so no user Tier can stand in for a built-in stage.
    """
    cluster = builder.cluster
    if not cluster.host_endpoints:
        for policy in cluster.policies:
            if policy.tier.rank in HOST_ONLY_RANKS:
                builder.warning(
                    f"{policy.kind} {policy.name!r} applies only to host endpoints (preDNAT/doNotTrack) and the "
                    "input defines no HostEndpoint, so it affects nothing",
                    policy.source,
                    code="host-endpoint-only",
                )
        return
    positions: dict[tuple[str, int], list[str]] = {}  # (profile, position in the list) -> endpoint ids
    profiles: dict[str, EndpointProfile | None] = {}
    for endpoint in cluster.host_endpoints.values():
        inherited: dict[str, str] = {}
        for position, name in enumerate(endpoint.profiles):
            profile = _find_profile(builder, profiles, name, endpoint)
            if profile is None:
                continue
            for key, value in profile.labels_to_apply.items():
                inherited.setdefault(key, value)  # an earlier profile's label wins over a later one's
            positions.setdefault((name, position), []).append(endpoint.id)
        endpoint.labels = {**inherited, **endpoint.labels}  # the endpoint's own labels win
    for (name, position), ids in sorted(positions.items()):
        profile = profiles[name]
        assert profile is not None  # undefined profiles take no position
        cluster.policies.append(
            Policy(
                kind="Profile",
                name=name,
                namespace=None,
                tier=profile_tier(position),
                order=0.0,
                applies_to=ByIdentity(frozenset(ids)),
                ingress=profile.ingress,
                egress=profile.egress,
                source=profile.source,
            )
        )
    cluster.policies.append(failsafe_policy())


def _find_profile(
    builder: ClusterBuilder, found: dict[str, EndpointProfile | None], name: str, endpoint: PodGroup
) -> EndpointProfile | None:
    """The profile a host endpoint lists: from the input, else built in; None (reported once) if neither."""
    if name in found:
        return found[name]
    profile = builder.cluster.endpoint_profiles.get(name) or implicit_profile(name)
    found[name] = profile
    if profile is None:
        builder.warning(
            f"HostEndpoint {endpoint.name!r} lists profile {name!r}, which no Profile object defines; "
            "it is treated as matching nothing",
            endpoint.source,
            code="undefined-profile",
        )
    return profile
