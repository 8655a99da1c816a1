"""`explain --from internet|alb:<group>`: the ALB hop of the packet trace, with file:line at every step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKED = ["fixtures/alb/base", "fixtures/alb/backend-blocked"]


def explain(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netverify", "explain", *args], capture_output=True, text=True,
                          cwd=ROOT)


def test_internet_reaches_a_web_front_end_through_its_alb_but_not_directly():
    run = explain("policies", "--from", "internet", "--to", "shop/web")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].endswith("-> alb:shop/web -> shop/web: REACHABLE")
    assert "route shop.example.com/ of Ingress shop/web at policies/tenants/shop/ingress.yaml:28" in run.stdout
    assert "Allow: NetworkPolicy shop/allow-alb-to-web ingress[0]" in run.stdout
    direct = lines.index("direct (no load balancer):")
    assert "DENIED" in lines[direct + 1]


def test_a_blocked_backend_is_traced_to_the_deciding_rule_and_exits_1():
    run = explain(*BLOCKED, "--from", "alb:team-a/admin", "--to", "team-a/admin", "--port", "9000/TCP",
                  "--format", "json")
    assert run.returncode == 1, run.stderr
    data = json.loads(run.stdout)
    [path] = data["load_balancers"]
    assert path["hops"] == [{"purpose": "traffic", "port": "9000/TCP", "admitted": "none"}]
    assert path["routes"][0]["line"] == 32 and not path["reachable"]
    assert path["ingress"][0]["decisions"][-1]["action"] == "Deny"


def test_asking_for_a_port_the_alb_does_not_send_to_shows_no_alb_path():
    run = explain("policies", "--from", "internet", "--to", "shop/web", "--port", "5432/TCP", "--format", "json")
    assert run.returncode == 1
    assert "load_balancers" not in json.loads(run.stdout)


def test_an_unknown_load_balancer_is_a_usage_error():
    run = explain(*BLOCKED, "--from", "alb:nope", "--to", "team-a/admin")
    assert run.returncode == 2 and "no load balancer 'alb:nope'" in run.stderr
