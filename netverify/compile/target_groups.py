"""Ingress backends into target groups: which pods an ALB forwards to, on which port, seen from where.

Follows the AWS Load Balancer Controller (reference aws-alb-ingress-subnets.md §1.2, §1.5, §2.2): a backend
names a Service in the Ingress's own namespace; `use-annotation` backends forward as `actions.<name>` says,
possibly to a target group ARN/name that nothing in the input describes; target type and health-check port
come from the Service's annotation first, then the Ingress's, then IngressClassParams/controller defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from netverify.model.cluster import Cluster
from netverify.model.ingress import ANNOTATION_PREFIX, Backend, Ingress, Service
from netverify.model.load_balancers import TargetGroup
from netverify.model.source import SourceRef

Report = Callable[[str, str, SourceRef | None], None]  # (code, message, where)


def service_pods(cluster: Cluster, service: Service) -> list[int]:
    """Groups the Service's selector picks in its namespace (a Service without a selector picks none)."""
    if not service.selector:
        return []
    wanted = service.selector.items()
    return [
        g
        for g, group in enumerate(cluster.groups)
        if group.namespace == service.namespace and all(group.labels.get(k) == v for k, v in wanted)
    ]


class TargetResolver:
    """Builds the target groups of one cluster's Ingresses; remembers them so equal backends are one group."""

    def __init__(self, cluster: Cluster, report: Report):
        self.cluster = cluster
        self.report = report
        self.services = {(s.namespace, s.name): s for s in cluster.services}
        self._made: dict[tuple, TargetGroup] = {}

    def _setting(self, name: str, service: Service | None, ingress: Ingress) -> str | None:
        key = ANNOTATION_PREFIX + name
        if service is not None and key in service.annotations:
            return service.annotations[key]
        return ingress.annotations.get(key)

    def service_target(
        self, ingress: Ingress, service_name: str, port_ref: int | str | None, forced_type: str | None,
        source: SourceRef | None,
    ) -> TargetGroup | None:
        namespace = ingress.namespace
        service = self.services.get((namespace, service_name))
        if service is None:
            self.report(
                "ingress-missing-service",
                f"Ingress {ingress.id} forwards to Service {namespace}/{service_name}, which is not in the input "
                "(an Ingress can only name Services in its own namespace)",
                source,
            )
            return None
        port = service.port(port_ref)
        if port is None:
            self.report(
                "ingress-missing-service",
                f"Ingress {ingress.id} forwards to port {port_ref!r} of Service {service.id}, which has no such port",
                source,
            )
            return None
        target_type = forced_type or self._setting("target-type", service, ingress) or (
            self.cluster.alb_controller.default_target_type
        )
        if target_type == "instance" and service.type not in ("NodePort", "LoadBalancer"):
            self.report(
                "ingress-instance-target",
                f"Ingress {ingress.id}: target-type instance needs Service {service.id} of type NodePort or "
                f"LoadBalancer, not {service.type} (the controller fails to reconcile it)",
                source,
            )
        health = self._setting("healthcheck-port", service, ingress)
        health_port: int | str | None = None
        if health and health != "traffic-port":
            health_port = int(health) if health.isdigit() else health
        key = (service.id, port.port, port.protocol, target_type, health_port)
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = TargetGroup(
                namespace=namespace,
                service=service,
                service_port=port,
                target_type=target_type,
                health_check_port=health_port,
                snat_to_nodes=target_type == "instance" and service.external_traffic_policy == "Cluster",
                groups=service_pods(self.cluster, service),
                source=source,
            )
        return found

    def external_target(self, namespace: str, name: str, source: SourceRef | None) -> TargetGroup:
        return TargetGroup(namespace, None, None, "ip", None, external=name, source=source)

    def backend_targets(self, ingress: Ingress, backend: Backend, forced_type: str | None) -> list[TargetGroup]:
        if backend.action is None:
            found = self.service_target(ingress, backend.service or "", backend.port, forced_type, backend.source)
            return [found] if found else []
        return self._action_targets(ingress, backend, forced_type)

    def _action_targets(self, ingress: Ingress, backend: Backend, forced_type: str | None) -> list[TargetGroup]:
        key = f"actions.{backend.action}"
        text = ingress.alb(key)
        where = ingress.where(key) or backend.source
        if text is None:
            self.report(
                "ingress-missing-action",
                f"Ingress {ingress.id}: backend uses annotation {ANNOTATION_PREFIX}{key}, which is not set",
                backend.source,
            )
            return []
        try:
            action = json.loads(text)
        except ValueError as exc:
            self.report("ingress-bad-annotation", f"{ANNOTATION_PREFIX}{key}: invalid JSON ({exc})", where)
            return []
        if not isinstance(action, dict) or action.get("type") != "forward":
            return []  # redirect or fixed-response: no pod behind it
        config = action.get("forwardConfig") or {}
        entries = config.get("targetGroups") if isinstance(config, dict) else None
        if not isinstance(entries, list):
            entries = [action]
        targets: list[TargetGroup] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            external = entry.get("targetGroupARN") or entry.get("targetGroupName")
            if external:
                targets.append(self.external_target(ingress.namespace, str(external), where))
            elif entry.get("serviceName"):
                port = entry.get("servicePort")
                port = int(port) if isinstance(port, str) and port.isdigit() else port
                found = self.service_target(ingress, str(entry["serviceName"]), port, forced_type, where)
                if found:
                    targets.append(found)
        return targets
