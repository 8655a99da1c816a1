"""Deterministic generator of realistic multi-tenant (EKS-style) policy repositories.

Why this exists: the speed goal of netverify is stated against network-config-analyzer (NCA) on a
multi-tenant cluster (see the peer research, section 2.4).  A benchmark is only worth something if both
tools read the *same* input, if that input looks like what platform teams really commit (one namespace per
tenant, a default deny, per-app allows, DNS to kube-system, HTTPS to the internet, ALB subnets), and if
every run of a given size produces byte-identical files.  Everything random here is drawn from one
``random.Random(seed)``, and iteration orders are fixed, so the output depends only on the arguments.

The k8s flavor uses only features NCA 2.1.0 understands (NetworkPolicy with named ports, ``endPort``,
``ipBlock``/``except``, namespace+pod selectors, match expressions), so the two tools can be compared pair
by pair.  The calico flavor additionally writes Calico ``GlobalNetworkPolicy``/``NetworkPolicy`` objects
(orders, Deny/Pass actions, ``==``/``in``/``has()``/``!`` selectors), avoiding tiers and service-account
selectors, which NCA does not model.

Usage::

    python benchmarks/generate.py OUTDIR --tenants 40 --deployments 10 [--replicas 3] [--flavor k8s]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Public subnets of the three availability zones where the ALBs live (target-type ip: pods see these).
ALB_SUBNETS: tuple[str, ...] = ("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24")

#: Private ranges and the instance-metadata address, excluded from the "internet on 443" egress rule.
PRIVATE_EXCEPT: tuple[str, ...] = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.169.254/32")

#: The grpc-style numeric range every per-app ingress rule opens next to its named port (uses ``endPort``).
RANGE_PORT: tuple[int, int] = (9000, 9010)

Manifest = dict[str, Any]

#: Image registry of the tenants' workloads (only for realism; no tool looks at images).
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@dataclass(frozen=True)
class Port:
    """One named container port; names are what the policies refer to."""

    name: str
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class AppTemplate:
    """A kind of micro-service that recurs in every tenant.

    ``callers`` are the *template* names of the apps allowed to call it (resolved to concrete ``app``
    labels of the same cycle when D exceeds the catalogue), ``caller_roles`` the shared ``role`` labels
    allowed to call it, and ``ingress_ports`` the container port names the per-app policy opens.  An app
    with no callers and no caller roles gets no per-app ingress policy (batch workers, the web front end,
    which has its own policy).
    """

    name: str
    role: str
    ports: tuple[Port, ...]
    callers: tuple[str, ...] = ()
    caller_roles: tuple[str, ...] = ()
    ingress_ports: tuple[str, ...] = ()
    extra_udp_port: str | None = None


#: The per-tenant service catalogue.  Ports deliberately reuse the name ``http`` with *different* numbers
#: so named ports have to be resolved per destination pod, and ``gossip``/``statsd`` are UDP.
CATALOGUE: tuple[AppTemplate, ...] = (
    AppTemplate("web", "frontend", (Port("http", 8080), Port("metrics", 9090))),
    AppTemplate("api", "backend", (Port("http", 8080), Port("grpc", 9000), Port("metrics", 9090)),
                callers=("web",), caller_roles=("frontend",), ingress_ports=("http",)),
    AppTemplate("auth", "backend", (Port("http", 8081), Port("metrics", 9090)),
                callers=("web", "api"), ingress_ports=("http",)),
    AppTemplate("catalog", "backend", (Port("http", 8082), Port("metrics", 9091)),
                callers=("api",), ingress_ports=("http",)),
    AppTemplate("cart", "backend", (Port("http", 8080),),
                callers=("api",), caller_roles=("frontend",), ingress_ports=("http",)),
    AppTemplate("search", "backend",
                (Port("http", 9200), Port("gossip", 7946, "UDP"), Port("metrics", 9102)),
                callers=("catalog",), caller_roles=("backend",), ingress_ports=("http",),
                extra_udp_port="gossip"),
    AppTemplate("worker", "worker", (Port("metrics", 9090),)),
    AppTemplate("cache", "data", (Port("redis", 6379),),
                caller_roles=("backend",), ingress_ports=("redis",)),
    AppTemplate("db", "data", (Port("postgres", 5432), Port("metrics", 9187)),
                caller_roles=("backend", "worker"), ingress_ports=("postgres",)),
    AppTemplate("notifier", "worker", (Port("statsd", 8125, "UDP"), Port("http", 8080))),
)


@dataclass
class Stats:
    """What was generated; returned by :func:`generate` and printed by the CLI as JSON."""

    flavor: str
    seed: int
    tenants: int
    deployments: int
    replicas: int
    workloads: int = 0
    system_workloads: int = 0
    pods: int = 0
    namespaces: int = 0
    policies: int = 0
    k8s_policies: int = 0
    calico_policies: int = 0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and for the results table."""
        return dict(self.__dict__)


def tenant_name(index: int, tenants: int) -> str:
    """``tenant-NNN`` (at least three digits, wider when needed, so names sort in creation order)."""
    width = max(3, len(str(max(tenants - 1, 0))))
    return f"tenant-{index:0{width}d}"


def app_names(deployments: int) -> list[tuple[str, AppTemplate, int]]:
    """Concrete ``(app label, template, cycle)`` for D deployments.

    The catalogue repeats when D is larger than it, with a ``-N`` suffix, so every app label stays distinct
    within a tenant and the callers of a repeated app are the apps of the same cycle.
    """
    out: list[tuple[str, AppTemplate, int]] = []
    for i in range(deployments):
        cycle, slot = divmod(i, len(CATALOGUE))
        tmpl = CATALOGUE[slot]
        out.append((tmpl.name if cycle == 0 else f"{tmpl.name}-{cycle + 1}", tmpl, cycle))
    return out


def _label_in_cycle(template_name: str, cycle: int) -> str:
    return template_name if cycle == 0 else f"{template_name}-{cycle + 1}"


def namespace(name: str, labels: dict[str, str]) -> Manifest:
    """A Namespace object.  ``kubernetes.io/metadata.name`` is left to the tools (the API server sets it)."""
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def deployment(ns: str, name: str, labels: dict[str, str], ports: tuple[Port, ...], replicas: int,
               image: str) -> Manifest:
    """A Deployment whose pod template carries ``labels`` and the named container ports."""
    container_ports = [{"name": p.name, "containerPort": p.number, "protocol": p.protocol} for p in ports]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": labels["app"]} if "app" in labels else dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": name, "image": image, "ports": container_ports}]},
            },
        },
    }


def netpol(ns: str, name: str, pod_selector: dict[str, Any], types: list[str],
           ingress: list[dict[str, Any]] | None = None,
           egress: list[dict[str, Any]] | None = None) -> Manifest:
    """A networking.k8s.io/v1 NetworkPolicy with explicit ``policyTypes`` (no reliance on defaults)."""
    spec: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def _tenant_policies(ns: str, tier: str | None, apps: list[tuple[str, AppTemplate, int]],
                     rng: random.Random, flavor: str) -> list[Manifest]:
    """The Kubernetes NetworkPolicies of one tenant (about D + 3 of them)."""
    pols: list[Manifest] = []
    if flavor == "k8s":
        # In the calico flavor the global default deny (order 2000) plays this role.
        pols.append(netpol(ns, "default-deny-all", {}, ["Ingress", "Egress"], ingress=[], egress=[]))
    pols.append(netpol(ns, "allow-same-namespace-egress", {}, ["Egress"],
                       egress=[{"to": [{"podSelector": {}}]}]))
    pols.append(netpol(ns, "allow-dns-egress", {}, ["Egress"], egress=[{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }]))
    pols.append(netpol(
        ns, "allow-https-egress",
        {"matchExpressions": [{"key": "role", "operator": "In", "values": ["frontend", "backend"]}]},
        ["Egress"],
        egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_EXCEPT)}}],
                 "ports": [{"protocol": "TCP", "port": 443}]}]))
    # Prometheus in the monitoring namespace scrapes the named port ``metrics`` of every pod; pods without
    # such a port get nothing, and the number differs per app (resolved per destination pod).
    pols.append(netpol(ns, "allow-metrics-scrape", {}, ["Ingress"], ingress=[{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
        "ports": [{"protocol": "TCP", "port": "metrics"}],
    }]))
    for label, tmpl, cycle in apps:
        if tmpl.name == "web":
            # Web front ends: reachable from every gold-tier tenant and from the ALB subnet(s) of the tenant.
            subnets = sorted(rng.sample(ALB_SUBNETS, rng.choice((1, 2))))
            peers: list[dict[str, Any]] = [{"namespaceSelector": {"matchLabels": {"tier": "gold"}}}]
            peers += [{"ipBlock": {"cidr": cidr}} for cidr in subnets]
            pols.append(netpol(ns, f"allow-{label}-ingress", {"matchLabels": {"app": label}}, ["Ingress"],
                               ingress=[{"from": peers, "ports": [{"protocol": "TCP", "port": "http"}]}]))
            continue
        if not tmpl.callers and not tmpl.caller_roles:
            continue
        sources: list[dict[str, Any]] = [
            {"podSelector": {"matchLabels": {"app": _label_in_cycle(c, cycle)}}} for c in tmpl.callers
        ]
        if len(tmpl.caller_roles) == 1:
            sources.append({"podSelector": {"matchLabels": {"role": tmpl.caller_roles[0]}}})
        elif tmpl.caller_roles:
            sources.append({"podSelector": {"matchExpressions": [
                {"key": "role", "operator": "In", "values": list(tmpl.caller_roles)}]}})
        ports: list[dict[str, Any]] = [{"protocol": "TCP", "port": p} for p in tmpl.ingress_ports]
        ports.append({"protocol": "TCP", "port": RANGE_PORT[0], "endPort": RANGE_PORT[1]})
        rules: list[dict[str, Any]] = [{"from": sources, "ports": ports}]
        if tmpl.extra_udp_port:
            rules.append({"from": [{"podSelector": {"matchLabels": {"role": tmpl.role}}}],
                          "ports": [{"protocol": "UDP", "port": tmpl.extra_udp_port}]})
        pols.append(netpol(ns, f"allow-{label}-ingress", {"matchLabels": {"app": label}}, ["Ingress"],
                           ingress=rules))
    if tier == "gold":
        # Gold tenants' front ends may call the web front ends of other tenants (which admit gold tiers).
        pols.append(netpol(ns, "allow-partner-web-egress", {"matchLabels": {"role": "frontend"}}, ["Egress"],
                           egress=[{"to": [{"namespaceSelector": {"matchExpressions": [
                               {"key": "tenant", "operator": "Exists"}]},
                               "podSelector": {"matchLabels": {"app": "web"}}}],
                               "ports": [{"protocol": "TCP", "port": "http"}]}]))
    return pols


def _calico_tenant_policies(ns: str, tier: str | None, rng: random.Random) -> list[Manifest]:
    """Per-tenant Calico NetworkPolicies: ordered Deny/Pass/Allow with the richer selector language."""
    def cnp(name: str, order: float, selector: str, types: list[str],
            ingress: list[dict[str, Any]] | None = None,
            egress: list[dict[str, Any]] | None = None) -> Manifest:
        spec: dict[str, Any] = {"order": order, "selector": selector, "types": types}
        if ingress is not None:
            spec["ingress"] = ingress
        if egress is not None:
            spec["egress"] = egress
        return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    metadata_deny_order = 100 + rng.randrange(0, 50)
    pols = [
        # Nothing in a tenant may reach the instance-metadata service, whatever later policies allow.
        cnp("deny-instance-metadata", metadata_deny_order, "all()", ["Egress"], egress=[
            {"action": "Deny", "protocol": "TCP", "destination": {"nets": ["169.254.169.254/32"]}},
        ]),
        # Data stores never accept traffic from workers except on their service port.
        cnp("data-from-workers", 200, "role == 'data'", ["Ingress"], ingress=[
            {"action": "Allow", "protocol": "TCP", "source": {"selector": "role == 'worker' && has(app)"},
             "destination": {"ports": [5432, 6379]}},
            {"action": "Deny", "source": {"selector": "role == 'worker'"}},
        ]),
        # Pass skips the rest of the (default) tier, the Kubernetes policies at order 1000 and the global
        # deny at 2000 included; with no later tier the namespace profile decides (allow, in Calico on k8s).
        # A deliberate edge case for the Calico engine.
        cnp("pass-monitoring", 300, "has(app)", ["Ingress"], ingress=[
            {"action": "Pass",
             "source": {"namespaceSelector": "kubernetes.io/metadata.name == 'monitoring'"}},
        ]),
        # Batch pods other than workers talk HTTP to any backend of their own tenant.
        cnp("backend-http-from-batch", 400, "role in {'backend', 'data'}", ["Ingress"], ingress=[
            {"action": "Allow", "protocol": "TCP",
             "source": {"selector": "!has(role) || role not in {'frontend', 'backend', 'data'}"},
             "destination": {"ports": ["8000:8100"]}},
        ]),
    ]
    if tier == "silver":
        # Silver tenants may not send UDP outside the VPC except DNS (port 53 stays open).
        pols.append(cnp("silver-deny-udp-out", 500, "role != 'frontend'", ["Egress"], egress=[
            {"action": "Deny", "protocol": "UDP",
             "destination": {"notNets": ["10.0.0.0/8"], "ports": ["1:52", "54:65535"]}},
        ]))
    return pols


def _calico_globals() -> list[Manifest]:
    """Cluster-wide Calico policies: kube-system and monitoring allowed, default deny at order 2000."""
    def gnp(name: str, order: float, selector: str, ingress: list[dict[str, Any]],
            egress: list[dict[str, Any]], ns_selector: str | None = None) -> Manifest:
        spec: dict[str, Any] = {"order": order, "selector": selector, "types": ["Ingress", "Egress"],
                                "ingress": ingress, "egress": egress}
        if ns_selector is not None:
            spec["namespaceSelector"] = ns_selector
        return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                "metadata": {"name": name}, "spec": spec}

    return [
        gnp("allow-kube-system", 100, "all()", [{"action": "Allow"}], [{"action": "Allow"}],
            ns_selector="kubernetes.io/metadata.name in {'kube-system', 'monitoring'}"),
        gnp("default-deny", 2000, "all()", [{"action": "Deny"}], [{"action": "Deny"}]),
    ]


def _dump(path: Path, docs: list[Manifest]) -> None:
    """Multi-document YAML with keys in insertion order (readable, like hand-written manifests)."""
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False), encoding="utf-8")


def generate(outdir: str | Path, tenants: int, deployments: int, replicas: int = 3, flavor: str = "k8s",
             seed: int = 0) -> dict[str, Any]:
    """Write a multi-tenant repository to ``outdir`` and return its statistics.

    One file per tenant namespace (Namespace, Deployments, policies), ``kube-system.yaml`` (CoreDNS),
    ``monitoring.yaml`` (Prometheus) and, in the calico flavor, ``calico-global.yaml``.  Existing ``*.yaml``
    files in ``outdir`` are removed first so a smaller cluster never inherits stale tenants.
    """
    if flavor not in ("k8s", "calico"):
        raise ValueError(f"unknown flavor {flavor!r} (k8s or calico)")
    if tenants < 1 or deployments < 1 or replicas < 1:
        raise ValueError("tenants, deployments and replicas must be positive")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    stats = Stats(flavor=flavor, seed=seed, tenants=tenants, deployments=deployments, replicas=replicas)
    apps = app_names(deployments)

    system: list[Manifest] = [
        namespace("kube-system", {}),
        deployment("kube-system", "coredns", {"k8s-app": "kube-dns"},
                   (Port("dns", 53, "UDP"), Port("dns-tcp", 53, "TCP"), Port("metrics", 9153)), 2,
                   "registry.k8s.io/coredns/coredns:v1.11.1"),
    ]
    monitoring: list[Manifest] = [
        namespace("monitoring", {"purpose": "observability"}),
        deployment("monitoring", "prometheus", {"app.kubernetes.io/name": "prometheus", "app": "prometheus"},
                   (Port("web", 9090),), 1, "quay.io/prometheus/prometheus:v2.51.0"),
    ]
    _dump(out / "kube-system.yaml", system)
    _dump(out / "monitoring.yaml", monitoring)
    stats.files += ["kube-system.yaml", "monitoring.yaml"]
    stats.system_workloads = 2
    stats.pods = 2 + 1
    stats.namespaces = 2

    for t in range(tenants):
        ns = tenant_name(t, tenants)
        # One generator per tenant (and a separate one for the Calico extras), so a tenant's tier, images
        # and ALB subnets do not depend on the flavor or on how many tenants came before it.
        rng = random.Random(f"netverify-bench:{seed}:{t}")
        calico_rng = random.Random(f"netverify-bench-calico:{seed}:{t}")
        draw = rng.random()
        tier = "gold" if draw < 0.25 else "silver" if draw < 0.75 else None
        labels = {"tenant": ns}
        if tier:
            labels["tier"] = tier
        docs: list[Manifest] = [namespace(ns, labels)]
        for label, tmpl, _cycle in apps:
            pod_labels = {"app": label, "role": tmpl.role, "tenant": ns}
            image = f"{ECR}/{ns}/{tmpl.name}:1.{rng.randrange(0, 40)}.0"
            docs.append(deployment(ns, label, pod_labels, tmpl.ports, replicas, image))
        k8s_pols = _tenant_policies(ns, tier, apps, rng, flavor)
        docs += k8s_pols
        stats.k8s_policies += len(k8s_pols)
        if flavor == "calico":
            cal = _calico_tenant_policies(ns, tier, calico_rng)
            docs += cal
            stats.calico_policies += len(cal)
        _dump(out / f"{ns}.yaml", docs)
        stats.files.append(f"{ns}.yaml")
        stats.namespaces += 1
        stats.workloads += deployments
        stats.pods += deployments * replicas

    if flavor == "calico":
        globals_ = _calico_globals()
        _dump(out / "calico-global.yaml", globals_)
        stats.files.append("calico-global.yaml")
        stats.calico_policies += len(globals_)
    stats.policies = stats.k8s_policies + stats.calico_policies
    return stats.as_dict()


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints the statistics as JSON so scripts can pick them up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--tenants", type=int, required=True)
    ap.add_argument("--deployments", type=int, required=True)
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--flavor", choices=("k8s", "calico"), default="k8s")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    stats = generate(args.outdir, args.tenants, args.deployments, args.replicas, args.flavor, args.seed)
    stats.pop("files")
    print(json.dumps(stats, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
