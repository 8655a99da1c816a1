"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1).

Both become ordinary ordered policies, so the engine needs nothing special (see
reference/k8s-calico-anp-semantics.md §3):

* every ANP is a policy of the `kube-admin` tier with `order = priority`. That tier's default is Pass,
  so whatever no ANP rule decides (and whatever an ANP rule Passes) flows on to the Kubernetes
  NetworkPolicies of the `default` tier, which deny by default only where an NP selects the pod;
* the BANP is the single policy of the `kube-baseline` tier, below NetworkPolicy; its default is Pass
  too, and what is still undecided after it is allowed (the pods' default).

An ANP with no ingress (egress) rules does not act in that direction at all, so it gets `None` there,
never an empty rule list, which would only matter for a Deny-default tier but says the wrong thing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr, field_validator, model_validator

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import LabelSelector, Lenient, ObjectMeta, Strict
from netverify.load.kinds.networkpolicy import check_port_name
from netverify.load.validation import parse_model
from netverify.model.addresses import parse_cidr
from netverify.model.cluster import Cluster
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.peers import (
    NO_PEER,
    EndpointPeer,
    NetPeer,
    NodePeer,
    PeerMatch,
    PeerUnion,
    PodIPMatching,
    walk_peer,
)
from netverify.model.policy import KUBE_ADMIN_TIER, KUBE_BASELINE_TIER, Action, Policy, Rule, Tier
from netverify.model.selectors import MatchAll
from netverify.model.services import (
    PORT_PROTOCOLS,
    AnyService,
    ProtocolPorts,
    ServiceMatch,
    ServiceUnion,
    parse_protocol,
)

ANP_KIND = "AdminNetworkPolicy"
BANP_KIND = "BaselineAdminNetworkPolicy"
BANP_NAME = "default"
MAX_RULES = 100
MAX_PEERS = 100
MAX_PORTS = 100
MAX_NETWORKS = 25

Protocol = Literal["TCP", "UDP", "SCTP"]


def _valid_cidr(text: str) -> str:
    parse_cidr(text)
    return text


CIDR = Annotated[StrictStr, AfterValidator(_valid_cidr)]  # per item, so errors point at the bad entry


# ---- schema ------------------------------------------------------------------------------------------


class _ExactlyOne(Strict):
    """The API's MinProperties=1/MaxProperties=1 unions: exactly one field set.

    Upstream says a consumer that sees none set must fail closed; the CRD never admits such an object,
    so here it is an input error rather than a guess.
    """

    _what: ClassVar[str] = "this object"

    @model_validator(mode="after")
    def _exactly_one(self) -> Any:
        names = list(type(self).model_fields)
        chosen = [n for n in names if getattr(self, n) is not None]
        if len(chosen) != 1:
            found = "none" if not chosen else " and ".join(chosen)
            raise ValueError(f"{self._what} must set exactly one of {', '.join(names)} (found {found})")
        return self


class NamespacedPod(Strict):
    namespaceSelector: LabelSelector
    podSelector: LabelSelector


class Subject(_ExactlyOne):
    _what: ClassVar[str] = "subject"
    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None


class PortNumber(Strict):
    protocol: Protocol = "TCP"
    port: StrictInt = Field(ge=1, le=65535)


class PortRange(Strict):
    protocol: Protocol = "TCP"
    start: StrictInt = Field(ge=1, le=65535)
    end: StrictInt = Field(ge=1, le=65535)

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.start > self.end:
            raise ValueError(f"portRange start {self.start} is greater than end {self.end}")
        return self


class Port(_ExactlyOne):
    _what: ClassVar[str] = "a port"
    portNumber: PortNumber | None = None
    namedPort: StrictStr | None = None
    portRange: PortRange | None = None

    @field_validator("namedPort")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_port_name(value) if value is not None else None


class IngressPeer(_ExactlyOne):
    _what: ClassVar[str] = "a peer"
    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None


class BaselineEgressPeer(IngressPeer):
    nodes: LabelSelector | None = None
    networks: list[CIDR] | None = Field(default=None, min_length=1, max_length=MAX_NETWORKS)


class EgressPeer(BaselineEgressPeer):
    domainNames: list[StrictStr] | None = Field(default=None, min_length=1, max_length=25)


def _reject_pass(value: Any) -> Any:
    if value == "Pass":
        raise ValueError(
            "action Pass is not allowed in a BaselineAdminNetworkPolicy (nothing comes after the baseline "
            "to pass to); expected Allow or Deny"
        )
    return value


def _check_named_ports(peers: list[Any], ports: list[Port] | None) -> None:
    """The CRD's CEL rule: address-only peers have no pod, hence no port names to resolve."""
    address_peer = any(
        getattr(p, field, None) is not None for p in peers for field in ("networks", "nodes", "domainNames")
    )
    if address_peer and any(p.namedPort is not None for p in ports or []):
        raise ValueError(
            "networks/nodes/domainNames peers cannot be combined with namedPort, since those peers have no named ports"
        )


class IngressRule(Strict):
    name: StrictStr | None = Field(default=None, max_length=100)
    action: Literal["Allow", "Deny", "Pass"]
    from_: list[IngressPeer] = Field(alias="from", min_length=1, max_length=MAX_PEERS)
    ports: list[Port] | None = Field(default=None, min_length=1, max_length=MAX_PORTS)


class EgressRule(Strict):
    name: StrictStr | None = Field(default=None, max_length=100)
    action: Literal["Allow", "Deny", "Pass"]
    to: list[EgressPeer] = Field(min_length=1, max_length=MAX_PEERS)
    ports: list[Port] | None = Field(default=None, min_length=1, max_length=MAX_PORTS)

    @model_validator(mode="after")
    def _named_ports(self) -> EgressRule:
        _check_named_ports(self.to, self.ports)
        return self


class BaselineIngressRule(IngressRule):
    action: Literal["Allow", "Deny"]  # type: ignore[assignment]

    @field_validator("action", mode="before")
    @classmethod
    def _no_pass(cls, value: Any) -> Any:
        return _reject_pass(value)


class BaselineEgressRule(Strict):
    name: StrictStr | None = Field(default=None, max_length=100)
    action: Literal["Allow", "Deny"]
    to: list[BaselineEgressPeer] = Field(min_length=1, max_length=MAX_PEERS)
    ports: list[Port] | None = Field(default=None, min_length=1, max_length=MAX_PORTS)

    @field_validator("action", mode="before")
    @classmethod
    def _no_pass(cls, value: Any) -> Any:
        return _reject_pass(value)

    @model_validator(mode="after")
    def _named_ports(self) -> BaselineEgressRule:
        _check_named_ports(self.to, self.ports)
        return self


class AdminNetworkPolicySpec(Strict):
    priority: StrictInt = Field(ge=0, le=1000)
    subject: Subject
    ingress: list[IngressRule] | None = Field(default=None, max_length=MAX_RULES)
    egress: list[EgressRule] | None = Field(default=None, max_length=MAX_RULES)


class BaselineAdminNetworkPolicySpec(Strict):
    subject: Subject
    ingress: list[BaselineIngressRule] | None = Field(default=None, max_length=MAX_RULES)
    egress: list[BaselineEgressRule] | None = Field(default=None, max_length=MAX_RULES)


class AdminNetworkPolicyObject(Lenient):
    metadata: ObjectMeta
    spec: AdminNetworkPolicySpec


class BaselineAdminNetworkPolicyObject(Lenient):
    metadata: ObjectMeta
    spec: BaselineAdminNetworkPolicySpec


# ---- translation -------------------------------------------------------------------------------------

_ACTIONS = {"Allow": Action.ALLOW, "Deny": Action.DENY, "Pass": Action.PASS}


def translate_subject(subject: Subject) -> PeerMatch:
    if subject.namespaces is not None:
        return EndpointPeer(MatchAll(), namespace_selector=subject.namespaces.to_selector())
    assert subject.pods is not None  # guaranteed by the schema
    return _pods_peer(subject.pods)


def _pods_peer(pods: NamespacedPod) -> EndpointPeer:
    return EndpointPeer(pods.podSelector.to_selector(), namespace_selector=pods.namespaceSelector.to_selector())


class _Translator:
    """Turns one validated object into rules, reporting what it cannot model where it was written."""

    def __init__(self, doc: Document, builder: ClusterBuilder):
        self.doc = doc
        self.builder = builder

    def rules(self, direction: str, rules: list[Any] | None) -> tuple[Rule, ...] | None:
        if not rules:
            return None  # "ANPs with no ingress rules do not affect ingress traffic"
        out = []
        for i, rule in enumerate(rules):
            peers = rule.from_ if direction == "ingress" else rule.to
            where = ("spec", direction, i)
            label = f"{direction}[{i}]" + (f" ({rule.name})" if rule.name else "")
            out.append(
                Rule(
                    _ACTIONS[rule.action],
                    self.peers(peers, rule.action, where + ("from" if direction == "ingress" else "to",)),
                    translate_ports(rule.ports),
                    self.doc.source(*where),
                    label,
                )
            )
        return tuple(out)

    def peers(self, peers: list[Any], action: str, where: tuple[str | int, ...]) -> PeerMatch:
        terms = [self.peer(p, action, where + (j,)) for j, p in enumerate(peers)]
        terms = [t for t in terms if t != NO_PEER]
        if not terms:
            return NO_PEER
        return terms[0] if len(terms) == 1 else PeerUnion(tuple(terms))

    def peer(self, peer: Any, action: str, where: tuple[str | int, ...]) -> PeerMatch:
        if peer.namespaces is not None:
            return EndpointPeer(MatchAll(), namespace_selector=peer.namespaces.to_selector())
        if peer.pods is not None:
            return _pods_peer(peer.pods)
        networks = getattr(peer, "networks", None)
        if networks is not None:
            # Unlike a NetworkPolicy ipBlock, ANP networks are checked against cluster-internal traffic
            # too (upstream: "Deny 0.0.0.0/0 ... will deny all IPv4 pod-to-pod traffic as well").
            return NetPeer(tuple(parse_cidr(c) for c in networks), PodIPMatching.ALWAYS)
        if getattr(peer, "nodes", None) is not None:
            # Matched against the Node objects of the input (their InternalIP/ExternalIP addresses) when
            # the cluster is compiled; without Node objects it matches no address, which compile reports.
            return NodePeer(peer.nodes.to_selector())
        # domainNames: resolving names needs DNS, which a static check does not have.
        note = "" if action == "Allow" else "; upstream supports domainNames only in Allow rules"
        self.builder.warning(
            f"domainNames peers need DNS and are not modelled; treated as matching no address{note}",
            self.doc.source(*where, "domainNames"),
            code="unsupported-field",
        )
        return NO_PEER


def translate_port(port: Port) -> ServiceMatch:
    if port.portNumber is not None:
        number = port.portNumber.port
        return ProtocolPorts(parse_protocol(port.portNumber.protocol), ((number, number),))
    if port.portRange is not None:
        span = port.portRange
        return ProtocolPorts(parse_protocol(span.protocol), ((span.start, span.end),))
    # An ANP namedPort carries no protocol: it matches the name on the destination pod, whatever the
    # protocol the container declares it with.
    assert port.namedPort is not None  # guaranteed by the schema
    return ServiceUnion(tuple(ProtocolPorts(proto, (), (port.namedPort,)) for proto in PORT_PROTOCOLS))


def translate_ports(ports: list[Port] | None) -> ServiceMatch:
    if not ports:
        return AnyService()
    terms = tuple(translate_port(p) for p in ports)
    return terms[0] if len(terms) == 1 else ServiceUnion(terms)


# ---- loaders -----------------------------------------------------------------------------------------


def load_admin_network_policy(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(AdminNetworkPolicyObject, doc.data, doc)
    _add_policy(doc, builder, obj, ANP_KIND, KUBE_ADMIN_TIER, float(obj.spec.priority))


def load_baseline_admin_network_policy(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(BaselineAdminNetworkPolicyObject, doc.data, doc)
    if obj.metadata.name != BANP_NAME:
        builder.error(
            f"BaselineAdminNetworkPolicy must be named '{BANP_NAME}' (it is a singleton); found {obj.metadata.name!r}",
            doc.source("metadata", "name"),
            code="schema",
        )
        return
    _add_policy(doc, builder, obj, BANP_KIND, KUBE_BASELINE_TIER, 0.0)


def _add_policy(
    doc: Document,
    builder: ClusterBuilder,
    obj: AdminNetworkPolicyObject | BaselineAdminNetworkPolicyObject,
    kind: str,
    tier: Tier,
    order: float,
) -> None:
    translator = _Translator(doc, builder)
    spec = obj.spec
    builder.add_policy(
        Policy(
            kind=kind,
            name=obj.metadata.name,  # cluster-scoped: no namespace prefix
            namespace=None,
            tier=tier,
            order=order,
            applies_to=translate_subject(spec.subject),
            ingress=translator.rules("ingress", spec.ingress),
            egress=translator.rules("egress", spec.egress),
            source=doc.source(),
            annotations=dict(obj.metadata.annotations or {}),
        )
    )


def check_anp_priorities(cluster: Cluster) -> list[Diagnostic]:
    """Warn about AdminNetworkPolicies sharing a priority.

    Upstream leaves the winner between equal priorities to the implementation; netverify orders them by
    name, which a real cluster need not do, so the result may differ when their rules overlap. Run after
    all documents are loaded, since the clash is between objects, possibly in different files.
    """
    by_priority: dict[float, list[Policy]] = defaultdict(list)
    for policy in cluster.policies:
        if policy.kind == ANP_KIND:
            by_priority[policy.order].append(policy)
    diagnostics = []
    for priority, policies in sorted(by_priority.items()):
        if len(policies) < 2:
            continue
        ordered = sorted(policies, key=lambda p: p.name)
        names = ", ".join(repr(p.name) for p in ordered)
        diagnostics.append(
            Diagnostic(
                Severity.WARNING,
                f"AdminNetworkPolicies {names} share priority {int(priority)}; where their rules match the "
                "same traffic, implementations may apply either (netverify evaluates them by name); "
                "give them distinct priorities",
                ordered[1].source,
                "ambiguous-priority",
            )
        )
    return diagnostics


def report_anp_priorities(builder: ClusterBuilder) -> None:
    """`check_anp_priorities` in the shape of a loader finalizer (see `FINALIZERS` in kinds/__init__.py)."""
    builder.cluster.diagnostics.extend(check_anp_priorities(builder.cluster))


def report_nodes_without_node_objects(builder: ClusterBuilder) -> None:
    """A `nodes` peer resolves against Node objects; with none in the input it matches no address."""
    if builder.cluster.nodes:
        return
    for policy in builder.cluster.policies:
        for rule in (*(policy.ingress or ()), *(policy.egress or ())):
            if any(isinstance(node, NodePeer) for node in walk_peer(rule.peer)):
                effect = " (traffic to nodes it would allow is shown as denied)" if rule.action is Action.ALLOW else ""
                builder.warning(
                    f"{policy.kind} {policy.name} {rule.name}: the input has no Node objects, so its nodes peer "
                    f"matches no address{effect}",
                    rule.source,
                    code="unsupported-field",
                )
