"""The main process's timeline in whole `netverify matrix` runs: when each stage starts and ends.

Usage: python benchmarks/timeline.py DIR [--runs 9] [--python PYTHON] [--pod-cidr CIDR]

`stages.py` times the stages in one long-lived process; this one measures what the NCA comparison
measures, a fresh process per run, with the read-ahead helper parsing beside it. Each run starts the CLI
through a small bootstrap that wraps the pipeline's stage functions and records wall-clock marks from
just before the spawn (so interpreter start-up is counted); the table gives each mark's median over the
runs. The wrapping itself costs a few milliseconds, so the last mark sits slightly above the whole-process
time of `run.py`. `--python`: the interpreter of the installation to measure (default: this one); measure
a regular `pip install .`, not an editable one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Runs inside the measured interpreter: wraps stage functions, then hands over to the console script.
BOOTSTRAP = r"""
import importlib, json, os, sys, time
T0 = float(os.environ["TIMELINE_T0"])
marks = [("interpreter up", time.time() - T0)]
def mark(name):
    marks.append((name, time.time() - T0))
def wrap(module, attribute, label):
    owner = importlib.import_module(module)
    inner = getattr(owner, attribute)
    def timed(*args, **kwargs):
        mark(label + " >")
        try:
            return inner(*args, **kwargs)
        finally:
            mark(label + " <")
    setattr(owner, attribute, timed)
cli = importlib.import_module("netverify.cli")
mark("netverify.cli imported")
read_ahead = importlib.import_module("netverify.load.read_ahead").ReadAhead
start = read_ahead.start.__func__
def timed_start(cls, *args, **kwargs):  # then the CLI imports what the command needs, until `collect`
    mark("fork helper >")
    try:
        return start(cls, *args, **kwargs)
    finally:
        mark("fork helper <")
read_ahead.start = classmethod(timed_start)
collect, finish = read_ahead.collect, read_ahead._finish
read_ahead.collect = lambda self: (mark("collect >"), collect(self), mark("collect <"))[1]
read_ahead._finish = lambda self: (mark("take helper's results >"), finish(self), mark("take helper's results <"))[1]
analyze = cli._analyze
def timed_analyze(*args, **kwargs):
    wrap("netverify.load.cluster_loader", "load_documents", "validate + translate")
    wrap("netverify.pipeline", "analyze_cluster", "compile + engine")
    wrap("netverify.cli", "_write", "write")
    formats = importlib.import_module("netverify.report.matrix_formats").MATRIX_FORMATS
    render = formats["json"]
    formats["json"] = lambda view: (mark("render >"), render(view), mark("render <"))[1]
    return analyze(*args, **kwargs)
cli._analyze = timed_analyze
def save():
    mark("exit")
    with open(os.environ["TIMELINE_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(marks) + "\n")
exit_now = os._exit
def timed_exit(code):
    if os.getpid() == PARENT:
        save()
    exit_now(code)
PARENT = os.getpid()
os._exit = timed_exit
sys.argv = ["netverify", *sys.argv[1:]]
cli.run()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--python", default=sys.executable, help="interpreter of the installation to measure")
    parser.add_argument("--pod-cidr", default="10.64.0.0/16")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "marks.jsonl")
        for _ in range(args.runs):
            env = {**os.environ, "TIMELINE_OUT": out, "TIMELINE_T0": repr(time.time())}
            command = [args.python, "-P", "-c", BOOTSTRAP, "matrix", args.repo, "--format", "json"]
            subprocess.run([*command, "--pod-cidr", args.pod_cidr], env=env, stdout=subprocess.DEVNULL, check=True)
        with open(out, encoding="utf-8") as lines:
            runs = [json.loads(line) for line in lines]
    names = list(dict.fromkeys(name for run in runs for name, _ in run))  # a run without a helper lacks some
    medians = [statistics.median(dict(run)[name] for run in runs if name in dict(run)) for name in names]
    print(f"median of {len(runs)} runs of `netverify matrix {args.repo} --format json`\n")
    print("| at (s) | + (ms) | mark |\n|---:|---:|---|")
    previous = 0.0
    for name, at in zip(names, medians, strict=True):
        print(f"| {at:.3f} | {1000 * (at - previous):.0f} | {name} |")
        previous = at


if __name__ == "__main__":
    main()
