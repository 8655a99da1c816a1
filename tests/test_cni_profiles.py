"""`--cni` profiles: the same manifests, and the difference each implementation-defined choice makes.

Rules (compile/profiles.py has the sources): ipBlock matches pod IPs under Calico and the VPC CNI, not
under Cilium; hostNetwork pods are never guarded by policy, are matched by selectors only in the
conservative generic profile, by ipBlock on the node address except under Cilium, and reach every pod
(node-local traffic) except under the VPC CNI; the VPC CNI does not guard pods without ownerReferences.
`generic` allows whatever some implementation allows, where the API leaves the choice open.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml
from manifests import deployment, namespace, netpol, pod

import netverify
from netverify.cli import main
from netverify.compile.profiles import PROFILES

CNIS = ("generic", "calico", "cilium", "aws-vpc-cni")
DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def node(name: str, address: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"addresses": [{"type": "InternalIP", "address": address}]},
    }


def host_agent() -> dict:
    agent = deployment("kube-system", "agent", {"app": "agent"}, kind="DaemonSet")
    agent["spec"]["template"]["spec"]["hostNetwork"] = True
    return agent


def owned(manifest: dict) -> dict:
    manifest["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"}]
    return manifest


def cluster(*policies: dict) -> list[dict]:
    """Two tenants, a hostNetwork agent, one node at 192.168.1.10; pods at known 10.x addresses."""
    return [
        namespace("a"),
        namespace("b"),
        namespace("kube-system", role="system"),
        node("node-1", "192.168.1.10"),
        owned(pod("a", "web", {"app": "web"}, ip="10.1.0.4")),
        owned(pod("b", "client", {"app": "client"}, ip="10.2.0.5")),
        pod("a", "bare", {"app": "bare"}, ip="10.1.0.9"),  # no ownerReferences
        host_agent(),
        *policies,
    ]


def allowed(manifests: list[dict], cni: str, src: str, dst: str) -> bool:
    return netverify.analyze(manifests, cni=cni, pod_cidrs=["10.0.0.0/8"]).allowed(src, dst, "TCP", 80)


def verdicts(manifests: list[dict], src: str, dst: str) -> dict[str, bool]:
    return {cni: allowed(manifests, cni, src, dst) for cni in CNIS}


def test_every_profile_is_tested_here() -> None:
    assert set(PROFILES) == set(CNIS)


def test_ipblock_matches_pod_ips_except_under_cilium() -> None:
    policy = netpol("a", "from-10", {}, ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}])
    assert verdicts(cluster(policy), "b/client", "a/web") == {
        "generic": True,
        "calico": True,
        "cilium": False,
        "aws-vpc-cni": True,
    }


def test_host_network_pods_reach_every_pod_as_node_local_traffic_except_under_the_vpc_cni() -> None:
    isolated = netpol("a", "deny", {}, policyTypes=["Ingress"])
    assert verdicts(cluster(isolated), "kube-system/agent", "a/web") == {
        "generic": True,
        "calico": True,
        "cilium": True,
        "aws-vpc-cni": False,
    }


def test_ipblock_on_the_node_address_matches_host_network_pods_except_under_cilium() -> None:
    """Cilium gives hostNetwork pods the host identity, which CIDR rules do not select by default."""
    to_node = netpol(
        "b", "to-node", {}, policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "192.168.1.0/24"}}]}]
    )
    assert verdicts(cluster(to_node), "b/client", "kube-system/agent") == {
        "generic": True,
        "calico": True,
        "cilium": False,
        "aws-vpc-cni": True,
    }
    from_node = netpol("a", "from-node", {}, ingress=[{"from": [{"ipBlock": {"cidr": "192.168.1.0/24"}}]}])
    assert allowed(cluster(from_node), "aws-vpc-cni", "kube-system/agent", "a/web")  # no node-local exception


def test_selectors_match_host_network_pods_only_in_the_generic_profile() -> None:
    to_system = netpol(
        "b",
        "to-system",
        {},
        policyTypes=["Egress"],
        egress=[{"to": [{"namespaceSelector": {"matchLabels": {"role": "system"}}}]}],
    )
    assert verdicts(cluster(to_system), "b/client", "kube-system/agent") == {
        "generic": True,
        "calico": False,
        "cilium": False,
        "aws-vpc-cni": False,
    }


def test_host_network_pods_are_never_guarded_by_policy() -> None:
    system_deny_all = netpol("kube-system", "deny-all", **DENY_ALL)
    for cni in CNIS:
        assert allowed(cluster(system_deny_all), cni, "kube-system/agent", "b/client"), cni  # its egress
        assert allowed(cluster(system_deny_all), cni, "b/client", "kube-system/agent"), cni  # its ingress


def test_the_vpc_cni_does_not_guard_pods_without_owner_references() -> None:
    isolated = netpol("a", "deny", {}, policyTypes=["Ingress"])
    assert verdicts(cluster(isolated), "b/client", "a/bare") == {
        "generic": False,
        "calico": False,
        "cilium": False,
        "aws-vpc-cni": True,
    }
    assert verdicts(cluster(isolated), "b/client", "a/web") == dict.fromkeys(CNIS, False)  # owned: guarded


def test_without_node_objects_a_host_network_pod_may_have_any_private_address() -> None:
    """No Node in the input: the agent's address is unknown, so an Allow on private space may admit it."""
    manifests = [m for m in cluster() if m["kind"] != "Node"]
    from_private = netpol("a", "from-private", {}, ingress=[{"from": [{"ipBlock": {"cidr": "192.168.0.0/16"}}]}])
    assert allowed([*manifests, from_private], "aws-vpc-cni", "kube-system/agent", "a/web")
    from_public = netpol("a", "from-public", {}, ingress=[{"from": [{"ipBlock": {"cidr": "8.8.8.0/24"}}]}])
    assert not allowed([*manifests, from_public], "aws-vpc-cni", "kube-system/agent", "a/web")


def test_explain_names_the_node_local_built_in(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump_all(cluster(netpol("a", "deny", {}, policyTypes=["Ingress"]))))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["explain", str(path), "--from", "kube-system/agent", "--to", "a/web", "--port", "80/TCP"])
    assert code == 0
    assert "CNI node-local traffic" in out.getvalue() and "--cni generic" in out.getvalue()


@pytest.mark.parametrize("cni", CNIS)
def test_pods_are_unaffected_by_host_network_rules_when_there_are_no_host_network_pods(cni: str) -> None:
    manifests = [m for m in cluster(netpol("a", "deny", {}, policyTypes=["Ingress"])) if m["kind"] != "DaemonSet"]
    matrix = netverify.analyze(manifests, cni=cni, pod_cidrs=["10.0.0.0/8"])
    assert not matrix.allowed("b/client", "a/web", "TCP", 80)
    assert all(p.kind != "CNI" for p in matrix.compiled.ingress.policies)


def test_explain_says_when_the_cni_guards_no_policy(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump_all(cluster(netpol("a", "deny", {}, policyTypes=["Ingress"]))))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            ["explain", str(path), "--from", "b/client", "--to", "a/bare", "--port", "80/TCP", "--cni", "aws-vpc-cni"]
        )
    assert code == 0
    assert "Allow: --cni aws-vpc-cni applies no policy to pods without ownerReferences: allowed" in out.getvalue()
