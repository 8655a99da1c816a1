"""A slow, deliberately simple reference evaluator for Kubernetes NetworkPolicy.

Why this exists: the product engine compiles policies into bitsets and ordered kernels, which is fast
but hard to eyeball. This module is the independent oracle the engine is checked against, so it
follows the Kubernetes spec (networking.k8s.io/v1 types, defaults and validation, and the website's
"Network Policies" concept page) line by line, one (source, destination, protocol, port) probe at a
time, with plain loops and no cleverness.

It must never import `netverify`: an oracle that shares code with the thing under test would share
its bugs too.

Scope, on purpose:
- Kubernetes NetworkPolicy only. Policy kinds it cannot model (AdminNetworkPolicy, Calico and Cilium
  policies, ...) raise ValueError instead of being ignored, because ignoring them would make the
  oracle confidently wrong. Every other kind (Service, ConfigMap, Ingress, ...) is ignored.
- Pods and workloads are endpoints; a workload stands for its pods, which share the template's
  labels and container ports. Workloads have no IPs, so ipBlocks never match them.
- An endpoint given as an IP address string is external: it has no policies of its own, so its side
  of a connection always allows; only ipBlocks can match it.
- Loopback (an endpoint to itself) is evaluated like any other pair; callers that follow the
  upstream e2e suite ignore those cells.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_NAMESPACE = "default"

# Kinds whose pods the reference models, and where each keeps its pod template.
WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
)

# Kinds that change connectivity but are outside this oracle's scope: refuse them loudly.
UNMODELLED_POLICY_KINDS = (
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "GlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
)

POLICY_PROTOCOLS = ("TCP", "UDP", "SCTP")  # what a NetworkPolicyPort may name
PORTED_PROTOCOLS = ("TCP", "UDP", "SCTP")  # probes with a destination port
PORTLESS_PROTOCOLS = ("ICMP", "ICMPv6")  # probes without one
INGRESS = "Ingress"
EGRESS = "Egress"

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_PORT_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


# ---------------------------------------------------------------------------------------------
# Parsed, validated pieces. Each mirrors one Kubernetes API type; `None` keeps "field missing"
# apart from "field empty" wherever the spec gives the two different meanings.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelSelector:
    """metav1.LabelSelector: all matchLabels AND all matchExpressions must hold; {} matches all."""

    match_labels: dict[str, str]
    expressions: list[tuple[str, str, list[str]]]  # (key, operator, values)


@dataclass(frozen=True)
class ContainerPort:
    """One containerPort of an endpoint, used to resolve named ports on the destination."""

    name: str | None
    protocol: str
    number: int


@dataclass
class Endpoint:
    """A bare Pod or a workload (standing for all its identical pods)."""

    kind: str
    namespace: str
    name: str
    labels: dict[str, str]
    ports: list[ContainerPort]
    ips: list[IPAddress]  # status.podIP / podIPs of a bare Pod; always empty for a workload

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class External:
    """An address outside the cluster: no policies select it, only ipBlocks match it."""

    ip: IPAddress


@dataclass(frozen=True)
class IPBlock:
    """cidr minus the union of except."""

    cidr: IPNetwork
    excepts: list[IPNetwork]


@dataclass(frozen=True)
class Peer:
    """NetworkPolicyPeer. Either ip_block is set, or at least one of the two selectors."""

    pod_selector: LabelSelector | None
    namespace_selector: LabelSelector | None
    ip_block: IPBlock | None


@dataclass(frozen=True)
class PolicyPort:
    """NetworkPolicyPort with the protocol default (TCP) already applied.

    port None means every port of the protocol; an int is a number (a range up to end_port when
    that is set); a str is a named port resolved on the destination pod.
    """

    protocol: str
    port: int | str | None
    end_port: int | None


@dataclass(frozen=True)
class Rule:
    """One ingress or egress rule. peers/ports None means "not restricted" (missing or empty)."""

    peers: list[Peer] | None
    ports: list[PolicyPort] | None


@dataclass
class Policy:
    """A NetworkPolicy with policyTypes already defaulted (so evaluation never re-derives them)."""

    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: set[str]
    ingress: list[Rule] = field(default_factory=list)
    egress: list[Rule] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Parsing / validation helpers. The reference is only fed valid manifests, so anything odd is a
# bug in the caller: raise ValueError rather than guess.
# ---------------------------------------------------------------------------------------------


def _where(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name', '')}"


def _as_dict(value: object, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a mapping, got {type(value).__name__}")
    return value


def _as_list(value: object, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _check_keys(obj: dict, allowed: tuple[str, ...], what: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ValueError(f"{what}: unknown field {key!r} (allowed: {', '.join(allowed)})")


def _string_map(value: object, what: str) -> dict[str, str]:
    """Labels and matchLabels: Kubernetes only has string values, so a YAML int/bool is an error."""
    result: dict[str, str] = {}
    for key, val in _as_dict(value, what).items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise ValueError(f"{what}: label {key!r}: {val!r} must be a string to string pair")
        result[key] = val
    return result


def _is_int(value: object) -> bool:
    """True for a real int; YAML booleans are ints in Python and must not count."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_selector(value: object, what: str) -> LabelSelector:
    """Validate and normalise a metav1.LabelSelector (null is treated as {})."""
    raw = _as_dict(value, what)
    _check_keys(raw, ("matchLabels", "matchExpressions"), what)
    match_labels = _string_map(raw.get("matchLabels"), f"{what}.matchLabels")
    expressions: list[tuple[str, str, list[str]]] = []
    for i, expr in enumerate(_as_list(raw.get("matchExpressions"), f"{what}.matchExpressions")):
        ewhat = f"{what}.matchExpressions[{i}]"
        expr = _as_dict(expr, ewhat)
        _check_keys(expr, ("key", "operator", "values"), ewhat)
        key = expr.get("key")
        operator = expr.get("operator")
        values = _as_list(expr.get("values"), f"{ewhat}.values")
        if not isinstance(key, str) or not key:
            raise ValueError(f"{ewhat}: key must be a non-empty string")
        if operator not in _SELECTOR_OPERATORS:
            raise ValueError(f"{ewhat}: operator {operator!r} is not one of {_SELECTOR_OPERATORS}")
        for v in values:
            if not isinstance(v, str):
                raise ValueError(f"{ewhat}: value {v!r} must be a string")
        if operator in ("In", "NotIn") and not values:
            raise ValueError(f"{ewhat}: operator {operator} needs at least one value")
        if operator in ("Exists", "DoesNotExist") and values:
            raise ValueError(f"{ewhat}: operator {operator} takes no values")
        expressions.append((key, operator, list(values)))
    return LabelSelector(match_labels, expressions)


def selector_matches(selector: LabelSelector, labels: dict[str, str]) -> bool:
    """metav1.LabelSelectorAsSelector semantics, requirement by requirement."""
    for key, value in selector.match_labels.items():
        if key not in labels:
            return False
        if labels[key] != value:
            return False
    for key, operator, values in selector.expressions:
        if operator == "In":
            if key not in labels:
                return False
            if labels[key] not in values:
                return False
        elif operator == "NotIn":
            # An object without the key satisfies NotIn.
            if key in labels and labels[key] in values:
                return False
        elif operator == "Exists":
            if key not in labels:
                return False
        elif operator == "DoesNotExist":
            if key in labels:
                return False
        else:  # pragma: no cover - rejected by parse_selector
            raise ValueError(f"unknown operator {operator!r}")
    return True


def parse_network(text: object, what: str) -> IPNetwork:
    """A CIDR string; host bits may be set (the API accepts "10.0.1.2/4"), they are masked off."""
    if not isinstance(text, str) or "/" not in text:
        raise ValueError(f"{what}: {text!r} is not a CIDR")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ValueError(f"{what}: {text!r} is not a CIDR: {exc}") from exc


def parse_ip_block(value: object, what: str) -> IPBlock:
    raw = _as_dict(value, what)
    _check_keys(raw, ("cidr", "except"), what)
    cidr = parse_network(raw.get("cidr"), f"{what}.cidr")
    excepts: list[IPNetwork] = []
    for i, text in enumerate(_as_list(raw.get("except"), f"{what}.except")):
        hole = parse_network(text, f"{what}.except[{i}]")
        # Validation: each except must be a strict subset of cidr.
        if hole.version != cidr.version:
            raise ValueError(f"{what}.except[{i}]: {hole} is not the same IP family as {cidr}")
        if not hole.subnet_of(cidr) or hole.prefixlen <= cidr.prefixlen:  # type: ignore[arg-type]
            raise ValueError(f"{what}.except[{i}]: {hole} is not a strict subset of {cidr}")
        excepts.append(hole)
    return IPBlock(cidr, excepts)


def ip_in_block(ip: IPAddress, block: IPBlock) -> bool:
    """cidr contains ip, and no except does. Different IP families never match."""
    if ip.version != block.cidr.version:
        return False
    if ip not in block.cidr:
        return False
    for hole in block.excepts:
        if ip in hole:
            return False
    return True


def parse_peer(value: object, what: str) -> Peer:
    raw = _as_dict(value, what)
    _check_keys(raw, ("podSelector", "namespaceSelector", "ipBlock"), what)
    # A null field is the same as a missing one (a nil pointer in the Go types).
    has_pod = raw.get("podSelector") is not None
    has_ns = raw.get("namespaceSelector") is not None
    has_ip = raw.get("ipBlock") is not None
    if not (has_pod or has_ns or has_ip):
        raise ValueError(f"{what}: must specify a peer (podSelector, namespaceSelector or ipBlock)")
    if has_ip and (has_pod or has_ns):
        raise ValueError(f"{what}: ipBlock may not be combined with another peer field")
    return Peer(
        pod_selector=parse_selector(raw["podSelector"], f"{what}.podSelector") if has_pod else None,
        namespace_selector=(
            parse_selector(raw["namespaceSelector"], f"{what}.namespaceSelector") if has_ns else None
        ),
        ip_block=parse_ip_block(raw["ipBlock"], f"{what}.ipBlock") if has_ip else None,
    )


def parse_policy_port(value: object, what: str) -> PolicyPort:
    raw = _as_dict(value, what)
    _check_keys(raw, ("protocol", "port", "endPort"), what)
    protocol = raw.get("protocol")
    if protocol is None:
        protocol = "TCP"  # SetDefaults_NetworkPolicyPort
    if protocol not in POLICY_PROTOCOLS:
        raise ValueError(f"{what}.protocol: {protocol!r} is not one of {POLICY_PROTOCOLS}")
    port = raw.get("port")
    end_port = raw.get("endPort")
    if port is not None:
        if _is_int(port):
            if not 1 <= port <= 65535:
                raise ValueError(f"{what}.port: {port} is out of range 1..65535")
        elif isinstance(port, str):
            # IANA_SVC_NAME: at most 15 characters, lowercase alphanumerics and '-', a letter somewhere.
            if (
                len(port) > 15
                or not _PORT_NAME_RE.match(port)
                or "--" in port
                or not any(c.isalpha() for c in port)
            ):
                raise ValueError(f"{what}.port: {port!r} is not a valid port name")
        else:
            raise ValueError(f"{what}.port: {port!r} must be a number or a name")
    if end_port is not None:
        if not _is_int(end_port):
            raise ValueError(f"{what}.endPort: {end_port!r} must be a number")
        if not _is_int(port):
            raise ValueError(f"{what}.endPort: only allowed with a numeric port")
        if end_port < port or end_port > 65535:
            raise ValueError(f"{what}.endPort: {end_port} must be in {port}..65535")
    return PolicyPort(protocol, port, end_port)


def parse_rule(value: object, peer_field: str, what: str) -> Rule:
    # A null list element decodes to the zero-value rule, i.e. {} (allow everything).
    raw = _as_dict(value, what)
    _check_keys(raw, (peer_field, "ports"), what)
    peers_raw = _as_list(raw.get(peer_field), f"{what}.{peer_field}")
    ports_raw = _as_list(raw.get("ports"), f"{what}.ports")
    # Missing and empty mean the same for from/to and ports: not restricted.
    peers = [parse_peer(p, f"{what}.{peer_field}[{i}]") for i, p in enumerate(peers_raw)] or None
    ports = [parse_policy_port(p, f"{what}.ports[{i}]") for i, p in enumerate(ports_raw)] or None
    return Rule(peers, ports)


def parse_policy(obj: dict) -> Policy:
    what = _where(obj)
    meta = _as_dict(obj.get("metadata"), f"{what}.metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what}: metadata.name is required")
    namespace = meta.get("namespace") or DEFAULT_NAMESPACE
    spec = _as_dict(obj.get("spec"), f"{what}.spec")
    _check_keys(spec, ("podSelector", "policyTypes", "ingress", "egress"), f"{what}.spec")
    pod_selector = parse_selector(spec.get("podSelector"), f"{what}.spec.podSelector")

    ingress_raw = spec.get("ingress")
    egress_raw = spec.get("egress")
    ingress_list = _as_list(ingress_raw, f"{what}.spec.ingress")
    egress_list = _as_list(egress_raw, f"{what}.spec.egress")

    types_raw = _as_list(spec.get("policyTypes"), f"{what}.spec.policyTypes")
    if len(types_raw) > 2:
        raise ValueError(f"{what}.spec.policyTypes: at most two entries")
    for t in types_raw:
        if t not in (INGRESS, EGRESS):
            raise ValueError(f"{what}.spec.policyTypes: {t!r} is not Ingress or Egress")
    if types_raw:
        policy_types = set(types_raw)
    else:
        # pkg/apis/networking/v1/defaults.go: Ingress always; Egress only if the egress list has
        # at least one element (so `egress: []` does NOT make an egress policy).
        policy_types = {INGRESS}
        if len(egress_list) != 0:
            policy_types.add(EGRESS)

    ingress = [parse_rule(r, "from", f"{what}.spec.ingress[{i}]") for i, r in enumerate(ingress_list)]
    egress = [parse_rule(r, "to", f"{what}.spec.egress[{i}]") for i, r in enumerate(egress_list)]
    return Policy(namespace, name, pod_selector, policy_types, ingress, egress)


def _parse_container_ports(pod_spec: dict, what: str) -> list[ContainerPort]:
    """containerPorts of spec.containers (named-port lookups only consider regular containers)."""
    ports: list[ContainerPort] = []
    for ci, container in enumerate(_as_list(pod_spec.get("containers"), f"{what}.containers")):
        container = _as_dict(container, f"{what}.containers[{ci}]")
        for pi, port in enumerate(_as_list(container.get("ports"), f"{what}.containers[{ci}].ports")):
            pwhat = f"{what}.containers[{ci}].ports[{pi}]"
            port = _as_dict(port, pwhat)
            number = port.get("containerPort")
            if not _is_int(number) or not 1 <= number <= 65535:
                raise ValueError(f"{pwhat}.containerPort: {number!r} is not a port number")
            protocol = port.get("protocol") or "TCP"
            if protocol not in POLICY_PROTOCOLS:
                raise ValueError(f"{pwhat}.protocol: {protocol!r} is not one of {POLICY_PROTOCOLS}")
            name = port.get("name")
            if name is not None and not isinstance(name, str):
                raise ValueError(f"{pwhat}.name: {name!r} must be a string")
            ports.append(ContainerPort(name or None, protocol, number))
    return ports


def _parse_pod_ips(status: dict, what: str) -> list[IPAddress]:
    texts: list[object] = []
    if status.get("podIP"):
        texts.append(status["podIP"])
    for i, entry in enumerate(_as_list(status.get("podIPs"), f"{what}.status.podIPs")):
        texts.append(_as_dict(entry, f"{what}.status.podIPs[{i}]").get("ip"))
    ips: list[IPAddress] = []
    for text in texts:
        if not isinstance(text, str):
            raise ValueError(f"{what}: pod IP {text!r} must be a string")
        try:
            ip = ipaddress.ip_address(text)
        except ValueError as exc:
            raise ValueError(f"{what}: pod IP {text!r}: {exc}") from exc
        if ip not in ips:
            ips.append(ip)
    return ips


def _pod_template(obj: dict, what: str) -> dict:
    spec = _as_dict(obj.get("spec"), f"{what}.spec")
    if obj.get("kind") == "CronJob":
        job_template = _as_dict(spec.get("jobTemplate"), f"{what}.spec.jobTemplate")
        spec = _as_dict(job_template.get("spec"), f"{what}.spec.jobTemplate.spec")
    if spec.get("template") is None:
        raise ValueError(f"{what}: has no pod template")
    return _as_dict(spec.get("template"), f"{what} pod template")


def parse_endpoint(obj: dict) -> Endpoint:
    what = _where(obj)
    kind = obj["kind"]
    meta = _as_dict(obj.get("metadata"), f"{what}.metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what}: metadata.name is required")
    namespace = meta.get("namespace") or DEFAULT_NAMESPACE
    if kind == "Pod":
        labels = _string_map(meta.get("labels"), f"{what}.metadata.labels")
        ports = _parse_container_ports(_as_dict(obj.get("spec"), f"{what}.spec"), f"{what}.spec")
        ips = _parse_pod_ips(_as_dict(obj.get("status"), f"{what}.status"), what)
    else:
        template = _pod_template(obj, what)
        tmeta = _as_dict(template.get("metadata"), f"{what} template.metadata")
        labels = _string_map(tmeta.get("labels"), f"{what} template.metadata.labels")
        ports = _parse_container_ports(_as_dict(template.get("spec"), f"{what} template.spec"), what)
        ips = []  # replicas' IPs are not known before deployment
    return Endpoint(kind, namespace, name, labels, ports, ips)


def _flatten(manifests: list[dict]) -> list[dict]:
    """Skip empty YAML documents; expand `kind: List` into its items."""
    out: list[dict] = []
    for doc in manifests:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValueError(f"manifest must be a mapping, got {type(doc).__name__}")
        if doc.get("kind") == "List" or str(doc.get("kind", "")).endswith("List") and "items" in doc:
            out.extend(_flatten(_as_list(doc.get("items"), "List.items")))
        else:
            out.append(doc)
    return out


# ---------------------------------------------------------------------------------------------
# The cluster and the per-probe evaluation.
# ---------------------------------------------------------------------------------------------


class ReferenceCluster:
    """Per-probe NetworkPolicy evaluation over raw manifest dicts (as `yaml.safe_load` gives them).

    pod_ips_match_ipblock: whether an ipBlock matches a pod's own IPs (Calico and the upstream
    e2e suite: yes; Cilium: no). Workloads have no IPs either way.
    """

    def __init__(self, manifests: list[dict], pod_ips_match_ipblock: bool = True) -> None:
        self.pod_ips_match_ipblock = pod_ips_match_ipblock
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self._endpoints: dict[str, Endpoint] = {}
        self.policies: list[Policy] = []

        declared_ns: dict[str, dict[str, str]] = {}
        used_ns: list[str] = []
        seen_policies: set[tuple[str, str]] = set()
        for obj in _flatten(manifests):
            kind = obj.get("kind")
            api_version = str(obj.get("apiVersion", ""))
            if kind == "Namespace":
                meta = _as_dict(obj.get("metadata"), "Namespace.metadata")
                name = meta.get("name")
                if not isinstance(name, str) or not name:
                    raise ValueError("Namespace: metadata.name is required")
                if name in declared_ns:
                    raise ValueError(f"Namespace {name} is declared twice")
                declared_ns[name] = _string_map(meta.get("labels"), f"Namespace {name} labels")
            elif kind == "NetworkPolicy" and api_version.startswith("networking.k8s.io/"):
                policy = parse_policy(obj)
                key = (policy.namespace, policy.name)
                if key in seen_policies:
                    raise ValueError(f"NetworkPolicy {policy.namespace}/{policy.name} is declared twice")
                seen_policies.add(key)
                self.policies.append(policy)
                used_ns.append(policy.namespace)
            elif kind == "NetworkPolicy" or kind in UNMODELLED_POLICY_KINDS:
                raise ValueError(
                    f"{kind} ({api_version}) changes connectivity but the reference only models "
                    "networking.k8s.io NetworkPolicy"
                )
            elif kind == "Pod" or kind in WORKLOAD_KINDS:
                endpoint = parse_endpoint(obj)
                if endpoint.id in self._endpoints:
                    other = self._endpoints[endpoint.id]
                    raise ValueError(f"{endpoint.id} is both a {other.kind} and a {endpoint.kind}")
                self._endpoints[endpoint.id] = endpoint
                used_ns.append(endpoint.namespace)
            # every other kind is irrelevant to pod-level policy and is ignored

        for name, labels in declared_ns.items():
            self.namespace_labels[name] = dict(labels)
        for name in used_ns:
            if name not in self.namespace_labels:
                self.namespace_labels[name] = {}
        for name, labels in self.namespace_labels.items():
            # The control plane sets this immutable label on every namespace.
            labels[NAMESPACE_NAME_LABEL] = name

    # -- public API -------------------------------------------------------------------------

    def endpoints(self) -> list[str]:
        """ "ns/name" of every bare Pod and every workload, in manifest order."""
        return list(self._endpoints)

    def allowed(self, src: str, dst: str, protocol: str, port: int | None) -> bool:
        """Is a new connection src -> dst on protocol/port allowed?

        Both sides must agree: the source's egress and the destination's ingress.
        src/dst: "ns/name" of a pod or workload, or an IP address string (external).
        """
        self._check_probe(protocol, port)
        source = self._resolve(src)
        destination = self._resolve(dst)
        egress_ok = self._direction_allows(EGRESS, source, destination, destination, protocol, port)
        ingress_ok = self._direction_allows(INGRESS, destination, source, destination, protocol, port)
        return egress_ok and ingress_ok

    def egress_allows(self, src: str, dst: str, protocol: str, port: int | None) -> bool:
        """The source side alone (useful when a test wants to see which side blocks)."""
        self._check_probe(protocol, port)
        source, destination = self._resolve(src), self._resolve(dst)
        return self._direction_allows(EGRESS, source, destination, destination, protocol, port)

    def ingress_allows(self, src: str, dst: str, protocol: str, port: int | None) -> bool:
        """The destination side alone."""
        self._check_probe(protocol, port)
        source, destination = self._resolve(src), self._resolve(dst)
        return self._direction_allows(INGRESS, destination, source, destination, protocol, port)

    def table(self, ids: list[str], protocol: str, port: int | None) -> dict[tuple[str, str], bool]:
        """allowed() for every ordered pair of ids, loopback included."""
        result: dict[tuple[str, str], bool] = {}
        for src in ids:
            for dst in ids:
                result[(src, dst)] = self.allowed(src, dst, protocol, port)
        return result

    # -- evaluation -------------------------------------------------------------------------

    @staticmethod
    def _check_probe(protocol: str, port: int | None) -> None:
        if protocol in PORTED_PROTOCOLS:
            if not _is_int(port) or not 1 <= port <= 65535:  # type: ignore[operator]
                raise ValueError(f"{protocol} probe needs a port in 1..65535, got {port!r}")
        elif protocol in PORTLESS_PROTOCOLS:
            if port is not None:
                raise ValueError(f"{protocol} probe takes no port, got {port!r}")
        else:
            raise ValueError(f"unknown protocol {protocol!r}")

    def _resolve(self, ident: str) -> Endpoint | External:
        if ident in self._endpoints:
            return self._endpoints[ident]
        try:
            return External(ipaddress.ip_address(ident))
        except ValueError:
            pass
        raise ValueError(f"{ident!r} is neither a known ns/name endpoint nor an IP address")

    def _direction_allows(
        self,
        direction: str,
        target: Endpoint | External,
        peer: Endpoint | External,
        destination: Endpoint | External,
        protocol: str,
        port: int | None,
    ) -> bool:
        """Does `target`'s `direction` let this traffic through (talking to `peer`)?"""
        if isinstance(target, External):
            return True  # nothing outside the cluster is selected by a NetworkPolicy
        applicable: list[Policy] = []
        for policy in self.policies:
            if policy.namespace != target.namespace:
                continue
            if direction not in policy.policy_types:
                continue
            if not selector_matches(policy.pod_selector, target.labels):
                continue
            applicable.append(policy)
        if not applicable:
            return True  # not isolated in this direction
        for policy in applicable:
            rules = policy.ingress if direction == INGRESS else policy.egress
            for rule in rules:
                if self._rule_matches(rule, policy.namespace, peer, destination, protocol, port):
                    return True
        return False  # isolated and no rule of any applicable policy allows it

    def _rule_matches(
        self,
        rule: Rule,
        policy_namespace: str,
        peer: Endpoint | External,
        destination: Endpoint | External,
        protocol: str,
        port: int | None,
    ) -> bool:
        return self._peers_match(rule.peers, policy_namespace, peer) and self._ports_match(
            rule.ports, destination, protocol, port
        )

    def _peers_match(
        self, peers: list[Peer] | None, policy_namespace: str, peer: Endpoint | External
    ) -> bool:
        if peers is None:
            return True  # from/to missing or empty: every source/destination, external included
        for candidate in peers:
            if self._peer_matches(candidate, policy_namespace, peer):
                return True
        return False

    def _peer_matches(self, candidate: Peer, policy_namespace: str, peer: Endpoint | External) -> bool:
        if candidate.ip_block is not None:
            if isinstance(peer, External):
                addresses = [peer.ip]
            elif self.pod_ips_match_ipblock:
                addresses = list(peer.ips)
            else:
                addresses = []
            for ip in addresses:
                if ip_in_block(ip, candidate.ip_block):
                    return True
            return False
        # Selector peers only ever match pods.
        if isinstance(peer, External):
            return False
        if candidate.namespace_selector is None:
            # podSelector alone: pods in the policy's own namespace.
            if peer.namespace != policy_namespace:
                return False
        else:
            ns_labels = self.namespace_labels[peer.namespace]
            if not selector_matches(candidate.namespace_selector, ns_labels):
                return False
        if candidate.pod_selector is not None:
            if not selector_matches(candidate.pod_selector, peer.labels):
                return False
        return True

    def _ports_match(
        self,
        ports: list[PolicyPort] | None,
        destination: Endpoint | External,
        protocol: str,
        port: int | None,
    ) -> bool:
        if ports is None:
            return True  # ports missing or empty: every protocol and port (ICMP included)
        for entry in ports:
            if self._port_matches(entry, destination, protocol, port):
                return True
        return False

    @staticmethod
    def _port_matches(
        entry: PolicyPort, destination: Endpoint | External, protocol: str, port: int | None
    ) -> bool:
        if entry.protocol != protocol:
            return False  # so a rule with ports never matches ICMP
        if entry.port is None:
            return True  # every port of this protocol
        if isinstance(entry.port, str):
            # Named port: look it up on the destination pod; name AND protocol must match.
            if isinstance(destination, External):
                return False
            for container_port in destination.ports:
                if (
                    container_port.name == entry.port
                    and container_port.protocol == entry.protocol
                    and container_port.number == port
                ):
                    return True
            return False
        if entry.end_port is None:
            return port == entry.port
        return entry.port <= port <= entry.end_port  # type: ignore[operator]
