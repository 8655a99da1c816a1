"""Side-by-side benchmark: netverify against network-config-analyzer 2.1.0 on generated clusters.

Why: the project's speed claim ("beat NCA by at least 10x at 800 workloads") and its correctness on plain
NetworkPolicy are only credible when measured the way a user runs the tools (whole processes, same input)
and when the two connectivity maps are shown to be *the same*.  This script, for each requested size,

1. generates a multi-tenant repository (``generate.py``; size = tenants x deployments),
2. runs ``netverify matrix DIR --format json`` twice with a fresh ``NUMBA_CACHE_DIR``: the first run pays
   the numba compilation (reported as "cold"), the second reuses the cache (reported as "warm"),
3. runs ``nca --connectivity -r DIR -o txt_no_fw_rules`` in its own venv (``nca.py``),
4. compares the two maps pair by pair and atom by atom (``compare.py``), and
5. rewrites the block between ``<!-- nca-compare:begin -->`` and ``<!-- nca-compare:end -->`` in
   ``benchmarks/RESULTS.md``, leaving the rest of that file alone.

It exits 1 (after writing the results) when the tools disagree, printing the first differences; all of them
go to ``benchmarks/out/<flavor>-<size>/differences.txt``.

Usage::

    python benchmarks/run.py [--sizes 400 800] [--deployments 10] [--skip-nca] [--flavor k8s]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compare import Comparison, ParsedMap, compare, parse_netverify_json  # noqa: E402
from generate import generate  # noqa: E402
from measure import Measured, run_measured  # noqa: E402
from nca import DEFAULT_VENV, nca_command, run_nca_parsed  # noqa: E402
from reference import connectivity as reference_connectivity  # noqa: E402

BEGIN = "<!-- nca-compare:begin -->"
END = "<!-- nca-compare:end -->"


def markers(flavor: str) -> tuple[str, str]:
    """One marked block per flavor, so a Calico run does not overwrite the Kubernetes figures."""
    if flavor == "k8s":
        return BEGIN, END
    return f"<!-- nca-compare-{flavor}:begin -->", f"<!-- nca-compare-{flavor}:end -->"


@dataclass
class Row:
    """One size's measurements, as they go into the results table."""

    workloads: int
    tenants: int
    pods: int
    policies: int
    nv_endpoints: int | None = None
    nv_warm: float | None = None
    nv_cold: float | None = None
    nv_rss: float | None = None
    nca_secs: float | None = None
    nca_rss: float | None = None
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)


def netverify_exe(explicit: str | None) -> str:
    """The ``netverify`` script installed next to the running interpreter (the project's venv)."""
    if explicit:
        return explicit
    candidate = Path(sys.executable).parent / "netverify"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("netverify")
    if not found:
        raise SystemExit("netverify executable not found next to sys.executable nor on PATH")
    return found


#: The generated cluster's pod subnet (EKS VPC CNI: pods take VPC addresses, disjoint from the ALB subnets).
#: NCA assumes CIDRs never match pods; telling netverify where pods live is what a real user does.
POD_CIDR = "10.64.0.0/16"


def run_netverify(exe: str, repo: Path, repeats: int = 1) -> tuple[Measured, Measured, ParsedMap, int]:
    """Cold run (empty numba cache), then `repeats` warm runs, of which the fastest is kept.

    The minimum is the figure least disturbed by other jobs on the machine. Returns both measurements, the
    parsed warm map and the number of endpoints netverify reported.
    """
    with tempfile.TemporaryDirectory(prefix="nv-numba-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        argv = [exe, "matrix", str(repo), "--format", "json", "--pod-cidr", POD_CIDR]
        cold = run_measured(argv, env=env)
        if cold.returncode != 0:
            raise RuntimeError(f"netverify failed (rc={cold.returncode}):\n{cold.stderr[-4000:]}")
        warm: Measured | None = None
        for _ in range(max(1, repeats)):
            run = run_measured(argv, env=env)
            if run.returncode != 0:
                raise RuntimeError(f"netverify failed (rc={run.returncode}):\n{run.stderr[-4000:]}")
            if warm is not None and run.stdout != warm.stdout:
                raise RuntimeError("netverify printed different maps on two warm runs")
            warm = run if warm is None or run.seconds < warm.seconds else warm
        assert warm is not None
    doc = json.loads(warm.stdout)
    if json.loads(cold.stdout) != doc:
        raise RuntimeError("netverify's cold and warm runs printed different maps")
    return cold, warm, parse_netverify_json(doc), len(doc.get("endpoints", []))


def third_opinion(repo: Path, nv_map: ParsedMap, nca_map: ParsedMap | None, show: int) -> None:
    """Compare each tool with the plain-Python reference evaluator, to tell which one strays from k8s."""
    ref = parse_netverify_json(reference_connectivity(repo / "repo"))
    for name, other in (("netverify", nv_map), ("nca", nca_map)):
        if other is None:
            continue
        cmp = compare(other, ref, name, "reference", max_differences=10_000)
        print(f"  {name} vs reference: {cmp.summary()}")
        for line in cmp.differences[:show]:
            print("    " + line)


def machine_line(load_before: float | None = None) -> str:
    """nproc, CPU model, Python version, load and date, so figures can be compared across machines.

    The 1-minute load average is recorded because other jobs on a small machine inflate both tools' times.
    """
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nca_py = DEFAULT_VENV / "bin" / "python"
    nca_ver = ""
    if nca_py.exists():
        nca_ver = subprocess.run([str(nca_py), "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, check=False).stdout.strip()
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = f"load average {os.getloadavg()[0]:.2f} at the end" if hasattr(os, "getloadavg") else ""
    if load and load_before is not None:
        load = f"load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    return (f"nproc {os.cpu_count()}, {cpu}, {platform.system()} {platform.release()}; "
            f"netverify on Python {platform.python_version()}"
            + (f", NCA 2.1.0 on Python {nca_ver}" if nca_ver else "") + f"; {load}; {date}")


def _f(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render(rows: list[Row], args: argparse.Namespace, command: str, load_before: float | None = None) -> str:
    """The Markdown block that goes between the markers."""
    begin, end = markers(args.flavor)
    lines = [
        begin,
        f"### netverify vs network-config-analyzer 2.1.0 ({args.flavor} flavor)",
        "",
        "| workloads | tenants | pods | policies | netverify s (warm) | netverify s (cold) "
        "| netverify peak RSS MB | NCA s | NCA peak RSS MB | speed-up (NCA / warm) | agreement |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        speed = (f"{r.nca_secs / r.nv_warm:.1f}x" if r.nca_secs is not None and r.nv_warm else "—")
        agree = r.comparison.summary() if r.comparison else "not compared"
        lines.append(f"| {r.workloads} | {r.tenants} | {r.pods} | {r.policies} | {_f(r.nv_warm)} "
                     f"| {_f(r.nv_cold)} | {_f(r.nv_rss, 0)} | {_f(r.nca_secs)} | {_f(r.nca_rss, 0)} "
                     f"| {speed} | {agree} |")
    lines += [
        "",
        f"Command: `{command}`",
        "",
        "Each tool runs as a whole process on the same generated directory: "
        f"`netverify matrix DIR --format json --pod-cidr {POD_CIDR}` (the generated cluster's pod subnet; "
        "cold = first run with an empty `NUMBA_CACHE_DIR`, "
        f"warm = the fastest of the later runs reusing it) and `{nca_command('DIR', args.nca_ipv6)}` "
        "(its own venv, `benchmarks/.venv-nca`). Peak RSS is the child's `ru_maxrss` from `wait4`. "
        "Agreement counts workload pairs with any allowed traffic in either tool, and "
        "workload x external-IP cells after splitting both tools' ranges to common atoms.",
        "",
        f"Machine: {machine_line(load_before)}",
        "",
        f"Times are the fastest of {args.repeats} warm netverify runs and of {args.nca_repeats} NCA runs "
        "(the least disturbed by other jobs); with a load average above the core count, re-run on a quiet "
        "machine before comparing.",
    ]
    notes = sorted({n for r in rows for n in r.notes})
    if notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    lines.append(end)
    return "\n".join(lines) + "\n"


def write_results(path: Path, block: str) -> None:
    """Replace the marked block in ``path`` (append it when absent, create the file when missing)."""
    begin, end = block.split("\n", 1)[0], block.rstrip("\n").rsplit("\n", 1)[-1]
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _old, tail = rest.split(end, 1)
            text = head + block.rstrip("\n") + tail
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = ("# Benchmark results\n\nGenerated by `python benchmarks/run.py`; "
                "see `benchmarks/README.md`.\n\n" + block)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run every size, write RESULTS.md, exit 1 on disagreement."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[400, 800], help="workload counts")
    ap.add_argument("--deployments", type=int, default=10, help="deployments per tenant")
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--flavor", choices=("k8s", "calico"), default="k8s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-nca", action="store_true", help="time netverify only")
    ap.add_argument("--repeats", type=int, default=5, help="warm netverify runs per size (the fastest is kept)")
    ap.add_argument("--nca-repeats", type=int, default=2, help="NCA runs per size (the fastest is kept)")
    ap.add_argument("--nca-ipv6", action="store_true",
                    help="run NCA with --print_ipv6 (netverify lists IPv6 only when an input mentions it)")
    ap.add_argument("--netverify", help="path of the netverify executable (default: next to sys.executable)")
    ap.add_argument("--workdir", default=str(HERE / "out"), help="where clusters are generated")
    ap.add_argument("--results", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--show", type=int, default=20, help="differences to print on disagreement")
    ap.add_argument("--reference", action="store_true",
                    help="also compare with reference.py (k8s flavor; always done on disagreement)")
    args = ap.parse_args(argv)

    exe = netverify_exe(args.netverify)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    rows: list[Row] = []
    failed = False
    for size in args.sizes:
        tenants = max(1, size // args.deployments)
        if tenants * args.deployments != size:
            print(f"note: {size} workloads is not a multiple of {args.deployments}; using {tenants} tenants")
        repo = Path(args.workdir) / f"{args.flavor}-{tenants * args.deployments}"
        stats = generate(repo / "repo", tenants, args.deployments, args.replicas, args.flavor, args.seed)
        row = Row(workloads=stats["workloads"], tenants=tenants, pods=stats["pods"],
                  policies=stats["policies"])
        print(f"[{row.workloads} workloads] generated {repo / 'repo'}: {stats['pods']} pods, "
              f"{stats['policies']} policies", flush=True)

        cold, warm, nv_map, n_endpoints = run_netverify(exe, repo / "repo", args.repeats)
        row.nv_cold, row.nv_warm = cold.seconds, warm.seconds
        row.nv_rss = max(cold.max_rss_mb, warm.max_rss_mb)
        row.nv_endpoints = n_endpoints
        (repo / "netverify.json").write_text(warm.stdout, encoding="utf-8")
        print(f"[{row.workloads} workloads] netverify cold {cold.seconds:.2f} s, warm {warm.seconds:.2f} s, "
              f"peak {row.nv_rss:.0f} MB, {nv_map.pairs()} flows", flush=True)

        if not args.skip_nca:
            measured, nca_map = run_nca_parsed(repo / "repo", ipv6=args.nca_ipv6)
            for _ in range(args.nca_repeats - 1):  # the fastest of the repeats, like netverify's
                again, again_map = run_nca_parsed(repo / "repo", ipv6=args.nca_ipv6)
                if again.seconds < measured.seconds:
                    measured, nca_map = again, again_map
            row.nca_secs, row.nca_rss = measured.seconds, measured.max_rss_mb
            if nca_map.dropped:
                row.notes.append(f"{len(nca_map.dropped)} NCA LiveSim lines dropped (pods NCA invents, "
                                 "e.g. kube-dns-livesim; netverify models only the manifests)")
            print(f"[{row.workloads} workloads] nca {measured.seconds:.2f} s, "
                  f"peak {measured.max_rss_mb:.0f} MB, {nca_map.pairs()} flows", flush=True)
            cmp = compare(nv_map, nca_map, max_differences=10_000)
            row.comparison = cmp
            row.notes += cmp.notes
            print(f"[{row.workloads} workloads] agreement: {cmp.summary()}", flush=True)
            if not cmp.agree:
                failed = True
                (repo / "differences.txt").write_text("\n".join(cmp.differences) + "\n", encoding="utf-8")
                print(f"first differences (all {len(cmp.differences)} in {repo / 'differences.txt'}):")
                for line in cmp.differences[: args.show]:
                    print("  " + line)
            if args.flavor == "k8s" and (args.reference or not cmp.agree):
                third_opinion(repo, nv_map, nca_map, args.show)
        rows.append(row)

    write_results(Path(args.results), render(rows, args, command, load_before))
    print(f"wrote {args.results}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
