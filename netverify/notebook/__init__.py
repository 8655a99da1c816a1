"""The notebook API: `netverify.load(...)` and the result objects it returns, each with a rich display.

Everything here answers from the same model and engine the CLI uses; pandas and matplotlib (the
`netverify[notebook]` extra) are imported only by the methods that draw or tabulate.
"""

from __future__ import annotations

from netverify.notebook.cluster import InputProblemError, LoadedCluster, load
from netverify.notebook.diff_report import DiffReport, diff
from netverify.notebook.optional import MissingExtraError

__all__ = ["DiffReport", "InputProblemError", "LoadedCluster", "MissingExtraError", "diff", "load"]
