"""Services, Ingresses and the AWS Load Balancer Controller's objects, as the manifests declare them.

These are the inputs of the external-traffic model: which ALB (one per IngressGroup) forwards to which pods,
from which addresses the pods see it, and which namespaces share a load balancer. Resolution into load
balancers happens in `netverify.compile.load_balancers`; nothing here interprets annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.selectors import Selector
from netverify.model.source import SourceRef

ALB_CONTROLLER = "ingress.k8s.aws/alb"
ANNOTATION_PREFIX = "alb.ingress.kubernetes.io/"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    protocol: int
    name: str | None = None
    target_port: int | str | None = None  # None: the same number as `port`
    node_port: int | None = None


@dataclass(slots=True)
class Service:
    namespace: str
    name: str
    type: str  # ClusterIP, NodePort, LoadBalancer, ExternalName
    selector: dict[str, str] | None  # None: no selector (backends are whatever Endpoints say)
    ports: tuple[ServicePort, ...]
    external_traffic_policy: str = "Cluster"
    annotations: dict[str, str] = field(default_factory=dict)
    source: SourceRef | None = None

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def port(self, ref: int | str | None) -> ServicePort | None:
        """The Service port an Ingress backend names, by number or by name."""
        for port in self.ports:
            if (isinstance(ref, int) and port.port == ref) or (isinstance(ref, str) and port.name == ref):
                return port
        return None


@dataclass(frozen=True, slots=True)
class Backend:
    """An Ingress backend: a Service port in the Ingress's namespace, or an `actions.<name>` annotation."""

    service: str | None
    port: int | str | None
    action: str | None  # name of the `alb.ingress.kubernetes.io/actions.<name>` annotation (`use-annotation`)
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class IngressPath:
    host: str | None  # None: every host
    path: str | None  # None: every path
    path_type: str  # Exact, Prefix, ImplementationSpecific
    backend: Backend
    source: SourceRef | None = None


@dataclass(slots=True)
class Ingress:
    namespace: str
    name: str
    class_name: str | None  # spec.ingressClassName
    annotations: dict[str, str]
    default_backend: Backend | None
    paths: tuple[IngressPath, ...]
    source: SourceRef | None = None
    annotation_sources: dict[str, SourceRef] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def alb(self, name: str) -> str | None:
        """The value of `alb.ingress.kubernetes.io/<name>`, if set."""
        return self.annotations.get(ANNOTATION_PREFIX + name)

    def where(self, annotation: str | None = None) -> SourceRef | None:
        """The line of an annotation (`<name>` of the ALB prefix, or a full key), else of the object."""
        if annotation is not None:
            for key in (ANNOTATION_PREFIX + annotation, annotation):
                if key in self.annotation_sources:
                    return self.annotation_sources[key]
        return self.source


@dataclass(slots=True)
class IngressClass:
    name: str
    controller: str
    parameters: tuple[str, str, str] | None  # (apiGroup, kind, name)
    is_default: bool
    source: SourceRef | None = None


@dataclass(slots=True)
class IngressClassParams:
    """elbv2.k8s.aws IngressClassParams: cluster-admin settings that override the Ingress annotations."""

    name: str
    namespace_selector: Selector | None
    group: str | None
    scheme: str | None
    target_type: str | None
    inbound_cidrs: tuple[str, ...] | None
    subnet_ids: tuple[str, ...] | None
    subnet_tags: dict[str, tuple[str, ...]] | None
    source: SourceRef | None = None


@dataclass(slots=True)
class TargetGroupBinding:
    namespace: str
    name: str
    service: str
    port: int | str
    target_group: str  # ARN or name: a load balancer netverify cannot see
    target_type: str | None
    source: SourceRef | None = None

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(slots=True)
class ControllerSettings:
    """The AWS Load Balancer Controller's flags that change reachability, with the controller's defaults;
    read from its Deployment's container args when the input has it."""

    ingress_class: str = "alb"
    default_target_type: str = "instance"
    default_scheme: str = "internal"
    cluster_name: str | None = None
    disable_ingress_class_annotation: bool = False
    disable_group_name_annotation: bool = False
    source: SourceRef | None = None
