"""Edit a compiled cluster for a change of a few policies, instead of compiling it again.

Endpoint classes, IP atoms and service atoms depend on the policies only through the boundaries they
mention (CIDR ends, port ends, protocols, endpoint identities). When a change neither introduces a boundary
nor removes the last policy mentioning one, the classes and atoms stay exactly what a full compilation would
build, and only the per-direction tables change: the removed policies' rows are cut out and the added ones'
rows, compiled by the same `build_direction`, are spliced in at their place in evaluation order. New CIDR
boundaries are cut into the IP atoms in place (`compile.refine`). Anything else makes `edit_compiled` say
so (return None) and the caller compiles afresh: `CutIndex` counts, per boundary, how many policies mention
it, so that decision costs time in the size of the change, not of the cluster.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from netverify.compile.compiled import CompiledCluster, target_services
from netverify.compile.service_atoms import walk_service
from netverify.compile.tables import DirectionTables, build_direction
from netverify.model.addresses import family_max
from netverify.model.cluster import Cluster
from netverify.model.peers import ByIdentity, NetPeer, walk_peer
from netverify.model.policy import Direction, Policy
from netverify.model.services import ICMP, ICMPV6, PROTOCOL_MAX, VALUE_DOMAINS, ServiceMatch

Boundary = tuple  # ("ip", family, address) | ("port", protocol, port) | ("protocol", number) | ("id", name)


def ip_boundaries(ranges) -> set[Boundary]:
    """Where IPAtoms cuts for these ranges: each range's first address and the one after its last; and
    ("ipv6",) for an IPv6 range, because the first one makes reports list IPv6 space."""
    found: set[Boundary] = set()
    for r in ranges:
        if r.family == 6:
            found.add(("ipv6",))
        found.add(("ip", r.family, r.first))
        if r.last < family_max(r.family):
            found.add(("ip", r.family, r.last + 1))
    return found


def service_boundaries(trees: Iterable[ServiceMatch]) -> set[Boundary]:
    """Where ServiceSpace cuts for these service trees (the same rules as its constructor)."""
    found: set[Boundary] = set()
    for tree in trees:
        for term in walk_service(tree):
            found.update((("protocol", term.protocol), ("protocol", term.protocol + 1)))
            if term.protocol in VALUE_DOMAINS and term.ranges:
                for lo, hi in term.ranges:
                    found.add(("port", term.protocol, lo))
                    if hi < VALUE_DOMAINS[term.protocol][1]:
                        found.add(("port", term.protocol, hi + 1))
    return found


def policy_trees(policy: Policy) -> list:
    rules = [*(policy.ingress or ()), *(policy.egress or ())]
    return [policy.applies_to, *(r.peer for r in rules), *(r.target for r in rules if r.target is not None)]


def policy_boundaries(policy: Policy) -> set[Boundary]:
    """Every boundary one policy mentions, each once."""
    found: set[Boundary] = set()
    rules = [*(policy.ingress or ()), *(policy.egress or ())]
    for tree in policy_trees(policy):
        for node in walk_peer(tree):
            if isinstance(node, NetPeer):
                found |= ip_boundaries(node.ranges)
            elif isinstance(node, ByIdentity):
                found.update(("id", ident) for ident in node.ids)
    return found | service_boundaries(r.service for r in rules)


def pinned_boundaries(compiled: CompiledCluster) -> set[Boundary]:
    """Boundaries that exist whatever the policies say: both families' and protocols' own ends, network
    sets, node addresses, subnets, the services a question asked about or a load balancer sends to, and the
    classes' named container ports."""
    cluster = compiled.cluster
    found: set[Boundary] = {("ip", 4, 0), ("ip", 6, 0), ("protocol", 0), ("protocol", PROTOCOL_MAX + 1)}
    for protocol in (*VALUE_DOMAINS, ICMP, ICMPV6):
        found.update((("protocol", protocol), ("protocol", protocol + 1)))
    found.update(("port", protocol, lo) for protocol, (lo, _) in VALUE_DOMAINS.items())
    for network_set in cluster.network_sets:
        found |= ip_boundaries(network_set.ranges)
    for subnet in cluster.subnets:  # load balancer and pod placement checks ask per subnet
        found |= ip_boundaries(subnet.cidrs)
    for node in cluster.nodes:
        found.update(("ip", family, address) for family, address in node.addresses)
        found.update(("ipv6",) for family, _ in node.addresses if family == 6)
        found.update(("ip", family, address + 1) for family, address in node.addresses if address < family_max(family))
    if any(family == 6 for group in compiled.groups for family, _ in group.ips):
        found.add(("ipv6",))
    found |= service_boundaries(compiled.extra_services)
    found |= service_boundaries(target_services(compiled.load_balancers))
    for cls in compiled.classes:
        for port in cls.ports:
            if port.name and port.protocol in VALUE_DOMAINS:
                found.add(("port", port.protocol, port.port))
                if port.port < VALUE_DOMAINS[port.protocol][1]:
                    found.add(("port", port.protocol, port.port + 1))
    return found


@dataclass
class CutIndex:
    """How many policies mention each boundary, and the boundaries that need no policy."""

    counts: Counter
    pinned: set[Boundary]

    @classmethod
    def of(cls, compiled: CompiledCluster) -> CutIndex:
        counts: Counter = Counter()
        for policy in compiled.cluster.policies:
            counts.update(policy_boundaries(policy))
        return cls(counts, pinned_boundaries(compiled))

    def apply(
        self, removed: Sequence[Policy], added: Sequence[Policy]
    ) -> tuple[CutIndex, set[Boundary], set[Boundary]]:
        """(index after the change, boundaries it introduces, boundaries it drops), pinned ones aside."""
        counts = self.counts.copy()
        touched: set[Boundary] = set()
        for policy in removed:
            found = policy_boundaries(policy)
            counts.subtract(found)
            touched |= found
        for policy in added:
            found = policy_boundaries(policy)
            counts.update(found)
            touched |= found
        free = touched - self.pinned
        appeared = {b for b in free if self.counts[b] <= 0 < counts[b]}
        vanished = {b for b in free if counts[b] <= 0 < self.counts[b]}
        for boundary in touched:
            if counts[boundary] <= 0:
                del counts[boundary]
        return CutIndex(counts, self.pinned), appeared, vanished


def runs(starts: np.ndarray, counts: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the contiguous runs in the concatenation of ranges [starts[i], starts[i] + counts[i]):
    an edit keeps almost everything in place, so there are only a few, and each is copied at once."""
    if len(starts) == 0:
        return []
    ends = starts + counts
    breaks = np.flatnonzero(starts[1:] != ends[:-1]) + 1
    firsts = np.concatenate(([0], breaks)).tolist()
    lasts = (np.concatenate((breaks, [len(starts)])) - 1).tolist()
    return [(int(starts[a]), int(ends[b])) for a, b in zip(firsts, lasts, strict=True)]


def split_runs(pieces: list[tuple[int, int]], boundary: int) -> list[tuple[int, int, int]]:
    """Runs over `first + second` as (source 0 or 1, start, end) within that source."""
    found = []
    for a, b in pieces:
        if a < boundary:
            found.append((0, a, min(b, boundary)))
        if b > boundary:
            found.append((1, max(a, boundary) - boundary, b - boundary))
    return found


def gather_ranges(first: np.ndarray, second: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The ranges of `first + second` (never built: `first` can be millions of peer indexes), concatenated."""
    sources = (first, second)
    pieces = [sources[k][a:b] for k, a, b in split_runs(runs(starts, counts), len(first))]
    return np.concatenate(pieces) if pieces else first[:0].copy()


def gather_list(values: list, starts: np.ndarray, counts: np.ndarray) -> list:
    found: list = []
    for a, b in runs(starts, counts):
        found.extend(values[a:b])
    return found


def csr_ptr(counts: np.ndarray) -> np.ndarray:
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def place_added(policies: list[Policy], gone: set[int], added: list[Policy]) -> list[int] | None:
    """Where each added policy goes among the kept ones (indexes into the kept list), or None on a tie with
    a kept or another added policy (the cluster's list order breaks ties, which an edit cannot see)."""
    sort_key = lambda p: p.sort_key  # noqa: E731
    gone_sorted = sorted(gone)
    positions = []
    for j, policy in enumerate(added):
        i = bisect.bisect_left(policies, policy.sort_key, key=sort_key)
        k = i
        while k < len(policies) and policies[k].sort_key == policy.sort_key:
            if k not in gone:
                return None
            k += 1
        if j and added[j - 1].sort_key == policy.sort_key:
            return None
        positions.append(i - bisect.bisect_left(gone_sorted, i))
    return positions


def splice_direction(
    old: DirectionTables,
    removed: Sequence[Policy],
    added: Sequence[Policy],
    compiled: CompiledCluster,
    symbols: dict[tuple[int, str], int],
) -> DirectionTables | None:
    """`old` without `removed` and with `added`, as `build_direction` would build it on the whole new list;
    None when an added policy ties in evaluation order with another (the full list order decides ties)."""
    direction = old.direction
    removed = [p for p in removed if p.rules(direction) is not None]
    added = sorted((p for p in added if p.rules(direction) is not None), key=lambda p: p.sort_key)
    if not removed and not added:
        return old
    policies = old.policies
    sort_key = lambda p: p.sort_key  # noqa: E731
    gone: set[int] = set()
    for policy in removed:
        i = bisect.bisect_left(policies, policy.sort_key, key=sort_key)
        while i < len(policies) and policies[i].sort_key == policy.sort_key and (i in gone or policies[i] != policy):
            i += 1
        if i == len(policies) or policies[i] != policy:
            raise ValueError(f"{policy.kind} {policy.name} is not a policy of the previous cluster")
        gone.add(i)
    positions = place_added(policies, gone, added)
    if positions is None:
        return None
    keep = np.ones(len(policies), dtype=bool)
    keep[list(gone)] = False
    # origin of every new policy slot: >= 0 an old index, < 0 the added policy -1 - origin
    origin = np.insert(np.flatnonzero(keep), positions, -1 - np.arange(len(added)))
    from_old = origin >= 0
    # the same, as an index into old.policies + added
    combined = np.where(from_old, origin, len(policies) - 1 - origin)
    ones = np.ones(len(origin), dtype=np.int64)
    old_to_new = np.full(len(policies), -1, dtype=np.int64)
    old_to_new[origin[from_old]] = np.flatnonzero(from_old)

    mini = build_direction(direction, added, compiled.peers, compiled.services, symbols, old.target_default)
    n_old_rules = len(old.rules)
    rule_counts = np.concatenate((np.diff(old.policy_rule_ptr), np.diff(mini.policy_rule_ptr)))[combined]
    rule_starts = np.concatenate((old.policy_rule_ptr[:-1], n_old_rules + mini.policy_rule_ptr[:-1]))[combined]
    policy_rule_ptr = csr_ptr(rule_counts)
    rule_order = np.repeat(rule_starts - policy_rule_ptr[:-1], rule_counts) + np.arange(policy_rule_ptr[-1])
    rule_ones = np.ones(len(rule_order), dtype=np.int64)

    def rules_gather(name: str) -> np.ndarray:
        return gather_ranges(getattr(old, name), getattr(mini, name), rule_order, rule_ones)

    def csr_gather(ptr_name: str, values_name: str) -> tuple[np.ndarray, np.ndarray]:
        old_ptr, mini_ptr = getattr(old, ptr_name), getattr(mini, ptr_name)
        starts = np.concatenate((old_ptr[:-1], mini_ptr[:-1] + old_ptr[-1]))[rule_order]
        counts = np.concatenate((np.diff(old_ptr), np.diff(mini_ptr)))[rule_order]
        return csr_ptr(counts), gather_ranges(getattr(old, values_name), getattr(mini, values_name), starts, counts)

    rule_peer_ptr, rule_peer = csr_gather("rule_peer_ptr", "rule_peer")
    rule_symbol_ptr, rule_symbol = csr_gather("rule_symbol_ptr", "rule_symbol")
    old_rows = len(old.target_bits)
    mini_target = np.where(mini.rule_target >= 0, mini.rule_target + old_rows, -1)
    rule_target = gather_ranges(old.rule_target, mini_target, rule_order, rule_ones)

    new_policies = gather_list(policies + added, combined, ones)
    tiers, policy_tier, tier_default = splice_tiers(old, mini, origin, new_policies)
    # (class, policy) pairs: the old ones renumbered, the added policies' targets appended, then sorted
    n = compiled.n_classes
    pair_class = np.repeat(np.arange(n), np.diff(old.target_policy_ptr))
    pair_policy = old_to_new[old.target_policy]
    alive = pair_policy >= 0
    new_index_of_added = np.flatnonzero(~from_old)
    pair_class = np.concatenate([pair_class[alive], *mini.policy_targets])
    pair_policy = np.concatenate(
        [pair_policy[alive], *(np.full(len(t), new_index_of_added[j]) for j, t in enumerate(mini.policy_targets))]
    )
    order = np.lexsort((pair_policy, pair_class))
    return replace(
        old,
        policies=new_policies,
        tiers=tiers,
        rules=gather_list(old.rules + mini.rules, rule_order, rule_ones),
        target_policy_ptr=csr_ptr(np.bincount(pair_class, minlength=n)),
        target_policy=pair_policy[order].astype(np.int64),
        policy_tier=policy_tier,
        policy_rule_ptr=policy_rule_ptr,
        tier_default=tier_default,
        rule_action=rules_gather("rule_action"),
        rule_peer_ptr=rule_peer_ptr,
        rule_peer=rule_peer,
        rule_service=rules_gather("rule_service"),
        rule_symbol_ptr=rule_symbol_ptr,
        rule_symbol=rule_symbol,
        rule_symbol_filter=rules_gather("rule_symbol_filter"),
        rule_target=rule_target,
        target_bits=np.concatenate((old.target_bits, mini.target_bits)),
        policy_targets=gather_list(old.policy_targets + mini.policy_targets, combined, ones),
        peer_sets={},  # a cache keyed by rule index: the rules were renumbered
    )


def splice_tiers(
    old: DirectionTables, mini: DirectionTables, origin: np.ndarray, new_policies: list[Policy]
) -> tuple[list, np.ndarray, np.ndarray]:
    """Tiers numbered in order of first use along the evaluation order, as `build_direction` numbers them.

    Kept as they were when no tier appears or disappears (the usual edit); numbered afresh otherwise.
    """
    index = {tier: i for i, tier in enumerate(old.tiers)}
    if all(tier in index for tier in mini.tiers):
        mini_tier = np.array([index[tier] for tier in mini.tiers], dtype=np.int64)[mini.policy_tier]
        policy_tier = np.empty(len(origin), dtype=np.int64)
        policy_tier[origin >= 0] = old.policy_tier[origin[origin >= 0]]
        policy_tier[origin < 0] = mini_tier[-1 - origin[origin < 0]]
        if len(old.tiers) == 0 or np.bincount(policy_tier, minlength=len(old.tiers)).all():
            return old.tiers, policy_tier, old.tier_default
    tiers: list = []
    numbering: dict = {}
    policy_tier = np.empty(len(new_policies), dtype=np.int64)
    for i, policy in enumerate(new_policies):
        if policy.tier not in numbering:
            numbering[policy.tier] = len(tiers)
            tiers.append(policy.tier)
        policy_tier[i] = numbering[policy.tier]
    defaults = {**dict(zip(old.tiers, old.tier_default.tolist(), strict=True)),
                **dict(zip(mini.tiers, mini.tier_default.tolist(), strict=True))}
    return tiers, policy_tier, np.array([defaults[t] for t in tiers], dtype=np.int64)


def targets_of(compiled: CompiledCluster, policies: Iterable[Policy], direction: Direction) -> np.ndarray:
    """Classes whose verdicts in `direction` the policies can change: the classes they apply to."""
    touched = np.zeros(compiled.n_classes, dtype=bool)
    for policy in policies:
        if policy.rules(direction) is not None:
            touched |= compiled.peers.mask(policy.applies_to)[: compiled.n_classes]
    return np.flatnonzero(touched)


@dataclass
class Edit:
    """An edited compilation; `columns`, when atoms were cut, maps each new peer index to the old one whose
    matrix column it inherits."""

    compiled: CompiledCluster
    columns: np.ndarray | None = None


def added_ranges(policies: Iterable[Policy]) -> list:
    return [r for p in policies for tree in policy_trees(p) for node in walk_peer(tree) if isinstance(node, NetPeer)
            for r in node.ranges]


def edit_compiled(
    compiled: CompiledCluster, cluster: Cluster, removed: Sequence[Policy], added: Sequence[Policy]
) -> Edit | None:
    """`compiled` for `cluster`, which differs from `compiled.cluster` by the given policies only; None when
    only a full compilation gives the exact result: the change drops the last mention of a boundary (atoms
    would merge), introduces a port, protocol or identity boundary, cuts an IP atom between the addresses of
    two endpoints of one class (the class would split), or ties another policy in evaluation order."""
    from netverify.compile.refine import refine_atoms

    cuts = compiled.cuts if compiled.cuts is not None else CutIndex.of(compiled)
    cuts, appeared, vanished = cuts.apply(removed, added)
    if vanished or any(b[0] not in ("ip", "ipv6") for b in appeared):
        return None
    columns = None
    if appeared:
        refined = refine_atoms(compiled, added_ranges(added))
        if refined is None:
            return None
        compiled, columns = refined
    symbols = dict(compiled.symbols)
    ingress = splice_direction(compiled.ingress, removed, added, compiled, symbols)
    egress = splice_direction(compiled.egress, removed, added, compiled, symbols)
    if ingress is None or egress is None:
        return None
    symbol_atom = compiled.symbol_atom
    if len(symbols) > len(compiled.symbols):
        fresh = np.full((len(symbols) - len(compiled.symbols), compiled.n_classes), -1, dtype=np.int64)
        symbol_atom = np.concatenate((symbol_atom[: len(compiled.symbols)], fresh))
        for c, cls in enumerate(compiled.classes):
            for port in cls.ports:
                key = (port.protocol, port.name)
                if port.name and key in symbols and symbols[key] >= len(compiled.symbols):
                    symbol_atom[symbols[key], c] = compiled.services.atom_of(port.protocol, port.port)
    edited = replace(
        compiled, cluster=cluster, ingress=ingress, egress=egress, symbols=symbols, symbol_atom=symbol_atom, cuts=cuts
    )
    return Edit(edited, columns)
