"""Formatters of `netverify matrix`: each turns a ConnectivityMatrix into text for one format."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix
from netverify.report import jsonfmt


@dataclass(frozen=True)
class MatrixView:
    matrix: ConnectivityMatrix
    per_pod: bool = False
    color: bool = False

    def connections(self):
        """Pod and external flows, then the load balancer hops (frontend -> ALB -> target pods)."""
        from netverify.engine.external_paths import load_balancer_flows

        yield from self.matrix.connections(self.per_pod)
        yield from load_balancer_flows(self.matrix, self.per_pod)


def render_json(view: MatrixView) -> str:
    from netverify.engine.external_paths import load_balancer_endpoints, load_balancer_flows

    m = view.matrix
    # Tens of thousands of entries share few endpoints and few connection sets: each is encoded once, and
    # every entry's one-line text is assembled from those pieces.
    names: dict[str, str] = {}

    def name(ident: str) -> str:
        found = names.get(ident)
        if found is None:
            found = names[ident] = jsonfmt.dumps_compact(ident)
        return found

    sources, destinations, words = m.connection_table(view.per_pod)
    distinct, which = np.unique(words, axis=0, return_inverse=True)
    conns = [ConnSet(row, m.compiled.services).to_json() for row in distinct]
    texts = [jsonfmt.dumps_compact(data) for data in conns]
    endpoints = m.endpoints(view.per_pod)
    for endpoint in endpoints:
        name(endpoint.id)
    encoded = jsonfmt.Encoded
    connections = [  # inline: one entry per allowed pair, tens of thousands of them
        encoded(
            {"src": src.id, "dst": dst.id, "conn": conns[k]},
            f'{{"src": {names[src.id]}, "dst": {names[dst.id]}, "conn": {texts[k]}}}',
        )
        for src, dst, k in zip(sources, destinations, which.reshape(-1).tolist(), strict=True)
    ]
    for src, dst, conn in load_balancer_flows(m, view.per_pod):
        data = conn.to_json()
        line = f'{{"src": {name(src.id)}, "dst": {name(dst.id)}, "conn": {jsonfmt.dumps_compact(data)}}}'
        connections.append(encoded({"src": src.id, "dst": dst.id, "conn": data}, line))
    data = {
        "endpoints": [e.to_json() for e in endpoints] + load_balancer_endpoints(m),
        "connections": connections,
    }
    return jsonfmt.dumps(data) + "\n"


def render_csv(view: MatrixView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["src", "dst", "conn"])
    for src, dst, conn in view.connections():
        writer.writerow([src.id, dst.id, str(conn)])
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_md(view: MatrixView) -> str:
    rows = ["| source | destination | allowed |", "|---|---|---|"]
    for src, dst, conn in view.connections():
        rows.append(f"| {_md_cell(src.id)} | {_md_cell(dst.id)} | {_md_cell(str(conn))} |")
    if len(rows) == 2:
        rows.append("| _(no allowed flows)_ | | |")
    return "\n".join(rows) + "\n"


def _label(endpoint) -> str:
    if endpoint.kind == "external":
        return f"{endpoint.id} [external]"
    return f"{endpoint.id} [{endpoint.kind}]"


def render_text(view: MatrixView) -> str:
    """Aligned `source => destination : services`, grouped by source, with a one-line summary."""
    m = view.matrix
    lines: list[tuple[str, str, str]] = [(_label(src), _label(dst), str(conn)) for src, dst, conn in view.connections()]
    endpoints = m.endpoints(view.per_pod)
    workloads = sum(1 for e in endpoints if not e.is_external)
    summary = (
        f"{workloads} {'pods' if view.per_pod else 'workloads/pods'}, "
        f"{len(endpoints) - workloads} external ranges, {len(m.compiled.cluster.policies)} policies, "
        f"{len(lines)} allowed flows"
    )
    if not lines:
        return f"no allowed flows\n{summary}\n"
    width_src = max(len(s) for s, _, _ in lines)
    width_dst = max(len(d) for _, d, _ in lines)
    bold, dim, reset = ("\033[1m", "\033[2m", "\033[0m") if view.color else ("", "", "")
    out: list[str] = []
    previous = None
    for src, dst, conn in lines:
        shown = src if src != previous else ""
        previous = src
        out.append(f"{bold}{shown:<{width_src}}{reset} => {dst:<{width_dst}} : {conn}")
    out.append(f"{dim}{summary}{reset}")
    return "\n".join(out) + "\n"


def render_dot(view: MatrixView) -> str:
    """Graphviz: endpoints, and the load balancer path Internet -> ALB -> Service -> pod."""
    from netverify.report.dot import render_dot as dot
    from netverify.verify.graph import connectivity_graph

    return dot(connectivity_graph(view.matrix, per_pod=view.per_pod))


MATRIX_FORMATS: dict[str, Callable[[MatrixView], str]] = {
    "text": render_text,
    "dot": render_dot,
    "json": render_json,
    "csv": render_csv,
    "md": render_md,
}
