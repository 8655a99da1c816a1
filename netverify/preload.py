"""Import what a command is about to need while a read-ahead helper parses its inputs.

On two cores the helper parses for longer than this process takes to import pydantic and numpy, so the
modules that would otherwise be imported one by one on first use (the loaders of the kinds in the input,
which build their pydantic schemas; the compiler; the engine; the command's checks and formatters) are
imported in that time instead of after it. Which kind loaders to import is guessed from the `kind:` values
and the API groups the files mention; a wrong guess costs an import, never a result (loaders are still
imported on first use).
"""

from __future__ import annotations

import importlib
import os
import re

from netverify.load.kinds import KIND_LOADERS, module_of

_KIND = re.compile(rb"""kind["']?[ \t]*:[ \t]*["']?(\w+)""")  # starts with a literal: a fast scan
_SCAN_LIMIT = 256 * 1024 * 1024  # bytes of manifests scanned for kinds; past it, the first files tell

#: Above this many bytes of manifests the engine will most likely run the numba kernels, not numpy.
NUMBA_LIKELY_BYTES = 16 * 1024 * 1024

_PIPELINE = ("netverify.pipeline", "netverify.engine.external_paths")
_COMMAND_MODULES = {
    "matrix": ("netverify.report.matrix_formats",),
    "check": (
        "netverify.verify.isolation",
        "netverify.verify.findings",
        "netverify.verify.exposure",
        "netverify.verify.suppressions",
        "netverify.report.check_formats",
    ),
}


def preload(command: str, files: list[tuple[str, str]]) -> None:
    """Import the modules `command` will use on these files (path to open, name to show)."""
    size = 0
    kinds: set[str] = set()
    groups: set[str] = {""}  # the core group is written `apiVersion: v1`, without a group
    candidates = {group for group, _ in KIND_LOADERS if group}
    for fs_path, _ in files:
        if size > _SCAN_LIMIT:
            break
        try:
            with open(fs_path, "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        size += len(raw)
        kinds.update(m.decode() for m in _KIND.findall(raw))
        found = {group for group in candidates if group.encode() + b"/" in raw}
        groups |= found
        candidates -= found
    modules = {
        f"netverify.load.kinds.{module_of(entry)}"
        for (group, kind), entry in KIND_LOADERS.items()
        if group in groups and kind in kinds
    }
    wanted = [*sorted(modules), *_PIPELINE, *_COMMAND_MODULES.get(command, ())]
    if size > NUMBA_LIKELY_BYTES or os.environ.get("NETVERIFY_ENGINE", "").lower() == "numba":
        wanted.append("netverify.engine.kernels")
    for name in wanted:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed: the command reports it when used
            continue
