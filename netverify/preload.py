"""Import what a command is about to need while a read-ahead helper parses its inputs.

On two cores the helper parses for longer than this process takes to import pydantic and numpy, so the
modules that would otherwise be imported one by one on first use (the loaders of the kinds in the input,
which build their pydantic schemas; the compiler; the engine; the command's checks and formatters) are
imported in that time instead of after it. Which kind loaders to import is guessed from the `apiVersion:`
and `kind:` lines of the files; a wrong guess costs an import, never a result (loaders are still imported
on first use).
"""

from __future__ import annotations

import importlib
import os
import re

from netverify.load.kinds import KIND_LOADERS, module_of, split_api_version

_API_VERSION = re.compile(rb"""^[ \t-]*["']?apiVersion["']?[ \t]*:[ \t]*["']?([\w./-]+)""", re.MULTILINE)
_KIND = re.compile(rb"""^[ \t-]*["']?kind["']?[ \t]*:[ \t]*["']?(\w+)""", re.MULTILINE)
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
    groups: set[str] = set()
    kinds: set[str] = set()
    for fs_path, _ in files:
        if size > _SCAN_LIMIT:
            break
        try:
            with open(fs_path, "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        size += len(raw)
        groups.update(split_api_version(m.decode())[0] for m in _API_VERSION.findall(raw))
        kinds.update(m.decode() for m in _KIND.findall(raw))
    modules = {f"netverify.load.kinds.{module_of(entry)}" for (group, kind), entry in KIND_LOADERS.items()
               if group in groups and kind in kinds}
    wanted = [*sorted(modules), *_PIPELINE, *_COMMAND_MODULES.get(command, ())]
    if size > NUMBA_LIKELY_BYTES or os.environ.get("NETVERIFY_ENGINE", "").lower() == "numba":
        wanted.append("netverify.engine.kernels")
    for name in wanted:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed: the command reports it when used
            continue
