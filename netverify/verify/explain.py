"""Why is a flow allowed or denied: the decisions of one packet, in evaluation order, with file:line.

This walks the same compiled tables the numba kernel reads, for one (target, peer, service atom), and
records every policy and rule consulted. It is the explanation half of "is it allowed"; the property tests
check that its verdict equals the kernel's bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.compile.compiled import CompiledCluster
from netverify.compile.tables import FINAL_DENY, TIER_PASS, DirectionTables
from netverify.model.policy import Action, Direction, Policy, Rule, Tier
from netverify.model.source import SourceRef

_ACTIONS = [Action.ALLOW, Action.DENY, Action.PASS, Action.LOG]


@dataclass(frozen=True)
class Decision:
    """One step of the trace: a rule that matched, or a tier's or the endpoint's default."""

    step: str  # "rule", "tier-default", "default"
    action: Action
    tier: Tier | None = None
    policy: Policy | None = None
    rule: Rule | None = None
    detail: str = ""
    policy_index: int | None = None  # the policy's index in its direction's tables (for `ignore`)

    @property
    def source(self) -> SourceRef | None:
        if self.rule is not None:
            return self.rule.source
        return self.policy.source if self.policy is not None else None

    def describe(self) -> str:
        if self.step == "rule":
            assert self.policy is not None and self.rule is not None
            return (
                f"{self.action.value}: {self.policy.kind} {self.policy.name} {self.rule.name} "
                f"(tier {self.policy.tier.name}) at {self.rule.source}"
            )
        if self.step == "tier-default":
            assert self.tier is not None
            return f"{self.action.value}: end of tier {self.tier.name} ({self.detail})"
        return f"{self.action.value}: {self.detail}"


@dataclass
class DirectionTrace:
    direction: Direction
    allowed: bool
    decisions: list[Decision] = field(default_factory=list)

    @property
    def deciding(self) -> Decision | None:
        """The decision that settled the verdict (the last non-Log, non-Pass one)."""
        for decision in reversed(self.decisions):
            if decision.action in (Action.ALLOW, Action.DENY):
                return decision
        return None


def _peer_set(tables: DirectionTables, r: int) -> frozenset[int]:
    """The rule's peers as a set, built on first use: a check traces one flow per violation, and a set
    lookup is much cheaper than a binary search through a numpy slice."""
    found = tables.peer_sets.get(r)
    if found is None:
        peers = tables.rule_peer[tables.rule_peer_ptr[r] : tables.rule_peer_ptr[r + 1]]
        found = tables.peer_sets[r] = frozenset(peers.tolist())
    return found


def _rule_matches(
    compiled: CompiledCluster,
    tables: DirectionTables,
    r: int,
    target: int,
    peer: int,
    atom: int,
    is_ingress: bool,
) -> bool:
    constraint = tables.rule_target[r]
    if constraint >= 0 and not (int(tables.target_bits[constraint, target // 64]) >> (target % 64)) & 1:
        return False
    if peer not in _peer_set(tables, r):
        return False
    destination = target if is_ingress else peer
    symbols = tables.rule_symbol[tables.rule_symbol_ptr[r] : tables.rule_symbol_ptr[r + 1]]
    resolved = destination < compiled.n_classes
    if resolved and any(s < 0 and compiled.symbol_atom[-1 - s, destination] == atom for s in symbols):
        return False  # a named port the rule excludes (Calico notPorts)
    if (int(tables.rule_service[r, atom // 64]) >> (atom % 64)) & 1:
        return True
    if not resolved:
        return False
    name_filter = (int(tables.rule_symbol_filter[r, atom // 64]) >> (atom % 64)) & 1
    return bool(name_filter) and any(s >= 0 and compiled.symbol_atom[s, destination] == atom for s in symbols)


def trace_direction(
    compiled: CompiledCluster,
    direction: Direction,
    target: int,
    peer: int,
    atom: int,
    ignore: frozenset[int] = frozenset(),
    details: bool = True,
) -> DirectionTrace:
    """Decisions for `target` (a class) in `direction` about `peer` (class or n_classes + IP atom).

    `ignore`: indexes of this direction's policies whose rules are skipped while their selection still
    counts, i.e. the verdict without what those policies allow or deny (suppression asks this).
    `details=False` leaves the tier defaults' descriptions empty, for callers that only want the verdict and
    the deciding rule (explaining each of many violations).
    """
    tables = compiled.tables(direction)
    is_ingress = direction is Direction.INGRESS
    trace = DirectionTrace(direction, allowed=False)
    begin, end = tables.target_policy_ptr[target], tables.target_policy_ptr[target + 1]
    i = begin
    while i < end:
        tier_index = tables.policy_tier[tables.target_policy[i]]
        tier = tables.tiers[tier_index]
        outcome: Action | None = None
        selecting: list[Policy] = []  # the tier's policies that apply to the target: they isolate it
        while i < end and tables.policy_tier[tables.target_policy[i]] == tier_index:
            p = tables.target_policy[i]
            i += 1
            selecting.append(tables.policies[p])
            if outcome is not None or p in ignore:
                continue
            policy = tables.policies[p]
            for r in range(tables.policy_rule_ptr[p], tables.policy_rule_ptr[p + 1]):
                if not _rule_matches(compiled, tables, r, target, peer, atom, is_ingress):
                    continue
                action = _ACTIONS[tables.rule_action[r]]
                trace.decisions.append(Decision("rule", action, tier, policy, tables.rules[r], policy_index=p))
                if action is not Action.LOG:
                    outcome = action
                    break
        if outcome is Action.ALLOW or outcome is Action.DENY:
            trace.allowed = outcome is Action.ALLOW
            return trace
        if outcome is Action.PASS:
            continue
        if tables.tier_default[tier_index] == TIER_PASS:
            trace.decisions.append(Decision("tier-default", Action.PASS, tier, detail="no rule decided; tier passes"))
            continue
        detail = (
            "no rule allowed it; the endpoint is selected by "
            + ", ".join(f"{p.kind} {p.name} at {p.source}" for p in selecting[:3])
            + (f" and {len(selecting) - 3} more" if len(selecting) > 3 else "")
            if details
            else ""
        )
        trace.decisions.append(Decision("tier-default", Action.DENY, tier, detail=detail))
        trace.allowed = False
        return trace
    if tables.target_default[target] == FINAL_DENY:
        detail = f"no rule or profile allowed it: the endpoint's default for {direction.value} denies"
        trace.decisions.append(Decision("default", Action.DENY, detail=detail))
        trace.allowed = False
        return trace
    if begin == end and compiled.peers.unguarded[target]:
        kind = "hostNetwork pods" if compiled.classes[target].host_network else "pods without ownerReferences"
        detail = f"--cni {compiled.profile.name} applies no policy to {kind}: allowed"
    elif begin == end:
        detail = f"no policy selects the endpoint for {direction.value}: allowed by default"
    else:
        detail = f"no tier decided: the endpoint's default for {direction.value} allows"
    trace.decisions.append(Decision("default", Action.ALLOW, detail=detail))
    trace.allowed = True
    return trace


@dataclass
class FlowTrace:
    """Both ends of a flow for one service atom: the source's egress and the destination's ingress."""

    egress: DirectionTrace | None  # None when the source is an external address (no policy there)
    ingress: DirectionTrace | None

    @property
    def allowed(self) -> bool:
        return all(t.allowed for t in (self.egress, self.ingress) if t is not None)


def trace_flow(compiled: CompiledCluster, src: tuple[str, int], dst: tuple[str, int], atom: int) -> FlowTrace:
    """src/dst: ("class", index) or ("atom", ip atom index)."""
    n = compiled.n_classes
    src_peer = src[1] if src[0] == "class" else n + src[1]
    dst_peer = dst[1] if dst[0] == "class" else n + dst[1]
    egress = trace_direction(compiled, Direction.EGRESS, src[1], dst_peer, atom) if src[0] == "class" else None
    ingress = trace_direction(compiled, Direction.INGRESS, dst[1], src_peer, atom) if dst[0] == "class" else None
    return FlowTrace(egress, ingress)


@dataclass
class ExplainedGroup:
    """Services that share one explanation (the same decisions on both sides)."""

    atoms: list[int]
    flow: FlowTrace


def explain_pair(
    compiled: CompiledCluster, src: tuple[str, int], dst: tuple[str, int], atoms: list[int]
) -> list[ExplainedGroup]:
    """Trace every requested service atom and group atoms whose traces decide the same way."""
    groups: dict[tuple, ExplainedGroup] = {}
    for atom in atoms:
        flow = trace_flow(compiled, src, dst, atom)
        key = tuple(
            tuple((d.step, d.action, id(d.policy), id(d.rule), id(d.tier)) for d in trace.decisions)
            for trace in (flow.egress, flow.ingress)
            if trace is not None
        )
        if key in groups:
            groups[key].atoms.append(atom)
        else:
            groups[key] = ExplainedGroup([atom], flow)
    return list(groups.values())
