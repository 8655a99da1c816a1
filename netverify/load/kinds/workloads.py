"""Pods and the pods that workloads make: template labels, namespace, container ports, service account."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt, StrictStr, field_validator

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import Lenient, ObjectMeta
from netverify.load.validation import parse_model
from netverify.model.addresses import parse_address
from netverify.model.services import parse_protocol
from netverify.model.workloads import ContainerPort, PodGroup


class ContainerPortSpec(Lenient):
    containerPort: StrictInt = Field(ge=1, le=65535)
    protocol: StrictStr = "TCP"
    name: StrictStr | None = None

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        if value not in ("TCP", "UDP", "SCTP"):
            raise ValueError(f"invalid container port protocol {value!r}: expected TCP, UDP or SCTP")
        return value


class ContainerSpec(Lenient):
    name: StrictStr | None = None
    image: Any = None
    args: list[Any] | None = None
    ports: list[ContainerPortSpec] | None = None
    restartPolicy: StrictStr | None = None  # "Always" on an init container makes it a sidecar that serves


class PodSpec(Lenient):
    # a lambda, not `list`: pydantic reads the factory's signature, and a builtin's costs a tokenizer run
    containers: list[ContainerSpec] = Field(default_factory=lambda: [])
    initContainers: list[ContainerSpec] | None = None
    serviceAccountName: StrictStr | None = None
    serviceAccount: StrictStr | None = None  # deprecated alias, still honoured by the API server
    hostNetwork: StrictBool = False


class TemplateMeta(Lenient):
    labels: dict[StrictStr, StrictStr] | None = None
    annotations: dict[StrictStr, StrictStr] | None = None


class PodTemplate(Lenient):
    metadata: TemplateMeta = Field(default_factory=TemplateMeta)
    spec: PodSpec = Field(default_factory=PodSpec)


class PodIPEntry(Lenient):
    ip: StrictStr


class PodStatus(Lenient):
    podIP: StrictStr | None = None
    podIPs: list[PodIPEntry] | None = None


class PodObject(Lenient):
    metadata: ObjectMeta
    spec: PodSpec = Field(default_factory=PodSpec)
    status: PodStatus | None = None


class WorkloadSpec(Lenient):
    replicas: StrictInt | None = Field(default=None, ge=0)
    parallelism: StrictInt | None = Field(default=None, ge=0)
    template: PodTemplate | None = None


class JobTemplate(Lenient):
    spec: WorkloadSpec = Field(default_factory=WorkloadSpec)


class CronJobSpec(Lenient):
    jobTemplate: JobTemplate


class WorkloadObject(Lenient):
    metadata: ObjectMeta
    spec: WorkloadSpec


class CronJobObject(Lenient):
    metadata: ObjectMeta
    spec: CronJobSpec


def container_ports(spec: PodSpec) -> tuple[ContainerPort, ...]:
    serving = list(spec.containers)
    serving += [c for c in spec.initContainers or [] if c.restartPolicy == "Always"]
    ports: list[ContainerPort] = []
    for container in serving:
        for port in container.ports or []:
            ports.append(ContainerPort(port.containerPort, parse_protocol(port.protocol), port.name))
    return tuple(ports)


def service_account(spec: PodSpec) -> str:
    return spec.serviceAccountName or spec.serviceAccount or "default"


def load_pod(doc: Document, builder: ClusterBuilder) -> None:
    pod = parse_model(PodObject, doc.data, doc)
    ips: list[tuple[int, int]] = []
    if pod.status is not None:
        texts = [pod.status.podIP] if pod.status.podIP else []
        texts += [entry.ip for entry in pod.status.podIPs or [] if entry.ip not in texts]
        for text in texts:
            try:
                ips.append(parse_address(text))
            except ValueError as exc:
                builder.error(f"status.podIP: {exc}", doc.source("status"))
    builder.add_group(
        PodGroup(
            kind="Pod",
            namespace=pod.metadata.namespace or "default",
            name=pod.metadata.name,
            labels=dict(pod.metadata.labels or {}),
            service_account=service_account(pod.spec),
            ports=container_ports(pod.spec),
            ips=tuple(ips),
            replicas=1,
            host_network=pod.spec.hostNetwork,
            standalone=not pod.metadata.ownerReferences,
            source=doc.source(),
            annotations=dict(pod.metadata.annotations or {}),
        )
    )


def _replicas(kind: str, spec: WorkloadSpec) -> int:
    if kind == "Job":
        return spec.parallelism if spec.parallelism is not None else 1
    if kind == "DaemonSet":
        return 1  # one per node; nodes are not part of the input yet
    return spec.replicas if spec.replicas is not None else 1


def load_workload(doc: Document, builder: ClusterBuilder) -> None:
    kind = doc.kind or ""
    data: Any = doc.data
    if kind == "CronJob":
        cron = parse_model(CronJobObject, data, doc)
        metadata, spec, template_path = cron.metadata, cron.spec.jobTemplate.spec, ("spec", "jobTemplate")
    else:
        workload = parse_model(WorkloadObject, data, doc)
        metadata, spec, template_path = workload.metadata, workload.spec, ("spec",)
    template = spec.template
    if template is None:
        builder.error(
            f"{kind} {metadata.name!r}: {'.'.join(template_path)}.template is missing "
            "(expected the pod template that makes its pods)",
            doc.source(*template_path),
        )
        return
    _note_alb_controller(template.spec, doc, builder)
    builder.add_group(
        PodGroup(
            kind=kind,
            namespace=metadata.namespace or "default",
            name=metadata.name,
            labels=dict(template.metadata.labels or {}),
            service_account=service_account(template.spec),
            ports=container_ports(template.spec),
            replicas=_replicas(kind, spec),
            host_network=template.spec.hostNetwork,
            source=doc.source(),
            annotations=dict(metadata.annotations or {}),
        )
    )


def _note_alb_controller(spec: PodSpec, doc: Document, builder: ClusterBuilder) -> None:
    """The AWS Load Balancer Controller's Deployment carries the flags that decide ALB defaults (the Ingress
    loader, and its schemas, are imported only for that Deployment)."""
    for container in spec.containers:
        if is_controller_image(container.image) and container.args:
            from netverify.load.kinds.ingress import controller_settings

            settings = controller_settings([str(a) for a in container.args], doc.source())
            if settings is not None:
                builder.cluster.alb_controller = settings


def is_controller_image(image: object) -> bool:
    return isinstance(image, str) and "aws-load-balancer-controller" in image
