"""IngressGroups into load balancers, the way the AWS Load Balancer Controller builds them.

Reference: aws-alb-ingress-subnets.md §1.1 (which Ingresses the controller manages: the legacy class
annotation first, then the IngressClass), §1.2 (annotations; "exclusive" group-wide settings, a conflict
breaks the whole group), §1.3 (rule order: group.order, then namespace/name; inside an Ingress Exact, then
longest Prefix, then ImplementationSpecific), §1.4 (IngressClassParams override annotations), §1.8 (subnets).
Every problem is reported with the line of the annotation or object that causes it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from netverify.compile.alb_subnets import resolve_subnets
from netverify.compile.target_groups import TargetResolver
from netverify.model.addresses import IPRange, parse_cidr
from netverify.model.cluster import Cluster
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.ingress import (
    ALB_CONTROLLER,
    ANNOTATION_PREFIX,
    LEGACY_CLASS_ANNOTATION,
    Ingress,
    IngressClassParams,
)
from netverify.model.load_balancers import LoadBalancer, Route, TargetGroup
from netverify.model.source import SourceRef

# group-wide settings one member sets for all; two different values break the group (§1.2)
EXCLUSIVE = (
    "scheme",
    "subnets",
    "security-groups",
    "manage-backend-security-group-rules",
    "inbound-cidrs",
    "ssl-redirect",
    "ip-address-type",
)
_PATH_TYPE_RANK = {"Exact": 0, "Prefix": 1, "ImplementationSpecific": 2}


@dataclass
class Membership:
    ingress: Ingress
    params: IngressClassParams | None
    legacy: bool  # managed through kubernetes.io/ingress.class, bypassing IngressClass and its params


@dataclass
class LoadBalancerModel:
    """What the compile step knows about external traffic: load balancers and what is wrong with them."""

    balancers: list[LoadBalancer] = field(default_factory=list)
    bindings: list[TargetGroup] = field(default_factory=list)  # TargetGroupBindings
    diagnostics: list[Diagnostic] = field(default_factory=list)
    legacy: list[Ingress] = field(default_factory=list)  # managed through the legacy class annotation
    assumed_classes: set[str] = field(default_factory=set)  # IngressClass names taken for the controller's

    def report(self, code: str, message: str, where: SourceRef | None) -> None:
        self.diagnostics.append(Diagnostic(Severity.WARNING, message, where, code))


def _order(ingress: Ingress, model: LoadBalancerModel) -> int:
    text = ingress.alb("group.order")
    if text is None:
        return 0
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not -1000 <= value <= 1000:
        model.report(
            "ingress-bad-annotation",
            f"{ANNOTATION_PREFIX}group.order {text!r}: expected an integer from -1000 to 1000",
            ingress.where("group.order"),
        )
        return 0
    return value


def classify(cluster: Cluster, ingress: Ingress, model: LoadBalancerModel) -> Membership | None:
    """Is the Ingress the controller's, and under which IngressClassParams (§1.1, §1.4)?"""
    settings = cluster.alb_controller
    legacy = ingress.annotations.get(LEGACY_CLASS_ANNOTATION)
    if legacy is not None and not settings.disable_ingress_class_annotation:
        return Membership(ingress, None, True) if legacy == settings.ingress_class else None
    name = ingress.class_name
    if name is None:
        defaults = [c for c in cluster.ingress_classes.values() if c.is_default]
        if not defaults:
            return None
        name = defaults[0].name
    ingress_class = cluster.ingress_classes.get(name)
    if ingress_class is None:
        if name != settings.ingress_class:
            return None
        if name not in model.assumed_classes:
            model.assumed_classes.add(name)
            model.diagnostics.append(
                Diagnostic(
                    Severity.INFO,
                    f"IngressClass {name!r} (used by Ingress {ingress.id} and maybe others) is not in the input; "
                    "assumed to be the AWS Load Balancer Controller's (its Helm chart creates it)",
                    ingress.source,
                    "assumed-ingress-class",
                )
            )
        return Membership(ingress, None, False)
    if ingress_class.controller != ALB_CONTROLLER:
        return None
    params = None
    if ingress_class.parameters is not None and ingress_class.parameters[1] == "IngressClassParams":
        params = cluster.ingress_class_params.get(ingress_class.parameters[2])
        if params is None:
            model.report(
                "ingress-missing-params",
                f"IngressClass {name} names IngressClassParams {ingress_class.parameters[2]!r}, which is not in "
                "the input; its overrides (scheme, group, subnets, namespaceSelector) are unknown",
                ingress_class.source,
            )
    if params is not None and params.namespace_selector is not None:
        namespace = cluster.namespaces.get(ingress.namespace)
        labels = namespace.labels if namespace else {"kubernetes.io/metadata.name": ingress.namespace}
        if not params.namespace_selector.matches(labels):
            model.diagnostics.append(
                Diagnostic(
                    Severity.INFO,
                    f"Ingress {ingress.id}: IngressClass {name} does not admit namespace {ingress.namespace} "
                    "(IngressClassParams namespaceSelector); the controller rejects it",
                    ingress.source,
                    "ingress-rejected",
                )
            )
            return None
    return Membership(ingress, params, False)


def _group_id(membership: Membership, cluster: Cluster) -> tuple[str, bool]:
    if membership.params is not None and membership.params.group:
        return membership.params.group, True
    name = membership.ingress.alb("group.name")
    if name and not cluster.alb_controller.disable_group_name_annotation:
        return name, True
    return membership.ingress.id, False


def _exclusive(members: list[Membership], model: LoadBalancerModel, group: str) -> dict[str, str]:
    """The group-wide value of each exclusive annotation; conflicting values are reported."""
    chosen: dict[str, str] = {}
    for name in EXCLUSIVE:
        values: dict[str, list[Ingress]] = defaultdict(list)
        for m in members:
            value = m.ingress.alb(name)
            if value is not None:
                values[" ".join(value.replace(",", " ").split())].append(m.ingress)
        if len(values) > 1:
            first = next(iter(values.values()))[0]
            described = "; ".join(f"{v!r} by {', '.join(i.id for i in ings)}" for v, ings in values.items())
            model.report(
                "ingress-group-conflict",
                f"IngressGroup {group}: conflicting {ANNOTATION_PREFIX}{name} ({described}); the controller "
                "stops reconciling the whole group",
                first.where(name),
            )
        if values:
            chosen[name] = next(iter(values))
    return chosen


def _listen_ports(members: list[Membership], model: LoadBalancerModel) -> tuple[tuple[str, int], ...]:
    ports: set[tuple[str, int]] = set()
    for m in members:
        text = m.ingress.alb("listen-ports")
        if text is None:
            ports.add(("HTTPS", 443) if m.ingress.alb("certificate-arn") else ("HTTP", 80))
            continue
        try:
            entries = json.loads(text)
            for entry in entries:
                for protocol, port in entry.items():
                    if protocol not in ("HTTP", "HTTPS") or not isinstance(port, int) or not 1 <= port <= 65535:
                        raise ValueError(f"{protocol}: {port}")
                    ports.add((protocol, port))
        except (ValueError, TypeError, AttributeError):
            model.report(
                "ingress-bad-annotation",
                f"{ANNOTATION_PREFIX}listen-ports {text!r}: expected JSON such as "
                '[{"HTTP": 80}, {"HTTPS": 443}]',
                m.ingress.where("listen-ports"),
            )
            ports.add(("HTTP", 80))
    return tuple(sorted(ports, key=lambda p: (p[1], p[0])))


def _inbound(
    members: list[Membership], exclusive: dict[str, str], model: LoadBalancerModel
) -> tuple[IPRange, ...] | None:
    params = next((m.params for m in members if m.params and m.params.inbound_cidrs is not None), None)
    if params is None and "security-groups" in exclusive:
        return None  # the frontend security groups decide, and netverify cannot see them
    if params is not None:
        texts = list(params.inbound_cidrs or ())
    elif "inbound-cidrs" in exclusive:
        texts = exclusive["inbound-cidrs"].split()
    else:
        texts = ["0.0.0.0/0"] + (["::/0"] if exclusive.get("ip-address-type", "").startswith("dualstack") else [])
    ranges: list[IPRange] = []
    for text in texts:
        try:
            ranges.append(parse_cidr(text))
        except ValueError as exc:
            where = next((m.ingress.where("inbound-cidrs") for m in members if m.ingress.alb("inbound-cidrs")), None)
            model.report("ingress-bad-annotation", f"{ANNOTATION_PREFIX}inbound-cidrs: {exc}", where)
    return tuple(ranges)


def _ordered_paths(ingress: Ingress):
    """Exact first, then Prefix longest first, then ImplementationSpecific in manifest order (§1.3)."""
    indexed = list(enumerate(ingress.paths))
    return [
        p
        for _, p in sorted(
            indexed,
            key=lambda item: (
                _PATH_TYPE_RANK.get(item[1].path_type, 2),
                -len(item[1].path or "") if item[1].path_type == "Prefix" else 0,
                item[0],
            ),
        )
    ]


def _build(
    group: str, explicit: bool, members: list[Membership], cluster: Cluster, model: LoadBalancerModel,
    targets: TargetResolver,
) -> LoadBalancer:
    members.sort(key=lambda m: (_order(m.ingress, model), m.ingress.namespace, m.ingress.name))
    exclusive = _exclusive(members, model, group)
    params = next((m.params for m in members if m.params is not None), None)
    scheme = (params.scheme if params else None) or exclusive.get("scheme") or cluster.alb_controller.default_scheme
    forced_type = params.target_type if params else None
    routes: list[Route] = []
    for m in members:
        for path in _ordered_paths(m.ingress):
            found = targets.backend_targets(m.ingress, path.backend, forced_type)
            routes.append(Route(m.ingress, path.host, path.path, path.path_type, found, path.source))
    defaults = [m.ingress for m in members if m.ingress.default_backend is not None]
    default_target = None
    if len(defaults) > 1:
        model.report(
            "ingress-group-conflict",
            f"IngressGroup {group}: several members define a defaultBackend ({', '.join(i.id for i in defaults)}); "
            "the controller fails with 'multiple ingress defined default backend'",
            defaults[1].where(),
        )
    if defaults:
        backend = defaults[0].default_backend
        assert backend is not None
        found = targets.backend_targets(defaults[0], backend, forced_type)
        default_target = found[0] if found else None
    subnets, source_ranges = resolve_subnets(members, params, exclusive, scheme, cluster, model.report, group)
    all_targets = {id(t): t for r in routes for t in r.targets}
    if default_target is not None:
        all_targets[id(default_target)] = default_target
    return LoadBalancer(
        id=group,
        explicit_group=explicit,
        members=[m.ingress for m in members],
        scheme=scheme,
        listen_ports=_listen_ports(members, model),
        inbound=_inbound(members, exclusive, model),
        subnets=subnets,
        source_ranges=source_ranges,
        routes=routes,
        default_target=default_target,
        target_groups=list(all_targets.values()),
        source=members[0].ingress.source,
        settings=exclusive,
    )


def build_load_balancers(cluster: Cluster) -> LoadBalancerModel:
    model = LoadBalancerModel()
    targets = TargetResolver(cluster, model.report)
    groups: dict[str, tuple[bool, list[Membership]]] = {}
    for ingress in cluster.ingresses:
        membership = classify(cluster, ingress, model)
        if membership is None:
            continue
        if membership.legacy:
            model.legacy.append(ingress)
        group, explicit = _group_id(membership, cluster)
        groups.setdefault(group, (explicit, []))[1].append(membership)
    for group, (explicit, members) in sorted(groups.items()):
        model.balancers.append(_build(group, explicit, members, cluster, model, targets))
    for binding in cluster.target_group_bindings:
        service = targets.services.get((binding.namespace, binding.service))
        target = targets.external_target(binding.namespace, binding.target_group, binding.source)
        if service is not None:
            # the binding's type, when omitted, is the AWS target group's: unknown here, and only the
            # finding about the binding uses this target, so no instance-mode check is made
            found = targets.service_target(
                _binding_owner(binding), binding.service, binding.port, binding.target_type or "ip", binding.source
            )
            if found is not None:
                target = TargetGroup(**{**_fields(found), "external": binding.target_group, "source": binding.source})
        model.bindings.append(target)
    return model


def _binding_owner(binding) -> Ingress:
    """TargetGroupBindings resolve their Service like an Ingress in their namespace would."""
    return Ingress(binding.namespace, binding.name, None, {}, None, (), binding.source)


def _fields(target: TargetGroup) -> dict:
    return {name: getattr(target, name) for name in TargetGroup.__dataclass_fields__}
