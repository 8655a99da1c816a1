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


def test_per_pod_graph(leaky):
    assert "shop/web-2" in leaky.graph(per_pod=True)
