"""Deterministic generator of a cluster whose pods do NOT collapse into endpoint classes.

Why this exists: netverify's speed at 100,000 pods comes largely from endpoint classes (replicas of a
workload are one class). The worst case is a cluster where every pod carries a label set of its own and the
policies select pods by those labels, so no two pods can share a class. This generator writes such a
cluster: ``--namespaces`` team namespaces with ``--pods`` bare Pods in all, each Pod labelled with its own
``app`` value, and ``--policies`` NetworkPolicies in all that select small groups of pods by ``app In [...]``
(default deny, DNS egress, same-namespace egress, per-group ingress on named and numeric ports, and now and
then a partner team's pods across namespaces, so ``check`` has some violations to explain).

Everything random is drawn from ``random.Random`` seeded by the arguments, so a given command always writes
byte-identical files.

Usage::

    python benchmarks/generate_distinct.py OUTDIR [--pods 20000] [--policies 5000] [--namespaces 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

#: Fixed policies of every namespace: default deny, DNS egress, same-namespace egress.
FIXED_PER_NAMESPACE = 3
#: Every this many namespaces, one group admits a partner team's pods (a cross-tenant flow).
PARTNER_EVERY = 10


def pod(ns: str, name: str, app: str, role: str) -> Manifest:
    """A bare Pod with a label set of its own (``app`` is unique in the cluster)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app, "role": role, "team": ns}},
        "spec": {"containers": [{"name": "main", "image": f"registry.example/{role}:1.0",
                                 "ports": [{"name": "http", "containerPort": 8080 + (hash_index(app) % 3)},
                                           {"name": "metrics", "containerPort": 9090}]}]},
    }


def hash_index(text: str) -> int:
    """A stable small number from a name (Python's hash() is salted per process)."""
    return sum(text.encode())


def netpol(ns: str, name: str, selector: dict[str, Any], types: list[str], **rules: Any) -> Manifest:
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": types}
    spec.update(rules)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def apps_in(values: list[str]) -> dict[str, Any]:
    return {"matchExpressions": [{"key": "app", "operator": "In", "values": values}]}


def namespace_docs(ns: str, pods: int, groups: int, partner: str | None,
                   rng: random.Random) -> tuple[list[Manifest], int]:
    """The Namespace, its pods and its policies; returns them and the number of policies."""
    docs: list[Manifest] = [{"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": ns, "labels": {"team": ns}}}]
    roles = ("frontend", "backend", "worker", "data")
    apps = [f"{ns}-app-{i:04d}" for i in range(pods)]
    docs += [pod(ns, f"pod-{i:04d}", app, roles[i % len(roles)]) for i, app in enumerate(apps)]
    policies = [
        netpol(ns, "default-deny", {}, ["Ingress", "Egress"], ingress=[], egress=[]),
        netpol(ns, "allow-dns", {}, ["Egress"], egress=[{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]),
        netpol(ns, "allow-same-namespace-egress", {}, ["Egress"], egress=[{"to": [{"podSelector": {}}]}]),
    ]
    size = max(1, pods // max(groups, 1))
    for g in range(groups):
        members = apps[(g * size) % pods: (g * size) % pods + size] or apps[:1]
        callers = rng.sample(apps, min(len(apps), rng.randint(2, 6)))
        sources: list[dict[str, Any]] = [{"podSelector": apps_in(callers)}]
        if partner is not None and g == 0:
            sources.append({"namespaceSelector": {"matchLabels": {"team": partner}},
                            "podSelector": apps_in([f"{partner}-app-{i:04d}" for i in range(2)])})
        ports = [{"protocol": "TCP", "port": "http"}, {"protocol": "TCP", "port": 9000, "endPort": 9010}]
        policies.append(netpol(ns, f"allow-group-{g:03d}", apps_in(members), ["Ingress"],
                               ingress=[{"from": sources, "ports": ports}]))
    return docs + policies, len(policies)


def generate(outdir: str | Path, pods: int = 20_000, policies: int = 5_000, namespaces: int = 200,
             seed: int = 0) -> dict[str, Any]:
    """Write the cluster (one file per namespace plus kube-system) and return its statistics."""
    if pods < namespaces or policies < namespaces * (FIXED_PER_NAMESPACE + 1):
        raise ValueError("need at least one pod and FIXED_PER_NAMESPACE + 1 policies per namespace")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    width = max(3, len(str(namespaces - 1)))
    names = [f"team-{i:0{width}d}" for i in range(namespaces)]
    system = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
         "spec": {"containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                                  "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                            {"name": "dns-tcp", "containerPort": 53}]}]}},
    ]
    (out / "kube-system.yaml").write_text(yaml.safe_dump_all(system, sort_keys=False), encoding="utf-8")
    stats = {"namespaces": namespaces, "pods": 1, "policies": 0, "seed": seed}
    for i, ns in enumerate(names):
        rng = random.Random(f"netverify-distinct:{seed}:{i}")
        ns_pods = pods // namespaces + (1 if i < pods % namespaces else 0)
        groups = policies // namespaces + (1 if i < policies % namespaces else 0) - FIXED_PER_NAMESPACE
        partner = names[(i + 1) % namespaces] if i % PARTNER_EVERY == 0 and namespaces > 1 else None
        docs, count = namespace_docs(ns, ns_pods, groups, partner, rng)
        (out / f"{ns}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
        stats["pods"] += ns_pods
        stats["policies"] += count
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--pods", type=int, default=20_000)
    ap.add_argument("--policies", type=int, default=5_000)
    ap.add_argument("--namespaces", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.outdir, args.pods, args.policies, args.namespaces, args.seed), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
