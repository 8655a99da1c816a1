"""A time bound for one in-process run of the CLI on input built to make it slow."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException, so the CLI's catch-all (which turns an OSError such as
    TimeoutError into exit 2) cannot turn a hang into an ordinary input error."""


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"a run took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
