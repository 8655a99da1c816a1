"""Formatters of `netverify explain`: the packet trace, grouped by services that share one explanation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    return jsonfmt.dumps(data) + "\n"


def render_text(view: ExplainView) -> str:
    green, red, bold, reset = ("\033[32m", "\033[31m", "\033[1m", "\033[0m") if view.color else ("", "", "", "")
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
    return "\n".join(lines) + "\n"


EXPLAIN_FORMATS: dict[str, Callable[[ExplainView], str]] = {"text": render_text, "json": render_json}
