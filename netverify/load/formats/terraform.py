"""`terraform show -json` of a state (`values`) or a plan (`planned_values`): aws_vpc, aws_subnet (managed
or data sources), the route tables that tell public subnets from private ones, and the EKS node groups
and Fargate profiles that put nodes and pods in subnets.

Resources sit in `root_module.resources` and in nested `child_modules` (terraform-aws-modules/vpc puts
everything in `module.vpc`). A plan leaves values that are only known after apply out; such subnets are
reported and skipped, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import StrictBool, StrictStr

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document, Path
from netverify.load.formats.subnet_table import Occupancy, RouteTable, is_internet_gateway, subnet_table
from netverify.load.kinds.common import Lenient
from netverify.load.validation import InputErrors, parse_model
from netverify.model.addresses import IPRange, parse_cidr
from netverify.model.network import ROLE_NODES, ROLE_PODS, Subnet, Vpc

_MAX_MODULE_DEPTH = 100


class SubnetValues(Lenient):
    id: StrictStr | None = None
    cidr_block: StrictStr | None = None
    ipv6_cidr_block: StrictStr | None = None
    ipv6_native: StrictBool = False
    vpc_id: StrictStr | None = None
    availability_zone: StrictStr | None = None
    tags: dict[StrictStr, StrictStr] | None = None
    tags_all: dict[StrictStr, StrictStr] | None = None


class VpcValues(Lenient):
    id: StrictStr | None = None
    cidr_block: StrictStr | None = None
    ipv6_cidr_block: StrictStr | None = None
    main_route_table_id: StrictStr | None = None
    tags: dict[StrictStr, StrictStr] | None = None


class InlineRoute(Lenient):
    gateway_id: StrictStr | None = None


class RouteTableValues(Lenient):
    id: StrictStr | None = None
    default_route_table_id: StrictStr | None = None  # aws_default_route_table: the VPC's main table
    vpc_id: StrictStr | None = None
    route: list[InlineRoute] | None = None


class LinkValues(Lenient):
    """aws_route, aws_route_table_association, aws_main_route_table_association, secondary VPC blocks."""

    route_table_id: StrictStr | None = None
    subnet_id: StrictStr | None = None
    gateway_id: StrictStr | None = None
    vpc_id: StrictStr | None = None
    cidr_block: StrictStr | None = None


class EksPlacementValues(Lenient):
    """aws_eks_node_group and aws_eks_fargate_profile: the subnets their nodes or pods are placed in."""

    subnet_ids: list[StrictStr] | None = None


# What sits in the subnets of an EKS placement: managed nodes bring their VPC CNI pods; Fargate only pods.
_PLACEMENT_ROLES = {
    "aws_eks_node_group": frozenset({ROLE_NODES, ROLE_PODS}),
    "aws_eks_fargate_profile": frozenset({ROLE_PODS}),
}

_MODELS: dict[str, type[Lenient]] = {
    "aws_eks_node_group": EksPlacementValues,
    "aws_eks_fargate_profile": EksPlacementValues,
    "aws_subnet": SubnetValues,
    "aws_vpc": VpcValues,
    "aws_route_table": RouteTableValues,
    "aws_default_route_table": RouteTableValues,
    "aws_route": LinkValues,
    "aws_route_table_association": LinkValues,
    "aws_main_route_table_association": LinkValues,
    "aws_vpc_ipv4_cidr_block_association": LinkValues,
}


def _resources(module: Any, path: Path, depth: int = 0) -> Iterator[tuple[dict[str, Any], Path]]:
    if not isinstance(module, dict) or depth > _MAX_MODULE_DEPTH:
        return
    resources, children = module.get("resources"), module.get("child_modules")
    for index, resource in enumerate(resources if isinstance(resources, list) else []):
        if isinstance(resource, dict):
            yield resource, (*path, "resources", index)
    for index, child in enumerate(children if isinstance(children, list) else []):
        yield from _resources(child, (*path, "child_modules", index), depth + 1)


def load_terraform_json(doc: Document, builder: ClusterBuilder) -> None:
    plan = "values" not in doc.data
    top = "planned_values" if plan else "values"
    root = (doc.data.get(top) or {}).get("root_module") if isinstance(doc.data.get(top), dict) else None
    parsed: dict[str, list[tuple[str, Any, Path]]] = {kind: [] for kind in _MODELS}
    for resource, path in _resources(root, (top, "root_module")):
        kind = resource.get("type")
        if not isinstance(kind, str) or kind not in _MODELS or not isinstance(resource.get("values"), dict):
            continue
        address = str(resource.get("address") or f"{kind}.{resource.get('name')}")
        try:
            values = parse_model(_MODELS[kind], resource["values"], doc, (*path, "values"))
        except InputErrors as errors:
            builder.cluster.diagnostics.extend(errors.diagnostics)
            continue
        parsed[kind].append((address, values, path))
    _add_vpcs(doc, builder, parsed)
    _add_subnets(doc, builder, parsed, plan)
    _add_route_tables(doc, builder, parsed)
    for kind, roles in _PLACEMENT_ROLES.items():
        for address, values, path in parsed[kind]:
            for subnet_id in values.subnet_ids or []:
                subnet_table(builder).occupancy.append(Occupancy(subnet_id, roles, address, doc.source(*path)))


def _blocks(doc: Document, builder: ClusterBuilder, texts: list[tuple[str | None, Path]]) -> list[IPRange] | None:
    """The blocks, or None when one of them is bad (reported at its line)."""
    blocks = []
    for text, path in texts:
        if not text:  # terraform writes "" for an unset ipv6_cidr_block
            continue
        try:
            blocks.append(parse_cidr(text))
        except ValueError as exc:
            builder.error(str(exc), doc.source(*path), code="schema")
            return None
    return blocks


def _add_vpcs(doc: Document, builder: ClusterBuilder, parsed: dict[str, list[tuple[str, Any, Path]]]) -> None:
    table = subnet_table(builder)
    secondary: dict[str, list[tuple[str | None, Path]]] = {}
    for _, link, path in parsed["aws_vpc_ipv4_cidr_block_association"]:
        if link.vpc_id:
            secondary.setdefault(link.vpc_id, []).append((link.cidr_block, (*path, "values", "cidr_block")))
    for address, vpc, path in parsed["aws_vpc"]:
        vpc_id = vpc.id or address
        at = (*path, "values")
        texts = [(vpc.cidr_block, (*at, "cidr_block")), (vpc.ipv6_cidr_block, (*at, "ipv6_cidr_block"))]
        blocks = _blocks(doc, builder, texts + secondary.get(vpc_id, []))
        name = (vpc.tags or {}).get("Name")
        table.vpcs.append(Vpc(vpc_id, tuple(sorted(blocks or [])), name, doc.source(*path)))


def _add_subnets(
    doc: Document, builder: ClusterBuilder, parsed: dict[str, list[tuple[str, Any, Path]]], plan: bool
) -> None:
    table = subnet_table(builder)
    for address, values, path in parsed["aws_subnet"]:
        if not values.cidr_block and not values.ipv6_native:
            if plan:
                builder.warning(
                    f"{address}: cidr_block is not known until apply; the subnet is skipped "
                    "(give `terraform show -json` of the applied state)",
                    doc.source(*path),
                    code="unknown-subnet",
                )
            else:
                builder.error(
                    f"{address} has no cidr_block (expected the subnet's IPv4 block, or ipv6_native: true)",
                    doc.source(*path),
                    code="schema",
                )
            continue
        at = (*path, "values")
        texts = [(values.cidr_block, (*at, "cidr_block")), (values.ipv6_cidr_block, (*at, "ipv6_cidr_block"))]
        blocks = _blocks(doc, builder, texts)
        if blocks is None:
            continue
        tags = dict(values.tags_all if values.tags_all is not None else values.tags or {})
        table.subnets.append(
            Subnet(
                id=values.id or address,
                cidrs=tuple(blocks),
                vpc=values.vpc_id,
                zone=values.availability_zone,
                name=tags.get("Name"),
                tags=tags,
                source=doc.source(*path),
            )
        )


def _add_route_tables(doc: Document, builder: ClusterBuilder, parsed: dict[str, list[tuple[str, Any, Path]]]) -> None:
    """Route tables with their routes (inline or aws_route), associations and which is each VPC's main."""
    main_ids = {vpc.main_route_table_id for _, vpc, _ in parsed["aws_vpc"] if vpc.main_route_table_id}
    main_ids |= {link.route_table_id for _, link, _ in parsed["aws_main_route_table_association"]}
    internet: set[str] = {
        link.route_table_id for _, link, _ in parsed["aws_route"] if is_internet_gateway(link.gateway_id)
    }
    associated: dict[str, list[str]] = {}
    for _, link, _ in parsed["aws_route_table_association"]:
        if link.route_table_id and link.subnet_id:
            associated.setdefault(link.route_table_id, []).append(link.subnet_id)
    table = subnet_table(builder)
    for kind in ("aws_route_table", "aws_default_route_table"):
        for address, values, path in parsed[kind]:
            table_id = values.id or values.default_route_table_id or address
            routes_to_internet = any(is_internet_gateway(r.gateway_id) for r in values.route or [])
            table.route_tables.append(
                RouteTable(
                    id=table_id,
                    vpc=values.vpc_id,
                    subnets=tuple(associated.get(table_id, ())),
                    main=kind == "aws_default_route_table" or table_id in main_ids,
                    internet_route=routes_to_internet or table_id in internet,
                    source=doc.source(*path),
                )
            )
