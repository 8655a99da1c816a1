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
