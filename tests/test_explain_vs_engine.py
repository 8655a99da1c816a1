"""Property: the explanation trace reaches the same verdict as the numba kernel, for every bit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from test_engine_vs_reference import clusters

import netverify
from netverify.model.policy import Direction
from netverify.verify.explain import trace_direction


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(clusters())
def test_trace_verdict_equals_kernel_verdict(manifests):
    m = netverify.analyze(manifests, cni="calico")  # conservative default: possible matches for Allow rules
    compiled = m.compiled
    space = compiled.services
    for direction, table in ((Direction.INGRESS, m.ingress), (Direction.EGRESS, None)):
        for target in range(compiled.n_classes):
            for peer in range(compiled.peers.size):
                if table is not None:
                    bits = space.unpack(table[target, peer])
                elif peer < compiled.n_classes:
                    continue  # combined rows mix both directions; egress alone is checked on IP atoms
                else:
                    bits = space.unpack(m.pod_rows[target, peer])
                for atom in np.flatnonzero(bits)[:8].tolist() + np.flatnonzero(~bits)[:8].tolist():
                    verdict = trace_direction(compiled, direction, target, peer, atom).allowed
                    assert verdict == bool(bits[atom]), (direction, target, peer, atom)
