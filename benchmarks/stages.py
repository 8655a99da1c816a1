"""Where one whole `netverify matrix` run spends its time, stage by stage, in one process.

Usage: python benchmarks/stages.py DIR [--pod-cidr CIDR]. Imports are timed too, because at a few hundred
workloads they are a large share of the whole-process time that the NCA comparison measures.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--pod-cidr", default="10.64.0.0/16")
    args = parser.parse_args()
    marks = [("start", time.perf_counter())]
    import numpy  # noqa: F401

    marks.append(("import numpy", time.perf_counter()))
    from netverify.load.cluster_loader import load_cluster

    marks.append(("import loader (pydantic)", time.perf_counter()))
    cluster = load_cluster([args.repo])
    marks.append(("read YAML + validate + translate", time.perf_counter()))
    from netverify.compile import compile_cluster

    compiled = compile_cluster(cluster, "generic", pod_cidrs=(args.pod_cidr,))
    marks.append(("compile (classes, atoms, tables)", time.perf_counter()))
    import netverify.engine.kernels  # noqa: F401

    marks.append(("import numba + kernels", time.perf_counter()))
    from netverify.engine import compute_matrix

    matrix = compute_matrix(compiled)
    marks.append(("engine (load cached kernels + run)", time.perf_counter()))
    from netverify.report.matrix_formats import MatrixView, render_json

    render_json(MatrixView(matrix))
    marks.append(("render JSON", time.perf_counter()))
    print("| stage | seconds |\n|---|---:|")
    for (_, before), (name, after) in zip(marks, marks[1:], strict=False):
        print(f"| {name} | {after - before:.3f} |")
    print(f"| **total in-process** | **{marks[-1][1] - marks[0][1]:.3f}** |")
    print(
        f"\n{compiled.n_classes} classes, {compiled.peers.size} peers, {compiled.services.size} service atoms, "
        f"{len(cluster.policies)} policies"
    )


if __name__ == "__main__":
    main()
