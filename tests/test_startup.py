"""Start-up: `netverify --help` must stay instant, so the heavy libraries load only in the commands that compute."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numba", "numpy", "pydantic", "llvmlite", "networkx", "yaml")


def test_help_imports_no_heavy_module():
    """`python -X importtime` lists every module the interpreter imported for `--help`."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "netverify", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0 and "matrix" in result.stdout
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    }
    assert "netverify.cli" in imported  # the listing is real
    top_level = {name.split(".")[0] for name in imported}
    assert not top_level & set(HEAVY), sorted(top_level & set(HEAVY))
