"""The matrix on a dask.distributed cluster: blocks of target rows are independent, so they shard.

Each direction's kernel arguments (plain arrays, no policy objects) are scattered to every worker once
(`broadcast=True`); every task then names only its block of target classes, and the scheduler never ships
the tables again. The blocks come back as they finish and are written into the same arrays the local loop
fills, so the result is the in-process matrix bit for bit. Workers need netverify installed (the tasks call
`netverify.engine.reachability.evaluate_block`), and they pay numba's compilation once per machine.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from netverify.compile.compiled import CompiledCluster
from netverify.engine.matrix import ConnectivityMatrix
from netverify.engine.reachability import BLOCK, Progress, combine, evaluate_block, kernel_arguments

EXTRA_HINT = "--dask needs dask.distributed: pip install 'netverify[dask]'"
CONNECT_TIMEOUT = "10s"


def require_distributed() -> Any:
    """The `distributed` module, or an ImportError that names the extra to install."""
    try:
        import distributed
    except ImportError as error:
        raise ImportError(EXTRA_HINT) from error
    return distributed


def connect(address: Any) -> tuple[Any, bool]:
    """(client, whether we opened it): `address` is a scheduler address or an existing `Client`."""
    distributed = require_distributed()
    if isinstance(address, distributed.Client):
        return address, False
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT), True
    except OSError as error:  # TimeoutError and refused connections are OSErrors
        raise OSError(f"cannot reach the dask scheduler at {address}: {error}") from error


def compute_matrix_on_dask(
    compiled: CompiledCluster, address: Any, progress: Progress | None = None, block: int = BLOCK
) -> ConnectivityMatrix:
    """`compute_matrix`, with the row blocks of both directions evaluated on the cluster at `address`."""
    distributed = require_distributed()
    started = time.perf_counter()
    client, opened = connect(address)
    try:
        n = compiled.n_classes
        shape = (n, compiled.peers.size, compiled.services.words)
        results = {True: np.empty(shape, dtype=np.uint64), False: np.empty(shape, dtype=np.uint64)}
        tasks = {}
        for is_ingress, tables in ((True, compiled.ingress), (False, compiled.egress)):
            [arguments] = client.scatter([kernel_arguments(compiled, tables)], broadcast=True)
            for first in range(0, n, block):
                last = min(first + block, n)
                future = client.submit(evaluate_block, arguments, is_ingress, first, last, pure=False)
                tasks[future] = (is_ingress, first, last)
        done = 0
        for future, rows in distributed.as_completed(tasks, with_results=True):
            is_ingress, first, last = tasks[future]
            results[is_ingress][first:last] = rows
            done += last - first
            if progress is not None:
                progress(done, 2 * n)
    finally:
        if opened:
            client.close()
    combine(results[False], results[True], n)
    return ConnectivityMatrix(compiled, results[False], results[True], time.perf_counter() - started)
