"""Who-reaches-whom as a heatmap: namespace by namespace by default, workloads on drill-down.

The grid is counted with numpy over the engine's class-level bit matrices (never pair by pair), so a
50-namespace cluster draws in well under a second; matplotlib is imported only to draw.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from netverify.engine.matrix import ConnectivityMatrix, Endpoint
from netverify.notebook import html
from netverify.notebook.optional import pyplot, require
from netverify.verify.contract import parse_port_spec

EXTERNAL_GROUP = "(external)"
HOSTS_GROUP = "(host endpoints)"
NONE, SOME, ALL = 0, 1, 2  # workload-level cell values
_LEVEL_COLORS = ("#ffffff", "#f4a261", "#b2182b")
_NOT_APPLICABLE = "#d0d0d0"


@dataclass(frozen=True)
class HeatmapGrid:
    """`values[i, j]`: at level "namespace", how many (source, destination) endpoint pairs of row group i
    and column group j have allowed traffic (of `pairs[i, j]`); at level "workload", NONE/SOME/ALL."""

    level: str
    rows: list[str]
    columns: list[str]
    values: np.ndarray
    pairs: np.ndarray
    port: str | None


def service_words(matrix: ConnectivityMatrix, port: str | None) -> np.ndarray:
    """Packed service atoms that overlap `port` ("5432/TCP", "8000-8080/TCP", "ICMP"), or all of them.

    Atoms are cut at every port a rule names, so an atom overlapping the port is allowed exactly when
    the port is: no recomputation is needed for a port the policies never mention.
    """
    space = matrix.compiled.services
    if port is None:
        return space.full
    protocol, first, last = parse_port_spec(port)
    overlap = (
        (space.proto_lo <= protocol) & (protocol <= space.proto_hi) & (space.port_lo <= last) & (space.port_hi >= first)
    )
    return space.pack(overlap)


def _allowed_levels(matrix: ConnectivityMatrix, pods: list[Endpoint], external: list[Endpoint], words: np.ndarray):
    """NONE/SOME/ALL for every (source, destination) of pods + external, a pod to itself left out."""
    c = matrix.n_classes
    classes = np.array([e.class_index for e in pods], dtype=np.int64)
    atoms = np.array([c + e.atoms[0] for e in external], dtype=np.int64)
    n, x = len(pods), len(external)

    def levels(block: np.ndarray) -> np.ndarray:
        masked = block & words
        some = masked.any(axis=-1)
        full = (masked == words).all(axis=-1)
        return np.where(full, ALL, np.where(some, SOME, NONE)).astype(np.int8)

    grid = np.zeros((n + x, n + x), dtype=np.int8)
    if n:
        # endpoints of one class share a row: evaluate classes once, then spread to endpoints
        unique, spread = np.unique(classes, return_inverse=True)
        grid[:n, :n] = levels(matrix.pod_rows[np.ix_(unique, unique)])[np.ix_(spread, spread)]
        np.fill_diagonal(grid[:n, :n], NONE)
        if x:
            grid[:n, n:] = levels(matrix.pod_rows[np.ix_(unique, atoms)])[spread]
            grid[n:, :n] = levels(matrix.ingress[np.ix_(unique, atoms)])[spread].T
    return grid


def _group_of(endpoint: Endpoint) -> str:
    if endpoint.is_external:
        return EXTERNAL_GROUP
    return endpoint.namespace if endpoint.namespace is not None else HOSTS_GROUP


def heatmap_grid(
    matrix: ConnectivityMatrix,
    level: str = "namespace",
    namespace: str | Sequence[str] | None = None,
    port: str | None = None,
    external: bool = True,
) -> HeatmapGrid:
    if level not in ("namespace", "workload"):
        raise ValueError(f"level must be 'namespace' or 'workload', not {level!r}")
    pods = matrix.workload_endpoints()
    if namespace is not None:
        wanted = {namespace} if isinstance(namespace, str) else set(namespace)
        unknown = wanted - {e.namespace for e in pods}
        if unknown:
            raise KeyError(f"no endpoints in namespace(s) {', '.join(sorted(unknown))}")
        pods = [e for e in pods if e.namespace in wanted]
    outside = matrix.external_endpoints() if external else []
    everything = pods + outside
    grid = _allowed_levels(matrix, pods, outside, service_words(matrix, port))
    if level == "workload":
        labels = [e.id for e in everything]
        pairs = np.ones_like(grid, dtype=np.int64)
        np.fill_diagonal(pairs, 0)
        pairs[len(pods) :, len(pods) :] = 0  # address to address is not modelled
        return HeatmapGrid(level, labels, labels, grid, pairs, port)
    # the matrix lists endpoints by namespace, then host endpoints, then addresses: groups are contiguous
    groups = [_group_of(e) for e in everything]
    if not groups:
        return HeatmapGrid(level, [], [], np.zeros((0, 0), np.int64), np.zeros((0, 0), np.int64), port)
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    order = [groups[i] for i in starts]
    assert len(set(order)) == len(order), "endpoints of one group must be contiguous"
    allowed = grid > NONE
    counts = np.add.reduceat(np.add.reduceat(allowed, starts, axis=0, dtype=np.int64), starts, axis=1)
    sizes = np.diff([*starts, len(groups)])
    pairs = np.outer(sizes, sizes)
    pairs[np.diag_indices(len(order))] -= sizes  # an endpoint to itself
    if order and order[-1] == EXTERNAL_GROUP:
        pairs[-1, -1] = 0  # address to address is not modelled
    return HeatmapGrid(level, order, order, counts, pairs, port)


class Heatmap:
    """A drawn heatmap: displays as a PNG in a notebook; `.frame()` gives its numbers, `.save()` a file."""

    def __init__(self, grid: HeatmapGrid, marked: Iterable[tuple[str, str]] = ()):
        self.grid = grid
        # (row, column) labels outlined in black, e.g. the cells holding contract violations
        self.marked = sorted({cell for cell in marked if cell[0] in grid.rows and cell[1] in grid.columns})

    @property
    def title(self) -> str:
        what = "namespaces" if self.grid.level == "namespace" else "workloads"
        on = f" on {self.grid.port}" if self.grid.port else ""
        marked = f" (outlined: {len(self.marked)} with violations)" if self.marked else ""
        return f"Allowed traffic between {what}{on}{marked}"

    def frame(self):
        """The grid as a pandas DataFrame (source rows, destination columns)."""
        pd = require("pandas", "Heatmap.frame()")
        frame = pd.DataFrame(self.grid.values, index=self.grid.rows, columns=self.grid.columns)
        frame.index.name, frame.columns.name = "source", "destination"
        return frame

    def figure(self):
        """A matplotlib Figure: sized to the number of labels so every label stays readable."""
        plt = pyplot()
        from matplotlib.colors import BoundaryNorm, ListedColormap
        from matplotlib.patches import Patch, Rectangle

        grid = self.grid
        n_rows, n_cols = len(grid.rows), len(grid.columns)
        longest = max((len(label) for label in grid.rows + grid.columns), default=4)
        font = 8 if max(n_rows, n_cols) <= 60 else 6
        cell = 0.17 if max(n_rows, n_cols) > 25 else 0.32
        label_room = 0.6 + longest * font * 0.0085
        width = max(6.0, n_cols * cell + label_room + 2.2)
        height = max(4.0, n_rows * cell + label_room + 1.0)
        fig, ax = plt.subplots(figsize=(width, height), dpi=100, layout="constrained")
        if not n_rows:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no endpoints", ha="center", va="center", fontsize=11)
            ax.set_title(self.title, fontsize=11, loc="left")
            return fig
        if grid.level == "namespace":
            share = np.divide(grid.values, grid.pairs, out=np.zeros(grid.values.shape), where=grid.pairs > 0)
            shown = np.ma.masked_where(grid.values == 0, share)
            # the palest yellow of YlOrRd is hard to tell from white: start where one pair in ten is visible
            cmap = ListedColormap(plt.get_cmap("YlOrRd")(np.linspace(0.18, 1.0, 256))).with_extremes(bad="#ffffff")
            image = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
            bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
            bar.set_label("share of workload pairs with allowed traffic\n(white: none; grey: n/a)", fontsize=9)
            bar.ax.tick_params(labelsize=8)
            if max(n_rows, n_cols) <= 25:
                for i, j in zip(*np.nonzero(grid.values), strict=True):
                    dark = share[i, j] > 0.6
                    ax.text(
                        j,
                        i,
                        str(grid.values[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "black",
                    )
        else:
            cmap = ListedColormap(_LEVEL_COLORS)
            norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cmap.N)
            ax.imshow(grid.values, cmap=cmap, norm=norm, aspect="equal", interpolation="nearest")
            some = "some of the port's range" if grid.port else "some services"
            fig.legend(
                handles=[
                    Patch(facecolor=_LEVEL_COLORS[ALL], edgecolor="#999", label="all" if not grid.port else "allowed"),
                    Patch(facecolor=_LEVEL_COLORS[SOME], edgecolor="#999", label=some),
                    Patch(facecolor=_LEVEL_COLORS[NONE], edgecolor="#999", label="nothing"),
                    Patch(facecolor=_NOT_APPLICABLE, edgecolor="#999", label="n/a (itself, address\nto address)"),
                ],
                loc="outside right center",
                fontsize=8,
                title="allowed",
                title_fontsize=8,
                frameon=False,
            )
        not_applicable = grid.pairs == 0  # an endpoint to itself, an address to an address
        if not_applicable.any():
            ax.imshow(
                np.ma.masked_where(~not_applicable, not_applicable),
                cmap=ListedColormap([_NOT_APPLICABLE]),
                aspect="equal",
                interpolation="nearest",
            )
        ax.set_xticks(range(n_cols), grid.columns, rotation=90, fontsize=font)
        ax.set_yticks(range(n_rows), grid.rows, fontsize=font)
        ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
        ax.grid(which="minor", color="#dddddd", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        ax.set_xlabel("destination", fontsize=9)
        ax.set_ylabel("source", fontsize=9)
        for row, column in self.marked:
            i, j = grid.rows.index(row), grid.columns.index(column)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.0))
        ax.set_title(self.title, fontsize=11, loc="left")
        return fig

    def png(self) -> bytes:
        plt = pyplot()
        fig = self.figure()
        try:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.15)
            return buffer.getvalue()
        finally:
            plt.close(fig)

    def save(self, path: str) -> None:
        with open(path, "wb") as handle:
            handle.write(self.png())

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_html_(self) -> str:
        return html.png_image(self.png(), self.title)

    def __repr__(self) -> str:
        grid = self.grid
        nonzero = int(np.count_nonzero(grid.values))
        return (
            f"<Heatmap {self.title}: {len(grid.rows)} x {len(grid.columns)} {grid.level} cells, "
            f"{nonzero} with allowed traffic>"
        )
