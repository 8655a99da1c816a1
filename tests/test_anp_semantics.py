"""One test per AdminNetworkPolicy / BaselineAdminNetworkPolicy rule (k8s-calico-anp-semantics.md §3).

Each test names the rule it checks and runs the whole pipeline on the smallest cluster that shows it, so
a regression in the loader, the compiler or the engine all surface here. The two upstream examples (the
network-policy-api conformance integration test and netpol-analyzer's `anp_with_np_pass_test`) come last.
"""

from __future__ import annotations

from typing import Any

from manifests import WEB_PORTS, deployment, labels, namespace, netpol, pod

import netverify
from netverify.load.builder import ClusterBuilder
from netverify.load.cluster_loader import load_cluster
from netverify.load.kinds.adminnetworkpolicy import check_anp_priorities, report_anp_priorities
from netverify.model.diagnostics import Severity
from netverify.model.policy import KUBE_ADMIN_TIER, KUBE_BASELINE_TIER, Action

API = "policy.networking.k8s.io/v1alpha1"


def anp(
    name: str, priority: int, subject: dict, ingress: list | None = None, egress: list | None = None
) -> dict:
    spec: dict[str, Any] = {"priority": priority, "subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": API, "kind": "AdminNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def banp(
    subject: dict, ingress: list | None = None, egress: list | None = None, name: str = "default"
) -> dict:
    spec: dict[str, Any] = {"subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": API, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def ns_subject(**kv: str) -> dict:
    return {"namespaces": {"matchLabels": kv}}


def pods_subject(ns: dict, pods: dict) -> dict:
    return {"pods": {"namespaceSelector": ns, "podSelector": pods}}


def rule(
    action: str, *peers: dict, ports: list | None = None, name: str | None = None, key: str = "from"
) -> dict:
    body: dict[str, Any] = {"action": action, key: list(peers)}
    if name is not None:
        body["name"] = name
    if ports is not None:
        body["ports"] = ports
    return body


def egress_rule(action: str, *peers: dict, ports: list | None = None, name: str | None = None) -> dict:
    return rule(action, *peers, ports=ports, name=name, key="to")


def from_ns(**kv: str) -> dict:
    return {"namespaces": {"matchLabels": kv}}


def tcp(port: int) -> dict:
    return {"portNumber": {"protocol": "TCP", "port": port}}


def base(*extra: dict) -> list[dict]:
    return [
        namespace("x", team="red"),
        namespace("y", team="blue"),
        namespace("z", team="green"),
        pod("x", "a", ports=WEB_PORTS, ip="10.1.0.1"),
        pod("x", "b", ports=WEB_PORTS, ip="10.1.0.2"),
        pod("y", "a", ports=WEB_PORTS, ip="10.2.0.1"),
        pod("z", "a", ports=WEB_PORTS, ip="10.3.0.1"),
        *extra,
    ]


def analyze(objects: list[dict] | str, cni: str = "calico"):
    return netverify.analyze(objects, cni=cni)


def ok(m, src: str, dst: str, proto: str = "TCP", port: int | None = 80) -> bool:
    return m.allowed(src, dst, proto, port)


def messages(m_or_cluster) -> list[str]:
    return [str(d) for d in m_or_cluster.diagnostics]


def errors(text: str) -> list[str]:
    return [str(d) for d in analyze(text).diagnostics if d.severity is Severity.ERROR]


# ---- ANP: precedence and rule order ------------------------------------------------------------------


def test_anp_deny_beats_networkpolicy_allow():
    allow_all = netpol("x", "allow-all", {}, ingress=[{}])
    m = analyze(
        base(allow_all, anp("deny-y", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"))]))
    )
    assert not ok(m, "y/a", "x/a") and ok(m, "z/a", "x/a")


def test_anp_allow_overrides_networkpolicy_default_deny():
    deny = netpol("x", "deny", {})
    m = analyze(base(deny, anp("allow-y", 10, ns_subject(team="red"), [rule("Allow", from_ns(team="blue"))])))
    assert ok(m, "y/a", "x/a")
    assert not ok(m, "z/a", "x/a")  # not matched by the ANP: the NetworkPolicy still isolates


def test_anp_allow_overrides_banp_deny():
    deny = banp(ns_subject(team="red"), [rule("Deny", from_ns())])
    m = analyze(base(deny, anp("allow-y", 10, ns_subject(team="red"), [rule("Allow", from_ns(team="blue"))])))
    assert ok(m, "y/a", "x/a") and not ok(m, "z/a", "x/a")


def test_lower_priority_number_wins():
    allow = anp("allow", 5, ns_subject(team="red"), [rule("Allow", from_ns(team="blue"))])
    deny = anp("deny", 10, ns_subject(team="red"), [rule("Deny", from_ns())])
    m = analyze(base(deny, allow))
    assert ok(m, "y/a", "x/a") and not ok(m, "z/a", "x/a")
    swapped = anp("allow", 20, ns_subject(team="red"), [rule("Allow", from_ns(team="blue"))])
    m = analyze(base(deny, swapped))
    assert not ok(m, "y/a", "x/a")


def test_first_matching_rule_within_one_anp_wins():
    rules = [rule("Allow", from_ns(team="blue"), ports=[tcp(80)]), rule("Deny", from_ns())]
    m = analyze(base(anp("p", 10, ns_subject(team="red"), rules)))
    assert ok(m, "y/a", "x/a", "TCP", 80)
    assert not ok(m, "y/a", "x/a", "TCP", 81) and not ok(m, "z/a", "x/a")
    reversed_rules = list(reversed(rules))
    m = analyze(base(anp("p", 10, ns_subject(team="red"), reversed_rules)))
    assert not ok(m, "y/a", "x/a", "TCP", 80)


def test_equal_priorities_are_ordered_by_name_and_warned():
    deny = anp("a-deny", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"))])
    allow = anp("b-allow", 10, ns_subject(team="red"), [rule("Allow", from_ns(team="blue"))])
    m = analyze(base(allow, deny))
    assert not ok(m, "y/a", "x/a")  # implementation-defined; netverify: by name
    cluster = load_cluster([base(allow, deny)])
    found = check_anp_priorities(cluster)
    assert [d.code for d in found] == ["ambiguous-priority"]
    assert found[0].severity is Severity.WARNING and "'a-deny', 'b-allow'" in found[0].message
    assert "priority 10" in found[0].message
    distinct = anp("b-allow", 11, ns_subject(team="red"), [rule("Allow", from_ns(team="blue"))])
    assert check_anp_priorities(load_cluster([base(distinct, deny)])) == []
    builder = ClusterBuilder(cluster=load_cluster([base(allow, deny)]))
    report_anp_priorities(builder)  # the finalizer form adds the same warning to the cluster
    assert sum(d.code == "ambiguous-priority" for d in builder.cluster.diagnostics) >= 1


def test_undecided_traffic_falls_through_to_default_allow():
    m = analyze(base(anp("p", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"))])))
    assert ok(m, "z/a", "x/a") and ok(m, "x/b", "x/a")  # an ANP isolates nothing by itself


def test_anp_with_only_egress_rules_leaves_ingress_untouched():
    policy = anp("p", 10, ns_subject(team="red"), egress=[egress_rule("Deny", from_ns(team="blue"))])
    m = analyze(base(policy))
    assert not ok(m, "x/a", "y/a")
    assert ok(m, "y/a", "x/a")  # ingress to x is unaffected
    cluster = load_cluster([base(policy)])
    (loaded,) = [p for p in cluster.policies if p.kind == "AdminNetworkPolicy"]
    assert loaded.ingress is None and loaded.egress is not None


def test_anp_egress_deny_to_namespace():
    policy = anp("p", 10, ns_subject(team="red"), egress=[egress_rule("Deny", from_ns(team="blue"))])
    m = analyze(base(netpol("y", "allow-all", {}, ingress=[{}]), policy))
    assert not ok(m, "x/a", "y/a") and ok(m, "x/a", "z/a") and ok(m, "y/a", "x/a")


# ---- Pass ----------------------------------------------------------------------------------------------


def test_anp_pass_hands_over_to_networkpolicy():
    passing = anp("p", 10, ns_subject(team="red"), [rule("Pass", from_ns(team="blue"))])
    np_allow_z = netpol("x", "allow-z", {}, ingress=[{"from": [{"namespaceSelector": labels(team="green")}]}])
    m = analyze(base(passing, np_allow_z))
    assert not ok(m, "y/a", "x/a")  # passed, and the NetworkPolicy does not allow y
    assert ok(m, "z/a", "x/a")


def test_anp_pass_skips_remaining_anps():
    passing = anp("first", 5, ns_subject(team="red"), [rule("Pass", from_ns(team="blue"))])
    deny = anp("second", 10, ns_subject(team="red"), [rule("Deny", from_ns())])
    m = analyze(base(passing, deny))
    assert ok(m, "y/a", "x/a")  # the later Deny is never consulted; no NP, no BANP: allowed
    assert not ok(m, "z/a", "x/a")


def test_anp_pass_with_no_networkpolicy_selecting_the_pod_falls_to_banp():
    passing = anp("p", 10, ns_subject(team="red"), [rule("Pass", from_ns(team="blue"))])
    baseline = banp(ns_subject(team="red"), [rule("Deny", from_ns(team="blue"))])
    m = analyze(base(passing, baseline))
    assert not ok(m, "y/a", "x/a") and ok(m, "z/a", "x/a")
    np_elsewhere = netpol("y", "deny-y", {})  # selects other pods only
    m = analyze(base(passing, baseline, np_elsewhere))
    assert not ok(m, "y/a", "x/a")


# ---- BANP ------------------------------------------------------------------------------------------------


def test_banp_applies_only_when_no_networkpolicy_selects_the_pod_in_that_direction():
    baseline = banp(
        ns_subject(team="red"),
        [rule("Deny", from_ns(team="blue"))],
        [egress_rule("Deny", from_ns(team="green"))],
    )
    m = analyze(base(baseline))
    assert not ok(m, "y/a", "x/a") and not ok(m, "x/a", "z/a")
    egress_np = netpol("x", "egress-open", {}, policyTypes=["Egress"], egress=[{}])
    m = analyze(base(baseline, egress_np))
    assert ok(m, "x/a", "z/a")  # egress: an NP selects x/a, so it decides and the BANP is skipped
    assert not ok(m, "y/a", "x/a")  # ingress: no NP selects x/a for ingress, so the BANP still applies
    ingress_np = netpol("x", "ingress-open", labels(pod="a"), ingress=[{}])
    m = analyze(base(baseline, ingress_np))
    assert ok(m, "y/a", "x/a") and not ok(m, "y/a", "x/b")


def test_banp_rules_keep_written_order():
    rules = [rule("Allow", from_ns(team="blue")), rule("Deny", from_ns())]
    m = analyze(base(banp(ns_subject(team="red"), rules)))
    assert ok(m, "y/a", "x/a") and not ok(m, "z/a", "x/a") and not ok(m, "x/b", "x/a")


def test_banp_is_the_baseline_tier_singleton():
    cluster = load_cluster([base(banp(ns_subject(), [rule("Deny", from_ns())]))])
    (loaded,) = [p for p in cluster.policies if p.kind == "BaselineAdminNetworkPolicy"]
    assert loaded.name == "default" and loaded.tier == KUBE_BASELINE_TIER and loaded.namespace is None


def test_banp_must_be_named_default():
    m = analyze(base(banp(ns_subject(), [rule("Deny", from_ns())], name="baseline")))
    assert any(
        "BaselineAdminNetworkPolicy must be named 'default' (it is a singleton)" in s for s in messages(m)
    )
    assert ok(m, "y/a", "x/a")  # rejected, so it has no effect


def test_banp_rejects_pass():
    text = f"""apiVersion: {API}
kind: BaselineAdminNetworkPolicy
metadata: {{name: default}}
spec:
  subject: {{namespaces: {{}}}}
  ingress:
  - action: Pass
    from: [{{namespaces: {{}}}}]
"""
    (message,) = errors(text)
    assert message.startswith("<string>:7:") and "spec.ingress[0].action" in message and "Pass" in message


# ---- subject ---------------------------------------------------------------------------------------------


def test_subject_namespaces_selects_every_pod_of_matching_namespaces():
    m = analyze(base(anp("p", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"))])))
    assert not ok(m, "y/a", "x/a") and not ok(m, "y/a", "x/b") and ok(m, "y/a", "z/a")


def test_subject_pods_selects_by_namespace_and_pod_selector():
    subject = pods_subject(labels(team="red"), labels(pod="a"))
    m = analyze(base(anp("p", 10, subject, [rule("Deny", from_ns(team="blue"))])))
    assert not ok(m, "y/a", "x/a") and ok(m, "y/a", "x/b") and ok(m, "y/a", "z/a")


def test_pods_peer_selects_by_namespace_and_pod_selector():
    peer = {"pods": {"namespaceSelector": labels(team="red"), "podSelector": labels(pod="b")}}
    m = analyze(base(anp("p", 10, ns_subject(team="blue"), [rule("Deny", peer)])))
    assert not ok(m, "x/b", "y/a") and ok(m, "x/a", "y/a") and ok(m, "z/a", "y/a")


def test_rules_are_named_and_positioned():
    text = f"""apiVersion: {API}
kind: AdminNetworkPolicy
metadata: {{name: p}}
spec:
  priority: 7
  subject: {{namespaces: {{}}}}
  ingress:
  - action: Deny
    from: [{{namespaces: {{}}}}]
  - name: allow-from-monitoring
    action: Allow
    from: [{{namespaces: {{}}}}]
"""
    cluster = load_cluster([text])
    (policy,) = cluster.policies
    assert policy.tier == KUBE_ADMIN_TIER and policy.order == 7.0 and policy.name == "p"
    assert policy.egress is None and policy.ingress is not None
    first, second = policy.ingress
    assert first.name == "ingress[0]" and first.action is Action.DENY and first.source.line == 8
    assert second.name == "ingress[1] (allow-from-monitoring)" and second.source.line == 10


# ---- peers: networks, nodes, domainNames --------------------------------------------------------------


def test_anp_networks_match_pod_ips():
    deny = anp("p", 10, ns_subject(team="red"), egress=[egress_rule("Deny", {"networks": ["10.2.0.0/16"]})])
    for cni in ("calico", "cilium"):  # whatever the profile says about NetworkPolicy ipBlocks
        m = analyze(base(deny), cni=cni)
        assert not ok(m, "x/a", "y/a") and ok(m, "x/a", "z/a")


def test_anp_networks_match_external_addresses():
    deny = anp("p", 10, ns_subject(team="red"), egress=[egress_rule("Deny", {"networks": ["8.8.8.0/24"]})])
    m = analyze(base(deny))
    assert not ok(m, "x/a", "8.8.8.8", "UDP", 53) and ok(m, "x/a", "1.1.1.1", "UDP", 53)


def _node(name: str, address: str, **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {"addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}]},
    }


def test_nodes_peer_matches_the_addresses_of_matching_nodes():
    policy = anp(
        "p",
        10,
        ns_subject(team="red"),
        egress=[egress_rule("Deny", {"nodes": {"matchLabels": {"role": "control-plane"}}})],
    )
    nodes = [_node("cp-1", "192.0.2.10", role="control-plane"), _node("worker-1", "192.0.2.20", role="worker")]
    m = analyze(base(policy, *nodes))
    assert not ok(m, "x/a", "192.0.2.10", "TCP", 6443)
    assert ok(m, "x/a", "192.0.2.20", "TCP", 10250) and ok(m, "x/a", "192.0.2.11", "TCP", 6443)
    assert ok(m, "y/a", "192.0.2.10", "TCP", 6443)  # y is not a subject


def test_nodes_peer_without_node_objects_matches_no_address():
    policy = anp("p", 10, ns_subject(team="red"), egress=[egress_rule("Deny", {"nodes": {}})])
    m = analyze(base(policy))
    assert ok(m, "x/a", "y/a") and ok(m, "x/a", "8.8.8.8")  # a Deny that matches nothing hides no flow
    assert any("no Node objects" in d.message for d in m.diagnostics)


def test_domain_names_peer_is_unsupported_and_matches_nothing():
    policy = anp(
        "p",
        10,
        ns_subject(team="red"),
        egress=[
            egress_rule("Allow", {"domainNames": ["*.example.com"]}),
            egress_rule("Deny", {"networks": ["0.0.0.0/0"]}),
        ],
    )
    m = analyze(base(policy))
    assert any(d.code == "unsupported-field" and "domainNames" in d.message for d in m.diagnostics)
    assert not ok(m, "x/a", "8.8.8.8") and not ok(m, "x/a", "y/a")


# ---- ports -----------------------------------------------------------------------------------------------


def test_missing_ports_match_every_protocol_and_port():
    m = analyze(base(anp("p", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"))])))
    assert not ok(m, "y/a", "x/a", "UDP", 53) and not ok(m, "y/a", "x/a", "SCTP", 80)
    assert not ok(m, "y/a", "x/a", "ICMP", None)


def test_port_number_protocol_defaults_to_tcp():
    rules = [rule("Deny", from_ns(team="blue"), ports=[{"portNumber": {"port": 80}}])]
    m = analyze(base(anp("p", 10, ns_subject(team="red"), rules)))
    assert not ok(m, "y/a", "x/a", "TCP", 80)
    assert ok(m, "y/a", "x/a", "TCP", 81) and ok(m, "y/a", "x/a", "SCTP", 80)


def test_port_range_is_inclusive():
    ports = [{"portRange": {"protocol": "UDP", "start": 50, "end": 53}}]
    m = analyze(base(anp("p", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"), ports=ports)])))
    assert not ok(m, "y/a", "x/a", "UDP", 50) and not ok(m, "y/a", "x/a", "UDP", 53)
    assert ok(m, "y/a", "x/a", "UDP", 54) and ok(m, "y/a", "x/a", "TCP", 53)


def test_named_port_matches_the_name_with_any_protocol():
    ports = [{"namedPort": "dns"}]  # WEB_PORTS: dns = 53/UDP, http = 80/TCP
    m = analyze(base(anp("p", 10, ns_subject(team="red"), [rule("Deny", from_ns(team="blue"), ports=ports)])))
    assert not ok(m, "y/a", "x/a", "UDP", 53)
    assert ok(m, "y/a", "x/a", "TCP", 53) and ok(m, "y/a", "x/a", "TCP", 80)
    egress = anp(
        "e",
        10,
        ns_subject(team="red"),
        egress=[egress_rule("Deny", from_ns(team="blue"), ports=[{"namedPort": "sctp"}])],
    )
    m = analyze(base(egress))
    assert not ok(m, "x/a", "y/a", "SCTP", 80) and ok(m, "x/a", "y/a", "TCP", 80)


# ---- validation ------------------------------------------------------------------------------------------


def anp_text(
    priority: str = "10", subject: str = "{namespaces: {}}", ingress: str = "", egress: str = ""
) -> str:
    text = f"""apiVersion: {API}
kind: AdminNetworkPolicy
metadata: {{name: p}}
spec:
  priority: {priority}
  subject: {subject}
"""
    if ingress:
        text += f"  ingress:\n{ingress}"
    if egress:
        text += f"  egress:\n{egress}"
    return text


def test_priority_must_be_between_0_and_1000():
    (message,) = errors(anp_text(priority="1001"))
    assert message.startswith("<string>:5:") and "spec.priority" in message and "at most 1000" in message
    (message,) = errors(anp_text(priority="-1"))
    assert "at least 0" in message
    assert errors(anp_text(priority="0")) == [] and errors(anp_text(priority="1000")) == []


def test_subject_needs_exactly_one_kind():
    (message,) = errors(anp_text(subject="{}"))
    assert message.startswith("<string>:6:") and "exactly one of namespaces, pods (found none)" in message
    both = "{namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}"
    (message,) = errors(anp_text(subject=both))
    assert "found namespaces and pods" in message


def test_bad_action_is_rejected_with_its_line():
    (message,) = errors(anp_text(ingress="  - action: Drop\n    from: [{namespaces: {}}]\n"))
    assert message.startswith("<string>:8:") and "spec.ingress[0].action" in message and "'Drop'" in message


def test_empty_peer_is_rejected():
    (message,) = errors(anp_text(ingress="  - action: Deny\n    from: [{}]\n"))
    assert (
        message.startswith("<string>:9:") and "spec.ingress[0].from[0]" in message and "found none" in message
    )


def test_ingress_peer_cannot_use_networks():
    (message,) = errors(anp_text(ingress="  - action: Deny\n    from: [{networks: [10.0.0.0/8]}]\n"))
    assert "unknown field" in message and "spec.ingress[0].from[0].networks" in message


def test_more_than_100_rules_are_rejected():
    rules = "  - action: Deny\n    from: [{namespaces: {}}]\n" * 101
    (message,) = errors(anp_text(ingress=rules))
    assert message.startswith("<string>:7:") and "at most 100" in message


def test_invalid_cidr_in_networks_is_rejected():
    egress = "  - action: Deny\n    to:\n    - networks: [10.0.0.0/8, 10.0.0.0/33]\n"
    (message,) = errors(anp_text(egress=egress))
    assert (
        message.startswith("<string>:10:")
        and "networks[1]" in message
        and "invalid CIDR '10.0.0.0/33'" in message
    )


def test_more_than_25_networks_are_rejected():
    cidrs = ", ".join(f"10.{i}.0.0/16" for i in range(26))
    (message,) = errors(anp_text(egress=f"  - action: Deny\n    to: [{{networks: [{cidrs}]}}]\n"))
    assert "networks" in message and "at most 25" in message


def test_port_range_start_after_end_is_rejected():
    ingress = (
        "  - action: Deny\n    from: [{namespaces: {}}]\n    ports:\n    - portRange: {start: 90, end: 80}\n"
    )
    (message,) = errors(anp_text(ingress=ingress))
    assert message.startswith("<string>:11:") and "start 90 is greater than end 80" in message


def test_port_needs_exactly_one_kind_and_named_port_not_with_networks():
    ports = "    ports: [{portNumber: {port: 80}, namedPort: http}]\n"
    ingress = "  - action: Deny\n    from: [{namespaces: {}}]\n" + ports
    (message,) = errors(anp_text(ingress=ingress))
    assert "found portNumber and namedPort" in message
    egress = "  - action: Deny\n    to: [{networks: [10.0.0.0/8]}]\n    ports: [{namedPort: http}]\n"
    (message,) = errors(anp_text(egress=egress))
    assert "cannot be combined with namedPort" in message


# ---- upstream examples -----------------------------------------------------------------------------------

GRYFFINDOR = "network-policy-conformance-gryffindor"
SLYTHERIN = "network-policy-conformance-slytherin"
HUFFLEPUFF = "network-policy-conformance-hufflepuff"
HOUSE_PORTS = [(80, "TCP"), (8080, "TCP"), (53, "UDP"), (5353, "UDP"), (9003, "SCTP"), (9005, "SCTP")]


def hogwarts(*extra: dict) -> list[dict]:
    return [
        namespace(GRYFFINDOR, **{"conformance-house": "gryffindor"}),
        namespace(SLYTHERIN, **{"conformance-house": "slytherin"}),
        namespace(HUFFLEPUFF, **{"conformance-house": "hufflepuff"}),
        pod(GRYFFINDOR, "harry-potter", ports=HOUSE_PORTS),
        pod(SLYTHERIN, "draco-malfoy", ports=HOUSE_PORTS),
        pod(HUFFLEPUFF, "cedric-diggory", ports=HOUSE_PORTS),
        *extra,
    ]


def integration_policies(anp_action: str, with_np: bool = True) -> list[dict]:
    """conformance/base/api_integration/standard-anp-np-banp.yaml (v1alpha1, network-policy-api 40eeb18)."""
    slytherin = {"namespaces": {"matchLabels": {"conformance-house": "slytherin"}}}
    subject = {"namespaces": {"matchLabels": {"conformance-house": "gryffindor"}}}
    policies = [
        anp(
            "pass-example",
            10,
            subject,
            [rule(anp_action, slytherin, name="deny-all-ingress-from-slytherin")],
            [egress_rule(anp_action, slytherin, name="deny-all-egress-to-slytherin")],
        ),
        banp(
            subject,
            [rule("Deny", slytherin, name="deny-all-ingress-from-slytherin")],
            [egress_rule("Deny", slytherin, name="deny-all-egress-to-slytherin")],
        ),
    ]
    if with_np:
        from_slytherin = [{"namespaceSelector": labels(**{"conformance-house": "slytherin"})}]
        policies.append(
            netpol(
                GRYFFINDOR,
                "allow-gress-from-to-slytherin-to-gryffindor",
                None,
                policyTypes=["Ingress", "Egress"],
                ingress=[{"from": from_slytherin}],
                egress=[{"to": from_slytherin}],
            )
        )
    return policies


def test_conformance_integration_anp_deny_wins():
    m = analyze(hogwarts(*integration_policies("Deny")))
    harry, draco = f"{GRYFFINDOR}/harry-potter", f"{SLYTHERIN}/draco-malfoy"
    for proto, port in (("TCP", 80), ("TCP", 8080), ("UDP", 53), ("SCTP", 9003)):
        assert not ok(m, draco, harry, proto, port) and not ok(m, harry, draco, proto, port)


def test_conformance_integration_anp_pass_lets_networkpolicy_allow():
    m = analyze(hogwarts(*integration_policies("Pass")))
    harry, draco = f"{GRYFFINDOR}/harry-potter", f"{SLYTHERIN}/draco-malfoy"
    for proto, port in (("TCP", 80), ("UDP", 5353), ("SCTP", 9005)):
        assert ok(m, draco, harry, proto, port) and ok(m, harry, draco, proto, port)
    cedric = f"{HUFFLEPUFF}/cedric-diggory"
    assert not ok(m, cedric, harry) and not ok(m, harry, cedric)  # the NP isolates gryffindor both ways


def test_conformance_integration_without_networkpolicy_banp_deny_wins():
    m = analyze(hogwarts(*integration_policies("Pass", with_np=False)))
    harry, draco = f"{GRYFFINDOR}/harry-potter", f"{SLYTHERIN}/draco-malfoy"
    assert not ok(m, draco, harry) and not ok(m, harry, draco, "UDP", 53)
    cedric = f"{HUFFLEPUFF}/cedric-diggory"
    assert ok(m, cedric, harry) and ok(m, harry, cedric)


def test_netpol_analyzer_anp_with_np_pass_test():
    """np-guard/netpol-analyzer tests/anp_with_np_pass_test: `ns2/pod1 => ns1/pod1 : TCP 80,UDP 80`."""
    ns2_pod1 = {
        "pods": {
            "namespaceSelector": labels(**{"kubernetes.io/metadata.name": "ns2"}),
            "podSelector": labels(app="a-app"),
        }
    }
    policy = anp(
        "pass-example-with-np",
        10,
        {
            "pods": {
                "namespaceSelector": labels(**{"kubernetes.io/metadata.name": "ns1"}),
                "podSelector": labels(app="a-app"),
            }
        },
        [
            rule("Allow", ns2_pod1, name="allow-tcp-80-from-ns2-pod1", ports=[tcp(80)]),
            rule(
                "Pass",
                ns2_pod1,
                name="pass-tcp81-udp80-81-conns-from-ns2-pod1",
                ports=[
                    {"portNumber": {"protocol": "UDP", "port": 80}},
                    {"portNumber": {"protocol": "UDP", "port": 81}},
                    {"portNumber": {"protocol": "TCP", "port": 81}},
                ],
            ),
        ],
    )
    np_ = netpol(
        "ns1",
        "allow-ingress-from-ns2-pod1",
        {},
        policyTypes=["Ingress", "Egress"],
        ingress=[
            {
                "from": [
                    {
                        "namespaceSelector": labels(**{"kubernetes.io/metadata.name": "ns2"}),
                        "podSelector": labels(app="a-app"),
                    }
                ],
                "ports": [{"port": 80, "protocol": "UDP"}],
            }
        ],
    )
    objects = [
        namespace("ns1"),
        namespace("ns2"),
        deployment("ns1", "pod1", {"app": "a-app"}),
        deployment("ns2", "pod1", {"app": "a-app"}),
        policy,
        np_,
    ]
    m = analyze(objects)
    assert [d for d in m.diagnostics if d.severity is Severity.ERROR] == []
    assert m.conn("ns2/pod1", "ns1/pod1").to_json() == {"TCP": [[80, 80]], "UDP": [[80, 80]]}
    assert m.conn("ns1/pod1", "ns2/pod1").is_empty  # the NP isolates ns1 egress with no egress rules
    assert m.conn("ns2/pod1", "8.8.8.8").to_json() == "all"
    assert not ok(m, "ns1/pod1", "8.8.8.8") and ok(m, "8.8.8.8", "ns2/pod1")
