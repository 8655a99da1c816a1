"""eksctl `ClusterConfig` (eksctl.io/v1alpha5): the VPC's public and private subnets, and which of them the
node groups (and so, with the Amazon VPC CNI, their pods) and Fargate profiles use.

Subnet selection follows eksctl (pkg/vpc/vpc.go, SelectNodeGroupSubnets): a node group uses the subnets it
lists (by key or id), else those of its availabilityZones, else every subnet of its kind - private with
`privateNetworking: true`, public otherwise (eksctl's default: nodes in public subnets). When eksctl makes
the VPC itself it splits `vpc.cidr` (default 192.168.0.0/16) as SetSubnets does.
"""

from __future__ import annotations

import re

from pydantic import Field, StrictBool, StrictStr

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.formats.subnet_table import Occupancy, subnet_table
from netverify.load.kinds.common import Lenient, Strict
from netverify.load.validation import parse_model
from netverify.model.addresses import IPRange, parse_cidr
from netverify.model.network import ROLE_NODES, ROLE_PODS, Subnet, Vpc

DEFAULT_VPC_CIDR = "192.168.0.0/16"
_ZONE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)*-\d+[a-z]$")  # eu-west-1a, us-gov-west-1b, us-west-2-lax-1a


class SubnetSpec(Strict):
    id: StrictStr | None = None
    az: StrictStr | None = None
    cidr: StrictStr | None = None


class ClusterSubnets(Strict):
    public: dict[StrictStr, SubnetSpec] = {}
    private: dict[StrictStr, SubnetSpec] = {}


class ClusterVpc(Lenient):
    id: StrictStr | None = None
    cidr: StrictStr | None = None
    ipv6Cidr: StrictStr | None = None
    extraCIDRs: list[StrictStr] = []
    extraIPv6CIDRs: list[StrictStr] = []
    subnets: ClusterSubnets | None = None


class NodeGroup(Lenient):
    name: StrictStr = Field(min_length=1)
    privateNetworking: StrictBool = False
    subnets: list[StrictStr] = []
    availabilityZones: list[StrictStr] = []


class FargateProfile(Lenient):
    name: StrictStr = Field(min_length=1)
    subnets: list[StrictStr] = []


class ClusterMeta(Lenient):
    name: StrictStr = Field(min_length=1)


class ClusterConfig(Lenient):
    metadata: ClusterMeta
    availabilityZones: list[StrictStr] = []
    vpc: ClusterVpc = ClusterVpc()
    nodeGroups: list[NodeGroup] = []
    managedNodeGroups: list[NodeGroup] = []
    fargateProfiles: list[FargateProfile] = []


# topology ("public"/"private") -> key -> the subnet
Topology = dict[str, dict[str, Subnet]]


def load_cluster_config(doc: Document, builder: ClusterBuilder) -> None:
    config = parse_model(ClusterConfig, doc.data, doc)
    table = subnet_table(builder)
    vpc_id = config.vpc.id or f"eksctl-{config.metadata.name}-cluster/VPC"  # the stack's logical VPC
    vpc_cidr = config.vpc.cidr or (None if config.vpc.id else DEFAULT_VPC_CIDR)
    blocks = _parse_all(
        doc,
        builder,
        [(vpc_cidr, ("vpc", "cidr")), (config.vpc.ipv6Cidr, ("vpc", "ipv6Cidr"))]
        + [(c, ("vpc", "extraCIDRs", i)) for i, c in enumerate(config.vpc.extraCIDRs)]
        + [(c, ("vpc", "extraIPv6CIDRs", i)) for i, c in enumerate(config.vpc.extraIPv6CIDRs)],
    )
    table.vpcs.append(
        Vpc(vpc_id, tuple(sorted(blocks)), None, doc.source("vpc") if "vpc" in doc.data else doc.source())
    )
    if config.vpc.subnets is not None:
        topology = _declared_subnets(doc, builder, config, vpc_id)
    elif config.vpc.id is None and config.availabilityZones and blocks and blocks[0].family == 4:
        topology = _generated_subnets(doc, builder, config, vpc_id, blocks[0])
    else:
        builder.warning(
            f"ClusterConfig {config.metadata.name!r} lists no vpc.subnets"
            + ("" if config.vpc.id else " and no availabilityZones")
            + ": eksctl picks them when it creates the cluster, so what sits in which subnet is unknown "
            "(list vpc.subnets, or add `aws ec2 describe-subnets` output)",
            doc.source("vpc") if "vpc" in doc.data else doc.source(),
            code="unknown-subnet",
        )
        return
    for subnets in topology.values():
        table.subnets.extend(subnets.values())
    _record_occupancy(doc, builder, config, topology)


def _record_occupancy(doc: Document, builder: ClusterBuilder, config: ClusterConfig, topology: Topology) -> None:
    """Nodes (and their VPC CNI pods) in the node groups' subnets, Fargate pods in the profiles' ones."""
    table = subnet_table(builder)
    for field_name in ("nodeGroups", "managedNodeGroups"):
        for index, group in enumerate(getattr(config, field_name)):
            at = (field_name, index)
            for subnet_id in _node_group_subnets(doc, builder, group, topology, at):
                reason = f"{field_name[:-1]} {group.name!r}"
                table.occupancy.append(
                    Occupancy(subnet_id, frozenset({ROLE_NODES, ROLE_PODS}), reason, doc.source(*at))
                )
    for index, profile in enumerate(config.fargateProfiles):
        at = ("fargateProfiles", index)
        # Fargate runs pods only in private subnets: the listed ones, else every private subnet of the cluster
        chosen = profile.subnets or [s.id for s in topology.get("private", {}).values()]
        for subnet_id in chosen:
            subnet_id = _find(topology, subnet_id, ("private", "public"))[1] or subnet_id
            table.occupancy.append(
                Occupancy(subnet_id, frozenset({ROLE_PODS}), f"fargateProfile {profile.name!r}", doc.source(*at))
            )


def _parse_all(
    doc: Document, builder: ClusterBuilder, texts: list[tuple[str | None, tuple[str | int, ...]]]
) -> list[IPRange]:
    blocks = []
    for text, path in texts:
        if text is None:
            continue
        try:
            blocks.append(parse_cidr(text))
        except ValueError as exc:
            builder.error(f"{'.'.join(map(str, path))}: {exc}", doc.source(*path), code="schema")
    return blocks


def _declared_subnets(doc: Document, builder: ClusterBuilder, config: ClusterConfig, vpc_id: str) -> Topology:
    topology: Topology = {"public": {}, "private": {}}
    for kind in ("public", "private"):
        for key, spec in getattr(config.vpc.subnets, kind).items():
            at = ("vpc", "subnets", kind, key)
            if spec.id is None and spec.cidr is None and spec.az is None and not _ZONE.match(key):
                builder.error(
                    f"vpc.subnets.{kind}.{key}: a subnet needs an id, a cidr or an az (expected e.g. id: subnet-0abc)",
                    doc.source(*at),
                    code="schema",
                )
                continue
            blocks = _parse_all(doc, builder, [(spec.cidr, (*at, "cidr"))])
            if spec.cidr is not None and not blocks:
                continue
            zone = spec.az or (key if _ZONE.match(key) else None)
            logical = f"{config.metadata.name}/{kind}/{key}"  # keys repeat across sections and clusters
            subnet = Subnet(spec.id or logical, tuple(blocks), vpc_id, zone, kind == "public", source=doc.source(*at))
            topology[kind][key] = subnet
    return topology


def _generated_subnets(
    doc: Document, builder: ClusterBuilder, config: ClusterConfig, vpc_id: str, vpc_block: IPRange
) -> Topology:
    """eksctl's SetSubnets: the VPC block is cut into 2, 8 or 16 equal networks; zone i gets network i as
    its public subnet and network i + zones as its private one."""
    zones = config.availabilityZones
    total = 2 * len(zones)
    prefix = 32 - (vpc_block.last - vpc_block.first + 1).bit_length() + 1
    extra_bits = 3 if total <= 8 else 4
    if total > 16 or vpc_block.family != 4 or not 16 <= prefix <= 24:
        builder.error(
            f"eksctl cannot split vpc.cidr into {total} subnets (expected an IPv4 /16../24 and at most 8 zones)",
            doc.source("availabilityZones"),
            code="schema",
        )
        return {}
    size = 1 << (32 - prefix - extra_bits)
    topology: Topology = {"public": {}, "private": {}}
    for i, zone in enumerate(zones):
        for kind, slot in (("public", i), ("private", i + len(zones))):
            first = vpc_block.first + slot * size
            block = IPRange(4, first, first + size - 1)
            name = f"eksctl-{config.metadata.name}-cluster/Subnet{kind.capitalize()}{_logical(zone)}"
            topology[kind][zone] = Subnet(
                name, (block,), vpc_id, zone, kind == "public", source=doc.source("availabilityZones", i)
            )
    return topology


def _logical(zone: str) -> str:
    """eu-west-1a -> EUWEST1A, as eksctl names the subnet resources of its stack."""
    return zone.upper().replace("-", "")


def _find(topology: Topology, name: str, order: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(topology, subnet id) of a subnet named by its key or its id, looked up in `order`."""
    for kind in order:
        subnets = topology.get(kind, {})
        if name in subnets:
            return kind, subnets[name].id
        for subnet in subnets.values():
            if subnet.id == name:
                return kind, subnet.id
    return None, None


def _node_group_subnets(
    doc: Document, builder: ClusterBuilder, group: NodeGroup, topology: Topology, at: tuple[str | int, ...]
) -> list[str]:
    kind = "private" if group.privateNetworking else "public"
    other = "public" if group.privateNetworking else "private"
    mapping = topology.get(kind, {})
    if group.subnets:
        chosen = []
        for i, name in enumerate(group.subnets):
            found_kind, subnet_id = _find(topology, name, (kind, other))
            if found_kind == "private" and not group.privateNetworking:
                builder.error(
                    f"node group {group.name!r} uses subnet {name!r}, which is private in this ClusterConfig "
                    "(expected privateNetworking: true, as eksctl requires)",
                    doc.source(*at, "subnets", i),
                    code="schema",
                )
            chosen.append(subnet_id or name)  # not in the ClusterConfig: a subnet id of the account
        return chosen
    if group.availabilityZones:
        chosen = []
        for i, zone in enumerate(group.availabilityZones):
            in_zone = [s.id for s in mapping.values() if s.zone == zone]
            if not in_zone:
                builder.error(
                    f"node group {group.name!r}: no {kind} subnet in zone {zone!r} "
                    f"(expected one in vpc.subnets.{kind})",
                    doc.source(*at, "availabilityZones", i),
                    code="schema",
                )
            chosen.extend(in_zone)
        return chosen
    if not mapping:
        builder.error(
            f"node group {group.name!r} needs {kind} subnets (privateNetworking: "
            f"{str(group.privateNetworking).lower()}), but the ClusterConfig defines none",
            doc.source(*at),
            code="schema",
        )
    return [s.id for s in mapping.values()]
