"""with_changes: what-if edits in memory that answer exactly what the edited files would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from api_scenario import FIXED_INGRESS, LEAKY_INGRESS, POLICIES, REPORTING_EGRESS

import netverify as nv
from netverify.load.changes import ChangeError


@pytest.fixture(scope="module")
def cluster():
    return nv.load(POLICIES, cni="calico")


def _flows(cluster) -> list[tuple[str, str, str]]:
    return [(s.id, d.id, str(c)) for s, d, c in cluster.matrix().connections()]


def test_added_policies_open_the_flow_and_the_original_is_untouched(cluster):
    before = _flows(cluster)
    leaky = cluster.with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])
    assert leaky.matrix().allowed("analytics/api", "shop/db", "TCP", 5432)
    assert not cluster.matrix().allowed("analytics/api", "shop/db", "TCP", 5432)
    assert _flows(cluster) == before
    assert leaky.base is cluster and len(leaky.model.policies) == len(cluster.model.policies) + 2


def test_with_changes_equals_loading_the_edited_files(cluster, tmp_path):
    """The strongest check of the model edit: the same answer as the CLI's path on edited files."""
    edited = tmp_path / "policies"
    shutil.copytree(POLICIES, edited)
    (edited / "tenants" / "shop" / "reporting.yaml").write_text(LEAKY_INGRESS)
    (edited / "tenants" / "analytics" / "reporting.yaml").write_text(REPORTING_EGRESS)
    (edited / "cluster" / "default-deny.yaml").unlink()  # and one removal
    from_files = nv.load(str(edited), cni="calico")
    in_memory = cluster.with_changes(add=[LEAKY_INGRESS, REPORTING_EGRESS], remove=["GlobalNetworkPolicy/default-deny"])
    assert _flows(in_memory) == _flows(from_files)
    assert not nv.diff(from_files, in_memory)


def test_files_are_never_touched(cluster):
    files = sorted(Path(POLICIES).rglob("*.yaml"))
    before = [f.read_bytes() for f in files]
    cluster.with_changes(add=[LEAKY_INGRESS], remove=["NetworkPolicy/shop/db-from-api-only"]).matrix()
    assert [f.read_bytes() for f in files] == before


def test_remove_by_kind_namespace_name(cluster):
    changed = cluster.with_changes(remove=["NetworkPolicy/shop/db-from-api-only"])
    assert "shop/db-from-api-only" not in {p.name for p in changed.model.policies}
    assert not changed.errors
    # the policy was the database's only allow: the platform's default deny now closes it to the api too
    assert cluster.matrix().allowed("shop/api", "shop/db", "TCP", 5432)
    assert not changed.matrix().allowed("shop/api", "shop/db", "TCP", 5432)


def test_remove_by_namespace_name_and_kind_is_case_insensitive(cluster):
    by_short = cluster.with_changes(remove=["shop/db"])
    by_kind = cluster.with_changes(remove=["statefulset/shop/db"])
    for changed in (by_short, by_kind):
        assert "shop/db" not in {g.id for g in changed.model.groups}


def test_remove_cluster_scoped_object_by_kind_and_name(cluster):
    changed = cluster.with_changes(remove="GlobalNetworkPolicy/default-deny")
    assert "default-deny" not in {p.name for p in changed.model.policies}
    # the databases' `egress: []` no longer falls through to the platform policy's DNS allow
    assert cluster.matrix().allowed("billing/db", "kube-system/coredns", "UDP", 53)
    assert not changed.matrix().allowed("billing/db", "kube-system/coredns", "UDP", 53)


def test_remove_by_manifest_dict(cluster):
    manifest = yaml.safe_load(LEAKY_INGRESS)
    leaky = cluster.with_changes(add=[manifest])
    assert leaky.matrix().allowed("billing/api", "shop/db", "TCP", 5432) is False  # billing's egress is closed
    back = leaky.with_changes(remove=[manifest])
    assert _flows(back) == _flows(cluster)
    also = leaky.with_changes(remove=[{"kind": "NetworkPolicy", "namespace": "shop", "name": "db-from-api"}])
    assert _flows(also) == _flows(cluster)


def test_adding_an_object_again_replaces_it_like_kubectl_apply(cluster):
    leaky = cluster.with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])
    fixed = leaky.with_changes(add=[FIXED_INGRESS])
    assert not fixed.errors  # no duplicate-policy error
    assert any(c.startswith("replaced NetworkPolicy/shop/db-from-api") for c in fixed.changes)
    assert not fixed.matrix().allowed("analytics/api", "shop/db", "TCP", 5432)
    assert fixed.matrix().allowed("shop/api", "shop/db", "TCP", 5432)


def test_remove_that_names_nothing_is_refused(cluster):
    with pytest.raises(ChangeError, match="no such object"):
        cluster.with_changes(remove=["NetworkPolicy/shop/nope"])


def test_remove_that_names_several_objects_is_refused(cluster):
    both = cluster.with_changes(
        add=[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"}}]
    )
    with pytest.raises(ChangeError, match="names 2 objects"):
        both.with_changes(remove=["shop/db"])
    assert both.with_changes(remove=["Service/shop/db"]).model.groups == both.model.groups


def test_bad_removal_spec_is_refused(cluster):
    for spec in ("", "a/b/c/d", 42, {"kind": "Pod"}):
        with pytest.raises(ChangeError):
            cluster.with_changes(remove=[spec])


def test_broken_addition_is_a_diagnostic_with_its_position(cluster):
    changed = cluster.with_changes(add=["apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"])
    assert changed.errors and str(changed.errors[0]).startswith("<add[0]>:")
    assert changed.matrix().endpoints()  # the rest still works


def test_changes_are_listed_in_the_display(cluster):
    changed = cluster.with_changes(add=[REPORTING_EGRESS], remove=["NetworkPolicy/shop/allow-alb-to-web"])
    text = repr(changed)
    assert "change: removed NetworkPolicy/shop/allow-alb-to-web" in text
    assert "change: added NetworkPolicy/analytics/reporting-to-shop-db (<add[0]>:1:1)" in text
    assert "allow-alb-to-web" in changed._repr_html_()


def test_what_if_policies_are_reanalysed_from_the_base_matrix(cluster, tmp_path):
    """Once the base has its matrix, a policy-only change re-evaluates only what it touches, and answers
    exactly what loading the edited files answers."""
    cluster.matrix()
    edited = tmp_path / "policies"
    shutil.copytree(POLICIES, edited)
    (edited / "tenants" / "shop" / "reporting.yaml").write_text(LEAKY_INGRESS)
    (edited / "tenants" / "analytics" / "reporting.yaml").write_text(REPORTING_EGRESS)
    in_memory = cluster.with_changes(add=[LEAKY_INGRESS, REPORTING_EGRESS])
    touched = in_memory.matrix().engine.touched
    assert touched is not None and not touched.everything
    assert _flows(in_memory) == _flows(nv.load(str(edited), cni="calico"))
    computed_whole = nv.load(POLICIES, cni="calico").with_changes(add=[LEAKY_INGRESS, REPORTING_EGRESS])
    assert without_seconds(in_memory.check()) == without_seconds(computed_whole.check())
    assert computed_whole.matrix().engine.touched is None  # its base had no matrix yet: a full analysis
    # and back: removing them again from the what-if cluster gives the base's answer
    added = ["NetworkPolicy/analytics/reporting-to-shop-db", "NetworkPolicy/shop/db-from-api"]
    undone = in_memory.with_changes(remove=added)
    assert not undone.errors
    assert _flows(undone) == _flows(cluster)


def without_seconds(report) -> dict:
    data = report.to_json()
    data["stats"].pop("seconds")
    return data
