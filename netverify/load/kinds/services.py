"""Services: which pods a load balancer's target group reaches, and on which pod port (after DNAT)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt, StrictStr, field_validator

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import Lenient, ObjectMeta
from netverify.load.validation import parse_model
from netverify.model.ingress import Service, ServicePort
from netverify.model.services import parse_protocol


class ServicePortSpec(Lenient):
    name: StrictStr | None = None
    port: StrictInt = Field(ge=1, le=65535)
    protocol: StrictStr = "TCP"
    targetPort: StrictInt | StrictStr | None = None
    nodePort: StrictInt | None = Field(default=None, ge=1, le=65535)

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        if value not in ("TCP", "UDP", "SCTP"):
            raise ValueError(f"invalid service port protocol {value!r}: expected TCP, UDP or SCTP")
        return value

    @field_validator("targetPort")
    @classmethod
    def _target_port(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError(f"targetPort {value} is out of range: expected 1-65535 or a container port name")
        if isinstance(value, str) and value.isdigit():
            return cls._target_port(int(value))
        if isinstance(value, str) and not value:
            raise ValueError("targetPort is empty: expected a port number or a container port name")
        return value


class ServiceSpec(Lenient):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = "ClusterIP"
    selector: dict[StrictStr, StrictStr] | None = None
    ports: list[ServicePortSpec] | None = None
    externalTrafficPolicy: Literal["Cluster", "Local"] | None = None


class ServiceObject(Lenient):
    metadata: ObjectMeta
    spec: ServiceSpec = Field(default_factory=ServiceSpec)


def load_service(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(ServiceObject, doc.data, doc)
    spec = obj.spec
    ports = tuple(
        ServicePort(p.port, parse_protocol(p.protocol), p.name, p.targetPort, p.nodePort) for p in spec.ports or []
    )
    builder.cluster.services.append(
        Service(
            namespace=obj.metadata.namespace or "default",
            name=obj.metadata.name,
            type=spec.type,
            selector=dict(spec.selector) if spec.selector is not None else None,
            ports=ports,
            external_traffic_policy=spec.externalTrafficPolicy or "Cluster",
            annotations=dict(obj.metadata.annotations or {}),
            source=doc.source(),
        )
    )
