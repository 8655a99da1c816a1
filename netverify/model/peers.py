"""What a rule matches on the other side of a flow (its peer), for every policy kind.

Peers are an expression tree over two kinds of things: known endpoints (pods, later network sets and
load balancers) and raw IP addresses. The compile stage turns each tree into a bitset over endpoint
classes and IP atoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from netverify.model.addresses import IPRange
from netverify.model.selectors import MatchAll, Selector


class PeerMatch:
    """Base of the peer-match tree."""

    __slots__ = ()


class SetScope(Enum):
    """Which labelled network sets a label-based peer also matches (Calico selectors match sets too)."""

    NONE = "none"  # pods only (Kubernetes NetworkPolicy, AdminNetworkPolicy)
    IN_SCOPE = "in-scope"  # pods and network sets within the peer's namespace scope (Calico)
    GLOBAL = "global"  # only GlobalNetworkSets: Calico `namespaceSelector: global()`


@dataclass(frozen=True, slots=True)
class AnyPeer(PeerMatch):
    """Every endpoint and every address, inside the cluster or not."""


@dataclass(frozen=True, slots=True)
class EndpointPeer(PeerMatch):
    """Known endpoints chosen by labels.

    `namespace` pins one namespace (a Kubernetes podSelector-only peer); otherwise `namespace_selector`
    chooses namespaces by their labels; with neither, every namespace is in scope. Calico adds service
    accounts (names and/or a selector over the account's labels) and labelled network sets.
    """

    selector: Selector = MatchAll()
    namespace: str | None = None
    namespace_selector: Selector | None = None
    service_account_names: frozenset[str] | None = None
    service_account_selector: Selector | None = None
    sets: SetScope = SetScope.NONE


class PodIPMatching(Enum):
    """Whether an address-based peer also matches pods whose IP lies inside it (implementation-defined)."""

    ALWAYS = "always"  # Calico nets, AdminNetworkPolicy networks
    NEVER = "never"
    BY_PROFILE = "profile"  # Kubernetes ipBlock: the --cni profile decides


@dataclass(frozen=True, slots=True)
class NetPeer(PeerMatch):
    """Addresses inside `ranges` (already minus any `except`)."""

    ranges: tuple[IPRange, ...]
    pod_ips: PodIPMatching = PodIPMatching.BY_PROFILE


@dataclass(frozen=True, slots=True)
class PeerUnion(PeerMatch):
    terms: tuple[PeerMatch, ...]


@dataclass(frozen=True, slots=True)
class PeerIntersection(PeerMatch):
    terms: tuple[PeerMatch, ...]


@dataclass(frozen=True, slots=True)
class PeerComplement(PeerMatch):
    term: PeerMatch


NO_PEER = PeerUnion(())
