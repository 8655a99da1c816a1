"""Suppressions: the `netverify.io/allow-cross-tenant` annotation excuses exactly the flows its policy
opens, with the reason reported; contract `allow` entries are reported the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from manifests import namespace, netpol, pod

from netverify.load.cluster_loader import load_cluster
from netverify.pipeline import analyze_cluster
from netverify.verify.contract import Contract, ContractSpec
from netverify.verify.isolation import check_isolation, contract_services

ROOT = Path(__file__).resolve().parent.parent
KEY = "netverify.io/allow-cross-tenant"


def annotate(policy: dict, reason: str) -> dict:
    policy["metadata"]["annotations"] = {KEY: reason}
    return policy


def check(manifests: list[dict], contract: dict | None = None):
    spec = Contract(ContractSpec.model_validate(contract)) if contract else Contract.default_contract()
    matrix = analyze_cluster(load_cluster([manifests]), "generic", extra_services=contract_services(spec))
    return check_isolation(matrix, spec)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netverify", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def isolated_pair(*policies: dict) -> list[dict]:
    """Tenants a and b with one pod each; both pods isolated in both directions except what `policies` open."""
    return [
        namespace("a"),
        namespace("b"),
        pod("a", "x", ports=[(80, "TCP"), (443, "TCP")]),
        pod("b", "y", ports=[(80, "TCP"), (443, "TCP")]),
        netpol("a", "deny-all", {}, policyTypes=["Ingress", "Egress"]),
        netpol("b", "deny-all", {}, policyTypes=["Ingress", "Egress"]),
        netpol("a", "egress-to-b", {}, egress=[{"to": [{"namespaceSelector": {}}]}]),
        *policies,
    ]


def from_a(name: str, ports: list[int] | None = None) -> dict:
    rule: dict = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}}]}
    if ports:
        rule["ports"] = [{"port": p} for p in ports]
    return netpol("b", name, {}, ingress=[rule])


def test_annotated_policy_that_alone_opens_the_flow_suppresses_it():
    result = check(isolated_pair(annotate(from_a("from-a"), "reporting reads b, TICKET-1")))
    assert result.violations == [] and result.ok
    [suppressed] = result.suppressed
    assert (suppressed.src.id, suppressed.dst.id) == ("a/x", "b/y") and suppressed.conn.is_all
    [why] = suppressed.suppressions
    assert why.kind == "annotation" and "TICKET-1" in why.justification and "b/from-a" in why.justification


def test_flow_also_opened_by_an_unannotated_policy_is_not_suppressed():
    result = check(isolated_pair(annotate(from_a("from-a"), "reason"), from_a("also-from-a")))
    assert [(v.src.id, v.dst.id) for v in result.violations] == [("a/x", "b/y")]
    assert result.suppressed == []


def test_only_the_services_the_annotated_policy_alone_opens_are_suppressed():
    result = check(isolated_pair(annotate(from_a("web", [80, 443]), "web is public to a"), from_a("tls", [443])))
    [violation] = result.violations
    [suppressed] = result.suppressed
    assert violation.conn.contains("TCP", 443) and not violation.conn.contains("TCP", 80)
    assert suppressed.conn.contains("TCP", 80) and not suppressed.conn.contains("TCP", 443)


def test_annotation_suppresses_when_its_policy_is_the_only_one_isolating_the_pod():
    """Removing the annotated policy's rules, not the policy: its isolation still counts."""
    objs = [namespace("a"), namespace("b"), pod("a", "x"), pod("b", "y"), annotate(from_a("from-a"), "why")]
    result = check(objs)
    assert [(v.src.id, v.dst.id) for v in result.violations] == [("b/y", "a/x")]
    assert [(v.src.id, v.dst.id) for v in result.suppressed] == [("a/x", "b/y")]


def test_annotation_on_a_policy_that_does_not_open_the_flow_suppresses_nothing():
    """b/y is not isolated at all: the flow is allowed by default, whatever the annotated policy says."""
    other = annotate(netpol("b", "unrelated", {"matchLabels": {"app": "none"}}, ingress=[{}]), "why")
    result = check([namespace("a"), namespace("b"), pod("a", "x"), pod("b", "y"), other])
    assert {(v.src.id, v.dst.id) for v in result.violations} == {("a/x", "b/y"), ("b/y", "a/x")}
    assert result.suppressed == []


def test_egress_side_annotation_suppresses():
    objs = [
        namespace("a"),
        namespace("b"),
        pod("a", "x"),
        pod("b", "y"),
        netpol("b", "deny-out", {}, policyTypes=["Egress"]),
        netpol("a", "deny-in", {}, policyTypes=["Ingress"]),
        annotate(netpol("a", "to-b", {}, egress=[{"to": [{"namespaceSelector": {}}]}]), "a calls b's API"),
    ]
    result = check(objs)
    assert result.violations == []
    assert [(v.src.id, v.dst.id) for v in result.suppressed] == [("a/x", "b/y")]


def test_suppressed_violations_pass_the_gate_and_are_reported_in_every_format(tmp_path):
    policy = annotate(from_a("from-a"), "reporting reads b, TICKET-1")
    (tmp_path / "all.yaml").write_text(yaml.safe_dump_all(isolated_pair(policy)))
    result = run("check", ".", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["violations"] == []
    [suppressed] = data["suppressed"]
    [why] = suppressed["suppressions"]
    assert why["kind"] == "annotation" and "TICKET-1" in why["justification"] and why["file"] == "all.yaml"
    text = run("check", ".", cwd=tmp_path).stdout
    assert "SUPPRESSED cross-tenant-flow: a/x (a) -> b/y (b)" in text and "TICKET-1" in text
    md = run("check", ".", "-f", "md", cwd=tmp_path).stdout
    assert "suppressed" in md.lower() and "TICKET-1" in md


def test_empty_reason_is_an_input_error_at_the_annotation_line(tmp_path):
    manifest = tmp_path / "policy.yaml"
    manifest.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: b\n"
        f'  annotations:\n    {KEY}: "  "\nspec:\n  podSelector: {{}}\n  ingress: [{{}}]\n'
    )
    result = run("check", "policy.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert f"policy.yaml:7:5: annotation {KEY} needs a reason" in result.stderr
    assert "cannot be proven" in result.stdout  # the rest of the run is still reported


def test_unknown_netverify_annotation_is_an_input_error(tmp_path):
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump(annotate(netpol("b", "p", {}), "x") | {}).replace(KEY, "netverify.io/allow-everything")
    )
    result = run("check", "p.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "unknown annotation 'netverify.io/allow-everything'" in result.stderr


def test_contract_allow_entries_are_reported_as_suppressed_with_their_reason():
    objs = [namespace("mon", tenant="monitoring"), namespace("a", tenant="a"), pod("mon", "prom"), pod("a", "x")]
    contract = {
        "tenants": {"namespaceLabel": "tenant"},
        "allow": [
            {"from": {"tenant": "monitoring"}, "to": {"tenant": "*"}, "ports": ["9090/TCP"], "reason": "metrics"}
        ],
    }
    result = check(objs, contract)
    declared = [v for v in result.suppressed if (v.src.id, v.dst.id) == ("mon/prom", "a/x")]
    [entry] = declared
    assert str(entry.conn) == "TCP 9090" and entry.suppressions[0].kind == "contract"
    assert entry.suppressions[0].justification == "metrics"
    failing = [v for v in result.violations if (v.src.id, v.dst.id) == ("mon/prom", "a/x")]
    assert failing and not failing[0].conn.contains("TCP", 9090)


def test_contract_allow_suppression_points_at_the_contract_entry(tmp_path):
    (tmp_path / "m.yaml").write_text(
        yaml.safe_dump_all([namespace("mon"), namespace("a"), pod("mon", "prom"), pod("a", "x")])
    )
    (tmp_path / "contract.yaml").write_text(
        "allow:\n  - from: {namespace: mon}\n    to: {namespace: a}\n"
        "  - from: {namespace: a}\n    to: {namespace: mon}\n    reason: replies\n"
    )
    result = run("check", "m.yaml", "--contract", "contract.yaml", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    whys = {(v["src"], v["dst"]): v["suppressions"][0] for v in data["suppressed"]}
    assert whys[("mon/prom", "a/x")]["line"] == 2 and whys[("a/x", "mon/prom")]["line"] == 4
    assert whys[("a/x", "mon/prom")]["justification"] == "replies"
    assert whys[("mon/prom", "a/x")]["file"] == "contract.yaml"
