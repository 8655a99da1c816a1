"""The contract's exposure.internet: ingress-only (no raw L3 path from the internet), none, any."""

from __future__ import annotations

from pathlib import Path

import pytest

from netverify.load.cluster_loader import load_cluster
from netverify.pipeline import analyze_cluster
from netverify.verify.contract_loader import load_contract
from netverify.verify.isolation import check_isolation

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "fixtures" / "alb" / "base"
OPEN_TO_WORLD = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: world, namespace: team-b}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
      ports: [{port: 443}]
"""


def check(tmp_path, level: str, *extra: str):
    contract_file = tmp_path / "contract.yaml"
    contract_file.write_text(f"exposure:\n  internet: {level}\n", encoding="utf-8")
    contract, errors = load_contract(str(contract_file))
    assert contract is not None, errors
    cluster = load_cluster([str(BASE), *extra])
    return check_isolation(analyze_cluster(cluster), contract)


def test_ingress_only_holds_when_pods_admit_only_their_alb_subnets(tmp_path):
    assert check(tmp_path, "ingress-only").violations == []


def test_ingress_only_flags_a_pod_that_admits_internet_addresses_itself(tmp_path):
    result = check(tmp_path, "ingress-only", OPEN_TO_WORLD)
    [violation] = result.violations
    assert violation.rule == "internet-exposure" and violation.dst.id == "team-b/web"
    assert violation.src_tenant == "internet" and violation.conn.to_json() == {"TCP": [[443, 443]]}
    assert [a.policy for a in violation.allowed_by] == ["team-b/world"]
    assert violation.allowed_by[0].line == 9


def test_exposure_none_also_flags_internet_facing_albs(tmp_path):
    result = check(tmp_path, "none")
    assert sorted(v.rule for v in result.violations) == ["internet-exposure", "internet-exposure"]
    assert all("internet-facing" in v.message and v.line for v in result.violations)


def test_exposure_any_checks_nothing(tmp_path):
    assert check(tmp_path, "any", OPEN_TO_WORLD).violations == []


@pytest.mark.parametrize("level", ["public", "yes"])
def test_unknown_exposure_level_is_a_contract_error(tmp_path, level):
    contract_file = tmp_path / "contract.yaml"
    contract_file.write_text(f"exposure:\n  internet: {level}\n", encoding="utf-8")
    contract, errors = load_contract(str(contract_file))
    assert contract is None and errors and errors[0].source.line == 2
