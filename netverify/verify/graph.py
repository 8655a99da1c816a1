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
    return graph
