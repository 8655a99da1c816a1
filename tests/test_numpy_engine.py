"""The numpy evaluation path (small clusters, no numba start-up) equals the numba kernels bit for bit.

Both read the same compiled tables; the property runs them on the random Kubernetes clusters of
test_engine_vs_reference.py and on the random ordered clusters (Calico tiers, Pass/Deny/Log, named ports
under notPorts, AdminNetworkPolicy priorities, host endpoints' defaults) of test_engine_vs_reference_ordered.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from test_engine_vs_reference import clusters as kubernetes_clusters
from test_engine_vs_reference_ordered import ordered_clusters

import netverify
from netverify.engine import reachability
from netverify.engine.numpy_eval import evaluate_direction_numpy
from netverify.engine.reachability import evaluate_direction

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def assert_paths_agree(manifests: list[dict], cni: str, pod_cidrs=None) -> None:
    compiled = netverify.analyze(manifests, cni=cni, pod_cidrs=pod_cidrs).compiled
    for tables, is_ingress in ((compiled.ingress, True), (compiled.egress, False)):
        kernels = evaluate_direction(compiled, tables, is_ingress, None, 0)
        numpy_path = evaluate_direction_numpy(compiled, tables, is_ingress)
        assert kernels.dtype == numpy_path.dtype and kernels.shape == numpy_path.shape
        assert np.array_equal(kernels, numpy_path), f"{tables.direction}: numpy path differs from the kernels"


@SETTINGS
@given(kubernetes_clusters())
def test_numpy_path_equals_kernels_on_random_kubernetes_clusters(manifests):
    assert_paths_agree(manifests, "calico")
    assert_paths_agree(manifests, "cilium", pod_cidrs=[])


@SETTINGS
@given(ordered_clusters())
def test_numpy_path_equals_kernels_on_random_ordered_clusters(manifests):
    assert_paths_agree(manifests, "calico", pod_cidrs=[])


def test_small_clusters_take_the_numpy_path_and_the_environment_can_force_either(monkeypatch, tmp_path):
    manifests = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x", "labels": {"app": "a"}}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "x"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
    ]
    compiled = netverify.analyze(manifests).compiled
    monkeypatch.delenv("NETVERIFY_ENGINE", raising=False)
    assert reachability.numpy_is_faster(compiled)
    monkeypatch.setenv("NETVERIFY_ENGINE", "numba")
    assert not reachability.numpy_is_faster(compiled)
    monkeypatch.setenv("NETVERIFY_ENGINE", "numpy")
    assert reachability.numpy_is_faster(compiled)
    monkeypatch.setattr(reachability, "NUMPY_MAX_CELLS", 0)
    monkeypatch.delenv("NETVERIFY_ENGINE")
    assert not reachability.numpy_is_faster(compiled)


def _pod(name: str, app: str, ports: list[dict]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "x", "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "ports": ports}]},
    }


def _ingress_policy(name: str, app: str, ports: list[dict]) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "x"},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, "ingress": [{"ports": ports}]},
    }


def test_rules_naming_the_same_port_with_other_ports_or_protocols_resolve_apart():
    """The numpy path resolves each distinct (ports, named ports, protocol filter) once per direction; rules
    that share a port name but differ in their other ports or the name's protocol must not share it."""
    named = [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
    ]
    manifests = [
        _pod("a", "a", named),
        _pod("b", "b", named),
        _pod("c", "c", named),
        _pod("d", "d", named),
        _ingress_policy("only-http", "a", [{"port": "http"}]),
        _ingress_policy("http-and-9090", "b", [{"port": "http"}, {"port": 9090}]),
        _ingress_policy("http-over-udp", "c", [{"port": "http", "protocol": "UDP"}]),
        _ingress_policy("dns-and-http", "d", [{"port": "dns", "protocol": "UDP"}, {"port": "http"}]),
    ]
    assert_paths_agree(manifests, "calico")
    matrix = netverify.analyze(manifests)
    assert matrix.allowed("x/c", "x/b", "TCP", 9090) and not matrix.allowed("x/c", "x/a", "TCP", 9090)
    assert not matrix.allowed("x/a", "x/c", "TCP", 8080)


def _calico_ingress(name: str, app: str, destination: dict) -> dict:
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "x"},
        "spec": {
            "selector": f"app == '{app}'",
            "types": ["Ingress"],
            "ingress": [{"action": "Allow", "protocol": "TCP", "destination": destination}],
        },
    }


def test_rules_naming_the_same_port_under_other_exclusions_resolve_apart():
    """Calico `ports` with `notPorts`: the same named port, filtered differently, resolves differently."""
    named = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    manifests = [
        _pod("a", "a", named),
        _pod("b", "b", named),
        _calico_ingress("http", "a", {"ports": ["http"]}),
        _calico_ingress("http-but-not-8080", "b", {"ports": ["http"], "notPorts": [8080]}),
    ]
    assert_paths_agree(manifests, "calico")
    matrix = netverify.analyze(manifests, cni="calico")
    assert matrix.allowed("x/b", "x/a", "TCP", 8080) and not matrix.allowed("x/a", "x/b", "TCP", 8080)
