"""`netverify diff OLD NEW [-- PATH...]`: paths and git revisions, formats, exit codes, input errors per side."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MULTI_TENANT = ROOT / "fixtures" / "multi-tenant"
LEAK_LINE = "+ tenant-b/web -> tenant-a/db : TCP 5432"

# tenant-b's web may now reach tenant-a's database: both ends open the flow
LEAK = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-tenant-b
  namespace: tenant-a
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
    - from:
        - namespaceSelector:
            matchLabels: {tenant: b}
      ports:
        - {protocol: TCP, port: 5432}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-to-tenant-a-db
  namespace: tenant-b
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector:
            matchLabels: {tenant: a}
          podSelector:
            matchLabels: {app: db}
      ports:
        - {protocol: TCP, port: 5432}
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **GIT_ENV, **(env or {})}
    environment.pop("NO_COLOR", None)
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "netverify", "diff", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=180,
    )


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """Two commits: a clean multi-tenant setup, then a policy that opens a cross-tenant flow."""
    root = tmp_path_factory.mktemp("policy-repo")
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(MULTI_TENANT, root / "policies")
    (root / "README.md").write_text("a policy repository\n")
    (root / ".github").mkdir()
    (root / ".github" / "ci.yaml").write_text("jobs: [broken\n")  # hidden: never read (it would be an error)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "clean multi-tenant setup")
    git(root, "tag", "clean")
    (root / "policies" / "leak.yaml").write_text(LEAK)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "open tenant-a's database to tenant-b")
    return root


def test_git_revisions_name_the_cross_tenant_flow_a_commit_opened(repo):
    result = run(repo, "HEAD~1", "HEAD", "--", "policies/")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == LEAK_LINE
    assert "1 flow added, 0 removed" in result.stdout
    assert result.stderr == ""


def test_reversed_revisions_show_the_flow_removed(repo):
    result = run(repo, "HEAD", "HEAD~1", "--", "policies/")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "- tenant-b/web -> tenant-a/db : TCP 5432"


def test_fail_on_added_lets_a_tightening_pass(repo):
    tightening = run(repo, "HEAD", "HEAD~1", "--fail-on", "added", "--", "policies/")
    assert tightening.returncode == 0, tightening.stdout + tightening.stderr
    assert "- tenant-b/web -> tenant-a/db" in tightening.stdout  # still shown, just not failing
    opening = run(repo, "HEAD~1", "HEAD", "--fail-on", "added", "--", "policies/")
    assert opening.returncode == 1


def test_fail_on_removed_fails_only_when_a_flow_is_lost(repo):
    assert run(repo, "HEAD~1", "HEAD", "--fail-on", "removed", "--", "policies/").returncode == 0
    assert run(repo, "HEAD", "HEAD~1", "--fail-on", "removed", "--", "policies/").returncode == 1


def test_same_revision_exits_0_with_connectivity_unchanged(repo):
    result = run(repo, "clean", "HEAD~1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("connectivity unchanged")


def test_whole_tree_without_paths_skips_hidden_files_and_never_touches_the_working_tree(repo):
    (repo / "policies" / "leak.yaml").write_text("this: [is, not, read\n")  # a dirty working tree
    try:
        result = run(repo, "clean", "HEAD")
        assert result.returncode == 1, result.stdout + result.stderr
        assert LEAK_LINE in result.stdout
        assert result.stderr == ""  # neither the dirty file nor .github/ci.yaml was read
        assert git(repo, "status", "--porcelain") == " M policies/leak.yaml\n"
    finally:
        git(repo, "checkout", "-q", "--", "policies/leak.yaml")


def test_worktree_side_reads_uncommitted_changes(repo):
    (repo / "policies" / "leak.yaml").unlink()
    try:
        result = run(repo, "HEAD", "WORKTREE", "--", "policies/")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "- tenant-b/web -> tenant-a/db : TCP 5432" in result.stdout
    finally:
        git(repo, "checkout", "-q", "--", "policies/leak.yaml")


def test_paths_are_relative_to_the_current_directory_like_git(repo):
    result = run(repo / "policies", "HEAD~1", "HEAD", "--", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == LEAK_LINE


def test_json_output(repo):
    result = run(repo, "HEAD~1", "HEAD", "--format", "json", "--", "policies/")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["changed"] is True
    assert data["added"] == [{"src": "tenant-b/web", "dst": "tenant-a/db", "conn": {"TCP": [[5432, 5432]]}}]
    assert data["removed"] == []
    assert data["stats"]["added"] == 1 and data["stats"]["removed"] == 0
    assert data["stats"]["old"]["source"].startswith("old: HEAD~1 (")
    assert data["stats"]["new"]["policies"] == data["stats"]["old"]["policies"] + 2


def test_md_output_is_a_pull_request_comment(repo, tmp_path):
    out = tmp_path / "comment.md"
    result = run(repo, "HEAD~1", "HEAD", "--format", "md", "--output", str(out), "--", "policies/")
    assert result.returncode == 1 and result.stdout == ""
    text = out.read_text()
    assert text.startswith("### netverify diff: connectivity changed: 1 flow added, 0 removed")
    assert "| ➕ added | tenant-b/web | tenant-a/db | TCP 5432 | none | TCP 5432 |" in text


def test_text_is_coloured_only_when_asked(repo):
    from netverify.report.diff_formats import DiffView, render_text

    result = run(repo, "HEAD~1", "HEAD", "--", "policies/")
    assert "\033[" not in result.stdout  # not a terminal
    import netverify
    from netverify.verify.diff import diff_matrices

    old = netverify.analyze(str(MULTI_TENANT))
    new = netverify.analyze(str(MULTI_TENANT), LEAK)
    coloured = render_text(DiffView(diff_matrices(old, new), color=True))
    assert f"\033[32m{LEAK_LINE}\033[0m" in coloured
    reversed_text = render_text(DiffView(diff_matrices(new, old), color=True))
    assert "\033[31m- tenant-b/web -> tenant-a/db : TCP 5432\033[0m" in reversed_text


def test_colour_follows_the_terminal_and_no_color(monkeypatch):
    import argparse

    from netverify import cli

    args = argparse.Namespace(output=None, color="auto")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._color(args)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli._color(args)


def test_directories_compare_like_revisions(tmp_path):
    new = tmp_path / "new"
    shutil.copytree(MULTI_TENANT, new)
    (new / "leak.yaml").write_text(LEAK)
    result = run(tmp_path, str(MULTI_TENANT), "new")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == LEAK_LINE
    same = run(tmp_path, str(MULTI_TENANT), str(MULTI_TENANT))
    assert same.returncode == 0 and same.stdout.startswith("connectivity unchanged")


def test_an_existing_path_wins_over_a_revision_of_the_same_name(repo):
    shutil.copytree(MULTI_TENANT, repo / "clean" / "policies")  # a directory named like the tag `clean`
    (repo / "clean" / "policies" / "leak.yaml").write_text(LEAK)
    try:
        result = run(repo, "clean", "HEAD~1", "--", "policies/")
        # the directory (with the leak) is read, not the tag's tree (identical to HEAD~1)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "- tenant-b/web -> tenant-a/db : TCP 5432" in result.stdout
    finally:
        shutil.rmtree(repo / "clean")


def test_input_errors_name_the_side_and_the_repository_relative_file(repo, tmp_path):
    broken = tmp_path / "broken"
    git(repo, "worktree", "add", "-q", "--detach", str(broken), "HEAD")
    try:
        (broken / "policies" / "bad.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: [oops\n")
        git(broken, "add", "-A")
        git(broken, "commit", "-q", "-m", "broken")
        sha = git(broken, "rev-parse", "HEAD").strip()
        result = run(repo, "HEAD", sha, "--", "policies/")
        assert result.returncode == 2, result.stdout + result.stderr
        [message] = [line for line in result.stderr.splitlines() if "bad.yaml" in line]
        assert message.startswith("policies/bad.yaml:4:1: invalid YAML")
        assert message.endswith(f"[new: {sha}]")
        assert "tmp" not in message.split(":")[0]
        assert result.stdout.startswith("connectivity unchanged")  # the rest of the run is not lost
    finally:
        git(repo, "worktree", "remove", "--force", str(broken))


def test_problems_found_on_both_sides_are_said_once(tmp_path):
    side = tmp_path / "side"
    side.mkdir()
    (side / "np.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: [x\n")
    result = run(tmp_path, "side", "side")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("side/np.yaml")]
    assert len(lines) == 1 and lines[0].endswith("[old and new]")


def test_unknown_revision_exits_2(repo):
    result = run(repo, "no-such-rev", "HEAD")
    assert result.returncode == 2
    assert "old: 'no-such-rev' is neither an existing path nor a revision of this repository" in result.stderr


def test_revision_outside_a_git_repository_exits_2(tmp_path):
    result = run(tmp_path, "HEAD~1", "HEAD")
    assert result.returncode == 2
    assert "not a git repository" in result.stderr


def test_path_missing_from_both_revisions_exits_2(repo):
    result = run(repo, "HEAD~1", "HEAD", "--", "polices/")
    assert result.returncode == 2
    assert "polices/: no such path in HEAD~1 nor in HEAD" in result.stderr


def test_path_missing_from_one_revision_compares_as_empty_with_a_warning(repo):
    files = ["policies/leak.yaml", "policies/namespaces.yaml", "policies/tenant-a.yaml", "policies/tenant-b.yaml"]
    result = run(repo, "HEAD~1", "HEAD", "--", *files)
    assert result.returncode == 1, result.stdout + result.stderr
    assert LEAK_LINE in result.stdout
    assert "policies/leak.yaml: warning: no such path in old: HEAD~1" in result.stderr
    quiet = run(repo, "HEAD~1", "HEAD", "--quiet", "--", *files)
    assert quiet.returncode == 1 and quiet.stderr == ""


def test_missing_directory_side_exits_2(tmp_path):
    (tmp_path / "old").mkdir()
    result = run(tmp_path, "old", "old", "--", "nothing-here")
    assert result.returncode == 2
    assert "old/nothing-here: no such file or directory" in result.stderr


def test_standard_input_is_not_a_side(tmp_path):
    result = run(tmp_path, "-", str(MULTI_TENANT))
    assert result.returncode == 2
    assert "standard input cannot be one side of a diff" in result.stderr


def test_per_pod_lists_replicas(repo):
    result = run(repo, "HEAD~1", "HEAD", "--per-pod", "--format", "json", "--", "policies/")
    pairs = {(a["src"], a["dst"]) for a in json.loads(result.stdout)["added"]}
    # tenant-b/web has 2 replicas, tenant-a/db 2 (a StatefulSet): every replica pair is a flow
    web = sorted({src for src, _ in pairs})
    db = sorted({dst for _, dst in pairs})
    assert all(s.startswith("tenant-b/web-") for s in web) and db == ["tenant-a/db-0", "tenant-a/db-1"]
    assert len(pairs) == len(web) * len(db)


def test_symbolic_links_in_a_revision_are_reported_not_followed(tmp_path):
    shutil.copytree(MULTI_TENANT, tmp_path / "policies")
    (tmp_path / "policies" / "alias.yaml").symlink_to("tenant-a.yaml")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    result = run(tmp_path, "HEAD", "HEAD")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policies/alias.yaml: warning: symbolic link in a git revision is not followed" in result.stderr
