"""`check --format junit`: JUnit XML with one test case per ordered tenant pair, failures carrying each
violation with the file:line that opened it, suppressed pairs skipped, findings and input errors listed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def junit(*args: str, cwd: Path = ROOT, code: int | None = None) -> ET.Element:
    result = subprocess.run(
        [sys.executable, "-m", "netverify", "check", *args, "-f", "junit", "-q"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    if code is not None:
        assert result.returncode == code, result.stdout + result.stderr
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(result.stdout)


def suite(root: ET.Element, name: str) -> ET.Element:
    [found] = [s for s in root.findall("testsuite") if s.get("name") == name]
    return found


def counts(element: ET.Element) -> tuple[int, int, int, int]:
    return tuple(int(element.get(key)) for key in ("tests", "failures", "errors", "skipped"))


def test_leaky_fixture_fails_exactly_the_leaking_tenant_pair():
    root = junit("fixtures/leaky", "--pod-cidr", "10.64.0.0/16", code=1)
    assert root.tag == "testsuites"
    isolation = suite(root, "tenant isolation")
    cases = isolation.findall("testcase")
    tenants = {"tenant-a", "tenant-b", "tenant-c", "kube-system"}
    assert {c.get("name") for c in cases} == {f"{a} -> {b}" for a in tenants for b in tenants if a != b}
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["tenant-c -> tenant-a"]
    failure = failed[0].find("failure")
    assert failure.get("type") == "cross-tenant-flow"
    assert "tenant-c/batch (tenant-c) -> tenant-a/db (tenant-a): TCP 5432" in failure.text
    assert "tenant-a/db-from-reporting ingress[0] at fixtures/leaky/tenant-a.yaml:" in failure.text
    assert counts(isolation) == (12, 1, 0, 0)
    assert counts(root) == tuple(map(sum, zip(*(counts(s) for s in root.findall("testsuite")), strict=True)))


def test_clean_fixture_passes_every_pair():
    root = junit("fixtures/multi-tenant", code=0)
    isolation = suite(root, "tenant isolation")
    tests, failures, errors, skipped = counts(isolation)
    assert tests > 0 and (failures, errors, skipped) == (0, 0, 0)
    assert all(len(case) == 0 for case in isolation.findall("testcase"))


def test_suppressed_pair_is_skipped_with_its_reason_and_findings_do_not_fail():
    root = junit("fixtures/gate", code=1)
    isolation = suite(root, "tenant isolation")
    by_name = {c.get("name"): c for c in isolation.findall("testcase")}
    assert by_name["shop -> billing"].find("failure") is not None
    skipped = by_name["billing -> shop"]
    assert skipped.find("skipped") is not None and skipped.find("failure") is None
    assert "SEC-42" in skipped.find("system-out").text
    findings = suite(root, "findings")
    assert counts(findings)[1:3] == (0, 0)
    for case in findings.findall("testcase"):
        assert case.find("skipped").get("message").startswith(("warning: ", "info: "))
        assert case.get("file", "").startswith("fixtures/gate/")


def test_input_errors_are_errored_test_cases(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "leaky", tmp_path / "repo")
    (tmp_path / "repo" / "broken.yaml").write_text("kind: [\n")
    root = junit("repo", cwd=tmp_path, code=2)
    [case] = suite(root, "input").findall("testcase")
    assert case.get("name").startswith("repo/broken.yaml:") and case.find("error") is not None
    assert int(root.get("errors")) == 1


def test_configuration_violations_fail_in_their_own_suite():
    from dataclasses import dataclass

    import netverify
    from netverify.report.junit import build_junit
    from netverify.verify.contract import Contract
    from netverify.verify.isolation import check_isolation

    @dataclass
    class SharedBalancer:
        rule: str
        message: str
        file: str
        line: int

    result = check_isolation(netverify.analyze(str(ROOT / "fixtures" / "multi-tenant")), Contract.default_contract())
    result.violations.append(SharedBalancer("ingress-group-cross-tenant", "ALB shared by a and b", "ingress.yaml", 7))
    root = ET.fromstring(ET.tostring(build_junit(result)))
    [case] = suite(root, "configuration").findall("testcase")
    assert case.find("failure").get("type") == "ingress-group-cross-tenant"
    assert "ingress.yaml:7" in case.find("failure").text
    assert counts(suite(root, "tenant isolation"))[1] == 0
