"""The bundled multi-tenant EKS example (policies/) shows the isolation its README promises."""

from __future__ import annotations

from pathlib import Path

import pytest

import netverify

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("shop", "billing", "analytics")


@pytest.fixture(scope="module")
def matrix():
    m = netverify.analyze(str(ROOT / "policies"), cni="calico")
    assert not m.diagnostics, [str(d) for d in m.diagnostics]
    return m


def test_no_flow_crosses_tenants(matrix):
    for src, dst, _ in matrix.connections():
        if src.namespace in TENANTS and dst.namespace in TENANTS:
            assert src.namespace == dst.namespace, f"{src.id} -> {dst.id}"


def test_alb_subnets_reach_only_web_front_ends_on_http(matrix):
    for src, dst, conn in matrix.connections():
        if src.is_external and dst.namespace in TENANTS:
            assert dst.name == "web" and conn.to_json() == {"TCP": [[8080, 8080]]}
            assert src.id == {"shop": "10.0.0.0-10.0.0.255", "billing": "10.0.1.0-10.0.1.255",
                              "analytics": "10.0.2.0-10.0.2.255"}[dst.namespace]


def test_database_reached_only_from_api_on_postgres(matrix):
    for tenant in TENANTS:
        assert matrix.conn(f"{tenant}/api", f"{tenant}/db").to_json() == {"TCP": [[5432, 5432]]}
        assert not matrix.conn(f"{tenant}/web", f"{tenant}/db")
        assert matrix.conn(f"{tenant}/db", f"{tenant}/api").is_empty


def test_every_tenant_reaches_dns_and_nothing_else_outside(matrix):
    for tenant in TENANTS:
        for name in ("web", "api", "db"):
            assert matrix.conn(f"{tenant}/{name}", "kube-system/coredns").to_json() == {
                "TCP": [[53, 53]],
                "UDP": [[53, 53]],
            }
            assert not matrix.allowed(f"{tenant}/{name}", "8.8.8.8", "TCP", 443)


NEWCOMER = [
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "newcomer", "labels": {"tenant": "newcomer"}},
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "newcomer"},
        "spec": {"containers": [{"name": "app", "image": "app"}]},
    },
]


def test_global_default_deny_isolates_a_tenant_without_policies():
    m = netverify.analyze(str(ROOT / "policies"), NEWCOMER, cni="calico")
    assert not m.allowed("newcomer/app", "shop/web", "TCP", 8080)
    assert not m.allowed("kube-system/coredns", "newcomer/app", "TCP", 80)
    assert m.allowed("newcomer/app", "kube-system/coredns", "UDP", 53)


def test_without_the_global_default_deny_a_tenant_without_policies_is_open():
    files = [str(p) for p in (ROOT / "policies").rglob("*.yaml") if p.name != "default-deny.yaml"]
    m = netverify.analyze(files, NEWCOMER, cni="calico")
    assert m.allowed("kube-system/coredns", "newcomer/app", "TCP", 80)
    assert m.allowed("newcomer/app", "8.8.8.8", "TCP", 443)


def _check(path: Path) -> tuple[int, dict]:
    import json
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "netverify", "check", str(path), "--format", "json"],
        capture_output=True, text=True, cwd=ROOT,
    )
    return run.returncode, json.loads(run.stdout)


def test_check_of_the_example_is_clean():
    code, result = _check(ROOT / "policies")
    assert code == 0 and result["ok"]
    assert result["violations"] == [] and result["findings"] == []


def test_a_node_group_in_a_tenants_alb_subnet_fails_naming_the_rule_that_admits_its_pods(tmp_path):
    import shutil

    repo = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", repo)
    with open(repo / "cluster" / "eks-cluster.yaml", "a", encoding="utf-8") as handle:
        handle.write("nodeGroups:\n  - name: billing-edge\n    subnets: [billing-alb-a]\n")
    code, result = _check(repo)
    assert code == 1
    [violation] = result["violations"]
    assert violation["rule"] == "cidr-admits-other-tenants"
    assert violation["file"].endswith("tenants/billing/network-policies.yaml") and violation["line"] == 29
    assert "billing/allow-alb-to-web" in violation["message"] and "shop" in violation["message"]


def test_joining_two_tenants_ingresses_into_one_group_fails_naming_the_group(tmp_path):
    import shutil

    repo = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", repo)
    for tenant in ("shop", "billing"):
        path = repo / "tenants" / tenant / "ingress.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("  annotations:\n", "  annotations:\n    alb.ingress.kubernetes.io/group.name: storefront\n"),
            encoding="utf-8",
        )
    code, result = _check(repo)
    assert code == 1
    rules = {v["rule"] for v in result["violations"]}
    assert "ingress-group-cross-tenant" in rules
    group = next(v for v in result["violations"] if v["rule"] == "ingress-group-cross-tenant")
    assert "IngressGroup storefront" in group["message"] and group["tenants"] == ["billing", "shop"]
    assert group["file"].endswith("ingress.yaml")
