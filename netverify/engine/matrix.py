"""The connectivity result: class-level bit matrices, exposed as endpoints and their allowed services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from netverify.compile.compiled import CompiledCluster
from netverify.engine.connset import ConnSet
from netverify.model.addresses import IPRange, parse_address
from netverify.model.diagnostics import Diagnostic


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One row/column of the reported matrix: a workload, a pod, a host endpoint, or an external range.

    A Calico host endpoint is cluster-scoped: its id is its bare name (no `/`, so never a pod's
    `namespace/name`), and its JSON is {"id": name, "kind": "HostEndpoint", "name": name}.
    """

    id: str
    kind: str  # workload kind, "Pod", "HostEndpoint", or "external"
    namespace: str | None = None
    name: str | None = None
    class_index: int | None = None
    atoms: tuple[int, ...] = ()  # IP atoms of an external endpoint
    owner: str | None = None  # per-pod view: the workload that made the pod

    @property
    def is_external(self) -> bool:
        return self.class_index is None

    def to_json(self) -> dict:
        data: dict = {"id": self.id, "kind": self.kind}
        if self.namespace is not None:
            data["namespace"] = self.namespace
        if self.name is not None:
            data["name"] = self.name
        if self.owner is not None:
            data["owner"] = self.owner
        return data


class ConnectivityMatrix:
    """Allowed services for every (source, destination) pair of endpoints.

    `pod_rows[s, p]` holds what class s may send to peer p (a class or an IP atom, both ends agreeing);
    `ingress[d, n_classes + a]` holds what external atom a may send to class d.
    """

    touched = None  # engine.recheck.Touched: the cells an incremental re-check recomputed (None: all of them)

    def __init__(self, compiled: CompiledCluster, pod_rows: np.ndarray, ingress: np.ndarray, seconds: float = 0.0):
        self.compiled = compiled
        self.pod_rows = pod_rows
        self.ingress = ingress
        self.seconds = seconds
        self._external: list[Endpoint] | None = None

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.compiled.cluster.diagnostics

    @property
    def n_classes(self) -> int:
        return self.compiled.n_classes

    # ---- endpoints -------------------------------------------------------------------------------

    def workload_endpoints(self, per_pod: bool = False) -> list[Endpoint]:
        """Pods and workloads by (namespace, name), then host endpoints by name."""
        found: list[Endpoint] = []
        groups = self.compiled.groups
        order = sorted(
            range(len(groups)),
            key=lambda g: (groups[g].namespace is None, groups[g].namespace or "", groups[g].name),
        )
        for g in order:
            group = groups[g]
            cls = int(self.compiled.group_class[g])
            if group.namespace is None:
                found.append(Endpoint(group.id, group.kind, None, group.name, cls))
            elif per_pod:
                owner = None if group.kind == "Pod" else f"{group.kind}/{group.name}"
                for pod in group.pod_names():
                    found.append(Endpoint(f"{group.namespace}/{pod}", "Pod", group.namespace, pod, cls, owner=owner))
            else:
                found.append(Endpoint(group.id, group.kind, group.namespace, group.name, cls))
        return found

    def external_endpoints(self) -> list[Endpoint]:
        """IP atoms, adjacent ones merged when every pod treats them alike."""
        if self._external is None:
            self._external = self._merge_atoms()
        return self._external

    def _merge_atoms(self) -> list[Endpoint]:
        atoms = self.compiled.atoms.atoms
        c = self.n_classes
        merged: list[tuple[IPRange, list[int]]] = []
        previous_key: bytes | None = None
        for a, atom in enumerate(atoms):
            if atom.family == 6 and not self.compiled.atoms.ipv6_mentioned:
                break  # IPv6 is modelled but not listed when no input mentions it
            key = self.pod_rows[:, c + a].tobytes() + self.ingress[:, c + a].tobytes()
            if merged and previous_key == key and merged[-1][0].family == atom.family:
                last = merged[-1][0]
                merged[-1] = (IPRange(atom.family, last.first, atom.last), merged[-1][1] + [a])
            else:
                merged.append((atom, [a]))
            previous_key = key
        return [Endpoint(r.label, "external", atoms=tuple(ids)) for r, ids in merged]

    def endpoints(self, per_pod: bool = False) -> list[Endpoint]:
        return self.workload_endpoints(per_pod) + self.external_endpoints()

    def find(self, ident: str, per_pod: bool = False) -> Endpoint:
        """An endpoint by id ("ns/name", a host endpoint's name), or the external endpoint holding an IP."""
        for endpoint in self.workload_endpoints(per_pod):
            if endpoint.id == ident:
                return endpoint
        try:
            family, address = parse_address(ident)
        except ValueError:
            raise KeyError(
                f"no endpoint {ident!r}: expected namespace/name of a pod or workload, a host endpoint's name, or an IP"
            ) from None
        atom = self.compiled.atoms.index_of(family, address)
        if atom is None:
            raise KeyError(f"address {ident!r} is of an IP family no input mentions")
        for endpoint in self.external_endpoints():
            if atom in endpoint.atoms:
                return endpoint
        return Endpoint(self.compiled.atoms.atoms[atom].label, "external", atoms=(atom,))

    # ---- connections -----------------------------------------------------------------------------

    def conn(self, src: Endpoint | str, dst: Endpoint | str) -> ConnSet | None:
        """Allowed services from src to dst; None when neither end is a pod (not modelled)."""
        src = self.find(src) if isinstance(src, str) else src
        dst = self.find(dst) if isinstance(dst, str) else dst
        space = self.compiled.services
        if src.class_index is not None:
            column = dst.class_index if dst.class_index is not None else self.n_classes + dst.atoms[0]
            return ConnSet(self.pod_rows[src.class_index, column], space)
        if dst.class_index is not None:
            return ConnSet(self.ingress[dst.class_index, self.n_classes + src.atoms[0]], space)
        return None

    def allowed(self, src: str, dst: str, protocol: str | int, port: int | None = None) -> bool:
        found = self.conn(src, dst)
        return found is not None and found.contains(protocol, port)

    def connections(self, per_pod: bool = False) -> Iterator[tuple[Endpoint, Endpoint, ConnSet]]:
        """Every pair with some allowed traffic, pod to itself left out, in a stable order: each source's
        pod destinations then its external ones, then the external sources."""
        space = self.compiled.services
        sources, destinations, words = self.connection_table(per_pod)
        for src, dst, row in zip(sources, destinations, words, strict=True):
            yield src, dst, ConnSet(row, space)

    def connection_table(self, per_pod: bool = False) -> tuple[list[Endpoint], list[Endpoint], np.ndarray]:
        """`connections` as columns: the sources, the destinations, and the allowed service words of each
        pair (pairs x words), for callers that treat the pairs in bulk (the JSON of a large matrix)."""
        pods = self.workload_endpoints(per_pod)
        external = self.external_endpoints()
        c = self.n_classes
        pod_classes = np.array([e.class_index for e in pods], dtype=np.int64)
        ext_columns = np.array([c + e.atoms[0] for e in external], dtype=np.int64)
        columns = np.concatenate([pod_classes, ext_columns])
        targets = pods + external
        first = {}  # endpoint id -> its first index: a pair of one id is a pod to itself
        same = np.array([first.setdefault(e.id, i) for i, e in enumerate(targets)], dtype=np.int64)
        rows, cols = np.nonzero(self.pod_rows.any(axis=2)[np.ix_(pod_classes, columns)])
        keep = same[rows] != same[cols]
        rows, cols = rows[keep], cols[keep]
        sources = [pods[i] for i in rows.tolist()]
        destinations = [targets[k] for k in cols.tolist()]
        words = self.pod_rows[pod_classes[rows], columns[cols]]
        if external:
            ext, into = np.nonzero(self.ingress.any(axis=2)[np.ix_(pod_classes, ext_columns)].T)
            sources += [external[x] for x in ext.tolist()]
            destinations += [pods[i] for i in into.tolist()]
            words = np.concatenate([words, self.ingress[pod_classes[into], ext_columns[ext]]])
        return sources, destinations, words
