"""Large inputs are parsed by two processes (`load/read_ahead.py`); the documents, diagnostics and their order
are the same as when one process reads them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from netverify import analyze
from netverify.load import read_ahead, sources
from netverify.load.cluster_loader import load_cluster
from netverify.report.matrix_formats import MATRIX_FORMATS, MatrixView

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import generate  # noqa: E402  (the benchmark's cluster generator)

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


def serial_snapshot(repo: Path, monkeypatch) -> tuple:
    with monkeypatch.context() as patch:
        patch.setattr(read_ahead.ReadAhead, "start", classmethod(lambda cls, files, min_bytes=None: None))
        return snapshot(repo)


def parallel(monkeypatch) -> list[bool]:
    """Let every read start a helper (any size, two cores); returns a list that records each start."""
    started: list[bool] = []
    original = read_ahead.ReadAhead.start.__func__

    def spy(cls, files, min_bytes=None):
        helper = original(cls, files, 0)
        started.append(helper is not None)
        return helper

    monkeypatch.setattr(read_ahead.ReadAhead, "start", classmethod(spy))
    alone_here(monkeypatch)
    return started


def parsed_here(monkeypatch, in_the_helper, pause_here: float = 0.0) -> list[str]:
    """Run `in_the_helper()` before each file the helper parses (and pause that long before each file this
    process parses); returns the files this process parsed."""
    parent, real, here = os.getpid(), sources.read_file, []

    def read_file(fs_path, display):
        if os.getpid() != parent:
            in_the_helper()
        else:
            here.append(display)
            time.sleep(pause_here)
        return real(fs_path, display)

    monkeypatch.setattr(sources, "read_file", read_file)
    return here


def alone_here(monkeypatch) -> None:
    """Two cores, and only the threads a test starts count: earlier tests (dask, numba) leave idle threads
    behind in this process, which would keep the helper from starting."""
    before = threading.active_count()
    monkeypatch.setattr(read_ahead.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(read_ahead.threading, "active_count", lambda: len(threading.enumerate()) - before + 1)


def test_parallel_parse_gives_the_same_documents_diagnostics_and_order(tmp_path, monkeypatch):
    repo = write_repo(tmp_path)
    serial = serial_snapshot(repo, monkeypatch)
    started = parallel(monkeypatch)
    assert snapshot(repo) == serial
    assert started and all(started)  # the helper process really ran
    assert any("f05.yaml" in d for d in serial[1]) and any("f09.yaml" in d for d in serial[1])
    assert any("f10.yaml" in d for d in serial[2])


def test_parallel_parse_falls_back_to_this_process_when_the_helper_fails(tmp_path, monkeypatch):
    repo = write_repo(tmp_path)
    serial = serial_snapshot(repo, monkeypatch)

    def dies() -> None:
        raise RuntimeError("helper died")

    started = parallel(monkeypatch)
    here = parsed_here(monkeypatch, in_the_helper=dies)
    assert snapshot(repo) == serial
    assert started and all(started)
    assert len(here) == 2 * 12  # every file, in each of the two reads, was parsed here


def test_this_process_parses_from_the_back_while_the_helper_is_slow(tmp_path, monkeypatch):
    """The two sides meet wherever they are: with a slow helper this process parses most files itself."""
    repo = write_repo(tmp_path)
    serial = serial_snapshot(repo, monkeypatch)
    started = parallel(monkeypatch)
    here = parsed_here(monkeypatch, in_the_helper=lambda: time.sleep(0.2))
    documents, diagnostics = sources.read_sources([str(repo)])
    assert started == [True]
    assert ([(d.file, d.data, d.source_map.positions) for d in documents], [str(d) for d in diagnostics]) == (
        [(d[0], d[1], d[2]) for d in serial[0]],
        serial[1],
    )
    assert 6 <= len(here) <= 12 and here == sorted(here, reverse=True)  # from the back, one file at a time


def test_a_helper_is_not_started_beside_other_threads(tmp_path, monkeypatch):
    """Fork copies only the calling thread: a lock held by another one (a notebook kernel's) would hang the
    helper, so reading stays in this process."""
    repo = write_repo(tmp_path)
    alone_here(monkeypatch)
    files = sources.list_files([str(repo)])
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert read_ahead.ReadAhead.start(files, 0) is None
    finally:
        release.set()
        other.join()
    helper = read_ahead.ReadAhead.start(files, 0)
    assert helper is not None
    assert set(helper.collect()) == set(files)


def test_cancelled_helper_is_reaped(tmp_path, monkeypatch):
    repo = write_repo(tmp_path)
    alone_here(monkeypatch)
    helper = read_ahead.ReadAhead.start(sources.list_files([str(repo)]), 0)
    assert helper is not None
    helper.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(helper._pid, os.WNOHANG)  # already waited for: no zombie left behind


def test_listing_matches_what_reading_reads(tmp_path):
    repo = write_repo(tmp_path)
    (repo / "sub").mkdir()
    (repo / "sub" / "x.yml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    (repo / ".hidden.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: h}\n")
    (repo / "notes.txt").write_text("not a manifest")
    order: list[str] = []
    sources.read_sources([str(repo), str(repo / "f01.yaml")], order=order)
    listed = sources.list_files([str(repo), str(repo / "f01.yaml"), "-"])
    assert [display for _, display in listed] == order


def test_cli_output_is_the_same_with_the_read_ahead(tmp_path, monkeypatch):
    """Through the console script (the read-ahead starts before the imports) against a serial read."""
    repo = tmp_path / "repo"
    generate.generate(str(repo), tenants=60, deployments=5, replicas=2)
    assert sum(f.stat().st_size for f in repo.rglob("*.yaml")) > read_ahead.MIN_BYTES
    run = subprocess.run(
        [str(Path(sys.executable).parent / "netverify"), "matrix", str(repo), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    monkeypatch.setattr(read_ahead.ReadAhead, "start", classmethod(lambda cls, files, min_bytes=None: None))
    matrix = analyze(str(repo))
    assert run.stdout == MATRIX_FORMATS["json"](MatrixView(matrix, False, False))


def test_preload_imports_the_loaders_of_the_kinds_the_files_hold(tmp_path):
    """The guess made while the helper parses: Calico's loader for Calico policies, not for Kubernetes ones."""
    k8s = tmp_path / "k8s.yaml"
    k8s.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\n"
        "spec: {podSelector: {}}\n---\n{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\"}\n"
    )
    calico = tmp_path / "calico.yaml"
    calico.write_text("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: deny}\n")
    script = (
        "import sys\n"
        "from netverify.preload import preload\n"
        "preload('check', [(p, p) for p in sys.argv[1:]])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('netverify.load.kinds.'))))\n"
        "print('netverify.verify.isolation' in sys.modules, 'netverify.pipeline' in sys.modules)\n"
    )

    def loaded(*paths: Path) -> list[str]:
        run = subprocess.run([sys.executable, "-c", script, *map(str, paths)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.split("\n")

    kinds, command = loaded(k8s)[:2]
    assert {"netverify.load.kinds.networkpolicy", "netverify.load.kinds.workloads"} <= set(kinds.split())
    assert "netverify.load.kinds.calico" not in kinds
    assert command == "True True"
    assert "netverify.load.kinds.calico" in loaded(k8s, calico)[0].split()


def test_what_a_failing_helper_parsed_before_failing_is_used(tmp_path, monkeypatch):
    repo = write_repo(tmp_path)
    serial = serial_snapshot(repo, monkeypatch)
    calls = []

    def fails_on_the_third_file() -> None:
        calls.append(1)  # counts in the helper's own memory
        if len(calls) == 3:
            raise RuntimeError("helper died")

    parallel(monkeypatch)
    here = parsed_here(monkeypatch, in_the_helper=fails_on_the_third_file, pause_here=0.1)
    documents, diagnostics = sources.read_sources([str(repo)])
    assert [(d.file, d.data, d.source_map.positions, d.base) for d in documents] == serial[0]
    assert [str(d) for d in diagnostics] == serial[1]
    assert len(here) == 12 - 2  # the helper's first two files came from the helper, the third failed there


def test_packed_source_maps_answer_every_question_as_before():
    """The helper sends deep positions packed; every path (and every path below a recorded one) locates as
    in the unpacked map, the map compares equal, and it survives pickling packed."""
    import pickle

    from netverify.load.documents import SourceMap

    text = (ROOT / "fixtures").glob("**/*.yaml")
    checked = 0
    for path in sorted(text):
        docs, _ = sources.read_file(str(path), str(path))
        for doc in docs:
            plain = doc.source_map
            packed = pickle.loads(pickle.dumps(plain))
            packed.pack()
            packed = pickle.loads(pickle.dumps(packed))
            deep = [where for where in plain.positions if len(where) > SourceMap.EAGER_DEPTH]
            assert (packed._packed is not None) == bool(deep)
            for where in plain.positions:  # shallow questions are answered without unpacking
                if len(where) <= SourceMap.EAGER_DEPTH:
                    assert packed.locate(where) == plain.locate(where)
            assert (packed._packed is not None) == bool(deep)
            for where in list(plain.positions)[:50]:
                for probe in (where, (*where, "below"), (*where, 0, "deeper")):
                    assert packed.locate(probe) == plain.locate(probe), (path, probe)
            assert packed == plain and packed.positions == plain.positions
            checked += 1
    assert checked > 20
    assert SourceMap("f").locate(("a",)).line == 0
