"""The AWS Load Balancer Controller's rules, one test per rule (reference aws-alb-ingress-subnets.md §1-§2)."""

from __future__ import annotations

import json

import pytest

from netverify.engine.external_paths import load_balancer_flows
from netverify.engine.hops import ALL, NONE, SOME, load_balancer_hops
from netverify.load.cluster_loader import load_cluster
from netverify.pipeline import analyze_cluster
from netverify.report.matrix_formats import MATRIX_FORMATS, MatrixView

SUBNETS = """
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: prod, region: us-east-1}
vpc:
  id: vpc-1
  cidr: 10.9.0.0/16
  subnets:
    public:
      us-east-1a: {id: subnet-pub-a, cidr: 10.9.0.0/24}
      us-east-1b: {id: subnet-pub-b, cidr: 10.9.1.0/24}
    private:
      us-east-1a: {id: subnet-priv-a, cidr: 10.9.16.0/20}
      us-east-1b: {id: subnet-priv-b, cidr: 10.9.32.0/20}
managedNodeGroups: [{name: ng, privateNetworking: true}]
"""


def app(ns: str, name: str = "web", ports: str = "[{name: http, containerPort: 8080}]", svc_type: str = "ClusterIP",
        svc_annotations: str = "{}", policy: str | None = None, etp: str = "Cluster") -> str:
    text = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, ports: {ports}}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}, annotations: {svc_annotations}}}
spec:
  type: {svc_type}
  externalTrafficPolicy: {etp}
  selector: {{app: {name}}}
  ports: [{{name: http, port: 80, targetPort: http, nodePort: 30080}}]
"""
    if svc_type == "ClusterIP":
        text = text.replace("  externalTrafficPolicy: Cluster\n", "").replace(", nodePort: 30080", "")
    if policy is not None:
        text += f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web-ingress, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
  ingress: {policy}
"""
    return text


def ingress(ns: str, name: str = "web", annotations: dict | None = None, class_name: str | None = "alb",
            host: str = "x.example.com", paths: list[tuple[str, str]] | None = None, service: str = "web",
            default: bool = False) -> str:
    spec: dict = {}
    if class_name:
        spec["ingressClassName"] = class_name
    backend = {"service": {"name": service, "port": {"name": "http"}}}
    if default:
        spec["defaultBackend"] = backend
    spec["rules"] = [
        {"host": host, "http": {"paths": [{"path": p, "pathType": t, "backend": backend}
                                           for p, t in paths or [("/", "Prefix")]]}}
    ]
    return json.dumps(
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
         "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}}, "spec": spec}
    ) + "\n"  # a newline makes it a document, not a path


ALB_CLASS = (
    "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: alb}\n"
    "spec: {controller: ingress.k8s.aws/alb}\n"
)
IP = {"alb.ingress.kubernetes.io/target-type": "ip"}
PUBLIC = {**IP, "alb.ingress.kubernetes.io/scheme": "internet-facing"}


def analyze(*docs: str):
    cluster = load_cluster(list(docs))
    assert not cluster.errors, [str(e) for e in cluster.errors]
    return analyze_cluster(cluster)


def balancers(matrix):
    return matrix.compiled.load_balancers.balancers


# ---- which Ingresses the controller manages (§1.1) ----------------------------------------------------

def test_legacy_class_annotation_is_checked_before_ingress_class_name():
    m = analyze(ALB_CLASS, app("a"), ingress("a", annotations={"kubernetes.io/ingress.class": "nginx"}))
    assert balancers(m) == []
    m = analyze(ALB_CLASS, app("a"), ingress("a", class_name=None, annotations={"kubernetes.io/ingress.class": "alb"}))
    assert [lb.id for lb in balancers(m)] == ["a/web"] and m.compiled.load_balancers.legacy


def test_ingress_without_class_uses_the_default_ingress_class():
    default_class = ALB_CLASS.replace("metadata: {name: alb}", "metadata: {name: lbc, annotations: "
                                      "{ingressclass.kubernetes.io/is-default-class: 'true'}}")
    assert [lb.id for lb in balancers(analyze(default_class, app("a"), ingress("a", class_name=None)))] == ["a/web"]
    assert balancers(analyze(ALB_CLASS, app("a"), ingress("a", class_name=None))) == []


def test_ingress_class_of_another_controller_is_not_an_alb():
    nginx = ALB_CLASS.replace("ingress.k8s.aws/alb", "k8s.io/ingress-nginx").replace("name: alb", "name: nginx")
    assert balancers(analyze(nginx, app("a"), ingress("a", class_name="nginx"))) == []


PARAMS_CLASS = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: alb}
spec: {controller: ingress.k8s.aws/alb, parameters: {apiGroup: elbv2.k8s.aws, kind: IngressClassParams, name: p}}
---
apiVersion: elbv2.k8s.aws/v1beta1
kind: IngressClassParams
metadata: {name: p}
spec: SPEC
"""


def test_params_namespace_selector_rejects_ingresses_of_other_namespaces():
    params = PARAMS_CLASS.replace("SPEC", "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}")
    m = analyze(params, app("a"), app("b"), ingress("a"), ingress("b"))
    assert [lb.id for lb in balancers(m)] == ["a/web"]


def test_params_group_joins_every_ingress_of_the_class_into_one_alb():
    params = PARAMS_CLASS.replace("SPEC", "{group: {name: everyone}}")
    m = analyze(params, app("a"), app("b"), ingress("a"), ingress("b", annotations={
        "alb.ingress.kubernetes.io/group.name": "mine"}))
    assert [(lb.id, lb.namespaces) for lb in balancers(m)] == [("everyone", ["a", "b"])]


def test_params_scheme_overrides_the_scheme_annotation():
    params = PARAMS_CLASS.replace("SPEC", "{scheme: internal}")
    m = analyze(params, app("a"), ingress("a", annotations=PUBLIC))
    assert balancers(m)[0].scheme == "internal"


CONTROLLER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: aws-load-balancer-controller, namespace: kube-system}
spec:
  template:
    metadata: {labels: {app: lbc}}
    spec:
      containers:
        - name: controller
          image: public.ecr.aws/eks/aws-load-balancer-controller:v2.8.1
          args: [--cluster-name=prod, --default-load-balancer-scheme, internet-facing, --default-target-type=ip,
                 --disable-ingress-group-name-annotation]
"""


def test_controller_flags_set_default_scheme_target_type_and_disable_group_names():
    m = analyze(ALB_CLASS, CONTROLLER, app("a"), app("b"),
                ingress("a", annotations={"alb.ingress.kubernetes.io/group.name": "g"}),
                ingress("b", annotations={"alb.ingress.kubernetes.io/group.name": "g"}))
    assert sorted(lb.id for lb in balancers(m)) == ["a/web", "b/web"]  # group.name ignored
    lb = balancers(m)[0]
    assert lb.scheme == "internet-facing" and lb.target_groups[0].target_type == "ip"
    assert m.compiled.cluster.alb_controller.cluster_name == "prod"


def test_controller_defaults_are_internal_scheme_and_instance_targets():
    lb = balancers(analyze(ALB_CLASS, app("a", svc_type="NodePort"), ingress("a")))[0]
    assert lb.scheme == "internal" and lb.target_groups[0].target_type == "instance"


# ---- rule order and group settings (§1.2, §1.3) ---------------------------------------------------------

def test_members_are_ordered_by_group_order_then_namespace_and_name():
    group = {"alb.ingress.kubernetes.io/group.name": "g", **IP}
    m = analyze(ALB_CLASS, app("a"), app("b"), app("c"),
                ingress("c", annotations={**group, "alb.ingress.kubernetes.io/group.order": "-1"}),
                ingress("a", annotations=group), ingress("b", annotations=group))
    assert [i.id for i in balancers(m)[0].members] == ["c/web", "a/web", "b/web"]


def test_exact_paths_come_before_longest_prefix_before_implementation_specific():
    paths = [("/x", "ImplementationSpecific"), ("/a", "Prefix"), ("/a/b", "Prefix"), ("/z", "Exact")]
    lb = balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=IP, paths=paths)))[0]
    assert [r.path for r in lb.routes] == ["/z", "/a/b", "/a", "/x"]


def test_several_default_backends_in_one_group_conflict():
    group = {"alb.ingress.kubernetes.io/group.name": "g", **IP}
    m = analyze(ALB_CLASS, app("a"), ingress("a", "one", group, default=True), ingress("a", "two", group, default=True))
    codes = [d.code for d in m.compiled.load_balancers.diagnostics]
    assert codes == ["ingress-group-conflict"]


def test_an_exclusive_setting_of_one_member_applies_to_the_whole_group():
    group = {"alb.ingress.kubernetes.io/group.name": "g", **IP}
    m = analyze(ALB_CLASS, app("a"), app("b"), ingress("a", annotations={**group, **PUBLIC}),
                ingress("b", annotations=group))
    assert balancers(m)[0].scheme == "internet-facing"
    assert m.compiled.load_balancers.diagnostics == []


def test_inbound_cidrs_limit_the_frontend_and_security_groups_make_it_unknown():
    narrow = {**PUBLIC, "alb.ingress.kubernetes.io/inbound-cidrs": "203.0.113.0/24, 198.51.100.0/24"}
    lb = balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=narrow)))[0]
    assert [r.label for r in lb.inbound] == ["203.0.113.0-203.0.113.255", "198.51.100.0-198.51.100.255"]
    opaque = {**PUBLIC, "alb.ingress.kubernetes.io/security-groups": "sg-123"}
    assert balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=opaque)))[0].inbound is None
    assert balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=PUBLIC)))[0].inbound[0].label == (
        "0.0.0.0-255.255.255.255"
    )


def test_listen_ports_default_to_http_80_or_https_443_with_a_certificate():
    assert balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=IP)))[0].listen_ports == (("HTTP", 80),)
    cert = {**IP, "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:x"}
    assert balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=cert)))[0].listen_ports == (
        ("HTTPS", 443),
    )


def test_bad_group_order_is_reported_at_its_annotation():
    m = analyze(ALB_CLASS, app("a"), ingress("a", annotations={**IP, "alb.ingress.kubernetes.io/group.order": "x"}))
    found = m.compiled.load_balancers.diagnostics
    assert [d.code for d in found] == ["ingress-bad-annotation"] and found[0].source.line > 0


# ---- subnets (§1.8) ---------------------------------------------------------------------------------------

def test_internet_facing_alb_is_discovered_in_the_public_subnets_and_internal_in_the_private_ones():
    public = balancers(analyze(SUBNETS, ALB_CLASS, app("a"), ingress("a", annotations=PUBLIC)))[0]
    assert sorted(s.id for s in public.subnets) == ["subnet-pub-a", "subnet-pub-b"]
    internal = balancers(analyze(SUBNETS, ALB_CLASS, app("a"), ingress("a", annotations=IP)))[0]
    assert sorted(s.id for s in internal.subnets) == ["subnet-priv-a", "subnet-priv-b"]


def test_subnets_annotation_pins_the_alb():
    pinned = {**PUBLIC, "alb.ingress.kubernetes.io/subnets": "subnet-pub-b"}
    lb = balancers(analyze(SUBNETS, ALB_CLASS, app("a"), ingress("a", annotations=pinned)))[0]
    assert [s.id for s in lb.subnets] == ["subnet-pub-b"] and [r.label for r in lb.source_ranges] == [
        "10.9.1.0-10.9.1.255"
    ]


def test_unknown_subnet_in_the_annotation_makes_the_placement_unknown():
    pinned = {**PUBLIC, "alb.ingress.kubernetes.io/subnets": "subnet-pub-b, subnet-nowhere"}
    m = analyze(SUBNETS, ALB_CLASS, app("a"), ingress("a", annotations=pinned))
    assert balancers(m)[0].source_ranges is None
    assert [d.code for d in m.compiled.load_balancers.diagnostics] == ["alb-placement-unknown"]


TAGGED = json.dumps({"Subnets": [
    {"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.8.0.0/24", "AvailabilityZone": "us-east-1a",
     "Tags": [{"Key": "kubernetes.io/role/elb", "Value": "1"}]},
    {"SubnetId": "subnet-2", "VpcId": "vpc-1", "CidrBlock": "10.8.1.0/24", "AvailabilityZone": "us-east-1b",
     "Tags": [{"Key": "kubernetes.io/role/elb", "Value": "1"},
              {"Key": "kubernetes.io/cluster/other", "Value": "owned"}]},
    {"SubnetId": "subnet-3", "VpcId": "vpc-1", "CidrBlock": "10.8.2.0/24", "AvailabilityZone": "us-east-1b",
     "Tags": []},
]}) + "\n"


def test_discovery_uses_role_tags_and_drops_subnets_of_another_cluster():
    m = analyze(TAGGED, CONTROLLER.replace("--default-load-balancer-scheme, internet-facing, ", ""), ALB_CLASS,
                app("a"), ingress("a", annotations=PUBLIC))
    assert [s.id for s in balancers(m)[0].subnets] == ["subnet-1"]


# ---- what the pod sees (§1.5) and the hop check -----------------------------------------------------------

ADMIT_PUBLIC = "[{from: [{ipBlock: {cidr: 10.9.0.0/23}}], ports: [{port: http}]}]"


def hop_verdicts(m):
    return [(h.purpose, h.port_label, h.admitted) for h in load_balancer_hops(m)]


def test_ip_targets_see_the_alb_subnets_and_named_target_port_resolves_per_pod():
    m = analyze(SUBNETS, ALB_CLASS, app("a", policy=ADMIT_PUBLIC), ingress("a", annotations=PUBLIC))
    assert hop_verdicts(m) == [("traffic", "8080/TCP", ALL)]


def test_a_policy_admitting_nothing_from_the_alb_blocks_it():
    m = analyze(SUBNETS, ALB_CLASS, app("a", policy="[]"), ingress("a", annotations=PUBLIC))
    assert hop_verdicts(m) == [("traffic", "8080/TCP", NONE)]


def test_instance_mode_with_cluster_traffic_policy_also_shows_node_addresses():
    instance = {"alb.ingress.kubernetes.io/scheme": "internet-facing"}
    m = analyze(SUBNETS, ALB_CLASS, app("a", svc_type="NodePort", policy=ADMIT_PUBLIC),
                ingress("a", annotations=instance))
    assert hop_verdicts(m) == [("traffic", "8080/TCP", SOME)]  # node subnets are not admitted
    m = analyze(SUBNETS, ALB_CLASS, app("a", svc_type="NodePort", etp="Local", policy=ADMIT_PUBLIC),
                ingress("a", annotations=instance))
    assert hop_verdicts(m) == [("traffic", "8080/TCP", ALL)]


def test_service_annotation_wins_over_the_ingress_for_target_type_and_health_check_port():
    svc = "{alb.ingress.kubernetes.io/target-type: ip, alb.ingress.kubernetes.io/healthcheck-port: '9090'}"
    m = analyze(SUBNETS, ALB_CLASS, app("a", svc_annotations=svc, policy=ADMIT_PUBLIC,
                                        ports="[{name: http, containerPort: 8080}, {containerPort: 9090}]"),
                ingress("a", annotations={"alb.ingress.kubernetes.io/scheme": "internet-facing",
                                          "alb.ingress.kubernetes.io/target-type": "instance"}))
    assert balancers(m)[0].target_groups[0].target_type == "ip"
    assert hop_verdicts(m) == [("traffic", "8080/TCP", ALL), ("health check", "9090/TCP", NONE)]


def test_target_port_name_the_pod_does_not_have_forwards_nowhere():
    m = analyze(SUBNETS, ALB_CLASS, app("a", ports="[{name: web, containerPort: 8080}]", policy=ADMIT_PUBLIC),
                ingress("a", annotations=PUBLIC))
    assert hop_verdicts(m) == [("traffic", "?", NONE)]


def test_pods_without_an_address_live_in_the_subnets_that_hold_pods():
    # the rule admits the public ALB subnets; pods are in the private ones, so the other namespace is not admitted
    m = analyze(SUBNETS, app("a", policy=ADMIT_PUBLIC), app("b"))
    assert not m.allowed("b/web", "a/web", "TCP", 8080)
    wide = "[{from: [{ipBlock: {cidr: 10.9.0.0/16}}], ports: [{port: http}]}]"
    assert analyze(SUBNETS, app("a", policy=wide), app("b")).allowed("b/web", "a/web", "TCP", 8080)


# ---- the map ---------------------------------------------------------------------------------------------

def test_matrix_lists_the_alb_and_its_hops():
    m = analyze(SUBNETS, ALB_CLASS, app("a", policy=ADMIT_PUBLIC), ingress("a", annotations=PUBLIC))
    flows = [(s.id, d.id, str(c)) for s, d, c in load_balancer_flows(m)]
    assert flows == [("0.0.0.0-255.255.255.255", "alb:a/web", "TCP 80"), ("alb:a/web", "a/web", "TCP 8080")]
    data = json.loads(MATRIX_FORMATS["json"](MatrixView(m)))
    alb = [e for e in data["endpoints"] if e["kind"] == "LoadBalancer"]
    assert alb == [{"id": "alb:a/web", "kind": "LoadBalancer", "name": "a/web", "scheme": "internet-facing",
                    "namespaces": ["a"], "ingresses": ["a/web"], "subnets": ["subnet-pub-a", "subnet-pub-b"]}]
    assert {"src": "alb:a/web", "dst": "a/web", "conn": {"TCP": [[8080, 8080]]}} in data["connections"]


def test_dot_draws_internet_alb_service_pod():
    m = analyze(SUBNETS, ALB_CLASS, app("a", policy=ADMIT_PUBLIC), ingress("a", annotations=PUBLIC))
    dot = MATRIX_FORMATS["dot"](MatrixView(m))
    assert '"0.0.0.0-255.255.255.255" -> "alb:a/web"' in dot
    assert '"alb:a/web" -> "svc:a/web"' in dot and '"svc:a/web" -> "a/web"' in dot


@pytest.mark.parametrize(
    "service, message",
    [
        ("targetPort: 70000", "targetPort 70000 is out of range"),
        ("targetPort: ''", "targetPort is empty"),
    ],
)
def test_bad_service_port_is_an_error_with_its_line(service, message):
    doc = (
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: a}}\nspec:\n  ports:\n  - port: 80\n"
        f"    {service}\n"
    )
    cluster = load_cluster([doc])
    assert [(e.source.line, message in e.message) for e in cluster.errors] == [(7, True)]


def test_custom_security_groups_without_managed_backend_rules_are_reported():
    from netverify.verify.load_balancer_checks import unmanaged_backend_rules

    opaque = {**PUBLIC, "alb.ingress.kubernetes.io/security-groups": "sg-123"}
    lb = balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=opaque)))[0]
    [finding] = unmanaged_backend_rules(lb)
    assert finding.rule == "alb-backend-rules-unmanaged" and finding.source.line > 0
    managed = {**opaque, "alb.ingress.kubernetes.io/manage-backend-security-group-rules": "true"}
    assert unmanaged_backend_rules(balancers(analyze(ALB_CLASS, app("a"), ingress("a", annotations=managed)))[0]) == []
