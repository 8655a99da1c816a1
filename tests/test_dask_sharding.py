"""Sharding on dask.distributed: row blocks evaluated on workers give exactly the in-process matrix."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from netverify.cli import main
from netverify.compile import compile_cluster
from netverify.engine import compute_matrix
from netverify.load.cluster_loader import load_cluster

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [ROOT / "fixtures" / "multi-tenant", ROOT / "fixtures" / "leaky", ROOT / "policies"]


@pytest.fixture(scope="module")
def dask_cluster():
    """Two in-process workers (threads), so the test stays fast and still spreads blocks over workers."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield cluster, client


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_sharded_matrix_equals_in_process_matrix_bit_for_bit(dask_cluster, fixture):
    from netverify.engine.sharding import compute_matrix_on_dask

    _, client = dask_cluster
    compiled = compile_cluster(load_cluster([str(fixture)]), "calico")
    local = compute_matrix(compiled)
    # blocks of 3 rows: many tasks per direction, finishing in any order on both workers
    sharded = compute_matrix_on_dask(compiled, client, block=3)
    assert compiled.n_classes > 3
    assert np.array_equal(sharded.pod_rows, local.pod_rows)
    assert np.array_equal(sharded.ingress, local.ingress)


def test_dask_option_on_matrix_and_check_gives_the_in_process_report(dask_cluster):
    cluster, _ = dask_cluster
    fixture = str(ROOT / "fixtures" / "leaky")
    for command in ("matrix", "check"):
        local = run_cli(command, fixture, "--format", "json", "-q")
        sharded = run_cli(command, fixture, "--format", "json", "-q", "--dask", cluster.scheduler_address)
        assert sharded[0] == local[0]
        drop_seconds = lambda text: {k: v for k, v in json.loads(text).items() if k != "stats"}  # noqa: E731
        assert drop_seconds(sharded[1]) == drop_seconds(local[1])


def test_dask_option_without_the_extra_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, out, err = run_cli("matrix", str(ROOT / "fixtures" / "leaky"), "--dask", "tcp://127.0.0.1:1")
    assert code == 2 and out == ""
    assert "netverify[dask]" in err and "Traceback" not in err
