"""Run a command as a whole process and measure its wall time and peak memory.

Why whole processes: users feel the time of the command they type (interpreter start, imports, parsing,
numba cache loading, output), not of an inner function, and the peer tool can only be timed that way.
Peak RSS comes from ``os.wait4`` on the child, which returns the ``rusage`` of that child (and of the
descendants it waited for) alone, unlike ``getrusage(RUSAGE_CHILDREN)``, which keeps the maximum over every
child this process ever had and so would leak one run's peak into the next.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    """What one process run cost and produced."""

    argv: list[str]
    returncode: int
    seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system CPU of the child: less disturbed than wall time by other jobs


def run_measured(argv: list[str], cwd: str | Path | None = None,
                 env: dict[str, str] | None = None) -> Measured:
    """Run ``argv`` to completion; output goes through temporary files so large outputs never block a pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
        rss_mb = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
        return Measured(argv=list(argv), returncode=proc.returncode, seconds=seconds, max_rss_mb=rss_mb,
                        stdout=out.read().decode("utf-8", "replace"),
                        stderr=err.read().decode("utf-8", "replace"),
                        cpu_seconds=usage.ru_utime + usage.ru_stime)
