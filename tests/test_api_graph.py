"""cluster.graph: the matrix as a networkx DiGraph, tenants as the contract sees them."""

from __future__ import annotations

import networkx as nx
import pytest
from api_scenario import LEAKY_INGRESS, POLICIES, REPORTING_EGRESS

import netverify as nv


@pytest.fixture(scope="module")
def leaky():
    return nv.load(POLICIES, cni="calico").with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])


def test_nodes_are_endpoints_and_edges_are_allowed_flows(leaky):
    graph = leaky.graph()
    matrix = leaky.matrix()
    endpoints = [e.id for e in matrix.endpoints()]
    assert list(graph.nodes)[: len(endpoints)] == endpoints
    hops = {n for n in graph.nodes if n not in endpoints}
    assert {graph.nodes[n]["kind"] for n in hops} <= {"LoadBalancer", "Service", "external"}
    flows = [(s, d) for s, d in graph.edges if s in endpoints and d in endpoints and "conn" in graph.edges[s, d]
             and graph.nodes[s]["kind"] != "LoadBalancer"]
    assert sorted(flows) == sorted((s.id, d.id) for s, d, _ in matrix.connections())
    edge = graph.edges["analytics/api", "shop/db"]
    assert edge["label"] == "TCP 5432" and edge["conn"].contains("TCP", 5432)
    node = graph.nodes["shop/db"]
    assert (node["kind"], node["namespace"], node["name"], node["tenant"], node["external"]) == (
        "StatefulSet",
        "shop",
        "db",
        "shop",
        False,
    )
    assert graph.nodes[matrix.find("10.0.0.7").id]["tenant"] is None


def test_tenants_follow_the_contract(leaky):
    graph = leaky.graph(contract={"tenants": {"namespaces": {"retail": ["shop", "billing"]}}})
    assert graph.nodes["shop/db"]["tenant"] == graph.nodes["billing/db"]["tenant"] == "retail"
    assert graph.nodes["analytics/db"]["tenant"] == "analytics"


def test_path_questions(leaky):
    graph = leaky.graph()
    # shop's ALB subnet reaches its database in three hops: web, api, db
    alb = leaky.matrix().find("10.0.0.7").id
    assert [alb, "shop/web", "shop/api", "shop/db"] in list(nx.all_shortest_paths(graph, alb, "shop/db"))
    # what outside shop reaches its database: the leak, and nothing else
    assert {n for n in graph.predecessors("shop/db") if graph.nodes[n]["namespace"] != "shop"} == {"analytics/api"}
    cross = [(s, d) for s, d in graph.edges if graph.nodes[s]["tenant"] not in (None, graph.nodes[d]["tenant"])]
    assert ("analytics/api", "shop/db") in cross


def test_the_alb_path_is_internet_to_load_balancer_to_service_to_pods(leaky):
    graph = leaky.graph()
    assert graph.nodes["alb:shop/web"]["kind"] == "LoadBalancer" and graph.nodes["svc:shop/web"]["kind"] == "Service"
    path = nx.shortest_path(graph, "0.0.0.0-255.255.255.255", "shop/web")
    assert path == ["0.0.0.0-255.255.255.255", "alb:shop/web", "svc:shop/web", "shop/web"]
    assert graph.edges["svc:shop/web", "shop/web"]["target_port"] == "http"


def test_per_pod_graph(leaky):
    assert "shop/web-2" in leaky.graph(per_pod=True)
