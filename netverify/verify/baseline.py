"""A baseline lets a gate start on a repository that already leaks: it fails only on new violations.

`check --write-baseline FILE` records the violations that fail today; `check --baseline FILE` then
accepts a violation when the baseline holds the same rule, source and destination with a `conn` at least
as wide (a flow that widened is new). Entries are keyed on what the flow is, never on line numbers, so
editing a manifest does not invalidate them. An entry that no longer matches is reported as stale (info),
so the baseline shrinks as leaks are fixed instead of hiding the next one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import Field, StrictStr, field_validator

from netverify.load.kinds.common import Strict
from netverify.load.sources import read_sources
from netverify.load.validation import InputErrors, parse_model
from netverify.model.diagnostics import Diagnostic, InputError, Severity
from netverify.model.services import ICMP_PROTOCOLS, VALUE_DOMAINS, parse_protocol
from netverify.model.source import SourceRef
from netverify.verify.results import CheckResult, Finding, Suppression, Violation

FORMAT = "netverify-baseline/v1"
ALL = "all"
Ranges = dict[int, list[tuple[int, int]] | bool]


def conn_ranges(conn: Any) -> Ranges | str:
    """A `conn` as JSON reports it -> protocol number -> inclusive value ranges (True: a port-less
    protocol), or "all". ICMP entries {"type": t, "codes": [[a, b]]} become values t*256+a .. t*256+b."""
    if conn == ALL:
        return ALL
    if not isinstance(conn, dict) or not conn:
        raise ValueError('conn must be "all" or a mapping of protocol to port ranges, as `check -f json` writes')
    found: Ranges = {}
    for name, value in conn.items():
        protocol = parse_protocol(name)
        domain = VALUE_DOMAINS.get(protocol)
        if value is True:
            found[protocol] = [domain] if domain else True
        elif isinstance(value, list) and domain and protocol in ICMP_PROTOCOLS:
            found[protocol] = [r for entry in value for r in _icmp_ranges(entry)]
        elif isinstance(value, list) and domain:
            found[protocol] = [_range(item, domain) for item in value]
        else:
            raise ValueError(f"conn of {name}: expected true or a list of [first, last] ranges")
    return found


def _icmp_ranges(entry: Any) -> list[tuple[int, int]]:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), int) or not 0 <= entry["type"] <= 255:
        raise ValueError('ICMP conn entries are {"type": 0-255} or {"type": t, "codes": [[first, last], ...]}')
    base = entry["type"] * 256
    codes = entry.get("codes")
    if codes is None:
        return [(base, base + 255)]
    return [(base + first, base + last) for first, last in (_range(c, (0, 255)) for c in codes)]


def _range(item: Any, domain: tuple[int, int]) -> tuple[int, int]:
    if (
        not isinstance(item, list)
        or len(item) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in item)
        or not domain[0] <= item[0] <= item[1] <= domain[1]
    ):
        raise ValueError(f"expected a range [first, last] within {domain[0]}-{domain[1]}, found {item!r}")
    return item[0], item[1]


def within(flow: Ranges | str, accepted: Ranges | str) -> bool:
    """Is every service of `flow` also in `accepted`?"""
    if accepted == ALL:
        return True
    if flow == ALL:
        return False
    assert isinstance(flow, dict) and isinstance(accepted, dict)
    for protocol, ranges in flow.items():
        allowed = accepted.get(protocol)
        if allowed is None:
            return False
        if ranges is True or allowed is True:
            if ranges is not allowed:
                return False
            continue
        merged: list[list[int]] = []
        for first, last in sorted(allowed):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        if not all(any(lo <= first and last <= hi for lo, hi in merged) for first, last in ranges):
            return False
    return True


class EntrySpec(Strict):
    rule: StrictStr
    src: StrictStr
    dst: StrictStr
    conn: Any

    _conn = field_validator("conn")(classmethod(lambda cls, value: (conn_ranges(value), value)[1]))


class BaselineSpec(Strict):
    format: StrictStr = Field(pattern=f"^{FORMAT}$")
    violations: list[EntrySpec]


@dataclass
class BaselineEntry:
    rule: str
    src: str
    dst: str
    conn: Ranges | str
    source: SourceRef


def load_baseline(path: str) -> tuple[list[BaselineEntry] | None, list[Diagnostic]]:
    documents, diagnostics = read_sources([path])
    if diagnostics:
        return None, diagnostics
    if len(documents) != 1:
        where = documents[1].source() if len(documents) > 1 else SourceRef(path, 0)
        message = f"expected one document in the baseline, found {len(documents)}"
        return None, [Diagnostic(Severity.ERROR, message, where, "baseline")]
    doc = documents[0]
    try:
        spec = parse_model(BaselineSpec, doc.data, doc)
    except InputErrors as errors:
        return None, list(errors.diagnostics)
    except InputError as error:
        return None, [Diagnostic(Severity.ERROR, error.message, error.source, "baseline")]
    return [
        BaselineEntry(e.rule, e.src, e.dst, conn_ranges(e.conn), doc.source("violations", i))
        for i, e in enumerate(spec.violations)
    ], []


def baseline_document(result: CheckResult) -> str:
    """The baseline of today's failing violations, sorted, one entry per line so reviews read well."""
    entries = sorted(
        (
            {"rule": v.rule, "src": v.src.id, "dst": v.dst.id, "conn": v.conn.to_json()}
            for v in result.violations
            if hasattr(v, "src")  # configuration violations are not flows: a baseline does not accept them
        ),
        key=lambda e: (e["rule"], e["src"], e["dst"]),
    )
    lines = ",\n".join("    " + json.dumps(e, separators=(", ", ": ")) for e in entries)
    body = f"[\n{lines}\n  ]" if entries else "[]"
    return f'{{\n  "format": "{FORMAT}",\n  "violations": {body}\n}}\n'


def _protocol_ranges(violation: Violation) -> Ranges | str:
    return ALL if violation.conn.is_all else violation.conn.protocols()


def apply_baseline(result: CheckResult, entries: list[BaselineEntry], path: str) -> None:
    """Move the violations the baseline accepts to `result.baselined`; report stale entries as findings."""
    by_flow: dict[tuple[str, str, str], list[BaselineEntry]] = {}
    for entry in entries:
        by_flow.setdefault((entry.rule, entry.src, entry.dst), []).append(entry)
    still: list[Violation] = []
    used: set[int] = set()
    for v in result.violations:
        if not hasattr(v, "src"):
            still.append(v)
            continue
        candidates = by_flow.get((v.rule, v.src.id, v.dst.id), [])
        used.update(id(e) for e in candidates)
        flow = _protocol_ranges(v)
        accepted = next((e for e in candidates if within(flow, e.conn)), None)
        if accepted is None:
            still.append(v)
            continue
        where = accepted.source
        v.suppressions.append(Suppression("baseline", "accepted when the baseline was written", where.file, where.line))
        result.baselined.append(v)
    result.violations = still
    result.baseline = path
    for entry in entries:
        if id(entry) not in used:
            result.findings.append(
                Finding(
                    "stale-baseline-entry",
                    "info",
                    f"baseline entry {entry.rule} {entry.src} -> {entry.dst} matches no violation any more; "
                    "rewrite the baseline with --write-baseline",
                    entry.source.file,
                    entry.source.line or None,
                )
            )
