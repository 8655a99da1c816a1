"""Formatters of `netverify check`: one function per format, chosen from an explicit registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netverify.report import jsonfmt
from netverify.report.junit import render_junit
from netverify.report.sarif import render_sarif
from netverify.verify.results import CheckResult, Violation


@dataclass(frozen=True)
class CheckView:
    result: CheckResult
    color: bool = False


def render_json(view: CheckView) -> str:
    return jsonfmt.dumps(view.result.to_json()) + "\n"


def render_text(view: CheckView) -> str:
    result = view.result
    red, green, yellow, bold, reset = (
        ("\033[31m", "\033[32m", "\033[33m", "\033[1m", "\033[0m") if view.color else ("", "", "", "", "")
    )
    lines: list[str] = []
    for label, colour, violations in (
        ("VIOLATION", red, result.violations),
        ("SUPPRESSED", yellow, result.suppressed),
        ("BASELINED", yellow, result.baselined),
    ):
        for v in violations:
            if not isinstance(v, Violation):  # a configuration, not a flow
                where = f"{v.file}:{v.line}: " if v.file else ""
                lines.append(f"{colour}{label}{reset} {v.rule}: {where}{v.message}")
                continue
            lines.append(
                f"{colour}{label}{reset} {v.rule}: {bold}{v.src.id}{reset} ({v.src_tenant}) -> "
                f"{bold}{v.dst.id}{reset} ({v.dst_tenant}): {v.conn}"
            )
            lines.extend(f"    allowed by {allowed}" for allowed in v.allowed_by)
            lines.extend(f"    suppressed by {why}" for why in v.suppressions)
    for f in result.findings:
        where = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
        lines.append(f"{yellow}{f.severity}{reset} {f.rule}: {where}{f.message}")
    summary = _summary(result)
    if result.errors:
        lines.append(f"{red}input errors: isolation cannot be proven on partial input{reset} ({summary})")
    elif result.violations:
        lines.append(f"{red}isolation violated{reset} ({summary})")
    elif not result.proven:
        lines.append(
            f"{yellow}isolation cannot be proven{reset}: policy kinds that are not modelled may change it ({summary})"
        )
    else:
        lines.append(f"{green}isolation holds{reset} ({summary})")
    return "\n".join(lines) + "\n"


def _summary(result: CheckResult) -> str:
    stats = result.stats
    counts = [f"{len(result.violations)} violations"]
    counts += [
        f"{len(found)} {name}"
        for name, found in (("suppressed", result.suppressed), ("baselined", result.baselined))
        if found
    ]
    return (
        f"{stats['endpoints']} endpoints, {stats['tenants']} tenants, {stats['policies']} policies: "
        + ", ".join(counts)
        + f", {len(result.findings)} findings"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_md(view: CheckView) -> str:
    """For a pull-request comment: a verdict line, then a table of violations and one of findings."""
    result = view.result
    if result.errors:
        verdict = "input errors"
    elif result.violations:
        verdict = "isolation violated"
    else:
        verdict = "isolation holds" if result.proven else "isolation cannot be proven (unmodelled policy kinds)"
    out = [f"### netverify: {verdict}", ""]
    flows = [v for v in result.violations if isinstance(v, Violation)]
    others = [v for v in result.violations if not isinstance(v, Violation)]
    if others:
        out += ["| rule | where | violation |", "|---|---|---|"]
        for v in others:
            where = f"{v.file}:{v.line}" if v.file else ""
            out.append(f"| {v.rule} | {_md(where)} | {_md(v.message)} |")
        out.append("")
    if flows:
        out += ["| source | destination | allowed | allowed by |", "|---|---|---|---|"]
        for v in flows:
            by = "<br>".join(_md(str(a)) for a in v.allowed_by)
            src, dst = f"{_md(v.src.id)} ({_md(v.src_tenant)})", f"{_md(v.dst.id)} ({_md(v.dst_tenant)})"
            out.append(f"| {src} | {dst} | {_md(str(v.conn))} | {by} |")
        out.append("")
    exceptions = [(v, "suppressed") for v in result.suppressed] + [(v, "baselined") for v in result.baselined]
    if exceptions:
        out += [
            "<details><summary>"
            f"{len(result.suppressed)} suppressed, {len(result.baselined)} baselined (not failing)</summary>",
            "",
            "| source | destination | allowed | status | why |",
            "|---|---|---|---|---|",
        ]
        for v, status in exceptions:
            why = "<br>".join(_md(str(s)) for s in v.suppressions)
            src, dst = f"{_md(v.src.id)} ({_md(v.src_tenant)})", f"{_md(v.dst.id)} ({_md(v.dst_tenant)})"
            out.append(f"| {src} | {dst} | {_md(str(v.conn))} | {status} | {why} |")
        out += ["", "</details>", ""]
    if result.findings:
        out += ["| severity | rule | where | message |", "|---|---|---|---|"]
        for f in result.findings:
            where = f"{f.file}:{f.line}" if f.file else ""
            out.append(f"| {f.severity} | {f.rule} | {_md(where)} | {_md(f.message)} |")
        out.append("")
    stats = result.stats
    out.append(f"{stats['endpoints']} endpoints, {stats['tenants']} tenants, {stats['policies']} policies.")
    return "\n".join(out) + "\n"


CHECK_FORMATS: dict[str, Callable[[CheckView], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "md": render_md,
}
