"""Normalise the connectivity maps of netverify and NCA into one form, and compare them.

Why a separate module: the two tools print the same facts differently.  NCA (``-o txt_no_fw_rules``) writes
``ns/name[Deployment] => 10.0.3.0-255.255.255.255 : {protocols:TCP,dst_ports:443}``, merges adjacent IP
ranges with identical connectivity, sometimes prints a complement (``All but {...}``), and may add LiveSim
pods.  netverify (``matrix --format json``) writes ``{"src": "ns/name", "dst": "a-b", "conn": {...}}`` and
cuts the address space at every CIDR boundary any policy mentions.  A fair comparison therefore needs

* one canonical connection value: ``"all"`` or a frozenset of ``(protocol, first_port, last_port)`` with
  merged inclusive ranges (port-less protocols such as ICMP appear as ``(name, 0, 0)``);
* workloads named ``ns/name`` on both sides;
* IP ranges compared on *common atoms*: both sides' ranges for one workload and direction are split at the
  union of their boundaries, so "10.0.0.0-10.0.0.255 + 10.0.1.0-10.0.1.255" equals "10.0.0.0-10.0.1.255"
  when the connectivity is the same.

Everything here is pure Python with no dependency on either tool, so it can be unit-tested on strings.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Protocol names both tools use; anything else is carried as its number.
PROTOCOL_NUMBERS: dict[str, int] = {"ICMP": 1, "TCP": 6, "UDP": 17, "ICMPV6": 58, "SCTP": 132}
PROTOCOL_NAMES: dict[int, str] = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP"}
PORT_PROTOCOLS: frozenset[int] = frozenset({6, 17, 132})
ALL_PROTOCOLS: range = range(0, 256)
MAX_PORT = 65535

Conn = str | frozenset  # "all" or frozenset[tuple[str, int, int]]
Flow = tuple[str, str, Conn]  # (src, dst, conn), endpoints already normalised
Ranges = list[tuple[int, int]]


# --------------------------------------------------------------------------------------------------------
# connection values


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort and merge overlapping or adjacent inclusive ranges."""
    out: Ranges = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _complement(ranges: Ranges, lo: int, hi: int) -> Ranges:
    """The inclusive ranges of ``[lo, hi]`` not covered by the merged ``ranges``."""
    out: Ranges = []
    cur = lo
    for a, b in ranges:
        if a > cur:
            out.append((cur, a - 1))
        cur = max(cur, b + 1)
    if cur <= hi:
        out.append((cur, hi))
    return out


def protocol_number(name: str) -> int:
    """Protocol name or number (as text) to its IANA number."""
    key = name.strip().upper()
    if key in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[key]
    if key.isdigit() and 0 <= int(key) <= 255:
        return int(key)
    raise ValueError(f"unknown protocol {name!r}")


def protocol_name(number: int) -> str:
    """The canonical name used in normalised connections (``TCP``, ``ICMPv6``, or the number)."""
    return PROTOCOL_NAMES.get(number, str(number))


def canonical(per_proto: Mapping[int, Ranges | bool]) -> Conn:
    """Canonical value of a {protocol number: port ranges | True} mapping.

    ``True`` means every port (or, for a port-less protocol, the protocol itself).  The result is ``"all"``
    when every protocol with every port is present, which is how both tools print "All connections".
    """
    items: set[tuple[str, int, int]] = set()
    full = True
    for proto in ALL_PROTOCOLS:
        val = per_proto.get(proto)
        if val is None or val is False or val == []:
            full = False
            continue
        if proto in PORT_PROTOCOLS:
            ranges = [(1, MAX_PORT)] if val is True else _merge(val)  # type: ignore[arg-type]
            if ranges != [(1, MAX_PORT)]:
                full = False
            items.update((protocol_name(proto), a, b) for a, b in ranges)
        else:
            items.add((protocol_name(proto), 0, 0))
    return "all" if full else frozenset(items)


def expand(conn: Conn) -> dict[int, Ranges | bool]:
    """Inverse of :func:`canonical` (used to build complements and unions)."""
    if conn == "all":
        return {p: ([(1, MAX_PORT)] if p in PORT_PROTOCOLS else True) for p in ALL_PROTOCOLS}
    out: dict[int, Ranges | bool] = {}
    for name, a, b in conn:  # type: ignore[union-attr]
        p = protocol_number(name)
        if p in PORT_PROTOCOLS:
            cur = out.setdefault(p, [])
            assert isinstance(cur, list)
            cur.append((a, b))
        else:
            out[p] = True
    return out


def _complement_conn(conn: Conn) -> Conn:
    """Everything ``conn`` does not allow (over all 256 protocols and their ports)."""
    have = expand(conn)
    comp: dict[int, Ranges | bool] = {}
    for p in ALL_PROTOCOLS:
        cur = have.get(p)
        if p in PORT_PROTOCOLS:
            rest = _complement(_merge(cur) if isinstance(cur, list) else [], 1, MAX_PORT)
            if rest:
                comp[p] = rest
        elif cur is None:
            comp[p] = True
    return canonical(comp)


def conn_str(conn: Conn | None) -> str:
    """Short human form for difference reports, e.g. ``TCP 80-81,443; UDP 53`` or ``all but TCP 80``."""
    if conn is None:
        return "none"
    if conn == "all":
        return "all"
    if len(conn) > 128:
        return "all but " + conn_str(_complement_conn(conn))
    by_proto: dict[str, list[str]] = {}
    for name, a, b in sorted(conn, key=lambda t: (protocol_number(t[0]), t[1])):  # type: ignore[union-attr]
        if a == 0 and b == 0:
            by_proto.setdefault(name, [])
        else:
            by_proto.setdefault(name, []).append(str(a) if a == b else f"{a}-{b}")
    return "; ".join(f"{n} {','.join(v)}" if v else n for n, v in by_proto.items())


# --------------------------------------------------------------------------------------------------------
# NCA txt_no_fw_rules


_NCA_KEYS = ("protocols", "src_ports", "dst_ports", "icmp_type", "icmp_code", "methods", "paths", "hosts")
_NCA_KEY_SPLIT = re.compile(r",(?=(?:" + "|".join(_NCA_KEYS) + r"):)")
_NCA_CUBE = re.compile(r"\{([^{}]*)\}")
_NCA_ENDPOINT = re.compile(r"^(?P<ns>[^/\s\[]+)/(?P<name>[^\s\[]+)(?:\[(?P<kind>[^\]]+)\])?$")


def _parse_ports(text: str) -> Ranges:
    ranges: Ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition("-")
        ranges.append((int(a), int(b or a)))
    return _merge(ranges)


def _parse_nca_protocols(text: str) -> set[int]:
    text = text.strip()
    if text == "*":
        return set(ALL_PROTOCOLS)
    negate = text.startswith("all but ")
    if negate:
        text = text[len("all but "):]
    names = {protocol_number(n) for n in text.split(",") if n.strip()}
    return set(ALL_PROTOCOLS) - names if negate else names


def parse_nca_conn(text: str) -> Conn:
    """Parse NCA's connection text: ``All connections``, ``All but {...}`` or ``{protocols:..,dst_ports:..}``.

    Complements are expanded so both tools' values compare structurally.
    """
    text = text.strip()
    if text == "All connections":
        return "all"
    if text == "No connections":
        return frozenset()
    if text.startswith("All but "):
        return _complement_conn(parse_nca_conn(text[len("All but "):]))
    cubes = _NCA_CUBE.findall(text)
    if not cubes:
        raise ValueError(f"cannot parse NCA connection {text!r}")
    acc: dict[int, Ranges | bool] = {}
    for cube in cubes:
        fields: dict[str, str] = {}
        for item in _NCA_KEY_SPLIT.split(cube):
            key, _, val = item.partition(":")
            fields[key.strip()] = val
        unsupported = set(fields) - {"protocols", "dst_ports"}
        if unsupported:
            raise ValueError(f"NCA connection uses dimensions this comparison does not model: "
                             f"{sorted(unsupported)}")
        protos = _parse_nca_protocols(fields.get("protocols", "*"))
        ports = _parse_ports(fields["dst_ports"]) if "dst_ports" in fields else [(1, MAX_PORT)]
        for p in protos:
            if p in PORT_PROTOCOLS:
                cur = acc.get(p)
                acc[p] = (cur if isinstance(cur, list) else []) + ports
            else:
                acc[p] = True
    return canonical(acc)


def union(a: Conn | None, b: Conn | None) -> Conn | None:
    """Union of two connection values (None = nothing)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a == "all" or b == "all":
        return "all"
    acc: dict[int, Ranges | bool] = {}
    for c in (a, b):
        for p, v in expand(c).items():
            cur = acc.get(p)
            if v is True or cur is True:
                acc[p] = True
            else:
                acc[p] = (cur or []) + v  # type: ignore[operator]
    return canonical(acc)


@dataclass
class ParsedMap:
    """One tool's connectivity map, normalised: one connection per (src, dst), plus what was dropped.

    NCA may print *several* lines for one pair (one per distinct connection group it computed, e.g. a TCP
    named port from one rule and a UDP named port from another), so lines are united per pair, never
    overwritten.
    """

    conns: dict[tuple[str, str], Conn] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)
    dropped: list[str] = field(default_factory=list)

    def add(self, src: str, dst: str, conn: Conn) -> None:
        """Record (the union with) an allowed connection."""
        if conn == frozenset():
            return
        self.conns[(src, dst)] = union(self.conns.get((src, dst)), conn)  # type: ignore[assignment]
        self.endpoints.update((src, dst))

    @property
    def flows(self) -> set[Flow]:
        """The map as a set of ``(src, dst, conn)``."""
        return {(s, d, c) for (s, d), c in self.conns.items()}

    def pairs(self) -> int:
        """Number of (src, dst) pairs with some allowed traffic."""
        return len(self.conns)


def normalise_ip_range(text: str) -> str | None:
    """``a-b`` (or a single address / CIDR) as canonical ``first-last``; None when it is not an address."""
    text = text.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return f"{net.network_address}-{net.broadcast_address}"
        first, sep, last = text.partition("-")
        a = ipaddress.ip_address(first)
        b = ipaddress.ip_address(last) if sep else a
        return f"{a}-{b}"
    except ValueError:
        return None


def normalise_nca_endpoint(text: str) -> str | None:
    """``ns/name[Kind]`` to ``ns/name``; IP ranges to ``first-last``; LiveSim pods to None (dropped).

    NCA's LiveSim adds ``kube-system/kube-dns-livesim`` (and ingress-controller / Istio gateway pods) when a
    policy refers to them and the input has no such pod; netverify models only what the manifests define,
    so those lines are dropped and reported.
    """
    ip = normalise_ip_range(text)
    if ip is not None:
        return ip
    m = _NCA_ENDPOINT.match(text.strip())
    if not m:
        raise ValueError(f"cannot parse NCA endpoint {text!r}")
    if "livesim" in m.group("name"):
        return None
    return f"{m.group('ns')}/{m.group('name')}"


def parse_nca_txt(text: str) -> ParsedMap:
    """Parse the whole ``-o txt_no_fw_rules`` file (lines ``SRC => DST : CONN``)."""
    out = ParsedMap()
    for raw in text.splitlines():
        line = raw.strip()
        if " => " not in line:
            continue  # headers such as "TCP Connections:" or blank lines
        left, _, conn_text = line.partition(" : ")
        src_t, _, dst_t = left.partition(" => ")
        src, dst = normalise_nca_endpoint(src_t), normalise_nca_endpoint(dst_t)
        if src is None or dst is None:
            out.dropped.append(line)
            continue
        out.add(src, dst, parse_nca_conn(conn_text))
    return out


# --------------------------------------------------------------------------------------------------------
# netverify matrix --format json


def parse_netverify_conn(value: Any) -> Conn:
    """``"all"`` or ``{"TCP": [[a, b], ...], "ICMP": true}`` to the canonical form."""
    if value == "all":
        return "all"
    if not isinstance(value, Mapping):
        raise ValueError(f"unexpected netverify conn {value!r}")
    acc: dict[int, Ranges | bool] = {}
    for name, spec in value.items():
        p = protocol_number(str(name))
        if spec is True:
            acc[p] = [(1, MAX_PORT)] if p in PORT_PROTOCOLS else True
        elif spec is False or spec is None:
            continue
        else:
            acc[p] = [(int(a), int(b)) for a, b in spec]
    return canonical(acc)


def parse_netverify_json(doc: Mapping[str, Any]) -> ParsedMap:
    """Parse ``netverify matrix --format json``: workloads by ``id`` (``ns/name``), externals as ranges."""
    out = ParsedMap()
    ids: dict[str, str] = {}
    for ep in doc.get("endpoints", []):
        eid = str(ep["id"])
        if ep.get("kind") == "external":
            norm = normalise_ip_range(eid)
            if norm is None:
                raise ValueError(f"external endpoint id is not an IP range: {eid!r}")
            ids[eid] = norm
        else:
            ids[eid] = f"{ep['namespace']}/{ep['name']}" if "namespace" in ep and "name" in ep else eid
        out.endpoints.add(ids[eid])
    for c in doc.get("connections", []):
        src = ids.get(c["src"], c["src"])
        dst = ids.get(c["dst"], c["dst"])
        if (src, dst) in out.conns:
            raise ValueError(f"netverify lists {src} => {dst} twice")
        out.add(src, dst, parse_netverify_conn(c["conn"]))
    return out


# --------------------------------------------------------------------------------------------------------
# comparison


def _ip_bounds(text: str) -> tuple[int, int, int] | None:
    """(family, first, last) of a normalised ``first-last`` range, None for a workload name."""
    if "/" in text:  # workloads are ns/name; IP ranges never contain '/' once normalised
        return None
    first, _, last = text.partition("-")
    try:
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
    except ValueError:
        return None
    return a.version, int(a), int(b)


def _fmt_ip(family: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


@dataclass
class Comparison:
    """Outcome of comparing two normalised maps (``a`` = netverify, ``b`` = NCA by convention)."""

    workload_pairs: int = 0
    workload_pairs_agree: int = 0
    ip_cells: int = 0
    ip_cells_agree: int = 0
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        """True when every workload pair and every (workload, IP atom) cell matches."""
        return not self.differences

    def summary(self) -> str:
        """One line for the results table."""
        verdict = "yes" if self.agree else "**no**"
        return (f"{verdict} ({self.workload_pairs_agree}/{self.workload_pairs} workload pairs, "
                f"{self.ip_cells_agree}/{self.ip_cells} workload×IP-range cells)")


def _ip_side(flows: Iterable[Flow]) -> dict[tuple[str, str, int], list[tuple[int, int, Conn]]]:
    """Group IP flows by (workload, direction, family) -> [(first, last, conn)]."""
    out: dict[tuple[str, str, int], list[tuple[int, int, Conn]]] = {}
    for src, dst, conn in flows:
        sb, db = _ip_bounds(src), _ip_bounds(dst)
        if sb and not db:
            out.setdefault((dst, "in", sb[0]), []).append((sb[1], sb[2], conn))
        elif db and not sb:
            out.setdefault((src, "out", db[0]), []).append((db[1], db[2], conn))
    return out


def _lookup(ranges: list[tuple[int, int, Conn]], lo: int, hi: int) -> Conn | None:
    """Connection a side reports for the atom [lo, hi] (the union when ranges overlap, which is unusual)."""
    acc: Conn | None = None
    for a, b, c in ranges:
        if a <= lo and hi <= b:
            acc = union(acc, c)
    return acc


def compare(a: ParsedMap, b: ParsedMap, a_name: str = "netverify", b_name: str = "nca",
            max_differences: int = 200, families: Iterable[int] = (4, 6)) -> Comparison:
    """Compare two maps pair by pair (workload pairs) and atom by atom (workload × IP range)."""
    res = Comparison()
    fams = set(families)

    def workload_pairs(m: ParsedMap) -> dict[tuple[str, str], Conn]:
        return {(s, d): c for (s, d), c in m.conns.items() if _ip_bounds(s) is None and _ip_bounds(d) is None}

    pa, pb = workload_pairs(a), workload_pairs(b)
    for key in sorted(set(pa) | set(pb)):
        res.workload_pairs += 1
        ca, cb = pa.get(key), pb.get(key)
        if ca == cb:
            res.workload_pairs_agree += 1
        elif len(res.differences) < max_differences:
            res.differences.append(f"{key[0]} => {key[1]}: {a_name} {conn_str(ca)} | {b_name} {conn_str(cb)}")

    ia, ib = _ip_side(a.flows), _ip_side(b.flows)
    for fam in (4, 6):
        has_a = any(k[2] == fam for k in ia)
        has_b = any(k[2] == fam for k in ib)
        if fam in fams and has_a != has_b:
            only = a_name if has_a else b_name
            res.notes.append(f"IPv{fam} external endpoints appear only in {only}'s output; "
                             f"IPv{fam} not compared")
            fams.discard(fam)
    for key in sorted(set(ia) | set(ib)):
        wl, direction, fam = key
        if fam not in fams:
            continue
        ra, rb = ia.get(key, []), ib.get(key, [])
        cuts = sorted({x for lo, hi, _ in ra + rb for x in (lo, hi + 1)})
        span_hi = (1 << (32 if fam == 4 else 128)) - 1
        cuts = sorted(set(cuts) | {0, span_hi + 1})
        run: tuple[int, int, Conn | None, Conn | None] | None = None
        diffs: list[tuple[int, int, Conn | None, Conn | None]] = []
        for lo, nxt in zip(cuts, cuts[1:], strict=False):
            hi = nxt - 1
            ca, cb = _lookup(ra, lo, hi), _lookup(rb, lo, hi)
            if ca is None and cb is None:
                continue
            res.ip_cells += 1
            if ca == cb:
                res.ip_cells_agree += 1
                continue
            if run and run[1] + 1 == lo and run[2] == ca and run[3] == cb:
                run = (run[0], hi, ca, cb)
            else:
                if run:
                    diffs.append(run)
                run = (lo, hi, ca, cb)
        if run:
            diffs.append(run)
        for lo, hi, ca, cb in diffs:
            if len(res.differences) >= max_differences:
                break
            rng = f"{_fmt_ip(fam, lo)}-{_fmt_ip(fam, hi)}"
            src, dst = (rng, wl) if direction == "in" else (wl, rng)
            res.differences.append(f"{src} => {dst}: {a_name} {conn_str(ca)} | {b_name} {conn_str(cb)}")
    return res
