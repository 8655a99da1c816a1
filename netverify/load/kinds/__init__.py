"""The explicit registry of the kinds netverify understands: (API group, kind) -> loader.

A loader takes one `Document` and a `ClusterBuilder`; it adds model objects or reports diagnostics and
never raises past `InputError`. Adding a kind means adding a module and one line here.
"""

from __future__ import annotations

from collections.abc import Callable

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds import adminnetworkpolicy, calico, calico_hosts, namespaces, networkpolicy, workloads

KindLoader = Callable[[Document, ClusterBuilder], None]

# (API group, kind); the core group is "".
KIND_LOADERS: dict[tuple[str, str], KindLoader] = {
    ("", "Namespace"): namespaces.load_namespace,
    ("", "Pod"): workloads.load_pod,
    ("", "ReplicationController"): workloads.load_workload,
    ("apps", "Deployment"): workloads.load_workload,
    ("apps", "StatefulSet"): workloads.load_workload,
    ("apps", "DaemonSet"): workloads.load_workload,
    ("apps", "ReplicaSet"): workloads.load_workload,
    ("batch", "Job"): workloads.load_workload,
    ("batch", "CronJob"): workloads.load_workload,
    ("networking.k8s.io", "NetworkPolicy"): networkpolicy.load_network_policy,
    ("policy.networking.k8s.io", "AdminNetworkPolicy"): adminnetworkpolicy.load_admin_network_policy,
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"): (
        adminnetworkpolicy.load_baseline_admin_network_policy
    ),
    ("", "ServiceAccount"): calico.load_service_account,
}
for _group in ("projectcalico.org", "crd.projectcalico.org"):
    KIND_LOADERS.update(
        {
            (_group, "GlobalNetworkPolicy"): calico.load_calico_policy,
            (_group, "NetworkPolicy"): calico.load_calico_policy,
            (_group, "Tier"): calico.load_tier,
            (_group, "GlobalNetworkSet"): calico.load_network_set,
            (_group, "NetworkSet"): calico.load_network_set,
            (_group, "HostEndpoint"): calico_hosts.load_host_endpoint,
            (_group, "Profile"): calico_hosts.load_profile,
        }
    )

# Steps that need every document loaded first (e.g. policies naming a Tier defined in a later file).
FINALIZERS: list[Callable[[ClusterBuilder], None]] = [
    calico.resolve_tiers,
    calico_hosts.finalize_host_endpoints,  # after resolve_tiers: built-in stages are not user tiers
    adminnetworkpolicy.report_anp_priorities,
]

# API versions each group is known in; another version of a known kind is reported, not guessed at.
KNOWN_VERSIONS: dict[str, set[str]] = {
    "": {"v1"},
    "apps": {"v1"},
    "batch": {"v1", "v1beta1"},
    "networking.k8s.io": {"v1"},
    "policy.networking.k8s.io": {"v1alpha1"},
    "projectcalico.org": {"v3"},
    "crd.projectcalico.org": {"v1"},
}


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version
