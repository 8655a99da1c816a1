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
from netverify.load.kinds import (
    CLUSTER_SCOPED_KINDS,
    KIND_LOADERS,
    KNOWN_VERSIONS,
    finalizers_for,
    module_of,
    resolve,
    split_api_version,
)
from netverify.load.sources import read_sources, type_name
from netverify.load.validation import InputErrors
from netverify.model.cluster import Cluster
from netverify.model.diagnostics import UNMODELLED_POLICY, Diagnostic, InputError, Severity
from netverify.model.workloads import NAMESPACE_NAME_LABEL, Namespace

# Kinds that change reachability but that this version does not model: reported, never silently dropped.
UNMODELLED_POLICY_KINDS = frozenset(
    {
        ("cilium.io", "CiliumNetworkPolicy"),
        ("cilium.io", "CiliumClusterwideNetworkPolicy"),
        ("cilium.io", "CiliumCIDRGroup"),
        ("security.istio.io", "AuthorizationPolicy"),
        ("security.istio.io", "PeerAuthentication"),
        ("k8s.cni.cncf.io", "MultiNetworkPolicy"),
        ("vpcresources.k8s.aws", "SecurityGroupPolicy"),
        ("crd.antrea.io", "ClusterNetworkPolicy"),
        ("crd.antrea.io", "NetworkPolicy"),
        ("crd.antrea.io", "ClusterGroup"),
        ("policy.linkerd.io", "Server"),
        ("k8s.ovn.org", "EgressFirewall"),
    }
)
_POLICY_KIND = re.compile(r"Polic(y|ies)(List)?$")
# API groups of network plumbing: a `...Policy` kind there very likely filters traffic.
_NETWORK_GROUP = re.compile(r"(^|[.-])(network|networking|cilium|calico|projectcalico|istio|antrea|cni|ovn|"
                            r"vpcresources|linkerd|kuma|submariner)([.-]|$)")


def carries_policy(group: str, kind: str) -> bool:
    """Does an object of this kind, which netverify does not load, possibly change reachability?

    Plain objects of other groups (ConfigMap, RBAC, CRDs themselves, Kyverno or admission policies)
    do not, and stay quiet.
    """
    if (group, kind) in UNMODELLED_POLICY_KINDS:
        return True
    return bool(_POLICY_KIND.search(kind)) and bool(_NETWORK_GROUP.search(group))


def object_identity(doc: Document, group: str, kind: str) -> tuple[str, str, str | None, str] | None:
    """(API group, kind, namespace or None when cluster-scoped, name); None without a usable name."""
    metadata = doc.data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        return None  # the kind's schema reports the missing name
    namespace = None
    if kind not in CLUSTER_SCOPED_KINDS:
        given = metadata.get("namespace")
        namespace = given if isinstance(given, str) and given else "default"
    return (group, kind, namespace, name)


def report_duplicate(doc: Document, identity: tuple[str, str, str | None, str], builder: ClusterBuilder) -> bool:
    """True (and an error naming both places) when an object with this identity was already loaded.

    Two manifests for one object are a mistake whichever way it goes (the API server keeps the last one
    applied, which depends on the order of `kubectl apply`), so the second is reported and ignored.
    """
    first = builder.objects.get(identity)
    if first is None:
        return False
    group, kind, namespace, name = identity
    shown = f"{namespace}/{name}" if namespace is not None else name
    builder.error(
        f"{kind} {shown!r} ({group or 'core'} API group) is defined twice: first at {first}; this one is ignored "
        "(expected each object once)",
        doc.source(),
        code="duplicate-object",
    )
    return True


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
        report_identity_fields(doc, api_version, kind, builder)
        return
    group, version = split_api_version(api_version)
    entry = KIND_LOADERS.get((group, kind))
    if entry is None:
        report_unloaded_kind(doc, api_version, kind, builder)
        return
    if version not in KNOWN_VERSIONS.get(group, set()):
        expected = sorted(f"{group + '/' if group else ''}{v}" for v in KNOWN_VERSIONS.get(group, ()))
        builder.error(
            f"unknown apiVersion {api_version!r} for {kind} (expected {' or '.join(expected)})",
            doc.source("apiVersion"),
            code="api-version",
        )
        return
    identity = object_identity(doc, group, kind)
    if identity is not None and report_duplicate(doc, identity, builder):
        return
    builder.used_kind_modules.add(module_of(entry))
    check_annotations(doc, builder)
    try:
        resolve(entry)(doc, builder)
    except InputErrors as errors:
        builder.cluster.diagnostics.extend(errors.diagnostics)
        return
    except InputError as error:
        builder.error(error.message, error.source or doc.source(), code="schema")
        return
    if identity is not None:  # only a loaded object hides later copies: an invalid first one is not used
        builder.objects[identity] = doc.source()


def report_identity_fields(doc: Document, api_version: Any, kind: Any, builder: ClusterBuilder) -> None:
    """What is wrong with apiVersion and kind, each at its own line when it is there."""
    if api_version is None and kind is None:
        builder.error("apiVersion and kind are missing (expected a Kubernetes object with both)", doc.source(),
                      code="schema")
        return
    expectations = (("apiVersion", api_version, "a string such as networking.k8s.io/v1"),
                    ("kind", kind, "a string such as NetworkPolicy"))
    for field, value, expected in expectations:
        if value is None:
            builder.error(f"{field} is missing (expected {expected})", doc.source(), code="schema")
        elif not isinstance(value, str) or not value:
            found = "an empty string" if value == "" else type_name(value)
            builder.error(f"{field}: found {found} (expected {expected})", doc.source(field), code="schema")


def report_unloaded_kind(doc: Document, api_version: str, kind: str, builder: ClusterBuilder) -> None:
    """A kind netverify does not load: a misspelt apiVersion of a kind it knows is an error; a kind that
    can filter traffic is reported (its effect is missing from the result); anything else is ignored."""
    group, _ = split_api_version(api_version)
    homes = sorted(g for g, k in KIND_LOADERS if k == kind)
    if group == "extensions" and kind in ("NetworkPolicy", "Deployment", "DaemonSet", "ReplicaSet"):
        expected = "networking.k8s.io/v1" if kind == "NetworkPolicy" else "apps/v1"
        builder.error(
            f"apiVersion {api_version!r} of {kind} is no longer served (expected {expected})",
            doc.source("apiVersion"),
            code="api-version",
        )
    elif homes and (group in KNOWN_VERSIONS or not group):
        expected = [f"{g + '/' if g else ''}{v}" for g in homes for v in sorted(KNOWN_VERSIONS.get(g, ()))]
        builder.error(
            f"unknown apiVersion {api_version!r} for {kind} (expected {' or '.join(expected)})",
            doc.source("apiVersion"),
            code="api-version",
        )
    elif carries_policy(group, kind):
        metadata = doc.data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
        shown = f" {namespace}/{name}" if isinstance(namespace, str) and isinstance(name, str) else (
            f" {name}" if isinstance(name, str) else ""
        )
        builder.warning(
            f"{kind}{shown} ({api_version}) can change reachability but is not modelled; "
            "its effect is NOT included in the results",
            doc.source(),
            code=UNMODELLED_POLICY,
        )


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
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as error:
        # These formats are machine-written (terraform, the AWS CLI, CloudFormation); a structure their
        # loaders did not expect is a damaged file, reported at its start, never a traceback.
        del error
        builder.error(
            f"unexpected structure for a {module_of(entry).replace('_', ' ')} document (expected the file as "
            "its tool writes it: terraform show -json, aws ec2 describe-*, or a CloudFormation template)",
            doc.source(),
            code="schema",
        )
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


def load_cluster(sources: Iterable[Any], stdin: TextIO | None = None, stages=None, read_ahead=None) -> Cluster:
    """Read every source and build one model; problems are in `cluster.diagnostics`, never raised.

    `stages`: a `report.progress.StageBars` (or None) for the progress of reading and building.
    `read_ahead`: a `load.read_ahead.ReadAhead` already parsing the files (see `read_sources`).
    """
    if isinstance(sources, (str, dict)):
        sources = [sources]
    reading = stages.stage("reading manifests") if stages is not None else None
    files: list[str] = []
    documents, diagnostics = read_sources(
        list(sources), stdin=stdin, progress=reading, order=files, read_ahead=read_ahead
    )
    return build_cluster(documents, diagnostics, files, stages)


def build_cluster(
    documents: Iterable[Document],
    diagnostics: Iterable[Diagnostic] = (),
    files: list[str] | None = None,
    stages=None,
) -> Cluster:
    """One model from documents already read (files, or blobs of a git revision), with their problems;
    `files`: the order they were read in (default: the order of the documents), which is the order problems
    are reported in."""
    documents = list(documents)
    builder = ClusterBuilder()
    builder.cluster.diagnostics.extend(diagnostics)
    load_documents(documents, builder, stages.stage("building the model") if stages is not None else None)
    for finalize in finalizers_for(builder.used_kind_modules):
        finalize(builder)
    for finalize in format_finalizers_for(builder.used_kind_modules):
        finalize(builder)
    add_implicit_namespaces(builder)
    order = files if files is not None else [doc.file for doc in documents]
    builder.cluster.diagnostics = in_file_order(builder.cluster.diagnostics, order)
    return builder.cluster


def in_file_order(diagnostics: list[Diagnostic], files: list[str]) -> list[Diagnostic]:
    """Files in the order they were read, each from top to bottom: the order a user fixes them in.

    Reading reports syntax errors before loading reports schema errors, so without this a file's last
    line could be listed before its first.
    """
    rank = {name: i for i, name in enumerate(dict.fromkeys(files))}
    for diagnostic in diagnostics:
        if diagnostic.source is not None and diagnostic.source.file not in rank:
            rank[diagnostic.source.file] = len(rank)

    def key(diagnostic: Diagnostic) -> tuple[int, int, int]:
        if diagnostic.source is None:
            return (-1, 0, 0)
        return (rank[diagnostic.source.file], diagnostic.source.line, diagnostic.source.column)

    return sorted(diagnostics, key=key)
