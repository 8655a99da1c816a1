"""Implementation-defined behaviour made explicit: what each CNI does where the Kubernetes spec is silent."""

from __future__ import annotations

from dataclasses import dataclass

from netverify.model.addresses import IPRange, parse_cidr

# Where pods whose address the manifests do not give may live, by default: private address space. Pod IPs
# come from the VPC (RFC 1918 or CGNAT) on EKS and from private pools on overlay CNIs.
DEFAULT_POD_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")


def pod_ranges(cidrs: tuple[str, ...] | list[str] | None) -> tuple[IPRange, ...]:
    """`None` -> the default private space; `()` -> pods without a known address match no CIDR."""
    return tuple(parse_cidr(c) for c in (DEFAULT_POD_CIDRS if cidrs is None else cidrs))


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    ipblock_matches_pod_ips: bool  # does a Kubernetes ipBlock also match traffic of pods whose IP is inside it?
    description: str


PROFILES: dict[str, Profile] = {
    "generic": Profile(
        "generic",
        True,
        "conservative: a flow that some implementation allows counts as allowed (ipBlock matches pod IPs)",
    ),
    "calico": Profile("calico", True, "Calico: ipBlock becomes `nets` and matches pod IPs too"),
    "cilium": Profile("cilium", False, "Cilium: ipBlock applies only to traffic from outside the cluster"),
    "aws-vpc-cni": Profile("aws-vpc-cni", True, "AWS VPC CNI network policy agent: ipBlock matches pod IPs"),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown CNI profile {name!r}: expected one of {', '.join(PROFILES)}") from None
