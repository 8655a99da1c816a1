"""The whole pipeline in one call, shared by the CLI and the Python API (one construction path)."""

from __future__ import annotations

from typing import Any, TextIO

from netverify.compile import compile_cluster
from netverify.engine import ConnectivityMatrix, compute_matrix
from netverify.load.cluster_loader import load_cluster
from netverify.model.cluster import Cluster


def analyze_cluster(
    cluster: Cluster, cni: str = "generic", progress=None, extra_services=(), pod_cidrs=None, stages=None
) -> ConnectivityMatrix:
    """`progress(done, total)`: the engine's progress; `stages` (a `report.progress.StageBars`): one bar for
    compiling and one for computing, used instead of `progress` when given."""
    compiled = compile_cluster(
        cluster, cni, extra_services, pod_cidrs, stages.stage("compiling") if stages is not None else None
    )
    return compute_matrix(compiled, stages.stage("computing") if stages is not None else progress)


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
