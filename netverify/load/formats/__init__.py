"""The explicit registry of the non-Kubernetes document shapes netverify reads: infrastructure files that
describe the VPC around a cluster (`aws ec2 describe-*` JSON, `terraform show -json`, CloudFormation).

Such documents have no apiVersion/kind, so they are told apart by their top-level keys. A predicate only
looks at keys (cheap, no imports); the loader module is imported on first use, like kind loaders. Adding a
format means adding a module and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the model is heavy to import, and reading a file only needs the predicates
    from netverify.load.builder import ClusterBuilder
    from netverify.load.documents import Document

FormatLoader = Callable[["Document", "ClusterBuilder"], None]

_CLOUDFORMATION_TYPE_PREFIXES = ("AWS::", "Custom::", "Alexa::")


def is_describe_subnets(data: dict[str, Any]) -> bool:
    return isinstance(data.get("Subnets"), list)


def is_describe_route_tables(data: dict[str, Any]) -> bool:
    return isinstance(data.get("RouteTables"), list)


def is_describe_vpcs(data: dict[str, Any]) -> bool:
    return isinstance(data.get("Vpcs"), list)


def is_terraform_json(data: dict[str, Any]) -> bool:
    """`terraform show -json` of a state (`values`) or of a plan (`planned_values`)."""
    return "format_version" in data and ("values" in data or "planned_values" in data)


def is_cloudformation_template(data: Any) -> bool:
    """A template declares its format version, or has Resources whose Types are CloudFormation types."""
    if not isinstance(data, dict):
        return False
    if "AWSTemplateFormatVersion" in data:
        return True
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(_CLOUDFORMATION_TYPE_PREFIXES)
        for r in resources.values()
    )


# (what the shape is, predicate, "module:function" in netverify.load.formats), tried in order.
FORMAT_LOADERS: list[tuple[str, Callable[[dict[str, Any]], bool], str]] = [
    ("aws ec2 describe-subnets output", is_describe_subnets, "aws_cli:load_describe_subnets"),
    ("aws ec2 describe-route-tables output", is_describe_route_tables, "aws_cli:load_describe_route_tables"),
    ("aws ec2 describe-vpcs output", is_describe_vpcs, "aws_cli:load_describe_vpcs"),
    ("terraform show -json output", is_terraform_json, "terraform:load_terraform_json"),
    ("CloudFormation template", is_cloudformation_template, "cloudformation:load_template"),
]

# Steps that need every document loaded first, each run when any listed loader module (of a kind or a
# format: eksctl and eniconfig are kinds) saw a document.
FORMAT_FINALIZERS: list[tuple[frozenset[str], str]] = [
    (frozenset({"aws_cli", "terraform", "cloudformation", "eksctl", "eniconfig"}), "subnet_table:finalize_subnets"),
]


def match_format(data: dict[str, Any]) -> str | None:
    """The loader entry of the first shape `data` has, or None."""
    for _, predicate, entry in FORMAT_LOADERS:
        if predicate(data):
            return entry
    return None


def resolve(entry: str) -> Callable:
    """ "module:function" -> the function, importing its module on first use."""
    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(f"netverify.load.formats.{module}"), function)


def finalizers_for(used_modules: set[str]) -> list[Callable[[ClusterBuilder], None]]:
    return [resolve(entry) for triggers, entry in FORMAT_FINALIZERS if triggers & used_modules]
