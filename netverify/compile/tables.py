"""Flat tables of one direction's ordered policies, in the shape the numba kernels read.

For each target class: the policies that apply to it, in evaluation order (CSR), and its final default (what
happens to traffic no tier decided: allowed for pods, denied for Calico host endpoints). For each policy: its
tier and its rules. For each rule: action, peers (CSR of peer indexes), a packed service mask, and the named
ports it mentions (resolved per destination class through `symbol_atom`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netverify.compile.peers import PeerSpace
from netverify.compile.service_atoms import ServiceSpace
from netverify.model.policy import Action, Direction, Policy, Rule, Tier
from netverify.model.services import (
    AnyService,
    ProtocolPorts,
    ServiceComplement,
    ServiceIntersection,
    ServiceMatch,
    ServiceUnion,
)

ACTION_CODES = {Action.ALLOW: 0, Action.DENY: 1, Action.PASS: 2, Action.LOG: 3}
TIER_DENY, TIER_PASS = 0, 1
FINAL_ALLOW, FINAL_DENY = 0, 1  # a target's final default


class UnsupportedServiceTree(ValueError):
    """Named ports in a position the tables cannot express exactly (under a complement)."""


def has_names(tree: ServiceMatch) -> bool:
    if isinstance(tree, ProtocolPorts):
        return bool(tree.names)
    if isinstance(tree, (ServiceUnion, ServiceIntersection)):
        return any(has_names(t) for t in tree.terms)
    return False if isinstance(tree, AnyService) else has_names(getattr(tree, "term", AnyService()))


def split_named_ports(
    tree: ServiceMatch,
) -> tuple[ServiceMatch, list[tuple[int, str]], ServiceMatch, list[tuple[int, str]]]:
    """(numeric part, (protocol, name) pairs also accepted, filter those must pass, pairs excluded).

    The tree matches `(numeric ∪ (names ∩ filter)) minus excluded`, names resolved on the destination.
    Exact for names under unions (Kubernetes and AdminNetworkPolicy ports), for one named union
    intersected with numeric terms, and for named ports under a complement in an intersection (Calico
    `protocol` + `ports` + `notPorts` + `notProtocol`).
    """
    if not has_names(tree):
        return tree, [], AnyService(), []
    if isinstance(tree, ProtocolPorts):
        named = [(tree.protocol, n) for n in tree.names]
        return ProtocolPorts(tree.protocol, tree.ranges or ()), named, AnyService(), []
    if isinstance(tree, ServiceComplement) and isinstance(tree.term, ProtocolPorts):
        inner = tree.term
        numeric = ServiceComplement(ProtocolPorts(inner.protocol, inner.ranges or ()))
        return numeric, [], AnyService(), [(inner.protocol, n) for n in inner.names]
    if isinstance(tree, ServiceUnion):
        terms: list[ServiceMatch] = []
        names: list[tuple[int, str]] = []
        for term in tree.terms:
            numeric, found, term_filter, excluded = split_named_ports(term)
            if (found and not isinstance(term_filter, AnyService)) or excluded:
                raise UnsupportedServiceTree("named ports under an intersection or complement inside a union")
            terms.append(numeric)
            names.extend(found)
        return ServiceUnion(tuple(terms)), names, AnyService(), []
    if isinstance(tree, ServiceIntersection):
        positive = [t for t in tree.terms if has_names(t) and not isinstance(t, ServiceComplement)]
        negative = [t for t in tree.terms if has_names(t) and isinstance(t, ServiceComplement)]
        others: list[ServiceMatch] = [t for t in tree.terms if not has_names(t)]
        if len(positive) > 1:
            raise UnsupportedServiceTree("several named-port terms in one intersection")
        excluded: list[tuple[int, str]] = []
        for term in negative:
            numeric, _, _, names_out = split_named_ports(term)
            others.append(numeric)
            excluded.extend(names_out)
        if not positive:
            return ServiceIntersection(tuple(others)), [], AnyService(), excluded
        numeric, names, inner_filter, inner_excluded = split_named_ports(positive[0])
        if inner_excluded:
            raise UnsupportedServiceTree("nested named-port complements")
        if not isinstance(inner_filter, AnyService):
            others.append(inner_filter)
        return ServiceIntersection((numeric, *others)), names, ServiceIntersection(tuple(others)), excluded
    raise UnsupportedServiceTree("named ports under a complement")


@dataclass
class DirectionTables:
    direction: Direction
    policies: list[Policy]  # applicable in this direction, in evaluation order
    tiers: list[Tier]
    rules: list[Rule]  # global rule order; policy p owns rules policy_rule_ptr[p] to policy_rule_ptr[p + 1]
    target_policy_ptr: np.ndarray  # (classes + 1,)
    target_policy: np.ndarray  # policy indexes, per target in evaluation order
    target_default: np.ndarray  # (classes,) FINAL_ALLOW or FINAL_DENY
    policy_tier: np.ndarray
    policy_rule_ptr: np.ndarray  # (policies + 1,)
    tier_default: np.ndarray
    rule_action: np.ndarray
    rule_peer_ptr: np.ndarray
    rule_peer: np.ndarray
    rule_service: np.ndarray  # (rules, words) uint64
    rule_symbol_ptr: np.ndarray
    rule_symbol: np.ndarray  # >= 0: a named port the rule accepts; < 0: -1 - id of one it excludes
    rule_symbol_filter: np.ndarray  # (rules, words): which resolved named-port atoms may match
    rule_target: np.ndarray  # -1, or the row of `target_bits` the target class must be in
    target_bits: np.ndarray  # (constraints, class words) packed class sets
    policy_targets: list[np.ndarray]  # classes each policy applies to
    # rule -> its peers as a set, filled on demand by explanations (a check explains each violation)
    peer_sets: dict[int, frozenset[int]] = field(default_factory=dict, repr=False, compare=False)


def build_direction(
    direction: Direction,
    policies: list[Policy],
    peers: PeerSpace,
    services: ServiceSpace,
    symbols: dict[tuple[int, str], int],
    target_default: np.ndarray | None = None,
    progress=None,
) -> DirectionTables:
    """Tables of one direction; `target_default` is each class's final default (all FINAL_ALLOW if None).

    `progress(done, total)` is told every 256 policies.
    """
    if target_default is None:
        target_default = np.full(peers.n_classes, FINAL_ALLOW, dtype=np.int64)
    applicable = sorted((p for p in policies if p.rules(direction) is not None), key=lambda p: p.sort_key)
    tiers: list[Tier] = []
    tier_index: dict[Tier, int] = {}
    policy_tier = np.empty(len(applicable), dtype=np.int64)
    policy_rule_ptr = np.zeros(len(applicable) + 1, dtype=np.int64)
    rules: list[Rule] = []
    pair_class: list[np.ndarray] = []
    pair_policy: list[np.ndarray] = []
    policy_targets: list[np.ndarray] = []
    for i, policy in enumerate(applicable):
        if policy.tier not in tier_index:
            tier_index[policy.tier] = len(tiers)
            tiers.append(policy.tier)
        policy_tier[i] = tier_index[policy.tier]
        for rule in policy.rules(direction) or ():
            rules.append(rule)
        policy_rule_ptr[i + 1] = len(rules)
        if progress is not None and i % 256 == 255:
            progress(i + 1, len(applicable))
        targets = np.flatnonzero(peers.mask(policy.applies_to)[: peers.n_classes] & ~peers.unguarded)
        policy_targets.append(targets)
        pair_class.append(targets)
        pair_policy.append(np.full(len(targets), i, dtype=np.int64))
    classes_of_pairs = np.concatenate(pair_class) if pair_class else np.zeros(0, dtype=np.int64)
    policies_of_pairs = np.concatenate(pair_policy) if pair_policy else np.zeros(0, dtype=np.int64)
    order = np.lexsort((policies_of_pairs, classes_of_pairs))
    target_policy = policies_of_pairs[order].astype(np.int64)
    counts = np.bincount(classes_of_pairs, minlength=peers.n_classes) if len(order) else np.zeros(
        peers.n_classes, dtype=np.int64
    )
    target_policy_ptr = np.zeros(peers.n_classes + 1, dtype=np.int64)
    np.cumsum(counts, out=target_policy_ptr[1:])

    tier_default = np.array(
        [TIER_PASS if t.default_action is Action.PASS else TIER_DENY for t in tiers], dtype=np.int64
    )
    rule_action = np.array([ACTION_CODES[r.action] for r in rules], dtype=np.int64)
    rule_service = np.zeros((len(rules), services.words), dtype=np.uint64)
    rule_symbol_filter = np.zeros((len(rules), services.words), dtype=np.uint64)
    rule_target = np.full(len(rules), -1, dtype=np.int64)
    class_words = max((peers.n_classes + 63) // 64, 1)
    target_rows: list[np.ndarray] = []
    target_index: dict[object, int] = {}
    peer_lists: list[np.ndarray] = []
    symbol_lists: list[list[int]] = []
    peer_index_cache: dict[object, np.ndarray] = {}
    service_cache: dict[ServiceMatch, tuple[np.ndarray, list[int], np.ndarray]] = {}
    for r, rule in enumerate(rules):
        # Allow rules count every possible address match, Deny/Pass only certain ones (PeerSpace.mask)
        possible = rule.action is Action.ALLOW
        found = peer_index_cache.get((rule.peer, possible))
        if found is None:
            found = np.flatnonzero(peers.mask(rule.peer, possible=possible)).astype(np.int64)
            peer_index_cache[(rule.peer, possible)] = found
        peer_lists.append(found)
        packed = service_cache.get(rule.service)
        if packed is None:
            numeric, names, name_filter, excluded = split_named_ports(rule.service)
            for key in names + excluded:  # accepted first, then excluded: the kernels apply them in order
                if key not in symbols:
                    symbols[key] = len(symbols)
            ids = [symbols[key] for key in names] + [-1 - symbols[key] for key in excluded]
            packed = service_cache[rule.service] = (
                services.pack(services.mask(numeric)),
                ids,
                services.pack(services.mask(name_filter)),
            )
        rule_service[r] = packed[0]
        symbol_lists.append(packed[1])
        rule_symbol_filter[r] = packed[2]
        if rule.target is not None:
            row = target_index.get((rule.target, possible))
            if row is None:
                row = target_index[(rule.target, possible)] = len(target_rows)
                bits = np.zeros(class_words * 64, dtype=bool)
                bits[: peers.n_classes] = peers.mask(rule.target, possible=possible)[: peers.n_classes]
                packed = np.packbits(bits.reshape(-1, 8), axis=1, bitorder="little").reshape(-1)
                target_rows.append(packed.view(np.uint64))
            rule_target[r] = row
    rule_peer_ptr = np.zeros(len(rules) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in peer_lists], out=rule_peer_ptr[1:])
    rule_peer = np.concatenate(peer_lists) if peer_lists else np.zeros(0, dtype=np.int64)
    rule_symbol_ptr = np.zeros(len(rules) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in symbol_lists], out=rule_symbol_ptr[1:])
    rule_symbol = np.array([s for lst in symbol_lists for s in lst], dtype=np.int64)
    return DirectionTables(
        direction=direction,
        policies=applicable,
        tiers=tiers,
        rules=rules,
        target_policy_ptr=target_policy_ptr,
        target_policy=target_policy,
        target_default=np.ascontiguousarray(target_default, dtype=np.int64),
        policy_tier=policy_tier,
        policy_rule_ptr=policy_rule_ptr,
        tier_default=tier_default,
        rule_action=rule_action,
        rule_peer_ptr=rule_peer_ptr,
        rule_peer=rule_peer,
        rule_service=rule_service,
        rule_symbol_ptr=rule_symbol_ptr,
        rule_symbol=rule_symbol,
        rule_symbol_filter=rule_symbol_filter,
        rule_target=rule_target,
        target_bits=np.array(target_rows, dtype=np.uint64).reshape(len(target_rows), class_words)
        if target_rows
        else np.zeros((1, class_words), dtype=np.uint64),
        policy_targets=policy_targets,
    )
