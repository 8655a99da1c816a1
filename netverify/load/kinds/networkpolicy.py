"""Kubernetes NetworkPolicy (networking.k8s.io/v1), translated into the ordered-policy model.

Semantics (see reference/k8s-calico-anp-semantics.md §1): `policyTypes` defaults to Ingress, plus Egress
when the egress list is non-empty; missing or empty `from`/`to`/`ports` mean "everything"; a port entry
without protocol means TCP; ipBlock `except` entries must be strict subsets of the cidr. Every policy is an
order-1000 policy of the `default` tier whose rules all Allow, so the union semantics falls out of the
tier's default Deny.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr, ValidationInfo, field_validator, model_validator

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import LabelSelector, Lenient, ObjectMeta, Strict, selector_or_all
from netverify.load.validation import parse_model
from netverify.model.addresses import IPRange, parse_cidr, subtract
from netverify.model.peers import AnyPeer, EndpointPeer, NetPeer, PeerMatch, PeerUnion, PodIPMatching
from netverify.model.policy import DEFAULT_TIER, KUBERNETES_POLICY_ORDER, Action, Policy, Rule
from netverify.model.selectors import MatchAll
from netverify.model.services import AnyService, ProtocolPorts, ServiceMatch, ServiceUnion, parse_protocol

_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def check_port_name(name: str) -> str:
    """IANA service names, as the API server validates them: <=15 chars, lowercase, a letter, no '--'."""
    if len(name) > 15 or not _PORT_NAME.match(name) or "--" in name or not re.search(r"[a-z]", name):
        raise ValueError(
            f"invalid port {name!r}: expected a number 1-65535 or a port name "
            "(at most 15 lowercase letters, digits and '-', with at least one letter)"
        )
    return name


def check_cidr(text: str) -> str:
    parse_cidr(text)  # ValueError names the text and the expected form
    return text


class IPBlock(Strict):
    cidr: Annotated[StrictStr, AfterValidator(check_cidr)]
    except_: list[Annotated[StrictStr, AfterValidator(check_cidr)]] | None = Field(default=None, alias="except")

    @model_validator(mode="after")
    def _check(self) -> IPBlock:
        base = parse_cidr(self.cidr)
        for hole_text in self.except_ or []:
            hole = parse_cidr(hole_text)
            strict_subset = base.covers(hole) and hole != base
            if not strict_subset:
                raise ValueError(
                    f"except entry {hole_text!r} is not inside cidr {self.cidr!r} "
                    "(expected each except entry to be a strict subset of the cidr)"
                )
        return self

    def ranges(self) -> tuple[IPRange, ...]:
        return tuple(subtract(parse_cidr(self.cidr), [parse_cidr(h) for h in self.except_ or []]))


class Peer(Strict):
    podSelector: LabelSelector | None = None
    namespaceSelector: LabelSelector | None = None
    ipBlock: IPBlock | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Peer:
        if self.ipBlock is not None and (self.podSelector is not None or self.namespaceSelector is not None):
            raise ValueError("a peer with ipBlock may not also set podSelector or namespaceSelector")
        if self.ipBlock is None and self.podSelector is None and self.namespaceSelector is None:
            raise ValueError("a peer must set podSelector, namespaceSelector or ipBlock")
        return self


class Port(Strict):
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    port: StrictInt | StrictStr | None = None
    endPort: StrictInt | None = None

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError(f"port {value} is out of range (expected a number 1-65535 or a port name)")
        if isinstance(value, str):
            check_port_name(value)
        return value

    @field_validator("endPort")
    @classmethod
    def _end_port(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if "port" not in info.data:
            return value  # the port itself is wrong: reported there
        port = info.data["port"]
        if isinstance(port, str):
            raise ValueError(f"endPort {value} is set with the named port {port!r} (expected a numeric port)")
        if port is None:
            raise ValueError(f"endPort {value} is set without a port (expected a numeric port)")
        if value < port:
            raise ValueError(f"endPort {value} is less than port {port} (expected endPort >= port)")
        if value > 65535:
            raise ValueError(f"endPort {value} is out of range (expected a number {port}-65535)")
        return value


class IngressRule(Strict):
    from_: list[Peer] | None = Field(default=None, alias="from")
    ports: list[Port] | None = None


class EgressRule(Strict):
    to: list[Peer] | None = None
    ports: list[Port] | None = None


class NetworkPolicySpec(Strict):
    podSelector: LabelSelector | None = None
    policyTypes: list[Literal["Ingress", "Egress"]] | None = Field(default=None, max_length=2)
    ingress: list[IngressRule] | None = None
    egress: list[EgressRule] | None = None


class NetworkPolicyObject(Lenient):
    metadata: ObjectMeta
    spec: NetworkPolicySpec = Field(default_factory=NetworkPolicySpec)


def translate_peer(peer: Peer, namespace: str) -> PeerMatch:
    if peer.ipBlock is not None:
        return NetPeer(peer.ipBlock.ranges(), PodIPMatching.BY_PROFILE)
    pods = selector_or_all(peer.podSelector)
    if peer.namespaceSelector is None:
        return EndpointPeer(pods, namespace=namespace)
    return EndpointPeer(pods, namespace_selector=peer.namespaceSelector.to_selector())


def translate_peers(peers: list[Peer] | None, namespace: str) -> PeerMatch:
    if not peers:
        return AnyPeer()
    terms = tuple(translate_peer(p, namespace) for p in peers)
    return terms[0] if len(terms) == 1 else PeerUnion(terms)


def translate_port(port: Port) -> ProtocolPorts:
    protocol = parse_protocol(port.protocol or "TCP")
    if port.port is None:
        return ProtocolPorts(protocol, None)
    if isinstance(port.port, str):
        return ProtocolPorts(protocol, (), (port.port,))
    return ProtocolPorts(protocol, ((port.port, port.endPort or port.port),))


def translate_ports(ports: list[Port] | None) -> ServiceMatch:
    if not ports:
        return AnyService()
    terms = tuple(translate_port(p) for p in ports)
    return terms[0] if len(terms) == 1 else ServiceUnion(terms)


def policy_types(spec: NetworkPolicySpec) -> set[str]:
    if spec.policyTypes:
        return set(spec.policyTypes)
    return {"Ingress", "Egress"} if spec.egress else {"Ingress"}


def load_network_policy(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(NetworkPolicyObject, doc.data, doc)
    namespace = obj.metadata.namespace or "default"
    spec = obj.spec
    types = policy_types(spec)
    def translate(direction: str, rules: list[IngressRule] | list[EgressRule] | None) -> tuple[Rule, ...]:
        return tuple(
            Rule(
                Action.ALLOW,
                translate_peers(rule.from_ if isinstance(rule, IngressRule) else rule.to, namespace),
                translate_ports(rule.ports),
                doc.source("spec", direction, i),
                f"{direction}[{i}]",
            )
            for i, rule in enumerate(rules or [])
        )

    ingress = translate("ingress", spec.ingress) if "Ingress" in types else None
    egress = translate("egress", spec.egress) if "Egress" in types else None
    if spec.ingress and "Ingress" not in types:
        builder.warning(
            "spec.ingress is ignored because policyTypes does not include Ingress",
            doc.source("spec", "ingress"),
            code="ignored-rules",
        )
    if spec.egress and "Egress" not in types:
        builder.warning(
            "spec.egress is ignored because policyTypes does not include Egress",
            doc.source("spec", "egress"),
            code="ignored-rules",
        )
    builder.add_policy(
        Policy(
            kind="NetworkPolicy",
            name=f"{namespace}/{obj.metadata.name}",
            namespace=namespace,
            tier=DEFAULT_TIER,
            order=KUBERNETES_POLICY_ORDER,
            applies_to=EndpointPeer(
                selector_or_all(spec.podSelector) if spec.podSelector else MatchAll(), namespace=namespace
            ),
            ingress=ingress,
            egress=egress,
            source=doc.source(),
            annotations=dict(obj.metadata.annotations or {}),
        )
    )
