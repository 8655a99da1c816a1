"""Small builders of Kubernetes manifests for tests, so each test shows only what it is about."""

from __future__ import annotations

from typing import Any


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    ns: str,
    name: str,
    labels: dict[str, str] | None = None,
    ports: list[tuple] | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """ports: (number, protocol[, name]) tuples."""
    container_ports = []
    for entry in ports or []:
        item: dict[str, Any] = {"containerPort": entry[0], "protocol": entry[1]}
        if len(entry) > 2:
            item["name"] = entry[2]
        container_ports.append(item)
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels if labels is not None else {"pod": name},
        },
        "spec": {"containers": [{"name": "main", "image": "x", "ports": container_ports}]},
    }
    if ip:
        obj["status"] = {"podIP": ip}
    return obj


def deployment(
    ns: str, name: str, labels: dict[str, str], replicas: int = 2, kind: str = "Deployment"
) -> dict:
    api = {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}.get(kind, "apps/v1")
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    spec: dict[str, Any] = {"template": template}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind not in ("Job", "DaemonSet"):
        spec["replicas"] = replicas
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}


def netpol(ns: str, name: str, pod_selector: dict | None = None, **spec: Any) -> dict[str, Any]:
    """spec keys as in the API: policyTypes, ingress, egress (use from_ for 'from' in rules via dicts)."""
    body: dict[str, Any] = {"podSelector": pod_selector if pod_selector is not None else {}}
    body.update(spec)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": body,
    }


def labels(**kv: str) -> dict[str, dict[str, str]]:
    return {"matchLabels": kv}


WEB_PORTS = [(80, "TCP", "http"), (81, "TCP", "alt"), (53, "UDP", "dns"), (80, "SCTP", "sctp")]
