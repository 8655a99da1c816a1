"""Namespaces, the pods that manifests create, and Calico host endpoints (endpoints that are not pods)."""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.addresses import IPRange
from netverify.model.source import SourceRef

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

HOST_ENDPOINT_KIND = "HostEndpoint"

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
)


@dataclass(frozen=True, slots=True)
class ContainerPort:
    port: int
    protocol: int
    name: str | None = None


@dataclass(slots=True)
class Namespace:
    name: str
    labels: dict[str, str]
    source: SourceRef | None = None  # None when no manifest defines it

    @property
    def implicit(self) -> bool:
        return self.source is None


@dataclass(slots=True)
class PodGroup:
    """Endpoints that share everything policy can see: a workload's replicas, one bare Pod, or one
    Calico HostEndpoint (a host interface: cluster-scoped, so `namespace` is None).

    Reported once as `namespace/name`, a host endpoint by its bare name (a name has no `/`, so it can
    never equal a pod's id); `--per-pod` expands `replicas` pods.
    """

    kind: str  # "Pod", a workload kind, or "HostEndpoint"
    namespace: str | None  # None: not namespaced (a host endpoint)
    name: str
    labels: dict[str, str]
    service_account: str | None = "default"  # None: no service account (a host endpoint)
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[tuple[int, int], ...] = ()  # (family, address): status.podIP(s) of bare pods, expectedIPs
    replicas: int = 1
    host_network: bool = False
    standalone: bool = False  # a bare Pod without ownerReferences: no controller made it
    source: SourceRef | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()  # Calico profiles the endpoint lists, in evaluation order
    node: str | None = None  # a host endpoint's node

    @property
    def id(self) -> str:
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"

    @property
    def is_host_endpoint(self) -> bool:
        return self.kind == HOST_ENDPOINT_KIND

    def pod_names(self) -> list[str]:
        if self.kind == "Pod" or self.is_host_endpoint:
            return [self.name]
        return [f"{self.name}-{i}" for i in range(self.replicas)]


@dataclass(slots=True)
class NetworkSet:
    """Calico (Global)NetworkSet: labelled address ranges that rule selectors can match like endpoints."""

    name: str
    namespace: str | None  # None for a GlobalNetworkSet
    labels: dict[str, str]
    ranges: tuple[IPRange, ...]
    source: SourceRef | None = None


@dataclass(slots=True)
class Node:
    """A Kubernetes Node: its labels (for AdminNetworkPolicy `nodes` peers) and its addresses."""

    name: str
    labels: dict[str, str]
    addresses: tuple[tuple[int, int], ...]  # (family, address) of InternalIP/ExternalIP
    source: SourceRef | None = None
    subnet: str | None = None  # id of the VPC subnet holding its InternalIP, when subnets are known
