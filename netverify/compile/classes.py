"""Endpoint classes: endpoints that no policy can tell apart are one class, so replicas cost nothing."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from netverify.compile.ip_atoms import IPAtoms
from netverify.model.workloads import ContainerPort, PodGroup


@dataclass(slots=True)
class EndpointClass:
    namespace: str | None  # None: not namespaced (Calico host endpoints)
    labels: dict[str, str]
    service_account: str | None
    ports: tuple[ContainerPort, ...]
    ip_atoms: tuple[int, ...]
    host_network: bool
    standalone: bool = False  # a bare Pod without ownerReferences (some CNIs do not guard those)
    host: bool = False  # Calico host endpoints: own default (deny), no pod pseudo-labels, IPs not pod IPs
    groups: list[int] = field(default_factory=list)  # indexes into the compiled endpoint groups
    ids: list[str] = field(default_factory=list)  # ids of those groups, for `ByIdentity` matches


def build_classes(
    groups: list[PodGroup], atoms: IPAtoms, distinct_ids: Collection[str] = ()
) -> tuple[list[EndpointClass], np.ndarray]:
    """Classes, and for every group the index of its class.

    Groups whose id is in `distinct_ids` (named by some `ByIdentity` peer) get a class of their own, so an
    identity match never has to split a class.
    """
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
            group.standalone,
            group.is_host_endpoint,
            group.id if group.id in distinct_ids else None,
        )
        found = index.get(key)
        if found is None:
            found = index[key] = len(classes)
            classes.append(
                EndpointClass(
                    group.namespace,
                    dict(group.labels),
                    group.service_account,
                    ports,
                    ip_atoms,
                    group.host_network,
                    group.standalone,
                    group.is_host_endpoint,
                )
            )
        classes[found].groups.append(g)
        classes[found].ids.append(group.id)
        group_class[g] = found
    return classes, group_class
