"""The explicit registry of the kinds netverify understands: (API group, kind) -> loader.

A loader takes one `Document` and a `ClusterBuilder`; it adds model objects or reports diagnostics and
never raises past `InputError`. Adding a kind means adding a module and one line here.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document

KindLoader = Callable[[Document, ClusterBuilder], None]

# (API group, kind) -> "module:function" in netverify.load.kinds; the core group is "". Modules are imported
# on first use, so an input without Calico or AdminNetworkPolicy objects never builds their schemas.
KIND_LOADERS: dict[tuple[str, str], str] = {
    ("", "Namespace"): "namespaces:load_namespace",
    ("", "ServiceAccount"): "namespaces:load_service_account",
    ("", "Node"): "namespaces:load_node",
    ("", "Pod"): "workloads:load_pod",
    ("", "ReplicationController"): "workloads:load_workload",
    ("apps", "Deployment"): "workloads:load_workload",
    ("apps", "StatefulSet"): "workloads:load_workload",
    ("apps", "DaemonSet"): "workloads:load_workload",
    ("apps", "ReplicaSet"): "workloads:load_workload",
    ("batch", "Job"): "workloads:load_workload",
    ("batch", "CronJob"): "workloads:load_workload",
    ("networking.k8s.io", "NetworkPolicy"): "networkpolicy:load_network_policy",
    ("", "Service"): "services:load_service",
    ("networking.k8s.io", "Ingress"): "ingress:load_ingress",
    ("networking.k8s.io", "IngressClass"): "ingress:load_ingress_class",
    ("elbv2.k8s.aws", "IngressClassParams"): "ingress:load_ingress_class_params",
    ("elbv2.k8s.aws", "TargetGroupBinding"): "ingress:load_target_group_binding",
    ("policy.networking.k8s.io", "AdminNetworkPolicy"): "adminnetworkpolicy:load_admin_network_policy",
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"): "adminnetworkpolicy:load_baseline_admin_network_policy",
    ("eksctl.io", "ClusterConfig"): "eksctl:load_cluster_config",
    ("crd.k8s.amazonaws.com", "ENIConfig"): "eniconfig:load_eni_config",
}
for _group in ("projectcalico.org", "crd.projectcalico.org"):
    KIND_LOADERS.update(
        {
            (_group, "GlobalNetworkPolicy"): "calico:load_calico_policy",
            (_group, "NetworkPolicy"): "calico:load_calico_policy",
            (_group, "Tier"): "calico:load_tier",
            (_group, "GlobalNetworkSet"): "calico:load_network_set",
            (_group, "NetworkSet"): "calico:load_network_set",
            (_group, "HostEndpoint"): "calico_hosts:load_host_endpoint",
            (_group, "Profile"): "calico_hosts:load_profile",
        }
    )

# Steps that need every document loaded first (e.g. policies naming a Tier defined in a later file), in
# order, each run when any of the listed loader modules was used.
FINALIZERS: list[tuple[frozenset[str], str]] = [
    (frozenset({"calico", "calico_hosts"}), "calico:resolve_tiers"),
    # after resolve_tiers: built-in stages are not user tiers
    (frozenset({"calico", "calico_hosts"}), "calico_hosts:finalize_host_endpoints"),
    (frozenset({"adminnetworkpolicy"}), "adminnetworkpolicy:report_anp_priorities"),
    (frozenset({"adminnetworkpolicy"}), "adminnetworkpolicy:report_nodes_without_node_objects"),
]


@functools.cache
def resolve(entry: str) -> Callable:
    """"module:function" -> the function, importing its module on first use (looked up once per entry:
    this runs for every document)."""
    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(f"netverify.load.kinds.{module}"), function)


def module_of(entry: str) -> str:
    return entry.partition(":")[0]


def finalizers_for(used_modules: set[str]) -> list[Callable[[ClusterBuilder], None]]:
    return [resolve(entry) for triggers, entry in FINALIZERS if triggers & used_modules]


# API versions each group is known in; another version of a known kind is reported, not guessed at.
KNOWN_VERSIONS: dict[str, set[str]] = {
    "": {"v1"},
    "apps": {"v1"},
    "batch": {"v1", "v1beta1"},
    "networking.k8s.io": {"v1"},
    "policy.networking.k8s.io": {"v1alpha1"},
    "projectcalico.org": {"v3"},
    "crd.projectcalico.org": {"v1"},
    "elbv2.k8s.aws": {"v1beta1"},
    "eksctl.io": {"v1alpha5"},
    "crd.k8s.amazonaws.com": {"v1alpha1"},
}


# Kinds without a namespace: `metadata.namespace` on them means nothing, so it is not part of their identity,
# and an object of any other kind that names none lives in `default`. Used by duplicate detection and by
# what-if edits, which must agree on what one object is.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "GlobalNetworkPolicy",
        "GlobalNetworkSet",
        "Tier",
        "HostEndpoint",
        "Profile",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "IngressClass",
        "IngressClassParams",
        "ENIConfig",
        "ClusterConfig",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
    }
)


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version
