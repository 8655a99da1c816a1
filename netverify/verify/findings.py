"""Findings that need no contract, read off the compiled per-rule bitsets.

- `policy-selects-nothing`: the policy applies to no endpoint of the input.
- `rule-never-matches`: a rule's peers, its ports (named ports resolved on the destinations it could
  reach) or its own-side constraint select nothing, for every endpoint its policy applies to.
- `policy-shadowed`: removing the policy alone changes no verdict: in every tier it takes part in, for
  every endpoint it selects, what it matches is already decided the same way (by earlier rules, or, in a
  tier of Allow rules only, by the tier's other policies), and the endpoint stays isolated without it.
- `unreachable-deny`: a Deny rule that could match but never decides anything, because everything it
  matches is decided before it.

A policy without rules only isolates (a namespace's default deny): it is there for endpoints that do not
exist yet, so it is never called redundant. Every finding holds for removing that one policy or rule
alone (of two identical policies either may go, not both). One pass of `engine.effects.trace_effects`
per direction gives all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netverify.compile.compiled import CompiledCluster
from netverify.compile.tables import TIER_PASS, DirectionTables
from netverify.model.policy import HOST_ONLY_RANKS, Action, Direction, Policy, Rule
from netverify.verify.results import Finding

SYNTHETIC_KINDS = ("Failsafe", "Profile")  # built by the loader per endpoint, not written by a user as such


def _bit(row: np.ndarray, index: int) -> bool:
    return bool((int(row[index // 64]) >> (index % 64)) & 1)


def rule_owners(tables: DirectionTables) -> list[int]:
    """The index of the policy that owns each rule (policy p owns rules policy_rule_ptr[p]..[p + 1])."""
    ptr = tables.policy_rule_ptr
    return np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)).tolist()


def matchable_rules(compiled: CompiledCluster, tables: DirectionTables) -> np.ndarray:
    """Per rule: can it match some (endpoint of its policy, peer, service)?"""
    n = compiled.n_classes
    is_ingress = tables.direction is Direction.INGRESS
    found = np.zeros(len(tables.rules), dtype=bool)
    services = compiled.services
    for r, p in enumerate(rule_owners(tables)):
        peers = tables.rule_peer[tables.rule_peer_ptr[r] : tables.rule_peer_ptr[r + 1]]
        targets = tables.policy_targets[p]
        if tables.rule_target[r] >= 0:
            row = tables.target_bits[tables.rule_target[r]]
            targets = targets[[_bit(row, int(t)) for t in targets]] if len(targets) else targets
        if not len(peers) or not len(targets):
            continue
        symbols = tables.rule_symbol[tables.rule_symbol_ptr[r] : tables.rule_symbol_ptr[r + 1]]
        numeric = services.unpack(tables.rule_service[r])
        if not len(symbols):
            found[r] = numeric.any()
            continue
        # named ports resolve on the destination: the target for ingress, the peer (a pod) for egress
        destinations = targets if is_ingress else peers[peers < n]
        if not is_ingress and len(peers[peers >= n]) and numeric.any():
            found[r] = True  # toward addresses only the numeric ports count
            continue
        name_filter = services.unpack(tables.rule_symbol_filter[r])
        for d in destinations:
            allowed = numeric.copy()
            for s in symbols:
                atom = compiled.symbol_atom[s if s >= 0 else -1 - s, d]
                if atom >= 0:
                    if s >= 0:
                        allowed[atom] |= name_filter[atom]
                    else:
                        allowed[atom] = False
            if allowed.any():
                found[r] = True
                break
    return found


def direction_effects(compiled: CompiledCluster, tables: DirectionTables) -> tuple[np.ndarray, ...]:
    from netverify.engine.effects import trace_effects
    from netverify.engine.reachability import kernel_arguments

    rule_hit = np.zeros(len(tables.rules), dtype=np.bool_)
    pair_effect = np.zeros(len(tables.target_policy), dtype=np.bool_)
    pair_live = np.zeros(len(tables.target_policy), dtype=np.bool_)
    # the verdict kernel's arrays, less the targets' final defaults, which effects never reach
    n_classes, n_peers, full, target_policy_ptr, target_policy, _defaults, *arrays = kernel_arguments(compiled, tables)
    is_ingress = tables.direction is Direction.INGRESS
    trace_effects(
        n_classes,
        is_ingress,
        n_classes,
        n_peers,
        full,
        target_policy_ptr,
        target_policy,
        *arrays,
        rule_hit,
        pair_effect,
        pair_live,
    )
    return rule_hit, pair_effect, pair_live


def redundant_policies(tables: DirectionTables, pair_effect: np.ndarray, pair_live: np.ndarray) -> np.ndarray:
    """Per policy of this direction: removing it changes no verdict here (see the module docstring)."""
    n_targets = len(tables.target_policy_ptr) - 1
    pair_target = np.repeat(np.arange(n_targets), np.diff(tables.target_policy_ptr))
    pair_tier = tables.policy_tier[tables.target_policy]
    # other policies of the same tier selecting the same target keep the tier's default Deny in place
    key = pair_target * (len(tables.tiers) + 1) + pair_tier
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    keeps_isolation = (tables.tier_default[pair_tier] == TIER_PASS) | (counts[inverse.reshape(-1)] > 1) | ~pair_live
    harmful = pair_effect | ~keeps_isolation
    blocking = np.bincount(tables.target_policy[harmful], minlength=len(tables.policies))
    return blocking == 0


@dataclass(frozen=True)
class PolicyIssue:
    """One finding about a model policy (and rule), before it is worded for a report."""

    code: str
    policy: Policy
    rule: Rule | None = None

    def finding(self) -> Finding:
        policy, rule = self.policy, self.rule
        label = f"{policy.kind} {policy.name}" + (f" {rule.name}" if rule is not None else "")
        where = rule.source if rule is not None else policy.source
        return Finding(self.code, "warning", label + MESSAGES[self.code], where.file, where.line or None)


MESSAGES = {
    "policy-selects-nothing": " selects no endpoint of the input, so it has no effect",
    "policy-shadowed": " is redundant: everything it matches is decided the same way without it (by earlier "
    "rules or other policies selecting the same endpoints)",
    "rule-never-matches": " can never match: its peers, ports or selector select nothing in the input",
    "unreachable-deny": " never denies anything: everything it matches is decided before it",
}


def diagnose_policies(compiled: CompiledCluster) -> list[PolicyIssue]:
    issues: list[PolicyIssue] = []
    selects: dict[int, bool] = {}
    redundant: dict[int, bool] = {}
    policies: dict[int, Policy] = {}
    for direction in (Direction.INGRESS, Direction.EGRESS):
        tables = compiled.tables(direction)
        if not tables.policies:
            continue
        rule_hit, pair_effect, pair_live = direction_effects(compiled, tables)
        matchable = matchable_rules(compiled, tables)
        quiet = redundant_policies(tables, pair_effect, pair_live)
        for p, policy in enumerate(tables.policies):
            key = id(policy)
            policies[key] = policy
            selects[key] = selects.get(key, False) or len(tables.policy_targets[p]) > 0
            redundant[key] = redundant.get(key, True) and bool(quiet[p])
        for r, (p, rule) in enumerate(zip(rule_owners(tables), tables.rules, strict=True)):
            policy = tables.policies[p]
            if policy.kind in SYNTHETIC_KINDS or not len(tables.policy_targets[p]):
                continue
            if not matchable[r]:
                issues.append(PolicyIssue("rule-never-matches", policy, rule))
            elif rule.action is Action.DENY and not rule_hit[r]:
                issues.append(PolicyIssue("unreachable-deny", policy, rule))
    policy_issues: list[PolicyIssue] = []
    for key, policy in policies.items():
        if policy.kind in SYNTHETIC_KINDS:
            continue
        if not selects[key]:
            if policy.tier.rank not in HOST_ONLY_RANKS:  # those are reported as host-endpoint-only
                policy_issues.append(PolicyIssue("policy-selects-nothing", policy))
        elif redundant[key] and (policy.ingress or policy.egress):
            policy_issues.append(PolicyIssue("policy-shadowed", policy))
    return policy_issues + issues


def find_policy_findings(compiled: CompiledCluster) -> list[Finding]:
    return [issue.finding() for issue in diagnose_policies(compiled)]
