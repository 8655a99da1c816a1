"""Large directories are parsed by two processes; the documents, diagnostics and their order are the same."""

from __future__ import annotations

import os
from pathlib import Path

from netverify.load import sources
from netverify.load.cluster_loader import load_cluster

ROOT = Path(__file__).resolve().parent.parent


def write_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for i in range(12):
        docs = [
            f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n  labels: {{tenant: t{i}}}\n",
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns-{i}\n  labels: &l {{app: a{i}}}\n"
            f"spec:\n  containers: [{{name: c, ports: [{{name: http, containerPort: {8000 + i}}}]}}]\n",
            f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: ns-{i}\n"
            f"spec:\n  podSelector: {{matchLabels: {{app: a{i}}}}}\n  ingress:\n  - ports: [{{port: http}}]\n",
        ]
        (repo / f"f{i:02d}.yaml").write_text("---\n".join(docs), encoding="utf-8")
    (repo / "f05.yaml").write_text("kind: [unclosed\n", encoding="utf-8")  # a syntax error mid-way
    (repo / "f09.yaml").write_bytes(b"\xff\xfe not utf-8")
    (repo / "f10.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: ns-1}\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/33}}]\n",
        encoding="utf-8",
    )
    return repo


def snapshot(repo: Path) -> tuple[list, list[str], list[str]]:
    docs, diags = sources.read_sources([str(repo)])
    cluster = load_cluster([str(repo)])
    return (
        [(d.file, d.data, d.source_map.positions, d.base) for d in docs],
        [str(d) for d in diags],
        [str(d) for d in cluster.diagnostics] + [p.name for p in cluster.policies],
    )


def test_parallel_parse_gives_the_same_documents_diagnostics_and_order(tmp_path, monkeypatch):
    repo = write_repo(tmp_path)
    serial = snapshot(repo)
    started = []
    original = sources._start_helper

    def spy(files):
        helper = original(files)
        started.append(helper is not None)
        return helper

    monkeypatch.setattr(sources, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(sources, "_start_helper", spy)
    monkeypatch.setattr(sources.os, "cpu_count", lambda: 2)
    parallel = snapshot(repo)
    assert started and all(started)  # the helper process really ran
    assert parallel == serial
    assert any("f05.yaml" in d for d in serial[1]) and any("f09.yaml" in d for d in serial[1])
    assert any("f10.yaml" in d for d in serial[2])


def test_parallel_parse_falls_back_to_this_process_when_the_helper_fails(tmp_path, monkeypatch):
    repo = write_repo(tmp_path)
    serial = snapshot(repo)
    parent = os.getpid()
    real = sources.read_files
    calls = []

    def dies_in_the_helper(files):
        if os.getpid() != parent:
            raise RuntimeError("helper died")
        calls.append(len(files))
        return real(files)

    monkeypatch.setattr(sources, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(sources.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sources, "read_files", dies_in_the_helper)
    assert snapshot(repo) == serial
    assert calls  # the helper's files were parsed here instead
