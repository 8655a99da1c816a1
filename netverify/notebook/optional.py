"""The notebook extra's libraries, imported only by the methods that need them.

`import netverify` and the CLI never import pandas or matplotlib; a method that needs one says which extra
to install instead of failing with a bare ModuleNotFoundError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL_HINT = "pip install 'netverify[notebook]'"


class MissingExtraError(ImportError):
    """An optional library is not installed; the message names the extra that brings it."""


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` or raise MissingExtraError saying what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.partition(".")[0]
        raise MissingExtraError(f"{purpose} needs {top}, which is not installed: {INSTALL_HINT}") from error


def pyplot() -> ModuleType:
    """matplotlib's pyplot on the non-interactive Agg backend: figures are rendered to PNG bytes, never
    shown in a window (and a headless CI machine has no display)."""
    require("matplotlib", "drawing a heatmap")
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    return importlib.import_module("matplotlib.pyplot")
