"""In-process engine vs the same matrix sharded on a dask LocalCluster, on one generated repository.

Usage: python benchmarks/dask_scaling.py DIR [--workers 2] [--pod-cidr CIDR]

Times only the matrix computation (load and compile are shared), after one warm-up run of each, and checks
that both give the same arrays. On one machine the workers share its cores with the client, so this shows
the overhead of sharding (scatter, task scheduling, shipping result blocks back), not a speed-up; a cluster
of machines divides the kernel time by the number of worker cores.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pod-cidr", default="10.64.0.0/16")
    args = parser.parse_args()

    import numpy as np
    from distributed import Client, LocalCluster

    from netverify.compile import compile_cluster
    from netverify.engine import compute_matrix
    from netverify.engine.sharding import compute_matrix_on_dask
    from netverify.load.cluster_loader import load_cluster

    compiled = compile_cluster(load_cluster([args.repo]), "generic", pod_cidrs=(args.pod_cidr,))
    compute_matrix(compiled)  # warm: numba's cached machine code loaded
    started = time.perf_counter()
    local = compute_matrix(compiled)
    local_seconds = time.perf_counter() - started
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster, Client(
        cluster
    ) as client:
        compute_matrix_on_dask(compiled, client)  # warm: every worker loads the kernels once
        started = time.perf_counter()
        sharded = compute_matrix_on_dask(compiled, client)
        dask_seconds = time.perf_counter() - started
    same = np.array_equal(local.pod_rows, sharded.pod_rows) and np.array_equal(local.ingress, sharded.ingress)
    size_mb = (local.pod_rows.nbytes + local.ingress.nbytes) / 2**20
    print(f"| classes | peers | matrix MB | in-process s | LocalCluster {args.workers} workers s | same |")
    print("|---:|---:|---:|---:|---:|---|")
    print(
        f"| {compiled.n_classes} | {compiled.peers.size} | {size_mb:.0f} | {local_seconds:.2f} | "
        f"{dask_seconds:.2f} | {'yes' if same else 'NO'} |"
    )
    print(f"\nnproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
