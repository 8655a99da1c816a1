"""Ordered policy semantics shared by every kind.

Kubernetes NetworkPolicy, AdminNetworkPolicy and Calico policies all become `Policy` objects in `Tier`s;
the engine evaluates tiers by (rank, order, name), policies by (order, name), rules in written order: the
first Allow/Deny decides, Pass leaves the tier, Log goes on, and a tier that selected the endpoint and
decided nothing applies its default action. What no tier decided gets the endpoint's final default (allow
for pods, deny for Calico host endpoints). The Kubernetes union-of-allows is the special case of one
Deny-default tier of Allow rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from netverify.model.peers import PeerMatch
from netverify.model.services import ServiceMatch
from netverify.model.source import SourceRef


class Action(Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"
    LOG = "Log"


class Direction(Enum):
    INGRESS = "ingress"
    EGRESS = "egress"


# Tier ranks: stages of evaluation that come before or after every user tier, whatever its order.
# Felix runs, for a host endpoint, failsafe rules first, then untracked (doNotTrack) policy in the raw
# table, then preDNAT policy in the mangle table, then normal policy, then the endpoint's profiles.
FAILSAFE_RANK = -3
UNTRACKED_RANK = -2
PRE_DNAT_RANK = -1
NORMAL_RANK = 0
PROFILE_RANK = 1
HOST_ONLY_RANKS = (UNTRACKED_RANK, PRE_DNAT_RANK)  # stages that exist for host endpoints only


@dataclass(frozen=True, slots=True)
class Tier:
    """An ordered group of policies; `rank` places built-in stages before/after all user tiers."""

    name: str
    order: float = math.inf
    default_action: Action = Action.DENY  # DENY or PASS
    rank: int = NORMAL_RANK

    @property
    def sort_key(self) -> tuple[int, float, str]:
        return (self.rank, self.order, self.name)


KUBE_ADMIN_TIER = Tier("kube-admin", 1_000.0, Action.PASS)
DEFAULT_TIER = Tier("default", 1_000_000.0, Action.DENY)
KUBE_BASELINE_TIER = Tier("kube-baseline", 10_000_000.0, Action.PASS)
# Felix's failsafe rules: always first, for host endpoints only; what they do not allow goes on.
FAILSAFE_TIER = Tier("failsafe", 0.0, Action.PASS, FAILSAFE_RANK)
PROFILE_TIER_NAME = "profiles"


def profile_tier(position: int) -> Tier:
    """The stage of an endpoint's `position`-th profile.

    One tier per position, so every endpoint meets its profiles in its own listed order; default Pass,
    because a profile that does not match hands the packet to the next one (the endpoint's final
    default drops what no profile decided).
    """
    return Tier(PROFILE_TIER_NAME, float(position), Action.PASS, PROFILE_RANK)

KUBERNETES_POLICY_ORDER = 1000.0  # Calico's order for converted Kubernetes NetworkPolicies


@dataclass(frozen=True, slots=True)
class Rule:
    """One ordered rule: if the peer and the service match, `action` happens.

    `target` optionally narrows which of the policy's own endpoints the rule applies to (a Calico ingress
    rule's `destination` selector or nets, an egress rule's `source`); None means all of them.
    """

    action: Action
    peer: PeerMatch
    service: ServiceMatch
    source: SourceRef
    name: str  # where in the policy, e.g. "ingress[0]"
    target: PeerMatch | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy of any kind, normalised.

    `applies_to` chooses the endpoints it guards (only its endpoint part matters). `ingress`/`egress`
    None means the policy does not act in that direction; an empty tuple means it isolates without
    allowing anything.
    """

    kind: str
    name: str  # display name: "namespace/name" for namespaced kinds
    namespace: str | None
    tier: Tier
    order: float
    applies_to: PeerMatch
    ingress: tuple[Rule, ...] | None
    egress: tuple[Rule, ...] | None
    source: SourceRef
    annotations: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[int, float, str, float, str]:
        return (*self.tier.sort_key, self.order, self.name)

    def rules(self, direction: Direction) -> tuple[Rule, ...] | None:
        return self.ingress if direction is Direction.INGRESS else self.egress


@dataclass(frozen=True, slots=True)
class EndpointProfile:
    """A Calico Profile: rules evaluated after every tier for the endpoints that list it, plus labels.

    `labels_to_apply` are added to every endpoint that lists the profile (its own labels win).
    """

    name: str
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    labels_to_apply: dict[str, str]
    source: SourceRef
