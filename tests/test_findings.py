"""Findings that need no contract: each rule proven on a fixture, and kept honest on random clusters by
removing what a finding calls dead and checking that connectivity does not change."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from manifests import namespace, netpol, pod
from test_engine_vs_reference import EXTERNAL_PROBES, clusters
from test_engine_vs_reference_ordered import ordered_clusters

from netverify.load.cluster_loader import load_cluster
from netverify.model.cluster import Cluster
from netverify.pipeline import analyze_cluster
from netverify.verify.findings import PolicyIssue, diagnose_policies

ROOT = Path(__file__).resolve().parent.parent
GATE = ROOT / "fixtures" / "gate"


def issues(manifests: list[dict], cni: str = "calico") -> list[tuple[str, str, str | None]]:
    matrix = analyze_cluster(load_cluster([manifests]), cni)
    return [(i.code, i.policy.name, i.rule.name if i.rule else None) for i in diagnose_policies(matrix.compiled)]


def line_of(path: Path, needle: str, after: str) -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, text in enumerate(lines) if after in text)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


# ------------------------------------------------------------------------------------------- fixture


def gate_findings() -> dict[tuple[str, int], dict]:
    result = subprocess.run(
        [sys.executable, "-m", "netverify", "check", "fixtures/gate", "-f", "json", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # the fixture's leak, not the findings, sets the exit code
    return {(f["rule"], f["line"]): f for f in json.loads(result.stdout)["findings"]}


def test_fixture_reports_each_finding_at_its_policy_or_rule():
    found = gate_findings()
    shop, billing = GATE / "shop.yaml", GATE / "billing.yaml"
    expected = {
        ("policy-selects-nothing", line_of(shop, "apiVersion", "# Selects nothing")),
        ("rule-never-matches", line_of(shop, "- to:", "never matches: no pod is labelled app=cache")),
        ("rule-never-matches", line_of(shop, "- ports:", "never matches: no destination defines")),
        ("policy-shadowed", line_of(billing, "apiVersion", "# Redundant")),
        ("unreachable-deny", line_of(billing, "- action: Deny", "name: ledger-ssh")),
    }
    assert set(found) == expected
    assert all(f["severity"] == "warning" for f in found.values())
    assert {f["file"] for f in found.values()} == {"fixtures/gate/shop.yaml", "fixtures/gate/billing.yaml"}


def test_findings_alone_never_fail_the_check(tmp_path):
    (tmp_path / "p.yaml").write_text(json.dumps(netpol("a", "nothing", {"matchLabels": {"app": "none"}})))
    result = subprocess.run(
        [sys.executable, "-m", "netverify", "check", "p.yaml", "-f", "json", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["policy-selects-nothing"]


# ------------------------------------------------------------------------------------------- rules

BASE = [namespace("a"), namespace("b"), pod("a", "web", {"app": "web"}, [(80, "TCP", "http")]), pod("b", "x")]


def test_policy_selects_nothing():
    assert ("policy-selects-nothing", "a/ghost", None) in issues(
        [*BASE, netpol("a", "ghost", {"matchLabels": {"app": "ghost"}}, ingress=[{}])]
    )


def test_rule_never_matches_when_its_peer_selects_nothing():
    rule = {"from": [{"podSelector": {"matchLabels": {"app": "ghost"}}}]}
    assert issues([*BASE, netpol("a", "p", {}, ingress=[rule, {}])]) == [("rule-never-matches", "a/p", "ingress[0]")]


def test_rule_never_matches_when_no_destination_has_its_named_port():
    found = issues([*BASE, netpol("a", "p", {}, ingress=[{"ports": [{"port": "metrics"}]}, {}])])
    assert ("rule-never-matches", "a/p", "ingress[0]") in found
    assert ("rule-never-matches", "a/p", "ingress[0]") not in issues(
        [*BASE, netpol("a", "p", {}, ingress=[{"ports": [{"port": "http"}]}, {}])]
    )


def test_egress_named_port_resolves_on_the_peer():
    to_web = {"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}
    to_x = {"to": [{"podSelector": {"matchLabels": {"pod": "x"}}}], "ports": [{"port": "http"}]}
    found = issues([*BASE, netpol("a", "p", {}, egress=[to_web]), netpol("b", "q", {}, egress=[to_x])])
    assert ("rule-never-matches", "b/q", "egress[0]") in found
    assert ("rule-never-matches", "a/p", "egress[0]") not in found


def test_policy_shadowed_by_a_broader_policy_whatever_their_order():
    narrow = netpol("a", "a-narrow", {}, ingress=[{"ports": [{"port": 80}]}])
    broad = netpol("a", "z-broad", {}, ingress=[{}])
    assert issues([*BASE, narrow, broad]) == [("policy-shadowed", "a/a-narrow", None)]


def test_identical_policies_are_each_redundant():
    one = netpol("a", "one", {}, ingress=[{"ports": [{"port": 80}]}])
    two = netpol("a", "two", {}, ingress=[{"ports": [{"port": 80}]}])
    assert sorted(issues([*BASE, one, two])) == [("policy-shadowed", "a/one", None), ("policy-shadowed", "a/two", None)]


def test_policy_that_alone_isolates_its_pods_is_not_shadowed():
    """It allows nothing the default would not, but without it web is not isolated any more."""
    assert issues([*BASE, netpol("a", "only", {}, ingress=[{"ports": [{"port": 80}]}])]) == []


def test_isolation_only_policy_is_never_called_redundant():
    """Removing the default deny changes nothing today (allow selects the same pods), but it is there for
    pods that do not exist yet."""
    deny = netpol("a", "default-deny", {}, policyTypes=["Ingress"])
    allow = netpol("a", "allow", {}, ingress=[{}])
    assert issues([*BASE, deny, allow]) == []


def test_partly_covered_policy_is_not_shadowed():
    p80 = netpol("a", "p80", {}, ingress=[{"ports": [{"port": 80}, {"port": 81}]}])
    p81 = netpol("a", "p81", {}, ingress=[{"ports": [{"port": 81}]}])
    assert issues([*BASE, p80, p81]) == [("policy-shadowed", "a/p81", None)]


def calico(name: str, order: int, rules: list[dict], selector: str = "all()") -> dict:
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"order": order, "selector": selector, "types": ["Ingress"], "ingress": rules},
    }


def test_unreachable_deny_after_an_allow_of_the_same_traffic():
    rules = [
        {"action": "Allow", "protocol": "TCP"},
        {"action": "Deny", "protocol": "TCP", "destination": {"ports": [22]}},
    ]
    assert ("unreachable-deny", "p", "ingress[1]") in issues([*BASE, calico("p", 10, rules)])


def test_deny_before_the_allow_is_reachable():
    rules = [
        {"action": "Deny", "protocol": "TCP", "destination": {"ports": [22]}},
        {"action": "Allow", "protocol": "TCP"},
    ]
    assert not [i for i in issues([*BASE, calico("p", 10, rules)]) if i[0] == "unreachable-deny"]


def test_deny_in_a_later_policy_shadowed_by_an_earlier_policy():
    first = calico("first", 10, [{"action": "Allow"}])
    later = calico("later", 20, [{"action": "Deny", "protocol": "UDP"}])
    found = issues([*BASE, first, later])
    assert ("unreachable-deny", "later", "ingress[0]") in found and ("policy-shadowed", "later", None) in found


# ------------------------------------------------------------------------------------------- property


def without(cluster: Cluster, issue: PolicyIssue) -> Cluster:
    """The cluster without the policy (or rule) the issue calls dead; the policy's selection stays when
    only a rule goes."""
    policies = []
    for policy in cluster.policies:
        if policy is not issue.policy:
            policies.append(policy)
        elif issue.rule is not None:
            keep = {
                name: None if rules is None else tuple(r for r in rules if r is not issue.rule)
                for name, rules in (("ingress", policy.ingress), ("egress", policy.egress))
            }
            policies.append(dataclasses.replace(policy, **keep))
    return dataclasses.replace(cluster, policies=policies)


def connectivity(cluster: Cluster, cni: str) -> dict:
    matrix = analyze_cluster(cluster, cni)
    ends = [e.id for e in matrix.workload_endpoints()]
    table = {}
    for src in ends:
        for dst in ends + EXTERNAL_PROBES:
            try:
                table[(src, dst)] = matrix.conn(src, dst).to_json()
            except KeyError:  # an address family no input mentions
                continue
        for ip in EXTERNAL_PROBES:
            try:
                table[(ip, src)] = matrix.conn(ip, src).to_json()
            except KeyError:
                continue
    return table


def assert_findings_are_dead_code(manifests: list[dict], cni: str) -> None:
    cluster = load_cluster([manifests])
    assert not cluster.errors, cluster.errors
    found = diagnose_policies(analyze_cluster(cluster, cni).compiled)
    if not found:
        return
    before = connectivity(cluster, cni)
    for issue in found:
        assert connectivity(without(cluster, issue), cni) == before, (issue.code, issue.policy.name, issue.rule)


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(clusters())
def test_removing_what_a_finding_calls_dead_changes_no_kubernetes_flow(manifests):
    assert_findings_are_dead_code(manifests, "calico")


@SETTINGS
@given(ordered_clusters())
def test_removing_what_a_finding_calls_dead_changes_no_ordered_flow(manifests):
    assert_findings_are_dead_code(manifests, "calico")


@st.composite
def clusters_with_overlapping_policies(draw):
    """Random clusters plus a copy of one policy, under a name that sorts before or after it, with some of
    its rules dropped: redundancy (and its order independence) is then common, not rare."""
    manifests = draw(clusters())
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    if not policies:
        return manifests
    copy = json.loads(json.dumps(draw(st.sampled_from(policies))))
    copy["metadata"]["name"] = draw(st.sampled_from(["a-copy", "zz-copy"])) + copy["metadata"]["name"]
    for direction in ("ingress", "egress"):
        rules = copy["spec"].get(direction)
        if rules:
            copy["spec"][direction] = draw(st.lists(st.sampled_from(rules), max_size=len(rules), unique_by=id))
    return [*manifests, copy]


@SETTINGS
@given(clusters_with_overlapping_policies())
def test_removing_a_policy_reported_redundant_beside_its_copy_changes_no_flow(manifests):
    assert_findings_are_dead_code(manifests, "calico")
