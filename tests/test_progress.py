"""Progress on a terminal for long runs: one bar per stage, on stderr, never when piped or with -q."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from netverify.load.cluster_loader import load_cluster
from netverify.pipeline import analyze_cluster
from netverify.report.progress import StageBars
from netverify.verify.contract import Contract
from netverify.verify.isolation import check_isolation

ROOT = Path(__file__).resolve().parent.parent
LEAKY = ROOT / "fixtures" / "leaky"


class Recording(StageBars):
    """Stage bars that remember every (stage, done, total) they were told."""

    def __init__(self):
        super().__init__(io.StringIO(), enabled=True, delay=0.0)
        self.calls: list[tuple[str, int, int]] = []

    def stage(self, label):
        bar = super().stage(label)
        recording = self

        class Bar:
            def __call__(self, done, total):
                recording.calls.append((label, done, total))
                bar(done, total)

        return Bar()


def test_progress_reports_every_long_stage_in_order():
    stages = Recording()
    cluster = load_cluster([str(LEAKY)], stages=stages)
    matrix = analyze_cluster(cluster, stages=stages)
    check_isolation(matrix, Contract.default_contract(), stages.stage("checking"))
    stages.close()
    seen = [label for label, _, _ in stages.calls]
    order = ["reading manifests", "computing", "checking"]
    assert [label for label in dict.fromkeys(seen) if label in order] == order
    for label in order:  # each stage ends complete
        last = [(done, total) for name, done, total in stages.calls if name == label][-1]
        assert last[0] == last[1] > 0
    files = len(list(LEAKY.rglob("*.yaml")))
    assert [t for name, _, t in stages.calls if name == "reading manifests"][-1] == files


def test_progress_bar_draws_on_a_terminal_and_clears_its_line():
    stream = io.StringIO()
    stages = StageBars(stream, enabled=True, delay=0.0)
    stages.stage("reading manifests")(1, 2)
    stages.stage("computing")(2, 2)
    stages.close()
    text = stream.getvalue()
    assert "reading manifests [" in text and "computing [" in text and " 50%" in text and "100%" in text
    assert text.endswith("\r")  # the last bar is wiped, so the report starts on a clean line


def test_progress_is_silent_when_stderr_is_not_a_terminal():
    result = subprocess.run(
        [sys.executable, "-m", "netverify", "check", str(LEAKY)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "\r" not in result.stderr


def test_progress_is_silent_with_quiet_even_on_a_terminal():
    stream = io.StringIO()
    stages = StageBars(stream, enabled=False, delay=0.0)  # what `-q` builds
    stages.stage("computing")(1, 1)
    stages.close()
    assert stream.getvalue() == ""
