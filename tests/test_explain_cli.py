"""`netverify explain`: the packet trace, every policy and rule consulted in order, with file:line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netverify", "explain", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_allowed_flow_names_the_rule_that_allowed_it_and_exits_0():
    result = run("fixtures/leaky", "--from", "tenant-c/batch", "--to", "tenant-a/db", "--port", "5432/TCP")
    assert result.returncode == 0, result.stderr
    assert "tenant-c/batch -> tenant-a/db  TCP 5432: ALLOWED" in result.stdout
    assert "no policy selects the endpoint for egress" in result.stdout
    expected = (
        "Allow: NetworkPolicy tenant-a/db-from-reporting ingress[0] (tier default) at fixtures/leaky/tenant-a.yaml:"
    )
    assert expected in result.stdout


def test_denied_flow_names_the_isolating_policies_and_exits_1():
    result = run(
        "fixtures/leaky",
        "--from",
        "tenant-b/web",
        "--to",
        "tenant-a/db",
        "--port",
        "5432/TCP",
        "--pod-cidr",
        "10.64.0.0/16",
    )
    assert result.returncode == 1
    assert "TCP 5432: DENIED" in result.stdout
    assert "egress of tenant-b/web: denied" in result.stdout
    assert "NetworkPolicy tenant-b/default-deny at fixtures/leaky/tenant-b.yaml:" in result.stdout


def test_without_port_every_service_is_grouped_by_explanation():
    result = run("fixtures/multi-tenant", "--from", "tenant-a/web", "--to", "tenant-a/db", "-f", "json")
    assert result.returncode == 0
    groups = json.loads(result.stdout)["groups"]
    allowed = [g for g in groups if g["allowed"]]
    assert [g["services"] for g in allowed] == [{"TCP": [[5432, 5432]]}]
    assert any(not g["allowed"] for g in groups)
    rules = [d for d in allowed[0]["ingress"]["decisions"] if d["step"] == "rule"]
    assert rules[0]["policy"] == "tenant-a/web-to-db" and rules[0]["line"] > 0


def test_external_address_and_pod_of_a_workload():
    result = run("fixtures/multi-tenant", "--from", "10.0.0.7", "--to", "tenant-a/web-1", "--port", "8080/TCP")
    assert result.returncode == 0, result.stderr
    assert "egress of 10.0.0.0-10.0.0.255: an address outside the cluster" in result.stdout
    assert "web-from-alb ingress[0]" in result.stdout


def test_unknown_endpoint_is_a_usage_error():
    result = run("fixtures/multi-tenant", "--from", "nope/nothing", "--to", "tenant-a/web")
    assert result.returncode == 2 and "no endpoint" in result.stderr and "Traceback" not in result.stderr
