"""One test per Kubernetes NetworkPolicy rule (reference/k8s-calico-anp-semantics.md §1), engine only.

Each test states the rule in its name and checks the engine on the smallest cluster that shows it.
"""

from __future__ import annotations

from manifests import WEB_PORTS, deployment, labels, namespace, netpol, pod

import netverify


def base(*extra):
    return [
        namespace("x", team="red"),
        namespace("y", team="blue"),
        pod("x", "a", ports=WEB_PORTS, ip="10.1.0.1"),
        pod("x", "b", ports=WEB_PORTS, ip="10.1.0.2"),
        pod("y", "a", ports=WEB_PORTS, ip="10.2.0.1"),
        pod("y", "b", ports=WEB_PORTS, ip="10.2.0.2"),
        *extra,
    ]


def ok(m, src, dst, proto="TCP", port=80):
    return m.allowed(src, dst, proto, port)


def test_no_policy_allows_everything():
    m = netverify.analyze(base())
    assert ok(m, "x/a", "y/b") and ok(m, "y/a", "x/a", "UDP", 53) and ok(m, "x/a", "8.8.8.8", "ICMP", None)
    assert m.conn("x/a", "y/b").to_json() == "all"


def test_policy_types_default_to_ingress_only():
    m = netverify.analyze(base(netpol("x", "deny", {})))
    assert not ok(m, "y/a", "x/a")
    assert ok(m, "x/a", "y/a")  # egress is not isolated


def test_policy_types_default_adds_egress_when_egress_rules_exist():
    m = netverify.analyze(base(netpol("x", "p", labels(pod="a"), egress=[{"to": [{"podSelector": {}}]}])))
    assert not ok(m, "y/a", "x/a")  # ingress isolated too (always included)
    assert ok(m, "x/a", "x/b") and not ok(m, "x/a", "y/a")


def test_empty_egress_list_does_not_imply_egress_type():
    m = netverify.analyze(base(netpol("x", "p", {}, egress=[])))
    assert ok(m, "x/a", "y/a")
    assert not ok(m, "y/a", "x/a")


def test_explicit_egress_only_policy_leaves_ingress_open():
    m = netverify.analyze(base(netpol("x", "p", {}, policyTypes=["Egress"])))
    assert not ok(m, "x/a", "y/a") and not ok(m, "x/a", "1.2.3.4")
    assert ok(m, "y/a", "x/a")


def test_missing_ingress_list_with_type_denies_all_ingress():
    m = netverify.analyze(base(netpol("x", "p", {}, policyTypes=["Ingress"])))
    assert not ok(m, "y/a", "x/a") and not ok(m, "x/b", "x/a")
    assert not m.allowed("1.2.3.4", "x/a", "TCP", 80)


def test_empty_rule_allows_all_peers_and_ports():
    m = netverify.analyze(base(netpol("x", "deny", {}), netpol("x", "p", {}, ingress=[{}])))
    assert m.conn("y/a", "x/a").to_json() == "all"
    assert m.allowed("203.0.113.9", "x/a", "SCTP", 80)


def test_missing_from_matches_all_sources_including_external():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"port": 80}]}])))
    assert ok(m, "y/a", "x/a") and m.allowed("198.51.100.1", "x/a", "TCP", 80)
    assert not ok(m, "y/a", "x/a", "TCP", 81)


def test_empty_from_list_matches_all_sources():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [], "ports": [{"port": 80}]}])))
    assert ok(m, "y/a", "x/a") and m.allowed("198.51.100.1", "x/a", "TCP", 80)


def test_missing_ports_match_every_protocol_including_icmp():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [{"podSelector": {}}]}])))
    assert ok(m, "x/b", "x/a", "UDP", 53) and ok(m, "x/b", "x/a", "ICMP", None)
    assert m.conn("x/b", "x/a").to_json() == "all"


def test_port_entry_without_protocol_means_tcp_only():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{}]}])))
    assert ok(m, "y/a", "x/a", "TCP", 9999)
    assert not ok(m, "y/a", "x/a", "UDP", 53) and not ok(m, "y/a", "x/a", "ICMP", None)
    assert m.conn("y/a", "x/a").to_json() == {"TCP": [[1, 65535]]}


def test_port_without_number_allows_all_ports_of_its_protocol():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"protocol": "UDP"}]}])))
    assert ok(m, "y/a", "x/a", "UDP", 1) and ok(m, "y/a", "x/a", "UDP", 65535)
    assert not ok(m, "y/a", "x/a", "TCP", 80)


def test_pod_selector_only_peer_means_policy_namespace():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [{"podSelector": {}}]}])))
    assert ok(m, "x/b", "x/a") and not ok(m, "y/b", "x/a")


def test_empty_namespace_selector_means_all_namespaces():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [{"namespaceSelector": {}}]}])))
    assert ok(m, "y/b", "x/a") and ok(m, "x/b", "x/a")
    assert not m.allowed("203.0.113.1", "x/a", "TCP", 80)  # selectors match pods, never external addresses


def test_pod_and_namespace_selector_in_one_peer_are_anded():
    rule = {"from": [{"namespaceSelector": labels(team="blue"), "podSelector": labels(pod="b")}]}
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[rule])))
    assert ok(m, "y/b", "x/a")
    assert not ok(m, "y/a", "x/a") and not ok(m, "x/b", "x/a")


def test_separate_peers_are_ored():
    rule = {"from": [{"namespaceSelector": labels(team="blue")}, {"podSelector": labels(pod="b")}]}
    m = netverify.analyze(base(netpol("x", "p", labels(pod="a"), ingress=[rule])))
    assert ok(m, "y/a", "x/a") and ok(m, "x/b", "x/a")
    assert not m.allowed("203.0.113.1", "x/a", "TCP", 80)


def test_match_labels_and_match_expressions_are_anded():
    sel = {
        "matchLabels": {"pod": "b"},
        "matchExpressions": [{"key": "pod", "operator": "In", "values": ["a"]}],
    }
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [{"podSelector": sel}]}])))
    assert not ok(m, "x/b", "x/a") and not ok(m, "x/a", "x/b")


def test_match_expression_in():
    sel = {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "zz"]}]}
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [{"podSelector": sel}]}])))
    assert ok(m, "x/b", "x/a") and not ok(m, "x/a", "x/b")


def test_match_expression_not_in_matches_objects_without_the_key():
    sel = {"matchExpressions": [{"key": "role", "operator": "NotIn", "values": ["db"]}]}
    extra = [pod("x", "c", labels={"role": "db"}, ports=WEB_PORTS), pod("x", "d", labels={}, ports=WEB_PORTS)]
    m = netverify.analyze(
        base(*extra, netpol("x", "p", labels(pod="a"), ingress=[{"from": [{"podSelector": sel}]}]))
    )
    assert ok(m, "x/d", "x/a") and ok(m, "x/b", "x/a")
    assert not ok(m, "x/c", "x/a")


def test_match_expression_exists():
    sel = {"matchExpressions": [{"key": "role", "operator": "Exists"}]}
    extra = [pod("x", "c", labels={"role": "db"}, ports=WEB_PORTS)]
    m = netverify.analyze(
        base(*extra, netpol("x", "p", labels(pod="a"), ingress=[{"from": [{"podSelector": sel}]}]))
    )
    assert ok(m, "x/c", "x/a") and not ok(m, "x/b", "x/a")


def test_match_expression_does_not_exist():
    sel = {"matchExpressions": [{"key": "role", "operator": "DoesNotExist"}]}
    extra = [pod("x", "c", labels={"role": "db"}, ports=WEB_PORTS)]
    m = netverify.analyze(
        base(*extra, netpol("x", "p", labels(pod="a"), ingress=[{"from": [{"podSelector": sel}]}]))
    )
    assert not ok(m, "x/c", "x/a") and ok(m, "x/b", "x/a")


def test_namespace_name_label_is_added_by_the_control_plane():
    sel = labels(**{"kubernetes.io/metadata.name": "y"})
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [{"namespaceSelector": sel}]}])))
    assert ok(m, "y/a", "x/a") and not ok(m, "x/b", "x/a")


def test_undefined_namespace_is_created_with_name_label_and_a_warning():
    sel = labels(**{"kubernetes.io/metadata.name": "z"})
    m = netverify.analyze(
        [pod("z", "a"), pod("x", "a"), netpol("x", "p", {}, ingress=[{"from": [{"namespaceSelector": sel}]}])]
    )
    assert ok(m, "z/a", "x/a")
    assert any("namespace 'z' is used but not defined" in d.message for d in m.diagnostics)


def test_policy_selects_only_pods_of_its_own_namespace():
    m = netverify.analyze(base(netpol("x", "p", {}, policyTypes=["Ingress"])))
    assert ok(m, "x/a", "y/a") and not ok(m, "y/a", "x/a")


def test_allows_of_several_policies_are_unioned():
    p1 = netpol("x", "p1", labels(pod="a"), ingress=[{"ports": [{"port": 80}]}])
    p2 = netpol("x", "p2", labels(pod="a"), ingress=[{"ports": [{"port": 81}]}])
    m = netverify.analyze(base(p1, p2))
    assert ok(m, "y/a", "x/a", "TCP", 80) and ok(m, "y/a", "x/a", "TCP", 81)
    assert not ok(m, "y/a", "x/a", "TCP", 82)


def test_ipblock_cidr_minus_except():
    block = {"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}}
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [block]}])))
    assert m.allowed("192.0.2.1", "x/a", "TCP", 80) and m.allowed("192.0.2.127", "x/a", "TCP", 80)
    assert not m.allowed("192.0.2.128", "x/a", "TCP", 80) and not m.allowed("192.0.3.1", "x/a", "TCP", 80)


def test_ipblock_ipv6():
    block = {"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:ffff::/48"]}}
    m = netverify.analyze(base(netpol("x", "p", {}, policyTypes=["Egress"], egress=[{"to": [block]}])))
    assert m.allowed("x/a", "2001:db8::1", "TCP", 80)
    assert not m.allowed("x/a", "2001:db8:ffff::1", "TCP", 80) and not m.allowed(
        "x/a", "2001:db9::1", "TCP", 80
    )
    assert not m.allowed("x/a", "192.0.2.1", "TCP", 80)


def test_ipblock_matches_pod_ips_under_calico_profile():
    block = {"ipBlock": {"cidr": "10.2.0.0/24"}}
    policy = netpol("x", "p", {}, policyTypes=["Egress"], egress=[{"to": [block]}])
    assert netverify.analyze(base(policy), cni="calico").allowed("x/a", "y/a", "TCP", 80)


def test_ipblock_does_not_match_pod_ips_under_cilium_profile():
    block = {"ipBlock": {"cidr": "10.2.0.0/24"}}
    policy = netpol("x", "p", {}, policyTypes=["Egress"], egress=[{"to": [block]}])
    m = netverify.analyze(base(policy), cni="cilium")
    assert not m.allowed("x/a", "y/a", "TCP", 80) and m.allowed("x/a", "10.2.0.77", "TCP", 80)


def test_numeric_port_matches_only_that_port():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"port": 81, "protocol": "TCP"}]}])))
    assert ok(m, "y/a", "x/a", "TCP", 81) and not ok(m, "y/a", "x/a", "TCP", 80)


def test_end_port_range_is_inclusive():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"port": 8000, "endPort": 8080}]}])))
    assert ok(m, "y/a", "x/a", "TCP", 8000) and ok(m, "y/a", "x/a", "TCP", 8080)
    assert not ok(m, "y/a", "x/a", "TCP", 7999) and not ok(m, "y/a", "x/a", "TCP", 8081)
    assert m.conn("y/a", "x/a").to_json() == {"TCP": [[8000, 8080]]}


def test_named_port_resolves_per_destination_pod():
    pods = [
        namespace("x"),
        pod("x", "a", labels={"app": "s"}, ports=[(8080, "TCP", "http")]),
        pod("x", "b", labels={"app": "s"}, ports=[(9090, "TCP", "http")]),
        pod("x", "c", labels={"app": "client"}),
    ]
    m = netverify.analyze(
        pods + [netpol("x", "p", {}, policyTypes=["Egress"], egress=[{"ports": [{"port": "http"}]}])]
    )
    assert m.allowed("x/c", "x/a", "TCP", 8080) and not m.allowed("x/c", "x/a", "TCP", 9090)
    assert m.allowed("x/c", "x/b", "TCP", 9090) and not m.allowed("x/c", "x/b", "TCP", 8080)


def test_named_port_on_ingress_resolves_on_the_selected_pod():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"port": "alt"}]}])))
    assert ok(m, "y/a", "x/a", "TCP", 81) and not ok(m, "y/a", "x/a", "TCP", 80)


def test_named_port_with_other_protocol_matches_nothing():
    m = netverify.analyze(
        base(netpol("x", "p", {}, ingress=[{"ports": [{"port": "dns", "protocol": "TCP"}]}]))
    )
    assert not ok(m, "y/a", "x/a", "TCP", 53) and not ok(m, "y/a", "x/a", "UDP", 53)
    m = netverify.analyze(
        base(netpol("x", "p", {}, ingress=[{"ports": [{"port": "dns", "protocol": "UDP"}]}]))
    )
    assert ok(m, "y/a", "x/a", "UDP", 53)


def test_named_port_never_matches_external_destinations():
    egress = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "http"}]}]
    m = netverify.analyze(base(netpol("x", "p", {}, policyTypes=["Egress"], egress=egress)))
    assert not m.allowed("x/a", "8.8.8.8", "TCP", 80)
    assert ok(m, "x/a", "y/a", "TCP", 80)  # y/a is inside 0.0.0.0/0 by its pod IP and names port 80 http


def test_sctp_is_not_tcp():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}])))
    assert ok(m, "y/a", "x/a", "SCTP", 80) and not ok(m, "y/a", "x/a", "TCP", 80)


def test_udp_policy_does_not_allow_tcp():
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])))
    assert ok(m, "y/a", "x/a", "UDP", 53) and not ok(m, "y/a", "x/a", "TCP", 53)


def test_flow_needs_source_egress_and_destination_ingress():
    deny_egress = netpol("y", "deny-egress", {}, policyTypes=["Egress"])
    allow_ingress = netpol("x", "allow", {}, ingress=[{}])
    m = netverify.analyze(base(deny_egress, allow_ingress))
    assert not ok(m, "y/a", "x/a")
    allow_egress = netpol("y", "allow-egress", {}, policyTypes=["Egress"], egress=[{}])
    deny_ingress = netpol("x", "deny", {}, policyTypes=["Ingress"])
    m = netverify.analyze(base(allow_egress, deny_ingress))
    assert not ok(m, "y/a", "x/a") and ok(m, "y/a", "y/b")


def test_workload_pods_take_template_labels_for_every_workload_kind():
    kinds = [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
    ]
    objs = [namespace("x")] + [deployment("x", k.lower(), {"kind": k.lower()}, kind=k) for k in kinds]
    objs.append(pod("x", "client", labels={"role": "client"}))
    objs.append(
        netpol(
            "x",
            "only-statefulset",
            labels(kind="statefulset"),
            ingress=[{"from": [{"podSelector": labels(role="client")}]}],
        )
    )
    m = netverify.analyze(objs)
    ids = {e.id: e.kind for e in m.endpoints()}
    for kind in kinds:
        assert ids[f"x/{kind.lower()}"] == kind
    assert ok(m, "x/client", "x/statefulset") and not ok(m, "x/deployment", "x/statefulset")
    assert ok(m, "x/client", "x/cronjob")


def test_replicas_collapse_into_one_class_and_expand_per_pod():
    m = netverify.analyze([namespace("x"), deployment("x", "web", {"app": "web"}, replicas=5), pod("x", "c")])
    assert m.compiled.n_classes == 2
    assert [e.id for e in m.endpoints(per_pod=True) if e.owner] == [f"x/web-{i}" for i in range(5)]


def test_external_ranges_are_cut_at_cidr_boundaries():
    block = {"ipBlock": {"cidr": "10.0.0.0/8"}}
    m = netverify.analyze(base(netpol("x", "p", {}, ingress=[{"from": [block]}])), cni="cilium")
    external = [e.id for e in m.endpoints() if e.is_external]
    assert external == ["0.0.0.0-9.255.255.255", "10.0.0.0-10.255.255.255", "11.0.0.0-255.255.255.255"]
