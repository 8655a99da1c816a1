"""netverify: prove who can talk to whom in a Kubernetes cluster before anything is deployed.

The package is a pipeline (load -> model -> compile -> engine -> verify -> report); heavy modules
(numba kernels, pandas) are imported lazily so that importing the package and `netverify --help` stay cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "diff", "load"]

# `netverify.load` is also the name of the loading stage's subpackage. Python binds a subpackage to its
# parent's attribute only when it is first imported, so importing it here (it imports nothing itself)
# lets the function `load` below keep the name for good.
import netverify.load  # noqa: E402,F401


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


def diff(before, after, per_pod: bool = False):
    """What changes from `before` to `after` (clusters from `load`/`with_changes`, or their matrices):
    a `DiffReport` of pairs added, removed and changed."""
    from netverify.notebook.diff_report import diff as _diff

    return _diff(before, after, per_pod=per_pod)
