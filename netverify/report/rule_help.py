"""What each rule id of `netverify check` means and how to fix it: one catalogue for SARIF's
reportingDescriptors, JUnit and the README, so a rule is described once."""

from __future__ import annotations

from dataclasses import dataclass

PROJECT_URL = "https://github.com/netverify/netverify"
HELP_URL = f"{PROJECT_URL}#rules"


@dataclass(frozen=True)
class RuleHelp:
    short: str
    full: str
    fix: str
    level: str  # SARIF default level: "error", "warning" or "note"


RULES: dict[str, RuleHelp] = {
    "cross-tenant-flow": RuleHelp(
        "Traffic can flow between two tenants",
        "A pod of one tenant can send traffic to a pod of another tenant, and the isolation contract neither "
        "shares the destination nor declares the exception. The result points at the policy rule that "
        "allowed the flow; the other rules that allowed it are listed as related locations.",
        "Narrow the rule's peers or ports so that they no longer reach the other tenant, isolate the pod with "
        "a policy if it is allowed by default, declare the exception in the contract (`allow`), or annotate "
        'the policy with `netverify.io/allow-cross-tenant: "<reason>"` when the flow is intended.',
        "error",
    ),
    "policy-selects-nothing": RuleHelp(
        "Policy selects no endpoint",
        "The policy's selector matches no pod, workload or host endpoint of the input, so it has no effect.",
        "Fix the selector (a label typo is the usual cause) or the namespace, or delete the policy.",
        "warning",
    ),
    "rule-never-matches": RuleHelp(
        "Rule can never match",
        "The rule's peers or ports select nothing (for example a podSelector that matches no pod, or a named "
        "port that no destination pod defines), so it never allows or denies anything.",
        "Fix the peer selector or the port (name, number, protocol), or delete the rule.",
        "warning",
    ),
    "policy-shadowed": RuleHelp(
        "Policy is redundant",
        "Every flow the policy matches is already decided the same way before it (by earlier rules, or by "
        "other policies that select the same endpoints), and the endpoints stay isolated without it: "
        "removing it changes no connectivity.",
        "Delete the policy, or change it if it was meant to allow or deny something the others do not.",
        "warning",
    ),
    "unreachable-deny": RuleHelp(
        "Deny rule is never reached",
        "Everything the Deny rule matches is decided by earlier rules or tiers, so it never denies anything; "
        "the protection it seems to give comes from elsewhere, or not at all.",
        "Move the rule (or its policy's order/tier) before the rules that decide its traffic, or delete it.",
        "warning",
    ),
    "stale-baseline-entry": RuleHelp(
        "Baseline entry no longer matches a violation",
        "The baseline accepts a violation that the check no longer finds: it was fixed.",
        "Rewrite the baseline with `netverify check ... --write-baseline FILE` so it cannot hide a new leak.",
        "note",
    ),
    "unsupported-policy-kind": RuleHelp(
        "Policy kind not modelled",
        "The input holds a kind that can change reachability (CiliumNetworkPolicy, Istio AuthorizationPolicy, "
        "...) but is not modelled; its effect is not included in the results.",
        "Review that kind by hand, or convert it to a supported kind.",
        "warning",
    ),
    "approximated-rule": RuleHelp(
        "Rule evaluated approximately",
        "A rule condition cannot be evaluated exactly from manifests (source ports, HTTP matches, Service "
        "references) and is approximated toward allowing.",
        "Check the rule by hand; results may show flows the cluster would not allow.",
        "warning",
    ),
    "unsupported-field": RuleHelp(
        "Field not modelled",
        "A policy field is not modelled and is approximated or ignored.",
        "Check the policy by hand.",
        "warning",
    ),
    "ignored-rules": RuleHelp(
        "Rules without effect",
        "Rules are written for a direction the policy does not act in (policyTypes/types), so they are "
        "ignored, as the cluster ignores them.",
        "Add the direction to policyTypes/types, or delete the rules.",
        "warning",
    ),
    "ambiguous-priority": RuleHelp(
        "Ambiguous priority",
        "Two AdminNetworkPolicies share a priority; their relative order is undefined.",
        "Give each AdminNetworkPolicy its own priority.",
        "warning",
    ),
    "untracked-policy": RuleHelp(
        "Untracked policy",
        "A Calico doNotTrack policy applies to host endpoints only.",
        "Check that the policy is meant for host endpoints.",
        "warning",
    ),
    "undefined-profile": RuleHelp(
        "Undefined profile",
        "A host endpoint lists a Calico Profile that the input does not define.",
        "Add the Profile to the input or remove it from the endpoint.",
        "warning",
    ),
    "host-endpoint-address": RuleHelp(
        "Host endpoint address",
        "A host endpoint's addresses could not be modelled exactly.",
        "Give the host endpoint its expectedIPs.",
        "warning",
    ),
    "host-endpoint-only": RuleHelp(
        "Host endpoint only",
        "The policy applies to host endpoints only.",
        "No action needed if that is intended.",
        "note",
    ),
}

GENERIC = RuleHelp("netverify finding", "A finding of netverify check.", "See the message.", "warning")


def rule_help(rule: str) -> RuleHelp:
    return RULES.get(rule, GENERIC)


# the external-traffic rules live in their own module (it needs RuleHelp, defined above)
from netverify.report.rule_help_alb import LOAD_BALANCER_RULES  # noqa: E402

RULES.update(LOAD_BALANCER_RULES)
