"""Implementation-defined behaviour made explicit: what each CNI does where the Kubernetes spec is silent."""

from __future__ import annotations

from dataclasses import dataclass


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
