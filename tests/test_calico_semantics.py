"""One test per Calico ordered-semantics rule (reference/k8s-calico-anp-semantics.md §4), engine only."""

from __future__ import annotations

import copy

from calico_manifests import cnp, gnp, network_set, service_account, tier
from manifests import namespace, netpol, pod

import netverify

PORTS = [(80, "TCP", "http"), (443, "TCP", "https"), (53, "UDP", "dns"), (9000, "TCP", "metrics")]


def base(*extra):
    a_pod = pod("x", "a", labels={"app": "web"}, ports=PORTS, ip="10.1.0.1")
    a_pod["spec"]["serviceAccountName"] = "web-sa"
    return [
        namespace("x", env="prod"),
        namespace("y", env="dev"),
        a_pod,
        pod("x", "b", labels={"app": "db"}, ports=PORTS, ip="10.1.0.2"),
        pod("y", "c", labels={"app": "client"}, ports=PORTS, ip="10.2.0.3"),
        *extra,
    ]


def run(*extra):
    m = netverify.analyze(base(*extra), cni="calico")
    assert not m.compiled.cluster.errors, m.compiled.cluster.errors
    return m


def test_deny_at_lower_order_beats_allow_at_higher_order():
    m = run(gnp("allow", 200, ingress=[{"action": "Allow"}]), gnp("deny", 100, ingress=[{"action": "Deny"}]))
    assert not m.allowed("y/c", "x/a", "TCP", 80)
    m = run(gnp("allow", 100, ingress=[{"action": "Allow"}]), gnp("deny", 200, ingress=[{"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80)


def test_first_matching_rule_in_a_policy_wins():
    rules = [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]}}, {"action": "Deny"}]
    m = run(gnp("p", 10, ingress=rules))
    assert m.allowed("y/c", "x/a", "TCP", 80) and not m.allowed("y/c", "x/a", "TCP", 443)


def test_pass_leaves_the_tier_for_a_later_tier_that_allows():
    policies = [
        tier("security", 100),
        gnp("security.pass", 1, tier="security", ingress=[{"action": "Pass"}]),
        gnp("security.deny", 2, tier="security", ingress=[{"action": "Deny"}]),
        gnp("allow", 10, ingress=[{"action": "Allow", "protocol": "TCP"}]),
    ]
    m = run(*policies)
    assert m.allowed("y/c", "x/a", "TCP", 80) and not m.allowed("y/c", "x/a", "UDP", 53)


def test_tier_that_selects_but_decides_nothing_denies():
    log = gnp("security.log", 1, tier="security", selector="app == 'web'", ingress=[{"action": "Log"}])
    m = run(tier("security", 100), log)
    assert not m.allowed("y/c", "x/a", "TCP", 80)
    assert m.allowed("x/a", "y/c", "TCP", 80)  # the policy has no egress: the tier does not apply to egress


def test_tier_default_action_pass_hands_undecided_traffic_on():
    m = run(
        tier("security", 100, "Pass"), gnp("security.log", 1, tier="security", ingress=[{"action": "Log"}])
    )
    assert m.allowed("y/c", "x/a", "TCP", 80)


def test_tier_applies_only_to_endpoints_its_policies_select():
    m = run(
        tier("security", 100), gnp("security.web", 1, tier="security", selector="app == 'web'", ingress=[])
    )
    assert not m.allowed("y/c", "x/a", "TCP", 80) and m.allowed("y/c", "x/b", "TCP", 80)


def test_tiers_are_evaluated_by_order():
    policies = [
        tier("late", 200),
        tier("early", 100),
        gnp(
            "early.deny", 1, tier="early", ingress=[{"action": "Deny", "protocol": "UDP"}, {"action": "Pass"}]
        ),
        gnp("late.allow", 1, tier="late", ingress=[{"action": "Allow"}]),
    ]
    m = run(*policies)
    assert not m.allowed("y/c", "x/a", "UDP", 53) and m.allowed("y/c", "x/a", "TCP", 80)


def test_kubernetes_policy_at_order_1000_allows_before_global_deny_at_2000():
    allow = netpol("x", "allow-y", {}, ingress=[{"from": [{"namespaceSelector": {}}]}])
    m = run(allow, gnp("deny", 2000, ingress=[{"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80)
    assert not m.allowed("x/a", "y/c", "TCP", 80)  # y/c: only the global deny applies


def test_same_global_deny_at_order_500_wins_over_kubernetes_policy():
    allow = netpol("x", "allow-y", {}, ingress=[{"from": [{"namespaceSelector": {}}]}])
    m = run(allow, gnp("deny", 500, ingress=[{"action": "Deny"}]))
    assert not m.allowed("y/c", "x/a", "TCP", 80)


def test_kubernetes_policy_isolation_denies_at_end_of_default_tier():
    only_80 = netpol("x", "web-only-80", {}, ingress=[{"ports": [{"port": 80}]}])
    later_tier = [tier("late", 2_000_000), gnp("late.allow", 1, tier="late", ingress=[{"action": "Allow"}])]
    m = run(only_80, *later_tier)
    assert not m.allowed("y/c", "x/a", "TCP", 443)  # the later tier never runs: the default tier denied


def test_calico_policy_after_kubernetes_policy_in_the_same_tier_still_runs():
    only_80 = netpol("x", "web-only-80", {}, ingress=[{"ports": [{"port": 80}]}])
    m = run(only_80, gnp("allow-late", 3000, ingress=[{"action": "Allow"}]))
    assert m.allowed("y/c", "x/a", "TCP", 443)


def test_policies_with_equal_order_run_by_name():
    m = run(
        gnp("b-allow", 10, ingress=[{"action": "Allow"}]), gnp("a-deny", 10, ingress=[{"action": "Deny"}])
    )
    assert not m.allowed("y/c", "x/a", "TCP", 80)


def test_policy_without_order_runs_last():
    m = run(
        gnp("z-deny", None, ingress=[{"action": "Deny"}]), gnp("allow", 99999, ingress=[{"action": "Allow"}])
    )
    assert m.allowed("y/c", "x/a", "TCP", 80)


def test_log_action_continues_to_the_next_rule():
    m = run(
        gnp("p", 1, ingress=[{"action": "Log"}, {"action": "Deny", "protocol": "UDP"}, {"action": "Allow"}])
    )
    assert m.allowed("y/c", "x/a", "TCP", 80) and not m.allowed("y/c", "x/a", "UDP", 53)


def test_calico_types_default_egress_only_when_only_egress_rules():
    m = run(gnp("p", 1, egress=[{"action": "Deny"}]))
    assert not m.allowed("x/a", "y/c", "TCP", 80)
    assert m.allowed("y/c", "x/a", "TCP", 80) is False  # y/c egress is denied too (selector all())
    m = run(gnp("p", 1, selector="app == 'client'", egress=[{"action": "Deny"}]))
    assert m.allowed("x/a", "y/c", "TCP", 80)  # ingress of y/c untouched: types is [Egress]


def test_calico_types_default_ingress_when_no_rules():
    m = run(gnp("p", 1, selector="app == 'web'"))
    assert not m.allowed("y/c", "x/a", "TCP", 80) and m.allowed("x/a", "y/c", "TCP", 80)


def test_protocol_by_name_and_number():
    m = run(gnp("p", 1, ingress=[{"action": "Allow", "protocol": 17}, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "UDP", 53) and not m.allowed("y/c", "x/a", "TCP", 80)
    m = run(gnp("p", 1, ingress=[{"action": "Allow", "protocol": "ICMP"}, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "ICMP", None) and not m.allowed("y/c", "x/a", "UDP", 53)


def test_not_protocol():
    m = run(gnp("p", 1, ingress=[{"action": "Allow", "notProtocol": "TCP"}, {"action": "Deny"}]))
    assert not m.allowed("y/c", "x/a", "TCP", 80) and m.allowed("y/c", "x/a", "UDP", 53)


def test_destination_port_range_and_numbers():
    rule = {"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, "440:443"]}}
    m = run(gnp("p", 1, ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80) and m.allowed("y/c", "x/a", "TCP", 440)
    assert m.allowed("y/c", "x/a", "TCP", 443) and not m.allowed("y/c", "x/a", "TCP", 444)


def test_named_destination_port_resolves_on_the_destination_endpoint():
    rule = {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["metrics"]}}
    m = run(gnp("p", 1, ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 9000) and not m.allowed("y/c", "x/a", "TCP", 80)


def test_not_ports_excludes_ports():
    rule = {"action": "Allow", "protocol": "TCP", "destination": {"notPorts": ["1:1023"]}}
    m = run(gnp("p", 1, ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 9000) and not m.allowed("y/c", "x/a", "TCP", 443)


def test_source_selector_matches_endpoints_only_not_external_addresses():
    m = run(gnp("p", 1, ingress=[{"action": "Allow", "source": {"selector": "all()"}}, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80) and not m.allowed("203.0.113.5", "x/a", "TCP", 80)


def test_not_selector_matches_everything_else_including_external_addresses():
    m = run(
        gnp(
            "p",
            1,
            ingress=[{"action": "Allow", "source": {"notSelector": "app == 'client'"}}, {"action": "Deny"}],
        )
    )
    assert not m.allowed("y/c", "x/a", "TCP", 80)
    assert m.allowed("x/b", "x/a", "TCP", 80) and m.allowed("203.0.113.5", "x/a", "TCP", 80)


def test_selector_and_namespace_selector_in_a_global_policy():
    rule = {"action": "Allow", "source": {"namespaceSelector": "env == 'dev'", "selector": "app == 'client'"}}
    m = run(gnp("p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80) and not m.allowed("x/b", "x/a", "TCP", 80)


def test_namespaced_policy_selector_is_limited_to_its_namespace():
    rule = {"action": "Allow", "source": {"selector": "all()"}}
    m = run(cnp("x", "p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("x/b", "x/a", "TCP", 80) and not m.allowed("y/c", "x/a", "TCP", 80)


def test_namespaced_policy_selects_only_endpoints_in_its_namespace():
    m = run(cnp("y", "p", 1, selector="all()", ingress=[{"action": "Deny"}]))
    assert m.allowed("x/b", "x/a", "TCP", 80) and not m.allowed("x/b", "y/c", "TCP", 80)


def test_global_policy_namespace_selector_limits_selected_endpoints():
    m = run(gnp("p", 1, selector="all()", namespaceSelector="env == 'dev'", ingress=[{"action": "Deny"}]))
    assert not m.allowed("x/a", "y/c", "TCP", 80) and m.allowed("y/c", "x/a", "TCP", 80)


def test_pseudo_labels_namespace_and_service_account():
    rule = {"action": "Allow", "source": {"selector": "projectcalico.org/namespace == 'y'"}}
    m = run(
        gnp(
            "p",
            1,
            selector="projectcalico.org/serviceaccount == 'web-sa'",
            ingress=[rule, {"action": "Deny"}],
        )
    )
    assert m.allowed("y/c", "x/a", "TCP", 80) and not m.allowed("x/b", "x/a", "TCP", 80)
    assert m.allowed("x/a", "x/b", "TCP", 80)  # x/b runs as "default": not selected


def test_namespace_name_pseudo_label_in_namespace_selector():
    rule = {"action": "Allow", "source": {"namespaceSelector": "projectcalico.org/name == 'x'"}}
    m = run(gnp("p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("x/b", "x/a", "TCP", 80) and not m.allowed("y/c", "x/a", "TCP", 80)


def test_service_account_names():
    rule = {"action": "Allow", "source": {"serviceAccounts": {"names": ["web-sa"]}}}
    m = run(gnp("p", 1, selector="app == 'client'", ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("x/a", "y/c", "TCP", 80) and not m.allowed("x/b", "y/c", "TCP", 80)


def test_service_account_selector_uses_account_labels():
    rule = {"action": "Allow", "source": {"serviceAccounts": {"selector": "trusted == 'yes'"}}}
    m = run(
        service_account("x", "web-sa", trusted="yes"),
        gnp("p", 1, selector="app == 'client'", ingress=[rule, {"action": "Deny"}]),
    )
    assert m.allowed("x/a", "y/c", "TCP", 80) and not m.allowed("x/b", "y/c", "TCP", 80)


def test_nets_match_external_addresses_and_pod_ips():
    rule = {"action": "Allow", "source": {"nets": ["10.2.0.0/16", "198.51.100.0/24"]}}
    m = run(gnp("p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]))
    assert m.allowed("198.51.100.7", "x/a", "TCP", 80) and m.allowed("y/c", "x/a", "TCP", 80)
    assert not m.allowed("x/b", "x/a", "TCP", 80) and not m.allowed("203.0.113.1", "x/a", "TCP", 80)


def test_not_nets():
    rule = {"action": "Deny", "source": {"notNets": ["10.0.0.0/8"]}}
    m = run(gnp("p", 1, selector="app == 'web'", ingress=[rule, {"action": "Allow"}]))
    assert not m.allowed("203.0.113.1", "x/a", "TCP", 80) and m.allowed("y/c", "x/a", "TCP", 80)


def test_global_network_set_matched_by_selector():
    rule = {"action": "Allow", "source": {"selector": "role == 'partners'"}}
    m = run(
        network_set("partners", ["198.51.100.0/24"], {"role": "partners"}),
        gnp("p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]),
    )
    assert m.allowed("198.51.100.9", "x/a", "TCP", 80) and not m.allowed("203.0.113.9", "x/a", "TCP", 80)
    assert not m.allowed("y/c", "x/a", "TCP", 80)


def test_global_selector_in_namespaced_policy_means_global_network_sets():
    rule = {"action": "Allow", "source": {"namespaceSelector": "global()", "selector": "role == 'partners'"}}
    m = run(
        network_set("partners", ["198.51.100.0/24"], {"role": "partners"}),
        network_set("local", ["203.0.113.0/24"], {"role": "partners"}, ns="x"),
        cnp("x", "p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]),
    )
    assert m.allowed("198.51.100.9", "x/a", "TCP", 80) and not m.allowed("203.0.113.9", "x/a", "TCP", 80)


def test_namespaced_network_set_in_policy_namespace():
    rule = {"action": "Allow", "source": {"selector": "role == 'partners'"}}
    m = run(
        network_set("local", ["203.0.113.0/24"], {"role": "partners"}, ns="x"),
        cnp("x", "p", 1, selector="app == 'web'", ingress=[rule, {"action": "Deny"}]),
    )
    assert m.allowed("203.0.113.9", "x/a", "TCP", 80)


def test_destination_selector_on_ingress_narrows_the_target():
    rule = {"action": "Deny", "destination": {"selector": "app == 'db'"}}
    m = run(gnp("p", 1, ingress=[rule, {"action": "Allow"}]))
    assert not m.allowed("y/c", "x/b", "TCP", 80) and m.allowed("y/c", "x/a", "TCP", 80)


def test_crd_api_group_is_accepted():
    m = run(gnp("deny", 1, ingress=[{"action": "Deny"}], api="crd.projectcalico.org/v1"))
    assert not m.allowed("y/c", "x/a", "TCP", 80)


def test_undefined_tier_is_an_error():
    m = netverify.analyze(base(gnp("sec.p", 1, tier="sec", ingress=[{"action": "Deny"}])), cni="calico")
    assert any("tier 'sec'" in d.message for d in m.compiled.cluster.errors)


def test_prednat_policy_applies_to_host_endpoints_only():
    m = run(gnp("p", 1, ingress=[{"action": "Deny"}], preDNAT=True, applyOnForward=True))
    assert m.allowed("y/c", "x/a", "TCP", 80)
    assert any(d.code == "host-endpoint-only" for d in m.diagnostics)


def test_source_port_condition_is_approximated_toward_allowed():
    allow = {"action": "Allow", "protocol": "TCP", "source": {"ports": [5000]}}
    m = run(gnp("p", 1, ingress=[allow, {"action": "Deny"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80)
    assert any(d.code == "approximated-rule" for d in m.diagnostics)
    deny = {"action": "Deny", "protocol": "TCP", "source": {"ports": [5000]}}
    m = run(gnp("p", 1, ingress=[deny, {"action": "Allow"}]))
    assert m.allowed("y/c", "x/a", "TCP", 80)


def test_selector_syntax_error_points_at_file_line_and_column():
    policy = gnp("bad", 1, selector="app == 'web' &&", ingress=[{"action": "Deny"}])
    m = netverify.analyze(base(copy.deepcopy(policy)), cni="calico")
    errors = [str(d) for d in m.compiled.cluster.errors]
    assert errors and "column" in errors[0] and "spec.selector" in errors[0]


def test_ports_without_protocol_is_an_error():
    policy = gnp("bad", 1, ingress=[{"action": "Allow", "destination": {"ports": [80]}}])
    m = netverify.analyze(base(policy), cni="calico")
    assert any("protocol" in d.message for d in m.compiled.cluster.errors)


def test_icmp_type_and_code_match():
    rules = [
        {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8, "code": 0}},
        {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 3}},
        {"action": "Deny"},
    ]
    m = run(gnp("p", 1, ingress=rules))
    conn = m.conn("y/c", "x/a")
    assert conn.contains("ICMP", 8 * 256 + 0) and not conn.contains("ICMP", 8 * 256 + 1)
    assert conn.contains("ICMP", 3 * 256 + 13) and not conn.contains("ICMP", 0)
    assert conn.to_json() == {"ICMP": [{"type": 3}, {"type": 8, "codes": [[0, 0]]}]}
    assert str(conn) == "ICMP type 3, type 8 code 0"


def test_not_icmp_excludes_a_type():
    rules = [{"action": "Deny", "protocol": "ICMP", "notICMP": {"type": 8}}, {"action": "Allow"}]
    m = run(gnp("p", 1, ingress=rules))
    conn = m.conn("y/c", "x/a")
    assert conn.contains("ICMP", 8 * 256 + 5) and not conn.contains("ICMP", 0)
    assert conn.contains("TCP", 80)


def test_icmp_match_needs_icmp_protocol():
    m = netverify.analyze(
        base(gnp("bad", 1, ingress=[{"action": "Allow", "protocol": "TCP", "icmp": {"type": 8}}]))
    )
    assert any("ICMP" in d.message for d in m.compiled.cluster.errors)


def test_named_not_ports_resolve_on_the_destination():
    ingress = [{"action": "Deny", "protocol": "TCP", "destination": {"notPorts": ["metrics"]}}, {"action": "Allow"}]
    m = run(gnp("p", 1, selector="app == 'web'", ingress=ingress))
    assert m.allowed("y/c", "x/a", "TCP", 9000) and not m.allowed("y/c", "x/a", "TCP", 80)
    egress = [{"action": "Deny", "protocol": "TCP", "destination": {"notPorts": ["metrics"]}}, {"action": "Allow"}]
    m = run(gnp("p", 1, selector="app == 'web'", egress=egress))
    assert m.allowed("x/a", "x/b", "TCP", 9000) and not m.allowed("x/a", "x/b", "TCP", 80)
    assert not m.allowed("x/a", "8.8.8.8", "TCP", 9000)  # an address has no named ports: nothing excluded
    assert not any(d.code == "approximated-rule" for d in m.diagnostics)
