"""Collects model objects and diagnostics while kind loaders run, one document at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netverify.model.cluster import Cluster
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.policy import Policy, Tier
from netverify.model.source import SourceRef
from netverify.model.workloads import Namespace, PodGroup


@dataclass
class ClusterBuilder:
    cluster: Cluster = field(default_factory=Cluster)
    _policy_names: dict[tuple[str, str], SourceRef] = field(default_factory=dict)
    _group_names: dict[str, SourceRef] = field(default_factory=dict)
    tiers: dict[str, tuple[Tier, SourceRef]] = field(default_factory=dict)  # declared Calico tiers
    used_kind_modules: set[str] = field(default_factory=set)  # loader modules that saw a document
    drafts: dict[str, Any] = field(default_factory=dict)  # what loaders keep for their finalizer, by name
    # (API group, kind, namespace or None, name) -> where that object was first defined
    objects: dict[tuple[str, str, str | None, str], SourceRef] = field(default_factory=dict)

    def error(self, message: str, source: SourceRef | None, code: str = "input") -> None:
        self.cluster.diagnostics.append(Diagnostic(Severity.ERROR, message, source, code))

    def warning(self, message: str, source: SourceRef | None, code: str = "input") -> None:
        self.cluster.diagnostics.append(Diagnostic(Severity.WARNING, message, source, code))

    def add_namespace(self, namespace: Namespace) -> None:
        previous = self.cluster.namespaces.get(namespace.name)
        if previous is not None and previous.source is not None:
            self.warning(
                f"Namespace {namespace.name!r} is defined again (first at {previous.source}); the last one wins",
                namespace.source,
                code="duplicate-object",
            )
        self.cluster.namespaces[namespace.name] = namespace

    def add_group(self, group: PodGroup) -> None:
        first = self._group_names.get(group.id)
        if first is not None:
            self.error(
                f"{group.kind} {group.id!r} duplicates the pods of an object already defined at {first} "
                "(expected each workload or pod name once per namespace)",
                group.source,
                code="duplicate-object",
            )
            return
        self._group_names[group.id] = group.source or SourceRef("<unknown>", 0)
        self.cluster.groups.append(group)

    def add_policy(self, policy: Policy) -> None:
        key = (policy.kind, policy.name)
        first = self._policy_names.get(key)
        if first is not None:
            self.error(
                f"{policy.kind} {policy.name!r} is defined twice (first at {first}); "
                "expected each policy name once per namespace",
                policy.source,
                code="duplicate-object",
            )
            return
        self._policy_names[key] = policy.source
        self.cluster.policies.append(policy)
