"""Pydantic schemas of Calico's projectcalico.org/v3 policy resources (also served as crd.projectcalico.org/v1):
policies, tiers, network sets, and the host endpoints and profiles policies apply to."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator, model_validator

from netverify.load.calico_selector import parse_calico_selector
from netverify.load.kinds.common import Lenient, ObjectMeta, Strict
from netverify.model.addresses import IPRange, parse_address, parse_cidr
from netverify.model.services import parse_protocol

_RANGE = re.compile(r"^(\d+):(\d+)$")
_NAMED = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$")


def check_selector(value: str | None) -> str | None:
    if value is not None:
        parse_calico_selector(value)  # CalicoSelectorError is a ValueError: pydantic reports it in place
    return value


def parse_net(text: str) -> IPRange:
    """A Calico net: a CIDR, or a bare address meaning just itself (Calico's ParseCIDROrIP)."""
    return parse_cidr(text if "/" in text else text + ("/128" if ":" in text else "/32"))


def parse_port(value: int | str) -> tuple[int, int] | str:
    """Calico port: a number, "first:last", or a named port."""
    if isinstance(value, int):
        if not 0 <= value <= 65535:
            raise ValueError(f"invalid port {value}: expected 0-65535")
        return (value, value)
    text = value.strip()
    if text.isdigit():
        return parse_port(int(text))
    found = _RANGE.match(text)
    if found:
        first, last = int(found.group(1)), int(found.group(2))
        if not first <= last <= 65535:
            raise ValueError(f"invalid port range {value!r}: expected first:last with first <= last <= 65535")
        return (first, last)
    if not _NAMED.match(text) or len(text) > 63:
        raise ValueError(f"invalid port {value!r}: expected a number, a range like 8000:8080, or a port name")
    return text


class ServiceAccountMatch(Strict):
    names: list[StrictStr] | None = None
    selector: StrictStr | None = None

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return check_selector(value)


class ServiceReference(Strict):
    name: StrictStr
    namespace: StrictStr | None = None


class EntityRule(Strict):
    nets: list[StrictStr] | None = None
    notNets: list[StrictStr] | None = None
    selector: StrictStr | None = None
    notSelector: StrictStr | None = None
    namespaceSelector: StrictStr | None = None
    ports: list[StrictInt | StrictStr] | None = None
    notPorts: list[StrictInt | StrictStr] | None = None
    serviceAccounts: ServiceAccountMatch | None = None
    services: ServiceReference | None = None

    @field_validator("selector", "notSelector", "namespaceSelector")
    @classmethod
    def _selectors(cls, value: str | None) -> str | None:
        return check_selector(value)

    @field_validator("nets", "notNets")
    @classmethod
    def _nets(cls, value: list[str] | None) -> list[str] | None:
        for text in value or []:
            parse_net(text)
        return value

    @field_validator("ports", "notPorts")
    @classmethod
    def _ports(cls, value: list[int | str] | None) -> list[int | str] | None:
        for item in value or []:
            parse_port(item)
        return value


class ICMPMatch(Strict):
    type: StrictInt | None = Field(default=None, ge=0, le=254)
    code: StrictInt | None = Field(default=None, ge=0, le=255)

    @model_validator(mode="after")
    def _code_needs_type(self) -> ICMPMatch:
        if self.code is not None and self.type is None:
            raise ValueError("icmp code requires an icmp type")
        return self


class CalicoRule(Strict):
    action: Literal["Allow", "Deny", "Pass", "Log"]
    protocol: StrictInt | StrictStr | None = None
    notProtocol: StrictInt | StrictStr | None = None
    icmp: ICMPMatch | None = None
    notICMP: ICMPMatch | None = None
    ipVersion: Literal[4, 6] | None = None
    source: EntityRule = Field(default_factory=EntityRule)
    destination: EntityRule = Field(default_factory=EntityRule)
    http: dict | None = None
    metadata: dict | None = None

    @field_validator("protocol", "notProtocol")
    @classmethod
    def _protocol(cls, value: int | str | None) -> int | str | None:
        if value is not None:
            parse_protocol(value)
        return value

    @model_validator(mode="after")
    def _icmp_needs_icmp_protocol(self) -> CalicoRule:
        if (self.icmp or self.notICMP) and (self.protocol is None or parse_protocol(self.protocol) not in (1, 58)):
            raise ValueError("icmp and notICMP need protocol ICMP or ICMPv6")
        for match in (self.icmp, self.notICMP):
            if match is not None and match.type is None:
                raise ValueError("an icmp match needs a type")
        return self

    @model_validator(mode="after")
    def _ports_need_a_port_protocol(self) -> CalicoRule:
        for side in (self.source, self.destination):
            if (side.ports or side.notPorts) and (
                self.protocol is None or parse_protocol(self.protocol) not in (6, 17, 132, 136)
            ):
                raise ValueError("rules with ports must set protocol to TCP, UDP, SCTP or UDPLite")
        return self


class CalicoPolicySpec(Strict):
    tier: StrictStr | None = None
    order: StrictFloat | StrictInt | None = None
    selector: StrictStr | None = None
    namespaceSelector: StrictStr | None = None
    serviceAccountSelector: StrictStr | None = None
    types: list[Literal["Ingress", "Egress"]] | None = Field(default=None, max_length=2)
    ingress: list[CalicoRule] | None = None
    egress: list[CalicoRule] | None = None
    doNotTrack: StrictBool | None = None
    preDNAT: StrictBool | None = None
    applyOnForward: StrictBool | None = None
    performanceHints: list[StrictStr] | None = None

    @field_validator("selector", "namespaceSelector", "serviceAccountSelector")
    @classmethod
    def _selectors(cls, value: str | None) -> str | None:
        return check_selector(value)

    @model_validator(mode="after")
    def _host_flags(self) -> CalicoPolicySpec:
        if self.preDNAT and self.doNotTrack:
            raise ValueError("preDNAT and doNotTrack cannot both be true")
        if (self.preDNAT or self.doNotTrack) and self.applyOnForward is False:
            raise ValueError("applyOnForward must be true when preDNAT or doNotTrack is set")
        if self.preDNAT and self.egress:
            raise ValueError("preDNAT policy cannot have any egress rules")
        if self.preDNAT and self.types and "Egress" in self.types:
            raise ValueError("preDNAT policy cannot have Egress in types")
        return self


class CalicoPolicyObject(Lenient):
    metadata: ObjectMeta
    spec: CalicoPolicySpec = Field(default_factory=CalicoPolicySpec)


class TierSpec(Strict):
    order: StrictFloat | StrictInt | None = None
    defaultAction: Literal["Deny", "Pass"] | None = None


class TierObject(Lenient):
    metadata: ObjectMeta
    spec: TierSpec = Field(default_factory=TierSpec)


class NetworkSetSpec(Lenient):
    nets: list[StrictStr] | None = None
    allowedEgressDomains: list[StrictStr] | None = None

    @field_validator("nets")
    @classmethod
    def _nets(cls, value: list[str] | None) -> list[str] | None:
        for text in value or []:
            parse_net(text)
        return value


class NetworkSetObject(Lenient):
    metadata: ObjectMeta
    spec: NetworkSetSpec = Field(default_factory=NetworkSetSpec)




class EndpointPortSpec(Strict):
    """A named port of a host endpoint, which rules can name like a pod's containerPort."""

    name: StrictStr = Field(min_length=1)
    port: StrictInt = Field(ge=1, le=65535)
    protocol: StrictStr | StrictInt

    @field_validator("protocol")
    @classmethod
    def _port_protocol(cls, value: int | str) -> int | str:
        if parse_protocol(value) not in (6, 17, 132):
            raise ValueError(f"invalid protocol {value!r} for a named port: expected TCP, UDP or SCTP")
        return value


class HostEndpointSpec(Strict):
    node: StrictStr | None = None
    interfaceName: StrictStr | None = None
    expectedIPs: list[StrictStr] | None = None
    profiles: list[StrictStr] | None = None
    ports: list[EndpointPortSpec] | None = None

    @field_validator("expectedIPs")
    @classmethod
    def _addresses(cls, value: list[str] | None) -> list[str] | None:
        for text in value or []:
            parse_address(text)
        return value

    @model_validator(mode="after")
    def _interface_or_addresses(self) -> HostEndpointSpec:
        if not self.interfaceName and not self.expectedIPs:
            raise ValueError("a HostEndpoint needs interfaceName or expectedIPs (or both)")
        return self


class HostEndpointObject(Lenient):
    metadata: ObjectMeta
    spec: HostEndpointSpec


class ProfileSpec(Strict):
    ingress: list[CalicoRule] | None = None
    egress: list[CalicoRule] | None = None
    labelsToApply: dict[StrictStr, StrictStr] | None = None


class ProfileObject(Lenient):
    metadata: ObjectMeta
    spec: ProfileSpec = Field(default_factory=ProfileSpec)
