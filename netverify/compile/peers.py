"""Peer-match trees -> boolean masks over the peer space (endpoint classes, then IP atoms).

Endpoint classes are pods and workloads (namespaced) and Calico host endpoints (not namespaced). Which of
them a label-based peer can see is the peer's `endpoints` scope; how a namespace selector treats a thing
without a namespace (a host endpoint, a GlobalNetworkSet) follows Calico: it sees no namespace labels, so
`all()` is false, `global()` true, and `!has(k)` true.
"""

from __future__ import annotations

import numpy as np

from netverify.compile.classes import EndpointClass
from netverify.compile.ip_atoms import IPAtoms
from netverify.compile.labels import LabelTable
from netverify.compile.profiles import Profile, pod_ranges
from netverify.model.addresses import IPRange, subtract
from netverify.model.peers import (
    AnyPeer,
    ByIdentity,
    EndpointPeer,
    EndpointScope,
    NetPeer,
    NodePeer,
    PeerComplement,
    PeerIntersection,
    PeerMatch,
    PeerUnion,
    PodIPMatching,
    SetScope,
)
from netverify.model.selectors import And, MatchAll, MatchGlobal, Not, Or, Selector
from netverify.model.workloads import Namespace, NetworkSet, Node

# Labels Calico puts on every workload endpoint, service account and namespace; selectors may use them.
CALICO_NAMESPACE = "projectcalico.org/namespace"
CALICO_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
CALICO_ORCHESTRATOR = "projectcalico.org/orchestrator"
CALICO_NAME = "projectcalico.org/name"


NOT_NAMESPACED = -1  # namespace index of things without a namespace (host endpoints, global sets)
UNKNOWN_NAMESPACE = -2  # a namespace no Namespace object (explicit or implicit) describes
_NO_SUCH_NAMESPACE = -3  # lookup default that matches neither of the above


def endpoint_labels(cls: EndpointClass) -> dict[str, str]:
    """What selectors see: a pod's labels plus Calico's pseudo-labels; a host endpoint's labels alone."""
    if cls.namespace is None:
        return dict(cls.labels)
    return {
        **cls.labels,
        CALICO_NAMESPACE: cls.namespace,
        CALICO_SERVICE_ACCOUNT: cls.service_account or "",
        CALICO_ORCHESTRATOR: "k8s",
    }


def set_labels(network_set: NetworkSet) -> dict[str, str]:
    """A network set's labels as selectors see them: a namespaced set also carries its namespace."""
    if network_set.namespace is None:
        return dict(network_set.labels)
    return {**network_set.labels, CALICO_NAMESPACE: network_set.namespace}


def namespaced_view(selector: Selector) -> Selector:
    """The selector as evaluated on a namespace's labels: `global()` there matches nothing."""
    if isinstance(selector, MatchGlobal):
        return Or(())
    if isinstance(selector, Not):
        return Not(namespaced_view(selector.operand))
    if isinstance(selector, And):
        return And(tuple(namespaced_view(op) for op in selector.operands))
    if isinstance(selector, Or):
        return Or(tuple(namespaced_view(op) for op in selector.operands))
    return selector


def matches_without_namespace(selector: Selector) -> bool:
    """Does a namespace selector accept a thing with no namespace (no namespace labels at all)?"""
    if isinstance(selector, MatchAll):
        return False  # Calico rewrites all() to "is namespaced"
    if isinstance(selector, MatchGlobal):
        return True
    if isinstance(selector, Not):
        return not matches_without_namespace(selector.operand)
    if isinstance(selector, And):
        return all(matches_without_namespace(op) for op in selector.operands)
    if isinstance(selector, Or):
        return any(matches_without_namespace(op) for op in selector.operands)
    return selector.matches({})


class PeerSpace:
    """Index space [0, classes) for endpoint classes and [classes, classes + atoms) for IP atoms."""

    def __init__(
        self,
        classes: list[EndpointClass],
        namespaces: dict[str, Namespace],
        atoms: IPAtoms,
        profile: Profile,
        network_sets: list[NetworkSet] | None = None,
        service_accounts: dict[tuple[str, str], dict[str, str]] | None = None,
        unknown_address_space: tuple[IPRange, ...] = (),
        nodes: list[Node] | None = None,
    ):
        self.nodes = list(nodes or [])
        self.node_labels = LabelTable([n.labels for n in self.nodes])
        self.classes = classes
        # where endpoints whose address is unknown may be: address matches on them are uncertain
        self.unknown_space = unknown_address_space
        self.atoms = atoms
        self.profile = profile
        self.n_classes = len(classes)
        self.n_atoms = len(atoms)
        self.size = self.n_classes + self.n_atoms
        self.class_labels = LabelTable([endpoint_labels(c) for c in classes])
        accounts = service_accounts or {}
        self.account_labels = LabelTable([self._account_view(c, accounts) for c in classes])
        self.class_account = np.array([c.service_account for c in classes], dtype=object)
        self.class_is_host = np.array([c.host for c in classes], dtype=bool)
        self.namespace_names = sorted(namespaces)
        self._namespace_index = {name: i for i, name in enumerate(self.namespace_names)}
        self.namespace_labels = LabelTable(
            [{**namespaces[n].labels, CALICO_NAME: n} for n in self.namespace_names]
        )
        self.class_namespace = np.array([self._namespace_of(c.namespace) for c in classes], dtype=np.int64)
        self.sets = list(network_sets or [])
        self.set_labels = LabelTable([set_labels(s) for s in self.sets])
        self.set_namespace = np.array([self._namespace_of(s.namespace) for s in self.sets], dtype=np.int64)
        self.set_is_global = np.array([s.namespace is None for s in self.sets], dtype=bool)
        # classes with addresses: (index, IP atoms, is a host endpoint)
        self._addressed = [(i, c.ip_atoms, c.host) for i, c in enumerate(classes) if c.ip_atoms]
        self._unaddressed = np.array([not c.ip_atoms for c in classes], dtype=bool)
        self._unaddressed_pods = self._unaddressed & ~self.class_is_host
        # hostNetwork pods: the node's address, so one of the Node addresses, or anywhere private if the
        # input has no Nodes (--pod-cidr says where pods live, not nodes)
        self.class_host_network = np.array([c.host_network and not c.host for c in classes], dtype=bool)
        node_addresses = tuple(IPRange(f, a, a) for n in self.nodes for f, a in n.addresses)
        self.node_space = node_addresses or pod_ranges(None)
        # endpoints the CNI never guards: no policy applies to them, whatever its selector says
        self.unguarded = np.zeros(len(classes), dtype=bool)
        if not profile.host_network_enforced:
            self.unguarded |= self.class_host_network
        if not profile.standalone_pods_enforced:
            self.unguarded |= np.array([c.standalone for c in classes], dtype=bool)
        self._cache: dict[tuple[PeerMatch, bool], np.ndarray] = {}

    @staticmethod
    def _account_view(cls: EndpointClass, accounts: dict[tuple[str, str], dict[str, str]]) -> dict[str, str]:
        """What a serviceAccountSelector sees; an endpoint without an account sees no labels."""
        if cls.namespace is None or cls.service_account is None:
            return {}
        return {**accounts.get((cls.namespace, cls.service_account), {}), CALICO_NAME: cls.service_account}

    def _namespace_of(self, namespace: str | None) -> int:
        if namespace is None:
            return NOT_NAMESPACED
        return self._namespace_index.get(namespace, UNKNOWN_NAMESPACE)

    def in_namespace(self, namespace: str) -> np.ndarray:
        return self.class_namespace == self._namespace_index.get(namespace, _NO_SUCH_NAMESPACE)

    def mask(self, peer: PeerMatch, possible: bool = False) -> np.ndarray:
        """Boolean mask over the whole peer space (cached; do not modify the result).

        An endpoint whose address the input does not give may or may not be inside a CIDR: `possible=False`
        counts only certain matches (for Deny and Pass rules), `possible=True` every possible one (for Allow
        rules), so uncertainty always errs toward "allowed".
        """
        key = (peer, possible)
        found = self._cache.get(key)
        if found is None:
            found = self._mask(peer, possible)
            found.setflags(write=False)
            self._cache[key] = found
        return found

    def _uncertain_address_match(
        self, ranges: tuple[IPRange, ...], possible: bool, space: tuple[IPRange, ...] | None = None
    ) -> bool:
        """Does a CIDR match an endpoint whose address is only known to lie in `space` (default:
        `unknown_space`, where pods live)?"""
        space = self.unknown_space if space is None else space
        if not space:
            return False
        if possible:
            return any(r.overlaps(u) for r in ranges for u in space)
        return all(not subtract(u, list(ranges)) for u in space)

    def _mask(self, peer: PeerMatch, possible: bool) -> np.ndarray:
        result = np.zeros(self.size, dtype=bool)
        if isinstance(peer, AnyPeer):
            result[:] = True
        elif isinstance(peer, EndpointPeer):
            result = self._endpoint_mask(peer, possible)
        elif isinstance(peer, NetPeer):
            covered = self.atoms.covered(peer.ranges)
            result[[self.n_classes + a for a in covered]] = True
            pod_ips = self._matches_pod_ips(peer)
            node_ips = self._matches_host_network(peer)
            covered_set = set(covered)
            for i, ip_atoms, host in self._addressed:
                # a host endpoint's address is the host's, not a pod IP: every address match sees it
                sees = host or (node_ips if self.class_host_network[i] else pod_ips)
                if sees and any(a in covered_set for a in ip_atoms):
                    result[i] = True
            unaddressed = self._unaddressed & ~self.class_host_network
            if self._uncertain_address_match(peer.ranges, possible):
                result[: self.n_classes] |= unaddressed if pod_ips else unaddressed & self.class_is_host
            if node_ips and self._uncertain_address_match(peer.ranges, possible, self.node_space):
                result[: self.n_classes] |= self._unaddressed & self.class_host_network
        elif isinstance(peer, NodePeer):
            for index in np.flatnonzero(self.node_labels.evaluate(peer.selector)):
                addresses = self.nodes[index].addresses
                ranges = tuple(IPRange(family, address, address) for family, address in addresses)
                result |= self.mask(NetPeer(ranges, PodIPMatching.ALWAYS), possible)
        elif isinstance(peer, ByIdentity):
            for i, cls in enumerate(self.classes):
                result[i] = any(ident in peer.ids for ident in cls.ids)
        elif isinstance(peer, PeerUnion):
            for term in peer.terms:
                result |= self.mask(term, possible)
        elif isinstance(peer, PeerIntersection):
            result[:] = True
            for term in peer.terms:
                result &= self.mask(term, possible)
        elif isinstance(peer, PeerComplement):
            result = ~self.mask(peer.term, not possible)
        else:
            raise TypeError(f"unsupported peer node {type(peer).__name__}")
        return result

    def _eligible_classes(self, scope: EndpointScope) -> np.ndarray:
        if scope is EndpointScope.PODS:
            return ~self.class_is_host
        if scope is EndpointScope.HOSTS:
            return self.class_is_host.copy()
        return np.ones(self.n_classes, dtype=bool)

    def _endpoint_mask(self, peer: EndpointPeer, possible: bool = False) -> np.ndarray:
        result = np.zeros(self.size, dtype=bool)
        global_only = peer.sets is SetScope.GLOBAL
        chosen = self.class_labels.evaluate(peer.selector) & self._eligible_classes(peer.endpoints)
        if not self.profile.host_network_selectable:
            chosen &= ~self.class_host_network  # a hostNetwork pod is the node to this CNI, not a pod
        if global_only:
            chosen &= self.class_namespace == NOT_NAMESPACED
        if peer.namespace is not None:
            chosen &= self.in_namespace(peer.namespace)
        elif peer.namespace_selector is not None:
            chosen &= self._in_selected_namespaces(self.class_namespace, peer)
        if peer.service_account_names is not None:
            chosen &= np.isin(self.class_account, list(peer.service_account_names))
        if peer.service_account_selector is not None:
            chosen &= self.account_labels.evaluate(peer.service_account_selector)
        result[: self.n_classes] = chosen
        if peer.sets is SetScope.NONE or not self.sets:
            return result
        if peer.service_account_names is not None or peer.service_account_selector is not None:
            return result  # network sets have no service account
        chosen_sets = self.set_labels.evaluate(peer.selector).copy()
        if global_only:
            chosen_sets &= self.set_is_global
        if peer.namespace is not None:
            chosen_sets &= self.set_namespace == self._namespace_index.get(peer.namespace, _NO_SUCH_NAMESPACE)
        elif peer.namespace_selector is not None:
            chosen_sets &= self._in_selected_namespaces(self.set_namespace, peer)
        for index in np.flatnonzero(chosen_sets):
            result |= self.mask(NetPeer(self.sets[index].ranges, PodIPMatching.ALWAYS), possible)
        return result

    def _in_selected_namespaces(self, owner_namespace: np.ndarray, peer: EndpointPeer) -> np.ndarray:
        """Owners (classes or sets) whose namespace the peer's namespace selector accepts."""
        assert peer.namespace_selector is not None
        namespaces = self.namespace_labels.evaluate(namespaced_view(peer.namespace_selector))
        known = owner_namespace >= 0
        selected = np.zeros(len(owner_namespace), dtype=bool)
        selected[known] = namespaces[owner_namespace[known]]
        if matches_without_namespace(peer.namespace_selector):
            selected |= owner_namespace == NOT_NAMESPACED
        return selected

    def _matches_host_network(self, peer: NetPeer) -> bool:
        """Does this address match see hostNetwork pods (which use their node's address)?"""
        return _pod_ip_matching(peer, self.profile.ipblock_matches_host_network)

    def _matches_pod_ips(self, peer: NetPeer) -> bool:
        return _pod_ip_matching(peer, self.profile.ipblock_matches_pod_ips)


def _pod_ip_matching(peer: NetPeer, by_profile: bool) -> bool:
    """The peer's own rule for pod addresses, or the CNI profile's when the policy kind leaves it to the CNI."""
    if peer.pod_ips is PodIPMatching.ALWAYS:
        return True
    if peer.pod_ips is PodIPMatching.NEVER:
        return False
    return by_profile
