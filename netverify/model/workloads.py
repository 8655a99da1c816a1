"""Namespaces and the pods that manifests create."""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.addresses import IPRange
from netverify.model.source import SourceRef

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

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
    """Pods that share everything policy can see: a workload's replicas, or one bare Pod.

    Reported once as `namespace/name`; `--per-pod` expands `replicas` pods.
    """

    kind: str  # "Pod" or a workload kind
    namespace: str
    name: str
    labels: dict[str, str]
    service_account: str = "default"
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[tuple[int, int], ...] = ()  # (family, address) from status.podIP(s); bare pods only
    replicas: int = 1
    host_network: bool = False
    source: SourceRef | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def pod_names(self) -> list[str]:
        if self.kind == "Pod":
            return [self.name]
        return [f"{self.name}-{i}" for i in range(self.replicas)]

    def port_names(self) -> dict[tuple[int, int], str]:
        """(protocol, port) -> name, for named-port resolution on this destination."""
        return {(p.protocol, p.port): p.name for p in self.ports if p.name}


@dataclass(slots=True)
class NetworkSet:
    """Calico (Global)NetworkSet: labelled address ranges that rule selectors can match like endpoints."""

    name: str
    namespace: str | None  # None for a GlobalNetworkSet
    labels: dict[str, str]
    ranges: tuple[IPRange, ...]
    source: SourceRef | None = None
