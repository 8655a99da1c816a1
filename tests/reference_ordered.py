"""A slow, deliberately simple reference evaluator for ordered (tiered) network-policy semantics.

Why this exists: the product engine folds Kubernetes NetworkPolicy, Calico (Global)NetworkPolicy, network
sets, tiers and AdminNetworkPolicy/BaselineAdminNetworkPolicy into bitsets and ordered kernels. This module
is the independent oracle that engine is checked against: it evaluates ONE packet at a time, endpoint by
endpoint and direction by direction, walking tiers, policies and rules with plain loops, exactly as
reference/k8s-calico-anp-semantics.md §1, §3 and §4 describe them.

Independence, on purpose: it imports nothing of the product except the Calico selector parser
(`netverify.load.calico_selector.parse_calico_selector`) and the `.matches(labels)` method of the tree it
returns; that parser is property-tested on its own. Kubernetes label selectors, NetworkPolicy parsing and
policyTypes defaulting come from the Kubernetes-only oracle `tests/reference.py`, itself product-free.

The model (one packet = source, destination, protocol number, destination port):

* A flow is allowed iff the source's egress AND the destination's ingress allow it. An IP literal is an
  external address: nothing selects it, so its side always allows.
* Per endpoint and direction, tiers are walked in (order, name) order, a tier without order last
  (Felix `policy_sorter.go` `TierLess`): `kube-admin` (1000, Pass) holds AdminNetworkPolicies, Calico
  `Tier` objects (defaultAction Deny unless Pass), `default` (1,000,000, Deny) holds Calico policies
  without a tier and every Kubernetes NetworkPolicy (order 1000, §4.4), `kube-baseline` (10,000,000,
  Pass) holds the BaselineAdminNetworkPolicy.
* A tier applies only if one of its policies selects the endpoint and has the direction in its types
  (§4.2). Inside, policies go by (order, name) (missing order = +inf; ties by the Felix policy key name:
  GNP `name`, Calico NP `ns/name`, Kubernetes NP `ns/knp.default.name`, ANP `name`), rules in written
  order: Allow and Deny are final, Pass leaves the tier, Log goes on. A tier that decided nothing applies
  its default action. After the last tier the namespace profile allows (§4.3).
* Calico `types` defaulting (§4.1, differs from Kubernetes): egress rules only -> [Egress]; ingress rules
  only or no rules -> [Ingress]; both -> [Ingress, Egress].

Calico rule matching follows libcalico-go `updateprocessors/rules.go` (`getEndpointSelector`) wherever the
docs leave a gap, and every such choice is spelled out here:

* A rule matches a packet, not an endpoint: `source` is matched against the packet's source, `destination`
  against its destination, in both directions (so an ingress rule's `destination.selector` narrows which
  of the policy's own endpoints it covers).
* Identity part of an EntityRule. In a namespaced NetworkPolicy without `namespaceSelector` the scope is
  "same namespace as the policy"; with `namespaceSelector` the selected namespaces; in a GNP without it
  there is no scope. The scope joins the positive selector as soon as ANY of selector, notSelector,
  namespaceSelector or serviceAccounts is used - so in a namespaced NetworkPolicy a lone `notSelector`
  only matches known endpoints/sets of that namespace (rules.go: "endpoints for a namespaced policy being
  limited to the namespace ... as soon as _any_ of the selector fields are used, including NotSelector").
  In a GNP a lone `notSelector` matches every address, external ones included, except what it names
  (entityrule doc).
* A positive selector matches only known things: a pod/workload whose labels (plus the pseudo-labels
  `projectcalico.org/namespace`, `projectcalico.org/serviceaccount`, `projectcalico.org/orchestrator=k8s`)
  match, or any address inside the nets of a matching NetworkSet (namespaced; it carries
  `projectcalico.org/namespace`) or GlobalNetworkSet. A pod whose IP lies in a matching set matches too.
* `namespaceSelector` is evaluated on the namespace's labels plus `projectcalico.org/name=<ns>` (and the
  apiserver's `kubernetes.io/metadata.name`). `all()` means "any namespaced thing" and `global()` "any
  non-namespaced thing" (rules.go rewrites them to `has(projectcalico.org/namespace)` and its negation);
  a GlobalNetworkSet has no namespace labels at all (so `!has(team)` matches it, as in Calico).
* `serviceAccounts.names` matches pods running as one of the names; `serviceAccounts.selector` is
  evaluated on the account's labels plus `projectcalico.org/name=<sa>`; a network set has no account, so
  it fails `names` and is evaluated against empty labels for `selector` (rules.go prefixes the selector
  with `pcsa.`, which a set never carries). A pod's account is `spec.serviceAccountName` (default
  "default"); an account without a ServiceAccount object has no labels (the apiserver admits pods only
  with existing accounts, so the object is assumed to exist).
* `nets`/`notNets` match addresses: an external IP, or a pod's status IPs (always, §1.5 for Calico).
  A workload (no IPs) is never inside `nets` and never inside `notNets`.
* `destination.ports`/`notPorts`: the packet's destination port; a named port resolves on the packet's
  destination endpoint (a containerPort of that name, the packet's protocol and that number); external
  addresses and network sets have no named ports.
* The source port is not part of a probe, so `source.ports`/`source.notPorts` are decided per rule, as the
  project specifies: Allow and Log rules match if SOME source port fits; Deny and Pass rules match only if
  EVERY source port fits (for any real constraint: they do not match). Beware that for Pass this is not an
  over-approximation of "allowed": a Pass that does not match may leave the packet to its tier's Deny.
* ICMP and ICMPv6 probes carry `type * 256 + code` in the port slot (the product's convention), matched
  exactly against `icmp`/`notICMP` ({type} = all codes of it). A port of None asks "is SOME ICMP message
  allowed": the probe is evaluated at one value of every class the cluster's icmp/notICMP ranges cut.
* Kubernetes NetworkPolicy in the default tier keeps its own rule semantics (union of Allow rules, §1):
  selector peers match pods only (the converted Calico selector requires `projectcalico.org/orchestrator
  == 'k8s'`, which sets lack), ipBlock matches pod IPs iff `ipblock_matches_pod_ips`, `ports: [{}]` is all
  TCP, no ports is every protocol.
* AdminNetworkPolicy (§3): subject by namespaces or pods; rules Allow/Deny/Pass in written order; peers
  namespaces/pods (pods only) and, for egress, networks (which match pod IPs too); ports `portNumber`,
  `portRange` (protocol default TCP) and `namedPort` (the destination's containerPort of that name, any
  protocol); no `ports` means everything. The BaselineAdminNetworkPolicy must be named `default`.

Out of scope, refused with ValueError rather than silently ignored: HostEndpoint, Profile objects,
ClusterNetworkPolicy, Cilium policies, rule `http`, `ipVersion`, EntityRule `services`, ANP `nodes` and
`domainNames`. Staged policies never enforce (§4.2), so they are ignored; so are GlobalNetworkPolicies with
`doNotTrack` or `preDNAT`, which Felix renders only for host endpoints.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

# tests/ is on sys.path under pytest, as every test module here assumes
from reference import (
    DEFAULT_NAMESPACE,
    NAMESPACE_NAME_LABEL,
    WORKLOAD_KINDS,
    IPBlock,
    LabelSelector,
    Peer,
    PolicyPort,
    ip_in_block,
    parse_endpoint,
    parse_network,
    parse_policy,
    parse_selector,
    selector_matches,
)
from reference import Policy as KubernetesPolicy
from reference import Rule as KubernetesRuleSpec

from netverify.load.calico_selector import parse_calico_selector

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Selector(Protocol):
    """The tree parse_calico_selector returns; the reference only ever calls `.matches(labels)`."""

    def matches(self, labels: Mapping[str, str]) -> bool: ...


INGRESS = "Ingress"
EGRESS = "Egress"
ALLOW, DENY, PASS, LOG = "Allow", "Deny", "Pass", "Log"

TCP, UDP, SCTP, ICMP, ICMPV6, UDPLITE = 6, 17, 132, 1, 58, 136
PROTOCOL_NUMBERS = {"TCP": TCP, "UDP": UDP, "SCTP": SCTP, "ICMP": ICMP, "ICMPV6": ICMPV6, "UDPLITE": UDPLITE}
PORTED_PROTOCOLS = (TCP, UDP, SCTP)  # packets of these carry a destination port 1..65535
ICMP_PROTOCOLS = (ICMP, ICMPV6)  # packets of these carry type * 256 + code
ICMP_VALUE_MAX = 0xFFFF
PORT_MIN, PORT_MAX = 1, 65535

ADMIN_TIER = "kube-admin"
DEFAULT_TIER = "default"
BASELINE_TIER = "kube-baseline"
BUILTIN_TIERS = {  # name -> (order, default action), §4.1 "Tier"
    ADMIN_TIER: (1_000.0, PASS),
    DEFAULT_TIER: (1_000_000.0, DENY),
    BASELINE_TIER: (10_000_000.0, PASS),
}
KUBERNETES_POLICY_ORDER = 1000.0  # conversion.go: "We insert all the NetworkPolicy Policies at order 1000.0"

CALICO_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")
ANP_GROUP = "policy.networking.k8s.io/"

LABEL_NAMESPACE = "projectcalico.org/namespace"
LABEL_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
LABEL_ORCHESTRATOR = "projectcalico.org/orchestrator"
LABEL_NAME = "projectcalico.org/name"
# Stands for "this thing is namespaced" when a namespaceSelector's all()/global() are rewritten, the way
# rules.go rewrites them to has(projectcalico.org/namespace); a key no real namespace label uses.
NAMESPACED_SENTINEL = "netverify.reference.invalid/namespaced"

IGNORED_POLICY_KINDS = ("StagedNetworkPolicy", "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy")
UNMODELLED_KINDS = (
    "HostEndpoint",
    "Profile",
    "ClusterNetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
)


# ---------------------------------------------------------------------------------------------
# Things packets come from and go to.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerPort:
    """A containerPort: named ports resolve against these on the packet's destination."""

    name: str | None
    protocol: int
    number: int


@dataclass
class Endpoint:
    """A bare Pod or a workload (standing for all its identical pods, which have no known IPs)."""

    kind: str
    namespace: str
    name: str
    labels: dict[str, str]
    service_account: str
    ports: list[ContainerPort]
    ips: list[IPAddress]

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class External:
    """An address outside the cluster: nothing selects it; only nets, notSelector and sets match it."""

    ip: IPAddress

    @property
    def id(self) -> str:
        return str(self.ip)


@dataclass
class NetworkSet:
    """A Calico NetworkSet (namespace set) or GlobalNetworkSet (namespace None): labelled nets."""

    kind: str
    namespace: str | None
    name: str
    labels: dict[str, str]
    nets: list[IPNetwork]


Party = Endpoint | External


@dataclass(frozen=True)
class Packet:
    """What a rule is matched against: both ends, the IANA protocol number, the destination port."""

    src: Party
    dst: Party
    protocol: int
    port: int | None

    def describe(self) -> str:
        if self.port is None:
            port = ""
        elif self.protocol in ICMP_PROTOCOLS:
            port = f" type {self.port // 256} code {self.port % 256}"
        else:
            port = f"/{self.port}"
        return f"{self.src.id} -> {self.dst.id} {protocol_label(self.protocol)}{port}"


def protocol_label(number: int) -> str:
    for name, value in PROTOCOL_NUMBERS.items():
        if value == number:
            return {"ICMPV6": "ICMPv6", "UDPLITE": "UDPLite"}.get(name, name)
    return str(number)


def addresses_of(party: Party) -> list[IPAddress]:
    """The IPs a packet of this party may carry: external address, or a pod's status IPs (workloads: none)."""
    if isinstance(party, External):
        return [party.ip]
    return list(party.ips)


def in_any(addresses: list[IPAddress], nets: list[IPNetwork]) -> bool:
    for address in addresses:
        for net in nets:
            if address.version == net.version and address in net:
                return True
    return False


# ---------------------------------------------------------------------------------------------
# Small parsing helpers (the oracle is only fed valid manifests: anything odd raises ValueError).
# ---------------------------------------------------------------------------------------------


def _where(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    name = meta.get("name", "")
    return f"{obj.get('kind')} {namespace}/{name}" if namespace else f"{obj.get('kind')} {name}"


def _dict(value: object, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a mapping, got {type(value).__name__}")
    return value


def _list(value: object, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _keys(obj: dict, allowed: tuple[str, ...], what: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ValueError(f"{what}: unknown or unmodelled field {key!r} (allowed: {', '.join(allowed)})")


def _labels(value: object, what: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key, val in _dict(value, what).items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise ValueError(f"{what}: label {key!r}: {val!r} must map a string to a string")
        labels[key] = val
    return labels


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name(obj: dict, what: str) -> str:
    name = _dict(obj.get("metadata"), f"{what}.metadata").get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what}: metadata.name is required")
    return name


def _namespace(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("namespace") or DEFAULT_NAMESPACE


def parse_protocol(value: object, what: str) -> int:
    """A protocol name (any case: TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite) or a number 0..255."""
    if _is_int(value) and 0 <= value <= 255:  # type: ignore[operator]
        return int(value)  # type: ignore[arg-type]
    if isinstance(value, str):
        upper = value.strip().upper()
        if upper in PROTOCOL_NUMBERS:
            return PROTOCOL_NUMBERS[upper]
        if upper.isdigit() and int(upper) <= 255:
            return int(upper)
    raise ValueError(f"{what}: {value!r} is not a protocol name or number 0..255")


def parse_net(text: object, what: str) -> IPNetwork:
    """A Calico net: a CIDR or a bare IP (ParseCIDROrIP), host bits masked off."""
    if isinstance(text, str) and "/" not in text:
        try:
            return ipaddress.ip_network(text)
        except ValueError as exc:
            raise ValueError(f"{what}: {text!r} is not an IP or CIDR: {exc}") from exc
    return parse_network(text, what)


def parse_calico(text: object, what: str) -> Selector:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError(f"{what}: a Calico selector must be a string, got {text!r}")
    return parse_calico_selector(text)


def rewrite_scope_functions(text: str) -> str:
    """In a namespaceSelector, all() -> "is namespaced", global() -> "is not namespaced" (rules.go).

    Done on the text, as Calico itself does, but skipping quoted literals and words that merely end in
    "all"/"global", so `k == 'all()'` or a label `ball` are left alone.
    """
    out: list[str] = []
    i = 0
    quote: str | None = None
    label_chars = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
    while i < len(text):
        char = text[i]
        if quote is not None:
            out.append(char)
            if char == quote:
                quote = None
            i += 1
            continue
        if char in ("'", '"'):
            quote = char
            out.append(char)
            i += 1
            continue
        word_start = not out or out[-1] not in label_chars
        if word_start and text.startswith("all()", i):
            out.append(f"(has({NAMESPACED_SENTINEL}))")
            i += len("all()")
            continue
        if word_start and text.startswith("global()", i):
            out.append(f"(!has({NAMESPACED_SENTINEL}))")
            i += len("global()")
            continue
        out.append(char)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Ports (Calico: 80, "80:90", "name"; interval arithmetic for the conservative source-port rule).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortSpec:
    """One Calico port entry: an inclusive numeric range, or a name (range unused)."""

    first: int
    last: int
    name: str | None = None

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return str(self.first) if self.first == self.last else f"{self.first}:{self.last}"


def parse_port(value: object, what: str) -> PortSpec:
    if _is_int(value):
        if not 0 <= value <= 65535:  # type: ignore[operator]
            raise ValueError(f"{what}: port {value} is out of range 0..65535")
        return PortSpec(int(value), int(value))  # type: ignore[arg-type]
    if isinstance(value, str):
        text = value.strip()
        if ":" in text:
            low, _, high = text.partition(":")
            if not (low.strip().isdigit() and high.strip().isdigit()):
                raise ValueError(f"{what}: {value!r} is not a port range 'a:b'")
            first, last = int(low), int(high)
            if not 0 <= first <= last <= 65535:
                raise ValueError(f"{what}: {value!r} is not a valid range within 0..65535")
            return PortSpec(first, last)
        if text.isdigit():
            return parse_port(int(text), what)
        if not text:
            raise ValueError(f"{what}: empty port")
        return PortSpec(0, -1, text)
    raise ValueError(f"{what}: {value!r} must be a port number, 'a:b' range or a port name")


def named_port_numbers(endpoint: Party, name: str, protocol: int) -> list[int]:
    """Numbers `name` means on this endpoint for this protocol (external addresses have no names)."""
    if isinstance(endpoint, External):
        return []
    return [p.number for p in endpoint.ports if p.name == name and p.protocol == protocol]


def port_in(specs: list[PortSpec], owner: Party, protocol: int, port: int) -> bool:
    """Does one of the entries (names resolved on `owner`, the side the port belongs to) contain port?"""
    for spec in specs:
        if spec.name is None:
            if spec.first <= port <= spec.last:
                return True
        elif port in named_port_numbers(owner, spec.name, protocol):
            return True
    return False


def _intervals(specs: list[PortSpec], owner: Party, protocol: int) -> list[tuple[int, int]]:
    """The entries as inclusive intervals within 1..65535 (names resolved on `owner`)."""
    found: list[tuple[int, int]] = []
    for spec in specs:
        if spec.name is None:
            first, last = max(spec.first, PORT_MIN), min(spec.last, PORT_MAX)
            if first <= last:
                found.append((first, last))
        else:
            for number in named_port_numbers(owner, spec.name, protocol):
                found.append((number, number))
    return found


def _covered(point: int, intervals: list[tuple[int, int]]) -> bool:
    return any(first <= point <= last for first, last in intervals)


def some_port_fits(ports: list[PortSpec] | None, not_ports: list[PortSpec] | None, owner: Party, protocol: int) -> bool:
    """Is there a port in 1..65535 inside `ports` (if given) and outside `not_ports`?

    Only interval end points and the points just after an excluded interval can be the first free port,
    so checking those candidates is exact.
    """
    allowed = _intervals(ports, owner, protocol) if ports is not None else [(PORT_MIN, PORT_MAX)]
    excluded = _intervals(not_ports or [], owner, protocol)
    candidates = set()
    for first, last in allowed:
        candidates.update((first, last))
    for _first, last in excluded:
        candidates.add(last + 1)
    for point in sorted(candidates):
        if PORT_MIN <= point <= PORT_MAX and _covered(point, allowed) and not _covered(point, excluded):
            return True
    return False


def every_port_fits(
    ports: list[PortSpec] | None, not_ports: list[PortSpec] | None, owner: Party, protocol: int
) -> bool:
    """Does every port in 1..65535 lie inside `ports` (if given) and outside `not_ports`?"""
    if _intervals(not_ports or [], owner, protocol):
        return False
    if ports is None:
        return True
    reach = PORT_MIN - 1
    for first, last in sorted(_intervals(ports, owner, protocol)):
        if first > reach + 1:
            return False
        reach = max(reach, last)
    return reach >= PORT_MAX


# ---------------------------------------------------------------------------------------------
# Rules of the three policy families. Each answers: does this rule match this packet?
# ---------------------------------------------------------------------------------------------


@dataclass
class EntityRule:
    """A Calico EntityRule, with the namespace scope of the policy it belongs to."""

    policy_namespace: str | None  # None for a GlobalNetworkPolicy
    nets: list[IPNetwork] | None = None
    not_nets: list[IPNetwork] | None = None
    selector: Selector | None = None
    not_selector: Selector | None = None
    namespace_selector: Selector | None = None  # all()/global() already rewritten
    sa_names: frozenset[str] | None = None
    sa_selector: Selector | None = None
    ports: list[PortSpec] | None = None
    not_ports: list[PortSpec] | None = None

    @property
    def has_ports(self) -> bool:
        return self.ports is not None or self.not_ports is not None


@dataclass
class CalicoRule:
    action: str
    where: str
    protocol: int | None
    not_protocol: int | None
    icmp: tuple[int, int | None] | None
    not_icmp: tuple[int, int | None] | None
    source: EntityRule
    destination: EntityRule

    def matches(self, ref: OrderedReference, packet: Packet) -> bool:
        if self.protocol is not None and packet.protocol != self.protocol:
            return False
        if self.not_protocol is not None and packet.protocol == self.not_protocol:
            return False
        if not self._icmp_fits(packet.port):
            return False
        if not ref.entity_matches(self.source, packet.src, packet, is_source=True):
            return False
        if not ref.entity_matches(self.destination, packet.dst, packet, is_source=False):
            return False
        if self.source.has_ports:
            # The probe carries no source port: Allow/Log need some port to fit, Deny/Pass every one.
            if self.action in (ALLOW, LOG):
                fits = some_port_fits(self.source.ports, self.source.not_ports, packet.src, packet.protocol)
            else:
                fits = every_port_fits(self.source.ports, self.source.not_ports, packet.src, packet.protocol)
            if not fits:
                return False
        return True

    def _icmp_fits(self, value: int | None) -> bool:
        """`icmp`/`notICMP` against the probe's type * 256 + code (validation pins protocol ICMP/ICMPv6)."""
        if self.icmp is not None and (value is None or not icmp_value_in(value, self.icmp)):
            return False
        if self.not_icmp is not None and (value is None or icmp_value_in(value, self.not_icmp)):
            return False
        return True


def icmp_range(match: tuple[int, int | None]) -> tuple[int, int]:
    """{type} covers every code of the type; {type, code} one value."""
    icmp_type, code = match
    if code is None:
        return (icmp_type * 256, icmp_type * 256 + 255)
    return (icmp_type * 256 + code, icmp_type * 256 + code)


def icmp_value_in(value: int, match: tuple[int, int | None]) -> bool:
    first, last = icmp_range(match)
    return first <= value <= last


@dataclass
class KubernetesRule:
    """One Kubernetes NetworkPolicy rule: an Allow of (peers AND ports) on the other side (§1.3-§1.6)."""

    where: str
    direction: str
    policy_namespace: str
    spec: KubernetesRuleSpec
    action: str = ALLOW

    def matches(self, ref: OrderedReference, packet: Packet) -> bool:
        peer = packet.src if self.direction == INGRESS else packet.dst
        if self.spec.peers is not None and not any(
            ref.kubernetes_peer_matches(p, self.policy_namespace, peer) for p in self.spec.peers
        ):
            return False
        if self.spec.ports is None:
            return True  # ports missing or empty: every protocol and port
        return any(kubernetes_port_matches(p, packet) for p in self.spec.ports)


def kubernetes_port_matches(entry: PolicyPort, packet: Packet) -> bool:
    if PROTOCOL_NUMBERS[entry.protocol] != packet.protocol:
        return False
    if entry.port is None:
        return True
    if packet.port is None:
        return False
    if isinstance(entry.port, str):
        return packet.port in named_port_numbers(packet.dst, entry.port, packet.protocol)
    if entry.end_port is None:
        return packet.port == entry.port
    return entry.port <= packet.port <= entry.end_port


@dataclass(frozen=True)
class AdminPeer:
    """One ANP/BANP peer: namespaces, pods (namespace AND pod selector), or networks (egress only)."""

    namespaces: LabelSelector | None = None
    pod_namespaces: LabelSelector | None = None
    pods: LabelSelector | None = None
    networks: tuple[IPNetwork, ...] | None = None


@dataclass(frozen=True)
class AdminPort:
    """portNumber / portRange (protocol default TCP) or namedPort (any protocol)."""

    protocol: int | None
    first: int
    last: int
    name: str | None = None


@dataclass
class AdminRule:
    where: str
    direction: str
    action: str
    peers: list[AdminPeer]
    ports: list[AdminPort] | None

    def matches(self, ref: OrderedReference, packet: Packet) -> bool:
        peer = packet.src if self.direction == INGRESS else packet.dst
        if not any(ref.admin_peer_matches(p, peer) for p in self.peers):
            return False
        if self.ports is None:
            return True
        for entry in self.ports:
            if entry.name is not None:
                if packet.port is not None and packet.port in named_port_numbers(
                    packet.dst, entry.name, packet.protocol
                ):
                    return True
            elif entry.protocol == packet.protocol and packet.port is not None:
                if entry.first <= packet.port <= entry.last:
                    return True
        return False


Rule = CalicoRule | KubernetesRule | AdminRule


@dataclass
class Tier:
    name: str
    order: float | None  # None: after every ordered tier
    default_action: str  # DENY or PASS

    @property
    def sort_key(self) -> tuple[bool, float, str]:
        return (self.order is None, self.order if self.order is not None else 0.0, self.name)


@dataclass
class OrderedPolicy:
    """Any policy, normalised: which tier, where in it, whom it guards, its ordered rules per direction."""

    kind: str
    display: str  # for explain(): "GlobalNetworkPolicy deny-all", "NetworkPolicy ns/p", ...
    tier: str
    order: float  # math.inf when missing
    key_name: str  # Felix's tie-break name
    types: frozenset[str]
    selects: Callable[[OrderedReference, Endpoint], bool]
    ingress: list[Rule] = field(default_factory=list)
    egress: list[Rule] = field(default_factory=list)

    def rules(self, direction: str) -> list[Rule]:
        return self.ingress if direction == INGRESS else self.egress


# ---------------------------------------------------------------------------------------------
# Parsing of each kind into OrderedPolicy.
# ---------------------------------------------------------------------------------------------


def calico_types(spec: dict, ingress: list, egress: list, what: str) -> frozenset[str]:
    """§4.1: explicit types win; otherwise egress-only -> Egress, both -> both, else Ingress."""
    raw = _list(spec.get("types"), f"{what}.types")
    for entry in raw:
        if entry not in (INGRESS, EGRESS):
            raise ValueError(f"{what}.types: {entry!r} is not Ingress or Egress")
    if raw:
        return frozenset(raw)
    if egress and not ingress:
        return frozenset({EGRESS})
    if egress and ingress:
        return frozenset({INGRESS, EGRESS})
    return frozenset({INGRESS})


def parse_icmp(value: object, what: str) -> tuple[int, int | None] | None:
    if value is None:
        return None
    raw = _dict(value, what)
    _keys(raw, ("type", "code"), what)
    icmp_type, code = raw.get("type"), raw.get("code")
    if icmp_type is None:
        if code is not None:
            raise ValueError(f"{what}: code requires type")
        return None
    if not _is_int(icmp_type) or not 0 <= icmp_type <= 254:
        raise ValueError(f"{what}.type: {icmp_type!r} must be 0..254")
    if code is not None and (not _is_int(code) or not 0 <= code <= 255):
        raise ValueError(f"{what}.code: {code!r} must be 0..255")
    return (icmp_type, code)


def parse_entity_rule(value: object, policy_namespace: str | None, what: str) -> EntityRule:
    raw = _dict(value, what)
    if raw.get("services") is not None:
        raise ValueError(f"{what}.services: Service matches are not modelled by the reference")
    _keys(
        raw,
        (
            "nets",
            "notNets",
            "selector",
            "notSelector",
            "namespaceSelector",
            "ports",
            "notPorts",
            "serviceAccounts",
        ),
        what,
    )
    entity = EntityRule(policy_namespace)
    if raw.get("nets"):  # the Go fields are slices: empty means "no condition"
        entity.nets = [parse_net(n, f"{what}.nets[{i}]") for i, n in enumerate(_list(raw["nets"], what))]
    if raw.get("notNets"):
        entity.not_nets = [parse_net(n, f"{what}.notNets[{i}]") for i, n in enumerate(_list(raw["notNets"], what))]
    # An empty selector string is the same as none (the Go field is a plain string).
    if raw.get("selector"):
        entity.selector = parse_calico(raw["selector"], f"{what}.selector")
    if raw.get("notSelector"):
        entity.not_selector = parse_calico(raw["notSelector"], f"{what}.notSelector")
    if raw.get("namespaceSelector"):
        text = raw["namespaceSelector"]
        parse_calico(text, f"{what}.namespaceSelector")  # validate the text as written
        entity.namespace_selector = parse_calico(rewrite_scope_functions(text), f"{what}.namespaceSelector")
    accounts = raw.get("serviceAccounts")
    if accounts is not None:
        accounts = _dict(accounts, f"{what}.serviceAccounts")
        _keys(accounts, ("names", "selector"), f"{what}.serviceAccounts")
        names = _list(accounts.get("names"), f"{what}.serviceAccounts.names")
        for name in names:
            if not isinstance(name, str):
                raise ValueError(f"{what}.serviceAccounts.names: {name!r} must be a string")
        if names:
            entity.sa_names = frozenset(names)
        if accounts.get("selector"):
            entity.sa_selector = parse_calico(accounts["selector"], f"{what}.serviceAccounts.selector")
    if raw.get("ports"):
        entity.ports = [parse_port(p, f"{what}.ports[{i}]") for i, p in enumerate(_list(raw["ports"], what))]
    if raw.get("notPorts"):
        entity.not_ports = [parse_port(p, f"{what}.notPorts[{i}]") for i, p in enumerate(_list(raw["notPorts"], what))]
    return entity


def parse_calico_rule(value: object, policy_namespace: str | None, where: str, what: str) -> CalicoRule:
    raw = _dict(value, what)
    for unmodelled in ("http", "ipVersion"):
        if raw.get(unmodelled) is not None:
            raise ValueError(f"{what}.{unmodelled}: not modelled by the reference")
    _keys(
        raw,
        ("action", "protocol", "notProtocol", "icmp", "notICMP", "source", "destination", "metadata"),
        what,
    )
    action = raw.get("action")
    if action not in (ALLOW, DENY, PASS, LOG):
        raise ValueError(f"{what}.action: {action!r} is not Allow, Deny, Pass or Log")
    protocol = parse_protocol(raw["protocol"], f"{what}.protocol") if raw.get("protocol") is not None else None
    not_protocol = (
        parse_protocol(raw["notProtocol"], f"{what}.notProtocol") if raw.get("notProtocol") is not None else None
    )
    rule = CalicoRule(
        action=action,
        where=where,
        protocol=protocol,
        not_protocol=not_protocol,
        icmp=parse_icmp(raw.get("icmp"), f"{what}.icmp"),
        not_icmp=parse_icmp(raw.get("notICMP"), f"{what}.notICMP"),
        source=parse_entity_rule(raw.get("source"), policy_namespace, f"{what}.source"),
        destination=parse_entity_rule(raw.get("destination"), policy_namespace, f"{what}.destination"),
    )
    # Calico validation: ports need a ported protocol; icmp needs ICMP/ICMPv6.
    if (rule.source.has_ports or rule.destination.has_ports) and protocol not in PORTED_PROTOCOLS:
        raise ValueError(f"{what}: ports are only valid with protocol TCP, UDP or SCTP")
    if (rule.icmp is not None or rule.not_icmp is not None) and protocol not in (ICMP, ICMPV6):
        raise ValueError(f"{what}: icmp/notICMP are only valid with protocol ICMP or ICMPv6")
    return rule


def parse_order(value: object, what: str) -> float:
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what}: order {value!r} must be a number")
    return float(value)


def parse_calico_policy(obj: dict) -> OrderedPolicy | None:
    """A projectcalico.org GlobalNetworkPolicy or NetworkPolicy; None when it never applies to pods."""
    kind = obj["kind"]
    what = _where(obj)
    name = _name(obj, what)
    spec = _dict(obj.get("spec"), f"{what}.spec")
    is_global = kind == "GlobalNetworkPolicy"
    common = (
        "tier",
        "order",
        "selector",
        "serviceAccountSelector",
        "types",
        "ingress",
        "egress",
        "performanceHints",
    )
    if is_global:
        _keys(spec, common + ("namespaceSelector", "doNotTrack", "preDNAT", "applyOnForward"), f"{what}.spec")
        if spec.get("doNotTrack") or spec.get("preDNAT"):
            return None  # rendered only for host endpoints
    else:
        _keys(spec, common, f"{what}.spec")
    namespace = None if is_global else _namespace(obj)
    tier = spec.get("tier") or DEFAULT_TIER
    if not isinstance(tier, str):
        raise ValueError(f"{what}.spec.tier: {tier!r} must be a string")
    ingress_raw = _list(spec.get("ingress"), f"{what}.spec.ingress")
    egress_raw = _list(spec.get("egress"), f"{what}.spec.egress")
    selector = parse_calico(spec.get("selector"), f"{what}.spec.selector")
    ns_selector = None
    if is_global and spec.get("namespaceSelector"):
        parse_calico(spec["namespaceSelector"], f"{what}.spec.namespaceSelector")
        ns_selector = parse_calico(rewrite_scope_functions(spec["namespaceSelector"]), f"{what}.spec.namespaceSelector")
    sa_selector = None
    if spec.get("serviceAccountSelector"):
        sa_selector = parse_calico(spec["serviceAccountSelector"], f"{what}.spec.serviceAccountSelector")

    def selects(ref: OrderedReference, endpoint: Endpoint) -> bool:
        if namespace is not None and endpoint.namespace != namespace:
            return False
        if not selector.matches(ref.calico_labels(endpoint)):
            return False
        if ns_selector is not None and not ns_selector.matches(ref.namespace_view(endpoint.namespace)):
            return False
        if sa_selector is not None and not sa_selector.matches(
            ref.service_account_view(endpoint.namespace, endpoint.service_account)
        ):
            return False
        return True

    display_name = name if is_global else f"{namespace}/{name}"
    return OrderedPolicy(
        kind=kind,
        display=f"{kind} {display_name}",
        tier=tier,
        order=parse_order(spec.get("order"), f"{what}.spec.order"),
        key_name=display_name,
        types=calico_types(spec, ingress_raw, egress_raw, f"{what}.spec"),
        selects=selects,
        ingress=[
            parse_calico_rule(r, namespace, f"ingress[{i}]", f"{what}.spec.ingress[{i}]")
            for i, r in enumerate(ingress_raw)
        ],
        egress=[
            parse_calico_rule(r, namespace, f"egress[{i}]", f"{what}.spec.egress[{i}]")
            for i, r in enumerate(egress_raw)
        ],
    )


def kubernetes_to_ordered(policy: KubernetesPolicy) -> OrderedPolicy:
    """§4.4: a default-tier Calico policy at order 1000 whose rules all Allow, types from policyTypes."""

    def selects(ref: OrderedReference, endpoint: Endpoint) -> bool:
        return endpoint.namespace == policy.namespace and selector_matches(policy.pod_selector, endpoint.labels)

    return OrderedPolicy(
        kind="NetworkPolicy (networking.k8s.io)",
        display=f"Kubernetes NetworkPolicy {policy.namespace}/{policy.name}",
        tier=DEFAULT_TIER,
        order=KUBERNETES_POLICY_ORDER,
        key_name=f"{policy.namespace}/knp.default.{policy.name}",
        types=frozenset(policy.policy_types),
        selects=selects,
        ingress=[KubernetesRule(f"ingress[{i}]", INGRESS, policy.namespace, r) for i, r in enumerate(policy.ingress)],
        egress=[KubernetesRule(f"egress[{i}]", EGRESS, policy.namespace, r) for i, r in enumerate(policy.egress)],
    )


def parse_admin_subject(value: object, what: str) -> Callable[[OrderedReference, Endpoint], bool]:
    raw = _dict(value, what)
    _keys(raw, ("namespaces", "pods"), what)
    if (raw.get("namespaces") is None) == (raw.get("pods") is None):
        raise ValueError(f"{what}: exactly one of namespaces or pods")
    if raw.get("namespaces") is not None:
        namespaces = parse_selector(raw["namespaces"], f"{what}.namespaces")

        def by_namespace(ref: OrderedReference, endpoint: Endpoint) -> bool:
            return selector_matches(namespaces, ref.namespace_labels[endpoint.namespace])

        return by_namespace
    pods = _dict(raw["pods"], f"{what}.pods")
    _keys(pods, ("namespaceSelector", "podSelector"), f"{what}.pods")
    ns_sel = parse_selector(pods.get("namespaceSelector"), f"{what}.pods.namespaceSelector")
    pod_sel = parse_selector(pods.get("podSelector"), f"{what}.pods.podSelector")

    def by_pod(ref: OrderedReference, endpoint: Endpoint) -> bool:
        return selector_matches(ns_sel, ref.namespace_labels[endpoint.namespace]) and selector_matches(
            pod_sel, endpoint.labels
        )

    return by_pod


def parse_admin_peer(value: object, egress: bool, what: str) -> AdminPeer:
    raw = _dict(value, what)
    for unmodelled in ("nodes", "domainNames"):
        if raw.get(unmodelled) is not None:
            raise ValueError(f"{what}.{unmodelled}: not modelled by the reference")
    _keys(raw, ("namespaces", "pods", "networks") if egress else ("namespaces", "pods"), what)
    present = [k for k in ("namespaces", "pods", "networks") if raw.get(k) is not None]
    if len(present) != 1:
        raise ValueError(f"{what}: exactly one of namespaces, pods{', networks' if egress else ''}")
    if raw.get("namespaces") is not None:
        return AdminPeer(namespaces=parse_selector(raw["namespaces"], f"{what}.namespaces"))
    if raw.get("pods") is not None:
        pods = _dict(raw["pods"], f"{what}.pods")
        _keys(pods, ("namespaceSelector", "podSelector"), f"{what}.pods")
        return AdminPeer(
            pod_namespaces=parse_selector(pods.get("namespaceSelector"), f"{what}.pods.namespaceSelector"),
            pods=parse_selector(pods.get("podSelector"), f"{what}.pods.podSelector"),
        )
    networks = _list(raw["networks"], f"{what}.networks")
    if not networks:
        raise ValueError(f"{what}.networks: at least one CIDR")
    return AdminPeer(networks=tuple(parse_network(n, f"{what}.networks[{i}]") for i, n in enumerate(networks)))


def parse_admin_port(value: object, what: str) -> AdminPort:
    raw = _dict(value, what)
    _keys(raw, ("portNumber", "namedPort", "portRange"), what)
    present = [k for k in ("portNumber", "namedPort", "portRange") if raw.get(k) is not None]
    if len(present) != 1:
        raise ValueError(f"{what}: exactly one of portNumber, namedPort, portRange")
    if raw.get("namedPort") is not None:
        if not isinstance(raw["namedPort"], str):
            raise ValueError(f"{what}.namedPort must be a string")
        return AdminPort(None, 0, -1, raw["namedPort"])
    if raw.get("portNumber") is not None:
        entry = _dict(raw["portNumber"], f"{what}.portNumber")
        _keys(entry, ("protocol", "port"), f"{what}.portNumber")
        port = entry.get("port")
        if not _is_int(port) or not PORT_MIN <= port <= PORT_MAX:
            raise ValueError(f"{what}.portNumber.port: {port!r} must be 1..65535")
        protocol = parse_protocol(entry.get("protocol") or "TCP", f"{what}.portNumber.protocol")
        return AdminPort(protocol, port, port)
    entry = _dict(raw["portRange"], f"{what}.portRange")
    _keys(entry, ("protocol", "start", "end"), f"{what}.portRange")
    start, end = entry.get("start"), entry.get("end")
    if not (_is_int(start) and _is_int(end) and PORT_MIN <= start <= end <= PORT_MAX):
        raise ValueError(f"{what}.portRange: start {start!r} .. end {end!r} must be 1..65535, start <= end")
    protocol = parse_protocol(entry.get("protocol") or "TCP", f"{what}.portRange.protocol")
    return AdminPort(protocol, start, end)


def parse_admin_policy(obj: dict) -> OrderedPolicy:
    kind = obj["kind"]
    what = _where(obj)
    name = _name(obj, what)
    spec = _dict(obj.get("spec"), f"{what}.spec")
    baseline = kind == "BaselineAdminNetworkPolicy"
    if baseline:
        _keys(spec, ("subject", "ingress", "egress"), f"{what}.spec")
        if name != "default":
            raise ValueError(f"{what}: a BaselineAdminNetworkPolicy must be named 'default'")
        actions: tuple[str, ...] = (ALLOW, DENY)
        order = 0.0
    else:
        _keys(spec, ("priority", "subject", "ingress", "egress"), f"{what}.spec")
        priority = spec.get("priority")
        if not _is_int(priority) or not 0 <= priority <= 1000:
            raise ValueError(f"{what}.spec.priority: {priority!r} must be 0..1000")
        actions = (ALLOW, DENY, PASS)
        order = float(priority)
    subject = parse_admin_subject(spec.get("subject"), f"{what}.spec.subject")
    rules: dict[str, list[Rule]] = {INGRESS: [], EGRESS: []}
    for direction, key, peer_key in ((INGRESS, "ingress", "from"), (EGRESS, "egress", "to")):
        for i, raw in enumerate(_list(spec.get(key), f"{what}.spec.{key}")):
            rwhat = f"{what}.spec.{key}[{i}]"
            raw = _dict(raw, rwhat)
            _keys(raw, ("name", "action", peer_key, "ports"), rwhat)
            action = raw.get("action")
            if action not in actions:
                raise ValueError(f"{rwhat}.action: {action!r} is not one of {actions}")
            peers_raw = _list(raw.get(peer_key), f"{rwhat}.{peer_key}")
            if not peers_raw:
                raise ValueError(f"{rwhat}.{peer_key}: at least one peer")
            peers = [
                parse_admin_peer(p, direction == EGRESS, f"{rwhat}.{peer_key}[{j}]") for j, p in enumerate(peers_raw)
            ]
            ports = None
            if raw.get("ports") is not None:
                ports = [
                    parse_admin_port(p, f"{rwhat}.ports[{j}]")
                    for j, p in enumerate(_list(raw["ports"], f"{rwhat}.ports"))
                ]
            rules[direction].append(AdminRule(f"{key}[{i}]", direction, action, peers, ports))
    types = frozenset(d for d in (INGRESS, EGRESS) if rules[d])  # no rules: does not affect that direction
    return OrderedPolicy(
        kind=kind,
        display=f"{kind} {name}",
        tier=BASELINE_TIER if baseline else ADMIN_TIER,
        order=order,
        key_name=name,
        types=types,
        selects=subject,
        ingress=rules[INGRESS],
        egress=rules[EGRESS],
    )


def parse_tier(obj: dict) -> Tier:
    what = _where(obj)
    name = _name(obj, what)
    spec = _dict(obj.get("spec"), f"{what}.spec")
    _keys(spec, ("order", "defaultAction"), f"{what}.spec")
    builtin_order, builtin_action = BUILTIN_TIERS.get(name, (None, DENY))
    order = spec.get("order", builtin_order)
    if order is not None and (isinstance(order, bool) or not isinstance(order, (int, float))):
        raise ValueError(f"{what}.spec.order: {order!r} must be a number")
    action = spec.get("defaultAction") or builtin_action
    if action not in (DENY, PASS):
        raise ValueError(f"{what}.spec.defaultAction: {action!r} is not Deny or Pass")
    return Tier(name, None if order is None else float(order), action)


def parse_network_set(obj: dict) -> NetworkSet:
    kind = obj["kind"]
    what = _where(obj)
    name = _name(obj, what)
    meta = _dict(obj.get("metadata"), f"{what}.metadata")
    spec = _dict(obj.get("spec"), f"{what}.spec")
    if spec.get("allowedEgressDomains"):
        raise ValueError(f"{what}.spec.allowedEgressDomains: not modelled by the reference")
    _keys(spec, ("nets", "allowedEgressDomains"), f"{what}.spec")
    nets = [parse_net(n, f"{what}.spec.nets[{i}]") for i, n in enumerate(_list(spec.get("nets"), what))]
    namespace = _namespace(obj) if kind == "NetworkSet" else None
    return NetworkSet(kind, namespace, name, _labels(meta.get("labels"), f"{what}.metadata.labels"), nets)


def parse_service_account_name(obj: dict) -> str:
    """spec.serviceAccountName (or the deprecated serviceAccount) of a pod or of a workload's template."""
    if obj["kind"] == "Pod":
        pod_spec = _dict(obj.get("spec"), "spec")
    else:
        spec = _dict(obj.get("spec"), "spec")
        if obj["kind"] == "CronJob":
            spec = _dict(_dict(spec.get("jobTemplate"), "jobTemplate").get("spec"), "jobTemplate.spec")
        pod_spec = _dict(_dict(spec.get("template"), "template").get("spec"), "template.spec")
    name = pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default"
    if not isinstance(name, str):
        raise ValueError(f"{_where(obj)}: serviceAccountName {name!r} must be a string")
    return name


def _flatten(manifests: list[dict]) -> list[dict]:
    out: list[dict] = []
    for doc in manifests:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValueError(f"manifest must be a mapping, got {type(doc).__name__}")
        if str(doc.get("kind", "")).endswith("List") and "items" in doc:
            out.extend(_flatten(_list(doc.get("items"), "List.items")))
        else:
            out.append(doc)
    return out


# ---------------------------------------------------------------------------------------------
# The evaluator.
# ---------------------------------------------------------------------------------------------


class OrderedReference:
    """Per-packet tiered evaluation over raw manifest dicts (as `yaml.safe_load` gives them).

    ipblock_matches_pod_ips: whether a Kubernetes ipBlock matches pod IPs (Calico: yes, §1.5). Calico
    `nets` and ANP `networks` always do.
    """

    def __init__(self, manifests: list[dict], ipblock_matches_pod_ips: bool = True) -> None:
        self.ipblock_matches_pod_ips = ipblock_matches_pod_ips
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.service_account_labels: dict[tuple[str, str], dict[str, str]] = {}
        self.network_sets: list[NetworkSet] = []
        self.policies: list[OrderedPolicy] = []
        self.tiers: dict[str, Tier] = {
            name: Tier(name, order, action) for name, (order, action) in BUILTIN_TIERS.items()
        }
        self._endpoints: dict[str, Endpoint] = {}

        declared_ns: dict[str, dict[str, str]] = {}
        used_ns: list[str] = []
        seen: set[tuple[str, str | None, str]] = set()

        def once(kind: str, namespace: str | None, name: str) -> None:
            key = (kind, namespace, name)
            if key in seen:
                raise ValueError(f"{kind} {namespace or ''}/{name} is declared twice")
            seen.add(key)

        for obj in _flatten(manifests):
            kind = obj.get("kind")
            api = str(obj.get("apiVersion", ""))
            is_calico = api.startswith(CALICO_GROUPS)
            if kind == "Namespace":
                name = _name(obj, "Namespace")
                once("Namespace", None, name)
                declared_ns[name] = _labels((obj.get("metadata") or {}).get("labels"), f"Namespace {name}")
            elif kind == "ServiceAccount":
                name, namespace = _name(obj, "ServiceAccount"), _namespace(obj)
                once("ServiceAccount", namespace, name)
                labels = _labels((obj.get("metadata") or {}).get("labels"), f"ServiceAccount {name}")
                self.service_account_labels[(namespace, name)] = labels
                used_ns.append(namespace)
            elif kind == "Pod" or kind in WORKLOAD_KINDS:
                endpoint = self._parse_endpoint(obj)
                if endpoint.id in self._endpoints:
                    raise ValueError(f"{endpoint.id} is declared twice")
                self._endpoints[endpoint.id] = endpoint
                used_ns.append(endpoint.namespace)
            elif kind == "NetworkPolicy" and api.startswith("networking.k8s.io/"):
                k8s = parse_policy(obj)
                once("KubernetesNetworkPolicy", k8s.namespace, k8s.name)
                self.policies.append(kubernetes_to_ordered(k8s))
                used_ns.append(k8s.namespace)
            elif kind in ("NetworkPolicy", "GlobalNetworkPolicy") and is_calico:
                policy = parse_calico_policy(obj)
                namespace = None if kind == "GlobalNetworkPolicy" else _namespace(obj)
                once(kind, namespace, _name(obj, kind))
                if namespace is not None:
                    used_ns.append(namespace)
                if policy is not None:
                    self.policies.append(policy)
            elif kind in ("NetworkSet", "GlobalNetworkSet") and is_calico:
                network_set = parse_network_set(obj)
                once(kind, network_set.namespace, network_set.name)
                self.network_sets.append(network_set)
                if network_set.namespace is not None:
                    used_ns.append(network_set.namespace)
            elif kind == "Tier" and is_calico:
                tier = parse_tier(obj)
                once("Tier", None, tier.name)
                self.tiers[tier.name] = tier
            elif kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy") and api.startswith(ANP_GROUP):
                policy = parse_admin_policy(obj)
                once(kind, None, policy.key_name)
                self.policies.append(policy)
            elif kind in IGNORED_POLICY_KINDS:
                continue  # staged policies are reported by Calico, never enforced
            elif kind in UNMODELLED_KINDS or kind in (
                "NetworkPolicy",
                "GlobalNetworkPolicy",
                "NetworkSet",
                "GlobalNetworkSet",
                "Tier",
                "AdminNetworkPolicy",
                "BaselineAdminNetworkPolicy",
            ):
                raise ValueError(f"{kind} ({api}) is not modelled by the ordered reference")
            # every other kind (Service, ConfigMap, Ingress, ...) does not change pod-level policy

        for policy in self.policies:
            if policy.tier not in self.tiers:
                raise ValueError(f"{policy.display}: tier {policy.tier!r} does not exist (no Tier object)")
        for name, labels in declared_ns.items():
            self.namespace_labels[name] = dict(labels)
        for name in used_ns:
            self.namespace_labels.setdefault(name, {})
        for name, labels in self.namespace_labels.items():
            labels[NAMESPACE_NAME_LABEL] = name  # set by the control plane on every namespace

    @staticmethod
    def _parse_endpoint(obj: dict) -> Endpoint:
        base = parse_endpoint(obj)
        ports = [ContainerPort(p.name, PROTOCOL_NUMBERS[p.protocol], p.number) for p in base.ports]
        return Endpoint(
            base.kind,
            base.namespace,
            base.name,
            dict(base.labels),
            parse_service_account_name(obj),
            ports,
            list(base.ips),
        )

    # -- label views ------------------------------------------------------------------------------

    @staticmethod
    def calico_labels(endpoint: Endpoint) -> dict[str, str]:
        """A workload endpoint's labels as Calico selectors see them: pod labels plus pseudo-labels."""
        labels = dict(endpoint.labels)
        labels[LABEL_NAMESPACE] = endpoint.namespace
        labels[LABEL_ORCHESTRATOR] = "k8s"
        labels[LABEL_SERVICE_ACCOUNT] = endpoint.service_account
        return labels

    @staticmethod
    def set_labels(network_set: NetworkSet) -> dict[str, str]:
        labels = dict(network_set.labels)
        if network_set.namespace is not None:
            labels[LABEL_NAMESPACE] = network_set.namespace  # networksetprocessor.go adds it
        return labels

    def namespace_view(self, namespace: str | None) -> dict[str, str]:
        """What a namespaceSelector sees: the namespace's labels plus its name; nothing for global things."""
        if namespace is None:
            return {}
        labels = dict(self.namespace_labels.get(namespace, {NAMESPACE_NAME_LABEL: namespace}))
        labels[LABEL_NAME] = namespace
        labels[NAMESPACED_SENTINEL] = "true"
        return labels

    def service_account_view(self, namespace: str, account: str) -> dict[str, str]:
        labels = dict(self.service_account_labels.get((namespace, account), {}))
        labels[LABEL_NAME] = account
        return labels

    # -- matching pieces --------------------------------------------------------------------------

    def identity_matches(self, entity: EntityRule, thing: Endpoint | NetworkSet) -> bool:
        """The positive selector of an EntityRule (rules.go getEndpointSelector) on one known thing."""
        scoped = (
            entity.selector is not None
            or entity.not_selector is not None
            or (entity.namespace_selector is not None)
            or entity.sa_names is not None
            or entity.sa_selector is not None
        )
        namespace = thing.namespace
        if scoped:
            if entity.namespace_selector is not None:
                if not entity.namespace_selector.matches(self.namespace_view(namespace)):
                    return False
            elif entity.policy_namespace is not None and namespace != entity.policy_namespace:
                return False
        if entity.sa_names is not None:
            if not isinstance(thing, Endpoint) or thing.service_account not in entity.sa_names:
                return False
        if entity.sa_selector is not None:
            view = (
                self.service_account_view(thing.namespace, thing.service_account) if isinstance(thing, Endpoint) else {}
            )
            if not entity.sa_selector.matches(view):
                return False
        if entity.selector is not None:
            labels = self.calico_labels(thing) if isinstance(thing, Endpoint) else self.set_labels(thing)
            if not entity.selector.matches(labels):
                return False
        return True

    def has_identity_constraint(self, entity: EntityRule) -> bool:
        """Is there a positive selector at all? (Without one, any address passes this part.)"""
        if entity.selector is not None or entity.sa_names is not None or entity.sa_selector is not None:
            return True
        if entity.namespace_selector is not None:
            return True
        return entity.policy_namespace is not None and entity.not_selector is not None

    def sets_containing(self, party: Party) -> list[NetworkSet]:
        addresses = addresses_of(party)
        return [s for s in self.network_sets if in_any(addresses, s.nets)]

    def selected_by(self, selector: Selector, party: Party) -> bool:
        """Is the party's address in the IP set of `selector` (matching endpoints + matching sets' nets)?"""
        if isinstance(party, Endpoint) and selector.matches(self.calico_labels(party)):
            return True
        return any(selector.matches(self.set_labels(s)) for s in self.sets_containing(party))

    def entity_matches(self, entity: EntityRule, party: Party, packet: Packet, is_source: bool) -> bool:
        """Every criterion of an EntityRule on one end of the packet (source ports: see CalicoRule)."""
        addresses = addresses_of(party)
        if entity.nets is not None and not in_any(addresses, entity.nets):
            return False
        if entity.not_nets is not None and in_any(addresses, entity.not_nets):
            return False
        if self.has_identity_constraint(entity):
            hit = isinstance(party, Endpoint) and self.identity_matches(entity, party)
            if not hit:
                hit = any(self.identity_matches(entity, s) for s in self.sets_containing(party))
            if not hit:
                return False
        if entity.not_selector is not None and self.selected_by(entity.not_selector, party):
            return False
        if not is_source:
            if entity.ports is not None:
                if packet.port is None or not port_in(entity.ports, party, packet.protocol, packet.port):
                    return False
            if entity.not_ports is not None:
                if packet.port is None or port_in(entity.not_ports, party, packet.protocol, packet.port):
                    return False
        return True

    def kubernetes_peer_matches(self, peer: Peer, policy_namespace: str, party: Party) -> bool:
        """A NetworkPolicyPeer (§1.4): ipBlock on addresses, selectors on pods only."""
        if peer.ip_block is not None:
            block: IPBlock = peer.ip_block
            if isinstance(party, Endpoint) and not self.ipblock_matches_pod_ips:
                return False
            return any(ip_in_block(ip, block) for ip in addresses_of(party))
        if isinstance(party, External):
            return False
        if peer.namespace_selector is None:
            if party.namespace != policy_namespace:
                return False
        elif not selector_matches(peer.namespace_selector, self.namespace_labels[party.namespace]):
            return False
        return peer.pod_selector is None or selector_matches(peer.pod_selector, party.labels)

    def admin_peer_matches(self, peer: AdminPeer, party: Party) -> bool:
        if peer.networks is not None:
            return in_any(addresses_of(party), list(peer.networks))
        if isinstance(party, External):
            return False
        ns_labels = self.namespace_labels[party.namespace]
        if peer.namespaces is not None:
            return selector_matches(peer.namespaces, ns_labels)
        assert peer.pod_namespaces is not None and peer.pods is not None
        return selector_matches(peer.pod_namespaces, ns_labels) and selector_matches(peer.pods, party.labels)

    # -- public API -------------------------------------------------------------------------------

    def endpoints(self) -> list[str]:
        """ "ns/name" of every bare Pod and workload, in manifest order."""
        return list(self._endpoints)

    def allowed(self, src: str, dst: str, protocol: str | int, port: int | None) -> bool:
        """Is a new connection src -> dst allowed? Both the source's egress and the destination's ingress.

        For ICMP/ICMPv6, port None asks whether some type/code is allowed (both sides agreeing on it).
        """
        return any(self._flow(packet, None) for packet in self._packets(src, dst, protocol, port))

    def egress_allows(self, src: str, dst: str, protocol: str | int, port: int | None) -> bool:
        return any(self._decide(EGRESS, p, None) for p in self._packets(src, dst, protocol, port))

    def ingress_allows(self, src: str, dst: str, protocol: str | int, port: int | None) -> bool:
        return any(self._decide(INGRESS, p, None) for p in self._packets(src, dst, protocol, port))

    def explain(self, src: str, dst: str, protocol: str | int, port: int | None) -> list[str]:
        """Every decision taken for this probe, one line each, for debugging failing examples.

        An ICMP probe without a value is explained at its first allowed representative value, or at every
        representative value when none is allowed.
        """
        packets = self._packets(src, dst, protocol, port)
        chosen = [p for p in packets if self._flow(p, None)][:1] or packets
        trace: list[str] = []
        for packet in chosen:
            self._flow(packet, trace)
        return trace

    def _flow(self, packet: Packet, trace: list[str] | None) -> bool:
        if trace is not None:
            trace.append(f"packet {packet.describe()}")
        egress = self._decide(EGRESS, packet, trace)
        ingress = self._decide(INGRESS, packet, trace)
        if trace is not None:
            verdict = "ALLOWED" if egress and ingress else "DENIED"
            trace.append(f"=> {verdict} (egress {egress}, ingress {ingress})")
        return egress and ingress

    def _packets(self, src: str, dst: str, protocol: str | int, port: int | None) -> list[Packet]:
        """The probe as concrete packets: itself, or one per ICMP value class when no value was given."""
        packet = self._packet(src, dst, protocol, port)
        if packet.protocol not in ICMP_PROTOCOLS or packet.port is not None:
            return [packet]
        return [Packet(packet.src, packet.dst, packet.protocol, v) for v in self.icmp_representatives()]

    def icmp_representatives(self) -> list[int]:
        """One value inside every class of type * 256 + code that the cluster's icmp/notICMP ranges cut.

        A class starts at 0, where a range starts, or right after a range ends, so those points hit every
        class, and every rule's outcome is constant inside a class.
        """
        points = {0}
        for policy in self.policies:
            for rule in policy.ingress + policy.egress:
                if isinstance(rule, CalicoRule):
                    for match in (rule.icmp, rule.not_icmp):
                        if match is not None:
                            first, last = icmp_range(match)
                            points.add(first)
                            if last < ICMP_VALUE_MAX:
                                points.add(last + 1)
        return sorted(points)

    # -- evaluation -------------------------------------------------------------------------------

    def _resolve(self, ident: str) -> Party:
        if ident in self._endpoints:
            return self._endpoints[ident]
        try:
            return External(ipaddress.ip_address(ident))
        except ValueError:
            raise ValueError(f"{ident!r} is neither a known ns/name endpoint nor an IP address") from None

    def _packet(self, src: str, dst: str, protocol: str | int, port: int | None) -> Packet:
        number = parse_protocol(protocol, "probe protocol")
        if number in PORTED_PROTOCOLS:
            if not _is_int(port) or not PORT_MIN <= port <= PORT_MAX:  # type: ignore[operator]
                raise ValueError(f"{protocol} probe needs a port in 1..65535, got {port!r}")
        elif number in ICMP_PROTOCOLS:
            if port is not None and (not _is_int(port) or not 0 <= port <= ICMP_VALUE_MAX):
                raise ValueError(f"{protocol} probe takes None or type * 256 + code, got {port!r}")
        elif port is not None:
            raise ValueError(f"{protocol} probe takes no port, got {port!r}")
        return Packet(self._resolve(src), self._resolve(dst), number, port)

    def sorted_tiers(self) -> list[Tier]:
        return sorted(self.tiers.values(), key=lambda t: t.sort_key)

    def _decide(self, direction: str, packet: Packet, trace: list[str] | None) -> bool:
        """Walk the tiers for the endpoint whose `direction` this is (§4.2)."""
        target = packet.src if direction == EGRESS else packet.dst

        def note(line: str) -> None:
            if trace is not None:
                trace.append(line)

        if isinstance(target, External):
            note(f"{direction.lower()} of {target.id}: external, nothing selects it -> allow")
            return True
        for tier in self.sorted_tiers():
            applying = [
                p for p in self.policies if p.tier == tier.name and direction in p.types and p.selects(self, target)
            ]
            if not applying:
                continue
            applying.sort(key=lambda p: (p.order, p.key_name))
            passed = False
            for policy in applying:
                for rule in policy.rules(direction):
                    if not rule.matches(self, packet):
                        continue
                    head = f"{direction.lower()} of {target.id}: tier {tier.name}: {policy.display} {rule.where}"
                    if rule.action == LOG:
                        note(f"{head} Log, continue")
                        continue
                    if rule.action == ALLOW:
                        note(f"{head} Allow -> allowed")
                        return True
                    if rule.action == DENY:
                        note(f"{head} Deny -> denied")
                        return False
                    note(f"{head} Pass -> next tier")
                    passed = True
                    break
                if passed:
                    break
            if passed:
                continue
            names = ", ".join(p.display for p in applying)
            if tier.default_action == DENY:
                note(
                    f"{direction.lower()} of {target.id}: tier {tier.name} selects it ({names}), "
                    "nothing decided -> default Deny"
                )
                return False
            note(f"{direction.lower()} of {target.id}: tier {tier.name} ({names}) decided nothing -> Pass")
        note(f"{direction.lower()} of {target.id}: end of tiers -> namespace profile allows")
        return True
