"""The whole pipeline in one call, shared by the CLI and the Python API (one construction path)."""

from __future__ import annotations

from typing import Any, TextIO

from netverify.compile import compile_cluster
from netverify.engine import ConnectivityMatrix, compute_matrix
from netverify.load.cluster_loader import load_cluster
from netverify.model.cluster import Cluster


def analyze_cluster(
    cluster: Cluster, cni: str = "generic", progress=None, extra_services=(), pod_cidrs=None, dask=None
) -> ConnectivityMatrix:
    """`dask`: a dask.distributed scheduler address or `Client`; the row blocks of the matrix then run on
    that cluster (needs the `netverify[dask]` extra) with the same result as in-process."""
    compiled = compile_cluster(cluster, cni, extra_services, pod_cidrs)
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
