"""netverify: prove who can talk to whom in a Kubernetes cluster before anything is deployed.

The package is a pipeline (load -> model -> compile -> engine -> verify -> report); heavy modules
(numba kernels, pandas) are imported lazily so that importing the package and `netverify --help` stay cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "load"]


def analyze(*sources, cni: str = "generic", pod_cidrs=None):
    """Load manifests (paths, YAML strings or lists of dicts) and compute their connectivity.

    `pod_cidrs`: where pods whose IP the manifests do not give may live (default: private address space,
    so a CIDR rule over private space is treated as possibly matching them); `[]` makes CIDR rules never
    match them. Returns a `netverify.engine.ConnectivityMatrix`; load problems are on `.diagnostics`.
    """
    from netverify.pipeline import analyze as _analyze

    return _analyze(*sources, cni=cni, pod_cidrs=pod_cidrs)


def load(*sources, cni: str = "generic", pod_cidrs=None):
    """Load manifests for exploring in a notebook: a `LoadedCluster` with `matrix()`, `explain()`,
    `check()`, `graph()` and `with_changes()`. Sources are paths, YAML strings, dicts or lists of dicts."""
    from netverify.notebook.cluster import load as _load

    return _load(*sources, cni=cni, pod_cidrs=pod_cidrs)
