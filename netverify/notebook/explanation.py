"""Why a flow is allowed or denied, as a notebook result: the packet trace of `netverify explain`."""

from __future__ import annotations

import numpy as np

from netverify.compile.service_atoms import ServiceSpace
from netverify.engine.connset import ConnSet
from netverify.engine.matrix import Endpoint
from netverify.model.services import ICMP_PROTOCOLS, VALUE_DOMAINS, protocol_name
from netverify.notebook import html
from netverify.verify.contract import parse_port_spec
from netverify.verify.explain import Decision, DirectionTrace, ExplainedGroup


def requested_atoms(space: ServiceSpace, port: str | None) -> tuple[list[int], tuple[int, int, int] | None]:
    """Service atoms overlapping `port` (all of them without one), and the parsed (protocol, first, last).

    Every port inside one atom meets the same rules (atoms are cut at every port a rule names), so
    tracing the atom holding 5432 is tracing 5432; only the label is clipped to what was asked.
    """
    if port is None:
        return list(range(space.size)), None
    protocol, first, last = parse_port_spec(port)
    overlap = (
        (space.proto_lo <= protocol) & (protocol <= space.proto_hi) & (space.port_lo <= last) & (space.port_hi >= first)
    )
    return np.flatnonzero(overlap).tolist(), (protocol, first, last)


class Explanation:
    """The decisions of both ends, grouped by services that share one explanation.

    `allowed`: some requested service gets through; `groups[i].flow.egress/ingress.decisions` are the
    tiers, policies and rules consulted, in evaluation order, each with its file:line.
    """

    def __init__(
        self,
        src: Endpoint,
        dst: Endpoint,
        groups: list[ExplainedGroup],
        space: ServiceSpace,
        requested: tuple[int, int, int] | None = None,
        load_balancer_paths: list | None = None,
    ):
        self.src = src
        self.dst = dst
        self.groups = groups
        self.space = space
        self.requested = requested
        self.load_balancer_paths = load_balancer_paths or []  # LoadBalancerPath: when src is internet or an ALB

    @property
    def allowed(self) -> bool:
        """Some requested service gets through, directly or through a load balancer."""
        return any(group.flow.allowed for group in self.groups) or any(p.reachable for p in self.load_balancer_paths)

    def _path_lines(self) -> list[str]:
        from netverify.report.explain_formats import load_balancer_path_lines

        return [line for p in self.load_balancer_paths for line in load_balancer_path_lines(p, self.src.id,
                                                                                             self.dst.id)]

    def services(self, group: ExplainedGroup) -> str:
        """What the group covers, clipped to the requested port range."""
        if self.requested is None or self.requested[0] in ICMP_PROTOCOLS:  # ICMP atoms are never clipped
            mask = np.zeros(self.space.size, dtype=bool)
            mask[group.atoms] = True
            return str(ConnSet(self.space.pack(mask), self.space))
        protocol, first, last = self.requested
        if protocol not in VALUE_DOMAINS:
            return protocol_name(protocol)
        ranges = sorted(
            (max(first, int(self.space.port_lo[a])), min(last, int(self.space.port_hi[a]))) for a in group.atoms
        )
        merged: list[list[int]] = []
        for lo, hi in ranges:
            if merged and merged[-1][1] + 1 >= lo:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        if merged == [list(VALUE_DOMAINS[protocol])]:
            return f"{protocol_name(protocol)} all ports"
        return f"{protocol_name(protocol)} " + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in merged)

    def allowed_by(self) -> list[Decision]:
        """The rules that let the allowed services through, on each side (no defaults)."""
        found: list[Decision] = []
        for group in self.groups:
            if not group.flow.allowed:
                continue
            for trace in (group.flow.egress, group.flow.ingress):
                decision = trace.deciding if trace is not None else None
                if decision is not None and decision.step == "rule" and decision not in found:
                    found.append(decision)
        return found

    # ---- displays ----------------------------------------------------------------------------

    def _sides(self, group: ExplainedGroup):
        return (
            ("egress of", group.flow.egress, self.src),
            ("ingress of", group.flow.ingress, self.dst),
        )

    def __repr__(self) -> str:
        lines: list[str] = self._path_lines()
        for group in self.groups:
            verdict = "ALLOWED" if group.flow.allowed else "DENIED"
            lines.append(f"{self.src.id} -> {self.dst.id}  {self.services(group)}: {verdict}")
            for label, trace, endpoint in self._sides(group):
                if trace is None:
                    lines.append(f"  {label} {endpoint.id}: an address outside the cluster, no policy applies")
                    continue
                lines.append(f"  {label} {endpoint.id}: {'allowed' if trace.allowed else 'denied'}")
                lines.extend(f"    {decision.describe()}" for decision in trace.decisions)
        return "\n".join(lines) if lines else f"{self.src.id} -> {self.dst.id}: no such service"

    def _side_html(self, label: str, trace: DirectionTrace | None, endpoint: Endpoint) -> str:
        title = f"{label} {endpoint.id}"
        if trace is None:
            return html.section(title, "<i>an address outside the cluster: no policy applies</i>")
        rows = []
        for step, decision in enumerate(trace.decisions, 1):
            policy = f"{decision.policy.kind} {decision.policy.name}" if decision.policy is not None else ""
            tier = decision.tier.name if decision.tier is not None else ""
            rule = decision.rule.name if decision.rule is not None else html.text(decision.detail)
            where = decision.source if decision.step == "rule" else None
            rows.append(
                (
                    str(step),
                    html.verdict(decision.action.value == "Allow", decision.action.value),
                    html.text(tier),
                    html.text(policy),
                    html.text(rule) if decision.rule is not None else rule,
                    f"<code>{html.text(where)}</code>" if where else "",
                )
            )
        verdict = html.verdict(trace.allowed, "allowed" if trace.allowed else "denied")
        return html.section(title, verdict + html.table(["#", "action", "tier", "policy", "rule", "where"], rows))

    def _repr_html_(self) -> str:
        body = [f"<pre>{html.text(chr(10).join(self._path_lines()))}</pre>"] if self.load_balancer_paths else []
        for group in self.groups:
            head = f"<div><b>{html.text(self.services(group))}</b>: {html.verdict(group.flow.allowed)}</div>"
            sides = "".join(self._side_html(label, trace, endpoint) for label, trace, endpoint in self._sides(group))
            body.append(f'<div style="margin:8px 0 8px 0">{head}{sides}</div>')
        summary = html.verdict(self.allowed) + f" ({len(self.groups)} group(s) of services)"
        return html.card(f"{self.src.id} → {self.dst.id}", summary, "".join(body))
