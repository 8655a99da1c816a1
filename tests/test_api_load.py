"""nv.load: every kind of source, options, diagnostics instead of exceptions, and a cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from api_scenario import POLICIES

import netverify as nv
from netverify.model.diagnostics import Severity

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "a", "namespace": "x", "labels": {"app": "a"}},
    "spec": {"containers": [{"name": "c", "image": "i"}]},
}
DENY_ALL = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "deny", "namespace": "x"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}
OTHER_POD = {**POD, "metadata": {"name": "b", "namespace": "x", "labels": {"app": "b"}}}


def test_import_is_cheap_and_load_is_lazy():
    code = (
        "import sys, netverify as nv\n"
        "heavy = [m for m in ('numpy', 'numba', 'pandas', 'matplotlib', 'networkx') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(nv.load) and callable(nv.diff)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_load_keeps_its_name_after_the_loading_stage_is_imported():
    import netverify.load.changes  # noqa: F401  (a submodule import must not rebind netverify.load)

    assert callable(nv.load)
    assert nv.load([POD]).model.groups[0].id == "x/a"


def test_load_from_a_directory(tmp_path):
    cluster = nv.load(POLICIES, cni="calico")
    assert not cluster.errors
    assert {"shop", "billing", "analytics", "kube-system"} <= set(cluster.model.namespaces)
    names = {p.name for p in cluster.model.policies}
    assert {"default-deny", "shop/allow-same-namespace", "billing/db-from-api-only"} <= names


def test_load_from_yaml_string_dicts_and_lists_means_the_same():
    import yaml

    text = yaml.safe_dump_all([POD, OTHER_POD, DENY_ALL])
    by_text = nv.load(text).matrix()
    by_dicts = nv.load(POD, OTHER_POD, DENY_ALL).matrix()
    by_list = nv.load([POD, OTHER_POD, DENY_ALL]).matrix()
    listed = [[(s.id, d.id, str(c)) for s, d, c in m.connections()] for m in (by_text, by_dicts, by_list)]
    assert listed[0] == listed[1] == listed[2]
    for m in (by_text, by_dicts, by_list):
        assert not m.allowed("x/a", "x/b", "TCP", 80)  # the deny-all isolates ingress
        assert m.allowed("x/a", "8.8.8.8", "TCP", 443)  # egress is not isolated


def test_load_of_mixed_list_of_paths_and_dicts(tmp_path):
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n")
    cluster = nv.load([str(tmp_path / "pod.yaml"), OTHER_POD])
    assert sorted(g.id for g in cluster.model.groups) == ["x/a", "x/b"]


def test_bad_input_is_a_diagnostic_with_file_and_line_not_an_exception(tmp_path):
    (tmp_path / "good.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n")
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: b\n")
    cluster = nv.load(str(tmp_path))
    errors = [d for d in cluster.diagnostics if d.severity is Severity.ERROR]
    assert errors and str(errors[0]).startswith(f"{tmp_path / 'bad.yaml'}:")
    assert [g.id for g in cluster.model.groups] == ["x/a"]  # the rest of the input is not lost
    assert "1 errors" in repr(cluster) and "bad.yaml" in repr(cluster)
    assert "bad.yaml" in cluster._repr_html_()


def test_cni_and_pod_cidrs_are_the_cli_options():
    allow_cidr = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "from-cidr", "namespace": "x"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "a"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
        },
    }
    objects = [POD, OTHER_POD, allow_cidr]
    assert nv.load(objects).matrix().allowed("x/b", "x/a", "TCP", 80)  # b may live in 10/8
    assert not nv.load(objects, pod_cidrs=[]).matrix().allowed("x/b", "x/a", "TCP", 80)
    assert not nv.load(objects, pod_cidrs=["192.168.0.0/16"]).matrix().allowed("x/b", "x/a", "TCP", 80)
    assert not nv.load(objects, cni="cilium").matrix().allowed("x/b", "x/a", "TCP", 80)  # ipBlock never matches pods


def test_bad_options_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="cni must be one of"):
        nv.load([POD], cni="flannel")
    with pytest.raises(ValueError):
        nv.load([POD], pod_cidrs=["10.0.0.0/33"])


def test_matrix_is_computed_once_and_cached():
    cluster = nv.load([POD, OTHER_POD])
    assert cluster.matrix() is cluster.matrix()


def test_cluster_displays():
    cluster = nv.load(POLICIES, cni="calico")
    model = cluster.model
    text = repr(cluster)
    assert text.startswith(
        f"<LoadedCluster: {len(model.namespaces)} namespaces, {len(model.endpoint_groups)} workloads/pods, "
        f"{len(model.policies)} policies (cni calico); 0 errors"
    )
    page = cluster._repr_html_()
    assert "<table" in page and "shop" in page and "<script" not in page and "http" not in page


def test_missing_path_is_a_diagnostic():
    cluster = nv.load("/no/such/dir", [POD])
    assert any("/no/such/dir" in str(d) for d in cluster.errors)
    assert [g.id for g in cluster.model.groups] == ["x/a"]
