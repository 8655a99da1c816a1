"""numba kernels: ordered verdicts over "undecided" masks, one target endpoint class at a time.

For a target (the destination for ingress, the source for egress) every peer starts undecided for every
service atom. Tiers run in order; in a tier the applying policies run in order, and their rules in order:
Allow moves matched undecided bits to allowed, Deny drops them, Pass parks them until the tier ends, Log
does nothing. At a tier's end the parked bits become undecided again and the rest are denied (default Deny)
or also stay undecided (default Pass). What is still undecided at the end gets the target's final default:
allowed for pods (Calico's namespace profile, Kubernetes' default), denied for Calico host endpoints.
This module is imported only by the commands that compute, because compiling it costs start-up time.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

ALLOW, DENY, PASS, LOG = 0, 1, 2, 3
TIER_DENY = 0
FINAL_ALLOW = 0  # compile.tables.FINAL_ALLOW


@njit(cache=True, nogil=True, parallel=True)
def evaluate_targets(
    first,
    last,
    is_ingress,
    n_classes,
    full,
    target_policy_ptr,
    target_policy,
    target_default,
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
    out,
):
    n_peers = out.shape[1]
    words = out.shape[2]
    for t in prange(first, last):
        res = out[t - first]
        begin = target_policy_ptr[t]
        end = target_policy_ptr[t + 1]
        allow_rest = target_default[t] == FINAL_ALLOW
        if begin == end:
            for p in range(n_peers):
                for w in range(words):
                    res[p, w] = full[w] if allow_rest else np.uint64(0)
            continue
        undecided = np.empty((n_peers, words), dtype=np.uint64)
        passed = np.zeros((n_peers, words), dtype=np.uint64)
        mask = np.empty(words, dtype=np.uint64)
        for p in range(n_peers):
            for w in range(words):
                undecided[p, w] = full[w]
                res[p, w] = 0
        i = begin
        while i < end:
            tier = policy_tier[target_policy[i]]
            any_passed = False
            while i < end and policy_tier[target_policy[i]] == tier:
                pol = target_policy[i]
                for r in range(policy_rule_ptr[pol], policy_rule_ptr[pol + 1]):
                    action = rule_action[r]
                    if action == LOG:
                        continue
                    constraint = rule_target[r]
                    if constraint >= 0 and not (target_bits[constraint, t // 64] >> np.uint64(t % 64)) & np.uint64(1):
                        continue
                    s0 = rule_symbol_ptr[r]
                    s1 = rule_symbol_ptr[r + 1]
                    per_peer_names = s1 > s0 and not is_ingress
                    for w in range(words):
                        mask[w] = rule_service[r, w]
                    if s1 > s0 and is_ingress:
                        for s in range(s0, s1):
                            symbol = rule_symbol[s]
                            if symbol >= 0:  # a named port the rule accepts
                                atom = symbol_atom[symbol, t]
                                if atom >= 0:
                                    bit = np.uint64(1) << np.uint64(atom % 64)
                                    mask[atom // 64] |= bit & rule_symbol_filter[r, atom // 64]
                            else:  # a named port it excludes (after every accepted one)
                                atom = symbol_atom[-1 - symbol, t]
                                if atom >= 0:
                                    mask[atom // 64] &= ~(np.uint64(1) << np.uint64(atom % 64))
                    for k in range(rule_peer_ptr[r], rule_peer_ptr[r + 1]):
                        p = rule_peer[k]
                        for w in range(words):
                            m = mask[w]
                            if per_peer_names and p < n_classes:
                                for s in range(s0, s1):
                                    symbol = rule_symbol[s]
                                    if symbol >= 0:
                                        atom = symbol_atom[symbol, p]
                                        if atom >= 0 and atom // 64 == w:
                                            m |= (np.uint64(1) << np.uint64(atom % 64)) & rule_symbol_filter[r, w]
                                    else:
                                        atom = symbol_atom[-1 - symbol, p]
                                        if atom >= 0 and atom // 64 == w:
                                            m &= ~(np.uint64(1) << np.uint64(atom % 64))
                            m &= undecided[p, w]
                            if m == 0:
                                continue
                            if action == ALLOW:
                                res[p, w] |= m
                            elif action == PASS:
                                passed[p, w] |= m
                                any_passed = True
                            undecided[p, w] &= ~m
                i += 1
            if tier_default[tier] == TIER_DENY:
                for p in range(n_peers):
                    for w in range(words):
                        undecided[p, w] = passed[p, w]
            elif any_passed:
                for p in range(n_peers):
                    for w in range(words):
                        undecided[p, w] |= passed[p, w]
            if any_passed:
                passed[:, :] = 0
        if allow_rest:
            for p in range(n_peers):
                for w in range(words):
                    res[p, w] |= undecided[p, w]


COMBINE_TILE = 64


@njit(cache=True, nogil=True, parallel=True)
def combine_directions(egress, ingress, n_classes):
    """egress[s, d] &= ingress[d, s] for pod classes s, d: a flow needs both ends to allow it.

    In square tiles: walking ingress down a column touches one cache line per row, so at 10,000 classes an
    untiled loop spends its time waiting for memory; a 64 x 64 tile of both matrices stays in cache.
    """
    words = egress.shape[2]
    tile = COMBINE_TILE
    for block in prange((egress.shape[0] + tile - 1) // tile):
        s0 = block * tile
        s1 = min(s0 + tile, egress.shape[0])
        for d0 in range(0, n_classes, tile):
            d1 = min(d0 + tile, n_classes)
            for s in range(s0, s1):
                for d in range(d0, d1):
                    for w in range(words):
                        egress[s, d, w] &= ingress[d, s, w]
