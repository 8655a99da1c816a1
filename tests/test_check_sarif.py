"""`check --format sarif`: valid SARIF 2.1.0 (official OASIS schema) whose results sit at the file and line
of the rule that opened each flow, with rules described, stable fingerprints and suppressions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())


def sarif(*args: str, cwd: Path = ROOT, code: int | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "netverify", "check", *args, "-f", "sarif", "-q"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    if code is not None:
        assert result.returncode == code, result.stdout + result.stderr
    log = json.loads(result.stdout)
    jsonschema.validate(log, SCHEMA, cls=jsonschema.Draft4Validator)
    return log


def line_of(path: Path, needle: str, after: str) -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, text in enumerate(lines) if after in text)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def where(location: dict) -> tuple[str, int | None]:
    physical = location["physicalLocation"]
    return physical["artifactLocation"]["uri"], physical.get("region", {}).get("startLine")


def test_schema_file_is_the_official_one():
    assert SCHEMA["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    with pytest.raises(jsonschema.ValidationError):  # the validator is live: a broken log fails
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, SCHEMA, cls=jsonschema.Draft4Validator)


def test_leak_is_a_result_at_the_rule_that_opened_it():
    log = sarif("fixtures/leaky", "--pod-cidr", "10.64.0.0/16", code=1)
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "netverify" and driver["version"] and driver["informationUri"].startswith("https://")
    [result] = [r for r in run["results"] if r["ruleId"] == "cross-tenant-flow"]
    assert result["level"] == "error"
    assert driver["rules"][result["ruleIndex"]]["id"] == "cross-tenant-flow"
    expected = line_of(ROOT / "fixtures/leaky/tenant-a.yaml", "- from:", "name: db-from-reporting")
    assert where(result["locations"][0]) == ("fixtures/leaky/tenant-a.yaml", expected)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    assert "tenant-c/batch" in result["message"]["text"] and "tenant-a/db" in result["message"]["text"]
    assert "TCP 5432" in result["message"]["text"]
    related = {where(r)[0] for r in result["relatedLocations"]}
    assert {"fixtures/leaky/tenant-c.yaml", "fixtures/leaky/tenant-a.yaml"} <= related
    ids = [r["id"] for r in result["relatedLocations"]]
    assert len(ids) == len(set(ids))
    assert "suppressions" not in result and "baselineState" not in result


def test_every_rule_is_described_with_help():
    driver = sarif("fixtures/leaky", code=1)["runs"][0]["tool"]["driver"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"] and rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_clean_repository_has_no_results():
    log = sarif("fixtures/multi-tenant", code=0)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_fingerprints_survive_a_rerun_and_lines_moving(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "leaky", tmp_path / "repo")
    first = sarif("repo", "--pod-cidr", "10.64.0.0/16", cwd=tmp_path)["runs"][0]["results"]
    assert first == sarif("repo", "--pod-cidr", "10.64.0.0/16", cwd=tmp_path)["runs"][0]["results"]
    manifest = tmp_path / "repo" / "tenant-a.yaml"
    manifest.write_text("# a comment\n# and another\n" + manifest.read_text())
    moved = sarif("repo", "--pod-cidr", "10.64.0.0/16", cwd=tmp_path)["runs"][0]["results"]
    assert where(moved[0]["locations"][0])[1] == where(first[0]["locations"][0])[1] + 2
    assert [r["partialFingerprints"] for r in moved] == [r["partialFingerprints"] for r in first]


def test_suppressed_flow_carries_its_justification():
    results = sarif("fixtures/gate", code=1)["runs"][0]["results"]
    flows = [r for r in results if r["ruleId"] == "cross-tenant-flow"]
    open_ = [r for r in flows if "suppressions" not in r]
    [suppressed] = [r for r in flows if "suppressions" in r]
    assert len(open_) == 1 and "shop/web" in open_[0]["message"]["text"]
    [why] = suppressed["suppressions"]
    assert why["kind"] == "inSource" and why["status"] == "accepted" and "SEC-42" in why["justification"]
    assert where(why["location"])[0] == "fixtures/gate/shop.yaml"
    assert where(suppressed["locations"][0]) == (
        "fixtures/gate/shop.yaml",
        line_of(ROOT / "fixtures/gate/shop.yaml", "- from:", "name: web-from-billing"),
    )


def test_findings_are_warnings_at_their_policy():
    results = sarif("fixtures/gate", code=1)["runs"][0]["results"]
    findings = [r for r in results if r["ruleId"] != "cross-tenant-flow"]
    assert findings and all(r["level"] in ("warning", "note") for r in findings)
    for result in findings:
        uri, line = where(result["locations"][0])
        assert uri.startswith("fixtures/gate/") and line and line > 0


def test_paths_outside_the_working_directory_are_file_uris(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "leaky", tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results = sarif(str(tmp_path / "repo"), "--pod-cidr", "10.64.0.0/16", cwd=elsewhere)["runs"][0]["results"]
    [result] = [r for r in results if r["ruleId"] == "cross-tenant-flow"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (tmp_path / "repo" / "tenant-a.yaml").resolve().as_uri()}


def test_input_errors_are_tool_notifications(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "leaky", tmp_path / "repo")
    (tmp_path / "repo" / "broken.yaml").write_text("kind: [\n")
    log = sarif("repo", cwd=tmp_path, code=2)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert where(note["locations"][0])[0] == "repo/broken.yaml"


def test_every_rule_that_would_allow_the_flow_is_a_related_location():
    """Fixing the reported rule alone would not close the leak: the redundant copy also allows it."""
    results = sarif("fixtures/gate", code=1)["runs"][0]["results"]
    [leak] = [r for r in results if r["ruleId"] == "cross-tenant-flow" and "suppressions" not in r]
    billing = ROOT / "fixtures/gate/billing.yaml"
    related = {where(r) for r in leak["relatedLocations"]}
    assert ("fixtures/gate/billing.yaml", line_of(billing, "- from:", "name: ledger-api-v2")) in related
    texts = [leak["message"]["text"], *(r["message"]["text"] for r in leak["relatedLocations"])]
    assert any("billing/ledger-api ingress[0]" in text for text in texts)


def test_violations_that_are_configurations_not_flows_are_results_at_their_line():
    """Violations without src/dst (e.g. two tenants behind one load balancer) keep their own location."""
    from dataclasses import dataclass, field

    import netverify
    from netverify.model.source import SourceRef
    from netverify.report.sarif import build_sarif
    from netverify.verify.contract import Contract
    from netverify.verify.isolation import check_isolation

    @dataclass
    class SharedBalancer:
        rule: str
        message: str
        file: str
        line: int
        related: list = field(default_factory=list)

    result = check_isolation(netverify.analyze(str(ROOT / "fixtures" / "multi-tenant")), Contract.default_contract())
    shared = SharedBalancer("ingress-group-cross-tenant", "ALB shared by a and b", "ingress.yaml", 7)
    shared.related.append(SourceRef("other.yaml", 3))
    result.violations.append(shared)
    log = build_sarif(result)
    jsonschema.validate(log, SCHEMA, cls=jsonschema.Draft4Validator)
    [found] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "ingress-group-cross-tenant"]
    assert found["level"] == "error" and found["message"]["text"] == "ALB shared by a and b"
    assert where(found["locations"][0]) == ("ingress.yaml", 7) and where(found["relatedLocations"][0]) == (
        "other.yaml",
        3,
    )


def test_alb_violations_and_findings_are_results_at_their_annotation_and_rule():
    log = sarif("fixtures/alb/base", "fixtures/alb/cross-tenant-group", "fixtures/alb/cidr-admits-load-balancers")
    results = log["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    group = by_rule["ingress-group-cross-tenant"]
    assert group["level"] == "error"
    assert where(group["locations"][0]) == ("fixtures/alb/cross-tenant-group/shared-alb.yaml", 22)
    assert where(by_rule["cidr-admits-load-balancers"]["locations"][0]) == (
        "fixtures/alb/cidr-admits-load-balancers/all-albs.yaml", 9
    )
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ingress-group-cross-tenant"]["shortDescription"]["text"] == "Tenants share one ALB"
