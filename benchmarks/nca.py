"""Manage and run the peer tool, network-config-analyzer (NCA) 2.1.0, in a venv of its own.

Why a separate venv: netverify must never depend on NCA at run time (NCA pins old ghapi/fastcore, pulls
lxml/bs4/greenery, and is dormant upstream).  The benchmark only needs its ``nca`` executable, so it lives in
``benchmarks/.venv-nca`` (git-ignored) and is driven as a subprocess, which is also the fair way to time it.

Command used (checked against ``nca -h`` of 2.1.0)::

    nca --connectivity -r DIR -o txt_no_fw_rules -f OUT

``-r`` reads workloads, namespaces and policies from one directory; ``txt_no_fw_rules`` prints one line per
(source, destination) pair, which is cheaper than the minimised "fw-rules" formats (txt/json/yaml, whose
pod sets are label expressions that would have to be re-expanded); ``-f`` keeps the map apart from the
warnings NCA writes to stdout.  ``ipv6=True`` adds ``--print_ipv6`` (IPv6 lines only); it is off by default,
as in the published command and like netverify, which lists IPv6 only when an input mentions it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from compare import Flow, ParsedMap, parse_nca_txt
from measure import Measured, run_measured

NCA_VERSION = "2.1.0"
DEFAULT_VENV = Path(__file__).resolve().parent / ".venv-nca"


def _nca_exe(venv: Path) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin") / "nca"


def ensure_nca_venv(path: str | Path = DEFAULT_VENV) -> Path:
    """Return the venv holding ``nca`` 2.1.0, creating it with ``python3 -m venv`` + pip when missing.

    A relative ``path`` is taken relative to the repository root (the parent of ``benchmarks/``), so
    ``"benchmarks/.venv-nca"`` works from any working directory.
    """
    venv = Path(path)
    if not venv.is_absolute():
        venv = Path(__file__).resolve().parent.parent / venv
    exe = _nca_exe(venv)
    if exe.exists():
        probe = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
        if NCA_VERSION in probe.stdout + probe.stderr:
            return venv
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    pip = venv / ("Scripts" if sys.platform == "win32" else "bin") / "pip"
    subprocess.run([str(pip), "install", "--quiet", f"network-config-analyzer=={NCA_VERSION}"], check=True)
    if not exe.exists():
        raise RuntimeError(f"pip installed network-config-analyzer but {exe} is missing")
    return venv


def run_nca_raw(repo_dir: str | Path, venv: str | Path = DEFAULT_VENV,
                ipv6: bool = False) -> tuple[Measured, str]:
    """Run NCA's connectivity map on ``repo_dir``; returns the measurement and the map text."""
    exe = _nca_exe(ensure_nca_venv(venv))
    with tempfile.TemporaryDirectory(prefix="nca-") as tmp:
        out_file = Path(tmp) / "connectivity.txt"
        argv = [str(exe), "--connectivity", "-r", str(Path(repo_dir).resolve()), "-o", "txt_no_fw_rules",
                "-f", str(out_file)]
        if ipv6:
            argv.append("--print_ipv6")
        measured = run_measured(argv)
        if measured.returncode != 0 or not out_file.exists():
            raise RuntimeError(f"nca failed (rc={measured.returncode}):\n{measured.stderr[-4000:]}\n"
                               f"{measured.stdout[-4000:]}")
        return measured, out_file.read_text(encoding="utf-8")


def nca_command(repo_dir: str | Path, ipv6: bool = False) -> str:
    """The command line as a user would type it (for the results file)."""
    return f"nca --connectivity -r {repo_dir} -o txt_no_fw_rules{' --print_ipv6' if ipv6 else ''} -f OUT"


def run_nca_parsed(repo_dir: str | Path, venv: str | Path = DEFAULT_VENV,
                   ipv6: bool = False) -> tuple[Measured, ParsedMap]:
    """Like :func:`run_nca` but returns the whole :class:`ParsedMap` (flows plus dropped LiveSim lines)."""
    measured, text = run_nca_raw(repo_dir, venv, ipv6)
    return measured, parse_nca_txt(text)


def run_nca(repo_dir: str | Path, venv: str | Path = DEFAULT_VENV,
            ipv6: bool = False) -> tuple[float, float, set[Flow]]:
    """Run NCA as a whole process: ``(seconds, max_rss_mb, normalised connections)``."""
    measured, parsed = run_nca_parsed(repo_dir, venv, ipv6)
    return measured.seconds, measured.max_rss_mb, parsed.flows


if __name__ == "__main__":
    # python benchmarks/nca.py DIR  -> quick look at timing and parsed size
    secs, rss, flows = run_nca(sys.argv[1])
    print(f"{secs:.2f} s, {rss:.0f} MB, {len(flows)} flows")
