"""`check --format sarif`: SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps).

A violation is a result at the file and line of the policy rule that allowed the flow (the destination's
manifest when only defaults allowed it); the other allowing rules and both endpoints' manifests are
related locations. Paths are relative to the working directory under `%SRCROOT%`, as uploaders expect.
Fingerprints hash what a result is about (rule, source, destination; a finding's rule, file and message),
never line numbers, so an alert survives edits above it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from netverify import __version__
from netverify.report.rule_help import HELP_URL, PROJECT_URL, RULES, rule_help
from netverify.verify.results import CheckResult, Finding, Suppression, Violation

if TYPE_CHECKING:
    from netverify.report.check_formats import CheckView

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SUPPRESSION_KINDS = {"annotation": "inSource", "contract": "external", "baseline": "external"}


@functools.lru_cache(maxsize=4096)
def _artifact(file: str, cwd: str) -> tuple[tuple[str, str], ...]:
    return tuple(_artifact_location(file, Path(cwd)).items())


def artifact(file: str) -> dict:
    """A file as SARIF names it: relative to the working directory when inside it, else a file URI."""
    return dict(_artifact(file, os.getcwd()))


def _artifact_location(file: str, cwd: Path) -> dict:
    if file.startswith("<"):  # <stdin>
        return {"uri": quote(file, safe="")}
    path = Path(file)
    absolute = path if path.is_absolute() else cwd / path
    try:
        relative = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive
        relative = ".."
    if relative.startswith(".."):
        return {"uri": absolute.resolve().as_uri()}
    return {"uri": quote(Path(relative).as_posix()), "uriBaseId": SRCROOT}


def location(file: str, line: int | None, message: str | None = None, ident: int | None = None) -> dict:
    physical: dict = {"artifactLocation": artifact(file)}
    if line:
        physical["region"] = {"startLine": line}
    found: dict = {"physicalLocation": physical}
    if ident is not None:
        found["id"] = ident
    if message:
        found["message"] = {"text": message}
    return found


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _violation_result(result: CheckResult, v: Violation, index: dict[str, int], status: str) -> dict:
    rules = [a for a in v.allowed_by if a.file]
    places: list[tuple[str, int | None, str]] = [
        (a.file, a.line, f"allowed by {a.kind} {a.policy} {a.rule} ({a.direction})") for a in rules if a.file
    ]
    for end, role in ((v.src, "source"), (v.dst, "destination")):
        source = result.endpoint_sources.get(end.id)
        if source is not None:
            places.append((source.file, source.line or None, f"{role} {end.id}"))
    if not places:  # no file at all (objects given through the Python API)
        places.append(("<unknown>", None, "no manifest"))
    if not rules:  # only defaults allowed it: the destination's manifest is where isolation is missing
        places.sort(key=lambda place: not place[2].startswith("destination"))
    by = "; ".join(str(a) for a in v.allowed_by)
    text = (
        f"{v.src.id} (tenant {v.src_tenant}) can reach {v.dst.id} (tenant {v.dst_tenant}): {v.conn}. Allowed by {by}."
    )
    primary, *others = places
    found: dict = {
        "ruleId": v.rule,
        "ruleIndex": index[v.rule],
        "level": "error",
        "message": {"text": text},
        "locations": [location(primary[0], primary[1])],
        "partialFingerprints": {"netverifyFlow/v1": fingerprint(v.rule, v.src.id, v.dst.id)},
        "properties": {"src": v.src.id, "dst": v.dst.id, "conn": v.conn.to_json()},
    }
    if others:
        found["relatedLocations"] = [location(f, line, m, i + 1) for i, (f, line, m) in enumerate(others)]
    if v.suppressions:
        found["suppressions"] = [_suppression(s) for s in v.suppressions]
    if result.baseline is not None:
        found["baselineState"] = "unchanged" if status == "baselined" else "new"
    return found


def _config_result(v, index: dict[str, int]) -> dict:
    """A violation that is a configuration, not a flow (no src/dst): its message at its own file:line."""
    file, line = getattr(v, "file", None), getattr(v, "line", None)
    found: dict = {
        "ruleId": v.rule,
        "ruleIndex": index[v.rule],
        "level": "error",
        "message": {"text": v.message},
        "locations": [location(file or "<unknown>", line)],
        "partialFingerprints": {"netverifyConfig/v1": fingerprint(v.rule, file or "", v.message)},
    }
    related = [r for r in getattr(v, "related", []) if r is not None]
    if related:
        found["relatedLocations"] = [location(r.file, r.line or None, None, i + 1) for i, r in enumerate(related)]
    return found


def _result(result: CheckResult, v, index: dict[str, int], status: str) -> dict:
    return _violation_result(result, v, index, status) if hasattr(v, "src") else _config_result(v, index)


def _suppression(why: Suppression) -> dict:
    found: dict = {"kind": SUPPRESSION_KINDS.get(why.kind, "external"), "status": "accepted"}
    found["justification"] = why.justification
    if why.file:
        found["location"] = location(why.file, why.line)
    return found


def _finding_result(f: Finding, index: dict[str, int]) -> dict:
    return {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f.message},
        "locations": [location(f.file or "<unknown>", f.line)],
        "partialFingerprints": {"netverifyFinding/v1": fingerprint(f.rule, f.file or "", f.message)},
    }


def _descriptor(rule: str) -> dict:
    help_ = rule_help(rule)
    return {
        "id": rule,
        "name": "".join(part.capitalize() for part in rule.split("-")),
        "shortDescription": {"text": help_.short},
        "fullDescription": {"text": help_.full},
        "help": {"text": f"{help_.full}\n\nFix: {help_.fix}", "markdown": f"{help_.full}\n\n**Fix:** {help_.fix}"},
        "helpUri": HELP_URL,
        "defaultConfiguration": {"level": help_.level},
    }


def _notification(error) -> dict:
    found: dict = {"level": "error", "message": {"text": error.message}}
    if error.source is not None:
        found["locations"] = [location(error.source.file, error.source.line or None)]
    return found


def build_sarif(result: CheckResult) -> dict:
    used = [v.rule for v in (*result.violations, *result.suppressed, *result.baselined)]
    used += [f.rule for f in result.findings]
    rule_ids = list(RULES) + sorted(set(used) - set(RULES))
    index = {rule: i for i, rule in enumerate(rule_ids)}
    results = [_result(result, v, index, "open") for v in result.violations]
    results += [_result(result, v, index, "suppressed") for v in result.suppressed]
    results += [_result(result, v, index, "baselined") for v in result.baselined]
    results += [_finding_result(f, index) for f in result.findings]
    run: dict = {
        "tool": {
            "driver": {
                "name": "netverify",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT_URL,
                "rules": [_descriptor(rule) for rule in rule_ids],
            }
        },
        "automationDetails": {"id": "netverify/"},
        "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri() + "/"}},
        "invocations": [
            {
                "executionSuccessful": not result.errors,
                "toolExecutionNotifications": [_notification(e) for e in result.errors],
            }
        ],
        "results": results,
        "properties": {"stats": result.stats},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(view: CheckView) -> str:
    """Plainly indented: a SARIF log is read by tools first, and can hold many thousand results."""
    return json.dumps(build_sarif(view.result), indent=1) + "\n"
