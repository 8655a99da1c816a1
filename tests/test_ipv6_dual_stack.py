"""IPv6 and dual-stack wherever CIDRs appear: Kubernetes ipBlock and except, Calico nets/notNets and network
sets, AdminNetworkPolicy networks, pod IPs, --pod-cidr. Rules: an address rule of one family never matches
an address of the other; a dual-stack pod is matched through either of its addresses."""

from __future__ import annotations

from typing import Any

from calico_manifests import gnp, network_set
from manifests import namespace, netpol, pod

import netverify
from netverify.load.cluster_loader import load_cluster

V4_ONLY = "10.1.0.4"
DUAL = ("10.1.0.5", "fd00:10::5")


def dual_stack_pod(ns: str, name: str, ips: tuple[str, ...]) -> dict[str, Any]:
    manifest = pod(ns, name, {"app": name}, ip=ips[0])
    manifest["status"]["podIPs"] = [{"ip": ip} for ip in ips]
    return manifest


def cluster(*policies: dict) -> list[dict]:
    return [
        namespace("a"),
        namespace("b"),
        pod("a", "server", {"app": "server"}, ip="10.9.0.1"),
        pod("b", "v4", {"app": "v4"}, ip=V4_ONLY),
        dual_stack_pod("b", "dual", DUAL),
        dual_stack_pod("b", "v6", ("fd00:10::6",)),
        *policies,
    ]


def ingress_from(*cidrs: str, except_: tuple[str, ...] = ()) -> dict:
    peers = [{"ipBlock": {"cidr": c, **({"except": list(except_)} if except_ else {})}} for c in cidrs]
    return netpol("a", "from-cidrs", {"matchLabels": {"app": "server"}}, ingress=[{"from": peers}])


def reaches(manifests: list[dict], src: str, cni: str = "calico", pod_cidrs: list[str] | None = None) -> bool:
    cidrs = ["10.0.0.0/8", "fd00::/8"] if pod_cidrs is None else pod_cidrs
    matrix = netverify.analyze(manifests, cni=cni, pod_cidrs=cidrs)
    return matrix.allowed(src, "a/server", "TCP", 80)


def test_ipblock_v6_rule_never_matches_a_v4_only_pod() -> None:
    manifests = cluster(ingress_from("::/0"))
    assert not reaches(manifests, "b/v4")
    assert reaches(manifests, "b/v6")


def test_ipblock_v4_rule_never_matches_a_v6_only_pod() -> None:
    manifests = cluster(ingress_from("0.0.0.0/0"))
    assert reaches(manifests, "b/v4")
    assert not reaches(manifests, "b/v6")


def test_dual_stack_pod_is_matched_by_either_family() -> None:
    assert reaches(cluster(ingress_from("10.1.0.5/32")), "b/dual")
    assert reaches(cluster(ingress_from("fd00:10::5/128")), "b/dual")
    assert not reaches(cluster(ingress_from("10.1.0.6/32", "fd00:10::6/128")), "b/dual")


def test_ipblock_except_in_v6_carves_out_the_excepted_addresses() -> None:
    manifests = cluster(ingress_from("fd00:10::/64", except_=("fd00:10::6/127",)))  # ::6 and ::7
    assert not reaches(manifests, "b/v6")
    assert reaches(manifests, "b/dual")  # fd00:10::5 is outside the except


def test_except_of_the_other_family_is_an_error() -> None:
    errors = load_cluster([ingress_from("fd00::/8", except_=("10.0.0.0/8",))]).errors
    assert [e.message for e in errors] == [
        "spec.ingress[0].from[0].ipBlock: except entry '10.0.0.0/8' is not inside cidr 'fd00::/8' "
        "(expected each except entry to be a strict subset of the cidr)"
    ]


def test_v6_external_ranges_are_cut_at_v6_rule_boundaries() -> None:
    matrix = netverify.analyze(cluster(ingress_from("2001:db8::/32")), cni="calico", pod_cidrs=["10.0.0.0/8"])
    ids = {e.id for e in matrix.endpoints() if e.is_external}
    assert "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" in ids
    assert matrix.allowed("2001:db8::1", "a/server", "TCP", 80)
    assert not matrix.allowed("2001:db9::1", "a/server", "TCP", 80)
    assert not matrix.allowed("10.200.0.1", "a/server", "TCP", 80)


def calico_ingress(source: dict) -> dict:
    return gnp(
        "from", order=1, selector="app == 'server'", types=["Ingress"], ingress=[{"action": "Allow", "source": source}]
    )


def test_calico_nets_and_not_nets_keep_families_apart() -> None:
    assert reaches(cluster(calico_ingress({"nets": ["fd00:10::/64"]})), "b/dual")
    assert not reaches(cluster(calico_ingress({"nets": ["fd00:10::/64"]})), "b/v4")
    # notNets of a v6 range: every v4 address is outside it, so the v4 pod matches
    assert reaches(cluster(calico_ingress({"notNets": ["fd00:10::/64"]})), "b/v4")
    assert not reaches(cluster(calico_ingress({"notNets": ["fd00:10::/64"]})), "b/v6")


def test_calico_network_set_with_v6_nets_matches_by_family() -> None:
    manifests = cluster(
        network_set("v6-clients", ["fd00:10::6/128"], {"role": "clients"}),
        calico_ingress({"selector": "role == 'clients'"}),
    )
    matrix = netverify.analyze(manifests, cni="calico", pod_cidrs=["10.0.0.0/8", "fd00::/8"])
    assert matrix.allowed("fd00:10::6", "a/server", "TCP", 80)
    assert not matrix.allowed("10.1.0.4", "a/server", "TCP", 80)


def test_admin_network_policy_v6_networks_match_only_v6() -> None:
    """An ANP `networks: ["::/0"]` Deny also covers pod-to-pod traffic, but only to v6 addresses."""
    anp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "deny-v6"},
        "spec": {
            "priority": 1,
            "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}},
            "egress": [{"name": "no-v6", "action": "Deny", "to": [{"networks": ["::/0"]}]}],
        },
    }
    manifests = [*cluster(anp), dual_stack_pod("a", "v6-server", ("fd00:20::1",))]
    matrix = netverify.analyze(manifests, cni="calico", pod_cidrs=["10.0.0.0/8", "fd00::/8"])
    assert not matrix.allowed("b/v4", "a/v6-server", "TCP", 80)
    assert matrix.allowed("b/v4", "a/server", "TCP", 80)  # a v4 destination: the v6 rule does not match
    assert not matrix.allowed("b/v6", "2001:db8::1", "TCP", 80)
    assert matrix.allowed("b/v6", "192.0.2.1", "TCP", 80)


def test_pod_cidr_in_v6_places_pods_of_unknown_address() -> None:
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "client", "namespace": "b"},
        "spec": {"template": {"metadata": {"labels": {"app": "client"}}, "spec": {"containers": [{"name": "c"}]}}},
    }
    manifests = [*cluster(ingress_from("fd00:10::/64")), workload]
    assert reaches(manifests, "b/client", pod_cidrs=["fd00:10::/64"])
    assert not reaches(manifests, "b/client", pod_cidrs=["fd00:20::/64"])
    assert not reaches(manifests, "b/client", pod_cidrs=["10.0.0.0/8"])  # a v4-only pod network
