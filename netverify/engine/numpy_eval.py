"""The ordered verdicts of one direction in plain numpy: the kernels' semantics, one rule at a time.

Why a second path: importing numba and loading the cached machine code costs about 0.35 s of every run,
more than all the evaluation of a cluster of a few hundred workloads. Here each rule is applied to all the
targets of its policy at once (a block of targets x peers x service words), so the Python overhead is per
rule, not per target; for small clusters that is faster than starting numba, for large ones the kernels
win. The results are identical bit for bit (property-tested against the kernels on random clusters).

The same tables as `kernels.evaluate_targets`: policies in their global evaluation order, and each target
sees its own policies in that order; a tier ends for a target after the last of its consecutive policies
of that tier, where the parked (Pass) bits come back and the rest is denied (tier default Deny) or kept
undecided (tier default Pass). Undecided bits at the end follow the target's final default.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from netverify.compile.compiled import CompiledCluster
from netverify.compile.tables import FINAL_ALLOW, TIER_DENY, DirectionTables

ALLOW, DENY, PASS, LOG = 0, 1, 2, 3  # compile.tables.ACTION_CODES
_ONE = np.uint64(1)


def run_ends(tables: DirectionTables, n_classes: int) -> list[np.ndarray]:
    """For each policy, the targets for which it is the last of a run of same-tier policies."""
    order = tables.target_policy
    ends: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(tables.policies)
    if not len(order):
        return ends
    owner = np.repeat(np.arange(n_classes, dtype=np.int64), np.diff(tables.target_policy_ptr))
    tier = tables.policy_tier[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (owner[1:] != owner[:-1]) | (tier[1:] != tier[:-1])
    policies, targets = order[last], owner[last]
    by_policy = np.argsort(policies, kind="stable")
    policies, targets = policies[by_policy], targets[by_policy]
    bounds = np.searchsorted(policies, np.arange(len(tables.policies) + 1))
    return [targets[bounds[p] : bounds[p + 1]] for p in range(len(tables.policies))]


def named_masks(
    base: np.ndarray, classes: np.ndarray, symbols: np.ndarray, name_filter: np.ndarray, symbol_atom: np.ndarray
) -> np.ndarray:
    """One service mask per class: `base` plus the named ports the rule accepts as that class resolves them
    (through `name_filter`), minus those it excludes, applied in the rule's order like the kernel."""
    masks = np.empty((len(classes), len(base)), dtype=base.dtype)
    masks[:] = base
    for symbol in symbols.tolist():
        atoms = symbol_atom[symbol if symbol >= 0 else -1 - symbol, classes]
        rows = np.flatnonzero(atoms >= 0)
        if not len(rows):
            continue
        atoms = atoms[rows]
        word = atoms // 64
        bit = _ONE << (atoms % 64).astype(np.uint64)
        if symbol >= 0:
            masks[rows, word] |= bit & name_filter[word]
        else:
            masks[rows, word] &= ~bit
    return masks


def evaluate_direction_numpy(compiled: CompiledCluster, tables: DirectionTables, is_ingress: bool) -> np.ndarray:
    """(classes, peers, words) allowed-service bits of one direction, as `reachability.evaluate_direction`."""
    n_classes, n_peers, words = compiled.n_classes, compiled.peers.size, compiled.services.words
    full = np.asarray(compiled.services.full, dtype=np.uint64)
    allowed = np.zeros((n_classes, n_peers, words), dtype=np.uint64)
    direction = _Direction(compiled, tables, is_ingress, _NamedMasks(compiled))
    if _allow_only(tables):
        return _evaluate_allow_only(direction, allowed, full)
    undecided = np.empty_like(allowed)
    undecided[:] = full
    passed = np.zeros_like(allowed)
    ends = run_ends(tables, n_classes)
    for pol, targets in enumerate(tables.policy_targets):
        if len(targets):
            _apply_rules(direction, pol, targets, allowed, undecided, passed)
        finished = ends[pol]
        if len(finished):
            if tables.tier_default[tables.policy_tier[pol]] == TIER_DENY:
                undecided[finished] = passed[finished]
            else:
                undecided[finished] |= passed[finished]
            passed[finished] = 0
    allow_rest = np.flatnonzero(tables.target_default == FINAL_ALLOW)
    allowed[allow_rest] |= undecided[allow_rest]
    return allowed


def _allow_only(tables: DirectionTables) -> bool:
    """Only Allow (and Log) rules, all in one tier: plain Kubernetes NetworkPolicies, the common case.

    Then the order of rules cannot matter: what a target allows is the union of its rules' matches, and
    whatever no rule allows is decided once, at the end of the target's only run of policies."""
    actions = tables.rule_action
    return bool(np.all((actions == ALLOW) | (actions == LOG))) and len(np.unique(tables.policy_tier)) <= 1


def _evaluate_allow_only(direction: _Direction, allowed: np.ndarray, full: np.ndarray) -> np.ndarray:
    """`evaluate_direction_numpy` without the undecided and parked bits, which Allow rules in a single tier
    reduce to: a target with policies leaves undecided what it does not allow (tier default Pass) or
    nothing (tier default Deny); a target without any leaves everything undecided. The final default then
    allows the undecided bits of its targets."""
    tables = direction.tables
    for pol, targets in enumerate(tables.policy_targets):
        if len(targets):
            for _, chosen, peers, mask in _rule_blocks(direction, pol, targets):
                allowed[chosen[:, None], peers[None, :]] |= mask
    allowed &= full
    has_policies = np.diff(tables.target_policy_ptr) > 0
    passes_rest = len(tables.policies) and tables.tier_default[tables.policy_tier[0]] != TIER_DENY
    allow_rest = tables.target_default == FINAL_ALLOW
    allowed[allow_rest & ~has_policies] = full
    if passes_rest:
        allowed[allow_rest & has_policies] = full
    return allowed


class _NamedMasks:
    """`named_masks` for every class at once, by the rule's (base, named ports, filter): thousands of rules
    name the same few ports (`http`, `metrics`), so each distinct set is resolved once per direction."""

    def __init__(self, compiled: CompiledCluster):
        self._classes = np.arange(compiled.n_classes)
        self._symbol_atom = compiled.symbol_atom
        self._tables: dict[bytes, np.ndarray] = {}

    def __call__(self, base: np.ndarray, symbols: np.ndarray, name_filter: np.ndarray) -> np.ndarray:
        key = b"|".join((base.tobytes(), symbols.tobytes(), name_filter.tobytes()))
        table = self._tables.get(key)
        if table is None:
            table = named_masks(base, self._classes, symbols, name_filter, self._symbol_atom)
            self._tables[key] = table
        return table


class _Direction(NamedTuple):
    """What every rule of one direction's evaluation reads."""

    compiled: CompiledCluster
    tables: DirectionTables
    is_ingress: bool
    named_masks_of: _NamedMasks


def _rule_blocks(direction: _Direction, pol: int, targets: np.ndarray):
    """Each rule of one policy that applies, in order: (action, the targets it applies to, its peers, and
    the service bits it matches, shaped to broadcast over targets x peers)."""
    compiled, tables, is_ingress, named_masks_of = direction
    n_classes = compiled.n_classes
    for r in range(tables.policy_rule_ptr[pol], tables.policy_rule_ptr[pol + 1]):
        action = tables.rule_action[r]
        if action == LOG:
            continue
        chosen = targets
        constraint = tables.rule_target[r]
        if constraint >= 0:
            bits = tables.target_bits[constraint]
            inside = (bits[chosen // 64] >> (chosen % 64).astype(np.uint64)) & _ONE
            chosen = chosen[inside.astype(bool)]
        peers = tables.rule_peer[tables.rule_peer_ptr[r] : tables.rule_peer_ptr[r + 1]]
        if not len(chosen) or not len(peers):
            continue
        symbols = tables.rule_symbol[tables.rule_symbol_ptr[r] : tables.rule_symbol_ptr[r + 1]]
        base = tables.rule_service[r]
        name_filter = tables.rule_symbol_filter[r]
        if len(symbols) and is_ingress:  # named ports resolve on the destination: the target
            mask = named_masks_of(base, symbols, name_filter)[chosen][:, None, :]
        elif len(symbols):  # egress: on the destination peer, when it is a pod class
            mask = np.tile(base, (len(peers), 1))
            pods = peers < n_classes
            mask[pods] = named_masks_of(base, symbols, name_filter)[peers[pods]]
            mask = mask[None, :, :]
        else:
            mask = base[None, None, :]
        yield action, chosen, peers, mask


def _apply_rules(
    direction: _Direction,
    pol: int,
    targets: np.ndarray,
    allowed: np.ndarray,
    undecided: np.ndarray,
    passed: np.ndarray,
) -> None:
    """One policy's rules, in order, for all its targets at once."""
    for action, chosen, peers, mask in _rule_blocks(direction, pol, targets):
        block = (chosen[:, None], peers[None, :])  # what np.ix_ builds, without its checks (per rule)
        open_bits = undecided[block]
        matched = open_bits & mask
        if action == ALLOW:
            allowed[block] |= matched
        elif action == PASS:
            passed[block] |= matched
        undecided[block] = open_bits & ~matched
