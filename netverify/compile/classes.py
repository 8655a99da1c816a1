"""Endpoint classes: pods that no policy can tell apart are one class, so replicas cost nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netverify.compile.ip_atoms import IPAtoms
from netverify.model.workloads import ContainerPort, PodGroup


@dataclass(slots=True)
class EndpointClass:
    namespace: str
    labels: dict[str, str]
    service_account: str
    ports: tuple[ContainerPort, ...]
    ip_atoms: tuple[int, ...]
    host_network: bool
    groups: list[int] = field(default_factory=list)  # indexes into Cluster.groups

    def port_names(self) -> dict[tuple[int, int], str]:
        return {(p.protocol, p.port): p.name for p in self.ports if p.name}


def build_classes(groups: list[PodGroup], atoms: IPAtoms) -> tuple[list[EndpointClass], np.ndarray]:
    """Classes, and for every group the index of its class."""
    classes: list[EndpointClass] = []
    index: dict[tuple, int] = {}
    group_class = np.empty(len(groups), dtype=np.int64)
    for g, group in enumerate(groups):
        ip_atoms = tuple(sorted({a for a in (atoms.index_of(f, ip) for f, ip in group.ips) if a is not None}))
        ports = tuple(sorted(set(group.ports), key=lambda p: (p.protocol, p.port, p.name or "")))
        key = (
            group.namespace,
            frozenset(group.labels.items()),
            group.service_account,
            ports,
            ip_atoms,
            group.host_network,
        )
        found = index.get(key)
        if found is None:
            found = index[key] = len(classes)
            classes.append(
                EndpointClass(
                    group.namespace, dict(group.labels), group.service_account, ports, ip_atoms, group.host_network
                )
            )
        classes[found].groups.append(g)
        group_class[g] = found
    return classes, group_class
