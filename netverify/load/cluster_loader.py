"""Documents -> Cluster: dispatch on (group, kind), collect every problem, never stop at the first."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TextIO

from netverify.load.annotations import check_annotations
from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.formats import finalizers_for as format_finalizers_for
from netverify.load.formats import match_format
from netverify.load.formats import resolve as resolve_format
from netverify.load.kinds import KIND_LOADERS, KNOWN_VERSIONS, finalizers_for, module_of, resolve, split_api_version
from netverify.load.sources import read_sources
from netverify.load.validation import InputErrors
from netverify.model.cluster import Cluster
from netverify.model.diagnostics import Diagnostic, InputError, Severity
from netverify.model.workloads import NAMESPACE_NAME_LABEL, Namespace

# Kinds that change reachability but that this version does not model: reported, never silently dropped.
_POLICY_KIND = re.compile(r"(Policy|PolicyList)$")
_POLICY_GROUPS = (
    "networking",
    "cilium.io",
    "projectcalico.org",
    "security.istio.io",
    "policy.networking.k8s.io",
    "vpcresources.k8s.aws",
    "k8s.cni.cncf.io",
)


def carries_policy(group: str, kind: str) -> bool:
    return bool(_POLICY_KIND.search(kind)) or any(
        group == g or group.endswith("." + g) for g in _POLICY_GROUPS
    )


def load_documents(documents: list[Document], builder: ClusterBuilder, progress=None) -> None:
    for done, doc in enumerate(documents, 1):
        load_document(doc, builder)
        if progress is not None and done % 256 == 0:
            progress(done, len(documents))


def load_document(doc: Document, builder: ClusterBuilder) -> None:
    data = doc.data
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        if api_version is None and kind is None and load_infrastructure(doc, builder):
            return
        if api_version is None and kind is None and "metadata" not in data and "spec" not in data:
            # Helm values, a netverify contract, CI config: YAML that is not a Kubernetes object at all
            builder.cluster.diagnostics.append(
                Diagnostic(
                    Severity.INFO,
                    "not a Kubernetes object (no apiVersion, kind, metadata or spec); skipped",
                    doc.source(),
                    "not-kubernetes",
                )
            )
            return
        builder.error(
            "object without apiVersion and kind (expected a Kubernetes object with both)",
            doc.source(),
            code="schema",
        )
        return
    group, version = split_api_version(api_version)
    entry = KIND_LOADERS.get((group, kind))
    if entry is None:
        if group == "extensions" and kind in ("NetworkPolicy", "Deployment", "DaemonSet", "ReplicaSet"):
            builder.error(
                f"{kind} in apiVersion {api_version!r} is no longer served; expected "
                f"{'networking.k8s.io/v1' if kind == 'NetworkPolicy' else 'apps/v1'}",
                doc.source("apiVersion"),
                code="api-version",
            )
        elif carries_policy(group, kind):
            builder.warning(
                f"{kind} ({api_version}) can change reachability but is not supported; "
                "its effect is NOT included in the results",
                doc.source(),
                code="unsupported-policy-kind",
            )
        return
    if version not in KNOWN_VERSIONS.get(group, set()):
        builder.error(
            f"{kind} has apiVersion {api_version!r}, expected one of "
            + ", ".join(sorted(f"{group + '/' if group else ''}{v}" for v in KNOWN_VERSIONS.get(group, ()))),
            doc.source("apiVersion"),
            code="api-version",
        )
        return
    builder.used_kind_modules.add(module_of(entry))
    check_annotations(doc, builder)
    try:
        resolve(entry)(doc, builder)
    except InputErrors as errors:
        builder.cluster.diagnostics.extend(errors.diagnostics)
    except InputError as error:
        builder.error(error.message, error.source or doc.source(), code="schema")


def load_infrastructure(doc: Document, builder: ClusterBuilder) -> bool:
    """Load a document of a registered non-Kubernetes shape (describe-subnets, terraform, ...); False if none."""
    entry = match_format(doc.data)
    if entry is None:
        return False
    builder.used_kind_modules.add(module_of(entry))
    try:
        resolve_format(entry)(doc, builder)
    except InputErrors as errors:
        builder.cluster.diagnostics.extend(errors.diagnostics)
    except InputError as error:
        builder.error(error.message, error.source or doc.source(), code="schema")
    return True


def add_implicit_namespaces(builder: ClusterBuilder) -> None:
    """Namespaces that objects use but no manifest defines, with only the control plane's name label."""
    cluster = builder.cluster
    used: dict[str, Any] = {}
    for group in cluster.groups:
        used.setdefault(group.namespace, group.source)
    for policy in cluster.policies:
        if policy.namespace is not None:
            used.setdefault(policy.namespace, policy.source)
    for name, source in used.items():
        if name not in cluster.namespaces:
            cluster.namespaces[name] = Namespace(name, {NAMESPACE_NAME_LABEL: name}, None)
            builder.warning(
                f"namespace {name!r} is used but not defined; assuming it has no labels besides "
                f"{NAMESPACE_NAME_LABEL}={name}",
                source,
                code="implicit-namespace",
            )


def load_cluster(sources: Iterable[Any], stdin: TextIO | None = None, stages=None) -> Cluster:
    """Read every source and build one model; problems are in `cluster.diagnostics`, never raised.

    `stages`: a `report.progress.StageBars` (or None) for the progress of reading and building.
    """
    if isinstance(sources, (str, dict)):
        sources = [sources]
    reading = stages.stage("reading manifests") if stages is not None else None
    documents, diagnostics = read_sources(list(sources), stdin=stdin, progress=reading)
    return build_cluster(documents, diagnostics, stages)


def build_cluster(documents: Iterable[Document], diagnostics: Iterable[Diagnostic] = (), stages=None) -> Cluster:
    """One model from documents already read (files, or blobs of a git revision), with their problems."""
    builder = ClusterBuilder()
    builder.cluster.diagnostics.extend(diagnostics)
    load_documents(documents, builder, stages.stage("building the model") if stages is not None else None)
    for finalize in finalizers_for(builder.used_kind_modules):
        finalize(builder)
    for finalize in format_finalizers_for(builder.used_kind_modules):
        finalize(builder)
    add_implicit_namespaces(builder)
    return builder.cluster
