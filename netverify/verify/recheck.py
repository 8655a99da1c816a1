"""Re-check isolation after an incremental re-analysis, judging only the flows whose cells changed.

A violation is a pair (source endpoint, destination endpoint); both its verdict and its explanation
depend only on the source's egress and the destination's ingress. A re-analysis (`reanalyze_cluster`)
records the classes whose egress rows (sources) and ingress rows (destinations) it recomputed, so the
previous violations of other pairs stand as they were, and only pairs with a touched end are judged again.
The result lists violations in the order `check_isolation` does, so the two are interchangeable.
"""

from __future__ import annotations

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix
from netverify.verify.contract import Contract
from netverify.verify.isolation import CheckResult, FlowJudge, Violation, check_isolation, cluster_findings


def touched_pairs(matrix: ConnectivityMatrix, classes: np.ndarray, sources: np.ndarray, destinations: np.ndarray):
    """(i, k) positions in the endpoint list of pairs with some allowed traffic and a touched end."""
    rows = np.flatnonzero(np.isin(classes, sources))
    columns = np.flatnonzero(np.isin(classes, destinations))
    pairs: set[tuple[int, int]] = set()
    if len(rows):
        nonempty = matrix.pod_rows[np.ix_(classes[rows], classes)].any(axis=2)
        pairs.update(zip(rows[np.nonzero(nonempty)[0]].tolist(), np.nonzero(nonempty)[1].tolist(), strict=True))
    if len(columns):
        nonempty = matrix.pod_rows[np.ix_(classes, classes[columns])].any(axis=2)
        pairs.update(zip(np.nonzero(nonempty)[0].tolist(), columns[np.nonzero(nonempty)[1]].tolist(), strict=True))
    return pairs


def recheck_isolation(previous: CheckResult, matrix: ConnectivityMatrix, contract: Contract) -> CheckResult:
    """`check_isolation(matrix, contract)`, from the check of the matrix `matrix` was re-analyzed from.

    `previous` must be the result for that earlier matrix and the same contract; when `matrix.touched` is
    unknown or covers everything, this is a full check.
    """
    touched = matrix.touched
    if touched is None or touched.everything:
        return check_isolation(matrix, contract)
    cluster = matrix.compiled.cluster
    judge = FlowJudge(matrix, contract)
    pods = matrix.workload_endpoints()
    position = {endpoint.id: i for i, endpoint in enumerate(pods)}
    classes = np.array([endpoint.class_index for endpoint in pods], dtype=np.int64)
    sources, destinations = set(touched.sources.tolist()), set(touched.destinations.tolist())
    ordered: list[tuple[int, int, Violation]] = [
        (position[v.src.id], position[v.dst.id], v)
        for v in previous.violations
        if v.src.class_index not in sources and v.dst.class_index not in destinations
    ]
    space = matrix.compiled.services
    for i, k in touched_pairs(matrix, classes, touched.sources, touched.destinations):
        src, dst = pods[i], pods[k]
        if src.id == dst.id:
            continue
        found = judge.violation(src, dst, ConnSet(matrix.pod_rows[classes[i], classes[k]], space))
        if found is not None:
            ordered.append((i, k, found))
    ordered.sort(key=lambda item: (item[0], item[1]))
    stats = {**previous.stats, "policies": len(cluster.policies), "seconds": round(matrix.seconds, 3)}
    return CheckResult([v for _, _, v in ordered], cluster_findings(cluster), cluster.errors, stats)
