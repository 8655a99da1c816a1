"""Load balancers as the AWS Load Balancer Controller would build them: one ALB per IngressGroup.

Produced by `netverify.compile.load_balancers` from the Ingress objects; the engine then asks whether each
target pod admits the ALB's source addresses, and the checks look at who shares an ALB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.addresses import IPRange
from netverify.model.ingress import Ingress, Service, ServicePort
from netverify.model.network import Subnet
from netverify.model.source import SourceRef


@dataclass(slots=True)
class TargetGroup:
    """Where one backend forwards: a Service's pods (by target port), or a target group netverify cannot see."""

    namespace: str
    service: Service | None
    service_port: ServicePort | None
    target_type: str  # "ip" or "instance"
    health_check_port: int | str | None  # None: the traffic port
    snat_to_nodes: bool = False  # instance mode with externalTrafficPolicy Cluster: pods may see node addresses
    external: str | None = None  # a target group ARN/name (actions forward or TargetGroupBinding)
    groups: list[int] = field(default_factory=list)  # indexes of the target pods' groups in cluster.groups
    source: SourceRef | None = None

    @property
    def target_port(self) -> int | str | None:
        """The pod port traffic arrives on (after DNAT): a number, or a container port name."""
        if self.service_port is None:
            return None
        port = self.service_port.target_port
        return self.service_port.port if port is None else port

    @property
    def label(self) -> str:
        if self.external is not None:
            return f"target group {self.external}"
        port = self.service_port.port if self.service_port else "?"
        name = self.service.name if self.service else "?"
        return f"service {self.namespace}/{name}:{port}"


@dataclass(slots=True)
class Route:
    """One listener rule: a host/path of a member Ingress, in the ALB's evaluation order."""

    ingress: Ingress
    host: str | None
    path: str | None
    path_type: str
    targets: list[TargetGroup]  # empty: a redirect or a fixed response
    source: SourceRef | None = None

    @property
    def match(self) -> str:
        return f"{self.host or '*'}{self.path or '/*'}"


@dataclass(slots=True)
class LoadBalancer:
    id: str  # the IngressGroup name, or namespace/name of an Ingress in its own implicit group
    explicit_group: bool
    members: list[Ingress]  # in the controller's order: (group.order, namespace/name)
    scheme: str  # "internet-facing" or "internal"
    listen_ports: tuple[tuple[str, int], ...]  # (HTTP|HTTPS, port)
    inbound: tuple[IPRange, ...] | None  # frontend source ranges; None: custom security groups (unknown)
    subnets: list[Subnet]
    source_ranges: tuple[IPRange, ...] | None  # the addresses pods see it from; None: placement unknown
    routes: list[Route]
    default_target: TargetGroup | None
    target_groups: list[TargetGroup]
    source: SourceRef | None = None
    settings: dict[str, str] = field(default_factory=dict)  # group-wide annotation values (without prefix)

    @property
    def namespaces(self) -> list[str]:
        return sorted({m.namespace for m in self.members})

    @property
    def endpoint_id(self) -> str:
        return f"alb:{self.id}"
