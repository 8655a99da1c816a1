"""Which rules let a flow through: the deciding rule on each side and every rule behind it that would
allow the flow if the ones before it were fixed."""

from __future__ import annotations

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.policy import Action
from netverify.verify.explain import Decision, trace_direction, trace_flow
from netverify.verify.results import AllowedBy

MAX_EXPLAINED_ATOMS = 16


def explain_allowed(matrix: ConnectivityMatrix, src: Endpoint, dst: Endpoint, conn: ConnSet) -> list[AllowedBy]:
    """The rules (or defaults) that allowed `conn` from src to dst, on both sides, without repeats; src may be
    an external endpoint (then only the destination's ingress decides).

    Not only the rule that decided: also every rule that would allow the flow if the ones before it were
    fixed (the same trace without their policies), so that fixing the reported rule is not a surprise.
    """
    assert dst.class_index is not None
    compiled = matrix.compiled
    atoms = np.flatnonzero(compiled.services.unpack(conn.words))[:MAX_EXPLAINED_ATOMS]
    found: dict[tuple, AllowedBy] = {}
    source = ("class", src.class_index) if src.class_index is not None else ("atom", src.atoms[0])
    src_peer = src.class_index if src.class_index is not None else matrix.n_classes + src.atoms[0]
    for atom in atoms:
        flow = trace_flow(compiled, source, ("class", dst.class_index), int(atom))
        sides = ((flow.egress, src_peer, dst.class_index), (flow.ingress, dst.class_index, src_peer))
        for trace, target, peer in sides:
            if trace is None:
                continue
            direction = trace.direction.value
            decision = trace.deciding
            if decision is None or decision.step != "rule" or decision.action is not Action.ALLOW:
                last = trace.decisions[-1].detail if trace.decisions else "allowed by default"
                found.setdefault((direction, "default"), AllowedBy(direction, "default", None, last, None, None))
                continue
            ignored: set[int] = set()
            while decision is not None and decision.step == "rule" and decision.action is Action.ALLOW:
                _record_rule(matrix, found, direction, decision, peer)
                assert decision.policy_index is not None
                ignored.add(decision.policy_index)
                again = trace_direction(
                    compiled, trace.direction, target, peer, int(atom), frozenset(ignored), details=False
                )
                decision = again.deciding if again.allowed else None
    return list(found.values())


def _record_rule(
    matrix: ConnectivityMatrix, found: dict[tuple, AllowedBy], direction: str, decision: Decision, peer: int
) -> None:
    """`peer`: the other end's index in the peer space (a class, or n_classes + an IP atom)."""
    assert decision.policy is not None and decision.rule is not None
    key = (direction, decision.policy.kind, decision.policy.name, decision.rule.name)
    if key in found:
        return
    found[key] = AllowedBy(
        direction,
        decision.policy.kind,
        decision.policy.name,
        decision.rule.name,
        decision.rule.source.file,
        decision.rule.source.line,
        uncertain=not matrix.compiled.peers.mask(decision.rule.peer, possible=False)[peer],
    )
