"""A deliberately simple, slow-but-obvious Kubernetes NetworkPolicy evaluator: a third opinion.

Why: when netverify and NCA disagree on a generated cluster, someone has to decide which one follows the
Kubernetes semantics.  This module re-derives the connectivity map straight from the NetworkPolicy rules
(``policyTypes`` defaults, union of allows, per-destination named ports, ``endPort``, ``ipBlock``/``except``,
namespace+pod selectors) with plain Python sets and no cleverness, so each line can be checked against the
Kubernetes documentation by reading it.  It covers only what ``generate.py --flavor k8s`` emits (Namespaces,
workloads, Pods, NetworkPolicies; IPv4 and IPv6 ipBlocks) and prints the same JSON shape as
``netverify matrix --format json``, so ``compare.py`` can line up all three tools.

Assumptions (the same as both tools for manifests without pod IPs): pods have no known addresses, so an
ipBlock only ever matches external addresses; every replica of a workload is identical.

Usage::

    python benchmarks/reference.py DIR > reference.json
"""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
NAMES = {v: k for k, v in PROTOCOLS.items()}
ALL = "all"  # every protocol, every port
PortConn = dict[int, list[tuple[int, int]]]  # protocol -> merged port ranges (ports-bearing protocols only)
Conn = Any  # ALL or PortConn


# ------------------------------------------------------------------------------------------ connections


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def union(a: Conn | None, b: Conn | None) -> Conn | None:
    """Union of two allowances (None = nothing)."""
    if a is None:
        return b
    if b is None:
        return a
    if a == ALL or b == ALL:
        return ALL
    out: PortConn = {p: list(r) for p, r in a.items()}
    for p, r in b.items():
        out[p] = _merge(out.get(p, []) + r)
    return out


def intersect(a: Conn | None, b: Conn | None) -> Conn | None:
    """Intersection of two allowances (None = nothing)."""
    if a is None or b is None:
        return None
    if a == ALL:
        return b
    if b == ALL:
        return a
    out: PortConn = {}
    for p in set(a) & set(b):
        ranges = [(max(x0, y0), min(x1, y1)) for x0, x1 in a[p] for y0, y1 in b[p]
                  if max(x0, y0) <= min(x1, y1)]
        if ranges:
            out[p] = _merge(ranges)
    return out or None


def to_json(conn: Conn) -> Any:
    """netverify's ``conn`` shape."""
    if conn == ALL:
        return "all"
    return {NAMES[p]: [[a, b] for a, b in r] for p, r in sorted(conn.items())}


# ------------------------------------------------------------------------------------------ model


@dataclass
class Endpoint:
    """One workload (all its replicas) or bare pod."""

    namespace: str
    name: str
    kind: str
    labels: dict[str, str]
    ports: list[tuple[str, int, int]]  # (name, number, protocol number)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Rule:
    """One ingress/egress rule: peers (all / pod indices + IP networks) and raw ports."""

    all_peers: bool
    pods: set[int]
    nets: list[tuple[Any, list[Any]]]  # (network, excepts)
    ports: list[dict[str, Any]] | None


@dataclass
class Policy:
    """A NetworkPolicy reduced to what decides connectivity."""

    name: str
    selected: set[int]
    ingress: list[Rule] | None  # None: the policy does not affect ingress
    egress: list[Rule] | None
    cidrs: list[Any] = field(default_factory=list)


def _docs(root: Path) -> Iterator[dict[str, Any]]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
    for f in files:
        for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "List" or str(doc.get("kind", "")).endswith("List"):
                yield from (d for d in doc.get("items", []) if isinstance(d, dict))
            else:
                yield doc


def selector_matches(sel: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """LabelSelector semantics: matchLabels AND every matchExpression; ``{}`` matches everything."""
    sel = sel or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != str(v):
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], [str(v) for v in e.get("values") or []]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Cluster:
    """Namespaces, endpoints and policies read from a directory."""

    def __init__(self, root: Path) -> None:
        self.ns_labels: dict[str, dict[str, str]] = {}
        self.endpoints: list[Endpoint] = []
        raw_policies: list[dict[str, Any]] = []
        for doc in _docs(root):
            kind = doc.get("kind")
            meta = doc.get("metadata") or {}
            ns = meta.get("namespace") or "default"
            if kind == "Namespace":
                self.ns_labels[meta["name"]] = {**(meta.get("labels") or {}),
                                                "kubernetes.io/metadata.name": meta["name"]}
            elif kind in WORKLOAD_KINDS or kind in ("Pod", "CronJob"):
                if kind == "Pod":
                    labels, spec = meta.get("labels") or {}, doc.get("spec") or {}
                else:
                    owner = doc["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else doc["spec"]
                    tmpl = owner["template"]
                    labels, spec = (tmpl.get("metadata") or {}).get("labels") or {}, tmpl.get("spec") or {}
                ports = [(p.get("name", ""), int(p["containerPort"]), PROTOCOLS[p.get("protocol", "TCP")])
                         for c in spec.get("containers") or [] for p in c.get("ports") or []]
                self.endpoints.append(Endpoint(ns, meta["name"], kind, {k: str(v) for k, v in labels.items()},
                                               ports))
            elif kind == "NetworkPolicy":
                raw_policies.append(doc)
            elif kind is not None:
                print(f"reference: ignoring {kind} {meta.get('name')}", file=sys.stderr)
        for ep in self.endpoints:
            self.ns_labels.setdefault(ep.namespace, {"kubernetes.io/metadata.name": ep.namespace})
        self.policies = [self._policy(p) for p in raw_policies]

    def _peers(self, ns: str,
               peers: list[dict[str, Any]] | None) -> tuple[bool, set[int], list[Any], list[Any]]:
        if not peers:
            return True, set(), [], []
        pods: set[int] = set()
        nets: list[tuple[Any, list[Any]]] = []
        cidrs: list[Any] = []
        for peer in peers:
            if "ipBlock" in peer:
                net = ipaddress.ip_network(peer["ipBlock"]["cidr"], strict=False)
                exc = [ipaddress.ip_network(x, strict=False) for x in peer["ipBlock"].get("except") or []]
                nets.append((net, exc))
                cidrs += [net, *exc]
                continue
            nsel, psel = peer.get("namespaceSelector"), peer.get("podSelector")
            for i, ep in enumerate(self.endpoints):
                if nsel is None:
                    ns_ok = ep.namespace == ns
                else:
                    ns_ok = selector_matches(nsel, self.ns_labels[ep.namespace])
                if ns_ok and selector_matches(psel, ep.labels):
                    pods.add(i)
        return False, pods, nets, cidrs

    def _policy(self, doc: dict[str, Any]) -> Policy:
        ns = doc["metadata"].get("namespace") or "default"
        spec = doc.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
        selected = {i for i, ep in enumerate(self.endpoints)
                    if ep.namespace == ns and selector_matches(spec.get("podSelector"), ep.labels)}
        pol = Policy(f"{ns}/{doc['metadata']['name']}", selected, None, None)
        for direction, key, peer_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            if direction not in types:
                continue
            rules: list[Rule] = []
            for r in spec.get(key) or []:
                all_peers, pods, nets, cidrs = self._peers(ns, r.get(peer_key))
                pol.cidrs += cidrs
                rules.append(Rule(all_peers, pods, nets, r.get("ports") or None))
            if direction == "Ingress":
                pol.ingress = rules
            else:
                pol.egress = rules
        return pol


def ports_conn(ports: list[dict[str, Any]] | None, target: Endpoint | None) -> Conn | None:
    """What a rule's ``ports`` allow toward ``target`` (named ports resolve on the target; None for IPs)."""
    if not ports:
        return ALL
    acc: Conn | None = None
    for p in ports:
        proto = PROTOCOLS[p.get("protocol", "TCP")]
        port = p.get("port")
        if port is None:
            rng = [(1, 65535)]
        elif isinstance(port, int) or str(port).isdigit():
            rng = [(int(port), int(p.get("endPort", port)))]
        else:
            if target is None:
                continue
            rng = [(n, n) for name, n, pr in target.ports if name == port and pr == proto]
            if not rng:
                continue
        acc = union(acc, {proto: _merge(rng)})
    return acc


# ------------------------------------------------------------------------------------------ evaluation


def _atoms(cidrs: list[Any]) -> list[tuple[int, int, int]]:
    """(family, first, last) atoms of IPv4 and IPv6 space cut at every boundary the policies mention."""
    out: list[tuple[int, int, int]] = []
    for fam, bits in ((4, 32), (6, 128)):
        cuts = {0, 1 << bits}
        for n in cidrs:
            if n.version == fam:
                cuts |= {int(n.network_address), int(n.broadcast_address) + 1}
        s = sorted(cuts)
        out += [(fam, a, b - 1) for a, b in zip(s, s[1:], strict=False)]
    return out


def _in_nets(fam: int, lo: int, nets: list[tuple[Any, list[Any]]]) -> bool:
    addr = ipaddress.ip_address(lo) if fam == 4 else ipaddress.IPv6Address(lo)
    for net, exc in nets:
        if net.version == fam and addr in net and not any(addr in e for e in exc if e.version == fam):
            return True
    return False


def connectivity(root: Path) -> dict[str, Any]:
    """The whole map in netverify's JSON shape (workloads by ``ns/name``, IP atoms as ``first-last``)."""
    cl = Cluster(root)
    eps = cl.endpoints
    n = len(eps)
    in_iso = [False] * n
    out_iso = [False] * n
    ingress: list[dict[int, Conn]] = [{} for _ in range(n)]   # dst -> {src: conn}
    egress: list[dict[int, Conn]] = [{} for _ in range(n)]    # src -> {dst: conn}
    cidrs = [c for p in cl.policies for c in p.cidrs]
    atoms = _atoms(cidrs)
    in_ip: list[dict[int, Conn]] = [{} for _ in range(n)]     # dst -> {atom: conn}
    out_ip: list[dict[int, Conn]] = [{} for _ in range(n)]    # src -> {atom: conn}

    for pol in cl.policies:
        for i in pol.selected:
            if pol.ingress is not None:
                in_iso[i] = True
                for r in pol.ingress:
                    conn = ports_conn(r.ports, eps[i])  # the selected pod is the destination
                    if conn is None:
                        continue
                    srcs = range(n) if r.all_peers else r.pods
                    for s in srcs:
                        ingress[i][s] = union(ingress[i].get(s), conn)
                    for a, (fam, lo, _hi) in enumerate(atoms):
                        if r.all_peers or _in_nets(fam, lo, r.nets):
                            in_ip[i][a] = union(in_ip[i].get(a), conn)
            if pol.egress is not None:
                out_iso[i] = True
                for r in pol.egress:
                    dsts = range(n) if r.all_peers else r.pods
                    for d in dsts:
                        conn = ports_conn(r.ports, eps[d])  # named ports resolve on the peer pod
                        if conn is not None:
                            egress[i][d] = union(egress[i].get(d), conn)
                    ip_conn = ports_conn(r.ports, None)
                    if ip_conn is None:
                        continue
                    for a, (fam, lo, _hi) in enumerate(atoms):
                        if r.all_peers or _in_nets(fam, lo, r.nets):
                            out_ip[i][a] = union(out_ip[i].get(a), ip_conn)

    def fmt(fam: int, v: int) -> str:
        return str(ipaddress.IPv4Address(v) if fam == 4 else ipaddress.IPv6Address(v))

    atom_ids = [f"{fmt(f, lo)}-{fmt(f, hi)}" for f, lo, hi in atoms]
    doc: dict[str, Any] = {
        "endpoints": [{"id": e.id, "kind": e.kind, "namespace": e.namespace, "name": e.name} for e in eps]
        + [{"id": a, "kind": "external"} for a in atom_ids],
        "connections": [],
    }
    conns = doc["connections"]
    for s in range(n):
        for d in range(n):
            if s == d:
                continue
            e = egress[s].get(d) if out_iso[s] else ALL
            g = ingress[d].get(s) if in_iso[d] else ALL
            c = intersect(e, g)
            if c is not None:
                conns.append({"src": eps[s].id, "dst": eps[d].id, "conn": to_json(c)})
    for i in range(n):
        for a, aid in enumerate(atom_ids):
            c = in_ip[i].get(a) if in_iso[i] else ALL
            if c is not None:
                conns.append({"src": aid, "dst": eps[i].id, "conn": to_json(c)})
            c = out_ip[i].get(a) if out_iso[i] else ALL
            if c is not None:
                conns.append({"src": eps[i].id, "dst": aid, "conn": to_json(c)})
    return doc


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/reference.py DIR")
    json.dump(connectivity(Path(sys.argv[1])), sys.stdout, indent=1)
    print()
