"""The contract applied to the allowed flows: what crosses tenants, what `shared` lets through, what `allow`
declares, and what is left, which is a violation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.services import ServiceUnion
from netverify.verify.allowed_by import explain_allowed
from netverify.verify.contract import Contract, pods_match, port_spec_service
from netverify.verify.results import Suppression, Violation


def _ports_mask(matrix: ConnectivityMatrix, ports: list[str] | None) -> np.ndarray:
    space = matrix.compiled.services
    if not ports:
        return space.full
    return space.pack(space.mask(ServiceUnion(tuple(port_spec_service(text) for text in ports))))


def _labels(matrix: ConnectivityMatrix, endpoint: Endpoint) -> dict[str, str]:
    assert endpoint.class_index is not None
    return matrix.compiled.classes[endpoint.class_index].labels


class FlowJudge:
    """Decides whether one allowed pod-to-pod flow breaks the contract, and explains it (one per check): what
    is left after `shared` fails, what the contract's `allow` entries cover is declared (reported, not failing).
    """

    def __init__(self, matrix: ConnectivityMatrix, contract: Contract):
        self.matrix = matrix
        self.contract = contract
        self.namespaces = matrix.compiled.cluster.namespaces
        self._tenants: dict[str, str] = {}
        self.shared = [(entry, _ports_mask(matrix, entry.ports)) for entry in contract.spec.shared or []]
        self.allows = [
            (i, entry, _ports_mask(matrix, entry.ports)) for i, entry in enumerate(contract.spec.allow or [])
        ]
        self._masks: tuple[list[Endpoint], _PartyMasks] | None = None

    def tenant(self, namespace: str) -> str:
        if namespace not in self._tenants:
            self._tenants[namespace] = self.contract.tenant_of(self.namespaces.get(namespace), namespace)
        return self._tenants[namespace]

    def judge(self, src: Endpoint, dst: Endpoint, conn: ConnSet) -> tuple[Violation | None, Violation | None]:
        """(the part of the flow that violates the contract, the part its `allow` entries declare)."""
        if src.is_external or dst.is_external or src.namespace is None or dst.namespace is None:
            return None, None  # addresses and host endpoints belong to no tenant
        src_tenant, dst_tenant = self.tenant(src.namespace), self.tenant(dst.namespace)
        if src_tenant == dst_tenant:
            return None, None
        matrix, contract = self.matrix, self.contract
        remaining = conn.words.copy()
        src_labels, dst_labels = _labels(matrix, src), _labels(matrix, dst)
        for entry, mask in self.shared:
            to_shared = entry.namespace == dst.namespace and pods_match(entry.pods, dst_labels)
            from_shared = entry.both_ways and entry.namespace == src.namespace and pods_match(entry.pods, src_labels)
            if to_shared or from_shared:
                remaining &= ~mask
        excepted = np.zeros_like(remaining)
        reasons: list[Suppression] = []
        for index, entry, mask in self.allows:
            if contract.party_matches(entry.from_, src.namespace, src_tenant, src_labels) and contract.party_matches(
                entry.to, dst.namespace, dst_tenant, dst_labels
            ):
                if (remaining & mask).any():
                    excepted |= remaining & mask
                    reasons.append(contract.allow_suppression(index))
                remaining &= ~mask
        found: list[Violation | None] = []
        for words, why in ((remaining, []), (excepted, reasons)):
            if not words.any():
                found.append(None)
                continue
            flow = ConnSet(words, conn.space)
            # a declared flow is explained by its contract entry (in `why`); tracing the rules that opened it
            # would cost as much as a violation for every flow a broad `allow` covers
            explained = explain_allowed(matrix, src, dst, flow) if not why else []
            found.append(Violation("cross-tenant-flow", src, dst, flow, src_tenant, dst_tenant, explained, why))
        return found[0], found[1]

    def judge_block(self, block: FlowBlock, violations: list[Violation], declared: list[Violation]) -> None:
        """`judge` for a block of flows at once, appending in flow order: the contract's entries become
        per-pod masks, so the per-flow work is only building the reports (property-tested against `judge`)."""
        if not len(block.src):
            return
        party = self._party_masks(block.pods)
        src, dst = block.src, block.dst
        remaining = block.conn.copy()
        for (_entry, mask), (to_shared, from_shared) in zip(self.shared, party.shared, strict=True):
            hit = to_shared[dst] | from_shared[src]
            remaining[hit] &= ~mask
        excepted = np.zeros_like(remaining)
        contributed = np.zeros((len(self.allows), len(src)), dtype=bool)
        for n, ((_index, _entry, mask), (from_allowed, to_allowed)) in enumerate(
            zip(self.allows, party.allows, strict=True)
        ):
            covered = from_allowed[src] & to_allowed[dst]
            part = remaining & mask
            contributed[n] = covered & part.any(axis=1)
            excepted[contributed[n]] |= part[contributed[n]]
            remaining[covered] &= ~mask
        failing, excepting = remaining.any(axis=1), excepted.any(axis=1)
        space = self.matrix.compiled.services
        reasons: dict[tuple[int, ...], list[Suppression]] = {}
        pods, contract = block.pods, self.contract
        for f in np.flatnonzero(failing | excepting).tolist():
            s, d = pods[int(src[f])], pods[int(dst[f])]
            src_tenant, dst_tenant = self.tenant(s.namespace), self.tenant(d.namespace)  # type: ignore[arg-type]
            if failing[f]:
                flow = ConnSet(remaining[f], space)
                explained = explain_allowed(self.matrix, s, d, flow)
                violations.append(Violation("cross-tenant-flow", s, d, flow, src_tenant, dst_tenant, explained, []))
            if excepting[f]:
                entries = tuple(np.flatnonzero(contributed[:, f]).tolist())
                if entries not in reasons:
                    reasons[entries] = [contract.allow_suppression(self.allows[n][0]) for n in entries]
                flow = ConnSet(excepted[f], space)
                declared.append(
                    Violation("cross-tenant-flow", s, d, flow, src_tenant, dst_tenant, [], list(reasons[entries]))
                )

    def _party_masks(self, pods: list[Endpoint]) -> _PartyMasks:
        """Which pods each contract entry names, on each side (computed once per pod list)."""
        if self._masks is not None and self._masks[0] is pods:
            return self._masks[1]
        matrix, contract = self.matrix, self.contract
        labels = [_labels(matrix, e) for e in pods]
        namespaces = [e.namespace for e in pods]
        tenants = [self.tenant(ns) for ns in namespaces]  # type: ignore[arg-type]

        def where(test: Callable[[str, str, dict[str, str]], bool]) -> np.ndarray:
            return np.fromiter(
                (test(ns, t, lab) for ns, t, lab in zip(namespaces, tenants, labels, strict=True)),
                dtype=bool,
                count=len(pods),
            )

        shared = []
        for entry, _mask in self.shared:
            named = where(lambda ns, _t, lab, e=entry: ns == e.namespace and pods_match(e.pods, lab))
            shared.append((named, named if entry.both_ways else np.zeros(len(pods), dtype=bool)))
        allows = [
            (
                where(lambda ns, t, lab, e=entry: contract.party_matches(e.from_, ns, t, lab)),
                where(lambda ns, t, lab, e=entry: contract.party_matches(e.to, ns, t, lab)),
            )
            for _index, entry, _mask in self.allows
        ]
        masks = _PartyMasks(shared, allows)
        self._masks = (pods, masks)
        return masks


@dataclass
class _PartyMasks:
    shared: list[tuple[np.ndarray, np.ndarray]]  # per shared entry: (pods it names as destination, as source)
    allows: list[tuple[np.ndarray, np.ndarray]]  # per allow entry: (pods its `from` names, its `to` names)


ROW_BLOCK = 256  # source endpoints per block: bounds the temporary (block x endpoints x words) copies


@dataclass
class FlowBlock:
    """The cross-tenant flows of a block of source rows: flow f goes from pods[src[f]] to pods[dst[f]]
    with the service-atom words conn[f], in the order of `matrix.connections()`."""

    pods: list[Endpoint]
    src: np.ndarray
    dst: np.ndarray
    conn: np.ndarray


def cross_tenant_blocks(
    matrix: ConnectivityMatrix, tenant: Callable[[str], str], progress: Callable[[int, int], None] | None = None
) -> Iterator[FlowBlock]:
    """Pod-to-pod flows whose ends are in different tenants, a block of source rows at a time.

    Addresses and host endpoints belong to no tenant. Same-tenant pairs are dropped with numpy, so Python
    only ever sees the flows that can be violations (at 100,000 pods the same-tenant flows outnumber them).
    """
    pods = [e for e in matrix.workload_endpoints() if e.namespace is not None]
    if not pods:
        return
    codes: dict[str, int] = {}
    tenants = np.array([codes.setdefault(tenant(e.namespace), len(codes)) for e in pods], dtype=np.int64)
    classes = np.array([e.class_index for e in pods], dtype=np.int64)
    for first in range(0, len(pods), ROW_BLOCK):
        rows = matrix.pod_rows[classes[first : first + ROW_BLOCK]][:, classes]
        flowing = rows.any(axis=2) & (tenants[first : first + ROW_BLOCK, None] != tenants[None, :])
        i, k = np.nonzero(flowing)
        yield FlowBlock(pods, i + first, k, rows[i, k])
        if progress is not None:
            progress(min(first + ROW_BLOCK, len(pods)), len(pods))
