"""The command line as users and CI run it: through a subprocess, checking output, stderr and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "multi-tenant"


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netverify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_help_is_instant_because_heavy_modules_load_lazily():
    code = (
        "import sys, netverify.cli; sys.exit(any(m in sys.modules for m in ('numba', 'numpy', 'pydantic')))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    result = run("--help")
    assert result.returncode == 0 and "matrix" in result.stdout


def test_matrix_text_is_readable_and_summarised():
    result = run("matrix", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert "tenant-a/web [Deployment]" in result.stdout and "=>" in result.stdout
    assert "5 workloads/pods" in result.stdout.splitlines()[-1]


def test_matrix_json_follows_the_design_contract():
    result = run("matrix", str(FIXTURE), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    ids = {e["id"]: e for e in data["endpoints"]}
    assert ids["tenant-a/web"] == {
        "id": "tenant-a/web",
        "kind": "Deployment",
        "namespace": "tenant-a",
        "name": "web",
    }
    assert ids["10.0.0.0-10.0.0.255"] == {"id": "10.0.0.0-10.0.0.255", "kind": "external"}
    flows = {(c["src"], c["dst"]): c["conn"] for c in data["connections"]}
    assert flows[("10.0.0.0-10.0.0.255", "tenant-a/web")] == {"TCP": [[8080, 8080]]}
    assert flows[("tenant-a/web", "tenant-a/db")] == {"TCP": [[5432, 5432]]}
    assert flows[("tenant-a/web", "kube-system/coredns")] == {"TCP": [[53, 53]], "UDP": [[53, 53]]}
    assert ("tenant-b/web", "tenant-a/db") not in flows
    assert all(src != dst for src, dst in flows)


def test_matrix_per_pod_lists_every_replica():
    data = json.loads(run("matrix", str(FIXTURE), "-f", "json", "--per-pod").stdout)
    pods = [e["id"] for e in data["endpoints"] if e["kind"] == "Pod"]
    assert [p for p in pods if p.startswith("tenant-a/web-")] == [
        "tenant-a/web-0",
        "tenant-a/web-1",
        "tenant-a/web-2",
    ]
    flows = {(c["src"], c["dst"]) for c in data["connections"]}
    assert ("tenant-a/db-0", "tenant-a/db-1") not in flows  # the db only admits web
    assert ("tenant-a/web-0", "tenant-a/db-1") in flows


def test_matrix_csv_and_md():
    rows = list(csv.reader(io.StringIO(run("matrix", str(FIXTURE), "-f", "csv").stdout)))
    assert rows[0] == ["src", "dst", "conn"] and ["tenant-a/web", "tenant-a/db", "TCP 5432"] in rows
    md = run("matrix", str(FIXTURE), "-f", "md").stdout
    assert (
        md.startswith("| source | destination | allowed |")
        and "| tenant-a/web | tenant-a/db | TCP 5432 |" in md
    )


def test_matrix_reads_standard_input():
    text = "\n---\n".join(p.read_text() for p in sorted(FIXTURE.glob("*.yaml")))
    piped = run("matrix", "-", "-f", "json", stdin=text)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == json.loads(run("matrix", str(FIXTURE), "-f", "json").stdout)


def test_matrix_writes_output_file(tmp_path):
    target = tmp_path / "out.json"
    result = run("matrix", str(FIXTURE), "-f", "json", "-o", str(target))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(target.read_text())["connections"]


def test_console_script_and_module_agree():
    script = Path(sys.executable).with_name("netverify")
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    by_script = subprocess.run(
        [str(script), "matrix", str(FIXTURE), "-f", "json"], capture_output=True, text=True
    )
    assert by_script.returncode == 0 and by_script.stdout == run("matrix", str(FIXTURE), "-f", "json").stdout


def test_usage_error_exits_2():
    assert run("matrix").returncode == 2
    assert run("matrix", str(FIXTURE), "--format", "pdf").returncode == 2
    assert run("nonsense").returncode == 2


def test_missing_path_is_reported_with_exit_2():
    result = run("matrix", "does/not/exist")
    assert result.returncode == 2 and "does/not/exist" in result.stderr and "Traceback" not in result.stderr


BAD_INPUTS = {
    "bad-cidr.yaml": (
        """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33
""",
        "bad-cidr.yaml:9:",
        "invalid CIDR '10.0.0.0/33'",
    ),
    "bad-operator.yaml": (
        """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p2, namespace: x}
spec:
  podSelector:
    matchExpressions:
      - key: app
        operator: Equals
        values: [a]
""",
        "bad-operator.yaml:8:",
        "'Equals'",
    ),
    "bad-port.yaml": (
        """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p3, namespace: x}
spec:
  podSelector: {}
  ingress:
    - ports:
        - port: 80.5
""",
        "bad-port.yaml:8:",
        "80.5",
    ),
    "broken.yaml": (
        """apiVersion: v1
kind: Namespace
metadata:
  name: [oops
""",
        "broken.yaml:5:",
        "invalid YAML",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_malformed_input_gives_file_line_message_and_exit_2(tmp_path, name):
    text, location, message = BAD_INPUTS[name]
    (tmp_path / name).write_text(text)
    (tmp_path / "good.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    result = run("matrix", str(tmp_path), "-f", "json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = next(ln for ln in result.stderr.splitlines() if name in ln)
    assert location in line and message in line, result.stderr
    assert "x/a" in {
        e["id"] for e in json.loads(result.stdout)["endpoints"]
    }  # the good file is still reported


def test_all_errors_of_a_run_are_reported_together(tmp_path):
    for name, (text, _, _) in BAD_INPUTS.items():
        (tmp_path / name).write_text(text)
    result = run("matrix", str(tmp_path))
    assert result.returncode == 2
    assert all(name in result.stderr for name in BAD_INPUTS)


def test_unsupported_policy_kind_is_reported_not_dropped(tmp_path):
    (tmp_path / "cilium.yaml").write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {}\n"
    )
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {}\n")
    result = run("matrix", str(tmp_path))
    assert result.returncode == 0
    assert "cilium.yaml:1:" in result.stderr and "CiliumNetworkPolicy" in result.stderr
    assert "ConfigMap" not in result.stderr


def test_quiet_hides_warnings_but_not_errors(tmp_path):
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    assert run("matrix", str(tmp_path), "-q").stderr == ""
    assert "used but not defined" in run("matrix", str(tmp_path)).stderr
