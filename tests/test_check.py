"""`netverify check`: contracts, violations named with the rule that opened them, formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from manifests import namespace, netpol, pod

import netverify
from netverify.verify.contract import Contract, ContractSpec
from netverify.verify.isolation import check_isolation, contract_services

ROOT = Path(__file__).resolve().parent.parent
LEAKY = ROOT / "fixtures" / "leaky"
LEAKY_ARG = "fixtures/leaky"  # relative, as users type it: reported file names follow the argument


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netverify", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def check(manifests, contract: dict | None = None):
    spec = (
        Contract(ContractSpec.model_validate(contract))
        if contract is not None
        else Contract.default_contract()
    )
    from netverify.load.cluster_loader import load_cluster
    from netverify.pipeline import analyze_cluster

    matrix = analyze_cluster(load_cluster([manifests]), "generic", extra_services=contract_services(spec))
    return check_isolation(matrix, spec)


def line_of(path: Path, needle: str, after: str) -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, text in enumerate(lines) if after in text)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_clean_examples_hold_with_exit_0():
    for target, extra in ((ROOT / "fixtures" / "multi-tenant", []), (ROOT / "policies", ["--cni", "calico"])):
        result = run("check", str(target), *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "isolation holds" in result.stdout


def test_leak_is_named_with_the_file_and_line_that_opened_it():
    result = run("check", LEAKY_ARG, "-f", "json", "--pod-cidr", "10.64.0.0/16")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False
    [violation] = data["violations"]
    assert (violation["rule"], violation["src"], violation["dst"]) == (
        "cross-tenant-flow",
        "tenant-c/batch",
        "tenant-a/db",
    )
    assert violation["conn"] == {"TCP": [[5432, 5432]]}
    opened = [a for a in violation["allowed_by"] if a["kind"] == "NetworkPolicy"]
    assert opened == [
        {
            "policy": "tenant-a/db-from-reporting",
            "kind": "NetworkPolicy",
            "direction": "ingress",
            "rule": "ingress[0]",
            "file": "fixtures/leaky/tenant-a.yaml",
            "line": line_of(LEAKY / "tenant-a.yaml", "- from:", "name: db-from-reporting"),
        }
    ]
    assert any(a["kind"] == "default" and a["direction"] == "egress" for a in violation["allowed_by"])
    assert set(data["stats"]) >= {"endpoints", "policies", "seconds", "classes", "ip_atoms", "service_atoms"}


def test_unknown_pod_addresses_inside_an_allowed_cidr_are_possible_leaks():
    """tenant-c's pod IP is not in the manifests; it may lie in the ALB subnet the web policies admit."""
    data = json.loads(run("check", LEAKY_ARG, "-f", "json").stdout)
    web = [v for v in data["violations"] if v["dst"] == "tenant-a/web"]
    assert web and web[0]["src"] == "tenant-c/batch" and web[0]["conn"] == {"TCP": [[8080, 8080]]}
    [by] = [a for a in web[0]["allowed_by"] if a["kind"] == "NetworkPolicy"]
    assert by["policy"] == "tenant-a/web-from-alb" and by["uncertain"] is True
    assert "--pod-cidr" in run("check", LEAKY_ARG).stdout
    outside = run("check", LEAKY_ARG, "-f", "json", "--pod-cidr", "10.64.0.0/16").stdout
    assert [v["dst"] for v in json.loads(outside)["violations"]] == ["tenant-a/db"]
    inside = run("check", LEAKY_ARG, "-f", "json", "--pod-cidr", "10.0.0.0/24").stdout
    assert {v["dst"] for v in json.loads(inside)["violations"]} == {"tenant-a/db", "tenant-a/web", "tenant-b/web"}


def test_text_and_markdown_reports_name_the_leak():
    text = run("check", LEAKY_ARG).stdout
    assert (
        "VIOLATION cross-tenant-flow: tenant-c/batch (tenant-c) -> tenant-a/db (tenant-a): TCP 5432" in text
    )
    assert "tenant-a/db-from-reporting ingress[0] at fixtures/leaky/tenant-a.yaml:" in text
    assert "isolation violated" in text.splitlines()[-1]
    assert "tenant-a/web-from-alb ingress[0]" in text and "unknown pod address" in text
    md = run("check", LEAKY_ARG, "-f", "md", "--pod-cidr", "10.64.0.0/16").stdout
    assert md.startswith("### netverify: isolation violated") and "| tenant-c/batch (tenant-c) |" in md


def test_contract_file_with_shared_dns_only_flags_kube_system_reaching_tenants():
    result = run(
        "check", str(LEAKY), "--contract", str(ROOT / "fixtures" / "leaky-contract.yaml"), "-f", "json"
    )
    assert result.returncode == 1
    pairs = {(v["src"], v["dst"]) for v in json.loads(result.stdout)["violations"]}
    assert ("tenant-c/batch", "tenant-a/db") in pairs
    assert (
        "kube-system/coredns",
        "tenant-a/db",
    ) in pairs  # kube-system is shared only as DNS in this contract


def test_default_contract_shares_kube_system_both_ways():
    objs = [namespace("kube-system"), namespace("a"), pod("kube-system", "dns"), pod("a", "app")]
    assert check(objs).violations == []


def test_every_namespace_is_its_own_tenant_by_default():
    result = check([namespace("a"), namespace("b"), pod("a", "x"), pod("b", "y")])
    assert {(v.src.id, v.dst.id) for v in result.violations} == {("a/x", "b/y"), ("b/y", "a/x")}
    assert all(v.conn.is_all for v in result.violations)


def test_namespaces_with_the_same_tenant_label_form_one_tenant():
    objs = [namespace("a1", tenant="a"), namespace("a2", tenant="a"), pod("a1", "x"), pod("a2", "y")]
    assert check(objs, {"tenants": {"namespaceLabel": "tenant"}}).violations == []
    assert check(objs, {"tenants": {"namespaces": {"a": ["a1", "a2"]}}}).violations == []
    assert len(check(objs).violations) == 2


def test_shared_service_exempts_only_its_ports():
    objs = [
        namespace("infra"),
        namespace("a"),
        pod("infra", "dns", labels={"app": "dns"}),
        pod("a", "x"),
        netpol("a", "deny-in", {}, policyTypes=["Ingress"]),
    ]
    contract = {"shared": [{"namespace": "infra", "pods": {"app": "dns"}, "ports": ["53/UDP", "53/TCP"]}]}
    [violation] = check(objs, contract).violations
    assert (violation.src.id, violation.dst.id) == ("a/x", "infra/dns")
    assert not violation.conn.contains("UDP", 53) and violation.conn.contains("UDP", 54)
    assert violation.conn.contains("TCP", 80)


def test_declared_exception_between_tenants():
    objs = [
        namespace("mon", tenant="monitoring"),
        namespace("a", tenant="a"),
        pod("mon", "prom"),
        pod("a", "x"),
        netpol("a", "only-metrics", {}, ingress=[{"ports": [{"port": 9090}]}]),
        netpol("a", "no-egress", {}, policyTypes=["Egress"]),
    ]
    contract = {
        "tenants": {"namespaceLabel": "tenant"},
        "allow": [{"from": {"tenant": "monitoring"}, "to": {"tenant": "*"}, "ports": ["9090/TCP"]}],
    }
    assert check(objs, contract).violations == []
    contract["allow"][0]["ports"] = ["9091/TCP"]
    assert len(check(objs, contract).violations) == 1


def test_bad_input_exits_2_even_with_violations(tmp_path):
    for source in LEAKY.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    result = run("check", str(tmp_path))
    assert result.returncode == 2 and "broken.yaml:" in result.stderr
    assert "cannot be proven" in result.stdout


def test_contract_errors_point_at_the_contract_line(tmp_path):
    contract = tmp_path / "contract.yaml"
    contract.write_text(
        "tenants:\n  namespaceLabel: tenant\nshared:\n  - namespace: kube-system\n    ports: [53/XYZ]\n"
    )
    result = run("check", str(LEAKY), "--contract", str(contract))
    assert result.returncode == 2
    assert f"{contract}:5:" in result.stderr and "53/XYZ" in result.stderr


def test_non_kubernetes_yaml_in_a_directory_is_skipped(tmp_path):
    (tmp_path / "values.yaml").write_text("replicaCount: 3\nimage: {tag: latest}\n")
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    assert run("check", str(tmp_path)).returncode == 0


def test_object_missing_its_kind_is_an_error_not_skipped(tmp_path):
    (tmp_path / "np.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nmetadata: {name: p}\nspec: {podSelector: {}}\n"
    )
    result = run("check", str(tmp_path))
    assert result.returncode == 2 and "np.yaml:1:" in result.stderr


def test_python_api_check_matches_cli():
    matrix = netverify.analyze(str(LEAKY), pod_cidrs=["10.64.0.0/16"])
    result = check_isolation(matrix, Contract.default_contract())
    assert [(v.src.id, v.dst.id) for v in result.violations] == [("tenant-c/batch", "tenant-a/db")]
