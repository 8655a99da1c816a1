"""The real pre-commit package runs netverify as a hook: a commit that opens a cross-tenant flow is
rejected with the leak named, and the fix passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

pytestmark = pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed (extra [test])")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), "netverify-check", "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_precommit_rejects_a_leak_and_accepts_the_fix(tmp_path):
    repo = tmp_path / "policies-repo"
    shutil.copytree(ROOT / "fixtures" / "multi-tenant", repo)
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    home = tmp_path / "pre-commit-home"

    leak = (ROOT / "fixtures" / "leaky" / "tenant-c.yaml").read_text()
    (repo / "tenant-c.yaml").write_text(leak)
    opened = (repo / "tenant-a.yaml").read_text() + (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-from-anywhere, namespace: tenant-a}\n"
        "spec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n    - from: [{namespaceSelector: {}}]\n"
    )
    (repo / "tenant-a.yaml").write_text(opened)
    git(repo, "add", ".")
    rejected = try_repo(repo, home)
    assert rejected.returncode != 0, rejected.stdout + rejected.stderr
    assert "tenant-c/batch (tenant-c) -> tenant-a/db (tenant-a)" in rejected.stdout
    assert "tenant-a/db-from-anywhere ingress[0] at tenant-a.yaml:" in rejected.stdout

    (repo / "tenant-a.yaml").write_text((ROOT / "fixtures" / "multi-tenant" / "tenant-a.yaml").read_text())
    (repo / "tenant-c.yaml").write_text(
        leak + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: default-deny, namespace: tenant-c}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
    )
    git(repo, "add", ".")
    fixed = try_repo(repo, home)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "isolation holds" in fixed.stdout
