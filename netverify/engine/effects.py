"""numba kernel: what each rule and each (target, policy) pair actually decides, in one pass.

It replays the ordered evaluation of `kernels.evaluate_targets` (same tables, same order, same named-port
resolution) and records, instead of verdicts:

- `rule_hit[r]`: rule r moved some undecided bit for some target (a Deny that never does is shadowed);
- `pair_effect[i]`: the i-th (target, policy) pair changes that target's verdicts. In a tier whose
  applicable rules only Allow, order does not matter, so a pair has an effect when it matches a bit that
  no other policy of the tier matches; otherwise when one of its rules is the first to decide some bit;
- `pair_live[i]`: something was still undecided when the pair's tier began (a tier that ends in Deny
  changes verdicts just by selecting the target only then).

Findings (verify/findings.py) are read off these flags: one pass per direction instead of one
recomputation per policy. Serial on purpose: the flags are shared across targets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ALLOW, DENY, PASS, LOG = 0, 1, 2, 3
TIER_DENY = 0


@njit(cache=True, nogil=True, inline="always")
def _applies(r, t, rule_target, target_bits):
    constraint = rule_target[r]
    return constraint < 0 or bool((target_bits[constraint, t // 64] >> np.uint64(t % 64)) & np.uint64(1))


@njit(cache=True, nogil=True)
def _service_mask(r, t, is_ingress, rule_service, rule_symbol_ptr, rule_symbol, rule_symbol_filter, symbol_atom, mask):
    """The rule's services for target t (ingress resolves named ports on the target, the destination)."""
    for w in range(mask.shape[0]):
        mask[w] = rule_service[r, w]
    s0, s1 = rule_symbol_ptr[r], rule_symbol_ptr[r + 1]
    if s1 > s0 and is_ingress:
        for s in range(s0, s1):
            symbol = rule_symbol[s]
            if symbol >= 0:
                atom = symbol_atom[symbol, t]
                if atom >= 0:
                    mask[atom // 64] |= (np.uint64(1) << np.uint64(atom % 64)) & rule_symbol_filter[r, atom // 64]
            else:
                atom = symbol_atom[-1 - symbol, t]
                if atom >= 0:
                    mask[atom // 64] &= ~(np.uint64(1) << np.uint64(atom % 64))


@njit(cache=True, nogil=True, inline="always")
def _peer_word(r, p, w, base, per_peer_names, n_classes, rule_symbol_ptr, rule_symbol, rule_symbol_filter, symbol_atom):
    """The rule's services toward peer p in word w (egress resolves named ports on the peer)."""
    m = base
    if per_peer_names and p < n_classes:
        for s in range(rule_symbol_ptr[r], rule_symbol_ptr[r + 1]):
            symbol = rule_symbol[s]
            if symbol >= 0:
                atom = symbol_atom[symbol, p]
                if atom >= 0 and atom // 64 == w:
                    m |= (np.uint64(1) << np.uint64(atom % 64)) & rule_symbol_filter[r, w]
            else:
                atom = symbol_atom[-1 - symbol, p]
                if atom >= 0 and atom // 64 == w:
                    m &= ~(np.uint64(1) << np.uint64(atom % 64))
    return m


@njit(cache=True, nogil=True)
def trace_effects(
    n_targets,
    is_ingress,
    n_classes,
    n_peers,
    full,
    target_policy_ptr,
    target_policy,
    policy_tier,
    policy_rule_ptr,
    tier_default,
    rule_action,
    rule_peer_ptr,
    rule_peer,
    rule_service,
    rule_symbol_ptr,
    rule_symbol,
    rule_symbol_filter,
    rule_target,
    target_bits,
    symbol_atom,
    rule_hit,
    pair_effect,
    pair_live,
):
    words = full.shape[0]
    undecided = np.empty((n_peers, words), dtype=np.uint64)
    passed = np.zeros((n_peers, words), dtype=np.uint64)
    once = np.zeros((n_peers, words), dtype=np.uint64)
    twice = np.zeros((n_peers, words), dtype=np.uint64)
    own = np.zeros((n_peers, words), dtype=np.uint64)  # one pair's matches; rows cleared after use
    mask = np.empty(words, dtype=np.uint64)
    for t in range(n_targets):
        begin, end = target_policy_ptr[t], target_policy_ptr[t + 1]
        if begin == end:
            continue
        undecided[:, :] = full
        passed[:, :] = 0
        i = begin
        while i < end:
            tier = policy_tier[target_policy[i]]
            stop = i
            commutative = True  # only Allow (and Log) rules apply to t in this tier
            while stop < end and policy_tier[target_policy[stop]] == tier:
                pol = target_policy[stop]
                for r in range(policy_rule_ptr[pol], policy_rule_ptr[pol + 1]):
                    if (rule_action[r] == DENY or rule_action[r] == PASS) and _applies(r, t, rule_target, target_bits):
                        commutative = False
                stop += 1
            live = undecided.any()
            for j in range(i, stop):
                pair_live[j] = live
            if commutative:
                once[:, :] = 0
                twice[:, :] = 0
                for sweep in range(2):  # 0: count how many pairs match each bit; 1: find unique matches
                    for j in range(i, stop):
                        pol = target_policy[j]
                        for r in range(policy_rule_ptr[pol], policy_rule_ptr[pol + 1]):
                            if rule_action[r] != ALLOW or not _applies(r, t, rule_target, target_bits):
                                continue
                            _service_mask(
                                r, t, is_ingress, rule_service, rule_symbol_ptr, rule_symbol, rule_symbol_filter,
                                symbol_atom, mask,
                            )
                            names = rule_symbol_ptr[r + 1] > rule_symbol_ptr[r] and not is_ingress
                            for k in range(rule_peer_ptr[r], rule_peer_ptr[r + 1]):
                                p = rule_peer[k]
                                for w in range(words):
                                    own[p, w] |= undecided[p, w] & _peer_word(
                                        r, p, w, mask[w], names, n_classes, rule_symbol_ptr, rule_symbol,
                                        rule_symbol_filter, symbol_atom,
                                    )
                        for r in range(policy_rule_ptr[pol], policy_rule_ptr[pol + 1]):
                            if rule_action[r] != ALLOW:
                                continue
                            for k in range(rule_peer_ptr[r], rule_peer_ptr[r + 1]):
                                p = rule_peer[k]
                                for w in range(words):
                                    m = own[p, w]
                                    if m == 0:
                                        continue
                                    if sweep == 0:
                                        twice[p, w] |= once[p, w] & m
                                        once[p, w] |= m
                                    elif m & ~twice[p, w]:
                                        pair_effect[j] = True
                                    rule_hit[r] = True
                                    own[p, w] = 0
                for p in range(n_peers):
                    for w in range(words):
                        undecided[p, w] &= ~once[p, w]
            else:
                any_passed = False
                for j in range(i, stop):
                    pol = target_policy[j]
                    for r in range(policy_rule_ptr[pol], policy_rule_ptr[pol + 1]):
                        action = rule_action[r]
                        if action == LOG or not _applies(r, t, rule_target, target_bits):
                            continue
                        _service_mask(
                            r, t, is_ingress, rule_service, rule_symbol_ptr, rule_symbol, rule_symbol_filter,
                            symbol_atom, mask,
                        )
                        names = rule_symbol_ptr[r + 1] > rule_symbol_ptr[r] and not is_ingress
                        for k in range(rule_peer_ptr[r], rule_peer_ptr[r + 1]):
                            p = rule_peer[k]
                            for w in range(words):
                                m = undecided[p, w] & _peer_word(
                                    r, p, w, mask[w], names, n_classes, rule_symbol_ptr, rule_symbol,
                                    rule_symbol_filter, symbol_atom,
                                )
                                if m == 0:
                                    continue
                                rule_hit[r] = True
                                pair_effect[j] = True
                                if action == PASS:
                                    passed[p, w] |= m
                                    any_passed = True
                                undecided[p, w] &= ~m
                if any_passed:
                    if tier_default[tier] == TIER_DENY:
                        undecided[:, :] = passed
                    else:
                        undecided |= passed
                    passed[:, :] = 0
                    i = stop
                    continue
            if tier_default[tier] == TIER_DENY:
                undecided[:, :] = 0
            i = stop
