"""`check --format junit`: JUnit XML, the test-report format GitHub, GitLab and Jenkins all read.

Suite "tenant isolation" has one test case per ordered pair of tenants (every pair is checked, so a
passing pair is a passing test): it fails with every violation of the pair, each naming the rules that
allowed it with file:line, and is skipped when the pair's only flows are suppressed or baselined.
Findings never fail the check, so they are skipped test cases of suite "findings" (CI shows them as
warnings, not failures); input errors are errored test cases of suite "input".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from netverify.verify.results import CheckResult, Violation

if TYPE_CHECKING:
    from netverify.report.check_formats import CheckView


def describe(v: Violation) -> str:
    lines = [f"{v.rule}: {v.src.id} ({v.src_tenant}) -> {v.dst.id} ({v.dst_tenant}): {v.conn}"]
    lines += [f"    allowed by {allowed}" for allowed in v.allowed_by]
    lines += [f"    suppressed by {why}" for why in v.suppressions]
    return "\n".join(lines)


def _suite(parent: ET.Element, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name, time=f"{seconds:.3f}")


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def _isolation_suite(root: ET.Element, result: CheckResult) -> None:
    suite = _suite(root, "tenant isolation", float(result.stats.get("seconds", 0.0)))
    pairs: dict[tuple[str, str], dict[str, list[Violation]]] = {}
    for status, violations in (("open", result.violations), ("excepted", result.suppressed + result.baselined)):
        for v in violations:
            if not hasattr(v, "src"):
                continue  # configuration violations: suite "configuration"
            pairs.setdefault((v.src_tenant, v.dst_tenant), {"open": [], "excepted": []})[status].append(v)
    baselined = {id(v) for v in result.baselined}
    tenants = sorted(set(result.tenants) | {t for pair in pairs for t in pair})
    for src in tenants:
        for dst in tenants:
            if src == dst:
                continue
            case = ET.SubElement(
                suite, "testcase", classname="netverify.cross-tenant-flow", name=f"{src} -> {dst}", time="0"
            )
            found = pairs.get((src, dst), {"open": [], "excepted": []})
            if found["open"]:
                failure = ET.SubElement(
                    case,
                    "failure",
                    type="cross-tenant-flow",
                    message=f"{len(found['open'])} cross-tenant flow(s) from tenant {src} to tenant {dst}",
                )
                failure.text = "\n\n".join(describe(v) for v in found["open"])
            elif found["excepted"]:
                ET.SubElement(case, "skipped", message=f"{len(found['excepted'])} flow(s) suppressed or baselined")
            if found["excepted"]:
                ET.SubElement(case, "system-out").text = "\n\n".join(
                    ("BASELINED " if id(v) in baselined else "SUPPRESSED ") + describe(v) for v in found["excepted"]
                )


def _configuration_suite(root: ET.Element, result: CheckResult) -> None:
    """Violations that are configurations, not flows (e.g. tenants behind one load balancer)."""
    suite = _suite(root, "configuration", 0.0)
    for v in result.violations:
        if hasattr(v, "src"):
            continue
        file, line = getattr(v, "file", None), getattr(v, "line", None)
        where = f"{file}:{line}" if file and line else (file or "")
        case = ET.SubElement(suite, "testcase", classname=f"netverify.{v.rule}", name=f"{v.rule} {where}".strip())
        case.set("time", "0")
        failure = ET.SubElement(case, "failure", type=v.rule, message=v.message)
        failure.text = f"{where}: {v.message}" if where else v.message


def _findings_suite(root: ET.Element, result: CheckResult) -> None:
    suite = _suite(root, "findings", 0.0)
    for f in result.findings:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
        case = ET.SubElement(
            suite, "testcase", classname=f"netverify.{f.rule}", name=f"{f.rule} {where}".strip(), time="0"
        )
        if f.file:
            case.set("file", f.file)
        if f.line:
            case.set("line", str(f.line))
        ET.SubElement(case, "skipped", message=f"{f.severity}: {f.message}")


def _input_suite(root: ET.Element, result: CheckResult) -> None:
    suite = _suite(root, "input", 0.0)
    for error in result.errors:
        where = str(error.source) if error.source else "input"
        case = ET.SubElement(suite, "testcase", classname="netverify.input", name=where, time="0")
        ET.SubElement(case, "error", type=error.code, message=error.message).text = f"{where}: {error.message}"


def build_junit(result: CheckResult) -> ET.Element:
    root = ET.Element("testsuites", name="netverify check")
    _isolation_suite(root, result)
    if any(not hasattr(v, "src") for v in result.violations):
        _configuration_suite(root, result)
    _findings_suite(root, result)
    if result.errors:
        _input_suite(root, result)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        for key, value in _count(suite).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{float(result.stats.get('seconds', 0.0)):.3f}")
    return root


def render_junit(view: CheckView) -> str:
    root = build_junit(view.result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
