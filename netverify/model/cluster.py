"""The whole model of one input: namespaces, pods and policies, plus what loading found wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.policy import Policy
from netverify.model.workloads import Namespace, NetworkSet, PodGroup


@dataclass
class Cluster:
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    groups: list[PodGroup] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    network_sets: list[NetworkSet] = field(default_factory=list)
    service_accounts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # labels
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]
