"""What a rule matches on the other side of a flow (its peer), for every policy kind.

Peers are an expression tree over two kinds of things: known endpoints (pods, Calico host endpoints,
network sets, later load balancers) and raw IP addresses. The compile stage turns each tree into a bitset
over endpoint classes and IP atoms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from netverify.model.addresses import IPRange
from netverify.model.hash_once import hash_once, hash_slot
from netverify.model.selectors import MatchAll, Selector


class PeerMatch:
    """Base of the peer-match tree."""

    __slots__ = ()


class SetScope(Enum):
    """Which labelled network sets a label-based peer also matches (Calico selectors match sets too)."""

    NONE = "none"  # pods only (Kubernetes NetworkPolicy, AdminNetworkPolicy)
    IN_SCOPE = "in-scope"  # pods and network sets within the peer's namespace scope (Calico)
    GLOBAL = "global"  # only non-namespaced things (GlobalNetworkSets, host endpoints in scope)


class EndpointScope(Enum):
    """Which kinds of endpoint a label-based match can see.

    Kubernetes NetworkPolicy and AdminNetworkPolicy select pods only (a converted Kubernetes policy
    requires `projectcalico.org/orchestrator == 'k8s'`, which a host endpoint lacks); Calico selectors
    see host endpoints too, and preDNAT/doNotTrack policies and Felix's failsafe rules apply to host
    endpoints only.
    """

    PODS = "pods"
    PODS_AND_HOSTS = "pods+hosts"
    HOSTS = "hosts"


@dataclass(frozen=True, slots=True)
class AnyPeer(PeerMatch):
    """Every endpoint and every address, inside the cluster or not."""


@hash_once
@dataclass(frozen=True, slots=True)
class EndpointPeer(PeerMatch):
    """Known endpoints chosen by labels.

    `namespace` pins one namespace (a Kubernetes podSelector-only peer); otherwise `namespace_selector`
    chooses namespaces by their labels; with neither, every namespace is in scope. Calico adds service
    accounts (names and/or a selector over the account's labels), labelled network sets, and host
    endpoints (`endpoints`). A host endpoint is not namespaced: a pinned namespace never matches it, and a
    namespace selector sees it as having no namespace labels (`all()` false, `global()` true), as Calico's
    rewrite of namespace selectors into `pcns.`-prefixed endpoint labels does.
    """

    selector: Selector = MatchAll()
    namespace: str | None = None
    namespace_selector: Selector | None = None
    service_account_names: frozenset[str] | None = None
    service_account_selector: Selector | None = None
    sets: SetScope = SetScope.NONE
    endpoints: EndpointScope = EndpointScope.PODS
    _hash: int | None = hash_slot()


@dataclass(frozen=True, slots=True)
class ByIdentity(PeerMatch):
    """Endpoints named by id (`PodGroup.id`), e.g. the host endpoints that list a Calico profile.

    Labels cannot express "lists this profile", so the compile stage keeps every named endpoint in an
    endpoint class of its own and matches it exactly.
    """

    ids: frozenset[str]


class PodIPMatching(Enum):
    """Whether an address-based peer also matches pods whose IP lies inside it (implementation-defined)."""

    ALWAYS = "always"  # Calico nets, AdminNetworkPolicy networks
    NEVER = "never"
    BY_PROFILE = "profile"  # Kubernetes ipBlock: the --cni profile decides


@hash_once
@dataclass(frozen=True, slots=True)
class NetPeer(PeerMatch):
    """Addresses inside `ranges` (already minus any `except`)."""

    ranges: tuple[IPRange, ...]
    pod_ips: PodIPMatching = PodIPMatching.BY_PROFILE
    _hash: int | None = hash_slot()


@hash_once
@dataclass(frozen=True, slots=True)
class NodePeer(PeerMatch):
    """The addresses of the Nodes whose labels match (AdminNetworkPolicy `nodes`)."""

    selector: Selector
    _hash: int | None = hash_slot()


@hash_once
@dataclass(frozen=True, slots=True)
class PeerUnion(PeerMatch):
    terms: tuple[PeerMatch, ...]
    _hash: int | None = hash_slot()


@hash_once
@dataclass(frozen=True, slots=True)
class PeerIntersection(PeerMatch):
    terms: tuple[PeerMatch, ...]
    _hash: int | None = hash_slot()


@hash_once
@dataclass(frozen=True, slots=True)
class PeerComplement(PeerMatch):
    term: PeerMatch
    _hash: int | None = hash_slot()


NO_PEER = PeerUnion(())


def walk_peer(peer: PeerMatch) -> Iterator[PeerMatch]:
    """Every node of a peer tree, the root first."""
    yield peer
    if isinstance(peer, (PeerUnion, PeerIntersection)):
        for term in peer.terms:
            yield from walk_peer(term)
    elif isinstance(peer, PeerComplement):
        yield from walk_peer(peer.term)
