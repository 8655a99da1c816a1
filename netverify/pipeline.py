"""The whole pipeline in one call, shared by the CLI and the Python API (one construction path)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TextIO

from netverify.compile import compile_cluster
from netverify.engine import ConnectivityMatrix, compute_matrix
from netverify.load.cluster_loader import load_cluster
from netverify.model.cluster import Cluster
from netverify.model.policy import Policy


def analyze_cluster(
    cluster: Cluster,
    cni: str = "generic",
    progress=None,
    extra_services=(),
    pod_cidrs=None,
    dask=None,
    stages=None,
) -> ConnectivityMatrix:
    """`progress(done, total)`: the engine's progress; `stages` (a `report.progress.StageBars`): one bar for
    compiling and one for computing, used instead of `progress` when given. `dask`: a dask.distributed
    scheduler address or `Client`; the row blocks of the matrix then run on that cluster (needs the
    `netverify[dask]` extra) with the same result as in-process."""
    compiled = compile_cluster(
        cluster, cni, extra_services, pod_cidrs, stages.stage("compiling") if stages is not None else None
    )
    progress = stages.stage("computing") if stages is not None else progress
    if dask is not None:
        from netverify.engine.sharding import compute_matrix_on_dask

        return compute_matrix_on_dask(compiled, dask, progress)
    return compute_matrix(compiled, progress)


def analyze(
    *sources: Any, cni: str = "generic", progress=None, stdin: TextIO | None = None, pod_cidrs=None
) -> ConnectivityMatrix:
    """Sources: paths, `-`, YAML strings, dicts or lists of dicts (each argument one source).

    `pod_cidrs`: where pods whose IP the manifests do not give may live (default: private address space);
    an empty list makes CIDR rules never match them.
    """
    flat: list[Any] = []
    for source in sources:
        if isinstance(source, list) and all(isinstance(item, dict) for item in source):
            flat.append(source)
        elif isinstance(source, (list, tuple)):
            flat.extend(source)
        else:
            flat.append(source)
    cluster = load_cluster(flat, stdin=stdin)
    return analyze_cluster(cluster, cni, progress, pod_cidrs=pod_cidrs)


@dataclass(frozen=True)
class PolicyChange:
    """Policies taken out of and put into a cluster; a changed policy is its old version removed and its
    new version added."""

    added: tuple[Policy, ...] = ()
    removed: tuple[Policy, ...] = ()


def _same_except_policies(before: Cluster, after: Cluster) -> bool:
    """Does `after` differ from `before` in its policies only? (identity first: an edited copy shares the rest)"""
    for item in fields(Cluster):
        if item.name in ("policies", "diagnostics"):
            continue
        old, new = getattr(before, item.name), getattr(after, item.name)
        if old is not new and old != new:
            return False
    return True


def reanalyze_cluster(
    previous: ConnectivityMatrix, cluster: Cluster, changed: PolicyChange, keep_previous: bool = False
) -> ConnectivityMatrix:
    """The matrix of `cluster`, equal to `analyze_cluster(cluster, ...)` with the options `previous` was
    computed with, when `cluster` is `previous`'s cluster with the policies of `changed` removed and added.

    Only the classes the changed policies apply to are evaluated again (their rows, and in `pod_rows` their
    columns). A new CIDR boundary cuts IP atoms, which inherit their parent's columns (one copy of the
    matrix). The change is compiled and computed in full, with the same result, when it introduces a port,
    protocol or identity boundary, cuts an atom holding an endpoint's own address, drops the last policy
    mentioning a boundary (atoms would merge), or ties another policy in evaluation order. If anything but the
    policies differs, the cluster is analyzed afresh. `result.touched` says which rows and columns changed.

    `previous` is consumed: the result takes over its arrays and updates them in place (copying them would
    cost more than the re-check); pass `keep_previous=True` to keep it usable, at the cost of one copy.
    """
    from netverify.compile.edit import edit_compiled, targets_of
    from netverify.engine.recheck import Touched, gather_columns, update_matrix
    from netverify.model.policy import Direction

    before = previous.compiled
    options = {"extra_services": before.extra_services, "pod_cidrs": before.pod_cidrs}
    expected = len(before.cluster.policies) - len(changed.removed) + len(changed.added)
    edit = None
    if len(cluster.policies) == expected and _same_except_policies(before.cluster, cluster):
        edit = edit_compiled(before, cluster, changed.removed, changed.added)
    if edit is None:
        import numpy as np

        matrix = analyze_cluster(cluster, before.profile, **options)
        matrix.touched = Touched(np.arange(matrix.n_classes), np.arange(matrix.n_classes), everything=True)
        return matrix
    if edit.columns is not None:  # IP atoms were cut: each new atom's column starts as its parent's
        pod_rows, ingress = (gather_columns(array, edit.columns) for array in (previous.pod_rows, previous.ingress))
        previous = ConnectivityMatrix(before, pod_rows, ingress)
    elif keep_previous:
        previous = ConnectivityMatrix(before, previous.pod_rows.copy(), previous.ingress.copy(), previous.seconds)
    compiled = edit.compiled
    policies = [*changed.removed, *changed.added]
    ingress_targets = targets_of(compiled, policies, Direction.INGRESS)
    return update_matrix(previous, compiled, ingress_targets, targets_of(compiled, policies, Direction.EGRESS))
