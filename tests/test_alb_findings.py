"""One fixture per ALB finding (fixtures/alb/<finding>/ on top of the clean fixtures/alb/base/), each named
with its file and line, and the clean base with none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netverify.load.cluster_loader import load_cluster
from netverify.pipeline import analyze_cluster
from netverify.verify.contract import Contract
from netverify.verify.isolation import check_isolation

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "fixtures" / "alb" / "base"


def check(*overlays: str):
    cluster = load_cluster([str(BASE), *(str(ROOT / "fixtures" / "alb" / o) for o in overlays)])
    assert not cluster.errors, [str(e) for e in cluster.errors]
    return check_isolation(analyze_cluster(cluster), Contract.default_contract())


def rel(path: str | None) -> str:
    return str(Path(path).resolve().relative_to(ROOT)) if path else ""


def test_clean_base_has_no_violation_and_no_finding():
    result = check()
    assert result.ok
    assert result.violations == [] and result.findings == []


def test_cross_tenant_ingress_group_is_a_violation_at_the_group_annotation():
    result = check("cross-tenant-group")
    found = [v for v in result.violations if v.rule == "ingress-group-cross-tenant"]
    assert len(found) == 1
    violation = found[0]
    assert (rel(violation.file), violation.line) == ("fixtures/alb/cross-tenant-group/shared-alb.yaml", 22)
    assert violation.tenants == ["team-a", "team-b"]
    assert "IngressGroup shared" in violation.message and "team-a/shared" in violation.message
    assert not result.ok


def test_conflicting_group_setting_is_reported_at_the_second_value():
    result = check("group-conflict")
    found = [f for f in result.findings if f.rule == "ingress-group-conflict"]
    assert len(found) == 1
    assert (rel(found[0].file), found[0].line) == ("fixtures/alb/group-conflict/two-schemes.yaml", 24)
    assert "scheme" in found[0].message and "'internal' by team-a/internal" in found[0].message
    assert not [v for v in result.violations if v.rule == "ingress-group-cross-tenant"]  # one tenant


def test_host_path_takeover_names_the_losing_path_and_the_winner():
    result = check("host-takeover")
    found = [f for f in result.findings if f.rule == "ingress-host-takeover"]
    assert len(found) == 1
    assert (rel(found[0].file), found[0].line) == ("fixtures/alb/host-takeover/takeover.yaml", 14)
    assert "www.example.com/a of Ingress team-a/site is never reached" in found[0].message
    assert "team-b/site" in found[0].message


def test_pod_whose_policy_blocks_its_alb_is_reported_as_502():
    result = check("backend-blocked")
    found = [f for f in result.findings if f.rule == "ingress-backend-blocked"]
    assert len(found) == 1
    assert (rel(found[0].file), found[0].line) == ("fixtures/alb/backend-blocked/admin.yaml", 32)
    assert "team-a/admin" in found[0].message and "9000/TCP" in found[0].message and "502" in found[0].message
    assert result.ok  # a warning: isolation itself holds


def test_cidr_rule_over_the_pod_subnet_admits_other_tenants_pods_and_is_a_violation():
    result = check("cidr-admits-other-tenants")
    found = [v for v in result.violations if v.rule == "cidr-admits-other-tenants"]
    assert len(found) == 1
    assert (rel(found[0].file), found[0].line) == ("fixtures/alb/cidr-admits-other-tenants/vpc-wide.yaml", 9)
    assert found[0].tenants == ["team-a", "team-b"] and "subnet-0000000000000c001" in found[0].message
    leaks = [v for v in result.violations if v.rule == "cross-tenant-flow"]
    assert [(v.src.id, v.dst.id) for v in leaks] == [("team-b/web", "team-a/web")]
    assert any(a.policy == "team-a/allow-node-subnet" and a.uncertain for a in leaks[0].allowed_by)


def test_cidr_rule_holding_another_tenants_alb_is_a_warning():
    result = check("cidr-admits-load-balancers")
    found = [f for f in result.findings if f.rule == "cidr-admits-load-balancers"]
    assert len(found) == 1
    assert (rel(found[0].file), found[0].line) == ("fixtures/alb/cidr-admits-load-balancers/all-albs.yaml", 9)
    assert "team-b" in found[0].message
    assert result.ok


def test_forward_to_target_group_arn_and_target_group_binding_are_unknown_targets():
    result = check("unknown-target")
    found = sorted((rel(f.file), f.line) for f in result.findings if f.rule == "alb-unknown-target")
    assert found == [
        ("fixtures/alb/unknown-target/target-groups.yaml", 11),
        ("fixtures/alb/unknown-target/target-groups.yaml", 20),
    ]
    assert [f.rule for f in result.findings if f.rule != "alb-unknown-target"] == []


def test_legacy_class_annotation_bypassing_ingress_class_params_is_reported():
    result = check("class-bypass")
    found = [f for f in result.findings if f.rule == "ingress-class-bypass"]
    assert len(found) == 1
    assert (rel(found[0].file), found[0].line) == ("fixtures/alb/class-bypass/legacy-annotation.yaml", 23)
    assert "team-b/sneaky" in found[0].message and "team-a-internal" in found[0].message


@pytest.mark.parametrize("fmt", ["json", "text", "md"])
def test_check_cli_names_the_cross_tenant_group(fmt):
    run = subprocess.run(
        [sys.executable, "-m", "netverify", "check", str(BASE), str(ROOT / "fixtures/alb/cross-tenant-group"),
         "--format", fmt],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 1, run.stderr
    if fmt == "json":
        data = json.loads(run.stdout)
        rules = [v["rule"] for v in data["violations"]]
        assert rules == ["ingress-group-cross-tenant"]
        assert data["violations"][0]["line"] == 22
    else:
        assert "ingress-group-cross-tenant" in run.stdout and "shared-alb.yaml:22" in run.stdout
