"""What a change does to connectivity: the flows two runs disagree on, pair by pair.

Two runs cut protocols/ports and external addresses at different boundaries (each at what its own policies
mention), so neither run's atoms can be compared directly. Both are re-expressed on the union of their
boundaries: every service atom and every IP atom of that common grid lies wholly inside one atom of each run.
Endpoints are matched by id; an endpoint present on one side only is compared with "no traffic at all".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netverify.compile.service_atoms import ServiceSpace
from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.addresses import IPRange, family_max
from netverify.model.services import VALUE_DOMAINS, ProtocolPorts

TRANSLATE_CHUNK = 4096  # rows of service words re-expressed at a time, to bound memory


@dataclass(frozen=True)
class FlowChange:
    """One (source, destination) pair whose allowed services differ between the old and the new run."""

    src: Endpoint
    dst: Endpoint
    before: ConnSet
    after: ConnSet

    @property
    def gained(self) -> ConnSet:
        return ConnSet(self.after.words & ~self.before.words, self.after.space)

    @property
    def lost(self) -> ConnSet:
        return ConnSet(self.before.words & ~self.after.words, self.before.space)

    @property
    def kind(self) -> str:
        """One of: added (nothing was allowed before), removed (nothing is allowed now), changed."""
        if self.before.is_empty:
            return "added"
        if self.after.is_empty:
            return "removed"
        return "changed"


@dataclass(frozen=True)
class ConnectivityDiff:
    """Every pair whose connectivity changed, in matrix order (pod sources, then external sources).

    A plain data object: formatters and the notebook render it, nothing here formats.
    """

    flows: tuple[FlowChange, ...]
    endpoints_added: tuple[Endpoint, ...] = ()
    endpoints_removed: tuple[Endpoint, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def added(self) -> list[FlowChange]:
        """Pairs that could not talk at all before and now can."""
        return [f for f in self.flows if f.kind == "added"]

    @property
    def removed(self) -> list[FlowChange]:
        """Pairs that could talk before and now cannot at all."""
        return [f for f in self.flows if f.kind == "removed"]

    @property
    def changed(self) -> list[FlowChange]:
        """Pairs that can talk on both sides, but not with the same services."""
        return [f for f in self.flows if f.kind == "changed"]

    @property
    def gained(self) -> list[FlowChange]:
        """Every pair that may now send something it could not before (added pairs and widened ones)."""
        return [f for f in self.flows if not f.gained.is_empty]

    @property
    def lost(self) -> list[FlowChange]:
        """Every pair that can no longer send something it could before (removed pairs and narrowed ones)."""
        return [f for f in self.flows if not f.lost.is_empty]

    @property
    def is_empty(self) -> bool:
        return not self.flows

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's diff output: `added` lists every pair's newly allowed services (with what the pair
        allowed `before`, when it allowed anything), `removed` every pair's lost services (with what it still
        allows `after`, when anything)."""
        added = []
        for flow in self.gained:
            entry: dict[str, Any] = {"src": flow.src.id, "dst": flow.dst.id, "conn": flow.gained.to_json()}
            if not flow.before.is_empty:
                entry["before"] = flow.before.to_json()
            added.append(entry)
        removed = []
        for flow in self.lost:
            entry = {"src": flow.src.id, "dst": flow.dst.id, "conn": flow.lost.to_json()}
            if not flow.after.is_empty:
                entry["after"] = flow.after.to_json()
            removed.append(entry)
        return {
            "changed": not self.is_empty,
            "added": added,
            "removed": removed,
            "endpoints": {
                "added": [e.to_json() for e in self.endpoints_added],
                "removed": [e.to_json() for e in self.endpoints_removed],
            },
            "stats": self.stats,
        }


# ---- the common service grid -------------------------------------------------------------------------


def _atom_terms(space: ServiceSpace) -> list[ProtocolPorts]:
    """One match per atom whose boundaries are the atom's, so a space built from them cuts where `space` does."""
    terms = []
    for proto_lo, proto_hi, value_lo, value_hi in space.atom_rows:
        if proto_lo == proto_hi and proto_lo in VALUE_DOMAINS:
            terms.append(ProtocolPorts(proto_lo, ((value_lo, value_hi),)))
        else:
            terms.append(ProtocolPorts(proto_lo))  # cuts at proto_lo; proto_hi + 1 starts the next atom
    return terms


def _atom_index(source: ServiceSpace, target: ServiceSpace) -> np.ndarray:
    """For each atom of the finer `target`, the atom of `source` that holds it."""
    index = np.empty(target.size, dtype=np.int64)
    for t, (proto_lo, _, value_lo, _) in enumerate(target.atom_rows):
        index[t] = source.atom_of(proto_lo, value_lo if proto_lo in VALUE_DOMAINS else None)
    return index


def common_services(old: ServiceSpace, new: ServiceSpace) -> tuple[ServiceSpace, np.ndarray | None, np.ndarray | None]:
    """A space cut at both runs' boundaries, and per run the gather index into it (None: same atoms)."""
    if old.atom_rows == new.atom_rows:
        return old, None, None
    common = ServiceSpace(_atom_terms(old) + _atom_terms(new))
    return common, _atom_index(old, common), _atom_index(new, common)


def translate(words: np.ndarray, target: ServiceSpace, index: np.ndarray | None) -> np.ndarray:
    """Packed service words (any leading shape) re-expressed on `target` atoms through the gather index."""
    if index is None:
        return words
    leading = words.shape[:-1]
    flat = np.ascontiguousarray(words.reshape(-1, words.shape[-1]))
    out = np.zeros((flat.shape[0], target.words * 64), dtype=bool)
    for start in range(0, flat.shape[0], TRANSLATE_CHUNK):
        chunk = flat[start : start + TRANSLATE_CHUNK]
        bits = np.unpackbits(chunk.view(np.uint8), axis=1, bitorder="little").astype(bool)
        out[start : start + len(chunk), : target.size] = bits[:, index]
    packed = np.packbits(out, axis=1, bitorder="little")
    return packed.view(np.uint64).reshape(*leading, target.words)


# ---- the common address grid -------------------------------------------------------------------------


def common_ip_atoms(old: ConnectivityMatrix, new: ConnectivityMatrix) -> list[IPRange]:
    """Both runs' IP atoms cut at the union of their boundaries; IPv6 only when either run lists it."""
    families = [4] + ([6] if old.compiled.atoms.ipv6_mentioned or new.compiled.atoms.ipv6_mentioned else [])
    grid: list[IPRange] = []
    for family in families:
        starts = sorted({a.first for m in (old, new) for a in m.compiled.atoms.atoms if a.family == family})
        for i, first in enumerate(starts):
            last = starts[i + 1] - 1 if i + 1 < len(starts) else family_max(family)
            grid.append(IPRange(family, first, last))
    return grid


# ---- the diff ----------------------------------------------------------------------------------------


def _order_key(endpoint: Endpoint) -> tuple:
    """The matrix's endpoint order: namespaced endpoints by (namespace, name), then host endpoints."""
    return (endpoint.namespace is None, endpoint.namespace or "", endpoint.name or "", endpoint.id)


def _rows(table: np.ndarray, classes: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """table[classes][:, columns], all zero where the class is -1 (an endpoint this run does not have)."""
    present = classes >= 0
    block = table[np.ix_(np.where(present, classes, 0), columns)]
    block[~present] = 0
    return block


def diff_matrices(old: ConnectivityMatrix, new: ConnectivityMatrix, per_pod: bool = False) -> ConnectivityDiff:
    """Flows added, removed and changed from `old` to `new`, endpoints matched by id."""
    services, old_index, new_index = common_services(old.compiled.services, new.compiled.services)
    old_endpoints = {e.id: e for e in old.workload_endpoints(per_pod)}
    new_endpoints = {e.id: e for e in new.workload_endpoints(per_pod)}
    endpoints = sorted({**old_endpoints, **new_endpoints}.values(), key=_order_key)
    endpoints = [new_endpoints.get(e.id, old_endpoints.get(e.id)) for e in endpoints]
    classes = np.array(
        [
            [
                old_endpoints[e.id].class_index if e.id in old_endpoints else -1,
                new_endpoints[e.id].class_index if e.id in new_endpoints else -1,
            ]
            for e in endpoints
        ],
        dtype=np.int64,
    ).reshape(-1, 2)
    # endpoints of one class on both sides change alike: compare class combinations, then list endpoints
    combos, inverse = np.unique(classes, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    members: list[list[int]] = [[] for _ in range(len(combos))]
    for i, k in enumerate(inverse.tolist()):
        members[k].append(i)
    old_classes, new_classes = combos[:, 0], combos[:, 1]

    found: list[tuple[tuple, FlowChange]] = []

    def record(key: tuple, src: Endpoint, dst: Endpoint, before: np.ndarray, after: np.ndarray) -> None:
        found.append((key, FlowChange(src, dst, ConnSet(before.copy(), services), ConnSet(after.copy(), services))))

    # pod -> pod
    old_columns = np.where(old_classes >= 0, old_classes, 0)
    new_columns = np.where(new_classes >= 0, new_classes, 0)
    before = translate(_rows(old.pod_rows, old_classes, old_columns), services, old_index)
    after = translate(_rows(new.pod_rows, new_classes, new_columns), services, new_index)
    before[:, old_classes < 0] = 0
    after[:, new_classes < 0] = 0
    for a, b in zip(*np.nonzero((before != after).any(axis=2)), strict=True):
        for i in members[a]:
            for j in members[b]:
                if i != j:
                    record((0, i, 0, j), endpoints[i], endpoints[j], before[a, b], after[a, b])

    # pod -> external and external -> pod, on the common address grid
    grid = common_ip_atoms(old, new)
    if grid:
        old_atoms = np.array([old.compiled.atoms.index_of(r.family, r.first) for r in grid], dtype=np.int64)
        new_atoms = np.array([new.compiled.atoms.index_of(r.family, r.first) for r in grid], dtype=np.int64)
        sides = []
        for table_old, table_new in ((old.pod_rows, new.pod_rows), (old.ingress, new.ingress)):
            sides.append(
                (
                    translate(_rows(table_old, old_classes, old.n_classes + old_atoms), services, old_index),
                    translate(_rows(table_new, new_classes, new.n_classes + new_atoms), services, new_index),
                )
            )
        for ranges, x in _merged_ranges(grid, sides):
            external = Endpoint(ranges.label, "external")
            (egress_before, egress_after), (ingress_before, ingress_after) = sides
            for a in np.flatnonzero((egress_before[:, x] != egress_after[:, x]).any(axis=1)):
                for i in members[a]:
                    record((0, i, 1, x), endpoints[i], external, egress_before[a, x], egress_after[a, x])
            for a in np.flatnonzero((ingress_before[:, x] != ingress_after[:, x]).any(axis=1)):
                for i in members[a]:
                    record((1, x, i), external, endpoints[i], ingress_before[a, x], ingress_after[a, x])

    found.sort(key=lambda item: item[0])
    stats = {
        "added": sum(1 for _, f in found if f.kind == "added"),
        "removed": sum(1 for _, f in found if f.kind == "removed"),
        "changed": sum(1 for _, f in found if f.kind == "changed"),
        "old": _run_stats(old, per_pod),
        "new": _run_stats(new, per_pod),
    }
    return ConnectivityDiff(
        flows=tuple(f for _, f in found),
        endpoints_added=tuple(e for e in endpoints if e.id not in old_endpoints),
        endpoints_removed=tuple(e for e in endpoints if e.id not in new_endpoints),
        stats=stats,
    )


def _merged_ranges(grid: list[IPRange], sides: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[IPRange, int]]:
    """Adjacent grid atoms whose changes are identical for every endpoint, merged: (range, first atom)."""
    masked = []
    for before, after in sides:
        changed = (before != after).any(axis=2, keepdims=True)
        masked.append(np.where(changed, before, 0))
        masked.append(np.where(changed, after, 0))
    same_as_previous = np.ones(len(grid), dtype=bool)
    same_as_previous[0] = False
    for block in masked:
        if len(grid) > 1:
            same_as_previous[1:] &= (block[:, 1:] == block[:, :-1]).all(axis=(0, 2))
    merged: list[tuple[IPRange, int]] = []
    for x, atom in enumerate(grid):
        if same_as_previous[x] and merged and merged[-1][0].family == atom.family:
            first, start = merged[-1]
            merged[-1] = (IPRange(atom.family, first.first, atom.last), start)
        else:
            merged.append((atom, x))
    return merged


def _run_stats(matrix: ConnectivityMatrix, per_pod: bool) -> dict[str, Any]:
    return {
        "endpoints": len(matrix.workload_endpoints(per_pod)),
        "policies": len(matrix.compiled.cluster.policies),
        "seconds": round(matrix.seconds, 3),
    }
