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
)
from netverify.model.workloads import Namespace


class PeerSpace:
    """Index space [0, classes) for endpoint classes and [classes, classes + atoms) for IP atoms."""

    def __init__(
        self,
        classes: list[EndpointClass],
        namespaces: dict[str, Namespace],
        atoms: IPAtoms,
        profile: Profile,
    ):
        self.classes = classes
        self.atoms = atoms
        self.profile = profile
        self.n_classes = len(classes)
        self.n_atoms = len(atoms)
        self.size = self.n_classes + self.n_atoms
        self.class_labels = LabelTable([c.labels for c in classes])
        self.namespace_names = sorted(namespaces)
        self._namespace_index = {name: i for i, name in enumerate(self.namespace_names)}
        self.namespace_labels = LabelTable([namespaces[n].labels for n in self.namespace_names])
        self.class_namespace = np.array(
            [self._namespace_index.get(c.namespace, -1) for c in classes], dtype=np.int64
        )
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
            chosen = self.class_labels.evaluate(peer.selector).copy()
            if peer.namespace is not None:
                chosen &= self.in_namespace(peer.namespace)
            elif peer.namespace_selector is not None:
                namespaces = self.namespace_labels.evaluate(peer.namespace_selector)
                known = self.class_namespace >= 0
                in_selected = np.zeros(self.n_classes, dtype=bool)
                in_selected[known] = namespaces[self.class_namespace[known]]
                chosen &= in_selected
            result[: self.n_classes] = chosen
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

    def _matches_pod_ips(self, peer: NetPeer) -> bool:
        if peer.pod_ips is PodIPMatching.ALWAYS:
            return True
        if peer.pod_ips is PodIPMatching.NEVER:
            return False
        return self.profile.ipblock_matches_pod_ips
