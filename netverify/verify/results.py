"""What a check reports: violations (a flow, with the rules that allowed it and any suppressions), findings,
and the result that holds them; each knows its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import Endpoint
from netverify.model.diagnostics import UNMODELLED_POLICY, Diagnostic
from netverify.model.source import SourceRef


@dataclass(frozen=True)
class AllowedBy:
    """A policy rule (or an endpoint's default) that let the flow through on one side."""

    direction: str
    kind: str
    policy: str | None
    rule: str | None
    file: str | None
    line: int | None
    uncertain: bool = False  # the rule matches only if an unknown pod address falls inside its CIDR

    def to_json(self) -> dict:
        data = {"policy": self.policy, "kind": self.kind, "direction": self.direction, "rule": self.rule}
        data.update({"file": self.file, "line": self.line})
        if self.uncertain:
            data["uncertain"] = True
        return data

    def __str__(self) -> str:
        if self.policy is None:
            return f"{self.direction}: {self.rule}"
        where = f" at {self.file}:{self.line}" if self.file else ""
        maybe = (
            " (only if the peer's unknown pod address lies in the rule's CIDR; --pod-cidr tells where pods live)"
            if self.uncertain
            else ""
        )
        return f"{self.direction}: {self.kind} {self.policy} {self.rule}{where}{maybe}"


@dataclass(frozen=True)
class Suppression:
    """Why a violation does not fail the check: a policy annotation, a contract `allow` entry, or the
    baseline; `file`/`line` point at the annotated policy, the contract entry or the baseline entry."""

    kind: str  # "annotation", "contract" or "baseline"
    justification: str
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "justification": self.justification, "file": self.file, "line": self.line}

    def __str__(self) -> str:
        where = f" at {self.file}:{self.line}" if self.file and self.line else ""
        return f"{self.kind}{where}: {self.justification}"


@dataclass
class Violation:
    rule: str
    src: Endpoint
    dst: Endpoint
    conn: ConnSet
    src_tenant: str
    dst_tenant: str
    allowed_by: list[AllowedBy] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)  # empty: the violation fails the check

    def to_json(self) -> dict:
        data = {
            "rule": self.rule,
            "src": self.src.id,
            "dst": self.dst.id,
            "src_tenant": self.src_tenant,
            "dst_tenant": self.dst_tenant,
            "conn": self.conn.to_json(),
            "allowed_by": [a.to_json() for a in self.allowed_by],
        }
        if self.suppressions:
            data["suppressions"] = [s.to_json() for s in self.suppressions]
        return data


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


@dataclass
class CheckResult:
    """`violations` fail the check; `suppressed` (annotation or contract `allow`) and `baselined` ones do
    not, and are reported so that every exception stays visible."""

    violations: list  # Violation (a flow) or ConfigViolation (e.g. tenants sharing a load balancer)
    findings: list[Finding]
    errors: list[Diagnostic]
    stats: dict
    suppressed: list[Violation] = field(default_factory=list)
    baselined: list[Violation] = field(default_factory=list)
    baseline: str | None = None  # the baseline file the violations were compared with
    endpoint_sources: dict[str, SourceRef] = field(default_factory=dict)  # where each endpoint is defined
    tenants: list[str] = field(default_factory=list)  # every tenant with a pod, sorted
    # flow judgements before annotation suppression, kept so that a re-check costs O(change):
    # (cross-tenant flows that fail the contract, flows the contract's `allow` declares), in pair order
    judged: tuple[list, list] = field(default=((), ()), repr=False, compare=False)
    # verify.recheck.CheckIndex: where each judged flow sits among the endpoint pairs
    index: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors

    @property
    def proven(self) -> bool:
        """False when the input holds policy kinds that are not modelled: a flow they deny or allow is
        invisible here, so "holds" would claim more than was checked."""
        return not any(f.rule == UNMODELLED_POLICY for f in self.findings)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "proven": self.proven,
            "violations": [v.to_json() for v in self.violations],
            "suppressed": [v.to_json() for v in self.suppressed],
            "baselined": [v.to_json() for v in self.baselined],
            "findings": [f.to_json() for f in self.findings],
            "errors": [
                {
                    "message": e.message,
                    "file": e.source.file if e.source else None,
                    "line": e.source.line if e.source else None,
                }
                for e in self.errors
            ],
            "stats": self.stats,
        }
