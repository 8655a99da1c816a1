"""cluster.check: `netverify check` as an object; contracts from paths, YAML text and dicts."""

from __future__ import annotations

import json

import pytest
from api_scenario import LEAKY_INGRESS, POLICIES, REPORTING_EGRESS

import netverify as nv
from netverify.cli import main
from netverify.notebook import InputProblemError

CONTRACT_YAML = """\
tenants:
  namespaceLabel: tenant
shared:
  - {namespace: kube-system, bothWays: true}
allow:
  - from: {tenant: analytics}
    to: {tenant: shop, pods: {app: db}}
    ports: [5432/TCP]
"""


@pytest.fixture(scope="module")
def clean():
    return nv.load(POLICIES, cni="calico")


@pytest.fixture(scope="module")
def leaky(clean):
    return clean.with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])


def test_clean_example_holds(clean):
    report = clean.check()
    assert report.ok and bool(report) and not report.violations
    assert "isolation holds" in repr(report) and "isolation holds" in report._repr_html_()


def test_leak_is_a_violation_with_the_rules_that_opened_it(leaky):
    report = leaky.check()
    assert not report.ok and not report
    [violation] = report.violations
    assert (violation.rule, violation.src.id, violation.dst.id) == ("cross-tenant-flow", "analytics/api", "shop/db")
    assert violation.conn.to_json() == {"TCP": [[5432, 5432]]}
    assert [(a.direction, a.policy, a.file, a.line) for a in violation.allowed_by] == [
        ("egress", "analytics/reporting-to-shop-db", "<add[0]>", 11),
        ("ingress", "shop/db-from-api", "<add[1]>", 11),
    ]
    frame = report.frame()
    assert frame[["src", "dst", "conn"]].values.tolist() == [["analytics/api", "shop/db", "TCP 5432"]]
    page = report._repr_html_()
    assert "isolation violated" in page and "shop/db-from-api" in page


def test_report_equals_the_cli_json(tmp_path, capsys):
    (tmp_path / "reporting.yaml").write_text(REPORTING_EGRESS + "---\n" + LEAKY_INGRESS)
    cluster = nv.load(POLICIES, str(tmp_path / "reporting.yaml"), cni="calico")
    assert main(["check", POLICIES, str(tmp_path / "reporting.yaml"), "--cni", "calico", "--format", "json"]) == 1
    from_cli = json.loads(capsys.readouterr().out)
    from_api = json.loads(json.dumps(cluster.check().to_json()))
    for document in (from_cli, from_api):
        document["stats"].pop("seconds")
    assert from_api == from_cli


@pytest.mark.parametrize("form", ["yaml", "dict", "path"])
def test_contract_as_yaml_text_dict_or_path(leaky, tmp_path, form):
    import yaml

    if form == "yaml":
        contract = CONTRACT_YAML
    elif form == "dict":
        contract = yaml.safe_load(CONTRACT_YAML)
    else:
        (tmp_path / "contract.yaml").write_text(CONTRACT_YAML)
        contract = str(tmp_path / "contract.yaml")
    report = leaky.check(contract=contract)
    assert report.ok, repr(report)  # the declared exception covers the flow


def test_contract_ports_are_exact(leaky):
    """An exception for 5433 only does not cover 5432: the service space is cut at the contract's ports."""
    report = leaky.check(contract=CONTRACT_YAML.replace("5432/TCP", "5433/TCP"))
    assert [v.conn.to_json() for v in report.violations] == [{"TCP": [[5432, 5432]]}]


def test_broken_contract_is_refused_with_its_position(leaky):
    with pytest.raises(InputProblemError) as raised:
        leaky.check(contract="tenants:\n  namespaceLabel: [1]\n")
    assert "<contract>:2" in str(raised.value)
    with pytest.raises(InputProblemError, match="no-such-file"):
        leaky.check(contract="/no-such-file.yaml")


def test_input_errors_make_the_check_unprovable(tmp_path):
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: b\n")
    report = nv.load(POLICIES, str(tmp_path / "bad.yaml"), cni="calico").check()
    assert not report.ok and not report.violations
    assert "input errors" in repr(report) and "bad.yaml" in report._repr_html_()


def test_report_heatmap_outlines_the_violations(leaky, clean):
    report = leaky.check()
    heatmap = report.heatmap()
    assert heatmap.marked == [("analytics", "shop")]
    assert "outlined: 1 with violations" in heatmap.title
    assert heatmap.png().startswith(b"\x89PNG")
    assert report.heatmap(level="workload").marked == [("analytics/api", "shop/db")]
    assert clean.check().heatmap().marked == []
