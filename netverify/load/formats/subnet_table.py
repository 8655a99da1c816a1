"""Subnets, VPCs and route tables from every infrastructure file of one run, resolved together.

The facts about one subnet are often spread over files: an eksctl ClusterConfig names it and puts node
groups in it, `describe-subnets` gives its blocks and tags, `describe-route-tables` (a separate command, so
usually a separate file) says whether it reaches an internet gateway. Loaders only record what each file
says; `finalize_subnets` joins it once everything is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.load.builder import ClusterBuilder
from netverify.model.addresses import IPRange
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.network import (
    ROLE_ALB_INTERNAL,
    ROLE_ALB_INTERNET_FACING,
    ROLE_NODES,
    ROLE_PODS,
    Subnet,
    Vpc,
    cidr_text,
    discovery_candidates,
    subnet_of_address,
)
from netverify.model.source import SourceRef

_DRAFT = "subnets"


@dataclass(slots=True)
class RouteTable:
    """What decides whether a subnet is public: its explicit (or the VPC's main) table has an IGW route."""

    id: str
    vpc: str | None
    subnets: tuple[str, ...]  # explicitly associated subnets
    main: bool
    internet_route: bool  # a route whose target is an internet gateway (igw-...)
    source: SourceRef | None = None


@dataclass(slots=True)
class Occupancy:
    """Roles that something outside the subnet's own definition gives it (an eksctl node group, ...)."""

    subnet: str  # subnet id (or the logical name its definition uses)
    roles: frozenset[str]
    reason: str  # for messages: "nodeGroup ng-1"
    source: SourceRef | None = None


@dataclass
class SubnetTable:
    subnets: list[Subnet] = field(default_factory=list)
    vpcs: list[Vpc] = field(default_factory=list)
    route_tables: list[RouteTable] = field(default_factory=list)
    occupancy: list[Occupancy] = field(default_factory=list)


def subnet_table(builder: ClusterBuilder) -> SubnetTable:
    """The run's table, created by the first infrastructure file."""
    table = builder.drafts.get(_DRAFT)
    if table is None:
        table = builder.drafts[_DRAFT] = SubnetTable()
    return table


def is_internet_gateway(target: object) -> bool:
    """The AWS Load Balancer Controller's test (subnet_resolver.go): the gateway id starts with `igw`."""
    return isinstance(target, str) and target.startswith("igw")


def finalize_subnets(builder: ClusterBuilder) -> None:
    table = builder.drafts.get(_DRAFT)
    if table is None:
        return
    vpc_names = {id(subnet): {subnet.vpc} for subnet in table.subnets}  # before merging renames them
    subnets, by_id = _merge_subnets(table.subnets, builder, vpc_names)
    _apply_route_tables(subnets, by_id, vpc_names, table.route_tables, builder)
    _apply_occupancy(by_id, table.occupancy, builder)
    _place_nodes(subnets, builder)
    _assign_load_balancer_roles(subnets)
    for subnet in subnets:
        if not subnet.cidrs:
            builder.warning(
                f"subnet {subnet.label} has no address block in the input (only its id is given); CIDR rules "
                "cannot be checked against its occupants: add `aws ec2 describe-subnets` output",
                subnet.source,
                code="subnet-without-cidr",
            )
    builder.cluster.subnets.extend(subnets)
    for vpc in _merge_vpcs(table.vpcs):
        builder.cluster.vpcs[vpc.id] = vpc


def _is_real_id(identifier: str | None, prefix: str) -> bool:
    return bool(identifier) and identifier.startswith(prefix)


def _ipv4_blocks(subnet: Subnet) -> frozenset[IPRange]:
    return frozenset(block for block in subnet.cidrs if block.family == 4)


def _same_subnet_by_blocks(merged: list[Subnet], subnet: Subnet) -> Subnet | None:
    """A subnet known only by a logical name (eksctl key, CloudFormation logical id) is the deployed subnet
    (real id) with the same IPv4 block in the same VPC, since blocks of one VPC never overlap. Two logical
    subnets are never joined this way: two eksctl clusters may well plan the same default blocks."""
    blocks = _ipv4_blocks(subnet)
    if not blocks:
        return None
    candidates = [
        other
        for other in merged
        if _is_real_id(other.id, "subnet-") != _is_real_id(subnet.id, "subnet-")
        and _ipv4_blocks(other) == blocks
        and (other.vpc == subnet.vpc or not _is_real_id(other.vpc, "vpc-") or not _is_real_id(subnet.vpc, "vpc-"))
    ]
    return candidates[0] if len(candidates) == 1 else None


def _merge_subnets(
    subnets: list[Subnet], builder: ClusterBuilder, vpc_names: dict[int, set[str | None]]
) -> tuple[list[Subnet], dict[str, Subnet]]:
    """One Subnet per real subnet; `by_id` maps every name it was given (real or logical) to it."""
    merged: list[Subnet] = []
    by_id: dict[str, Subnet] = {}
    for subnet in subnets:
        same = by_id.get(subnet.id) or _same_subnet_by_blocks(merged, subnet)
        if same is None:
            merged.append(subnet)
            by_id[subnet.id] = subnet
            continue
        vpc_names[id(same)] |= vpc_names[id(subnet)]
        _absorb(same, subnet, builder)
        by_id.setdefault(subnet.id, same)
        by_id.setdefault(same.id, same)
    return merged, by_id


def _absorb(kept: Subnet, other: Subnet, builder: ClusterBuilder) -> None:
    """Join two definitions of one subnet; contradictions are reported and the first definition wins."""
    where = f"(first defined at {kept.source})" if kept.source else ""
    kept_v4, other_v4 = _ipv4_blocks(kept), _ipv4_blocks(other)
    if kept_v4 and other_v4 and kept_v4 != other_v4:
        builder.error(
            f"subnet {other.id} has block {', '.join(map(cidr_text, sorted(other_v4)))} here but "
            f"{', '.join(map(cidr_text, sorted(kept_v4)))} elsewhere {where}; expected one definition",
            other.source,
            code="subnet-conflict",
        )
        return
    kept.cidrs = tuple(sorted(set(kept.cidrs) | set(other.cidrs)))
    if _is_real_id(other.id, "subnet-") and not _is_real_id(kept.id, "subnet-"):
        kept.id = other.id
    if kept.vpc is None or (_is_real_id(other.vpc, "vpc-") and not _is_real_id(kept.vpc, "vpc-")):
        kept.vpc = other.vpc or kept.vpc
    for attribute in ("zone", "public"):
        mine, theirs = getattr(kept, attribute), getattr(other, attribute)
        if mine is None:
            setattr(kept, attribute, theirs)
        elif theirs is not None and theirs != mine:
            builder.warning(
                f"subnet {kept.id}: {attribute} is {theirs!r} here but {mine!r} {where}; keeping {mine!r}",
                other.source,
                code="subnet-conflict",
            )
    kept.name = kept.name or other.name
    kept.tags = {**other.tags, **kept.tags}
    kept.roles = kept.roles | other.roles
    if kept.source is None:
        kept.source = other.source


def _apply_route_tables(
    subnets: list[Subnet],
    by_id: dict[str, Subnet],
    vpc_names: dict[int, set[str | None]],
    tables: list[RouteTable],
    builder: ClusterBuilder,
) -> None:
    """A subnet without an explicit association uses its VPC's main route table, as AWS routes it."""
    if not tables:
        return
    explicit: dict[int, RouteTable] = {}
    main: dict[str | None, RouteTable] = {}
    for table in tables:
        for subnet_id in table.subnets:
            if subnet_id in by_id:
                explicit[id(by_id[subnet_id])] = table
        if table.main and table.vpc is not None:
            main[table.vpc] = table
    for subnet in subnets:
        table = explicit.get(id(subnet)) or next(
            (main[vpc] for vpc in sorted(vpc_names[id(subnet)], key=str) if vpc in main), None
        )
        if table is None:
            continue
        if subnet.public is not None and subnet.public != table.internet_route:
            builder.warning(
                f"subnet {subnet.label} is declared {'public' if subnet.public else 'private'} at {subnet.source}, "
                f"but route table {table.id} {'has' if table.internet_route else 'has no'} route to an internet "
                "gateway; the route table decides",
                table.source,
                code="subnet-conflict",
            )
        subnet.public = table.internet_route


def _apply_occupancy(by_id: dict[str, Subnet], occupancy: list[Occupancy], builder: ClusterBuilder) -> None:
    for entry in occupancy:
        subnet = by_id.get(entry.subnet)
        if subnet is None:
            # Without any subnet input this is just a manifest naming its subnet: worth a note, not a warning
            message = (
                f"{entry.reason} uses subnet {entry.subnet!r}, which no input defines; what sits in it is "
                "unknown to the checks (add `aws ec2 describe-subnets` output)"
            )
            severity = Severity.WARNING if by_id else Severity.INFO
            builder.cluster.diagnostics.append(Diagnostic(severity, message, entry.source, "unknown-subnet"))
            continue
        subnet.roles = subnet.roles | entry.roles


def _place_nodes(subnets: list[Subnet], builder: ClusterBuilder) -> None:
    """Node.subnet from its addresses. With the Amazon VPC CNI its pods take addresses from the same subnet
    (secondary ENIs are created there unless custom networking moves them), so the subnet may hold pods."""
    for node in builder.cluster.nodes:
        for family, address in node.addresses:
            subnet = subnet_of_address(subnets, family, address)
            if subnet is not None:
                node.subnet = subnet.id
                subnet.roles = subnet.roles | {ROLE_NODES, ROLE_PODS}
                break


def _assign_load_balancer_roles(subnets: list[Subnet]) -> None:
    for role, internet_facing in ((ROLE_ALB_INTERNET_FACING, True), (ROLE_ALB_INTERNAL, False)):
        for subnet in discovery_candidates(subnets, internet_facing):
            subnet.roles = subnet.roles | {role}


def _merge_vpcs(vpcs: list[Vpc]) -> list[Vpc]:
    merged: dict[str, Vpc] = {}
    for vpc in vpcs:
        kept = merged.get(vpc.id)
        if kept is None:
            merged[vpc.id] = vpc
            continue
        kept.cidrs = tuple(sorted(set(kept.cidrs) | set(vpc.cidrs)))
        kept.name = kept.name or vpc.name
        kept.source = kept.source or vpc.source
    return list(merged.values())
