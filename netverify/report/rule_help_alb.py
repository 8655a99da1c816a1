"""Rule help for the external-traffic checks (ALBs, IngressGroups, subnets, exposure); merged into
`rule_help.RULES` so SARIF, JUnit and the README describe every rule id from one catalogue."""

from __future__ import annotations

from netverify.report.rule_help import RuleHelp

LOAD_BALANCER_RULES: dict[str, RuleHelp] = {
    "ingress-group-cross-tenant": RuleHelp(
        "Tenants share one ALB",
        "Ingresses of different tenants join one IngressGroup, so the AWS Load Balancer Controller builds one "
        "ALB for all of them: any member can add rules that take over the others' hosts and paths, and its "
        "group-wide settings (scheme, subnets, inbound CIDRs, security groups) apply to everyone.",
        "Give each tenant its own group (or none), or restrict the IngressClass with IngressClassParams "
        "(namespaceSelector, group) so tenants cannot join each other's groups.",
        "error",
    ),
    "cidr-admits-other-tenants": RuleHelp(
        "CIDR rule admits other tenants' pods",
        "An allow rule names an address range that overlaps a subnet where pods of other tenants get their "
        "addresses (with the VPC CNI, pods take addresses in their node's subnet), so it admits those pods "
        "whatever the rule was meant for (usually the ALB subnets).",
        "Narrow the CIDR to subnets that hold only load balancers, or keep pods out of those subnets.",
        "error",
    ),
    "internet-exposure": RuleHelp(
        "Pod reachable from the internet against the contract",
        "The contract's exposure.internet forbids it: the pod admits internet addresses itself (an ipBlock or "
        "nets rule, or no ingress policy), or an internet-facing ALB forwards to it with `none`.",
        "Admit only the load balancer's subnets, or make the ALB internal.",
        "error",
    ),
    "ingress-group-conflict": RuleHelp(
        "Conflicting IngressGroup settings",
        "Members of one IngressGroup set a group-wide annotation to different values (or define several "
        "default backends); the controller stops reconciling the whole group.",
        "Set the value on one member only, or the same value everywhere.",
        "warning",
    ),
    "ingress-host-takeover": RuleHelp(
        "Host/path taken over by another namespace",
        "A rule of another namespace comes first in the ALB's order (group.order, then namespace/name) and "
        "matches every request this rule would get.",
        "Change group.order or the host/path, or split the IngressGroup.",
        "warning",
    ),
    "ingress-backend-blocked": RuleHelp(
        "ALB cannot reach its target pods",
        "The pod's policy blocks the ALB's source addresses (its subnets; node addresses in instance mode with "
        "externalTrafficPolicy Cluster) on the traffic or health-check port: requests fail with 502/504.",
        "Allow the ALB's subnets on the target and health-check ports in the pod's ingress policy.",
        "warning",
    ),
    "cidr-admits-load-balancers": RuleHelp(
        "CIDR rule admits other tenants' load balancers",
        "An allow rule's range holds the ALBs of other tenants, so their load balancers can reach these pods.",
        "Place each tenant's ALB in its own subnets (subnets annotation or IngressClassParams) and admit only those.",
        "warning",
    ),
    "cidr-admits-pods": RuleHelp(
        "CIDR rule admits nodes or pods",
        "An allow rule's range overlaps subnets that hold nodes or pods, not only load balancers.",
        "Narrow the CIDR to the load balancer subnets.",
        "warning",
    ),
    "alb-unknown-target": RuleHelp(
        "Target group outside the input",
        "An ALB forwards to a target group by ARN or name, or a TargetGroupBinding registers pods in one; the "
        "controller checks no ownership, so who else is behind it is unknown.",
        "Describe the target group's load balancer, or restrict TargetGroupBindings with RBAC.",
        "warning",
    ),
    "ingress-class-bypass": RuleHelp(
        "IngressClassParams bypassed",
        "The Ingress uses the legacy kubernetes.io/ingress.class annotation, which the controller honours "
        "before IngressClass, so the class's IngressClassParams restrictions do not apply.",
        "Use spec.ingressClassName and run the controller with --disable-ingress-class-annotation.",
        "warning",
    ),
    "alb-backend-rules-unmanaged": RuleHelp(
        "ALB security groups without backend rules",
        "The ALB uses its own security groups without manage-backend-security-group-rules, so nothing opens "
        "the node or pod security groups to it.",
        'Set alb.ingress.kubernetes.io/manage-backend-security-group-rules: "true" or add the rules.',
        "warning",
    ),
    "alb-placement-unknown": RuleHelp(
        "ALB placement unknown",
        "The ALB's subnets could not be resolved from the subnet definitions given, so the addresses its "
        "target pods see are unknown and the checks that need them are skipped.",
        "Give the subnet definitions (eksctl, describe-subnets, terraform show -json) or fix the subnet names.",
        "warning",
    ),
}
