"""Formatters of `netverify diff`: one function per format, chosen from an explicit registry."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from netverify.report import jsonfmt
from netverify.verify.diff import ConnectivityDiff


@dataclass(frozen=True)
class DiffView:
    diff: ConnectivityDiff
    old_label: str = "old"
    new_label: str = "new"
    color: bool = False


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(view: DiffView) -> str:
    """One line: the verdict in numbers, and the size of both sides."""
    diff = view.diff
    stats = diff.stats
    old, new = stats.get("old", {}), stats.get("new", {})
    sizes = (
        f"{view.old_label} -> {view.new_label}: {old.get('endpoints', 0)} -> {new.get('endpoints', 0)} endpoints, "
        f"{old.get('policies', 0)} -> {new.get('policies', 0)} policies"
    )
    moved = []
    if diff.endpoints_added:
        moved.append(f"{_plural(len(diff.endpoints_added), 'endpoint')} added")
    if diff.endpoints_removed:
        moved.append(f"{_plural(len(diff.endpoints_removed), 'endpoint')} removed")
    if moved:
        sizes += "; " + ", ".join(moved)
    if diff.is_empty:
        return f"connectivity unchanged ({sizes})"
    return f"connectivity changed: {_plural(len(diff.gained), 'flow')} added, {len(diff.lost)} removed ({sizes})"


def render_json(view: DiffView) -> str:
    data = copy.deepcopy(view.diff.to_json())
    stats = data["stats"]
    stats.setdefault("old", {})["source"] = view.old_label
    stats.setdefault("new", {})["source"] = view.new_label
    return jsonfmt.dumps(data) + "\n"


def render_text(view: DiffView) -> str:
    """`+ src -> dst : services` for what is newly allowed, `- ...` for what no longer is; a pair that
    allowed something on both sides says what it had before / keeps after."""
    green, red, dim, reset = ("\033[32m", "\033[31m", "\033[2m", "\033[0m") if view.color else ("", "", "", "")
    lines: list[str] = []
    for flow in view.diff.flows:
        pair = f"{flow.src.id} -> {flow.dst.id}"
        if not flow.gained.is_empty:
            had = f"  {dim}(before: {flow.before}){reset}" if not flow.before.is_empty else ""
            lines.append(f"{green}+ {pair} : {flow.gained}{reset}{had}")
        if not flow.lost.is_empty:
            keeps = f"  {dim}(after: {flow.after}){reset}" if not flow.after.is_empty else ""
            lines.append(f"{red}- {pair} : {flow.lost}{reset}{keeps}")
    for endpoint in view.diff.endpoints_added:
        lines.append(f"{dim}endpoint added: {endpoint.id} [{endpoint.kind}]{reset}")
    for endpoint in view.diff.endpoints_removed:
        lines.append(f"{dim}endpoint removed: {endpoint.id} [{endpoint.kind}]{reset}")
    lines.append(_summary(view))
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_md(view: DiffView) -> str:
    """For a pull-request comment: a summary line, then one table row per added or removed flow."""
    diff = view.diff
    out = [f"### netverify diff: {_md(_summary(view))}", ""]
    if not diff.is_empty:
        out += ["| | source | destination | services | before | after |", "|---|---|---|---|---|---|"]
        for flow in diff.flows:
            pair = f"{_md(flow.src.id)} | {_md(flow.dst.id)}"
            sides = f"{_md(str(flow.before))} | {_md(str(flow.after))}"
            if not flow.gained.is_empty:
                out.append(f"| ➕ added | {pair} | {_md(str(flow.gained))} | {sides} |")
            if not flow.lost.is_empty:
                out.append(f"| ➖ removed | {pair} | {_md(str(flow.lost))} | {sides} |")
        out.append("")
    if diff.endpoints_added or diff.endpoints_removed:
        added = ", ".join(f"`{e.id}`" for e in diff.endpoints_added) or "none"
        removed = ", ".join(f"`{e.id}`" for e in diff.endpoints_removed) or "none"
        out += [f"Endpoints added: {added}. Endpoints removed: {removed}.", ""]
    return "\n".join(out)


DIFF_FORMATS: dict[str, Callable[[DiffView], str]] = {
    "text": render_text,
    "json": render_json,
    "md": render_md,
}
