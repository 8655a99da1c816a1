"""Where an ALB's network interfaces live, and so which source addresses its target pods see (§1.5, §1.8).

Precedence: IngressClassParams `subnets` (ids or tags), then the `subnets` annotation (ids or Name tags),
then the controller's discovery: subnets tagged `kubernetes.io/role/elb` (internet-facing) or
`kubernetes.io/role/internal-elb` (internal); with no role tags at all, subnets whose routing matches the
scheme; subnets tagged for another cluster only are dropped. When nothing decides it, the placement is
unknown (None) and the checks that need it say so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable

from netverify.model.addresses import IPRange
from netverify.model.cluster import Cluster
from netverify.model.ingress import IngressClassParams
from netverify.model.network import Subnet, discovery_candidates
from netverify.model.source import SourceRef

Report = Callable[[str, str, SourceRef | None], None]


def _named(cluster: Cluster, names: list[str]) -> tuple[list[Subnet], list[str]]:
    found: list[Subnet] = []
    missing: list[str] = []
    for name in names:
        match = [s for s in cluster.subnets if s.id == name or s.name == name]
        if match:
            found.extend(s for s in match if s not in found)
        else:
            missing.append(name)
    return found, missing


def _tagged(cluster: Cluster, tags: dict[str, tuple[str, ...]]) -> list[Subnet]:
    return [s for s in cluster.subnets if all(s.tags.get(k) in values for k, values in tags.items())]


def _for_this_cluster(subnet: Subnet, cluster_name: str | None) -> bool:
    tagged = subnet.cluster_tags()
    return not tagged or cluster_name is None or cluster_name in tagged


def discover(cluster: Cluster, scheme: str) -> list[Subnet]:
    """The controller's auto-discovery over the subnets the input describes, with its cluster-tag filter
    when the controller's `--cluster-name` is known."""
    name = cluster.alb_controller.cluster_name
    candidates = [s for s in cluster.subnets if _for_this_cluster(s, name)]
    return discovery_candidates(candidates, scheme == "internet-facing")


def resolve_subnets(
    members, params: IngressClassParams | None, exclusive: dict[str, str], scheme: str, cluster: Cluster,
    report: Report, group: str,
) -> tuple[list[Subnet], tuple[IPRange, ...] | None]:
    where = members[0].ingress.source
    if params is not None and (params.subnet_ids or params.subnet_tags):
        subnets, missing = _named(cluster, list(params.subnet_ids or ()))
        if params.subnet_tags:
            subnets += [s for s in _tagged(cluster, params.subnet_tags) if s not in subnets]
        where = params.source
    elif "subnets" in exclusive:
        subnets, missing = _named(cluster, exclusive["subnets"].split())
        annotated = next((m.ingress for m in members if m.ingress.alb("subnets")), None)
        where = annotated.where("subnets") if annotated else where
    else:
        if not cluster.subnets:
            return [], None
        subnets, missing = discover(cluster, scheme), []
    if missing and cluster.subnets:
        report(
            "alb-placement-unknown",
            f"IngressGroup {group}: subnets {', '.join(missing)} are not in the subnet definitions given",
            where,
        )
    if not subnets:
        if cluster.subnets:
            report(
                "alb-placement-unknown",
                f"IngressGroup {group}: no subnet of the input can hold this {scheme} ALB; where its addresses "
                "come from is unknown",
                where,
            )
        return [], None
    if missing:
        return subnets, None
    return subnets, tuple(r for s in subnets for r in s.cidrs)
