"""Bring a connectivity matrix up to date after a policy change, recomputing only what the change touches.

A policy decides verdicts only for the classes it applies to, in its own directions. So after a change:
ingress rows of the classes it applies to for ingress (T_in) change, and egress rows of those it applies to
for egress (T_eg). `pod_rows[s, d] = egress[s, d] & ingress[d, s]`, so its rows T_eg change, and its columns
T_in; the raw egress verdicts of those columns are not kept (they would double the memory), so they are
evaluated again, for every source but only towards the classes of T_in, by the same kernel on rule peer
lists cut down to T_in. Everything else is left as it was, in place.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from netverify.compile.compiled import CompiledCluster
from netverify.compile.tables import DirectionTables
from netverify.engine.matrix import ConnectivityMatrix
from netverify.engine.reachability import compute_matrix, evaluate_block, kernel_arguments

# Above this share of classes touched in a direction, a whole evaluation is cheaper than rows and columns.
FULL_SHARE = 0.25


@dataclass(frozen=True)
class Touched:
    """Which cells of `pod_rows` a re-check may have changed: rows `sources`, columns `destinations`
    (classes); `everything` when the whole matrix was computed again."""

    sources: np.ndarray
    destinations: np.ndarray
    everything: bool = False


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the kernels on the calling thread: a re-check is a few milliseconds of work, and waking the
    other threads of a parallel region costs more than that on a busy machine."""
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def target_runs(targets: np.ndarray) -> list[tuple[int, int, int]]:
    """(first, last, position in targets) of each run of consecutive classes, so each run is one kernel call."""
    if len(targets) == 0:
        return []
    breaks = np.flatnonzero(np.diff(targets) != 1) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(targets)]))
    return [(int(targets[a]), int(targets[b - 1]) + 1, int(a)) for a, b in zip(starts, ends, strict=True)]


def gather_columns(array: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """array[:, columns] for a column map that is mostly consecutive (atoms cut: a few columns repeated),
    copied run by run: numpy's fancy indexing on the middle axis is element by element, ten times slower."""
    out = np.empty((array.shape[0], len(columns), *array.shape[2:]), dtype=array.dtype)
    breaks = np.flatnonzero(np.diff(columns) != 1) + 1
    for first, last in zip([0, *breaks.tolist()], [*breaks.tolist(), len(columns)], strict=True):
        start = int(columns[first])
        out[:, first:last] = array[:, start : start + last - first]
    return out


def evaluate_rows(compiled: CompiledCluster, tables: DirectionTables, is_ingress: bool, targets: np.ndarray):
    """Verdict rows (towards every peer) of the given target classes, in the order given (sorted)."""
    arguments = kernel_arguments(compiled, tables)
    out = np.empty((len(targets), compiled.peers.size, compiled.services.words), dtype=np.uint64)
    for first, last, at in target_runs(targets):
        evaluate_block(arguments, is_ingress, first, last, out[at : at + last - first])
    return out


def evaluate_egress_columns(compiled: CompiledCluster, destinations: np.ndarray) -> np.ndarray:
    """egress[s, d] for every source class s and each class d of `destinations`: (classes, len, words).

    The kernel runs on the egress tables with every rule's peer list cut down to `destinations`, renumbered
    0..len-1 (so the peer space is just those classes), and named ports resolved on them.
    """
    tables = compiled.egress
    position = np.full(compiled.peers.size, -1, dtype=np.int64)
    position[destinations] = np.arange(len(destinations))
    mapped = position[tables.rule_peer]
    kept = mapped >= 0
    kept_before = np.concatenate(([0], np.cumsum(kept)))
    narrowed = replace(tables, rule_peer_ptr=kept_before[tables.rule_peer_ptr], rule_peer=mapped[kept])
    n_classes, _, full, *arrays, symbol_atom = kernel_arguments(compiled, narrowed)
    k = len(destinations)
    arguments = (k, k, full, *arrays, np.ascontiguousarray(symbol_atom[:, destinations]))
    out = np.empty((n_classes, k, compiled.services.words), dtype=np.uint64)
    return evaluate_block(arguments, False, 0, n_classes, out)


def update_matrix(
    previous: ConnectivityMatrix,
    compiled: CompiledCluster,
    ingress_targets: np.ndarray,
    egress_targets: np.ndarray,
) -> ConnectivityMatrix:
    """The matrix of `compiled`, from `previous` (of the same classes and atoms, before the change) whose
    arrays are updated in place and handed over to the result."""
    started = time.perf_counter()
    n = compiled.n_classes
    if max(len(ingress_targets), len(egress_targets)) > FULL_SHARE * n:
        matrix = compute_matrix(compiled)
        matrix.touched = Touched(np.arange(n), np.arange(n), everything=True)
        return matrix
    ingress, pod_rows = previous.ingress, previous.pod_rows
    with one_thread():
        update_cells(compiled, pod_rows, ingress, ingress_targets, egress_targets)
    matrix = ConnectivityMatrix(compiled, pod_rows, ingress, time.perf_counter() - started)
    matrix.touched = Touched(egress_targets, ingress_targets)
    return matrix


def update_cells(
    compiled: CompiledCluster,
    pod_rows: np.ndarray,
    ingress: np.ndarray,
    ingress_targets: np.ndarray,
    egress_targets: np.ndarray,
) -> None:
    n = compiled.n_classes
    if len(ingress_targets):
        ingress[ingress_targets] = evaluate_rows(compiled, compiled.ingress, True, ingress_targets)
        columns = evaluate_egress_columns(compiled, ingress_targets)
        columns &= ingress[ingress_targets, :n].transpose(1, 0, 2)
        pod_rows[:, ingress_targets] = columns
    if len(egress_targets):
        rows = evaluate_rows(compiled, compiled.egress, False, egress_targets)
        rows[:, :n] &= ingress[:n, egress_targets].transpose(1, 0, 2)
        pod_rows[egress_targets] = rows
