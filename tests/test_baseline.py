"""`check --baseline`: a gate that fails only on new violations, keyed on rule, source, destination and a
conn no wider than the accepted one; stale entries are reported; a bad baseline is an input error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from manifests import netpol

from netverify.verify.baseline import conn_ranges, within

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netverify", "check", *args, "-q"], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "fixtures" / "leaky", tmp_path / "repo")
    return tmp_path


def write_baseline(cwd: Path) -> dict:
    result = run("repo", "--pod-cidr", "10.64.0.0/16", "--write-baseline", "baseline.json", cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((cwd / "baseline.json").read_text())


def test_written_baseline_accepts_todays_violations(repo):
    data = write_baseline(repo)
    assert data["format"] == "netverify-baseline/v1"
    assert [(e["src"], e["dst"], e["conn"]) for e in data["violations"]] == [
        ("tenant-c/batch", "tenant-a/db", {"TCP": [[5432, 5432]]})
    ]
    result = run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", "-f", "json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["violations"] == []
    [accepted] = report["baselined"]
    assert accepted["dst"] == "tenant-a/db"
    assert accepted["suppressions"][0] | {"justification": ""} == {
        "kind": "baseline",
        "justification": "",
        "file": "baseline.json",
        "line": 4,
    }
    assert (
        "BASELINED cross-tenant-flow: tenant-c/batch"
        in run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", cwd=repo).stdout
    )


def test_new_violation_fails_and_old_ones_stay_baselined(repo):
    write_baseline(repo)
    leak = netpol(
        "tenant-b", "open-web", {"matchLabels": {"app": "web"}}, ingress=[{"from": [{"namespaceSelector": {}}]}]
    )
    (repo / "repo" / "new.yaml").write_text(yaml.safe_dump(leak))
    result = run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", "-f", "json", cwd=repo)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert {v["dst"] for v in report["violations"]} == {"tenant-b/web"}
    assert [v["dst"] for v in report["baselined"]] == ["tenant-a/db"]


def test_a_flow_wider_than_its_baseline_entry_is_new(repo):
    data = write_baseline(repo)
    data["violations"][0]["conn"] = {"TCP": [[5433, 5440]]}
    (repo / "baseline.json").write_text(json.dumps(data))
    result = run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", "-f", "json", cwd=repo)
    assert result.returncode == 1 and json.loads(result.stdout)["baselined"] == []
    data["violations"][0]["conn"] = {"TCP": [[5000, 5431], [5432, 6000]], "UDP": [[53, 53]]}  # wider is fine
    (repo / "baseline.json").write_text(json.dumps(data))
    assert run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", cwd=repo).returncode == 0


def test_stale_entries_are_reported_as_info_at_their_line(repo):
    data = write_baseline(repo)
    data["violations"].append({"rule": "cross-tenant-flow", "src": "gone/x", "dst": "tenant-a/db", "conn": "all"})
    (repo / "baseline.json").write_text(json.dumps(data, indent=1))
    result = run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", "-f", "json", cwd=repo)
    assert result.returncode == 0
    [stale] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "stale-baseline-entry"]
    assert stale["severity"] == "info" and "gone/x" in stale["message"] and stale["file"] == "baseline.json"
    lines = (repo / "baseline.json").read_text().splitlines()
    assert "gone/x" in "\n".join(lines[stale["line"] - 1 : stale["line"] + 3])


def test_sarif_marks_new_and_unchanged_results(repo):
    write_baseline(repo)
    (repo / "repo" / "new.yaml").write_text(
        yaml.safe_dump(netpol("tenant-b", "open", {"matchLabels": {"app": "web"}}, ingress=[{}]))
    )
    result = run("repo", "--pod-cidr", "10.64.0.0/16", "--baseline", "baseline.json", "-f", "sarif", cwd=repo)
    log = json.loads(result.stdout)
    jsonschema.validate(log, SCHEMA, cls=jsonschema.Draft4Validator)
    states = {(r["properties"]["dst"], r["baselineState"]) for r in log["runs"][0]["results"] if "properties" in r}
    assert ("tenant-a/db", "unchanged") in states and ("tenant-b/web", "new") in states


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "netverify-baseline/v1", "violations": [{"rule": "x", "src": "a"}]}', "baseline.json:1:"),
        ('{"format": "other", "violations": []}', "baseline.json:1:"),
        (
            '{"format": "netverify-baseline/v1",\n "violations": [\n  {"rule": "r", "src": "a", "dst": "b",'
            ' "conn": {"TCP": [[9, 1]]}}]}',
            "baseline.json:3:",
        ),
        ("[1, 2", "baseline.json:2:1: invalid"),
    ],
)
def test_bad_baseline_is_an_input_error_with_its_line(repo, text, message):
    (repo / "baseline.json").write_text(text)
    result = run("repo", "--baseline", "baseline.json", cwd=repo)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_missing_baseline_file_is_an_input_error(repo):
    result = run("repo", "--baseline", "nope.json", cwd=repo)
    assert result.returncode == 2 and "nope.json" in result.stderr


def test_baseline_and_write_baseline_are_exclusive(repo):
    assert run("repo", "--baseline", "a", "--write-baseline", "b", cwd=repo).returncode == 2


def test_conn_containment_rule():
    assert within(conn_ranges({"TCP": [[80, 80]]}), conn_ranges({"TCP": [[1, 79], [80, 443]]}))
    assert not within(conn_ranges({"TCP": [[80, 81]]}), conn_ranges({"TCP": [[80, 80]]}))
    assert not within(conn_ranges({"UDP": [[53, 53]]}), conn_ranges({"TCP": [[53, 53]]}))
    assert within(conn_ranges({"TCP": [[1, 65535]]}), conn_ranges({"TCP": True}))
    assert within(conn_ranges({"TCP": [[80, 80]]}), "all") and not within("all", conn_ranges({"TCP": True}))
    assert within(conn_ranges({"ICMP": [{"type": 8, "codes": [[0, 0]]}]}), conn_ranges({"ICMP": [{"type": 8}]}))
    assert not within(conn_ranges({"ICMP": [{"type": 3}]}), conn_ranges({"ICMP": [{"type": 8}]}))
    assert within(conn_ranges({"47": True}), conn_ranges({"47": True}))
    with pytest.raises(ValueError):
        conn_ranges({"TCP": [[0, 80]]})
