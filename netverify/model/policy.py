"""Ordered policy semantics shared by every kind.

Kubernetes NetworkPolicy, AdminNetworkPolicy and Calico policies all become `Policy` objects in `Tier`s;
the engine evaluates tiers by (order, name), policies by (order, name), rules in written order: the first
Allow/Deny decides, Pass leaves the tier, Log goes on, and a tier that selected the endpoint and decided
nothing applies its default action. The Kubernetes union-of-allows is the special case of one Deny-default
tier of Allow rules.
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


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    order: float = math.inf
    default_action: Action = Action.DENY  # DENY or PASS

    @property
    def sort_key(self) -> tuple[float, str]:
        return (self.order, self.name)


KUBE_ADMIN_TIER = Tier("kube-admin", 1_000.0, Action.PASS)
DEFAULT_TIER = Tier("default", 1_000_000.0, Action.DENY)
KUBE_BASELINE_TIER = Tier("kube-baseline", 10_000_000.0, Action.PASS)

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
    def sort_key(self) -> tuple[float, str, float, str]:
        return (self.tier.order, self.tier.name, self.order, self.name)

    def rules(self, direction: Direction) -> tuple[Rule, ...] | None:
        return self.ingress if direction is Direction.INGRESS else self.egress
