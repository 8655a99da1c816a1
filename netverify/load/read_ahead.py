"""Manifest files parsed by a forked helper process while this one does something else.

YAML parsing is the slowest stage of reading, and on two cores it need not wait: the CLI forks a helper as
soon as it knows the paths, before it imports pydantic and numpy, and the helper parses files from the
front of the list while this process imports. When this process is ready to read, it parses files from the
back of the list itself until the two meet, then takes the helper's results. The same `read_file` runs on
both sides, so the documents, diagnostics and their order are what a serial read gives.

The two processes claim files through two counters in shared memory: the helper's next file and the lowest
file this process has taken. A claim is written before the file is parsed and each side stops when it
reaches the other's claims, so every file is parsed by at least one side; in a race both parse the same
file and this process keeps its own result. Whatever the helper did not deliver (it was killed, or ran out
of memory) is parsed here, so a failing helper only costs time.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import sys
import tempfile
import threading
from typing import IO

from netverify.load.documents import Document
from netverify.model.diagnostics import Diagnostic

#: Below this many bytes of manifests a second process costs more (fork, sending documents back) than it saves.
MIN_BYTES = 256 * 1024

FileResult = tuple[list[Document], list[Diagnostic]]
_BOARD = struct.Struct("qq")  # the helper's next file, the lowest file taken by this process
_COUNTER = struct.Struct("q")  # one of them: each process writes only its own, at its own offset
_HELPER_NEXT, _LOWEST_TAKEN = 0, 8


class ReadAhead:
    """The helper process and what it parsed; `collect` ends it and returns every file's result."""

    def __init__(self, files: list[tuple[str, str]], pid: int, board: mmap.mmap, results: IO[bytes]):
        self.files = files
        self._pid = pid
        self._board = board
        self._results = results
        self._collected: dict[tuple[str, str], FileResult] | None = None

    @classmethod
    def start(cls, files: list[tuple[str, str]], min_bytes: int | None = None) -> ReadAhead | None:
        """Fork the helper for `files` (path to open, name to show), or None where it would not pay: one
        core, not Linux, little to parse, or other threads running (a fork copies only the calling thread,
        so a lock another thread holds would stay locked in the helper forever)."""
        if len(files) < 2 or (os.cpu_count() or 1) < 2 or sys.platform != "linux":
            return None
        if threading.active_count() > 1:
            return None
        try:
            if sum(os.path.getsize(fs_path) for fs_path, _ in files) < (MIN_BYTES if min_bytes is None else min_bytes):
                return None
            board = mmap.mmap(-1, _BOARD.size)  # anonymous and shared with the child across fork
            _BOARD.pack_into(board, 0, 0, len(files))
            results = tempfile.TemporaryFile()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except (OSError, ValueError):
            return None
        if pid == 0:  # pragma: no cover - the helper; coverage does not follow forks
            _help(files, board, results)
        return cls(files, pid, board, results)

    def collect(self) -> dict[tuple[str, str], FileResult]:
        """Parse from the back until meeting the helper, wait for it, and return every file's result by
        (path to open, name to show)."""
        if self._collected is not None:
            return self._collected
        from netverify.load.sources import read_file

        mine: dict[int, FileResult] = {}
        board = self._board
        while True:
            helper_next, lowest = _BOARD.unpack_from(board, 0)
            claim = lowest - 1
            if claim < helper_next:
                break
            _COUNTER.pack_into(board, _LOWEST_TAKEN, claim)
            mine[claim] = read_file(*self.files[claim])
        theirs = self._finish()
        collected: dict[tuple[str, str], FileResult] = {}
        for index, entry in enumerate(self.files):
            result = mine.get(index) or theirs.get(index)
            collected[entry] = result if result is not None else read_file(*entry)
        self._collected = collected
        return collected

    def cancel(self) -> None:
        """Stop the helper (the command ended before reading, e.g. on a bad contract)."""
        if self._collected is None:
            try:
                os.kill(self._pid, 9)
            except OSError:
                pass
            self._finish()
            self._collected = {}

    def _finish(self) -> dict[int, FileResult]:
        try:
            os.waitpid(self._pid, 0)
        except ChildProcessError:
            pass
        theirs: dict[int, FileResult] = {}
        results = self._results
        try:
            results.seek(0)
            while True:
                index, result = pickle.load(results)
                theirs[index] = result
        except Exception:  # noqa: BLE001 - end of the records, or a record cut short by a dying helper
            pass
        finally:
            results.close()
            self._board.close()
        return theirs


def _help(files: list[tuple[str, str]], board: mmap.mmap, results: IO[bytes]) -> None:  # pragma: no cover
    """The helper's whole life: claim files from the front, parse, append the results, exit without
    running this process's clean-up (atexit handlers, buffered output belong to the parent)."""
    code = 0
    try:
        from netverify.load.sources import read_file

        while True:
            index, lowest = _BOARD.unpack_from(board, 0)
            if index >= lowest:
                break
            _COUNTER.pack_into(board, _HELPER_NEXT, index + 1)
            result = read_file(*files[index])
            for document in result[0]:  # most positions are never asked for: they cross packed
                document.source_map.pack()
            pickle.dump((index, result), results, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - whatever happens here, the parent parses what is missing
        code = 1
    finally:
        try:  # what was parsed before a failure is still delivered
            results.flush()
        finally:
            os._exit(code)
