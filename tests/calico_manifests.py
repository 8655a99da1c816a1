"""Builders of Calico manifests for tests."""

from __future__ import annotations

from typing import Any


def gnp(
    name: str,
    order: float | None = None,
    selector: str | None = "all()",
    ingress=None,
    egress=None,
    types=None,
    tier: str | None = None,
    api: str = "projectcalico.org/v3",
    **extra: Any,
) -> dict:
    spec: dict[str, Any] = {}
    if selector is not None:
        spec["selector"] = selector
    if order is not None:
        spec["order"] = order
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if types is not None:
        spec["types"] = types
    if tier is not None:
        spec["tier"] = tier
    spec.update(extra)
    return {"apiVersion": api, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def cnp(
    ns: str,
    name: str,
    order: float | None = None,
    selector: str | None = "all()",
    ingress=None,
    egress=None,
    types=None,
    tier: str | None = None,
    **extra: Any,
) -> dict:
    policy = gnp(name, order, selector, ingress, egress, types, tier, **extra)
    policy["kind"] = "NetworkPolicy"
    policy["metadata"]["namespace"] = ns
    return policy


def tier(name: str, order: float | None, default_action: str | None = None) -> dict:
    spec: dict[str, Any] = {}
    if order is not None:
        spec["order"] = order
    if default_action:
        spec["defaultAction"] = default_action
    return {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def network_set(name: str, nets: list[str], labels: dict[str, str], ns: str | None = None) -> dict:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if ns:
        meta["namespace"] = ns
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkSet" if ns else "GlobalNetworkSet",
        "metadata": meta,
        "spec": {"nets": nets},
    }


def service_account(ns: str, name: str, **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
    }
