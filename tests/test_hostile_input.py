"""Hostile input in a directory beside a valid manifest: bounded time and memory, one clear error for the
bad file, and the valid file still loaded and reported on (exit 2). Every hostile file is generated here."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from time_limits import time_bound

from netverify.cli import main
from netverify.load import sources, yamltree

VALID = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: x}\nspec: {containers: [{name: c}]}\n"
SECONDS = 20


def run_on(directory: Path) -> tuple[int, list[str], float]:
    """matrix on the directory: (exit code, error lines, seconds); the valid pod must be in the report."""
    (directory / "valid.yaml").write_text(VALID)
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_bound(SECONDS):
        code = main(["matrix", str(directory), "-f", "json", "-q"])
    seconds = time.monotonic() - start
    assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue(), err.getvalue()
    assert "x/ok" in {e["id"] for e in json.loads(out.getvalue())["endpoints"]}  # nothing else lost
    prefix = f"{directory}{os.sep}"
    return code, [line.removeprefix(prefix) for line in err.getvalue().splitlines()], seconds


def test_alias_expansion_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    code, errors, seconds = run_on(tmp_path)
    assert code == 2 and seconds < SECONDS
    assert errors == [f"bomb.yaml:7:25: document expands to more than {yamltree.MAX_NODES:,} nodes (YAML alias bomb?)"]


def test_deeply_nested_document_is_refused_without_recursion(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("[" * 200_000 + "]" * 200_000 + "\n")
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == [
        f"deep.yaml:1:{yamltree.MAX_DEPTH + 1}: document nests deeper than {yamltree.MAX_DEPTH} levels (expected a "
        "Kubernetes object); the rest of this input is not read"
    ]


def test_deeply_nested_block_mappings_are_refused(tmp_path: Path) -> None:
    text = "".join(f"{' ' * i}k:\n" for i in range(yamltree.MAX_DEPTH + 10)) + " " * (yamltree.MAX_DEPTH + 10) + "v\n"
    (tmp_path / "deep.yaml").write_text(text)
    code, errors, _ = run_on(tmp_path)
    assert code == 2 and len(errors) == 1 and "nests deeper than" in errors[0]


def test_huge_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1024 * 1024)
    with open(tmp_path / "huge.yaml", "wb") as handle:
        handle.truncate(2 * 1024 * 1024)  # sparse: costs no disk
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == ["huge.yaml: file is larger than 1 MiB (expected Kubernetes manifests)"]


def test_many_documents_up_to_the_limit_load_in_bounded_time(tmp_path: Path) -> None:
    namespaces = "".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{i}}}\n" for i in range(20_000))
    (tmp_path / "many.yaml").write_text(namespaces)
    code, errors, seconds = run_on(tmp_path)
    assert (code, errors) == (0, []) and seconds < SECONDS


def test_binary_file_in_a_directory_is_reported_at_its_first_bad_byte(tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_bytes(b"GIF89a\x01\x00\xff\xfe\x00")
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == [
        "image.yaml:1:9: not a text file: byte 0xff is not valid UTF-8 (expected a UTF-8 or UTF-16 YAML or JSON "
        "manifest)"
    ]


def test_nul_bytes_in_utf8_text_are_binary_data(tmp_path: Path) -> None:
    (tmp_path / "nul.yaml").write_bytes(b"kind: Pod\nname: a\x00b\n")
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == [
        "nul.yaml:2:8: not a text file: binary data (a NUL character) (expected a UTF-8 or UTF-16 YAML or JSON "
        "manifest)"
    ]


def test_non_utf8_text_is_reported_at_the_offending_byte(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: café}\n"
    (tmp_path / "latin1.yaml").write_bytes(text.encode("latin-1"))
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == [
        "latin1.yaml:3:21: not a text file: byte 0xe9 is not valid UTF-8 (expected a UTF-8 or UTF-16 YAML or JSON "
        "manifest)"
    ]


def test_symlink_loops_in_directories_do_not_hang(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")  # a directory loop
    (tmp_path / "sub" / "self").symlink_to(".")
    (tmp_path / "a.yaml").symlink_to("b.yaml")  # a file loop
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == [
        "a.yaml: symbolic link loop (expected a link to a manifest file); skipped",
        "b.yaml: symbolic link loop (expected a link to a manifest file); skipped",
    ]


def test_fifo_in_a_directory_is_skipped_instead_of_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it would wait for a writer forever
    code, errors, _ = run_on(tmp_path)
    assert code == 2
    assert errors == ["pipe.yaml: not a regular file (expected a manifest file); skipped"]


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, permissions do not stop a read; the refusal the kernel would give is simulated."""
    locked = tmp_path / "locked.yaml"
    locked.write_text(VALID.replace("name: ok", "name: secret"))
    locked.chmod(0)
    if os.geteuid() == 0:
        real_open = open

        def refusing_open(path: Any, *args: Any, **kwargs: Any) -> Any:
            if str(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr("builtins.open", refusing_open)
    try:
        code, errors, _ = run_on(tmp_path)
    finally:
        locked.chmod(0o644)
    assert code == 2
    assert errors == ["locked.yaml: cannot read: Permission denied"]


def test_unreadable_directory_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = tmp_path / "closed"
    closed.mkdir()
    (closed / "secret.yaml").write_text(VALID.replace("name: ok", "name: secret"))
    closed.chmod(0)
    if os.geteuid() == 0:  # root lists any directory: simulate the refusal
        real_scandir = os.scandir

        def refusing_scandir(path: Any) -> Any:
            if str(path) == str(closed):
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr("os.scandir", refusing_scandir)
    try:
        code, errors, _ = run_on(tmp_path)
    finally:
        closed.chmod(0o755)
    assert code == 2 and errors == ["closed: cannot read directory: Permission denied"]
