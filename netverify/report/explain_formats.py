"""Formatters of `netverify explain`: the packet trace, grouped by services that share one explanation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import Endpoint
from netverify.report import jsonfmt
from netverify.verify.explain import Decision, DirectionTrace, ExplainedGroup


@dataclass(frozen=True)
class ExplainView:
    src: Endpoint
    dst: Endpoint
    groups: list[ExplainedGroup]
    space: object  # ServiceSpace
    color: bool = False
    load_balancer_paths: list = field(default_factory=list)  # LoadBalancerPath: the ALB hops, when asked

    def services(self, group: ExplainedGroup) -> ConnSet:
        mask = np.zeros(self.space.size, dtype=bool)  # type: ignore[attr-defined]
        mask[group.atoms] = True
        return ConnSet(self.space.pack(mask), self.space)  # type: ignore[attr-defined]


def _decision_json(decision: Decision) -> dict:
    data: dict = {"step": decision.step, "action": decision.action.value}
    if decision.tier is not None:
        data["tier"] = decision.tier.name
    if decision.policy is not None:
        data.update({"policy": decision.policy.name, "kind": decision.policy.kind})
    if decision.rule is not None:
        data.update({"rule": decision.rule.name, "file": decision.rule.source.file, "line": decision.rule.source.line})
    if decision.detail:
        data["detail"] = decision.detail
    return data


def _side(trace: DirectionTrace | None) -> dict | None:
    if trace is None:
        return None
    return {"allowed": trace.allowed, "decisions": [_decision_json(d) for d in trace.decisions]}


def _path_json(path) -> dict:
    lb = path.balancer
    return {
        "load_balancer": lb.endpoint_id,
        "scheme": lb.scheme,
        "listen_ports": [port for _, port in lb.listen_ports],
        "inbound": None if lb.inbound is None else [r.label for r in lb.inbound],
        "routes": [
            {"match": r.match, "ingress": r.ingress.id, "file": r.source.file if r.source else None,
             "line": r.source.line if r.source else None}
            for r in path.routes
        ],
        "target": path.target.label,
        "hops": [{"purpose": h.purpose, "port": h.port_label, "admitted": h.admitted} for h in path.hops],
        "reachable": path.reachable,
        "ingress": [_side(g.flow.ingress) for g in path.traces],
    }


def render_json(view: ExplainView) -> str:
    data = {
        "src": view.src.id,
        "dst": view.dst.id,
        "groups": [
            {
                "services": view.services(g).to_json(),
                "allowed": g.flow.allowed,
                "egress": _side(g.flow.egress),
                "ingress": _side(g.flow.ingress),
            }
            for g in view.groups
        ],
    }
    if view.load_balancer_paths:
        data["load_balancers"] = [_path_json(p) for p in view.load_balancer_paths]
    return jsonfmt.dumps(data) + "\n"


def load_balancer_path_lines(path, src_id: str, dst_id: str, color: bool = False) -> list[str]:
    """One ALB path of a trace as text lines (the CLI's text format and the notebook's repr)."""
    green, red, bold, reset = ("\033[32m", "\033[31m", "\033[1m", "\033[0m") if color else ("", "", "", "")
    lb = path.balancer
    verdict = f"{green}REACHABLE{reset}" if path.reachable else f"{red}BLOCKED{reset}"
    inbound = "unknown (custom security groups)" if lb.inbound is None else ", ".join(r.label for r in lb.inbound)
    ports = ",".join(str(port) for _, port in lb.listen_ports)
    lines = [
        f"{bold}{' -> '.join(dict.fromkeys([src_id, lb.endpoint_id, dst_id]))}{reset}: {verdict}",
        f"  frontend: {lb.scheme}, listens TCP {ports}, admits {inbound}",
    ]
    for route in path.routes or [None]:
        if route is None:
            lines.append(f"  default backend -> {path.target.label}")
        else:
            where = f"Ingress {route.ingress.id} at {route.source}"
            lines.append(f"  route {route.match} of {where} -> {path.target.label}")
    placed = ", ".join(s.label for s in lb.subnets) or "subnets unknown"
    for hop, group in zip(path.hops, path.traces or [None] * len(path.hops), strict=False):
        lines.append(f"  {hop.purpose} port {hop.port_label}: the pod admits the ALB's addresses ({placed}): "
                     f"{hop.admitted}")
        if group is not None and group.flow.ingress is not None:
            lines.extend(f"    {decision.describe()}" for decision in group.flow.ingress.decisions)
    return lines


def render_text(view: ExplainView) -> str:
    green, red, bold, reset = ("\033[32m", "\033[31m", "\033[1m", "\033[0m") if view.color else ("", "", "", "")
    lines: list[str] = []
    for path in view.load_balancer_paths:
        lines += load_balancer_path_lines(path, view.src.id, view.dst.id, view.color)
    if view.load_balancer_paths and view.groups:
        lines.append(f"{bold}direct (no load balancer):{reset}")
    lines += _groups_text(view, green, red, bold, reset)
    return "\n".join(lines) + "\n"


def _groups_text(view: ExplainView, green: str, red: str, bold: str, reset: str) -> list[str]:
    lines: list[str] = []
    for group in view.groups:
        verdict = f"{green}ALLOWED{reset}" if group.flow.allowed else f"{red}DENIED{reset}"
        lines.append(f"{bold}{view.src.id} -> {view.dst.id}{reset}  {view.services(group)}: {verdict}")
        for label, trace, endpoint in (
            ("egress of", group.flow.egress, view.src),
            ("ingress of", group.flow.ingress, view.dst),
        ):
            if trace is None:
                lines.append(f"  {label} {endpoint.id}: an address outside the cluster, no policy applies")
                continue
            lines.append(f"  {label} {endpoint.id}: {'allowed' if trace.allowed else 'denied'}")
            lines.extend(f"    {decision.describe()}" for decision in trace.decisions)
    return lines


EXPLAIN_FORMATS: dict[str, Callable[[ExplainView], str]] = {"text": render_text, "json": render_json}
