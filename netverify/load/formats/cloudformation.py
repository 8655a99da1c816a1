"""CloudFormation templates (YAML with short-form tags such as `!Ref`, or JSON): AWS::EC2::VPC, Subnet,
RouteTable, Route and SubnetRouteTableAssociation, and the subnets of AWS::EKS::Nodegroup and
FargateProfile resources (what sits in them).

Only what the template states literally is used: a subnet whose CidrBlock is computed (`!Cidr`, `!Select`,
a `!Sub` with variables, a parameter without default) is reported and skipped, since its addresses are
known only after deployment. A `!Ref` to a parameter uses the parameter's Default, said in a note, since
a deployment may override it. Subnets, VPCs and route tables are named by their logical ids; the
describe-subnets entry with the same block takes over the real id when both are given.
"""

from __future__ import annotations

import re
from typing import Any

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document, Path
from netverify.load.formats.subnet_table import Occupancy, RouteTable, is_internet_gateway, subnet_table
from netverify.model.addresses import parse_cidr
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.network import ROLE_NODES, ROLE_PODS, Subnet, Vpc

_VARIABLE = re.compile(r"\$\{(?!!)([^}]*)\}")  # `${Name}`; `${!Literal}` is an escaped, literal `${`
_SUBNET = "AWS::EC2::Subnet"
_VPC = "AWS::EC2::VPC"
_VPC_BLOCK = "AWS::EC2::VPCCidrBlock"
_ROUTE_TABLE = "AWS::EC2::RouteTable"
_ROUTE = "AWS::EC2::Route"
_ASSOCIATION = "AWS::EC2::SubnetRouteTableAssociation"
_INTERNET_GATEWAY = "AWS::EC2::InternetGateway"
_PLACEMENT_ROLES = {
    "AWS::EKS::Nodegroup": frozenset({ROLE_NODES, ROLE_PODS}),
    "AWS::EKS::FargateProfile": frozenset({ROLE_PODS}),
}


class Template:
    """One template's resources and parameters, and how to read a property as a literal."""

    def __init__(self, doc: Document, builder: ClusterBuilder):
        self.doc = doc
        self.builder = builder
        resources = doc.data.get("Resources")
        parameters = doc.data.get("Parameters")
        self.resources: dict[str, dict[str, Any]] = (
            {k: v for k, v in (resources or {}).items() if isinstance(v, dict)} if isinstance(resources, dict) else {}
        )
        self.parameters: dict[str, Any] = parameters if isinstance(parameters, dict) else {}

    def of_type(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (name, props if isinstance(props := resource.get("Properties"), dict) else {})
            for name, resource in self.resources.items()
            if resource.get("Type") == kind
        ]

    def path(self, name: str, *rest: str | int) -> Path:
        return ("Resources", name, "Properties", *rest)

    def reference(self, value: Any, path: Path) -> str | None:
        """The logical id (or parameter name) a `!Ref X` / `{"Ref": "X"}` names."""
        if isinstance(value, str) and self.doc.tag(*path) == "!Ref":
            return value
        if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
            return value["Ref"]
        return None

    def literal(self, value: Any, path: Path, note: bool = True) -> str | None:
        """The string a property surely has (parameters at their Default), or None when only deployment
        decides it. With `note`, using a Default is said, since a deployment may override it."""
        tag = self.doc.tag(*path)
        if isinstance(value, str) and tag is None:
            return value
        if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            value, tag = value["Fn::Sub"], "!Sub"
        used: list[str] = []
        if tag == "!Sub" and isinstance(value, str):
            text = _VARIABLE.sub(lambda m: self._default(m.group(1), used) or m.group(0), value)
            if _VARIABLE.search(text):
                return None
            text = text.replace("${!", "${")
        else:
            target = self.reference(value, path)
            text = self._default(target, used) if target else None
        if text is not None and used and note:
            self.builder.cluster.diagnostics.append(
                Diagnostic(
                    Severity.INFO,
                    f"uses the Default of parameter {', '.join(used)} ({text}); a deployment may override it",
                    self.doc.source(*path),
                    "cloudformation-parameter-default",
                )
            )
        return text

    def _default(self, parameter: str, used: list[str]) -> str | None:
        declared = self.parameters.get(parameter)
        default = declared.get("Default") if isinstance(declared, dict) else None
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            default = str(default)
        if isinstance(default, str):
            used.append(parameter)
            return default
        return None

    def resource_or_literal(self, value: Any, path: Path) -> str | None:
        """A reference to another resource by logical id, or a literal id (vpc-..., igw-...)."""
        target = self.reference(value, path)
        if target is not None and target in self.resources:
            return target
        return self.literal(value, path)

    def type_of(self, name: str | None) -> str | None:
        return self.resources.get(name, {}).get("Type") if name else None


def load_template(doc: Document, builder: ClusterBuilder) -> None:
    template = Template(doc, builder)
    table = subnet_table(builder)
    _add_vpcs(template, table.vpcs)
    for name, props in template.of_type(_SUBNET):
        subnet = _subnet(template, name, props)
        if subnet is not None:
            table.subnets.append(subnet)
    table.route_tables.extend(_route_tables(template))
    table.occupancy.extend(_placements(template))


def _placements(template: Template) -> list[Occupancy]:
    """EKS managed node groups (nodes and their VPC CNI pods) and Fargate profiles (pods) in their Subnets."""
    found = []
    for kind, roles in _PLACEMENT_ROLES.items():
        for name, props in template.of_type(kind):
            subnets = props.get("Subnets")
            for index, value in enumerate(subnets if isinstance(subnets, list) else []):
                subnet = template.resource_or_literal(value, template.path(name, "Subnets", index))
                if subnet is not None:
                    source = template.doc.source(*template.path(name, "Subnets", index))
                    found.append(Occupancy(subnet, roles, f"{kind} {name}", source))
    return found


def _blocks(template: Template, name: str, props: dict[str, Any], keys: tuple[str, ...]) -> list | None:
    """Literal blocks under `keys`; None (after a warning) when one of them is computed."""
    blocks = []
    for key in keys:
        if key not in props:
            continue
        path = template.path(name, key)
        text = template.literal(props[key], path)
        if text is None:
            template.builder.warning(
                f"{name}: {key} is computed at deployment (not a literal CIDR); the subnet is skipped",
                template.doc.source(*path),
                code="unknown-subnet",
            )
            return None
        try:
            blocks.append(parse_cidr(text))
        except ValueError as exc:
            template.builder.error(f"{name}: {exc}", template.doc.source(*path), code="schema")
            return None
    return blocks


def _subnet(template: Template, name: str, props: dict[str, Any]) -> Subnet | None:
    at = ("Resources", name)
    if "CidrBlock" not in props and "Ipv6CidrBlock" not in props:
        template.builder.error(
            f"subnet {name} has no CidrBlock (expected Properties.CidrBlock such as 10.0.0.0/24)",
            template.doc.source(*at),
            code="schema",
        )
        return None
    blocks = _blocks(template, name, props, ("CidrBlock", "Ipv6CidrBlock"))
    if blocks is None:
        return None
    tags = _tags(template, name, props.get("Tags"))
    zone = template.literal(props.get("AvailabilityZone"), template.path(name, "AvailabilityZone"))
    return Subnet(
        id=name,
        cidrs=tuple(blocks),
        vpc=template.resource_or_literal(props.get("VpcId"), template.path(name, "VpcId")),
        zone=zone,
        name=tags.get("Name"),
        tags=tags,
        source=template.doc.source(*at),
    )


def _tags(template: Template, name: str, tags: Any) -> dict[str, str]:
    """The tags whose key and value are literal (a `!Sub "${AWS::StackName}-a"` Name is not)."""
    found: dict[str, str] = {}
    for index, tag in enumerate(tags if isinstance(tags, list) else []):
        if not isinstance(tag, dict):
            continue
        key = template.literal(tag.get("Key"), template.path(name, "Tags", index, "Key"), note=False)
        value = tag.get("Value")
        text = str(value).lower() if isinstance(value, bool) else str(value) if isinstance(value, int) else None
        text = text or template.literal(value, template.path(name, "Tags", index, "Value"), note=False)
        if key is not None and text is not None:
            found[key] = text
    return found


def _add_vpcs(template: Template, vpcs: list[Vpc]) -> None:
    extra: dict[str, list] = {}
    for name, props in template.of_type(_VPC_BLOCK):
        vpc = template.resource_or_literal(props.get("VpcId"), template.path(name, "VpcId"))
        if vpc is not None:
            extra.setdefault(vpc, []).extend(_blocks(template, name, props, ("CidrBlock", "Ipv6CidrBlock")) or [])
    for name, props in template.of_type(_VPC):
        blocks = (_blocks(template, name, props, ("CidrBlock",)) or []) + extra.get(name, [])
        tags = _tags(template, name, props.get("Tags"))
        vpcs.append(Vpc(name, tuple(sorted(blocks)), tags.get("Name"), template.doc.source("Resources", name)))


def _route_tables(template: Template) -> list[RouteTable]:
    internet: set[str] = set()
    for name, props in template.of_type(_ROUTE):
        table = template.resource_or_literal(props.get("RouteTableId"), template.path(name, "RouteTableId"))
        gateway = template.resource_or_literal(props.get("GatewayId"), template.path(name, "GatewayId"))
        if table and (template.type_of(gateway) == _INTERNET_GATEWAY or is_internet_gateway(gateway)):
            internet.add(table)
    associated: dict[str, list[str]] = {}
    for name, props in template.of_type(_ASSOCIATION):
        table = template.resource_or_literal(props.get("RouteTableId"), template.path(name, "RouteTableId"))
        subnet = template.resource_or_literal(props.get("SubnetId"), template.path(name, "SubnetId"))
        if table and subnet:
            associated.setdefault(table, []).append(subnet)
    tables = [
        RouteTable(
            name,
            template.resource_or_literal(props.get("VpcId"), template.path(name, "VpcId")),
            tuple(associated.get(name, ())),
            main=False,
            internet_route=name in internet,
            source=template.doc.source("Resources", name),
        )
        for name, props in template.of_type(_ROUTE_TABLE)
    ]
    # A VPC made by the template has a main route table made by AWS with the local route only: a template
    # cannot add routes to it, so its unassociated subnets are private.
    for name, _ in template.of_type(_VPC):
        tables.append(RouteTable(f"{name}/main", name, (), True, False, template.doc.source("Resources", name)))
    return tables
