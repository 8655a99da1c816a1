"""The connectivity matrix in a notebook: the engine's ConnectivityMatrix plus a DataFrame, a heatmap and
rich displays. Every answer comes from the engine's matrix; nothing here recomputes reachability."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from netverify.engine.connset import ConnSet
from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.model.services import ICMP_PROTOCOLS, VALUE_DOMAINS, protocol_name
from netverify.notebook import html
from netverify.notebook.heatmap import Heatmap, heatmap_grid
from netverify.notebook.optional import MissingExtraError, require

FRAME_COLUMNS = [
    "src",
    "dst",
    "src_kind",
    "dst_kind",
    "src_namespace",
    "dst_namespace",
    "cross_namespace",
    "protocol",
    "ports",
    "conn",
]
OTHER_PROTOCOLS = "other"
_NAMED_PROTOCOLS = (*VALUE_DOMAINS, *ICMP_PROTOCOLS)  # TCP, UDP, SCTP, ICMP, ICMPv6 get a row each


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def _icmp_text(ranges: list[tuple[int, int]]) -> str:
    """ICMP values are `type * 256 + code`: whole types as ranges ("type 0-7,9-255"), then partial ones
    with their codes ("type 3 code 1-3")."""
    whole: list[tuple[int, int]] = []
    partial: list[str] = []
    for first, last in ranges:
        for icmp_type in range(first // 256, last // 256 + 1):
            lo, hi = max(first, icmp_type * 256) - icmp_type * 256, min(last, icmp_type * 256 + 255) - icmp_type * 256
            if (lo, hi) != (0, 255):
                partial.append(f"type {icmp_type} code {lo}" + (f"-{hi}" if hi != lo else ""))
            elif whole and whole[-1][1] + 1 == icmp_type:
                whole[-1] = (whole[-1][0], icmp_type)
            else:
                whole.append((icmp_type, icmp_type))
    return ", ".join(([f"type {_ranges_text(whole)}"] if whole else []) + partial)


def protocol_rows(conn: ConnSet) -> list[tuple[str, str]]:
    """(protocol, ports) per protocol of a flow: "all"/"all" when everything is allowed; protocols without
    ports have ports ""; the many numbered protocols of a broad rule fold into one "other" row listing them."""
    if conn.is_all:
        return [("all", "all")]
    rows: list[tuple[str, str]] = []
    others: list[int] = []
    for number, value in sorted(conn.protocols().items()):
        if number not in _NAMED_PROTOCOLS:
            others.append(number)
        elif value is True:
            rows.append((protocol_name(number), ""))
        else:
            assert isinstance(value, list)
            whole = value == [VALUE_DOMAINS[number]]
            text = _icmp_text(value) if number in ICMP_PROTOCOLS else _ranges_text(value)
            rows.append((protocol_name(number), "all" if whole else text))
    if len(others) == 1:
        rows.append((protocol_name(others[0]), ""))
    elif others:
        merged: list[tuple[int, int]] = []
        for number in others:
            if merged and merged[-1][1] + 1 == number:
                merged[-1] = (merged[-1][0], number)
            else:
                merged.append((number, number))
        rows.append((OTHER_PROTOCOLS, "protocols " + _ranges_text(merged)))
    return rows


class Reachability:
    """Allowed traffic between every pair of endpoints (`netverify matrix` as an object).

    `engine` is the ConnectivityMatrix the CLI formats; `endpoints`, `find`, `conn`, `allowed` and
    `connections` are its own methods.
    """

    def __init__(self, engine: ConnectivityMatrix):
        self.engine = engine

    # ---- the engine's questions --------------------------------------------------------------

    def endpoints(self, per_pod: bool = False) -> list[Endpoint]:
        return self.engine.endpoints(per_pod)

    def find(self, ident: str, per_pod: bool = False) -> Endpoint:
        return self.engine.find(ident, per_pod)

    def conn(self, src: Endpoint | str, dst: Endpoint | str) -> ConnSet | None:
        return self.engine.conn(src, dst)

    def allowed(self, src: str, dst: str, protocol: str | int, port: int | None = None) -> bool:
        return self.engine.allowed(src, dst, protocol, port)

    def connections(self, per_pod: bool = False) -> Iterator[tuple[Endpoint, Endpoint, ConnSet]]:
        return self.engine.connections(per_pod)

    def __len__(self) -> int:
        """The number of (source, destination) pairs with allowed traffic."""
        return sum(1 for _ in self.engine.connections())

    # ---- tables and pictures -----------------------------------------------------------------

    def frame(self, per_pod: bool = False):
        """One row per flow and protocol: src, dst, their kinds and namespaces, cross_namespace, protocol,
        ports ("all", ranges such as "80,8000-8080", "" for a protocol without ports) and the whole conn."""
        pd = require("pandas", "Reachability.frame()")
        records = []
        for src, dst, conn in self.engine.connections(per_pod):
            text = str(conn)
            for protocol, ports in protocol_rows(conn):
                records.append(
                    (
                        src.id,
                        dst.id,
                        src.kind,
                        dst.kind,
                        src.namespace,
                        dst.namespace,
                        src.namespace is not None and dst.namespace is not None and src.namespace != dst.namespace,
                        protocol,
                        ports,
                        text,
                    )
                )
        return pd.DataFrame.from_records(records, columns=FRAME_COLUMNS)

    def heatmap(
        self,
        level: str = "namespace",
        namespace: str | Sequence[str] | None = None,
        port: str | None = None,
        external: bool = True,
    ) -> Heatmap:
        """Namespace by namespace (colour: share of workload pairs with allowed traffic), or with
        `level="workload"` every workload (none / some services / all); `namespace` keeps only the
        endpoints of those namespaces, `port` ("5432/TCP") counts only that service, `external=False`
        leaves out the address ranges."""
        return Heatmap(heatmap_grid(self.engine, level, namespace, port, external))

    # ---- displays ----------------------------------------------------------------------------

    def summary(self) -> str:
        endpoints = self.engine.endpoints()
        workloads = sum(1 for e in endpoints if not e.is_external)
        cross = sum(
            1
            for src, dst, _ in self.engine.connections()
            if src.namespace is not None and dst.namespace is not None and src.namespace != dst.namespace
        )
        return (
            f"{workloads} workloads/pods, {len(endpoints) - workloads} external ranges, "
            f"{len(self)} allowed flows ({cross} across namespaces)"
        )

    def __repr__(self) -> str:
        lines = [f"<Reachability: {self.summary()}>"]
        for count, (src, dst, conn) in enumerate(self.engine.connections()):
            if count == html.MAX_ROWS:
                lines.append(f"  ... {len(self) - count} more (use .frame())")
                break
            lines.append(f"  {src.id} => {dst.id} : {conn}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        try:
            picture = self.heatmap().png() if self.engine.workload_endpoints() else b""
        except MissingExtraError:
            picture = b""
        image = html.png_image(picture, "namespace heatmap") if picture else ""
        rows = ((html.text(src.id), html.text(dst.id), html.text(conn)) for src, dst, conn in self.engine.connections())
        table = html.table(["source", "destination", "allowed"], rows, len(self))
        return html.card("Reachability", html.text(self.summary()), image + table)
