"""netverify: prove who can talk to whom in a Kubernetes cluster before anything is deployed.

The package is a pipeline (load -> model -> compile -> engine -> verify -> report); heavy modules
(numba kernels, pandas) are imported lazily so that importing the package and `netverify --help` stay cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "analyze"]


def analyze(*sources, cni: str = "generic"):
    """Load manifests (paths, YAML strings or lists of dicts) and compute their connectivity.

    Returns a `netverify.engine.ConnectivityMatrix`; load errors are on its `diagnostics` attribute.
    """
    from netverify.pipeline import analyze as _analyze

    return _analyze(*sources, cni=cni)
