"""`aws ec2 describe-subnets`, `describe-route-tables` and `describe-vpcs` output (JSON, or YAML with
`--output yaml`): the ground truth of a VPC however it was built.

Every subnet, route table and VPC is validated on its own, so one bad entry is reported at its line and
the others still load.
"""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictStr

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.formats.subnet_table import RouteTable, is_internet_gateway, subnet_table
from netverify.load.kinds.common import Lenient
from netverify.load.validation import InputErrors, parse_model
from netverify.model.addresses import IPRange, parse_cidr
from netverify.model.network import Subnet, Vpc

# IPv6 associations in these states no longer (or not yet) give the subnet addresses.
_GONE_STATES = frozenset({"disassociating", "disassociated", "failed", "failing"})


class Tag(Lenient):
    Key: StrictStr
    Value: StrictStr = ""


class BlockState(Lenient):
    State: StrictStr | None = None


class Ipv6Association(Lenient):
    Ipv6CidrBlock: StrictStr
    Ipv6CidrBlockState: BlockState | None = None


class Ipv4Association(Lenient):
    CidrBlock: StrictStr
    CidrBlockState: BlockState | None = None


class SubnetEntry(Lenient):
    SubnetId: StrictStr = Field(min_length=1)
    VpcId: StrictStr | None = None
    CidrBlock: StrictStr | None = None
    Ipv6CidrBlockAssociationSet: list[Ipv6Association] = []
    Ipv6Native: StrictBool = False
    AvailabilityZone: StrictStr | None = None
    MapPublicIpOnLaunch: StrictBool | None = None
    Tags: list[Tag] = []


class Association(Lenient):
    Main: StrictBool = False
    SubnetId: StrictStr | None = None


class Route(Lenient):
    GatewayId: StrictStr | None = None


class RouteTableEntry(Lenient):
    RouteTableId: StrictStr = Field(min_length=1)
    VpcId: StrictStr | None = None
    Associations: list[Association] = []
    Routes: list[Route] = []


class VpcEntry(Lenient):
    VpcId: StrictStr = Field(min_length=1)
    CidrBlock: StrictStr | None = None
    CidrBlockAssociationSet: list[Ipv4Association] = []
    Ipv6CidrBlockAssociationSet: list[Ipv6Association] = []
    Tags: list[Tag] = []


def tag_map(tags: list[Tag]) -> dict[str, str]:
    return {tag.Key: tag.Value for tag in tags}


def _live(state: BlockState | None) -> bool:
    return state is None or state.State not in _GONE_STATES


def _blocks(doc: Document, builder: ClusterBuilder, texts: list[tuple[str, tuple[str | int, ...]]]) -> list[IPRange]:
    """Parse CIDRs, reporting each bad one at its own line."""
    blocks: list[IPRange] = []
    for text, path in texts:
        try:
            blocks.append(parse_cidr(text))
        except ValueError as exc:
            builder.error(str(exc), doc.source(*path), code="schema")
    return blocks


def _entries(doc: Document, builder: ClusterBuilder, key: str, model: type) -> list[tuple[int, object]]:
    entries = []
    for index, item in enumerate(doc.data[key]):
        try:
            entries.append((index, parse_model(model, item, doc, (key, index))))
        except InputErrors as errors:
            builder.cluster.diagnostics.extend(errors.diagnostics)
    return entries


def load_describe_subnets(doc: Document, builder: ClusterBuilder) -> None:
    table = subnet_table(builder)
    for index, entry in _entries(doc, builder, "Subnets", SubnetEntry):
        at = ("Subnets", index)
        texts = []
        if entry.CidrBlock is not None:
            texts.append((entry.CidrBlock, (*at, "CidrBlock")))
        for i, association in enumerate(entry.Ipv6CidrBlockAssociationSet):
            if _live(association.Ipv6CidrBlockState):
                texts.append((association.Ipv6CidrBlock, (*at, "Ipv6CidrBlockAssociationSet", i, "Ipv6CidrBlock")))
        if entry.CidrBlock is None and not entry.Ipv6Native:
            builder.error(
                f'subnet {entry.SubnetId} has no CidrBlock (expected its IPv4 block, such as "CidrBlock": '
                '"10.0.0.0/24", or "Ipv6Native": true for an IPv6-only subnet)',
                doc.source(*at),
                code="schema",
            )
            continue
        blocks = _blocks(doc, builder, texts)
        if len(blocks) < len(texts):
            continue
        tags = tag_map(entry.Tags)
        table.subnets.append(
            Subnet(
                id=entry.SubnetId,
                cidrs=tuple(blocks),
                vpc=entry.VpcId,
                zone=entry.AvailabilityZone,
                name=tags.get("Name"),
                tags=tags,
                source=doc.source(*at),
            )
        )


def load_describe_route_tables(doc: Document, builder: ClusterBuilder) -> None:
    table = subnet_table(builder)
    for index, entry in _entries(doc, builder, "RouteTables", RouteTableEntry):
        table.route_tables.append(
            RouteTable(
                id=entry.RouteTableId,
                vpc=entry.VpcId,
                subnets=tuple(a.SubnetId for a in entry.Associations if a.SubnetId),
                main=any(a.Main for a in entry.Associations),
                internet_route=any(is_internet_gateway(route.GatewayId) for route in entry.Routes),
                source=doc.source("RouteTables", index),
            )
        )


def load_describe_vpcs(doc: Document, builder: ClusterBuilder) -> None:
    table = subnet_table(builder)
    for index, entry in _entries(doc, builder, "Vpcs", VpcEntry):
        at = ("Vpcs", index)
        texts = []
        if entry.CidrBlock is not None:
            texts.append((entry.CidrBlock, (*at, "CidrBlock")))
        for i, v4 in enumerate(entry.CidrBlockAssociationSet):
            if _live(v4.CidrBlockState):
                texts.append((v4.CidrBlock, (*at, "CidrBlockAssociationSet", i, "CidrBlock")))
        for i, v6 in enumerate(entry.Ipv6CidrBlockAssociationSet):
            if _live(v6.Ipv6CidrBlockState):
                texts.append((v6.Ipv6CidrBlock, (*at, "Ipv6CidrBlockAssociationSet", i, "Ipv6CidrBlock")))
        blocks = tuple(sorted(set(_blocks(doc, builder, texts))))
        table.vpcs.append(Vpc(entry.VpcId, blocks, tag_map(entry.Tags).get("Name"), doc.source(*at)))
