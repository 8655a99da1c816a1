"""The whole model of one input: namespaces, endpoints and policies, plus what loading found wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.ingress import (
    ControllerSettings,
    Ingress,
    IngressClass,
    IngressClassParams,
    Service,
    TargetGroupBinding,
)
from netverify.model.network import Subnet, Vpc
from netverify.model.policy import EndpointProfile, Policy
from netverify.model.workloads import Namespace, NetworkSet, Node, PodGroup


@dataclass
class Cluster:
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    groups: list[PodGroup] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    network_sets: list[NetworkSet] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    service_accounts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # labels
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Calico host endpoints by name: kept apart from `groups` (pods), which are namespaced by definition
    host_endpoints: dict[str, PodGroup] = field(default_factory=dict)
    endpoint_profiles: dict[str, EndpointProfile] = field(default_factory=dict)  # Calico Profiles by name
    # external traffic (issue 4): Services, Ingresses and the AWS Load Balancer Controller's objects
    services: list[Service] = field(default_factory=list)
    ingresses: list[Ingress] = field(default_factory=list)
    ingress_classes: dict[str, IngressClass] = field(default_factory=dict)
    ingress_class_params: dict[str, IngressClassParams] = field(default_factory=dict)
    target_group_bindings: list[TargetGroupBinding] = field(default_factory=list)
    alb_controller: ControllerSettings = field(default_factory=ControllerSettings)
    subnets: list[Subnet] = field(default_factory=list)  # VPC subnets from infrastructure files
    vpcs: dict[str, Vpc] = field(default_factory=dict)  # their VPCs by id

    @property
    def endpoint_groups(self) -> list[PodGroup]:
        """Every endpoint the matrix reports: pods and workloads, then host endpoints."""
        return [*self.groups, *self.host_endpoints.values()]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]
