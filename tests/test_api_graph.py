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
    assert list(graph.nodes) == [e.id for e in matrix.endpoints()]
    assert sorted(graph.edges) == sorted((s.id, d.id) for s, d, _ in matrix.connections())
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
    assert graph.nodes["10.0.0.0-10.0.2.255"]["tenant"] is None


def test_tenants_follow_the_contract(leaky):
    graph = leaky.graph(contract={"tenants": {"namespaces": {"retail": ["shop", "billing"]}}})
    assert graph.nodes["shop/db"]["tenant"] == graph.nodes["billing/db"]["tenant"] == "retail"
    assert graph.nodes["analytics/db"]["tenant"] == "analytics"


def test_path_questions(leaky):
    graph = leaky.graph()
    # the ALB subnets reach shop's database in three hops, through shop's api and now through analytics'
    alb = "10.0.0.0-10.0.2.255"
    assert sorted(nx.all_shortest_paths(graph, alb, "shop/db")) == [
        [alb, "analytics/web", "analytics/api", "shop/db"],
        [alb, "shop/web", "shop/api", "shop/db"],
    ]
    cross = [(s, d) for s, d in graph.edges if graph.nodes[s]["tenant"] not in (None, graph.nodes[d]["tenant"])]
    assert ("analytics/api", "shop/db") in cross


def test_per_pod_graph(leaky):
    assert "shop/web-2" in leaky.graph(per_pod=True)
