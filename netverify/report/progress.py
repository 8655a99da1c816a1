"""A progress bar on stderr for long runs: drawn only on a terminal, never with -q or when piped."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(
        self, label: str, stream: TextIO | None = None, enabled: bool | None = None, delay: float = 0.5
    ):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.started = time.monotonic()
        self.delay = delay  # short runs never flash a bar
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        elapsed = time.monotonic() - self.started
        if elapsed < self.delay and done < total:
            return
        if elapsed < self.delay and not self._drawn:
            return
        width = 30
        filled = int(width * done / total)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% {elapsed:5.1f}s"
        )
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


class StageBars:
    """One bar per long stage of a run (reading, compiling, computing, checking), each replacing the last.

    `stage(label)` closes the previous stage's bar and returns the new one; every bar waits `delay` before
    drawing, so only the stages that are really slow show up.
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, delay: float = 0.5):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.delay = delay
        self._current: ProgressBar | None = None

    def stage(self, label: str) -> ProgressBar:
        self.close()
        self._current = ProgressBar(label, self.stream, self.enabled, self.delay)
        return self._current

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
