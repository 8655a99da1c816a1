"""VPCs and subnets as the infrastructure files define them, and what may sit in each subnet.

A CIDR rule (ipBlock, Calico nets) admits every address of the ranges it names; which load balancers, nodes
and pods own those addresses is decided by the subnets they live in. The roles here say what *may* sit in a
subnet, so they err toward "more occupants": an unknown is never read as "empty".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from netverify.model.addresses import IPRange
from netverify.model.source import SourceRef

# What can sit in a subnet (Subnet.roles).
ROLE_ALB_INTERNET_FACING = "alb-internet-facing"  # candidate for internet-facing load balancers
ROLE_ALB_INTERNAL = "alb-internal"  # candidate for internal load balancers
ROLE_NODES = "nodes"  # worker nodes (their primary ENIs)
ROLE_PODS = "pods"  # pod IPs (Amazon VPC CNI: from the node's subnet, or an ENIConfig / Fargate subnet)
ROLES = frozenset({ROLE_ALB_INTERNET_FACING, ROLE_ALB_INTERNAL, ROLE_NODES, ROLE_PODS})

# Subnet tags the AWS Load Balancer Controller reads (docs/deploy/subnet_discovery.md, subnet_resolver.go).
TAG_ROLE_ELB = "kubernetes.io/role/elb"
TAG_ROLE_INTERNAL_ELB = "kubernetes.io/role/internal-elb"
TAG_CLUSTER_PREFIX = "kubernetes.io/cluster/"
ROLE_TAG_VALUES = frozenset({"", "1"})  # the controller's tag filter accepts exactly these values


@dataclass(slots=True)
class Vpc:
    """A VPC and its address blocks (primary, secondary and IPv6): where "inside the VPC" ends."""

    id: str
    cidrs: tuple[IPRange, ...] = ()
    name: str | None = None
    source: SourceRef | None = None


@dataclass(slots=True)
class Subnet:
    """One VPC subnet, as an infrastructure file defines it; what may sit in it decides who a CIDR rule admits."""

    id: str  # subnet-0abc..., or the logical name when the format has no id (eksctl key, terraform address,
    # CloudFormation logical id)
    cidrs: tuple[IPRange, ...]  # the IPv4 CidrBlock and the IPv6 blocks
    vpc: str | None = None
    zone: str | None = None  # availability zone
    public: bool | None = None  # route to an internet gateway; None when the input cannot tell
    roles: frozenset[str] = frozenset()  # what can sit in it: see ROLES
    name: str | None = None  # Name tag
    tags: dict[str, str] = field(default_factory=dict)
    source: SourceRef | None = None

    @property
    def label(self) -> str:
        """How messages name the subnet: its id, with the Name tag when there is one."""
        return f"{self.id} ({self.name})" if self.name and self.name != self.id else self.id

    def holds(self, family: int, address: int) -> bool:
        return any(block.contains(family, address) for block in self.cidrs)

    def covers(self, addresses: IPRange) -> bool:
        return any(block.covers(addresses) for block in self.cidrs)

    def overlaps(self, addresses: IPRange) -> bool:
        return any(block.overlaps(addresses) for block in self.cidrs)

    def role_tag(self, key: str) -> bool:
        """The controller's test for a role tag: present with the value "1" or empty."""
        return self.tags.get(key) in ROLE_TAG_VALUES

    def cluster_tags(self) -> dict[str, str]:
        """`kubernetes.io/cluster/<name>` tags as {cluster name: owned|shared}."""
        return {k[len(TAG_CLUSTER_PREFIX) :]: v for k, v in self.tags.items() if k.startswith(TAG_CLUSTER_PREFIX)}


def subnets_containing(subnets: Iterable[Subnet], addresses: IPRange) -> list[Subnet]:
    """Subnets one of whose blocks holds all of `addresses` (an address is a one-address range): where a
    node or pod with that IP lives. At most one per VPC, since the blocks of one VPC do not overlap."""
    return [subnet for subnet in subnets if subnet.covers(addresses)]


def subnets_overlapping(subnets: Iterable[Subnet], addresses: IPRange) -> list[Subnet]:
    """Subnets that share at least one address with `addresses`: whose occupants a CIDR rule may admit."""
    return [subnet for subnet in subnets if subnet.overlaps(addresses)]


def subnet_of_address(subnets: Iterable[Subnet], family: int, address: int) -> Subnet | None:
    """The subnet holding one address; the most specific block wins when VPCs overlap (peered copies)."""
    best: tuple[int, Subnet] | None = None
    for subnet in subnets:
        for block in subnet.cidrs:
            if block.contains(family, address):
                size = block.last - block.first
                if best is None or size < best[0]:
                    best = (size, subnet)
    return best[1] if best else None


def discovery_candidates(subnets: Iterable[Subnet], internet_facing: bool) -> list[Subnet]:
    """Subnets the AWS Load Balancer Controller's auto-discovery may place a load balancer of this scheme in.

    Per VPC: the subnets carrying the scheme's role tag; when none does, the subnets whose reachability
    matches the scheme (public for internet-facing, private for internal; controller >= 2.12.1). A subnet
    whose reachability is unknown stays a candidate. The cluster-tag and free-address filters are left out:
    they need the controller's cluster name and live data, and leaving them out only adds candidates.
    """
    tag = TAG_ROLE_ELB if internet_facing else TAG_ROLE_INTERNAL_ELB
    by_vpc: dict[str | None, list[Subnet]] = {}
    for subnet in subnets:
        by_vpc.setdefault(subnet.vpc, []).append(subnet)
    chosen: list[Subnet] = []
    for members in by_vpc.values():
        tagged = [s for s in members if s.role_tag(tag)]
        wrong_reachability = not internet_facing  # `public` value that rules a subnet out for this scheme
        chosen.extend(tagged or [s for s in members if s.public is not wrong_reachability])
    return chosen


def cidr_text(block: IPRange) -> str:
    """`10.0.0.0/24` for a block that is one network (subnet blocks always are), else `first-last`."""
    size = block.last - block.first + 1
    if size & (size - 1) or block.first % size:
        return block.label
    width = 32 if block.family == 4 else 128
    address = ipaddress.IPv4Address(block.first) if block.family == 4 else ipaddress.IPv6Address(block.first)
    return f"{address}/{width - size.bit_length() + 1}"
