"""cluster.explain: the CLI's packet trace, whose verdict always equals the matrix's."""

from __future__ import annotations

import pytest
from api_scenario import LEAKY_INGRESS, POLICIES, REPORTING_EGRESS

import netverify as nv
from netverify.notebook import InputProblemError


@pytest.fixture(scope="module")
def leaky():
    return nv.load(POLICIES, cni="calico").with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])


def test_explained_leak_names_both_rules_with_positions(leaky):
    explanation = leaky.explain("analytics/api", "shop/db", "5432/TCP")
    assert explanation.allowed
    rules = [(d.policy.name, d.rule.name, d.rule.source.file, d.rule.source.line) for d in explanation.allowed_by()]
    assert rules == [
        ("analytics/reporting-to-shop-db", "egress[0]", "<add[0]>", 11),
        ("shop/db-from-api", "ingress[0]", "<add[1]>", 11),
    ]
    text = repr(explanation)
    assert text.splitlines()[0] == "analytics/api -> shop/db  TCP 5432: ALLOWED"
    assert "Allow: NetworkPolicy shop/db-from-api ingress[0] (tier default) at <add[1]>:11:7" in text


def test_verdict_equals_the_matrix_for_every_pair_and_port(leaky):
    """Address ranges are named by their ids as the matrix prints them ("first-last")."""
    matrix = leaky.matrix()
    endpoints = matrix.endpoints()
    services = (("5432/TCP", "TCP", 5432), ("53/UDP", "UDP", 53), ("7777/TCP", "TCP", 7777))
    for src in endpoints:
        for dst in endpoints:
            if src.id == dst.id or (src.is_external and dst.is_external):
                continue
            for port, protocol, number in services:
                explanation = leaky.explain(src.id, dst.id, port)
                conn = matrix.conn(src, dst)
                assert explanation.allowed == conn.contains(protocol, number), (src.id, dst.id, port)


def test_without_a_port_services_are_grouped_like_the_cli(leaky):
    explanation = leaky.explain("shop/web", "kube-system/coredns")
    # TCP 53 and UDP 53 are allowed by different rules of the platform policy: two groups
    assert [(explanation.services(g), g.flow.allowed) for g in explanation.groups] == [
        ("all except TCP 53; UDP 53", False),
        ("TCP 53", True),
        ("UDP 53", True),
    ]


def test_denied_flow_says_which_tier_ended_it(leaky):
    explanation = leaky.explain("billing/api", "shop/db", "5432/TCP")
    assert not explanation.allowed
    assert "DENIED" in repr(explanation) and "end of tier default" in repr(explanation)


def test_port_range_label_is_clipped_to_what_was_asked(leaky):
    explanation = leaky.explain("analytics/api", "shop/db", "5000-6000/TCP")
    labels = {explanation.services(g): g.flow.allowed for g in explanation.groups}
    assert labels == {"TCP 5432": True, "TCP 5000-5431,5433-6000": False}


def test_pods_of_workloads_and_addresses_are_endpoints(leaky):
    # 10.0.0.0/24 holds shop's ALB: its addresses reach the web front end on http
    assert leaky.explain("10.0.0.7", "shop/web", "8080/TCP").allowed
    assert leaky.explain("shop/web-0", "shop/api-1", "8080/TCP").allowed
    trace = repr(leaky.explain("10.0.0.7", "shop/web", "8080/TCP"))
    assert "an address outside the cluster, no policy applies" in trace


def test_unknown_or_unusable_endpoints_are_refused(leaky):
    with pytest.raises(InputProblemError, match="no endpoint 'shop/nope'"):
        leaky.explain("shop/nope", "shop/db")
    with pytest.raises(InputProblemError, match="at least one"):
        leaky.explain("8.8.8.8", "1.1.1.1")
    with pytest.raises(ValueError, match="invalid port"):
        leaky.explain("shop/api", "shop/db", "http")


def test_explanation_html(leaky):
    page = leaky.explain("analytics/api", "shop/db", "5432/TCP")._repr_html_()
    assert "ALLOWED" in page and "reporting-to-shop-db" in page and "&lt;add[1]&gt;:11:7" in page
    assert "<script" not in page


def test_icmp_request_is_labelled_by_type_not_by_value_range(leaky):
    explanation = leaky.explain("shop/web", "shop/api", "ICMP")
    assert [(explanation.services(g), g.flow.allowed) for g in explanation.groups] == [("ICMP", True)]
    assert explanation.allowed == leaky.matrix().allowed("shop/web", "shop/api", "ICMP")


def test_explain_from_the_internet_shows_the_alb_hop_and_the_direct_path():
    cluster = nv.load(POLICIES)
    through = cluster.explain("internet", "shop/web", "8080/TCP")
    assert through.allowed and [p.balancer.endpoint_id for p in through.load_balancer_paths] == ["alb:shop/web"]
    assert "REACHABLE" in repr(through) and "shop/allow-alb-to-web" in repr(through)
    assert not any(g.flow.allowed for g in through.groups)  # no raw L3 path from the internet
    assert "<pre>" in through._repr_html_()
    assert not cluster.explain("internet", "shop/db").allowed
    with pytest.raises(Exception, match="no load balancer"):
        cluster.explain("alb:nope", "shop/web")
