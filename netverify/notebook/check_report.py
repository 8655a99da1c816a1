"""The isolation check as a notebook result: `netverify check`'s verdict, violations and findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from netverify.notebook import html
from netverify.notebook.heatmap import Heatmap
from netverify.notebook.optional import require
from netverify.report.check_formats import CheckView, render_text
from netverify.verify.results import CheckResult, Finding, Violation

if TYPE_CHECKING:
    from netverify.notebook.reachability import Reachability


class CheckReport:
    """`ok` when no flow crosses tenants beyond what the contract declares and the input had no errors."""

    def __init__(self, result: CheckResult, reachability: Reachability | None = None):
        self.result = result
        self.reachability = reachability  # the matrix the check ran on, for heatmap()

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def violations(self) -> list[Violation]:
        return self.result.violations

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings

    def __bool__(self) -> bool:
        """True when isolation holds, so `assert cluster.check()` reads as it should."""
        return self.ok

    def to_json(self) -> dict:
        """The same document as `netverify check --format json`."""
        return self.result.to_json()

    def frame(self):
        """One row per violation: rule, src, dst, tenants, conn, and the rules that allowed it."""
        pd = require("pandas", "CheckReport.frame()")
        columns = ["rule", "src", "dst", "src_tenant", "dst_tenant", "conn", "allowed_by"]
        rows = [
            (v.rule, v.src.id, v.dst.id, v.src_tenant, v.dst_tenant, str(v.conn), "; ".join(map(str, v.allowed_by)))
            for v in self.violations
        ]
        return pd.DataFrame.from_records(rows, columns=columns)

    def heatmap(self, level: str = "namespace", namespace: str | Sequence[str] | None = None) -> Heatmap:
        """The matrix's heatmap with the cells that hold violations outlined, so a single leaked pair
        stands out among thousands of allowed ones."""
        if self.reachability is None:
            raise ValueError("this report was made without its matrix; use cluster.check() to get one")
        if level == "namespace":
            cells = {(v.src.namespace, v.dst.namespace) for v in self.violations}
        else:
            cells = {(v.src.id, v.dst.id) for v in self.violations}
        return Heatmap(self.reachability.heatmap(level, namespace).grid, cells)

    def __repr__(self) -> str:
        return render_text(CheckView(self.result)).rstrip("\n")

    def _repr_html_(self) -> str:
        result = self.result
        stats = result.stats
        if result.errors:
            verdict = html.verdict(False, "input errors: isolation cannot be proven on partial input")
        elif result.violations:
            verdict = html.verdict(False, "isolation violated")
        else:
            verdict = html.verdict(True, "isolation holds")
        summary = (
            f"{verdict} ({stats['endpoints']} endpoints, {stats['tenants']} tenants, {stats['policies']} policies: "
            f"{len(result.violations)} violations, {len(result.findings)} findings)"
        )
        body = ""
        if result.violations:
            rows = (
                (
                    html.text(v.rule),
                    f"{html.text(v.src.id)} <small>({html.text(v.src_tenant)})</small>",
                    f"{html.text(v.dst.id)} <small>({html.text(v.dst_tenant)})</small>",
                    html.text(v.conn),
                    "<br>".join(html.text(a) for a in v.allowed_by),
                )
                for v in result.violations
            )
            body += html.section(
                "Violations", html.table(["rule", "source", "destination", "allowed", "allowed by"], rows)
            )
        if result.findings:
            rows = (
                (
                    html.text(f.severity),
                    html.text(f.rule),
                    html.text(f"{f.file}:{f.line}" if f.file else ""),
                    html.text(f.message),
                )
                for f in result.findings
            )
            body += html.section("Findings", html.table(["severity", "rule", "where", "message"], rows))
        if result.errors:
            rows = ((html.text(e.source or ""), html.text(e.message)) for e in result.errors)
            body += html.section("Input errors", html.table(["where", "message"], rows))
        return html.card("Isolation check", summary, body)
