"""One test per Calico host-endpoint rule (reference/k8s-calico-anp-semantics.md §4.1-§4.3): HostEndpoint,
Profile, failsafe ports, preDNAT and doNotTrack policy, and how other kinds' selectors and address rules see
a host endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from calico_manifests import cnp, gnp, tier
from manifests import namespace, netpol, pod

import netverify
from netverify.report.matrix_formats import MatrixView, render_json

NODE_IP = "192.168.0.10"
OTHER_NODE_IP = "192.168.0.11"
DEFAULT_ALLOW = "projectcalico-default-allow"


def hep(name: str, ips: list[str] | None = None, labels: dict[str, str] | None = None,
        profiles: list[str] | None = None, ports: list[dict] | None = None,
        api: str = "projectcalico.org/v3") -> dict[str, Any]:
    spec: dict[str, Any] = {"node": "node1", "interfaceName": "eth0"}
    if ips is not None:
        spec["expectedIPs"] = ips
    if profiles is not None:
        spec["profiles"] = profiles
    if ports is not None:
        spec["ports"] = ports
    return {"apiVersion": api, "kind": "HostEndpoint", "metadata": {"name": name, "labels": labels or {}},
            "spec": spec}


def profile(name: str, ingress=None, egress=None, labels_to_apply=None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if labels_to_apply is not None:
        spec["labelsToApply"] = labels_to_apply
    return {"apiVersion": "projectcalico.org/v3", "kind": "Profile", "metadata": {"name": name}, "spec": spec}


def base(*extra):
    return [
        namespace("x", env="prod"),
        namespace("y", env="dev"),
        pod("x", "a", labels={"app": "web"}, ip="10.1.0.1"),
        pod("y", "b", labels={"app": "client"}, ip="10.2.0.2"),
        *extra,
    ]


def run(*extra, cni: str = "calico"):
    m = netverify.analyze(base(*extra), cni=cni)
    assert not m.compiled.cluster.errors, m.compiled.cluster.errors
    return m


def allow_tcp(port: int, **extra: Any) -> dict[str, Any]:
    return {"action": "Allow", "protocol": "TCP", "destination": {"ports": [port]}, **extra}


def test_host_endpoint_without_policy_or_profile_is_default_deny():
    m = run(hep("node1-eth0", [NODE_IP]))
    assert not m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert not m.allowed("node1-eth0", "x/a", "TCP", 80)  # the host's own egress is denied too
    assert not m.allowed("203.0.113.9", "node1-eth0", "TCP", 443)
    assert m.allowed("x/a", "y/b", "TCP", 80)  # pods keep their default allow


def test_failsafe_ports_are_allowed_with_no_policy():
    m = run(hep("node1-eth0", [NODE_IP]))
    for protocol, port in [("TCP", 22), ("UDP", 68), ("TCP", 179), ("TCP", 2379), ("TCP", 6443), ("TCP", 6667)]:
        assert m.allowed("203.0.113.9", "node1-eth0", protocol, port), (protocol, port)
    for protocol, port in [("UDP", 53), ("UDP", 67), ("TCP", 179), ("TCP", 5473), ("TCP", 6666)]:
        assert m.allowed("node1-eth0", "203.0.113.9", protocol, port), (protocol, port)
    assert not m.allowed("node1-eth0", "203.0.113.9", "TCP", 22)  # 22 is inbound-only failsafe
    assert not m.allowed("203.0.113.9", "node1-eth0", "UDP", 53)  # 53 is outbound-only failsafe


def test_failsafe_ports_come_before_every_policy():
    deny_all = gnp("deny-hosts", 1, selector="role == 'node'", ingress=[{"action": "Deny"}],
                   egress=[{"action": "Deny"}])
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}), deny_all)
    assert m.allowed("x/a", "node1-eth0", "TCP", 22)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 80)


def test_projectcalico_default_allow_profile_allows_everything():
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]))
    assert m.conn("x/a", "node1-eth0").is_all
    assert m.conn("node1-eth0", "x/a").is_all
    assert m.conn("203.0.113.9", "node1-eth0").is_all


def test_user_profile_rules_and_labels_to_apply():
    dmz = profile("dmz", ingress=[allow_tcp(8080)], labels_to_apply={"zone": "dmz", "role": "from-profile"})
    policy = gnp("dmz-hosts", 1, selector="zone == 'dmz'", ingress=[allow_tcp(9090), {"action": "Pass"}])
    m = run(
        hep("node1-eth0", [NODE_IP], {"role": "own"}, profiles=["dmz"]),
        hep("node2-eth0", [OTHER_NODE_IP], profiles=[DEFAULT_ALLOW]),
        dmz,
        policy,
    )
    assert m.allowed("x/a", "node1-eth0", "TCP", 9090)  # the GNP selects the applied label
    assert m.allowed("x/a", "node1-eth0", "TCP", 8080)  # passed on to the profile, which allows it
    assert not m.allowed("x/a", "node1-eth0", "TCP", 7070)  # no profile matched: dropped
    labels = m.compiled.cluster.host_endpoints["node1-eth0"].labels
    assert labels == {"zone": "dmz", "role": "own"}  # the endpoint's own labels win
    # node2 does not list the profile: not selected by the GNP, so its own profile decides everything
    assert m.conn("x/a", "node2-eth0").is_all


def test_profiles_are_evaluated_in_each_endpoints_listed_order():
    deny80 = profile("deny80", ingress=[{"action": "Deny", "protocol": "TCP", "destination": {"ports": [80]}}])
    m = run(
        hep("first-deny", [NODE_IP], profiles=["deny80", DEFAULT_ALLOW]),
        hep("first-allow", [OTHER_NODE_IP], profiles=[DEFAULT_ALLOW, "deny80"]),
        deny80,
    )
    assert not m.allowed("x/a", "first-deny", "TCP", 80) and m.allowed("x/a", "first-deny", "TCP", 443)
    assert m.allowed("x/a", "first-allow", "TCP", 80)


def test_undefined_profile_matches_nothing_and_is_reported():
    m = run(hep("node1-eth0", [NODE_IP], profiles=["missing", DEFAULT_ALLOW]))
    assert m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert any(d.code == "undefined-profile" for d in m.diagnostics)


def test_kubernetes_namespace_profiles_load_without_changing_pods():
    kns = profile("kns.x", ingress=[{"action": "Allow"}], egress=[{"action": "Allow"}],
                  labels_to_apply={"pcns.env": "prod"})
    ksa = profile("ksa.x.default", labels_to_apply={"pcsa.team": "a"})
    m = run(kns, ksa)
    assert m.conn("y/b", "x/a").is_all and m.conn("x/a", "y/b").is_all


def test_gnp_selects_host_endpoint_by_label():
    policy = gnp("nodes", 1, selector="role == 'node'", ingress=[allow_tcp(80)])
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}), hep("node2-eth0", [OTHER_NODE_IP]), policy)
    assert m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert not m.allowed("x/a", "node2-eth0", "TCP", 80)


def test_gnp_namespace_selector_global_selects_host_endpoints_and_all_does_not():
    hosts = gnp("hosts", 1, namespaceSelector="global()", ingress=[allow_tcp(80)])
    m = run(hep("node1-eth0", [NODE_IP]), hosts)
    assert m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert m.allowed("y/b", "x/a", "TCP", 443)  # global() does not select pods
    namespaced = gnp("namespaced", 1, namespaceSelector="all()", ingress=[allow_tcp(80)])
    m = run(hep("node1-eth0", [NODE_IP]), namespaced)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert not m.allowed("y/b", "x/a", "TCP", 443)


def test_rule_namespace_selector_sees_a_host_endpoint_as_having_no_namespace_labels():
    def from_namespaces(selector: str) -> dict:
        return gnp("p", 1, selector="app == 'web'", ingress=[
            {"action": "Allow", "source": {"namespaceSelector": selector}}
        ])

    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), from_namespaces("!has(team)"))
    assert m.allowed("node1-eth0", "x/a", "TCP", 80) and m.allowed("y/b", "x/a", "TCP", 80)
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), from_namespaces("has(kubernetes.io/metadata.name)"))
    assert not m.allowed("node1-eth0", "x/a", "TCP", 80) and m.allowed("y/b", "x/a", "TCP", 80)


def test_host_endpoint_has_no_pod_pseudo_labels():
    policy = gnp("pods-only", 1, selector="has(projectcalico.org/namespace)", ingress=[allow_tcp(80)])
    m = run(hep("node1-eth0", [NODE_IP]), policy)
    assert not m.allowed("y/b", "node1-eth0", "TCP", 80)


def test_namespaced_calico_network_policy_never_selects_a_host_endpoint():
    deny = cnp("x", "deny-all", 1, selector="all()", ingress=[{"action": "Deny"}])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), deny)
    assert m.allowed("y/b", "node1-eth0", "TCP", 80)
    assert not m.allowed("y/b", "x/a", "TCP", 80)


def test_namespaced_calico_rule_sees_host_endpoints_only_through_global():
    same_namespace = cnp("x", "from-all", 1, ingress=[{"action": "Allow", "source": {"selector": "all()"}}])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), same_namespace)
    assert not m.allowed("node1-eth0", "x/a", "TCP", 80)
    from_global = cnp("x", "from-global", 1, ingress=[
        {"action": "Allow", "source": {"namespaceSelector": "global()", "selector": "all()"}}
    ])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), from_global)
    assert m.allowed("node1-eth0", "x/a", "TCP", 80)
    assert not m.allowed("y/b", "x/a", "TCP", 80)


def test_kubernetes_network_policy_never_selects_a_host_endpoint():
    isolate = netpol("x", "isolate", {}, policyTypes=["Ingress", "Egress"])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), isolate)
    assert m.allowed("y/b", "node1-eth0", "TCP", 80)  # not isolated by the namespace's policy
    from_all_namespaces = netpol("x", "from-all", {}, ingress=[{"from": [{"namespaceSelector": {}}]}])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), from_all_namespaces)
    assert m.allowed("y/b", "x/a", "TCP", 80)
    assert not m.allowed("node1-eth0", "x/a", "TCP", 80)  # a namespaceSelector peer is pods only


@pytest.mark.parametrize("cni", ["calico", "cilium"])
def test_ipblock_and_nets_match_host_endpoint_expected_ips(cni):
    egress_to_node = netpol("x", "to-node", {}, policyTypes=["Egress"],
                            egress=[{"to": [{"ipBlock": {"cidr": f"{NODE_IP}/32"}}]}])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), egress_to_node, cni=cni)
    assert m.allowed("x/a", "node1-eth0", "TCP", 80)  # a host address is not a pod IP
    assert not m.allowed("x/a", "y/b", "TCP", 80)
    from_node = gnp("from-node", 1, selector="app == 'web'",
                    ingress=[{"action": "Allow", "source": {"nets": [f"{NODE_IP}/32"]}}])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), from_node, cni=cni)
    assert m.allowed("node1-eth0", "x/a", "TCP", 80)
    assert not m.allowed("y/b", "x/a", "TCP", 80)


def test_host_endpoint_named_ports_resolve_in_rules():
    policy = gnp("metrics", 1, selector="role == 'node'", ingress=[
        {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["node-exporter"]}}
    ])
    port = {"name": "node-exporter", "port": 9100, "protocol": "TCP"}
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}, ports=[port]), policy)
    assert m.allowed("x/a", "node1-eth0", "TCP", 9100)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 9101)


def test_prednat_deny_comes_before_a_normal_allow():
    # same tier, and a higher order than the allow: only the preDNAT stage puts it first
    pre_dnat = gnp("block-80", 500, selector="role == 'node'", preDNAT=True, applyOnForward=True,
                   ingress=[{"action": "Deny", "protocol": "TCP", "destination": {"ports": [80]}}])
    allow = gnp("allow-all", 1, selector="role == 'node'", ingress=[{"action": "Allow"}])
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}), pre_dnat, allow)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert m.allowed("x/a", "node1-eth0", "TCP", 443)  # preDNAT policy that decides nothing passes
    assert m.allowed("x/a", "node1-eth0", "TCP", 22)  # failsafe comes first


def test_prednat_allow_is_final():
    pre_dnat = gnp("allow-80", 100, selector="role == 'node'", preDNAT=True, applyOnForward=True,
                   ingress=[allow_tcp(80)])
    deny = gnp("deny-all", 1, selector="role == 'node'", ingress=[{"action": "Deny"}])
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}), pre_dnat, deny)
    assert m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 443)


def test_do_not_track_allow_is_final_and_warns_about_replies():
    untracked = gnp("untracked", 100, selector="role == 'node'", doNotTrack=True, applyOnForward=True,
                    ingress=[allow_tcp(80)], egress=[{"action": "Deny", "protocol": "UDP"}])
    deny = gnp("deny-all", 1, selector="role == 'node'", ingress=[{"action": "Deny"}], egress=[{"action": "Allow"}])
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}), untracked, deny)
    assert m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 443)
    assert not m.allowed("node1-eth0", "x/a", "UDP", 5000) and m.allowed("node1-eth0", "x/a", "TCP", 5000)
    assert any(d.code == "untracked-policy" for d in m.diagnostics)
    assert not any(d.code == "host-endpoint-only" for d in m.diagnostics)


def test_untracked_policy_runs_before_prednat_policy():
    in_tier = tier("early", 1, "Pass")
    pre_dnat = gnp("pre", 1, tier="early", selector="role == 'node'", preDNAT=True, applyOnForward=True,
                   ingress=[allow_tcp(80)])
    untracked = gnp("raw", 100, selector="role == 'node'", doNotTrack=True, applyOnForward=True,
                    ingress=[{"action": "Deny", "protocol": "TCP"}])
    m = run(hep("node1-eth0", [NODE_IP], {"role": "node"}, profiles=[DEFAULT_ALLOW]), in_tier, pre_dnat, untracked)
    assert not m.allowed("x/a", "node1-eth0", "TCP", 80)
    assert m.allowed("x/a", "node1-eth0", "UDP", 80)


def test_pods_are_unaffected_by_prednat_and_do_not_track_policies():
    pre_dnat = gnp("pre", 1, preDNAT=True, applyOnForward=True, ingress=[{"action": "Deny"}])
    untracked = gnp("raw", 1, doNotTrack=True, applyOnForward=True, ingress=[{"action": "Deny"}],
                    egress=[{"action": "Deny"}])
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW]), pre_dnat, untracked)
    assert m.conn("y/b", "x/a").is_all and m.conn("x/a", "y/b").is_all
    assert not m.allowed("x/a", "node1-eth0", "TCP", 80)  # but they do apply to the host endpoint


def test_prednat_policy_without_host_endpoints_is_reported():
    m = run(gnp("pre", 1, preDNAT=True, applyOnForward=True, ingress=[{"action": "Deny"}]))
    assert m.conn("y/b", "x/a").is_all
    assert any(d.code == "host-endpoint-only" for d in m.diagnostics)


def test_host_only_flags_are_rejected_on_a_namespaced_policy():
    m = netverify.analyze(base(cnp("x", "p", 1, preDNAT=True, applyOnForward=True, ingress=[{"action": "Deny"}])))
    assert any("only valid on a GlobalNetworkPolicy" in d.message for d in m.compiled.cluster.errors)


def test_host_endpoint_json_entry_and_lookup():
    m = run(hep("node1-eth0", [NODE_IP], profiles=[DEFAULT_ALLOW], api="crd.projectcalico.org/v1"))
    entries = [e.to_json() for e in m.endpoints()]
    assert {"id": "node1-eth0", "kind": "HostEndpoint", "name": "node1-eth0"} in entries
    assert [e["id"] for e in entries[:3]] == ["x/a", "y/b", "node1-eth0"]  # after the pods
    assert m.find("node1-eth0").kind == "HostEndpoint"
    assert any(e.id == "node1-eth0" for e in m.endpoints(per_pod=True))
    data = json.loads(render_json(MatrixView(m)))
    assert {"src": "x/a", "dst": "node1-eth0", "conn": "all"} in data["connections"]


def test_duplicate_and_invalid_host_endpoints_are_errors():
    m = netverify.analyze(base(hep("n", [NODE_IP]), hep("n", [OTHER_NODE_IP])))
    assert any(d.code == "duplicate-object" for d in m.compiled.cluster.errors)
    bad = hep("n", None)
    bad["spec"].pop("interfaceName")
    m = netverify.analyze(base(bad))
    assert any("interfaceName or expectedIPs" in d.message for d in m.compiled.cluster.errors)


def test_check_treats_host_endpoints_as_belonging_to_no_tenant():
    from netverify.verify.contract import Contract
    from netverify.verify.isolation import check_isolation

    m = netverify.analyze(base(hep("node1-eth0", ips=["10.9.0.1"])), cni="calico")
    result = check_isolation(m, Contract.default_contract())
    assert all(v.src.namespace and v.dst.namespace for v in result.violations)


def test_trace_explains_host_endpoint_default_deny():
    from netverify.model.policy import Direction
    from netverify.verify.explain import trace_direction

    m = netverify.analyze(base(hep("node1-eth0", ips=["10.9.0.1"])), cni="calico")
    host = m.find("node1-eth0")
    atom = m.compiled.services.atom_of(6, 8080)
    trace = trace_direction(m.compiled, Direction.INGRESS, host.class_index, m.n_classes + 0, atom)
    assert not trace.allowed and trace.decisions[-1].action.value == "Deny"
