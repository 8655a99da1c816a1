"""Implementation-defined behaviour made explicit: what each CNI does where the Kubernetes spec is silent.

Sources (reference/k8s-calico-anp-semantics.md §1.5 and §1.8, reference/aws-alb-ingress-subnets.md §4.2):

- ipBlock vs pod IPs: Calico turns ipBlock into `nets`, which match any address, pods included; Cilium
  applies CIDR rules only to traffic from outside the cluster; the AWS VPC CNI agent matches addresses.
- hostNetwork pods: the Kubernetes documentation leaves them undefined between (a) treating them like
  other pods and (b), the most common, ignoring them in pod and namespace selectors and treating their
  traffic as the node's. Calico makes no workload endpoint for them (their traffic is host traffic,
  matched by `nets` on the node address); Cilium gives them the host / remote-node identity, which
  neither selectors nor, by default, CIDR rules match; the VPC CNI agent does not cover them. Traffic
  from a pod's own node is always allowed by the Kubernetes API's definition, by Calico and by Cilium;
  the VPC CNI agent enforces it (amazon-vpc-cni-k8s#2571: kubelet probes blocked).
- Pods without ownerReferences: the VPC CNI agent does not apply policy to them (EKS user guide;
  aws/aws-network-policy-agent#327, open). That is a defect of one agent against a behaviour the
  Kubernetes API defines, not a choice the API leaves open, so `generic` does not assume it: choose
  `--cni aws-vpc-cni` to see its effect.

`generic` is the conservative union for `check`: wherever the API leaves the behaviour open, a flow that
some implementation allows counts as allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from netverify.model.addresses import IPRange, parse_cidr
from netverify.model.peers import ByIdentity, EndpointPeer
from netverify.model.policy import FAILSAFE_RANK, Action, Policy, Rule, Tier
from netverify.model.services import AnyService
from netverify.model.source import SourceRef
from netverify.model.workloads import PodGroup

# Where pods whose address the manifests do not give may live, by default: private address space. Pod IPs
# come from the VPC (RFC 1918 or CGNAT) on EKS and from private pools on overlay CNIs.
DEFAULT_POD_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")


def pod_ranges(cidrs: tuple[str, ...] | list[str] | None) -> tuple[IPRange, ...]:
    """`None` -> the default private space; `()` -> pods without a known address match no CIDR."""
    return tuple(parse_cidr(c) for c in (DEFAULT_POD_CIDRS if cidrs is None else cidrs))


@dataclass(frozen=True, slots=True)
class Profile:
    """What one CNI does where the spec is silent. Construct with keywords: fields are added over time."""

    name: str
    description: str
    ipblock_matches_pod_ips: bool  # does a Kubernetes ipBlock also match traffic of pods whose IP is inside it?
    host_network_enforced: bool = False  # do policies select hostNetwork pods as the endpoints they guard?
    host_network_selectable: bool = False  # do pod/namespace selectors of rule peers match hostNetwork pods?
    ipblock_matches_host_network: bool = True  # does an ipBlock match a hostNetwork pod (the node's address)?
    node_local_always_allowed: bool = True  # may a hostNetwork pod reach every pod (on its node) whatever policy says?
    standalone_pods_enforced: bool = True  # is policy applied to pods without ownerReferences?


PROFILES: dict[str, Profile] = {
    "generic": Profile(
        name="generic",
        description="conservative: a flow that some implementation allows counts as allowed (ipBlock matches "
        "pod IPs; hostNetwork pods are never guarded, match selectors and ipBlocks, and reach every pod)",
        ipblock_matches_pod_ips=True,
        host_network_selectable=True,
    ),
    "calico": Profile(
        name="calico",
        description="Calico: ipBlock becomes `nets` and matches pod IPs too; hostNetwork pods are host "
        "traffic: no policy guards them, only `nets` on the node address matches them, and the host always "
        "reaches its own workloads",
        ipblock_matches_pod_ips=True,
    ),
    "cilium": Profile(
        name="cilium",
        description="Cilium: ipBlock applies only to traffic from outside the cluster; hostNetwork pods have "
        "the host identity: no policy guards them, neither selectors nor CIDRs match them, and the local host "
        "always reaches its endpoints",
        ipblock_matches_pod_ips=False,
        ipblock_matches_host_network=False,
    ),
    "aws-vpc-cni": Profile(
        name="aws-vpc-cni",
        description="AWS VPC CNI network policy agent: ipBlock matches pod and node IPs; hostNetwork pods and "
        "pods without ownerReferences are not guarded; traffic from the node is subject to policy",
        ipblock_matches_pod_ips=True,
        node_local_always_allowed=False,
        standalone_pods_enforced=False,
    ),
}

# The stage of CNI built-ins, before every tier (and before Felix's failsafe stage of host endpoints).
CNI_RANK = FAILSAFE_RANK - 1


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown CNI profile {name!r}: expected one of {', '.join(PROFILES)}") from None


def built_in_policies(profile: Profile, groups: list[PodGroup]) -> list[Policy]:
    """Policies the CNI itself enforces before any user policy, so explain can name them.

    Node-local traffic: a hostNetwork pod speaks with its node's address, and traffic from a pod's own
    node is always allowed; without a placement model any pod may share its node, so its ingress admits
    every hostNetwork pod. The tier passes everything else on, so it changes nothing for other traffic.
    """
    host_network = frozenset(g.id for g in groups if g.host_network and not g.is_host_endpoint)
    if not host_network or not profile.node_local_always_allowed:
        return []
    source = SourceRef(f"--cni {profile.name}", 0)
    rule = Rule(Action.ALLOW, ByIdentity(host_network), AnyService(), source, "from hostNetwork pods")
    return [
        Policy(
            kind="CNI",
            name="node-local traffic",
            namespace=None,
            tier=Tier("node-local", 0.0, Action.PASS, CNI_RANK),
            order=0.0,
            applies_to=EndpointPeer(),
            ingress=(rule,),
            egress=None,
            source=source,
        )
    ]
