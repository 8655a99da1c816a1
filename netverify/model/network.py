"""VPC subnets as infrastructure files define them (placeholder of the subnets branch's model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.addresses import IPRange
from netverify.model.source import SourceRef


@dataclass(slots=True)
class Subnet:
    """One VPC subnet, as an infrastructure file defines it; what may sit in it decides who a CIDR rule admits."""

    id: str
    cidrs: tuple[IPRange, ...]
    vpc: str | None = None
    zone: str | None = None
    public: bool | None = None
    roles: frozenset[str] = frozenset()
    name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    source: SourceRef | None = None
