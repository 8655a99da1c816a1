"""Direct unit tests of the ordered reference evaluator (tests/reference_ordered.py) on tiny clusters.

Why: that module is the oracle the engine's Calico / AdminNetworkPolicy semantics are judged by, so its
reading of every ordering rule is pinned here, each against the section of
reference/k8s-calico-anp-semantics.md (or the Calico source it quotes) that it follows.
"""

from __future__ import annotations

from typing import Any

import pytest

try:
    from tests.reference_ordered import (
        OrderedReference,
        PortSpec,
        every_port_fits,
        rewrite_scope_functions,
        some_port_fits,
    )
except ImportError:  # tests/ is on sys.path directly
    from reference_ordered import (  # type: ignore[no-redef]
        OrderedReference,
        PortSpec,
        every_port_fits,
        rewrite_scope_functions,
        some_port_fits,
    )

CALICO = "projectcalico.org/v3"
EXTERNAL = "203.0.113.7"


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    ns: str,
    name: str,
    labels: dict[str, str] | None = None,
    ip: str | None = None,
    sa: str | None = None,
    ports: list[tuple[str, str, int]] | None = None,
) -> dict[str, Any]:
    """A bare Pod; ports are (name, protocol, number)."""
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "main",
                "image": "x",
                "ports": [{"name": n, "protocol": p, "containerPort": c} for n, p, c in ports or []],
            }
        ]
    }
    if sa:
        spec["serviceAccountName"] = sa
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels if labels is not None else {"app": name},
        },
        "spec": spec,
    }
    if ip:
        obj["status"] = {"podIP": ip}
    return obj


def gnp(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": CALICO, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def cnp(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": CALICO,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def knp(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("podSelector", {})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def tier(name: str, order: float | None = None, default_action: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if order is not None:
        spec["order"] = order
    if default_action is not None:
        spec["defaultAction"] = default_action
    return {"apiVersion": CALICO, "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def global_set(name: str, labels: dict[str, str], nets: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": CALICO,
        "kind": "GlobalNetworkSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {"nets": nets},
    }


def namespaced_set(ns: str, name: str, labels: dict[str, str], nets: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": CALICO,
        "kind": "NetworkSet",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nets": nets},
    }


def ingress_to(app: str, *rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Spec pieces of a Calico policy guarding ingress of pods with app=<app>."""
    return {"selector": f"app == '{app}'", "types": ["Ingress"], "ingress": list(rules), **extra}


ALLOW_ALL = {"action": "Allow"}
DENY_ALL = {"action": "Deny"}
PASS_ALL = {"action": "Pass"}


def two_pods(*policies: dict[str, Any]) -> OrderedReference:
    return OrderedReference([pod("ns", "client", ip="10.0.0.1"), pod("ns", "server", ip="10.0.0.2"), *policies])


# --- order within a tier (§4.2) ------------------------------------------------------------------


def test_deny_at_order_100_beats_allow_at_order_200() -> None:
    ref = two_pods(
        gnp("allow", order=200, **ingress_to("server", ALLOW_ALL)),
        gnp("deny", order=100, **ingress_to("server", DENY_ALL)),
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert any("Deny -> denied" in line for line in ref.explain("ns/client", "ns/server", "TCP", 80))


def test_allow_at_order_100_beats_deny_at_order_200() -> None:
    ref = two_pods(
        gnp("allow", order=100, **ingress_to("server", ALLOW_ALL)),
        gnp("deny", order=200, **ingress_to("server", DENY_ALL)),
    )
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_missing_order_goes_after_every_ordered_policy() -> None:
    ref = two_pods(
        gnp("a-unordered", **ingress_to("server", ALLOW_ALL)),
        gnp("z-ordered", order=99999, **ingress_to("server", DENY_ALL)),
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_equal_order_ties_by_name() -> None:
    ref = two_pods(
        gnp("b-deny", order=10, **ingress_to("server", DENY_ALL)),
        gnp("a-allow", order=10, **ingress_to("server", ALLOW_ALL)),
    )
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_rules_within_a_policy_go_in_written_order() -> None:
    first_deny_tcp = {"action": "Deny", "protocol": "TCP"}
    ref = two_pods(gnp("p", order=1, **ingress_to("server", first_deny_tcp, ALLOW_ALL)))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/client", "ns/server", "UDP", 53)


def test_log_continues_to_the_next_rule() -> None:
    ref = two_pods(gnp("p", order=1, **ingress_to("server", {"action": "Log"}, DENY_ALL)))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    ref = two_pods(gnp("p", order=1, **ingress_to("server", {"action": "Log"})))
    # Log decided nothing: the default tier selected the pod, so its end-of-tier Deny applies.
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    ref = two_pods(gnp("p", order=1, **ingress_to("server", {"action": "Log"}, ALLOW_ALL)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


# --- tiers (§4.1 Tier, §4.2) ---------------------------------------------------------------------


def test_pass_goes_to_a_later_tier_that_allows() -> None:
    ref = two_pods(
        tier("security", 100),
        tier("app", 200),
        gnp("pass", tier="security", **ingress_to("server", PASS_ALL)),
        gnp("deny-later-in-security", tier="security", order=50, **ingress_to("server", {"action": "Log"})),
        gnp("allow", tier="app", **ingress_to("server", ALLOW_ALL)),
        gnp("deny", tier="default", order=1, **ingress_to("server", DENY_ALL)),
    )
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)
    trace = ref.explain("ns/client", "ns/server", "TCP", 80)
    assert any("tier security" in line and "Pass" in line for line in trace)
    assert any("tier app" in line and "Allow" in line for line in trace)


def test_pass_skips_the_rest_of_its_tier() -> None:
    ref = two_pods(
        tier("security", 100),
        gnp("a-pass", tier="security", order=1, **ingress_to("server", PASS_ALL)),
        gnp("b-deny", tier="security", order=2, **ingress_to("server", DENY_ALL)),
    )
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)  # no later tier selects it: profile allows


def test_tier_that_selects_but_decides_nothing_denies() -> None:
    only_udp = {"action": "Allow", "protocol": "UDP"}
    ref = two_pods(tier("security", 100), gnp("udp-only", tier="security", **ingress_to("server", only_udp)))
    assert ref.allowed("ns/client", "ns/server", "UDP", 53)
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert any("default Deny" in line for line in ref.explain("ns/client", "ns/server", "TCP", 80))


def test_policy_without_rules_for_its_type_still_makes_the_tier_apply() -> None:
    ref = two_pods(tier("security", 100), gnp("isolate", tier="security", selector="app == 'server'"))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/server", "ns/client", "TCP", 80)


def test_tier_default_action_pass() -> None:
    only_udp = {"action": "Allow", "protocol": "UDP"}
    ref = two_pods(tier("security", 100, "Pass"), gnp("udp-only", tier="security", **ingress_to("server", only_udp)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)
    ref = two_pods(
        tier("security", 100, "Pass"),
        gnp("udp-only", tier="security", **ingress_to("server", only_udp)),
        knp("ns", "deny-in", podSelector={"matchLabels": {"app": "server"}}, policyTypes=["Ingress"]),
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)  # passed on, then the default tier denies


def test_tier_that_does_not_select_the_endpoint_is_skipped() -> None:
    ref = two_pods(tier("security", 100), gnp("other", tier="security", **ingress_to("nobody", DENY_ALL)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_tiers_sort_by_order_then_name_unordered_last() -> None:
    deny = ingress_to("server", DENY_ALL)
    allow = ingress_to("server", ALLOW_ALL)
    ref = two_pods(tier("b", 5), tier("a", 5), gnp("x", tier="b", **deny), gnp("y", tier="a", **allow))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)  # tier a first
    ref = two_pods(
        tier("unordered"),
        tier("late", 50_000_000),
        gnp("x", tier="unordered", **allow),
        gnp("y", tier="late", **deny),
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)  # the ordered tier comes first


def test_user_tier_before_kube_admin() -> None:
    ref = OrderedReference(
        [
            namespace("ns", team="a"),
            pod("ns", "client"),
            pod("ns", "server"),
            tier("early", 10),
            gnp("allow", tier="early", **ingress_to("server", ALLOW_ALL)),
            anp("deny", 1, {"namespaces": {}}, ingress=[anp_rule("Deny", {"namespaces": {}})]),
        ]
    )
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_policy_in_missing_tier_is_an_error() -> None:
    with pytest.raises(ValueError, match="tier"):
        two_pods(gnp("x", tier="nowhere", **ingress_to("server", ALLOW_ALL)))


# --- Kubernetes NetworkPolicy inside Calico (§4.4) -----------------------------------------------


def knp_allow_client() -> dict[str, Any]:
    return knp(
        "ns",
        "allow-client",
        podSelector={"matchLabels": {"app": "server"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}],
    )


def test_kubernetes_policy_at_1000_allows_before_gnp_deny_at_2000() -> None:
    ref = two_pods(knp_allow_client(), gnp("deny", order=2000, **ingress_to("server", DENY_ALL)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_gnp_deny_at_500_beats_kubernetes_allow() -> None:
    ref = two_pods(knp_allow_client(), gnp("deny", order=500, **ingress_to("server", DENY_ALL)))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_kubernetes_policy_isolates_then_later_gnp_allow_still_reaches() -> None:
    """A GNP Allow at 2000 in the same tier is evaluated when no KNP rule matched."""
    ref = OrderedReference(
        [
            pod("ns", "client"),
            pod("ns", "other"),
            pod("ns", "server"),
            knp_allow_client(),
            gnp("allow-other", order=2000, **ingress_to("server", {"action": "Allow", "protocol": "UDP"})),
        ]
    )
    assert ref.allowed("ns/other", "ns/server", "UDP", 53)
    assert not ref.allowed("ns/other", "ns/server", "TCP", 80)


def test_kubernetes_policy_types_follow_kubernetes_defaulting() -> None:
    """A Kubernetes policy with egress rules is Ingress+Egress (unlike Calico's egress-only default)."""
    ref = two_pods(knp("ns", "egress", podSelector={"matchLabels": {"app": "server"}}, egress=[{}]))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_kubernetes_ports_empty_element_is_tcp_only() -> None:
    ref = two_pods(knp("ns", "p", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"ports": [{}]}]))
    assert ref.allowed("ns/client", "ns/server", "TCP", 9)
    assert not ref.allowed("ns/client", "ns/server", "UDP", 9)
    assert not ref.allowed("ns/client", "ns/server", "ICMP", None)


@pytest.mark.parametrize("matches_pods", [True, False])
def test_kubernetes_ipblock_pod_ip_switch(matches_pods: bool) -> None:
    policy = knp(
        "ns",
        "p",
        podSelector={"matchLabels": {"app": "server"}},
        ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]}],
    )
    ref = OrderedReference(
        [pod("ns", "client", ip="10.0.0.1"), pod("ns", "server", ip="10.0.0.2"), policy],
        ipblock_matches_pod_ips=matches_pods,
    )
    assert ref.allowed("ns/client", "ns/server", "TCP", 80) is matches_pods
    assert ref.allowed("10.0.0.9", "ns/server", "TCP", 80)


# --- Calico types defaulting (§4.1) ---------------------------------------------------------------


def test_calico_egress_only_rules_mean_egress_only() -> None:
    ref = two_pods(gnp("egress-only", selector="app == 'server'", egress=[DENY_ALL]))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)  # ingress not governed
    assert not ref.allowed("ns/server", "ns/client", "TCP", 80)


def test_calico_no_rules_means_ingress() -> None:
    ref = two_pods(gnp("nothing", selector="app == 'server'"))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/server", "ns/client", "TCP", 80)


def test_calico_both_rule_lists_mean_both_types() -> None:
    ref = two_pods(gnp("both", selector="app == 'server'", ingress=[{"action": "Log"}], egress=[{"action": "Log"}]))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert not ref.allowed("ns/server", "ns/client", "TCP", 80)


def test_explicit_types_ignore_rules_of_the_other_direction() -> None:
    ref = two_pods(gnp("p", selector="app == 'server'", types=["Egress"], ingress=[DENY_ALL], egress=[ALLOW_ALL]))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)


# --- selectors, scopes and pseudo-labels (§4.1, §4.5) -------------------------------------------


def test_namespaced_calico_policy_selects_only_its_namespace() -> None:
    ref = OrderedReference(
        [
            pod("a", "server"),
            pod("b", "server"),
            pod("a", "client"),
            cnp("a", "deny", **ingress_to("server", DENY_ALL)),
        ]
    )
    assert not ref.allowed("a/client", "a/server", "TCP", 80)
    assert ref.allowed("a/client", "b/server", "TCP", 80)


def test_gnp_namespace_selector_and_pseudo_labels() -> None:
    ref = OrderedReference(
        [
            namespace("prod", env="prod"),
            namespace("dev", env="dev"),
            pod("prod", "server", sa="api"),
            pod("dev", "server", sa="api"),
            pod("dev", "client"),
            gnp("deny-prod", namespaceSelector="env == 'prod'", **ingress_to("server", DENY_ALL)),
            gnp(
                "deny-by-pseudo",
                selector="projectcalico.org/namespace == 'dev' && projectcalico.org/serviceaccount == 'default'",
                egress=[{"action": "Deny", "protocol": "UDP"}, ALLOW_ALL],
            ),
        ]
    )
    assert not ref.allowed("dev/client", "prod/server", "TCP", 80)
    assert ref.allowed("dev/client", "dev/server", "TCP", 80)
    assert not ref.allowed("dev/client", "dev/server", "UDP", 53)  # client runs as "default"
    assert ref.allowed("dev/server", "dev/client", "UDP", 53)  # server runs as "api"


def test_rule_selector_in_namespaced_policy_is_limited_to_its_namespace() -> None:
    rule = {"action": "Allow", "source": {"selector": "app == 'client'"}}
    ref = OrderedReference(
        [
            pod("a", "client"),
            pod("b", "client"),
            pod("a", "server"),
            cnp("a", "p", **ingress_to("server", rule)),
        ]
    )
    assert ref.allowed("a/client", "a/server", "TCP", 80)
    assert not ref.allowed("b/client", "a/server", "TCP", 80)


def test_rule_namespace_selector_uses_namespace_labels_and_name() -> None:
    by_label = {"action": "Allow", "source": {"namespaceSelector": "team == 'x'"}}
    by_name = {"action": "Allow", "source": {"namespaceSelector": "projectcalico.org/name == 'c'"}}
    ref = OrderedReference(
        [
            namespace("a"),
            namespace("b", team="x"),
            namespace("c"),
            pod("a", "server"),
            pod("b", "client"),
            pod("c", "client"),
            pod("a", "client"),
            cnp("a", "p", **ingress_to("server", by_label, by_name)),
        ]
    )
    assert ref.allowed("b/client", "a/server", "TCP", 80)
    assert ref.allowed("c/client", "a/server", "TCP", 80)
    assert not ref.allowed("a/client", "a/server", "TCP", 80)
    assert not ref.allowed(EXTERNAL, "a/server", "TCP", 80)


def test_selector_all_matches_known_endpoints_only_but_no_selector_matches_everything() -> None:
    ref = two_pods(gnp("p", **ingress_to("server", {"action": "Allow", "source": {"selector": "all()"}})))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert not ref.allowed(EXTERNAL, "ns/server", "TCP", 80)
    ref = two_pods(gnp("p", **ingress_to("server", ALLOW_ALL)))
    assert ref.allowed(EXTERNAL, "ns/server", "TCP", 80)


def test_gnp_not_selector_matches_external_addresses() -> None:
    rule = {"action": "Allow", "source": {"notSelector": "app == 'client'"}}
    ref = OrderedReference(
        [pod("ns", "client"), pod("ns", "other"), pod("ns", "server"), gnp("p", **ingress_to("server", rule))]
    )
    assert ref.allowed(EXTERNAL, "ns/server", "TCP", 80)
    assert ref.allowed("ns/other", "ns/server", "TCP", 80)
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)


def test_not_selector_versus_negated_selector() -> None:
    """entityrule doc: `selector: !has(foo)` matches known endpoints, `notSelector: has(foo)` anything."""
    negated = {"action": "Allow", "source": {"selector": "!has(foo)"}}
    ref = two_pods(gnp("p", **ingress_to("server", negated)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert not ref.allowed(EXTERNAL, "ns/server", "TCP", 80)


def test_namespaced_policy_lone_not_selector_stays_in_its_namespace() -> None:
    """rules.go: in a namespaced policy any selector field, notSelector included, adds the namespace scope."""
    rule = {"action": "Allow", "source": {"notSelector": "app == 'client'"}}
    ref = OrderedReference(
        [
            pod("ns", "client"),
            pod("ns", "other"),
            pod("elsewhere", "other"),
            pod("ns", "server"),
            cnp("ns", "p", **ingress_to("server", rule)),
        ]
    )
    assert ref.allowed("ns/other", "ns/server", "TCP", 80)
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert not ref.allowed("elsewhere/other", "ns/server", "TCP", 80)
    assert not ref.allowed(EXTERNAL, "ns/server", "TCP", 80)


def test_ingress_rule_destination_selector_narrows_the_guarded_endpoints() -> None:
    rule = {"action": "Deny", "destination": {"selector": "app == 'server'"}}
    ref = OrderedReference(
        [
            pod("ns", "client"),
            pod("ns", "server"),
            pod("ns", "db"),
            gnp("p", selector="all()", ingress=[rule, ALLOW_ALL]),
        ]
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/client", "ns/db", "TCP", 80)


# --- nets, network sets (§4.1) -------------------------------------------------------------------


def test_nets_match_pod_ips() -> None:
    rule = {"action": "Deny", "source": {"nets": ["10.0.0.1/32"]}}
    ref = OrderedReference(
        [
            pod("ns", "client", ip="10.0.0.1"),
            pod("ns", "other", ip="10.0.0.3"),
            pod("ns", "server", ip="10.0.0.2"),
            gnp("p", **ingress_to("server", rule, ALLOW_ALL)),
        ]
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/other", "ns/server", "TCP", 80)
    assert not ref.allowed("10.0.0.1", "ns/server", "TCP", 80)


def test_not_nets() -> None:
    rule = {"action": "Allow", "destination": {"notNets": ["10.0.0.0/8"]}}
    ref = two_pods(gnp("p", selector="app == 'client'", egress=[rule]))
    assert ref.allowed("ns/client", "8.8.8.8", "UDP", 53)
    assert not ref.allowed("ns/client", "10.1.2.3", "UDP", 53)
    assert not ref.allowed("ns/client", "ns/server", "UDP", 53)  # its IP 10.0.0.2 is in notNets


def test_global_network_set_membership() -> None:
    rule = {"action": "Allow", "destination": {"selector": "kind == 'partner'"}}
    ref = OrderedReference(
        [
            pod("ns", "client", ip="10.0.0.1"),
            pod("ns", "inside", ip="192.0.2.10", labels={"app": "inside"}),
            pod("ns", "outside", ip="10.0.0.9"),
            global_set("partners", {"kind": "partner"}, ["192.0.2.0/24"]),
            gnp("p", selector="app == 'client'", egress=[rule]),
        ]
    )
    assert ref.allowed("ns/client", "192.0.2.55", "TCP", 443)
    assert not ref.allowed("ns/client", "198.51.100.1", "TCP", 443)
    assert ref.allowed("ns/client", "ns/inside", "TCP", 443)  # its IP is in the set
    assert not ref.allowed("ns/client", "ns/outside", "TCP", 443)


def test_namespaced_policy_sees_global_sets_only_through_global() -> None:
    plain = {"action": "Allow", "destination": {"selector": "kind == 'partner'"}}
    scoped = {
        "action": "Allow",
        "destination": {"selector": "kind == 'partner'", "namespaceSelector": "global()"},
    }
    sets = [
        global_set("partners", {"kind": "partner"}, ["192.0.2.0/24"]),
        namespaced_set("ns", "local", {"kind": "partner"}, ["198.51.100.0/24"]),
        namespaced_set("other", "remote", {"kind": "partner"}, ["233.252.0.0/24"]),
    ]
    client = pod("ns", "client")
    ref = OrderedReference([client, *sets, cnp("ns", "p", selector="app == 'client'", egress=[plain])])
    assert not ref.allowed("ns/client", "192.0.2.1", "TCP", 443)
    assert ref.allowed("ns/client", "198.51.100.1", "TCP", 443)
    assert not ref.allowed("ns/client", "233.252.0.1", "TCP", 443)
    ref = OrderedReference([client, *sets, cnp("ns", "p", selector="app == 'client'", egress=[scoped])])
    assert ref.allowed("ns/client", "192.0.2.1", "TCP", 443)
    assert not ref.allowed("ns/client", "198.51.100.1", "TCP", 443)
    # A GNP without namespaceSelector sees every set.
    ref = OrderedReference([client, *sets, gnp("p", selector="app == 'client'", egress=[plain])])
    for ip in ("192.0.2.1", "198.51.100.1", "233.252.0.1"):
        assert ref.allowed("ns/client", ip, "TCP", 443)


def test_not_selector_excludes_a_set() -> None:
    rule = {"action": "Allow", "destination": {"notSelector": "kind == 'blocked'"}}
    ref = two_pods(
        global_set("bad", {"kind": "blocked"}, ["192.0.2.0/24"]),
        gnp("p", selector="app == 'client'", egress=[rule]),
    )
    assert not ref.allowed("ns/client", "192.0.2.1", "TCP", 443)
    assert ref.allowed("ns/client", "8.8.8.8", "TCP", 443)


# --- service accounts ----------------------------------------------------------------------------


def test_service_account_names_and_selector() -> None:
    by_name = {"action": "Allow", "source": {"serviceAccounts": {"names": ["frontend"]}}}
    by_label = {"action": "Allow", "source": {"serviceAccounts": {"selector": "tier == 'web'"}}}
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "web-sa", "namespace": "ns", "labels": {"tier": "web"}},
    }
    ref = OrderedReference(
        [
            sa,
            pod("ns", "a", sa="frontend"),
            pod("ns", "b", sa="web-sa"),
            pod("ns", "c"),
            pod("ns", "server"),
            cnp("ns", "p", **ingress_to("server", by_name, by_label)),
        ]
    )
    assert ref.allowed("ns/a", "ns/server", "TCP", 80)
    assert ref.allowed("ns/b", "ns/server", "TCP", 80)
    assert not ref.allowed("ns/c", "ns/server", "TCP", 80)
    assert not ref.allowed(EXTERNAL, "ns/server", "TCP", 80)


def test_policy_service_account_selector() -> None:
    ref = OrderedReference(
        [
            pod("ns", "client"),
            pod("ns", "server", sa="db"),
            gnp(
                "p",
                selector="all()",
                serviceAccountSelector="projectcalico.org/name == 'db'",
                ingress=[DENY_ALL],
            ),
        ]
    )
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/server", "ns/client", "TCP", 80)


# --- protocols, ports, conservative source ports and ICMP types ------------------------------------


def test_protocol_and_not_protocol() -> None:
    rules = [{"action": "Allow", "protocol": "TCP"}, {"action": "Allow", "notProtocol": 17, "protocol": 132}]
    ref = two_pods(gnp("p", **ingress_to("server", *rules)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert ref.allowed("ns/client", "ns/server", 6, 80)
    assert ref.allowed("ns/client", "ns/server", "SCTP", 80)
    assert not ref.allowed("ns/client", "ns/server", "UDP", 80)
    assert not ref.allowed("ns/client", "ns/server", "ICMP", None)
    ref = two_pods(gnp("p", **ingress_to("server", {"action": "Allow", "notProtocol": "UDP"})))
    assert ref.allowed("ns/client", "ns/server", "ICMP", None)
    assert ref.allowed("ns/client", "ns/server", 47, None)
    assert not ref.allowed("ns/client", "ns/server", "UDP", 53)


def test_destination_ports_ranges_named_and_not_ports() -> None:
    rule = {
        "action": "Allow",
        "protocol": "TCP",
        "destination": {"ports": [80, "8000:8010", "admin"], "notPorts": [8005]},
    }
    ref = OrderedReference(
        [
            pod("ns", "client"),
            pod("ns", "server", ports=[("admin", "TCP", 9000), ("dns", "UDP", 53)]),
            gnp("p", **ingress_to("server", rule)),
        ]
    )
    for port, expected in [
        (80, True),
        (81, False),
        (8000, True),
        (8005, False),
        (8010, True),
        (8011, False),
        (9000, True),
        (9001, False),
    ]:
        assert ref.allowed("ns/client", "ns/server", "TCP", port) is expected, port


def test_named_port_resolves_on_egress_destination() -> None:
    rule = {"action": "Allow", "protocol": "UDP", "destination": {"ports": ["dns"]}}
    ref = OrderedReference(
        [
            pod("ns", "client"),
            pod("ns", "resolver", ports=[("dns", "UDP", 53)]),
            pod("ns", "other", ports=[("dns", "UDP", 5353), ("dns-tcp", "TCP", 53)]),
            gnp("p", selector="app == 'client'", egress=[rule]),
        ]
    )
    assert ref.allowed("ns/client", "ns/resolver", "UDP", 53)
    assert not ref.allowed("ns/client", "ns/other", "UDP", 53)
    assert ref.allowed("ns/client", "ns/other", "UDP", 5353)
    assert not ref.allowed("ns/client", "8.8.8.8", "UDP", 53)


def test_source_ports_are_conservative() -> None:
    allow = {"action": "Allow", "protocol": "TCP", "source": {"ports": ["1024:65535"]}}
    deny = {"action": "Deny", "protocol": "TCP", "source": {"ports": [53]}}
    ref = two_pods(gnp("p", **ingress_to("server", allow)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)  # some source port fits
    ref = two_pods(gnp("p", **ingress_to("server", deny, ALLOW_ALL)))
    assert ref.allowed("ns/client", "ns/server", "TCP", 80)  # some source port escapes the Deny
    ref = two_pods(gnp("p", **ingress_to("server", {**deny, "source": {"ports": ["0:65535"]}}, ALLOW_ALL)))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)  # every source port is caught


def test_icmp_type_and_code_are_exact() -> None:
    """ICMP probes carry type * 256 + code; None asks whether some message is allowed."""
    echo = 8 * 256
    allow = {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8}}
    ref = two_pods(gnp("p", **ingress_to("server", allow)))
    assert ref.allowed("ns/client", "ns/server", "ICMP", echo)
    assert ref.allowed("ns/client", "ns/server", "ICMP", echo + 3)
    assert not ref.allowed("ns/client", "ns/server", "ICMP", 0)
    assert ref.allowed("ns/client", "ns/server", "ICMP", None)
    assert not ref.allowed("ns/client", "ns/server", "ICMPv6", None)
    deny = {"action": "Deny", "protocol": "ICMP", "icmp": {"type": 8, "code": 0}}
    ref = two_pods(gnp("p", **ingress_to("server", deny, ALLOW_ALL)))
    assert not ref.allowed("ns/client", "ns/server", "ICMP", echo)
    assert ref.allowed("ns/client", "ns/server", "ICMP", echo + 1)
    assert ref.allowed("ns/client", "ns/server", "ICMP", None)
    contradictory = {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8}, "notICMP": {"type": 8}}
    ref = two_pods(gnp("p", **ingress_to("server", contradictory)))
    assert not ref.allowed("ns/client", "ns/server", "ICMP", None)


def test_icmp_any_needs_both_sides_to_agree_on_one_message() -> None:
    """Egress allows only echo, ingress denies echo: no single ICMP message gets through."""
    only_echo = {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8}}
    no_echo = {"action": "Deny", "protocol": "ICMP", "icmp": {"type": 8}}
    ref = two_pods(
        gnp("out", selector="app == 'client'", egress=[only_echo]),
        gnp("in", **ingress_to("server", no_echo, ALLOW_ALL)),
    )
    assert ref.egress_allows("ns/client", "ns/server", "ICMP", None)
    assert ref.ingress_allows("ns/client", "ns/server", "ICMP", None)
    assert not ref.allowed("ns/client", "ns/server", "ICMP", None)


def test_port_interval_helpers() -> None:
    def spec(first: int, last: int) -> PortSpec:
        return PortSpec(first, last)

    dummy = OrderedReference([pod("ns", "x")])._resolve("ns/x")
    assert some_port_fits(None, None, dummy, 6)
    assert not some_port_fits(None, [spec(0, 65535)], dummy, 6)
    assert some_port_fits(None, [spec(1, 65534)], dummy, 6)
    assert not some_port_fits([spec(80, 80)], [spec(80, 80)], dummy, 6)
    assert some_port_fits([spec(80, 81)], [spec(80, 80)], dummy, 6)
    assert every_port_fits(None, None, dummy, 6)
    assert every_port_fits([spec(1, 100), spec(101, 65535)], None, dummy, 6)
    assert not every_port_fits([spec(1, 100), spec(102, 65535)], None, dummy, 6)
    assert not every_port_fits(None, [spec(7, 7)], dummy, 6)


def test_rewrite_scope_functions_leaves_literals_alone() -> None:
    out = rewrite_scope_functions("global() || k == 'all()' && !all()")
    assert "'all()'" in out
    assert out.count("has(") == 2


# --- AdminNetworkPolicy / BaselineAdminNetworkPolicy (§3, conformance integration example) ------


def anp(name: str, priority: int, subject: dict, **rules: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"priority": priority, "subject": subject, **rules},
    }


def banp(subject: dict, **rules: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {"subject": subject, **rules},
    }


def anp_rule(action: str, *peers: dict, ports: list | None = None, egress: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": action.lower(),
        "action": action,
        ("to" if egress else "from"): list(peers),
    }
    if ports is not None:
        rule["ports"] = ports
    return rule


HOUSE = "conformance-house"
GRYFFINDOR = {"namespaces": {"matchLabels": {HOUSE: "gryffindor"}}}
SLYTHERIN = {"namespaces": {"matchLabels": {HOUSE: "slytherin"}}}


def integration_cluster(anp_action: str | None, with_np: bool) -> OrderedReference:
    """standard-anp-np-banp.yaml from network-policy-api conformance (§3)."""
    manifests: list[dict] = [
        namespace("gryffindor", **{HOUSE: "gryffindor"}),
        namespace("slytherin", **{HOUSE: "slytherin"}),
        namespace("hufflepuff", **{HOUSE: "hufflepuff"}),
        pod("gryffindor", "harry"),
        pod("slytherin", "draco"),
        pod("hufflepuff", "cedric"),
        banp(
            GRYFFINDOR,
            ingress=[anp_rule("Deny", SLYTHERIN)],
            egress=[anp_rule("Deny", SLYTHERIN, egress=True)],
        ),
    ]
    if anp_action is not None:
        manifests.append(
            anp(
                "pass-example",
                10,
                GRYFFINDOR,
                ingress=[anp_rule(anp_action, SLYTHERIN)],
                egress=[anp_rule(anp_action, SLYTHERIN, egress=True)],
            )
        )
    if with_np:
        slytherin_ns = {"namespaceSelector": {"matchLabels": {HOUSE: "slytherin"}}}
        manifests.append(
            knp(
                "gryffindor",
                "allow-gress-from-to-slytherin-to-gryffindor",
                policyTypes=["Ingress", "Egress"],
                ingress=[{"from": [slytherin_ns]}],
                egress=[{"to": [slytherin_ns]}],
            )
        )
    return OrderedReference(manifests)


def test_anp_deny_beats_networkpolicy_allow() -> None:
    ref = integration_cluster("Deny", with_np=True)
    assert not ref.allowed("slytherin/draco", "gryffindor/harry", "TCP", 80)
    assert not ref.allowed("gryffindor/harry", "slytherin/draco", "UDP", 53)


def test_anp_pass_lets_networkpolicy_allow() -> None:
    ref = integration_cluster("Pass", with_np=True)
    assert ref.allowed("slytherin/draco", "gryffindor/harry", "TCP", 80)
    assert ref.allowed("gryffindor/harry", "slytherin/draco", "UDP", 53)
    # The NetworkPolicy isolates harry from everyone else (default tier's Deny before BANP).
    assert not ref.allowed("hufflepuff/cedric", "gryffindor/harry", "TCP", 80)


def test_no_networkpolicy_hands_over_to_banp() -> None:
    ref = integration_cluster("Pass", with_np=False)
    assert not ref.allowed("slytherin/draco", "gryffindor/harry", "TCP", 80)
    assert ref.allowed("hufflepuff/cedric", "gryffindor/harry", "TCP", 80)
    ref = integration_cluster(None, with_np=False)
    assert not ref.allowed("gryffindor/harry", "slytherin/draco", "TCP", 80)


def test_anp_allow_beats_networkpolicy_isolation() -> None:
    ref = integration_cluster("Allow", with_np=True)
    assert ref.allowed("slytherin/draco", "gryffindor/harry", "TCP", 80)
    assert not ref.allowed("hufflepuff/cedric", "gryffindor/harry", "TCP", 80)


def test_anp_priority_and_rule_order() -> None:
    everyone = {"namespaces": {}}
    ref = OrderedReference(
        [
            pod("a", "client"),
            pod("b", "server"),
            anp("low", 50, everyone, ingress=[anp_rule("Allow", everyone)]),
            anp(
                "high",
                5,
                everyone,
                ingress=[anp_rule("Deny", everyone, ports=[{"portNumber": {"port": 80}}])],
            ),
        ]
    )
    assert not ref.allowed("a/client", "b/server", "TCP", 80)
    assert ref.allowed("a/client", "b/server", "TCP", 81)
    assert ref.allowed("a/client", "b/server", "UDP", 80)  # portNumber protocol defaults to TCP


def test_anp_networks_match_pod_ips_and_ports() -> None:
    everyone = {"namespaces": {}}
    deny = anp_rule(
        "Deny",
        {"networks": ["10.0.0.0/24"]},
        ports=[{"portRange": {"protocol": "UDP", "start": 50, "end": 60}}, {"namedPort": "web"}],
        egress=True,
    )
    ref = OrderedReference(
        [
            pod("a", "client", ip="10.1.0.1"),
            pod("b", "server", ip="10.0.0.5", ports=[("web", "TCP", 8080)]),
            anp("p", 1, everyone, egress=[deny]),
        ]
    )
    assert not ref.allowed("a/client", "b/server", "UDP", 53)
    assert ref.allowed("a/client", "b/server", "UDP", 61)
    assert not ref.allowed("a/client", "b/server", "TCP", 8080)
    assert ref.allowed("a/client", "b/server", "TCP", 8081)
    assert not ref.allowed("a/client", "10.0.0.99", "UDP", 55)
    assert ref.allowed("a/client", "10.0.0.99", "TCP", 8080)  # an external address has no named ports


def test_anp_pods_peer_needs_namespace_and_pod() -> None:
    peer = {
        "pods": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}},
            "podSelector": {"matchLabels": {"app": "client"}},
        }
    }
    ref = OrderedReference(
        [
            pod("a", "client"),
            pod("b", "client"),
            pod("b", "other"),
            pod("c", "server"),
            anp("p", 1, {"namespaces": {}}, ingress=[anp_rule("Deny", peer)]),
        ]
    )
    assert not ref.allowed("b/client", "c/server", "TCP", 80)
    assert ref.allowed("a/client", "c/server", "TCP", 80)
    assert ref.allowed("b/other", "c/server", "TCP", 80)


# --- probes and inputs ----------------------------------------------------------------------------


def test_external_to_external_and_unknown_names() -> None:
    ref = two_pods(gnp("deny", selector="all()", ingress=[DENY_ALL], egress=[DENY_ALL]))
    assert ref.allowed("1.2.3.4", "5.6.7.8", "TCP", 80)
    with pytest.raises(ValueError):
        ref.allowed("ns/nobody", "ns/server", "TCP", 80)
    with pytest.raises(ValueError):
        ref.allowed("ns/client", "ns/server", "TCP", None)
    with pytest.raises(ValueError):
        ref.allowed("ns/client", "ns/server", "ICMP", 70000)
    with pytest.raises(ValueError):
        ref.allowed("ns/client", "ns/server", 47, 1)


def test_workloads_are_endpoints_without_ips() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}},
    }
    deny_net = {"action": "Deny", "source": {"nets": ["0.0.0.0/0"]}}
    ref = OrderedReference(
        [
            deployment,
            pod("ns", "server", ip="10.0.0.2"),
            gnp("p", **ingress_to("server", deny_net, ALLOW_ALL)),
        ]
    )
    assert ref.endpoints() == ["ns/web", "ns/server"]
    assert ref.allowed("ns/web", "ns/server", "TCP", 80)  # a workload has no IP inside any net
    assert not ref.allowed("8.8.8.8", "ns/server", "TCP", 80)


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": CALICO, "kind": "HostEndpoint", "metadata": {"name": "h"}, "spec": {}},
        gnp("p", ingress=[{"action": "Allow", "http": {"methods": ["GET"]}}]),
        gnp("p", ingress=[{"action": "Allow", "destination": {"ports": [80]}}]),  # ports without protocol
        gnp("p", ingress=[{"action": "Reject"}]),
        anp("p", 1, {"namespaces": {}}, egress=[anp_rule("Allow", {"nodes": {}}, egress=True)]),
    ],
)
def test_unmodelled_or_invalid_inputs_raise(obj: dict) -> None:
    with pytest.raises(ValueError):
        OrderedReference([obj])


def test_staged_policies_are_ignored() -> None:
    staged = {
        "apiVersion": CALICO,
        "kind": "StagedGlobalNetworkPolicy",
        "metadata": {"name": "s"},
        "spec": {"selector": "all()", "ingress": [DENY_ALL]},
    }
    assert two_pods(staged).allowed("ns/client", "ns/server", "TCP", 80)


def test_crd_api_version_is_accepted() -> None:
    policy = gnp("deny", **ingress_to("server", DENY_ALL))
    policy["apiVersion"] = "crd.projectcalico.org/v1"
    assert not two_pods(policy).allowed("ns/client", "ns/server", "TCP", 80)


def test_empty_calico_lists_are_no_condition() -> None:
    """Calico's EntityRule fields are Go slices: `nets: []` or `ports: []` constrain nothing."""
    rule = {
        "action": "Deny",
        "protocol": "TCP",
        "source": {"nets": [], "notNets": []},
        "destination": {"ports": [], "notPorts": []},
    }
    ref = two_pods(gnp("p", **ingress_to("server", rule, ALLOW_ALL)))
    assert not ref.allowed("ns/client", "ns/server", "TCP", 80)
    assert not ref.allowed(EXTERNAL, "ns/server", "TCP", 80)
    assert ref.allowed("ns/client", "ns/server", "UDP", 80)
