"""Run the kernels for both directions and combine them into the connectivity matrix."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from netverify.compile.compiled import CompiledCluster
from netverify.compile.tables import DirectionTables
from netverify.engine.matrix import ConnectivityMatrix

BLOCK = 512

Progress = Callable[[int, int], None]  # (done, total) target classes


def kernel_arguments(compiled: CompiledCluster, tables: DirectionTables) -> tuple:
    """The arrays `evaluate_targets` reads for one direction, as one plain tuple: what a dask worker needs
    (no policy objects, so scattering it costs only the arrays)."""
    return (
        compiled.n_classes,
        compiled.peers.size,
        compiled.services.full,
        tables.target_policy_ptr,
        tables.target_policy,
        tables.target_default,
        tables.policy_tier,
        tables.policy_rule_ptr,
        tables.tier_default,
        tables.rule_action,
        tables.rule_peer_ptr,
        tables.rule_peer,
        tables.rule_service,
        tables.rule_symbol_ptr,
        tables.rule_symbol,
        tables.rule_symbol_filter,
        tables.rule_target,
        tables.target_bits,
        compiled.symbol_atom,
    )


def evaluate_block(arguments: tuple, is_ingress: bool, first: int, last: int, out: np.ndarray | None = None):
    """Verdict rows of target classes [first, last): the unit of work of the local loop and of a dask task.

    Rows are independent of each other, so any partition of the targets gives the same matrix.
    """
    from netverify.engine.kernels import evaluate_targets

    n_classes, n_peers, full, *arrays = arguments
    if out is None:
        out = np.empty((last - first, n_peers, len(full)), dtype=np.uint64)
    evaluate_targets(first, last, is_ingress, n_classes, full, *arrays, out)
    return out


def evaluate_direction(
    compiled: CompiledCluster, tables: DirectionTables, is_ingress: bool, progress: Progress | None, offset: int
) -> np.ndarray:
    n_classes = compiled.n_classes
    out = np.empty((n_classes, compiled.peers.size, compiled.services.words), dtype=np.uint64)
    arguments = kernel_arguments(compiled, tables)
    total = 2 * n_classes
    for first in range(0, n_classes, BLOCK):
        last = min(first + BLOCK, n_classes)
        evaluate_block(arguments, is_ingress, first, last, out[first:last])
        if progress is not None:
            progress(offset + last, total)
    return out


SMALL = 2048  # below this many classes numpy combines the directions faster than loading another kernel


def combine(egress: np.ndarray, ingress: np.ndarray, n_classes: int) -> None:
    """egress[s, d] &= ingress[d, s] for pod classes: a flow needs both ends to allow it."""
    if n_classes <= SMALL:
        egress[:, :n_classes] &= ingress[:, :n_classes].transpose(1, 0, 2)
        return
    from netverify.engine.kernels import combine_directions

    combine_directions(egress, ingress, n_classes)


NUMPY_MAX_CELLS = 4_000_000  # classes x peers x words of one direction
NUMPY_MAX_WORK = 30_000_000  # sum over rules of (targets x peers x words) touched
NUMPY_MAX_RULES = 20_000


def numpy_is_faster(compiled: CompiledCluster) -> bool:
    """Small clusters: numpy finishes before numba would even be imported and its cached kernels loaded
    (~0.35 s); `NETVERIFY_ENGINE=numpy|numba` forces a path (benchmarks, tests)."""
    forced = os.environ.get("NETVERIFY_ENGINE", "").lower()
    if forced in ("numpy", "numba"):
        return forced == "numpy"
    words = compiled.services.words
    if compiled.n_classes * compiled.peers.size * words > NUMPY_MAX_CELLS:
        return False
    work = 0
    for tables in (compiled.ingress, compiled.egress):
        if len(tables.rules) > NUMPY_MAX_RULES:
            return False
        targets = np.array([len(t) for t in tables.policy_targets], dtype=np.int64)
        rule_policy = np.repeat(np.arange(len(targets)), np.diff(tables.policy_rule_ptr))
        work += int((targets[rule_policy] * np.diff(tables.rule_peer_ptr)).sum()) * words
    return work <= NUMPY_MAX_WORK


def compute_matrix(compiled: CompiledCluster, progress: Progress | None = None) -> ConnectivityMatrix:
    started = time.perf_counter()
    if numpy_is_faster(compiled):
        from netverify.engine.numpy_eval import evaluate_direction_numpy

        ingress = evaluate_direction_numpy(compiled, compiled.ingress, True)
        if progress is not None:
            progress(compiled.n_classes, 2 * compiled.n_classes)
        egress = evaluate_direction_numpy(compiled, compiled.egress, False)
        if progress is not None:
            progress(2 * compiled.n_classes, 2 * compiled.n_classes)
    else:
        ingress = evaluate_direction(compiled, compiled.ingress, True, progress, 0)
        egress = evaluate_direction(compiled, compiled.egress, False, progress, compiled.n_classes)
    combine(egress, ingress, compiled.n_classes)
    return ConnectivityMatrix(compiled, egress, ingress, time.perf_counter() - started)
