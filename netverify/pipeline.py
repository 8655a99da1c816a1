"""The whole pipeline in one call, shared by the CLI and the Python API (one construction path)."""

from __future__ import annotations

from typing import Any, TextIO

from netverify.compile import compile_cluster
from netverify.engine import ConnectivityMatrix, compute_matrix
from netverify.load.cluster_loader import load_cluster
from netverify.model.cluster import Cluster


def analyze_cluster(
    cluster: Cluster, cni: str = "generic", progress=None, extra_services=()
) -> ConnectivityMatrix:
    compiled = compile_cluster(cluster, cni, extra_services)
    return compute_matrix(compiled, progress)


def analyze(
    *sources: Any, cni: str = "generic", progress=None, stdin: TextIO | None = None
) -> ConnectivityMatrix:
    """Sources: paths, `-`, YAML strings, dicts or lists of dicts (each argument one source)."""
    flat: list[Any] = []
    for source in sources:
        if isinstance(source, list) and all(isinstance(item, dict) for item in source):
            flat.append(source)
        elif isinstance(source, (list, tuple)):
            flat.extend(source)
        else:
            flat.append(source)
    cluster = load_cluster(flat, stdin=stdin)
    return analyze_cluster(cluster, cni, progress)
