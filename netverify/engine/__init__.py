"""Stage 4: compiled tables -> connectivity matrix (numba kernels, imported on first use)."""

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.engine.reachability import compute_matrix

__all__ = ["ConnectivityMatrix", "ConnSet", "Endpoint", "compute_matrix"]
