"""Incremental re-check time after adding, changing or removing one policy (the Python API).

Usage: python benchmarks/incremental.py DIR [--policy NAMESPACE/NAME] [--repeat 7] [--pod-cidr CIDR]

Loads DIR, analyzes and checks it once (default contract), then times `reanalyze_cluster` followed by
`recheck_isolation` for: removing one policy, adding it back, changing it (its first ingress rule admits
the callers of a sibling policy's rule instead), and adding a policy with a CIDR no other policy names (a
new atom boundary: IP atoms are cut, which copies the matrix once to add their columns). Each is
repeated; the table gives the median and the fastest. The first re-check of a session also indexes the
boundaries every policy mentions; that one-off cost is reported separately. At the end the incrementally
maintained matrix and check are compared with a full analysis of the final cluster, and the share of the
cluster's policies whose removal or re-addition stays on the fast path is counted.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


POLICY_FINDING_RULES = {"policy-selects-nothing", "rule-never-matches", "policy-shadowed", "unreachable-deny"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--policy", default="tenant-250/allow-api-ingress")
    parser.add_argument("--sibling", default="tenant-250/allow-cart-ingress")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pod-cidr", default="10.64.0.0/16")
    parser.add_argument(
        "--no-policy-findings",
        action="store_true",
        help="re-check the verdict and violations only, without the contract-free findings (shadowed, ...)",
    )
    args = parser.parse_args()
    with_findings = not args.no_policy_findings

    import numpy as np

    from netverify.compile.edit import CutIndex, policy_boundaries
    from netverify.engine.recheck import FULL_SHARE
    from netverify.load.cluster_loader import load_cluster
    from netverify.model.addresses import parse_cidr
    from netverify.model.peers import NetPeer, PodIPMatching
    from netverify.pipeline import PolicyChange, analyze_cluster, reanalyze_cluster
    from netverify.verify.contract_loader import load_contract
    from netverify.verify.isolation import check_isolation
    from netverify.verify.recheck import recheck_isolation

    cluster, load_seconds = timed(lambda: load_cluster([args.repo]))
    options = {"pod_cidrs": (args.pod_cidr,)}
    matrix, analyze_seconds = timed(lambda: analyze_cluster(cluster, "generic", **options))
    contract, _ = load_contract(None)
    check, check_seconds = timed(lambda: check_isolation(matrix, contract))
    by_name = {p.name: p for p in cluster.policies}
    policy, sibling = by_name[args.policy], by_name[args.sibling]
    changed = dataclasses.replace(
        policy, ingress=(dataclasses.replace(policy.ingress[0], peer=sibling.ingress[0].peer), *policy.ingress[1:])
    )
    novel = dataclasses.replace(
        policy,
        name=policy.name + "-partner",
        ingress=(dataclasses.replace(policy.ingress[0], peer=NetPeer((parse_cidr("203.0.113.0/24"),),
                                                                     PodIPMatching.BY_PROFILE)),),
    )
    without = [p for p in cluster.policies if p is not policy]
    states = {
        "with": cluster.policies,
        "without": without,
        "changed": [*without, changed],
        "novel": [*cluster.policies, novel],
    }

    def step(target: str, change: PolicyChange) -> float:
        nonlocal matrix, check
        atoms = len(matrix.compiled.atoms)
        started = time.perf_counter()
        matrix = reanalyze_cluster(matrix, dataclasses.replace(cluster, policies=states[target]), change)
        check = recheck_isolation(check, matrix, contract, policy_findings=with_findings)
        elapsed = time.perf_counter() - started
        cut = ", IP atoms cut" if len(matrix.compiled.atoms) > atoms else ""
        path[0] = "full recomputation" if matrix.touched.everything else "rows and columns" + cut
        return elapsed

    path = [""]

    first = step("without", PolicyChange(removed=(policy,)))  # pays the boundary index once
    first_add = step("with", PolicyChange(added=(policy,)))
    times: dict[str, list[float]] = {"remove": [], "add": [], "change": [], "add (new CIDR boundary)": []}
    fast: dict[str, str] = {}
    for _ in range(args.repeat):
        times["remove"].append(step("without", PolicyChange(removed=(policy,))))
        fast["remove"] = path[0]
        times["add"].append(step("with", PolicyChange(added=(policy,))))
        fast["add"] = path[0]
        times["change"].append(step("changed", PolicyChange(added=(changed,), removed=(policy,))))
        fast["change"] = path[0]
        step("with", PolicyChange(added=(policy,), removed=(changed,)))
    for _ in range(3):
        times["add (new CIDR boundary)"].append(step("novel", PolicyChange(added=(novel,))))
        fast["add (new CIDR boundary)"] = path[0]
        step("with", PolicyChange(removed=(novel,)))

    final = dataclasses.replace(cluster, policies=states["with"])
    full = analyze_cluster(final, "generic", **options)
    same = np.array_equal(full.pod_rows, matrix.pod_rows) and np.array_equal(full.ingress, matrix.ingress)
    def strip(result) -> dict:
        data = {**result.to_json(), "stats": {k: v for k, v in result.stats.items() if k != "seconds"}}
        data["stats"].pop("policy_findings", None)
        if not with_findings:  # compare what was re-checked: verdict, violations and the other findings
            data["findings"] = [f for f in data["findings"] if f["rule"] not in POLICY_FINDING_RULES]
        return data

    same_check = strip(check_isolation(full, contract)) == strip(check)

    cuts = CutIndex.of(full.compiled)
    n = full.n_classes
    own_boundary = wide = 0
    for p in cluster.policies:
        if any(cuts.counts[b] == 1 and b not in cuts.pinned for b in policy_boundaries(p)):
            own_boundary += 1
        elif full.compiled.peers.mask(p.applies_to)[:n].sum() > FULL_SHARE * n:
            wide += 1

    print(
        f"{len(cluster.groups)} workloads, {sum(g.replicas for g in cluster.groups)} pods, {n} classes, "
        f"{full.compiled.peers.size - n} IP atoms, {full.compiled.services.size} service atoms, "
        f"{len(cluster.policies)} policies, {len(check.violations)} violations; load {load_seconds:.1f} s, "
        f"analyze {analyze_seconds:.1f} s, check {check_seconds:.1f} s\n"
    )
    print("| change to one policy | re-check ms (median) | fastest ms | path |")
    print("|---|---:|---:|---|")
    for name, values in times.items():
        print(f"| {name} | {1000 * statistics.median(values):.0f} | {1000 * min(values):.0f} | {fast[name]} |")
    print(f"| first re-check of a session (remove, includes indexing boundaries) | {1000 * first:.0f} | | |")
    print(f"| first add of a session | {1000 * first_add:.0f} | | |")
    share = 100 * (len(cluster.policies) - own_boundary - wide) / len(cluster.policies)
    print(
        f"\nIdentical to a full analysis of the final cluster: matrix {'yes' if same else 'NO'}, "
        f"check {'yes' if same_check else 'NO'}. Of the {len(cluster.policies)} policies, {own_boundary} "
        f"mention a boundary no other policy does and {wide} apply to more than {FULL_SHARE:.0%} of the classes; "
        f"removing or re-adding any of the other {share:.1f}% stays on the fast path."
    )
    print(f"\nnproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
