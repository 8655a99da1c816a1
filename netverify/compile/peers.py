"""Peer-match trees -> boolean masks over the peer space (endpoint classes, then IP atoms)."""

from __future__ import annotations

import numpy as np

from netverify.compile.classes import EndpointClass
from netverify.compile.ip_atoms import IPAtoms
from netverify.compile.labels import LabelTable
from netverify.compile.profiles import Profile
from netverify.model.peers import (
    AnyPeer,
    EndpointPeer,
    NetPeer,
    PeerComplement,
    PeerIntersection,
    PeerMatch,
    PeerUnion,
    PodIPMatching,
    SetScope,
)
from netverify.model.selectors import MatchGlobal
from netverify.model.workloads import Namespace, NetworkSet

# Labels Calico puts on every workload endpoint, service account and namespace; selectors may use them.
CALICO_NAMESPACE = "projectcalico.org/namespace"
CALICO_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
CALICO_ORCHESTRATOR = "projectcalico.org/orchestrator"
CALICO_NAME = "projectcalico.org/name"


def endpoint_labels(cls: EndpointClass) -> dict[str, str]:
    return {
        **cls.labels,
        CALICO_NAMESPACE: cls.namespace,
        CALICO_SERVICE_ACCOUNT: cls.service_account,
        CALICO_ORCHESTRATOR: "k8s",
    }


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
    ):
        self.classes = classes
        self.atoms = atoms
        self.profile = profile
        self.n_classes = len(classes)
        self.n_atoms = len(atoms)
        self.size = self.n_classes + self.n_atoms
        self.class_labels = LabelTable([endpoint_labels(c) for c in classes])
        accounts = service_accounts or {}
        self.account_labels = LabelTable(
            [{**accounts.get((c.namespace, c.service_account), {}), CALICO_NAME: c.service_account} for c in classes]
        )
        self.class_account = np.array([c.service_account for c in classes], dtype=object)
        self.namespace_names = sorted(namespaces)
        self._namespace_index = {name: i for i, name in enumerate(self.namespace_names)}
        self.namespace_labels = LabelTable(
            [{**namespaces[n].labels, CALICO_NAME: n} for n in self.namespace_names]
        )
        self.class_namespace = np.array(
            [self._namespace_index.get(c.namespace, -1) for c in classes], dtype=np.int64
        )
        self.sets = list(network_sets or [])
        self.set_labels = LabelTable([s.labels for s in self.sets])
        self.set_namespace = np.array(
            [self._namespace_index.get(s.namespace, -1) if s.namespace else -1 for s in self.sets], dtype=np.int64
        )
        self.set_is_global = np.array([s.namespace is None for s in self.sets], dtype=bool)
        self._cache: dict[PeerMatch, np.ndarray] = {}

    def in_namespace(self, namespace: str) -> np.ndarray:
        return self.class_namespace == self._namespace_index.get(namespace, -2)

    def mask(self, peer: PeerMatch) -> np.ndarray:
        """Boolean mask over the whole peer space (cached; do not modify the result)."""
        found = self._cache.get(peer)
        if found is None:
            found = self._mask(peer)
            found.setflags(write=False)
            self._cache[peer] = found
        return found

    def _mask(self, peer: PeerMatch) -> np.ndarray:
        result = np.zeros(self.size, dtype=bool)
        if isinstance(peer, AnyPeer):
            result[:] = True
        elif isinstance(peer, EndpointPeer):
            result = self._endpoint_mask(peer)
        elif isinstance(peer, NetPeer):
            covered = self.atoms.covered(peer.ranges)
            result[[self.n_classes + a for a in covered]] = True
            if self._matches_pod_ips(peer):
                covered_set = set(covered)
                for i, cls in enumerate(self.classes):
                    if any(a in covered_set for a in cls.ip_atoms):
                        result[i] = True
        elif isinstance(peer, PeerUnion):
            for term in peer.terms:
                result |= self.mask(term)
        elif isinstance(peer, PeerIntersection):
            result[:] = True
            for term in peer.terms:
                result &= self.mask(term)
        elif isinstance(peer, PeerComplement):
            result = ~self.mask(peer.term)
        else:
            raise TypeError(f"unsupported peer node {type(peer).__name__}")
        return result

    def _endpoint_mask(self, peer: EndpointPeer) -> np.ndarray:
        result = np.zeros(self.size, dtype=bool)
        global_only = peer.sets is SetScope.GLOBAL or isinstance(peer.namespace_selector, MatchGlobal)
        if not global_only:
            chosen = self.class_labels.evaluate(peer.selector).copy()
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
        elif peer.namespace is not None:
            chosen_sets &= self.set_namespace == self._namespace_index.get(peer.namespace, -2)
        elif peer.namespace_selector is not None:
            chosen_sets &= self._in_selected_namespaces(self.set_namespace, peer)
        for index in np.flatnonzero(chosen_sets):
            result |= self.mask(NetPeer(self.sets[index].ranges, PodIPMatching.ALWAYS))
        return result

    def _in_selected_namespaces(self, owner_namespace: np.ndarray, peer: EndpointPeer) -> np.ndarray:
        assert peer.namespace_selector is not None
        namespaces = self.namespace_labels.evaluate(peer.namespace_selector)
        known = owner_namespace >= 0
        selected = np.zeros(len(owner_namespace), dtype=bool)
        selected[known] = namespaces[owner_namespace[known]]
        return selected

    def _matches_pod_ips(self, peer: NetPeer) -> bool:
        if peer.pod_ips is PodIPMatching.ALWAYS:
            return True
        if peer.pod_ips is PodIPMatching.NEVER:
            return False
        return self.profile.ipblock_matches_pod_ips
