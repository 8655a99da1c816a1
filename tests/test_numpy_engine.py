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

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.data_too_large])


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
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "x"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
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
