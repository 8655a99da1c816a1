"""The connectivity matrix as a directed graph, for path questions ("can the internet reach the db in
two hops?") that networkx answers better than a matrix.

One function builds it from the matrix, so later kinds of hops (an ALB between the internet and a
Service) are added in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netverify.engine.matrix import ConnectivityMatrix
from netverify.verify.contract import Contract

if TYPE_CHECKING:
    import networkx


def connectivity_graph(
    matrix: ConnectivityMatrix, contract: Contract | None = None, per_pod: bool = False
) -> networkx.DiGraph:
    """Nodes: endpoint ids with `kind`, `namespace`, `tenant` (None for addresses and host endpoints) and
    `external`; edges: allowed flows with `conn` (the ConnSet) and `label` (its text).

    Tenants follow `contract` (default: every namespace its own tenant), as `netverify check` sees them.
    """
    import networkx as nx

    contract = contract or Contract.default_contract()
    namespaces = matrix.compiled.cluster.namespaces
    graph = nx.DiGraph()
    for endpoint in matrix.endpoints(per_pod):
        tenant = (
            contract.tenant_of(namespaces.get(endpoint.namespace), endpoint.namespace)
            if endpoint.namespace is not None
            else None
        )
        graph.add_node(
            endpoint.id,
            kind=endpoint.kind,
            namespace=endpoint.namespace,
            name=endpoint.name,
            tenant=tenant,
            external=endpoint.is_external,
        )
    for src, dst, conn in matrix.connections(per_pod):
        graph.add_edge(src.id, dst.id, conn=conn, label=str(conn))
    add_load_balancer_hops(graph, matrix, per_pod)
    return graph


def add_load_balancer_hops(graph, matrix: ConnectivityMatrix, per_pod: bool = False) -> None:
    """Frontend range -> ALB (`kind` LoadBalancer; edge: listener ports) -> Service (`kind` Service; edge:
    the routes) -> target workload (edge: the target port), the last only where the pod's policy may admit
    the ALB: so `nx.has_path(g, "0.0.0.0-255.255.255.255", "shop/db")` answers exposure through ALBs too."""
    from netverify.engine.external_paths import balancer_json, frontend_flows
    from netverify.engine.hops import load_balancer_hops

    balancers = matrix.compiled.load_balancers.balancers
    for lb in balancers:
        info = balancer_json(lb)
        graph.add_node(lb.endpoint_id, **{**info, "tenant": None, "external": False})
        for src, dst, conn in frontend_flows(lb):
            if src.id not in graph:
                graph.add_node(src.id, kind="external", namespace=None, name=None, tenant=None, external=True)
            graph.add_edge(src.id, dst.id, conn=conn, label=str(conn))
    admitted = {
        (hop.balancer.endpoint_id, id(hop.target), hop.group) for hop in load_balancer_hops(matrix) if hop.reaches
    }
    groups = matrix.compiled.groups
    for lb in balancers:
        for route in lb.routes:
            for target in route.targets:
                if target.service is None or target.service_port is None:
                    continue
                service_id = f"svc:{target.service.id}"
                graph.add_node(
                    service_id,
                    kind="Service",
                    namespace=target.namespace,
                    name=target.service.name,
                    tenant=None,
                    external=False,
                )
                via = f"{route.match} ({route.ingress.id})"
                edge = graph.get_edge_data(lb.endpoint_id, service_id)
                if edge is None:
                    graph.add_edge(
                        lb.endpoint_id,
                        service_id,
                        via=[via],
                        port=target.service_port.port,
                        label=f"port {target.service_port.port}: {via}",
                    )
                elif via not in edge["via"]:
                    edge["via"].append(via)
                    edge["label"] = f"port {edge['port']}: " + ", ".join(edge["via"])
                for group in target.groups:
                    if (lb.endpoint_id, id(target), group) not in admitted:
                        continue
                    for node in _group_nodes(graph, groups[group].id, per_pod):
                        graph.add_edge(
                            service_id, node, target_port=target.target_port, label=f"targetPort {target.target_port}"
                        )


def _group_nodes(graph, group_id: str, per_pod: bool) -> list[str]:
    if not per_pod:
        return [group_id] if group_id in graph else []
    return [n for n, data in graph.nodes(data=True) if n == group_id or data.get("owner") == group_id]
