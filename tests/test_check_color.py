"""Colour in the text report: only on a terminal, never when NO_COLOR is set, and `--color` overrides both."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ESC = "\x1b["
LEAK = ["check", "fixtures/leaky", "--pod-cidr", "10.64.0.0/16", "--quiet"]


def run_on_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """Run netverify with its stdout on a pseudo-terminal, as a user at a shell sees it."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "netverify", *args],
        cwd=ROOT,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done writing
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(controller)
    return b"".join(chunks).decode()


def run_piped(*args: str, env: dict[str, str] | None = None) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "netverify", *args], cwd=ROOT, capture_output=True, text=True, env=environment
    )
    return result.stdout


def test_colour_on_a_terminal():
    text = run_on_terminal(*LEAK)
    assert "VIOLATION" in text and ESC in text


def test_no_colour_when_NO_COLOR_is_set():
    text = run_on_terminal(*LEAK, env={"NO_COLOR": "1"})
    assert "VIOLATION" in text and ESC not in text


def test_empty_NO_COLOR_does_not_disable_colour():
    """no-color.org: only a non-empty value disables colour."""
    assert ESC in run_on_terminal(*LEAK, env={"NO_COLOR": ""})


def test_no_colour_when_not_a_terminal():
    text = run_piped(*LEAK)
    assert "VIOLATION" in text and ESC not in text


def test_color_flag_overrides_terminal_detection_and_NO_COLOR():
    assert ESC in run_piped(*LEAK, "--color", "always", env={"NO_COLOR": "1"})
    assert ESC not in run_on_terminal(*LEAK, "--color", "never")
