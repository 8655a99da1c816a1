"""The isolation contract: who the tenants are, what is shared, which cross-tenant flows are declared.

With no contract file every namespace is its own tenant and kube-system is shared both ways (system
add-ons talk to every namespace). A contract file (DESIGN.md) can group namespaces into tenants by a label
or by lists, declare shared services and allowed exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field, StrictStr, field_validator, model_validator

from netverify.load.kinds.common import Strict
from netverify.model.services import PROTOCOL_NUMBERS, VALUE_DOMAINS, ProtocolPorts
from netverify.model.source import SourceRef
from netverify.model.workloads import Namespace

if TYPE_CHECKING:
    from netverify.verify.results import Suppression

ANY_TENANT = "*"


def parse_port_spec(text: str) -> tuple[int, int, int]:
    """`53/UDP`, `8000-8080/TCP` or `TCP` (every port) -> (protocol, first, last)."""
    value = str(text).strip()
    port_part, _, protocol_part = value.rpartition("/") if "/" in value else ("", "", value)
    protocol = PROTOCOL_NUMBERS.get(protocol_part.upper())
    if protocol is None:
        raise ValueError(f"invalid port {text!r}: expected PORT/PROTOCOL such as 53/UDP or 8000-8080/TCP")
    lo, hi = VALUE_DOMAINS.get(protocol, (0, 0))
    if not port_part:
        return protocol, lo, hi
    first_text, _, last_text = port_part.partition("-")
    if not first_text.isdigit() or (last_text and not last_text.isdigit()):
        raise ValueError(f"invalid port {text!r}: expected PORT/PROTOCOL such as 53/UDP or 8000-8080/TCP")
    first, last = int(first_text), int(last_text or first_text)
    if protocol not in VALUE_DOMAINS or not lo <= first <= last <= hi:
        raise ValueError(f"invalid port {text!r}: port out of range for {protocol_part.upper()}")
    return protocol, first, last


def port_spec_service(text: str) -> ProtocolPorts:
    """A contract's or a command line's `PORT/PROTOCOL` as the service it names."""
    protocol, first, last = parse_port_spec(text)
    return ProtocolPorts(protocol, ((first, last),))


def pods_match(pods: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A contract entry's `pods:` labels (all must match; none given matches every pod)."""
    return all(labels.get(k) == v for k, v in (pods or {}).items())


def check_port_specs(value: list[str] | None) -> list[str] | None:
    for item in value or []:
        parse_port_spec(item)
    return value


class TenantsSpec(Strict):
    namespaceLabel: StrictStr | None = None
    namespaces: dict[StrictStr, list[StrictStr]] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> TenantsSpec:
        if self.namespaceLabel and self.namespaces:
            raise ValueError("use either namespaceLabel or namespaces, not both")
        return self


class Party(Strict):
    """One side of a shared/allow entry."""

    tenant: StrictStr | None = None
    namespace: StrictStr | None = None
    pods: dict[StrictStr, StrictStr] | None = None


class SharedSpec(Strict):
    namespace: StrictStr
    pods: dict[StrictStr, StrictStr] | None = None
    ports: list[StrictStr] | None = None
    both_ways: bool = Field(default=False, alias="bothWays")

    _ports = field_validator("ports")(classmethod(lambda cls, value: check_port_specs(value)))


class AllowSpec(Strict):
    from_: Party = Field(alias="from")
    to: Party
    ports: list[StrictStr] | None = None
    reason: StrictStr | None = None

    _ports = field_validator("ports")(classmethod(lambda cls, value: check_port_specs(value)))


class ExposureSpec(Strict):
    internet: Literal["any", "ingress-only", "none"] | None = None


class ContractSpec(Strict):
    tenants: TenantsSpec = Field(default_factory=TenantsSpec)
    shared: list[SharedSpec] | None = None
    allow: list[AllowSpec] | None = None
    exposure: ExposureSpec | None = None


@dataclass
class Contract:
    """A parsed contract, resolved against the cluster's namespaces by `tenant_of`."""

    spec: ContractSpec
    default: bool = False
    source: str | None = None
    allow_sources: list[SourceRef] = field(default_factory=list)  # where each `allow` entry is written

    def allow_suppression(self, index: int) -> Suppression:
        """A declared exception as the suppression it is: its reason, or which entry declared it."""
        from netverify.verify.results import Suppression  # results imports the engine: only when needed

        entry = (self.spec.allow or [])[index]
        where = self.allow_sources[index] if index < len(self.allow_sources) else None
        return Suppression(
            "contract",
            entry.reason or f"declared exception allow[{index}] of the contract",
            where.file if where else self.source,
            where.line if where else None,
        )

    @classmethod
    def default_contract(cls) -> Contract:
        spec = ContractSpec(shared=[SharedSpec(namespace="kube-system", bothWays=True)])
        return cls(spec, default=True)

    def tenant_of(self, namespace: Namespace | None, name: str) -> str:
        """Tenant of a namespace: by the contract's label or lists; otherwise the namespace is its own."""
        tenants = self.spec.tenants
        if tenants.namespaces:
            for tenant, members in tenants.namespaces.items():
                if name in members:
                    return tenant
        if tenants.namespaceLabel and namespace is not None:
            value = namespace.labels.get(tenants.namespaceLabel)
            if value is not None:
                return value
        return name

    def party_matches(self, party: Party, namespace: str, tenant: str, labels: dict[str, str]) -> bool:
        if party.tenant is not None and party.tenant != ANY_TENANT and party.tenant != tenant:
            return False
        if party.namespace is not None and party.namespace != namespace:
            return False
        return pods_match(party.pods, labels)
