"""Ingress and IngressClass (networking.k8s.io/v1), and the AWS Load Balancer Controller's IngressClassParams
and TargetGroupBinding (elbv2.k8s.aws/v1beta1): what decides which ALB forwards to which pods."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt, StrictStr

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import LabelSelector, Lenient, ObjectMeta
from netverify.load.validation import parse_model
from netverify.model.addresses import parse_cidr
from netverify.model.ingress import (
    DEFAULT_CLASS_ANNOTATION,
    Backend,
    ControllerSettings,
    Ingress,
    IngressClass,
    IngressClassParams,
    IngressPath,
    TargetGroupBinding,
)
from netverify.model.source import SourceRef


class ServiceBackendPort(Lenient):
    name: StrictStr | None = None
    number: StrictInt | None = Field(default=None, ge=1, le=65535)


class ServiceBackend(Lenient):
    name: StrictStr = Field(min_length=1)
    port: ServiceBackendPort


class IngressBackend(Lenient):
    service: ServiceBackend | None = None
    resource: dict[str, Any] | None = None


class HTTPPath(Lenient):
    path: StrictStr | None = None
    pathType: Literal["Exact", "Prefix", "ImplementationSpecific"] = "ImplementationSpecific"
    backend: IngressBackend


class HTTPRule(Lenient):
    paths: list[HTTPPath] = Field(min_length=1)


class IngressRule(Lenient):
    host: StrictStr | None = None
    http: HTTPRule | None = None


class IngressSpec(Lenient):
    ingressClassName: StrictStr | None = None
    defaultBackend: IngressBackend | None = None
    rules: list[IngressRule] | None = None


class IngressObject(Lenient):
    metadata: ObjectMeta
    spec: IngressSpec = Field(default_factory=IngressSpec)


def _backend(backend: IngressBackend, source: SourceRef, doc: Document, builder: ClusterBuilder) -> Backend | None:
    if backend.service is None:
        builder.warning(
            "backend.resource is not supported by the AWS Load Balancer Controller; the path forwards nowhere",
            source,
            code="unsupported-field",
        )
        return None
    port = backend.service.port
    if (port.name is None) == (port.number is None):
        builder.error("backend.service.port: expected exactly one of name or number", source)
        return None
    if port.name == "use-annotation":
        return Backend(None, None, backend.service.name, source)
    return Backend(backend.service.name, port.number if port.number is not None else port.name, None, source)


def _annotation_sources(doc: Document, annotations: dict[str, str]) -> dict[str, SourceRef]:
    return {key: doc.source("metadata", "annotations", key) for key in annotations}


def load_ingress(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(IngressObject, doc.data, doc)
    spec = obj.spec
    default = None
    if spec.defaultBackend is not None:
        default = _backend(spec.defaultBackend, doc.source("spec", "defaultBackend"), doc, builder)
    paths: list[IngressPath] = []
    for r, rule in enumerate(spec.rules or []):
        if rule.http is None:
            continue  # a host without paths routes to the default backend
        for p, path in enumerate(rule.http.paths):
            where = doc.source("spec", "rules", r, "http", "paths", p)
            backend = _backend(path.backend, where, doc, builder)
            if backend is not None:
                paths.append(IngressPath(rule.host or None, path.path or None, path.pathType, backend, where))
    if not paths and default is None:
        builder.warning("Ingress has neither rules nor a defaultBackend: it forwards nowhere", doc.source("spec"))
    annotations = dict(obj.metadata.annotations or {})
    builder.cluster.ingresses.append(
        Ingress(
            namespace=obj.metadata.namespace or "default",
            name=obj.metadata.name,
            class_name=spec.ingressClassName,
            annotations=annotations,
            default_backend=default,
            paths=tuple(paths),
            source=doc.source(),
            annotation_sources=_annotation_sources(doc, annotations),
        )
    )


class ClassParametersRef(Lenient):
    apiGroup: StrictStr | None = None
    kind: StrictStr
    name: StrictStr


class IngressClassSpec(Lenient):
    controller: StrictStr = ""
    parameters: ClassParametersRef | None = None


class IngressClassObject(Lenient):
    metadata: ObjectMeta
    spec: IngressClassSpec = Field(default_factory=IngressClassSpec)


def load_ingress_class(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(IngressClassObject, doc.data, doc)
    params = obj.spec.parameters
    annotations = obj.metadata.annotations or {}
    builder.cluster.ingress_classes[obj.metadata.name] = IngressClass(
        name=obj.metadata.name,
        controller=obj.spec.controller,
        parameters=(params.apiGroup or "", params.kind, params.name) if params else None,
        is_default=annotations.get(DEFAULT_CLASS_ANNOTATION) == "true",
        source=doc.source(),
    )


class ParamsGroup(Lenient):
    name: StrictStr = Field(min_length=1)


class SubnetSelector(Lenient):
    ids: list[StrictStr] | None = None
    tags: dict[StrictStr, list[StrictStr]] | None = None


class IngressClassParamsSpec(Lenient):
    namespaceSelector: LabelSelector | None = None
    group: ParamsGroup | None = None
    scheme: Literal["internal", "internet-facing"] | None = None
    targetType: Literal["instance", "ip"] | None = None
    inboundCIDRs: list[StrictStr] | None = None
    subnets: SubnetSelector | None = None


class IngressClassParamsObject(Lenient):
    metadata: ObjectMeta
    spec: IngressClassParamsSpec = Field(default_factory=IngressClassParamsSpec)


def load_ingress_class_params(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(IngressClassParamsObject, doc.data, doc)
    spec = obj.spec
    for i, cidr in enumerate(spec.inboundCIDRs or []):
        try:
            parse_cidr(cidr)
        except ValueError as exc:
            builder.error(f"spec.inboundCIDRs[{i}]: {exc}", doc.source("spec", "inboundCIDRs", i))
            return
    subnets = spec.subnets
    builder.cluster.ingress_class_params[obj.metadata.name] = IngressClassParams(
        name=obj.metadata.name,
        namespace_selector=spec.namespaceSelector.to_selector() if spec.namespaceSelector else None,
        group=spec.group.name if spec.group else None,
        scheme=spec.scheme,
        target_type=spec.targetType,
        inbound_cidrs=tuple(spec.inboundCIDRs) if spec.inboundCIDRs is not None else None,
        subnet_ids=tuple(subnets.ids) if subnets and subnets.ids else None,
        subnet_tags={k: tuple(v) for k, v in subnets.tags.items()} if subnets and subnets.tags else None,
        source=doc.source(),
    )


class ServiceRef(Lenient):
    name: StrictStr = Field(min_length=1)
    port: StrictInt | StrictStr


class TargetGroupBindingSpec(Lenient):
    serviceRef: ServiceRef
    targetGroupARN: StrictStr | None = None
    targetGroupName: StrictStr | None = None
    targetType: Literal["instance", "ip"] | None = None


class TargetGroupBindingObject(Lenient):
    metadata: ObjectMeta
    spec: TargetGroupBindingSpec


def load_target_group_binding(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(TargetGroupBindingObject, doc.data, doc)
    spec = obj.spec
    target = spec.targetGroupARN or spec.targetGroupName
    if not target:
        builder.error("spec: expected targetGroupARN or targetGroupName", doc.source("spec"))
        return
    builder.cluster.target_group_bindings.append(
        TargetGroupBinding(
            namespace=obj.metadata.namespace or "default",
            name=obj.metadata.name,
            service=spec.serviceRef.name,
            port=spec.serviceRef.port,
            target_group=target,
            target_type=spec.targetType,
            source=doc.source(),
        )
    )


_BOOL = {"true": True, "false": False, "": True}


def controller_settings(args: list[str], source: SourceRef | None) -> ControllerSettings | None:
    """The controller's flags (`--flag=value` or `--flag value`) from its container args, or None when
    these are not its args."""
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = str(args[i])
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq and i + 1 < len(args) and not str(args[i + 1]).startswith("--"):
                value, i = str(args[i + 1]), i + 1
            values[name] = value
        i += 1
    if "cluster-name" not in values:
        return None  # the controller requires --cluster-name; without it these are someone else's args
    settings = ControllerSettings(cluster_name=values["cluster-name"], source=source)
    settings.ingress_class = values.get("ingress-class", settings.ingress_class)
    settings.default_target_type = values.get("default-target-type", settings.default_target_type)
    settings.default_scheme = values.get("default-load-balancer-scheme", settings.default_scheme)
    flag = values.get("disable-ingress-class-annotation")
    settings.disable_ingress_class_annotation = _BOOL.get(flag.lower(), False) if flag is not None else False
    flag = values.get("disable-ingress-group-name-annotation")
    settings.disable_group_name_annotation = _BOOL.get(flag.lower(), False) if flag is not None else False
    return settings

