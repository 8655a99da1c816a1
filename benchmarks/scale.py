"""Scale benchmark: `netverify check` as a whole process on clusters of 100,000 and 20,000 pods.

Why: issue 7's targets are about the command a CI gate runs on a large cluster: 100,000 pods (500 tenant
namespaces x 20 Deployments x 10 replicas, about 12,000 NetworkPolicies and Calico policies) in at most 20 s
and 4 GiB, and 20,000 pods that do not collapse into endpoint classes (every pod its own labels, 5,000
policies) in at most 60 s and 8 GiB. Each row generates its cluster, warms the numba cache on a tiny
cluster (so the row measures a normal run, not the one-off compilation), runs the check `--repeats` times
and keeps the fastest, and reads endpoints, classes and atoms from the check's own JSON stats.

Rows (one command each)::

    python benchmarks/scale.py --rows 100k            # multi-tenant, contract: benchmarks/contracts/multi-tenant.yaml
    python benchmarks/scale.py --rows 100k-default    # same cluster, default contract (every namespace a tenant)
    python benchmarks/scale.py --rows 20k-distinct    # every pod its own label set

The results replace the block between ``<!-- scale:begin -->`` and ``<!-- scale:end -->`` in RESULTS.md
(rows not run this time keep their previous line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import generate_distinct  # noqa: E402
from measure import Measured, run_measured  # noqa: E402
from run import POD_CIDR, machine_line, netverify_exe  # noqa: E402

BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
CONTRACT = HERE / "contracts" / "multi-tenant.yaml"


@dataclass(frozen=True)
class RowSpec:
    """One row: how to generate its cluster, which contract to check, and the issue's target."""

    name: str
    description: str
    target_seconds: float
    target_gib: float
    contract: Path | None

    def generate(self, outdir: Path) -> dict:
        if self.name.startswith("100k"):
            return generate.generate(outdir, tenants=500, deployments=20, replicas=10, flavor="calico")
        return generate_distinct.generate(outdir, pods=20_000, policies=5_000, namespaces=200)


ROWS = {
    "100k": RowSpec("100k", "500 tenants x 20 Deployments x 10 replicas (calico flavor), tenant contract",
                    20, 4, CONTRACT),
    "100k-default": RowSpec("100k-default", "same cluster, default contract (every namespace a tenant)",
                            20, 4, None),
    "20k-distinct": RowSpec("20k-distinct", "20,000 bare Pods, each its own labels, 200 namespaces",
                            60, 8, None),
}


def check_argv(exe: str, repo: Path, spec: RowSpec) -> list[str]:
    argv = [exe, "check", str(repo), "--format", "json", "--pod-cidr", POD_CIDR, "-q"]
    if spec.contract is not None:
        argv += ["--contract", str(spec.contract)]
    return argv


def warm_numba_cache(exe: str, env: dict[str, str]) -> None:
    """Compile the kernels once into the cache, on a cluster small enough that this costs only compilation.

    A cluster this small would take the numpy path and never compile the numba kernels the measured rows
    use, so the warm-up forces the numba engine."""
    with tempfile.TemporaryDirectory(prefix="nv-warm-") as tiny:
        generate.generate(tiny, tenants=2, deployments=2, replicas=1)
        run_measured([exe, "check", tiny, "-q"], env=dict(env, NETVERIFY_ENGINE="numba"))


def measure_row(exe: str, spec: RowSpec, workdir: Path, repeats: int, env: dict[str, str]) -> str:
    repo = workdir / spec.name.split("-")[0] / "repo" if spec.name.startswith("100k") else workdir / spec.name
    stats = spec.generate(repo)
    print(f"[{spec.name}] generated {repo}: {stats['pods']} pods, {stats['policies']} policies", flush=True)
    best: Measured | None = None
    for _ in range(max(1, repeats)):
        run = run_measured(check_argv(exe, repo, spec), env=env)
        if run.returncode not in (0, 1):
            raise RuntimeError(f"netverify check failed (rc={run.returncode}):\n{run.stderr[-4000:]}")
        print(f"[{spec.name}] {run.seconds:.2f} s ({run.cpu_seconds:.2f} s CPU), peak {run.max_rss_mb:.0f} MB",
              flush=True)
        best = run if best is None or run.seconds < best.seconds else best
    assert best is not None
    report = json.loads(best.stdout)
    s = report["stats"]
    gib = best.max_rss_mb / 1024
    verdict = "yes" if best.seconds <= spec.target_seconds and gib <= spec.target_gib else "**no**"
    command = f"`python benchmarks/scale.py --rows {spec.name}`"
    return (f"| {spec.name} | {spec.description} | {stats['pods']} | {s['policies']} | {s['endpoints']} "
            f"| {s['classes']} | {s['ip_atoms']} | {s['service_atoms']} | {len(report['violations'])} "
            f"| {best.seconds:.2f} | {best.cpu_seconds:.2f} | {s['seconds']:.2f} | {gib:.2f} "
            f"| <= {spec.target_seconds:g} s, <= {spec.target_gib:g} GiB: {verdict} | {command} |")


HEADER = (
    "| row | cluster | pods | policies | endpoints | classes | IP atoms | service atoms | violations "
    "| whole process s | CPU s (user+sys) | engine s | peak RSS GiB | target met | reproduce |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
)


def write_block(path: Path, rows: dict[str, str], note: str) -> None:
    """Replace the scale block, keeping the lines of rows that were not run this time."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    old: dict[str, str] = {}
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        block, tail = rest.split(END, 1)
        for line in block.splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 2 and cells[1] in ROWS:
                old[cells[1]] = line
    else:
        head, tail = text.rstrip("\n") + "\n\n", "\n"
    merged = {**old, **rows}
    lines = [BEGIN, "### netverify check at scale (issue 7)", "", HEADER]
    lines += [merged[name] for name in ROWS if name in merged]
    lines += ["", note, END]
    path.write_text(head + "\n".join(lines) + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    ap.add_argument("--repeats", type=int, default=1, help="runs per row (the fastest is kept)")
    ap.add_argument("--netverify", help="path of the netverify executable (default: next to sys.executable)")
    ap.add_argument("--workdir", default=str(HERE / "out" / "scale"))
    ap.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args(argv)
    exe = netverify_exe(args.netverify)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="nv-numba-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        warm_numba_cache(exe, env)
        rows = {name: measure_row(exe, ROWS[name], Path(args.workdir), args.repeats, env) for name in args.rows}
    note = (
        f"Each row: `netverify check DIR --format json --pod-cidr {POD_CIDR} -q [--contract FILE]` as a whole "
        "process with a warm numba cache, the fastest of the runs; peak RSS is the child's `ru_maxrss`; "
        "endpoints, classes and atoms are the check's own JSON `stats`, engine s its `stats.seconds` "
        f"(kernels and combining). Machine: {machine_line(load_before)}."
    )
    write_block(Path(args.results), rows, note)
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
