"""What a change does to connectivity, as a notebook result (`nv.diff(before, after)`)."""

from __future__ import annotations

from typing import Any

from netverify.engine.matrix import ConnectivityMatrix
from netverify.notebook import html
from netverify.notebook.optional import require
from netverify.verify.diff import ConnectivityDiff, FlowChange, diff_matrices

_KIND_COLORS = {"added": "#cf222e", "removed": "#1a7f37", "changed": "#9a6700"}


def engine_of(side: Any) -> ConnectivityMatrix:
    """A LoadedCluster, a Reachability or an engine ConnectivityMatrix -> the engine's matrix."""
    if isinstance(side, ConnectivityMatrix):
        return side
    if hasattr(side, "matrix") and callable(side.matrix):
        return side.matrix().engine
    if isinstance(getattr(side, "engine", None), ConnectivityMatrix):
        return side.engine
    raise TypeError(f"cannot diff a {type(side).__name__}: expected what nv.load() or .matrix() returned")


def diff(before: Any, after: Any, per_pod: bool = False) -> DiffReport:
    """Flows that `after` allows and `before` did not (gained), and the other way round (lost)."""
    return DiffReport(diff_matrices(engine_of(before), engine_of(after), per_pod))


class DiffReport:
    """`added`/`removed`/`changed` pairs (FlowChange: src, dst, before, after, gained, lost); falsy when
    nothing changed."""

    def __init__(self, result: ConnectivityDiff):
        self.result = result

    @property
    def flows(self) -> tuple[FlowChange, ...]:
        return self.result.flows

    @property
    def added(self) -> list[FlowChange]:
        return self.result.added

    @property
    def removed(self) -> list[FlowChange]:
        return self.result.removed

    @property
    def changed(self) -> list[FlowChange]:
        return self.result.changed

    def __bool__(self) -> bool:
        return not self.result.is_empty

    def __len__(self) -> int:
        return len(self.result.flows)

    def to_json(self) -> dict:
        return self.result.to_json()

    def frame(self):
        """One row per changed pair: src, dst, kind (added/removed/changed), before, after, gained, lost."""
        pd = require("pandas", "DiffReport.frame()")
        rows = [
            (f.src.id, f.dst.id, f.kind, str(f.before), str(f.after), str(f.gained), str(f.lost))
            for f in self.result.flows
        ]
        return pd.DataFrame.from_records(rows, columns=["src", "dst", "kind", "before", "after", "gained", "lost"])

    def summary(self) -> str:
        result = self.result
        if result.is_empty:
            return "no change in connectivity"
        return (
            f"{len(result.added)} pairs added, {len(result.removed)} removed, {len(result.changed)} changed; "
            f"{len(result.endpoints_added)} endpoints added, {len(result.endpoints_removed)} removed"
        )

    @staticmethod
    def _line(flow: FlowChange) -> str:
        parts = []
        if not flow.gained.is_empty:
            parts.append(f"+ {flow.gained}")
        if not flow.lost.is_empty:
            parts.append(f"- {flow.lost}")
        return f"  {flow.kind:<8} {flow.src.id} => {flow.dst.id} : {'  '.join(parts)}"

    def __repr__(self) -> str:
        lines = [f"<DiffReport: {self.summary()}>"]
        for count, flow in enumerate(self.result.flows):
            if count == html.MAX_ROWS:
                lines.append(f"  ... {len(self) - count} more (use .frame())")
                break
            lines.append(self._line(flow))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = (
            (
                f'<b style="color:{_KIND_COLORS[f.kind]}">{f.kind}</b>',
                html.text(f.src.id),
                html.text(f.dst.id),
                html.text(f.before),
                html.text(f.after),
                html.text(f.gained) if not f.gained.is_empty else "",
                html.text(f.lost) if not f.lost.is_empty else "",
            )
            for f in self.result.flows
        )
        body = (
            html.table(["change", "source", "destination", "before", "after", "gained", "lost"], rows, len(self))
            if self
            else ""
        )
        return html.card("Connectivity diff", html.text(self.summary()), body)
