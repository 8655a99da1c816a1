"""The connectivity map as a networkx DiGraph, with the load balancer path spelled out hop by hop:
source range -> ALB (listener ports) -> Service (routes) -> pod workload (target port the policy admits).

Nodes carry `kind` (a workload kind, Pod, external, LoadBalancer, Service), `namespace` and `label`;
edges carry `conn` (the matrix's conn object, with to_json()) and, on ALB edges, `via` (host/path rules).
`matrix --format dot` and the notebook's `graph()` both draw this graph.
"""

from __future__ import annotations

from netverify.engine.external_paths import ListenerPorts, balancer_json, load_balancer_flows
from netverify.engine.hops import NONE, load_balancer_hops
from netverify.engine.matrix import ConnectivityMatrix


def _add_endpoint(graph, endpoint) -> None:
    if endpoint.id not in graph:
        graph.add_node(endpoint.id, kind=endpoint.kind, namespace=endpoint.namespace, label=endpoint.id)


def build_graph(matrix: ConnectivityMatrix, per_pod: bool = False):
    import networkx as nx

    graph = nx.DiGraph()
    for endpoint in matrix.endpoints(per_pod):
        _add_endpoint(graph, endpoint)
    for src, dst, conn in matrix.connections(per_pod):
        graph.add_edge(src.id, dst.id, conn=conn)
    for lb in matrix.compiled.load_balancers.balancers:
        info = balancer_json(lb)
        graph.add_node(lb.endpoint_id, **{**info, "label": lb.endpoint_id})
    admitted = {
        (hop.balancer.endpoint_id, id(hop.target), hop.group)
        for hop in load_balancer_hops(matrix)
        if hop.purpose == "traffic" and hop.admitted != NONE and hop.port is not None
    }
    for src, dst, conn in load_balancer_flows(matrix, per_pod):
        if isinstance(conn, ListenerPorts):  # frontend range -> ALB
            _add_endpoint(graph, src)
            graph.add_edge(src.id, dst.id, conn=conn)
    groups = matrix.compiled.groups
    for lb in matrix.compiled.load_balancers.balancers:
        for route in lb.routes:
            for target in route.targets:
                if target.service is None:
                    continue
                service_id = f"svc:{target.service.id}"
                graph.add_node(service_id, kind="Service", namespace=target.namespace, label=service_id)
                edge = graph.get_edge_data(lb.endpoint_id, service_id)
                via = f"{route.match} ({route.ingress.id})"
                if edge is None:
                    graph.add_edge(lb.endpoint_id, service_id, via=[via], port=target.service_port.port)
                elif via not in edge["via"]:
                    edge["via"].append(via)
                for group in target.groups:
                    if (lb.endpoint_id, id(target), group) not in admitted:
                        continue
                    for endpoint_id in _group_nodes(graph, groups[group].id, per_pod):
                        graph.add_edge(service_id, endpoint_id, target_port=target.target_port)
    return graph


def _group_nodes(graph, group_id: str, per_pod: bool) -> list[str]:
    if not per_pod:
        return [group_id] if group_id in graph else []
    return [n for n, data in graph.nodes(data=True) if n == group_id or data.get("owner") == group_id]


def _quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


_SHAPES = {"external": "note", "LoadBalancer": "hexagon", "Service": "ellipse"}


def render_dot(graph) -> str:
    """Graphviz DOT, written directly (no pydot/pygraphviz needed)."""
    lines = ["digraph netverify {", "  rankdir=LR;", "  node [fontname=Helvetica, fontsize=10];"]
    for node, data in graph.nodes(data=True):
        shape = _SHAPES.get(data.get("kind", ""), "box")
        lines.append(f"  {_quote(node)} [label={_quote(data.get('label', node))}, shape={shape}];")
    for src, dst, data in graph.edges(data=True):
        if "conn" in data:
            label = str(data["conn"])
        elif "via" in data:
            label = f"port {data['port']}: " + ", ".join(data["via"])
        else:
            label = f"targetPort {data.get('target_port')}"
        lines.append(f"  {_quote(src)} -> {_quote(dst)} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
