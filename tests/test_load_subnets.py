"""Subnets, VPCs and route tables from real infrastructure formats (issue 4).

The fixtures under fixtures/subnets/ describe one EKS VPC (10.0.0.0/16 with one IPv6 block; three public
subnets tagged for internet-facing ALBs, three private ones for internal ALBs) in every format.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netverify.load.cluster_loader import load_cluster
from netverify.load.sources import read_text
from netverify.model.addresses import parse_address, parse_cidr
from netverify.model.diagnostics import Severity
from netverify.model.network import (
    ROLE_ALB_INTERNAL,
    ROLE_ALB_INTERNET_FACING,
    ROLE_NODES,
    ROLE_PODS,
    Subnet,
    cidr_text,
    discovery_candidates,
    subnet_of_address,
    subnets_containing,
    subnets_overlapping,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "subnets"
AWS_CLI = FIXTURES / "aws-cli"
PUBLIC = {"10.0.0.0/22": "eu-west-1a", "10.0.4.0/22": "eu-west-1b", "10.0.8.0/22": "eu-west-1c"}
PRIVATE = {"10.0.32.0/19": "eu-west-1a", "10.0.64.0/19": "eu-west-1b", "10.0.96.0/19": "eu-west-1c"}
IPV6_BLOCK = "2a05:d018:1234:5600::/64"  # on the public subnet of eu-west-1a


def ipv4(subnet: Subnet) -> str:
    (block,) = [b for b in subnet.cidrs if b.family == 4]
    return cidr_text(block)


def by_ipv4(subnets: list[Subnet]) -> dict[str, Subnet]:
    return {ipv4(s): s for s in subnets}


def errors_of(cluster) -> list[str]:
    return [str(d) for d in cluster.diagnostics if d.severity is Severity.ERROR]


def line_of(path: Path, text: str) -> int:
    """1-based line of the first occurrence of `text` in a file."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=4) + "\n")
    return path


# --- the model -------------------------------------------------------------------------------------------


def subnet(id_: str, *cidrs: str, vpc: str | None = "vpc-1", public: bool | None = None, **tags: str) -> Subnet:
    return Subnet(id_, tuple(parse_cidr(c) for c in cidrs), vpc=vpc, public=public, tags=dict(tags))


def test_subnets_containing_a_range_need_it_whole_while_overlapping_ones_share_any_address() -> None:
    a, b = subnet("a", "10.0.0.0/24"), subnet("b", "10.0.1.0/24", "fd00::/64")
    assert subnets_containing([a, b], parse_cidr("10.0.0.5/32")) == [a]
    assert subnets_containing([a, b], parse_cidr("10.0.0.0/23")) == []
    assert subnets_overlapping([a, b], parse_cidr("10.0.0.0/23")) == [a, b]
    assert subnets_overlapping([a, b], parse_cidr("fd00::1/128")) == [b]
    assert subnets_overlapping([a, b], parse_cidr("192.168.0.0/16")) == []


def test_subnet_of_an_address_is_the_most_specific_block_holding_it() -> None:
    wide, narrow = subnet("wide", "10.0.0.0/16", vpc="vpc-2"), subnet("narrow", "10.0.1.0/24")
    assert subnet_of_address([wide, narrow], *parse_address("10.0.1.9")) is narrow
    assert subnet_of_address([wide, narrow], *parse_address("10.0.2.9")) is wide
    assert subnet_of_address([wide, narrow], *parse_address("10.1.0.1")) is None


def test_role_tags_count_only_with_the_value_1_or_empty_as_the_controller_filters() -> None:
    tagged = [
        subnet(n, f"10.0.{i}.0/24", **{"kubernetes.io/role/elb": v})
        for i, (n, v) in enumerate([("one", "1"), ("empty", ""), ("zero", "0")])
    ]
    assert [s.id for s in discovery_candidates(tagged, internet_facing=True)] == ["one", "empty"]


def test_without_role_tags_discovery_falls_back_to_reachability_and_unknown_reachability_stays_a_candidate() -> None:
    subnets = [
        subnet("pub", "10.0.0.0/24", public=True),
        subnet("priv", "10.0.1.0/24", public=False),
        subnet("unknown", "10.0.2.0/24"),
    ]
    assert [s.id for s in discovery_candidates(subnets, internet_facing=True)] == ["pub", "unknown"]
    assert [s.id for s in discovery_candidates(subnets, internet_facing=False)] == ["priv", "unknown"]


def test_role_tags_decide_per_vpc() -> None:
    tagged = subnet("tagged", "10.0.0.0/24", public=True, **{"kubernetes.io/role/elb": "1"})
    untagged_same_vpc = subnet("same", "10.0.1.0/24", public=True)
    other_vpc = subnet("other", "10.0.0.0/24", vpc="vpc-2", public=True)
    chosen = discovery_candidates([tagged, untagged_same_vpc, other_vpc], internet_facing=True)
    assert [s.id for s in chosen] == ["tagged", "other"]


# --- aws ec2 describe-subnets / describe-route-tables -------------------------------------------------------


def test_describe_subnets_gives_blocks_zones_tags_and_names() -> None:
    cluster = load_cluster([str(AWS_CLI / "describe-subnets.json")])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    assert {c: s.zone for c, s in subnets.items()} == {**PUBLIC, **PRIVATE}
    public_a = subnets["10.0.0.0/22"]
    assert public_a.id == "subnet-0a1b2c3d4e5f60001" and public_a.vpc == "vpc-0f1e2d3c4b5a69788"
    assert [cidr_text(b) for b in public_a.cidrs] == ["10.0.0.0/22", IPV6_BLOCK]
    assert public_a.name == "eks-prod-public-a" and public_a.tags["kubernetes.io/cluster/prod"] == "shared"
    assert str(public_a.source) == f"{AWS_CLI / 'describe-subnets.json'}:3:9"


def test_without_route_tables_public_is_unknown_even_with_map_public_ip_on_launch() -> None:
    cluster = load_cluster([str(AWS_CLI / "describe-subnets.json")])
    assert {s.public for s in cluster.subnets} == {None}


def test_public_means_the_route_table_routes_to_an_internet_gateway_and_unassociated_subnets_use_the_main_table() -> (
    None
):
    cluster = load_cluster([str(AWS_CLI)])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    assert {c for c, s in subnets.items() if s.public} == set(PUBLIC)
    assert {c for c, s in subnets.items() if s.public is False} == set(PRIVATE)
    # 10.0.96.0/19 has no association of its own: the main table (NAT only) decides


def test_route_tables_in_a_separate_file_given_first_still_apply() -> None:
    cluster = load_cluster([str(AWS_CLI / "describe-route-tables.json"), str(AWS_CLI / "describe-subnets.json")])
    assert {ipv4(s) for s in cluster.subnets if s.public} == set(PUBLIC)


def test_alb_roles_follow_the_role_tags() -> None:
    subnets = by_ipv4(load_cluster([str(AWS_CLI)]).subnets)
    assert {c for c, s in subnets.items() if ROLE_ALB_INTERNET_FACING in s.roles} == set(PUBLIC)
    assert {c for c, s in subnets.items() if ROLE_ALB_INTERNAL in s.roles} == set(PRIVATE)


def test_untagged_subnets_take_alb_roles_from_reachability(tmp_path: Path) -> None:
    data = json.loads((AWS_CLI / "describe-subnets.json").read_text())
    for entry in data["Subnets"]:
        entry["Tags"] = [t for t in entry["Tags"] if not t["Key"].startswith("kubernetes.io/role/")]
    write_json(tmp_path / "subnets.json", data)
    (tmp_path / "routes.json").write_text((AWS_CLI / "describe-route-tables.json").read_text())
    subnets = by_ipv4(load_cluster([str(tmp_path)]).subnets)
    assert {c for c, s in subnets.items() if ROLE_ALB_INTERNET_FACING in s.roles} == set(PUBLIC)
    assert {c for c, s in subnets.items() if ROLE_ALB_INTERNAL in s.roles} == set(PRIVATE)


def test_bad_cidr_is_reported_at_its_line_and_the_other_subnets_still_load(tmp_path: Path) -> None:
    path = tmp_path / "subnets.json"
    path.write_text(
        '{"Subnets": [\n'
        '  {"SubnetId": "subnet-1", "CidrBlock": "10.0.0.0/33"},\n'
        '  {"SubnetId": "subnet-2"},\n'
        '  {"SubnetId": "subnet-3", "CidrBlock": "10.0.8.0/22"}\n'
        "]}\n"
    )
    cluster = load_cluster([str(path)])
    assert [s.id for s in cluster.subnets] == ["subnet-3"]
    bad_cidr, missing = errors_of(cluster)
    assert bad_cidr.startswith(f"{path}:2:") and "invalid CIDR '10.0.0.0/33'" in bad_cidr
    assert missing.startswith(f"{path}:3:") and "subnet subnet-2 has no CidrBlock" in missing


def test_a_subnet_entry_of_the_wrong_shape_is_a_positioned_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "subnets.json"
    path.write_text('{"Subnets": [\n  {"SubnetId": 5, "CidrBlock": "10.0.0.0/24"}\n]}\n')
    (message,) = errors_of(load_cluster([str(path)]))
    assert message.startswith(f"{path}:2:") and "Subnets[0].SubnetId" in message and "expected a string" in message


def test_ipv6_only_subnet_needs_no_ipv4_block(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "s.json",
        {
            "Subnets": [
                {
                    "SubnetId": "subnet-6",
                    "Ipv6Native": True,
                    "Ipv6CidrBlockAssociationSet": [
                        {"Ipv6CidrBlock": "2a05:d018::/64", "Ipv6CidrBlockState": {"State": "associated"}},
                        {"Ipv6CidrBlock": "2a05:d019::/64", "Ipv6CidrBlockState": {"State": "disassociated"}},
                    ],
                }
            ]
        },
    )
    cluster = load_cluster([str(path)])
    assert errors_of(cluster) == []
    assert [cidr_text(b) for b in cluster.subnets[0].cidrs] == ["2a05:d018::/64"]


def test_describe_vpcs_gives_every_associated_block(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "vpcs.json",
        {
            "Vpcs": [
                {
                    "VpcId": "vpc-1",
                    "CidrBlock": "10.0.0.0/16",
                    "CidrBlockAssociationSet": [
                        {"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}},
                        {"CidrBlock": "100.64.0.0/16", "CidrBlockState": {"State": "associated"}},
                    ],
                    "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2a05:d018:1234:5600::/56"}],
                    "Tags": [{"Key": "Name", "Value": "eks-prod"}],
                }
            ]
        },
    )
    vpc = load_cluster([str(path)]).vpcs["vpc-1"]
    assert [cidr_text(b) for b in vpc.cidrs] == ["10.0.0.0/16", "100.64.0.0/16", "2a05:d018:1234:5600::/56"]
    assert vpc.name == "eks-prod"


# --- eksctl ClusterConfig --------------------------------------------------------------------------------

EKSCTL = FIXTURES / "eksctl" / "cluster.yaml"


def eksctl_config(body: str) -> str:
    return "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: c1\n  region: eu-west-1\n" + body


def test_eksctl_subnets_are_public_or_private_by_the_section_they_are_listed_in() -> None:
    cluster = load_cluster([str(EKSCTL)])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    assert {c: s.zone for c, s in subnets.items()} == {**PUBLIC, **PRIVATE}
    assert {c for c, s in subnets.items() if s.public} == set(PUBLIC)
    assert {s.vpc for s in cluster.subnets} == {"vpc-0f1e2d3c4b5a69788"}
    assert [cidr_text(b) for b in cluster.vpcs["vpc-0f1e2d3c4b5a69788"].cidrs] == ["10.0.0.0/16"]


def test_eksctl_node_groups_put_nodes_and_vpc_cni_pods_in_the_subnets_they_use() -> None:
    subnets = by_ipv4(load_cluster([str(EKSCTL)]).subnets)
    nodes = {c for c, s in subnets.items() if ROLE_NODES in s.roles}
    # managed group "apps" (privateNetworking) -> every private subnet; "edge" lists the public key edge-c
    assert nodes == set(PRIVATE) | {"10.0.8.0/22"}
    assert {c for c, s in subnets.items() if ROLE_PODS in s.roles} == nodes


def test_eksctl_node_group_without_private_networking_uses_every_public_subnet() -> None:
    text = eksctl_config(
        "vpc:\n  subnets:\n    public:\n      eu-west-1a: {cidr: 10.1.0.0/24}\n      eu-west-1b: {cidr: 10.1.1.0/24}\n"
        "    private:\n      eu-west-1a: {cidr: 10.1.2.0/24}\n"
        "nodeGroups:\n  - name: ng-1\n"
    )
    subnets = by_ipv4(load_cluster([text]).subnets)
    assert {c for c, s in subnets.items() if ROLE_NODES in s.roles} == {"10.1.0.0/24", "10.1.1.0/24"}


def test_eksctl_node_group_availability_zones_pick_the_subnets_of_those_zones() -> None:
    text = eksctl_config(
        "vpc:\n  subnets:\n    private:\n      eu-west-1a: {cidr: 10.1.2.0/24}\n      eu-west-1b: {cidr: 10.1.3.0/24}\n"
        "managedNodeGroups:\n  - name: ng\n    privateNetworking: true\n    availabilityZones: [eu-west-1b]\n"
    )
    subnets = by_ipv4(load_cluster([text]).subnets)
    assert {c for c, s in subnets.items() if ROLE_NODES in s.roles} == {"10.1.3.0/24"}


def test_eksctl_private_subnet_without_private_networking_is_an_error_at_its_line() -> None:
    text = eksctl_config(
        "vpc:\n  subnets:\n    private:\n      priv-a: {id: subnet-1, az: eu-west-1a, cidr: 10.1.2.0/24}\n"
        "nodeGroups:\n  - name: ng\n    subnets:\n      - priv-a\n"
    )
    (message,) = errors_of(load_cluster([text]))
    assert message.startswith("<string>:13:") and "privateNetworking: true" in message


def test_eksctl_fargate_pods_sit_in_the_private_subnets() -> None:
    subnets = by_ipv4(load_cluster([str(EKSCTL)]).subnets)
    assert {c for c, s in subnets.items() if ROLE_PODS in s.roles} >= set(PRIVATE)
    text = eksctl_config(
        "vpc:\n  subnets:\n    private:\n      eu-west-1a: {cidr: 10.1.2.0/24}\n    public:\n"
        "      eu-west-1a: {cidr: 10.1.0.0/24}\nfargateProfiles:\n  - name: fp\n"
    )
    subnets = by_ipv4(load_cluster([text]).subnets)
    assert {c for c, s in subnets.items() if ROLE_PODS in s.roles} == {"10.1.2.0/24"}
    assert ROLE_NODES not in subnets["10.1.2.0/24"].roles


def test_eksctl_made_vpc_is_split_as_eksctl_splits_it() -> None:
    text = eksctl_config("availabilityZones: [eu-west-1a, eu-west-1b, eu-west-1c]\nnodeGroups:\n  - name: ng\n")
    cluster = load_cluster([text])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    # 192.168.0.0/16 in /19s: public subnets first, then private ones, two /19s left over
    assert {c: (s.zone, s.public) for c, s in subnets.items()} == {
        "192.168.0.0/19": ("eu-west-1a", True),
        "192.168.32.0/19": ("eu-west-1b", True),
        "192.168.64.0/19": ("eu-west-1c", True),
        "192.168.96.0/19": ("eu-west-1a", False),
        "192.168.128.0/19": ("eu-west-1b", False),
        "192.168.160.0/19": ("eu-west-1c", False),
    }
    assert {c for c, s in subnets.items() if ROLE_NODES in s.roles} == {
        "192.168.0.0/19",
        "192.168.32.0/19",
        "192.168.64.0/19",
    }


def test_eksctl_config_without_subnets_warns_that_placement_is_unknown() -> None:
    cluster = load_cluster([eksctl_config("vpc:\n  id: vpc-9\n")])
    assert cluster.subnets == []
    (warning,) = [d for d in cluster.diagnostics if d.code == "unknown-subnet"]
    assert "lists no vpc.subnets" in warning.message and warning.source.line == 6


def test_eksctl_bad_cidr_is_reported_at_its_line() -> None:
    text = eksctl_config("vpc:\n  subnets:\n    public:\n      eu-west-1a:\n        cidr: 10.1.0.0/99\n")
    (message,) = errors_of(load_cluster([text]))
    assert message.startswith("<string>:10:") and "invalid CIDR '10.1.0.0/99'" in message


def test_eksctl_subnet_listed_by_id_only_takes_its_blocks_and_tags_from_describe_subnets(tmp_path: Path) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(
        eksctl_config(
            "vpc:\n  id: vpc-0f1e2d3c4b5a69788\n  subnets:\n    private:\n"
            "      eu-west-1a: {id: subnet-0a1b2c3d4e5f60004}\n"
            "managedNodeGroups:\n  - name: ng\n    privateNetworking: true\n"
        )
    )
    cluster = load_cluster([str(config), str(AWS_CLI / "describe-subnets.json")])
    assert errors_of(cluster) == [] and len(cluster.subnets) == 6
    merged = by_ipv4(cluster.subnets)["10.0.32.0/19"]
    assert merged.id == "subnet-0a1b2c3d4e5f60004" and merged.public is False
    assert merged.roles >= {ROLE_NODES, ROLE_PODS, ROLE_ALB_INTERNAL}
    assert merged.name == "eks-prod-private-a"


def test_eksctl_subnet_listed_by_key_and_cidr_is_the_deployed_subnet_with_that_block() -> None:
    config = eksctl_config(
        "vpc:\n  id: vpc-0f1e2d3c4b5a69788\n  subnets:\n    private:\n"
        "      apps-a: {az: eu-west-1a, cidr: 10.0.32.0/19}\n"
        "managedNodeGroups:\n  - name: ng\n    privateNetworking: true\n"
    )
    cluster = load_cluster([config, str(AWS_CLI / "describe-subnets.json")])
    assert len(cluster.subnets) == 6
    assert ROLE_NODES in by_ipv4(cluster.subnets)["10.0.32.0/19"].roles


def test_conflicting_blocks_for_one_subnet_id_are_an_error() -> None:
    config = eksctl_config(
        "vpc:\n  subnets:\n    private:\n      eu-west-1a: {id: subnet-0a1b2c3d4e5f60004, cidr: 10.9.0.0/24}\n"
    )
    cluster = load_cluster([config, str(AWS_CLI / "describe-subnets.json")])
    (message,) = errors_of(cluster)
    assert "subnet subnet-0a1b2c3d4e5f60004 has block 10.0.32.0/19 here but 10.9.0.0/24 elsewhere" in message


def test_node_group_in_a_subnet_no_input_defines_is_a_warning() -> None:
    config = eksctl_config(
        "vpc:\n  subnets:\n    public:\n      eu-west-1a: {cidr: 10.1.0.0/24}\n"
        "nodeGroups:\n  - name: ng\n    subnets: [subnet-0ffff]\n"
    )
    warnings = [d for d in load_cluster([config]).diagnostics if d.code == "unknown-subnet"]
    assert len(warnings) == 1 and "nodeGroup 'ng' uses subnet 'subnet-0ffff'" in warnings[0].message


# --- Nodes ----------------------------------------------------------------------------------------------------

NODES = """apiVersion: v1
kind: Node
metadata: {name: ip-10-0-33-5.eu-west-1.compute.internal}
status:
  addresses:
    - {type: InternalIP, address: 10.0.33.5}
---
apiVersion: v1
kind: Node
metadata: {name: ip-10-0-8-9.eu-west-1.compute.internal}
status:
  addresses:
    - {type: ExternalIP, address: 203.0.113.7}
    - {type: InternalIP, address: 10.0.8.9}
---
apiVersion: v1
kind: Node
metadata: {name: on-prem}
status:
  addresses:
    - {type: InternalIP, address: 172.16.0.4}
"""


def test_node_subnet_is_the_subnet_holding_its_address_and_that_subnet_may_hold_nodes_and_pods() -> None:
    cluster = load_cluster([NODES, str(AWS_CLI)])
    assert {n.name.split(".")[0]: n.subnet for n in cluster.nodes} == {
        "ip-10-0-33-5": "subnet-0a1b2c3d4e5f60004",
        "ip-10-0-8-9": "subnet-0a1b2c3d4e5f60003",
        "on-prem": None,
    }
    subnets = by_ipv4(cluster.subnets)
    assert {c for c, s in subnets.items() if ROLE_NODES in s.roles} == {"10.0.32.0/19", "10.0.8.0/22"}
    assert subnets["10.0.8.0/22"].roles >= {ROLE_PODS, ROLE_ALB_INTERNET_FACING}


def test_nodes_without_subnets_keep_no_subnet() -> None:
    assert {n.subnet for n in load_cluster([NODES]).nodes} == {None}


# --- terraform show -json ----------------------------------------------------------------------------------

TERRAFORM = FIXTURES / "terraform" / "show.json"


def terraform_state(*resources: dict, plan: bool = False) -> dict:
    module = {"root_module": {"resources": list(resources)}}
    return {"format_version": "1.2", "terraform_version": "1.9.8", ("planned_values" if plan else "values"): module}


def tf(kind: str, name: str, mode: str = "managed", **values: object) -> dict:
    return {"address": f"{kind}.{name}", "mode": mode, "type": kind, "name": name, "values": values}


def test_terraform_state_gives_the_subnets_of_child_modules_with_tags_all() -> None:
    cluster = load_cluster([str(TERRAFORM)])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    assert {c: s.zone for c, s in subnets.items()} == {**PUBLIC, **PRIVATE}
    public_a = subnets["10.0.0.0/22"]
    assert public_a.id == "subnet-0a1b2c3d4e5f60001" and public_a.vpc == "vpc-0f1e2d3c4b5a69788"
    assert [cidr_text(b) for b in public_a.cidrs] == ["10.0.0.0/22", IPV6_BLOCK]
    assert public_a.tags["Environment"] == "prod"  # provider default_tags reach tags_all only
    vpc = cluster.vpcs["vpc-0f1e2d3c4b5a69788"]
    assert [cidr_text(b) for b in vpc.cidrs] == ["10.0.0.0/16", "2a05:d018:1234:5600::/56"]


def test_terraform_public_subnets_route_to_an_internet_gateway_and_the_default_table_is_the_main_one() -> None:
    subnets = by_ipv4(load_cluster([str(TERRAFORM)]).subnets)
    assert {c for c, s in subnets.items() if s.public} == set(PUBLIC)
    assert {c for c, s in subnets.items() if s.public is False} == set(PRIVATE)


def test_terraform_route_resource_and_main_route_table_association_make_a_subnet_public(tmp_path: Path) -> None:
    state = terraform_state(
        tf("aws_subnet", "a", id="subnet-a", cidr_block="10.2.0.0/24", vpc_id="vpc-2"),
        tf("aws_subnet", "b", mode="data", id="subnet-b", cidr_block="10.2.1.0/24", vpc_id="vpc-2"),
        tf("aws_route_table", "main", id="rtb-m", vpc_id="vpc-2", route=[]),
        tf("aws_main_route_table_association", "m", vpc_id="vpc-2", route_table_id="rtb-m"),
        tf("aws_route", "igw", route_table_id="rtb-m", gateway_id="igw-1", destination_cidr_block="0.0.0.0/0"),
    )
    cluster = load_cluster([str(write_json(tmp_path / "state.json", state))])
    assert errors_of(cluster) == []
    assert {s.id: s.public for s in cluster.subnets} == {"subnet-a": True, "subnet-b": True}


def test_terraform_subnet_without_cidr_block_is_an_error_in_a_state_and_a_warning_in_a_plan(tmp_path: Path) -> None:
    broken = tf("aws_subnet", "x", id="subnet-x", vpc_id="vpc-2")
    path = write_json(tmp_path / "state.json", terraform_state(broken))
    (message,) = errors_of(load_cluster([str(path)]))
    item_line = line_of(path, '"address": "aws_subnet.x"') - 1  # the resource's opening brace
    assert message.startswith(f"{path}:{item_line}:")
    assert "aws_subnet.x has no cidr_block" in message
    path = write_json(tmp_path / "plan.json", terraform_state(broken, plan=True))
    cluster = load_cluster([str(path)])
    assert errors_of(cluster) == [] and cluster.subnets == []
    (warning,) = [d for d in cluster.diagnostics if d.code == "unknown-subnet"]
    assert "not known until apply" in warning.message


def test_terraform_bad_cidr_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write_json(tmp_path / "state.json", terraform_state(tf("aws_subnet", "x", cidr_block="10.0.0.300/24")))
    (message,) = errors_of(load_cluster([str(path)]))
    assert message.startswith(f"{path}:{line_of(path, '10.0.0.300/24')}:") and "invalid CIDR" in message


def test_terraform_subnet_without_id_is_named_by_its_address(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "plan.json", terraform_state(tf("aws_subnet", "x", cidr_block="10.3.0.0/24"), plan=True)
    )
    assert [s.id for s in load_cluster([str(path)]).subnets] == ["aws_subnet.x"]


# --- CloudFormation ------------------------------------------------------------------------------------------

CLOUDFORMATION = FIXTURES / "cloudformation" / "vpc.yaml"


def cloudformation(resources: str, parameters: str = "") -> str:
    return 'AWSTemplateFormatVersion: "2010-09-09"\n' + parameters + "Resources:\n" + resources


def test_cloudformation_template_with_short_form_tags_gives_its_literal_subnets() -> None:
    cluster = load_cluster([str(CLOUDFORMATION)])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    assert {c: s.zone for c, s in subnets.items()} == {**PUBLIC, **PRIVATE}
    public_a = subnets["10.0.0.0/22"]
    assert public_a.id == "PublicSubnetA" and public_a.vpc == "VPC"
    assert [cidr_text(b) for b in public_a.cidrs] == ["10.0.0.0/22", IPV6_BLOCK]
    # !Sub of parameters with defaults is resolved; `Value: 1` (a YAML integer) is the tag value "1"
    assert public_a.name == "eks-prod-public-a"
    assert public_a.tags["kubernetes.io/cluster/prod"] == "shared" and public_a.tags["kubernetes.io/role/elb"] == "1"
    assert str(public_a.source) == f"{CLOUDFORMATION}:{line_of(CLOUDFORMATION, 'PublicSubnetA:')}:3"
    vpc = cluster.vpcs["VPC"]
    assert [cidr_text(b) for b in vpc.cidrs] == ["10.0.0.0/16", "2a05:d018:1234:5600::/56"] and vpc.name == "eks-prod"


def test_cloudformation_ref_to_a_parameter_uses_its_default_and_says_so() -> None:
    notes = [d for d in load_cluster([str(CLOUDFORMATION)]).diagnostics if d.code == "cloudformation-parameter-default"]
    (note,) = notes
    assert note.severity is Severity.INFO and "PublicSubnetACidr (10.0.0.0/22)" in note.message
    assert note.source.line == line_of(CLOUDFORMATION, "CidrBlock: !Ref PublicSubnetACidr")


def test_cloudformation_public_subnets_route_to_the_templates_internet_gateway() -> None:
    subnets = by_ipv4(load_cluster([str(CLOUDFORMATION)]).subnets)
    assert {c for c, s in subnets.items() if s.public} == set(PUBLIC)
    # PrivateSubnetB/C have no association: the VPC's main table, made by AWS with the local route only
    assert {c for c, s in subnets.items() if s.public is False} == set(PRIVATE)
    assert {c for c, s in subnets.items() if ROLE_ALB_INTERNET_FACING in s.roles} == set(PUBLIC)


def test_cloudformation_computed_cidr_skips_the_subnet_with_a_warning_at_its_line() -> None:
    text = cloudformation(
        "  A:\n    Type: AWS::EC2::Subnet\n    Properties:\n"
        "      CidrBlock: !Select [0, !Cidr [!GetAtt VPC.CidrBlock, 4, 8]]\n"
        "  B:\n    Type: AWS::EC2::Subnet\n    Properties:\n      CidrBlock: !Sub '10.${Octet}.0.0/24'\n"
        "  C:\n    Type: AWS::EC2::Subnet\n    Properties:\n      CidrBlock: !Sub '10.9.0.0/24'\n"
        "      AvailabilityZone: !Select [0, !GetAZs '']\n"
    )
    cluster = load_cluster([text])
    assert errors_of(cluster) == []
    assert [(s.id, ipv4(s), s.zone) for s in cluster.subnets] == [("C", "10.9.0.0/24", None)]
    warnings = [d for d in cluster.diagnostics if d.code == "unknown-subnet"]
    assert [(d.source.line, d.message.split(":")[0]) for d in warnings] == [(6, "A"), (10, "B")]
    assert "computed at deployment" in warnings[0].message


def test_cloudformation_subnet_without_cidr_block_is_an_error() -> None:
    text = cloudformation("  A:\n    Type: AWS::EC2::Subnet\n    Properties:\n      VpcId: vpc-1\n")
    (message,) = errors_of(load_cluster([text]))
    assert message.startswith("<string>:3:") and "subnet A has no CidrBlock" in message


def test_cloudformation_bad_cidr_is_an_error_at_its_line() -> None:
    text = cloudformation("  A:\n    Type: AWS::EC2::Subnet\n    Properties:\n      CidrBlock: 10.0.0/24\n")
    (message,) = errors_of(load_cluster([text]))
    assert message.startswith("<string>:6:") and "invalid CIDR '10.0.0/24'" in message


def test_cloudformation_json_template_reads_like_the_yaml_one(tmp_path: Path) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Cidr": {"Type": "String", "Default": "10.5.1.0/24"}},
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.5.0.0/16"}},
            "Igw": {"Type": "AWS::EC2::InternetGateway"},
            "Rt": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "Route": {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Ref": "Rt"},
                    "GatewayId": {"Ref": "Igw"},
                    "DestinationCidrBlock": "0.0.0.0/0",
                },
            },
            "Pub": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": {"Ref": "Cidr"}}},
            "Priv": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": {"Fn::Sub": "10.5.2.0/24"}},
            },
            "Assoc": {
                "Type": "AWS::EC2::SubnetRouteTableAssociation",
                "Properties": {"SubnetId": {"Ref": "Pub"}, "RouteTableId": {"Ref": "Rt"}},
            },
        },
    }
    cluster = load_cluster([str(write_json(tmp_path / "vpc.json", template))])
    assert errors_of(cluster) == []
    assert {s.id: (ipv4(s), s.vpc, s.public) for s in cluster.subnets} == {
        "Pub": ("10.5.1.0/24", "Vpc", True),
        "Priv": ("10.5.2.0/24", "Vpc", False),
    }


def test_local_tags_outside_cloudformation_are_still_invalid_yaml() -> None:
    cluster = load_cluster(["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: !Ref x\n"])
    (message,) = errors_of(cluster)
    assert message.startswith("<string>:4:9: invalid YAML: unknown tag '!Ref'")
    assert cluster.namespaces == {}


# --- every format, and mixed inputs -----------------------------------------------------------------------------


def shape(subnets: list[Subnet], ipv6: bool = True) -> set[tuple]:
    """What must agree between formats: blocks, zone, reachability and load balancer roles (ids aside)."""
    alb = {ROLE_ALB_INTERNET_FACING, ROLE_ALB_INTERNAL}
    return {
        (tuple(cidr_text(b) for b in s.cidrs if ipv6 or b.family == 4), s.zone, s.public, frozenset(s.roles & alb))
        for s in subnets
    }


def test_the_same_vpc_in_every_format_gives_the_same_subnets() -> None:
    aws_cli = shape(load_cluster([str(AWS_CLI)]).subnets)
    assert len(aws_cli) == 6
    assert shape(load_cluster([str(TERRAFORM)]).subnets) == aws_cli
    assert shape(load_cluster([str(CLOUDFORMATION)]).subnets) == aws_cli
    # an eksctl ClusterConfig has no per-subnet IPv6 block
    assert shape(load_cluster([str(EKSCTL)]).subnets) == shape(load_cluster([str(AWS_CLI)]).subnets, ipv6=False)


def test_every_format_together_describes_six_subnets_once(tmp_path: Path) -> None:
    cluster = load_cluster([str(FIXTURES)])
    assert errors_of(cluster) == []
    assert [d.message for d in cluster.diagnostics if d.code == "subnet-conflict"] == []
    assert len(cluster.subnets) == 6
    subnets = by_ipv4(cluster.subnets)
    assert {s.id for s in subnets.values()} == {f"subnet-0a1b2c3d4e5f6000{i}" for i in range(1, 7)}
    assert {c for c, s in subnets.items() if ROLE_NODES in s.roles} == set(PRIVATE) | {"10.0.8.0/22"}


def test_a_directory_mixing_manifests_and_infrastructure_files_loads_all_of_them(tmp_path: Path) -> None:
    for source in (AWS_CLI / "describe-subnets.json", AWS_CLI / "describe-route-tables.json", EKSCTL, CLOUDFORMATION):
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "nodes.yaml").write_text(NODES)
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-alb, namespace: shop}\n"
        "spec:\n  podSelector: {}\n  ingress:\n    - from: [{ipBlock: {cidr: 10.0.0.0/20}}]\n"
    )
    cluster = load_cluster([str(tmp_path)])
    assert errors_of(cluster) == []
    assert [d for d in cluster.diagnostics if d.code == "not-kubernetes"] == []
    assert [g.id for g in cluster.groups] == ["shop/web"] and [p.name for p in cluster.policies] == ["shop/from-alb"]
    assert len(cluster.subnets) == 6 and len(cluster.nodes) == 3
    admitted = subnets_overlapping(cluster.subnets, parse_cidr("10.0.0.0/20"))
    assert {ipv4(s) for s in admitted} == set(PUBLIC)
    assert any(ROLE_NODES in s.roles for s in admitted)  # the edge node group sits in the ALB subnet


def test_yaml_local_tags_are_kept_beside_the_data_of_a_cloudformation_template() -> None:
    text = "Resources:\n  A:\n    Type: AWS::EC2::Subnet\n    Properties:\n"
    text += "      VpcId: !Ref V\n      Zone: !Select [0, !GetAZs '']\n"
    (doc,), diags = read_text(text, "t.yaml")
    assert diags == []
    props = doc.data["Resources"]["A"]["Properties"]
    assert props == {"VpcId": "V", "Zone": [0, ""]}
    at = ("Resources", "A", "Properties")
    assert (doc.tag(*at, "VpcId"), doc.tag(*at, "Zone"), doc.tag(*at, "Zone", 1), doc.tag(*at, "Zone", 0)) == (
        "!Ref",
        "!Select",
        "!GetAZs",
        None,
    )


# --- ENIConfig (VPC CNI custom networking) ---------------------------------------------------------------------

ENI_CONFIG = """apiVersion: crd.k8s.amazonaws.com/v1alpha1
kind: ENIConfig
metadata: {name: eu-west-1a}
spec:
  subnet: subnet-0a1b2c3d4e5f60002
  securityGroups: [sg-0123]
"""


def test_eniconfig_subnet_may_hold_pods_under_custom_networking() -> None:
    cluster = load_cluster([ENI_CONFIG, str(AWS_CLI)])
    assert errors_of(cluster) == []
    subnets = by_ipv4(cluster.subnets)
    assert {c for c, s in subnets.items() if ROLE_PODS in s.roles} == {"10.0.4.0/22"}
    assert ROLE_NODES not in subnets["10.0.4.0/22"].roles


def test_eniconfig_without_subnet_inputs_is_only_a_note() -> None:
    cluster = load_cluster([ENI_CONFIG])
    (note,) = [d for d in cluster.diagnostics if d.code == "unknown-subnet"]
    assert note.severity is Severity.INFO and note.source.line == 5


# --- the address queries against Python's ipaddress ------------------------------------------------------------

networks = st.builds(
    lambda address, prefix: ipaddress.ip_network(f"{ipaddress.IPv4Address(address)}/{prefix}", strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)


@given(st.lists(networks, min_size=1, max_size=6), networks)
def test_subnet_queries_agree_with_ipaddress(blocks: list, query) -> None:
    subnets = [subnet(f"s{i}", str(block), vpc=f"vpc-{i}") for i, block in enumerate(blocks)]
    asked = parse_cidr(str(query))
    assert [s.id for s in subnets_overlapping(subnets, asked)] == [
        f"s{i}" for i, block in enumerate(blocks) if block.overlaps(query)
    ]
    assert [s.id for s in subnets_containing(subnets, asked)] == [
        f"s{i}" for i, block in enumerate(blocks) if query.subnet_of(block)
    ]
    holders = [(block.num_addresses, i) for i, block in enumerate(blocks) if query.network_address in block]
    found = subnet_of_address(subnets, 4, int(query.network_address))
    assert (found.id if found else None) == (f"s{min(holders)[1]}" if holders else None)


def test_two_eksctl_clusters_with_the_same_planned_blocks_keep_their_own_subnets() -> None:
    one = eksctl_config("availabilityZones: [eu-west-1a, eu-west-1b]\n")
    other = one.replace("name: c1", "name: c2")
    cluster = load_cluster([one, other])
    assert errors_of(cluster) == [] and len(cluster.subnets) == 8
    assert {s.vpc for s in cluster.subnets} == {"eksctl-c1-cluster/VPC", "eksctl-c2-cluster/VPC"}


# --- no input gives a traceback -------------------------------------------------------------------------------

_WORDS = [
    "",
    "10.0.0.0/24",
    "fd00::/64",
    "igw-1",
    "subnet-1",
    "vpc-1",
    "x",
    "1",
    "${X}",
    "eu-west-1a",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::SubnetRouteTableAssociation",
    "aws_subnet",
    "aws_vpc",
    "aws_route",
    "aws_route_table",
    "aws_default_route_table",
    "aws_route_table_association",
]
_KEYS = [
    "Subnets",
    "RouteTables",
    "Vpcs",
    "SubnetId",
    "CidrBlock",
    "VpcId",
    "Tags",
    "Key",
    "Value",
    "Associations",
    "Main",
    "Routes",
    "GatewayId",
    "Ipv6CidrBlockAssociationSet",
    "Ipv6CidrBlock",
    "Ipv6Native",
    "format_version",
    "values",
    "planned_values",
    "root_module",
    "resources",
    "child_modules",
    "type",
    "address",
    "cidr_block",
    "id",
    "vpc_id",
    "route",
    "gateway_id",
    "route_table_id",
    "subnet_id",
    "main_route_table_id",
    "tags",
    "Resources",
    "Type",
    "Properties",
    "Parameters",
    "Default",
    "Ref",
    "Fn::Sub",
    "AWSTemplateFormatVersion",
    "RouteTableId",
]
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.sampled_from(_WORDS)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)),
    max_leaves=30,
)
_eksctl = st.fixed_dictionaries(
    {
        "apiVersion": st.just("eksctl.io/v1alpha5"),
        "kind": st.just("ClusterConfig"),
        "metadata": st.just({"name": "c"}),
        "vpc": st.dictionaries(st.sampled_from(["id", "cidr", "subnets", "extraCIDRs"]), _values, max_size=3),
        "nodeGroups": st.lists(
            st.dictionaries(st.sampled_from(["name", "subnets", "privateNetworking", "availabilityZones"]), _values),
            max_size=2,
        ),
        "availabilityZones": _values,
    }
)


@given(
    st.lists(
        st.one_of(st.dictionaries(st.sampled_from(_KEYS), _values, min_size=1, max_size=4), _eksctl),
        min_size=1,
        max_size=3,
    )
)
def test_malformed_infrastructure_documents_give_diagnostics_never_a_traceback(documents: list) -> None:
    load_cluster(documents)  # raising is the failure


def test_an_alias_carries_the_local_tags_of_its_anchor() -> None:
    text = cloudformation(
        "  A:\n    Type: AWS::EC2::Subnet\n    Properties: {CidrBlock: &cidr !Ref Unknown}\n"
        "  B:\n    Type: AWS::EC2::Subnet\n    Properties: {CidrBlock: *cidr}\n"
    )
    cluster = load_cluster([text])
    assert errors_of(cluster) == [] and cluster.subnets == []
    assert [d.message.split(":")[0] for d in cluster.diagnostics if d.code == "unknown-subnet"] == ["A", "B"]


def test_eks_node_groups_of_terraform_and_cloudformation_put_nodes_and_pods_in_their_subnets() -> None:
    for source in (TERRAFORM, CLOUDFORMATION):
        subnets = by_ipv4(load_cluster([str(source)]).subnets)
        assert {c for c, s in subnets.items() if ROLE_NODES in s.roles} == set(PRIVATE), source
        assert {c for c, s in subnets.items() if ROLE_PODS in s.roles} == set(PRIVATE), source


def test_eks_fargate_profile_puts_only_pods_in_its_subnets() -> None:
    text = cloudformation(
        "  Priv:\n    Type: AWS::EC2::Subnet\n    Properties: {CidrBlock: 10.7.0.0/24}\n"
        "  Batch:\n    Type: AWS::EKS::FargateProfile\n    Properties:\n      Subnets: [!Ref Priv]\n"
    )
    (only,) = load_cluster([text]).subnets
    assert ROLE_PODS in only.roles and ROLE_NODES not in only.roles


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("values", "root_module", "child_modules", 0, "resources"), 7),
        (("values", "root_module", "child_modules", 0, "resources", 2, "type"), ["aws_subnet"]),
        (("values", "root_module", "child_modules"), {"k": ["v"]}),
    ],
)
def test_damaged_terraform_json_is_an_input_problem_not_a_crash(tmp_path, capsys, path, value):
    from netverify.cli import main

    data = json.loads((FIXTURES / "terraform" / "show.json").read_text())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    damaged = tmp_path / "show.json"
    damaged.write_text(json.dumps(data))
    assert main(["matrix", str(damaged), "-q"]) in (0, 2)
    assert "internal error" not in capsys.readouterr().err  # the catch-all of a bug, which must not be reached
