"""Where one whole `netverify matrix` or `netverify check` run spends its time, stage by stage, in one process.

Usage: python benchmarks/stages.py DIR [--command matrix|check] [--contract FILE] [--pod-cidr CIDR]

Imports are timed too, because at a few hundred workloads they are a large share of the whole-process time
that the NCA comparison measures. Reading is split into parsing YAML (text into documents with
positions) and building the model (validation and translation of every object), so a profile at 100,000
pods says which of the two to attack.
"""

from __future__ import annotations

import argparse
import gc
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--command", choices=("matrix", "check"), default="matrix")
    parser.add_argument("--contract", help="isolation contract for --command check")
    parser.add_argument("--pod-cidr", default="10.64.0.0/16")
    args = parser.parse_args()
    gc.disable()  # as the CLI does
    marks = [("start", time.perf_counter(), time.process_time())]

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter(), time.process_time()))

    import numpy  # noqa: F401

    mark("import numpy")
    from netverify.load.builder import ClusterBuilder
    from netverify.load.cluster_loader import add_implicit_namespaces, load_documents
    from netverify.load.kinds import finalizers_for
    from netverify.load.sources import read_sources

    mark("import loader (pydantic)")
    documents, diagnostics = read_sources([args.repo])
    mark("parse YAML (documents + positions)")
    builder = ClusterBuilder()
    builder.cluster.diagnostics.extend(diagnostics)
    load_documents(documents, builder)
    for finalize in finalizers_for(builder.used_kind_modules):
        finalize(builder)
    add_implicit_namespaces(builder)
    cluster = builder.cluster
    mark("validate + translate into the model")
    from netverify.compile import compile_cluster
    from netverify.verify.contract_loader import load_contract
    from netverify.verify.isolation import check_isolation, contract_services

    contract = None
    extra = []
    if args.command == "check":
        contract, _ = load_contract(args.contract)
        extra = contract_services(contract)
    compiled = compile_cluster(cluster, "generic", extra, pod_cidrs=(args.pod_cidr,))
    mark("compile (classes, atoms, tables)")
    from netverify.engine import compute_matrix
    from netverify.engine.reachability import numpy_is_faster

    if numpy_is_faster(compiled):  # as compute_matrix decides: small clusters never start numba
        matrix = compute_matrix(compiled)
        mark("engine (numpy path, no numba)")
    else:
        import netverify.engine.kernels  # noqa: F401

        mark("import numba + kernels")
        matrix = compute_matrix(compiled)
        mark("engine (load cached kernels + run)")
    if args.command == "check":
        from netverify.report.check_formats import CheckView
        from netverify.report.check_formats import render_json as render_check

        result = check_isolation(matrix, contract)
        mark(f"check isolation ({len(result.violations)} violations explained)")
        render_check(CheckView(result))
    else:
        from netverify.report.matrix_formats import MatrixView, render_json

        render_json(MatrixView(matrix))
    mark("render JSON")
    print("| stage | wall s | CPU s (this process, all threads) |\n|---|---:|---:|")
    for (_, before, cpu_before), (name, after, cpu_after) in zip(marks, marks[1:], strict=False):
        print(f"| {name} | {after - before:.3f} | {cpu_after - cpu_before:.3f} |")
    total_wall, total_cpu = marks[-1][1] - marks[0][1], marks[-1][2] - marks[0][2]
    print(f"| **total in-process** | **{total_wall:.3f}** | **{total_cpu:.3f}** |")
    print(
        f"\n{compiled.n_classes} classes, {compiled.peers.size} peers, {len(compiled.atoms.atoms)} IP atoms, "
        f"{compiled.services.size} service atoms, {len(cluster.policies)} policies"
    )


if __name__ == "__main__":
    main()
