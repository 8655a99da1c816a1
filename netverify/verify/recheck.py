"""Re-check isolation after an incremental re-analysis, judging only the flows whose cells changed.

The flow judgements (failing and declared flows, before annotation suppression) are kept per pair; the
rest of the check (annotations, exposure, load balancers, findings) runs as in `check_isolation`, through
the same `finish_check`.

A violation is a pair (source endpoint, destination endpoint); both its verdict and its explanation
depend only on the source's egress and the destination's ingress. A re-analysis (`reanalyze_cluster`)
records the classes whose egress rows (sources) and ingress rows (destinations) it recomputed, so the
previous violations of other pairs stand as they were, and only pairs with a touched end are judged again.
The result lists violations in the order `check_isolation` does, so the two are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.verify.contract import Contract
from netverify.verify.flow_judge import FlowJudge
from netverify.verify.isolation import check_isolation, finish_check
from netverify.verify.results import CheckResult, Violation


@dataclass
class CheckIndex:
    """The endpoints of a check and where its judged flows sit among their pairs, built once per session:
    a flow of pair (i, k) has key i * len(pods) + k, and `check_isolation` lists them by key."""

    contract: Contract
    pods: list[Endpoint]
    classes: np.ndarray  # class of each endpoint
    tenants: np.ndarray  # tenant number of each endpoint, -1 when it has no namespace
    keys: np.ndarray  # key of each failing flow (CheckResult.judged[0]), ascending
    declared_keys: np.ndarray  # key of each declared flow (CheckResult.judged[1]), ascending

    @classmethod
    def of(cls, result: CheckResult, matrix: ConnectivityMatrix, judge: FlowJudge) -> CheckIndex:
        pods = matrix.workload_endpoints()
        position = {endpoint.id: i for i, endpoint in enumerate(pods)}
        numbers: dict[str, int] = {}
        tenants = [
            -1 if e.namespace is None else numbers.setdefault(judge.tenant(e.namespace), len(numbers)) for e in pods
        ]
        failing, declared = result.judged
        keys = [[position[v.src.id] * len(pods) + position[v.dst.id] for v in flows] for flows in (failing, declared)]
        return cls(
            judge.contract,
            pods,
            np.array([e.class_index for e in pods], dtype=np.int64),
            np.array(tenants, dtype=np.int64),
            np.array(keys[0], dtype=np.int64),
            np.array(keys[1], dtype=np.int64),
        )


def touched_keys(matrix: ConnectivityMatrix, index: CheckIndex, sources: np.ndarray, destinations: np.ndarray):
    """Keys of the cross-tenant pairs with some allowed traffic and a touched end, ascending."""
    classes, count = index.classes, len(index.pods)
    rows = np.flatnonzero(np.isin(classes, sources))
    columns = np.flatnonzero(np.isin(classes, destinations))
    found = []
    if len(rows):
        i, k = np.nonzero(matrix.pod_rows[np.ix_(classes[rows], classes)].any(axis=2))
        found.append(rows[i] * count + k)
    if len(columns):
        i, k = np.nonzero(matrix.pod_rows[np.ix_(classes, classes[columns])].any(axis=2))
        found.append(i * count + columns[k])
    keys = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    src_tenant, dst_tenant = index.tenants[keys // count], index.tenants[keys % count]
    return keys[(src_tenant >= 0) & (dst_tenant >= 0) & (src_tenant != dst_tenant)]


def recheck_isolation(
    previous: CheckResult, matrix: ConnectivityMatrix, contract: Contract, policy_findings: bool = True
) -> CheckResult:
    """`check_isolation(matrix, contract)`, from `previous`, the check of the matrix `matrix` was re-analyzed
    from (with the same contract); when `matrix.touched` is unknown or covers everything, a full check.

    `policy_findings=False`: the verdict and every violation without the contract-free findings, which never
    change the verdict and take a pass over every policy (about 0.4 s at 100,000 pods)."""
    touched = matrix.touched
    judge = FlowJudge(matrix, contract)
    if touched is None or touched.everything:
        result = check_isolation(matrix, contract)
        result.index = CheckIndex.of(result, matrix, judge)
        return result
    index = previous.index
    if index is None or index.contract is not contract:
        index = CheckIndex.of(previous, matrix, judge)
    count = len(index.pods)
    fresh: tuple[list[tuple[int, Violation]], list[tuple[int, Violation]]] = ([], [])
    space = matrix.compiled.services
    for key in touched_keys(matrix, index, touched.sources, touched.destinations).tolist():
        src, dst = index.pods[key // count], index.pods[key % count]
        if src.id == dst.id:
            continue
        judged = judge.judge(src, dst, ConnSet(matrix.pod_rows[src.class_index, dst.class_index], space))
        for found, into in zip(judged, fresh, strict=True):
            if found is not None:
                into.append((key, found))
    lists, keys = [], []
    for previous_flows, previous_keys, new in zip(
        previous.judged, (index.keys, index.declared_keys), fresh, strict=True
    ):
        merged, merged_keys = _merge(list(previous_flows), previous_keys, new, index, touched, count)
        lists.append(merged)
        keys.append(merged_keys)
    result = finish_check(matrix, contract, judge, lists[0], lists[1], policy_findings)
    result.index = CheckIndex(contract, index.pods, index.classes, index.tenants, keys[0], keys[1])
    return result


def _merge(
    previous: list,
    previous_keys: np.ndarray,
    fresh: list[tuple[int, Violation]],
    index: CheckIndex,
    touched,
    count: int,
) -> tuple[list, np.ndarray]:
    """The previous judgements of untouched pairs, with the fresh ones slotted in by key."""
    dropped = np.isin(index.classes[previous_keys // count], touched.sources) | np.isin(
        index.classes[previous_keys % count], touched.destinations
    )
    kept = np.flatnonzero(~dropped)
    kept_keys = previous_keys[kept]
    fresh_keys = [key for key, _ in fresh]
    slots = np.searchsorted(kept_keys, np.array(fresh_keys, dtype=np.int64)).tolist()
    merged: list = []
    previous_slot = 0
    for slot, violation in zip([*slots, len(kept)], [*(v for _, v in fresh), None], strict=True):
        merged.extend(copy_runs(previous, kept[previous_slot:slot]))
        if violation is not None:
            merged.append(violation)
        previous_slot = slot
    keys = np.insert(kept_keys, slots, fresh_keys) if fresh_keys else kept_keys
    return merged, keys


def copy_runs(values: list, positions: np.ndarray) -> list:
    """values[p] for p in positions (ascending), copying each run of consecutive positions as one slice."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    found: list = []
    for run in np.split(positions, breaks):
        found.extend(values[int(run[0]) : int(run[-1]) + 1])
    return found
