"""In-source suppressions: a policy annotated `netverify.io/allow-cross-tenant: "<reason>"` declares that
the cross-tenant flows it opens are intended.

A violation is suppressed only where the annotated policies are what opens it: on the egress or the
ingress side, the flow is allowed with them and denied without their rules (their selection, i.e. the
isolation they impose, still counts). A flow that some other policy or the endpoint's default also
allows is not theirs to excuse, so it still fails the check. The test is made per service atom, so a
violation can be split into a suppressed part and a part that still fails.
"""

from __future__ import annotations

import numpy as np

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix
from netverify.load.annotations import ALLOW_CROSS_TENANT
from netverify.model.policy import Direction, Policy
from netverify.verify.allowed_by import explain_allowed
from netverify.verify.explain import trace_direction
from netverify.verify.results import Suppression, Violation


def annotated_policies(policies: list[Policy]) -> frozenset[int]:
    return frozenset(i for i, policy in enumerate(policies) if ALLOW_CROSS_TENANT in policy.annotations)


def _targets_with(tables, annotated: frozenset[int], n_classes: int) -> np.ndarray:
    """Which target classes an annotated policy applies to (the others need no trace at all)."""
    found = np.zeros(n_classes, dtype=bool)
    for index in annotated:
        found[tables.policy_targets[index]] = True
    return found


def suppress_annotated(
    matrix: ConnectivityMatrix, violations: list[Violation]
) -> tuple[list[Violation], list[Violation]]:
    """(violations that still fail, suppressed violations with the annotations' reasons)."""
    compiled = matrix.compiled
    sides = []
    for direction in (Direction.EGRESS, Direction.INGRESS):
        tables = compiled.tables(direction)
        annotated = annotated_policies(tables.policies)
        if annotated:
            sides.append((direction, annotated, _targets_with(tables, annotated, compiled.n_classes)))
    if not sides:
        return violations, []
    failing: list[Violation] = []
    suppressed: list[Violation] = []
    space = compiled.services
    for violation in violations:
        if not _between_pods(violation):
            failing.append(violation)  # exposure or configuration violations: not this annotation's to excuse
            continue
        src, dst = violation.src.class_index, violation.dst.class_index
        excused = np.zeros(space.size, dtype=bool)
        reasons: dict[str, Suppression] = {}
        for atom in np.flatnonzero(space.unpack(violation.conn.words)):
            for direction, annotated, reachable in sides:
                target, peer = (src, dst) if direction is Direction.EGRESS else (dst, src)
                if not reachable[target]:
                    continue
                if trace_direction(compiled, direction, target, peer, int(atom), ignore=annotated).allowed:
                    continue
                excused[atom] = True
                for decision in trace_direction(compiled, direction, target, peer, int(atom)).decisions:
                    policy = decision.policy
                    if policy is not None and ALLOW_CROSS_TENANT in policy.annotations:
                        reasons.setdefault(
                            policy.name,
                            Suppression(
                                "annotation",
                                f"{policy.kind} {policy.name}: {policy.annotations[ALLOW_CROSS_TENANT].strip()}",
                                policy.source.file,
                                policy.source.line,
                            ),
                        )
                break
        if not excused.any():
            failing.append(violation)
            continue
        words = space.pack(excused)
        rest = violation.conn.words & ~words
        if rest.any():
            failing.append(_part(matrix, violation, rest, []))
        suppressed.append(_part(matrix, violation, violation.conn.words & words, list(reasons.values())))
    return failing, suppressed


def _between_pods(violation) -> bool:
    """A cross-tenant flow between two pods (other violations carry no src/dst, or an external src)."""
    src, dst = getattr(violation, "src", None), getattr(violation, "dst", None)
    return (
        violation.rule == "cross-tenant-flow"
        and src is not None
        and dst is not None
        and src.class_index is not None
        and dst.class_index is not None
    )


def _part(matrix: ConnectivityMatrix, violation: Violation, words: np.ndarray, why: list[Suppression]) -> Violation:
    """The violation restricted to some services, with what allowed exactly those."""
    conn = ConnSet(words, violation.conn.space)
    allowed = explain_allowed(matrix, violation.src, violation.dst, conn)
    return Violation(
        violation.rule, violation.src, violation.dst, conn, violation.src_tenant, violation.dst_tenant, allowed, why
    )
