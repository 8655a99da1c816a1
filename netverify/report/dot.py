"""Graphviz DOT of the connectivity graph (netverify.verify.graph), written directly: no pydot or
pygraphviz needed. Shapes tell endpoints, address ranges, load balancers and Services apart."""

from __future__ import annotations

_SHAPES = {"external": "note", "LoadBalancer": "hexagon", "Service": "ellipse"}


def _quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(graph) -> str:
    lines = ["digraph netverify {", "  rankdir=LR;", "  node [fontname=Helvetica, fontsize=10];"]
    for node, data in graph.nodes(data=True):
        shape = _SHAPES.get(data.get("kind") or "", "box")
        lines.append(f"  {_quote(node)} [label={_quote(node)}, shape={shape}];")
    for src, dst, data in graph.edges(data=True):
        lines.append(f"  {_quote(src)} -> {_quote(dst)} [label={_quote(data.get('label', ''))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
