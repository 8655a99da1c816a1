"""Kinds that can filter traffic but are not modelled are reported with file:line, and `check` says the
result cannot be proven (exit 3 with --strict); plain unrelated kinds are ignored quietly."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from netverify.cli import main
from netverify.load.cluster_loader import carries_policy

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c}]}\n"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"

POLICY_KINDS = [
    ("cilium.io/v2", "CiliumNetworkPolicy"),
    ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"),
    ("security.istio.io/v1", "AuthorizationPolicy"),
    ("security.istio.io/v1beta1", "PeerAuthentication"),
    ("k8s.cni.cncf.io/v1beta1", "MultiNetworkPolicy"),
    ("vpcresources.k8s.aws/v1beta1", "SecurityGroupPolicy"),
    ("crd.antrea.io/v1beta1", "ClusterNetworkPolicy"),
    ("crd.antrea.io/v1beta1", "NetworkPolicy"),
    ("networking.k8s.aws/v1alpha1", "ClusterNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"),
    ("policy.linkerd.io/v1alpha1", "AuthorizationPolicy"),
    ("example.networking.io/v1", "EgressPolicy"),
    ("k8s.ovn.org/v1", "EgressFirewall"),
    ("network.openshift.io/v1", "EgressNetworkPolicy"),
]
QUIET_KINDS = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("kyverno.io/v1", "ClusterPolicy"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
    ("storage.k8s.io/v1", "StorageClass"),
]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert "internal error" not in err.getvalue(), err.getvalue()
    return code, out.getvalue(), err.getvalue()


def manifest(api_version: str, kind: str) -> str:
    return f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: p, namespace: x}}\nspec: {{}}\n"


@pytest.mark.parametrize(("api_version", "kind"), POLICY_KINDS)
def test_policy_carrying_kind_is_reported_with_file_and_line(tmp_path: Path, api_version: str, kind: str) -> None:
    (tmp_path / "a.yaml").write_text(NAMESPACE + "---\n" + POD + "---\n" + manifest(api_version, kind))
    code, _, err = run("matrix", str(tmp_path))
    assert code == 0
    assert err == (
        f"{tmp_path}/a.yaml:10:1: warning: {kind} x/p ({api_version}) can change reachability but is not "
        "modelled; its effect is NOT included in the results\n"
    )


@pytest.mark.parametrize(("api_version", "kind"), QUIET_KINDS)
def test_plain_unrelated_kind_is_ignored_quietly(tmp_path: Path, api_version: str, kind: str) -> None:
    (tmp_path / "a.yaml").write_text(NAMESPACE + "---\n" + POD + "---\n" + manifest(api_version, kind))
    code, _, err = run("matrix", str(tmp_path))
    assert (code, err) == (0, "")


def test_carries_policy_needs_a_policy_kind_in_a_network_group() -> None:
    assert carries_policy("cilium.io", "CiliumNetworkPolicy")
    assert carries_policy("gateway.networking.k8s.io", "BackendTLSPolicy")
    assert not carries_policy("kyverno.io", "ClusterPolicy")
    assert not carries_policy("networking.k8s.io", "IngressClass")
    assert not carries_policy("cilium.io", "CiliumNode")


def unproven_input(tmp_path: Path) -> Path:
    cilium = manifest("cilium.io/v2", "CiliumNetworkPolicy")
    (tmp_path / "a.yaml").write_text(NAMESPACE + "---\n" + POD + "---\n" + cilium)
    return tmp_path


def test_check_turns_an_unmodelled_policy_into_a_finding_and_exits_0(tmp_path: Path) -> None:
    code, out, _ = run("check", str(unproven_input(tmp_path)), "-f", "json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["proven"] is False
    assert result["findings"] == [
        {
            "rule": "unmodelled-policy",
            "severity": "warning",
            "message": "the result cannot be proven: CiliumNetworkPolicy x/p (cilium.io/v2) can change "
            "reachability but is not modelled; its effect is NOT included in the results",
            "file": f"{tmp_path}/a.yaml",
            "line": 10,
        }
    ]


def test_check_text_does_not_say_isolation_holds_when_it_cannot_be_proven(tmp_path: Path) -> None:
    code, out, _ = run("check", str(unproven_input(tmp_path)))
    assert code == 0
    assert "isolation holds" not in out and "isolation cannot be proven" in out


def test_check_strict_exits_3_when_the_result_cannot_be_proven(tmp_path: Path) -> None:
    code, out, _ = run("check", str(unproven_input(tmp_path)), "--strict")
    assert code == 3 and "unmodelled-policy" in out


def test_check_strict_exits_0_when_everything_is_modelled(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(NAMESPACE + "---\n" + POD + "---\n" + manifest("v1", "ConfigMap"))
    code, out, _ = run("check", str(tmp_path), "--strict", "-f", "json")
    assert code == 0 and json.loads(out)["proven"] is True


def test_check_strict_still_exits_2_on_bad_input_and_1_on_violations(tmp_path: Path) -> None:
    unproven_input(tmp_path)
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [}\n")
    assert run("check", str(tmp_path), "--strict")[0] == 2
    (tmp_path / "b.yaml").write_text(POD.replace("x", "y").replace("name: a", "name: b"))
    assert run("check", str(tmp_path), "--strict")[0] == 1


def test_check_help_documents_exit_3() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "3 with --strict" in " ".join(out.getvalue().split())
