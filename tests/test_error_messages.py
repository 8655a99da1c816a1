"""One fixture per class of malformed input (fixtures/errors/), with the exact message users see.

The rule for all of them: `file:line:column: what is wrong (what was expected)` on standard error, exit 2,
no traceback, and the valid objects of the same run are still loaded and reported on.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from netverify.cli import main

ROOT = Path(__file__).resolve().parent.parent
ERRORS = ROOT / "fixtures" / "errors"

EXPECTED = {
    "broken-yaml.yaml": "broken-yaml.yaml:6:1: invalid YAML: did not find expected ',' or '}' while parsing a "
    "flow mapping that starts at line 5, column 11 (expected valid YAML syntax)",
    "wrong-type.yaml": "wrong-type.yaml:10:3: spec.ingress: found true (expected a list)",
    "missing-field.yaml": "missing-field.yaml:3:1: metadata.name: required field is missing "
    "(expected this field to be set)",
    "bad-cidr.yaml": "bad-cidr.yaml:11:13: spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR '10.0.0.0/33': "
    "expected an IPv4 or IPv6 network such as 10.0.0.0/16 or fd00::/64",
    "port-out-of-range.yaml": "port-out-of-range.yaml:11:11: spec.ingress[0].ports[0].port: port 70000 is out "
    "of range (expected a number 1-65535 or a port name)",
    "endport-below-port.yaml": "endport-below-port.yaml:12:11: spec.ingress[0].ports[0].endPort: endPort 8080 "
    "is less than port 8090 (expected endPort >= port)",
    "named-port-with-endport.yaml": "named-port-with-endport.yaml:11:11: spec.ingress[0].ports[0].endPort: "
    "endPort 8080 is set with the named port 'http' (expected a numeric port)",
    "bad-match-expression.yaml": "bad-match-expression.yaml:10:9: spec.podSelector.matchExpressions[0].operator: "
    "found the string 'Equals' (expected one of 'In', 'NotIn', 'Exists' or 'DoesNotExist')",
    "bad-calico-selector.yaml": "bad-calico-selector.yaml:6:3: spec.selector: column 16: expected a selector "
    "after '&&' (a label comparison, '(', '!', has(), all() or global()), found end of selector",
    "unknown-api-version.yaml": "unknown-api-version.yaml:1:1: unknown apiVersion 'networking.k8s.io/v2' for "
    "NetworkPolicy (expected networking.k8s.io/v1)",
}
DUPLICATE = (
    "second.yaml:2:1: NetworkPolicy 'shop/default-deny' (networking.k8s.io API group) is defined twice: "
    "first at {first}:1:1; this one is ignored (expected each object once)"
)
VALID_POD = """apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: other}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
"""


def run(*argv: str) -> tuple[int, str, str]:
    """The CLI in-process; an internal error (a bug) fails the test instead of passing as exit 2."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue(), err.getvalue()
    return code, out.getvalue(), err.getvalue()


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": warning: " not in line]


def test_every_error_class_has_a_fixture() -> None:
    assert sorted(p.name for p in ERRORS.glob("*.yaml")) == sorted(EXPECTED)
    assert sorted(p.name for p in (ERRORS / "duplicate-object").glob("*.yaml")) == ["first.yaml", "second.yaml"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_input_gives_the_exact_file_line_message(tmp_path: Path, name: str) -> None:
    shutil.copy(ERRORS / name, tmp_path / name)
    (tmp_path / "valid.yaml").write_text(VALID_POD)
    code, out, err = run("matrix", str(tmp_path), "-f", "json")
    assert code == 2
    assert errors_of(err) == [f"{tmp_path / EXPECTED[name]}"]
    assert "other/ok" in {e["id"] for e in json.loads(out)["endpoints"]}  # the rest of the run is not lost


def test_duplicate_object_across_files_names_both_locations(tmp_path: Path) -> None:
    shutil.copytree(ERRORS / "duplicate-object", tmp_path / "dup")
    code, out, err = run("matrix", str(tmp_path / "dup"), "-f", "json")
    assert code == 2
    first = tmp_path / "dup" / "first.yaml"
    assert errors_of(err) == [f"{tmp_path / 'dup'}/" + DUPLICATE.format(first=first)]


def test_the_first_of_two_duplicates_is_the_one_used(tmp_path: Path) -> None:
    """The second copy (ingress and egress deny) is ignored: shop stays open for egress."""
    shutil.copytree(ERRORS / "duplicate-object", tmp_path / "dup")
    (tmp_path / "dup" / "pods.yaml").write_text(VALID_POD + "---\n" + VALID_POD.replace("other", "shop"))
    _, out, _ = run("matrix", str(tmp_path / "dup"), "-f", "json")
    flows = {(c["src"], c["dst"]) for c in json.loads(out)["connections"]}
    assert ("shop/ok", "other/ok") in flows and ("other/ok", "shop/ok") not in flows


def test_an_invalid_first_copy_does_not_hide_a_valid_second(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text((ERRORS / "wrong-type.yaml").read_text())
    (tmp_path / "b.yaml").write_text((ERRORS / "wrong-type.yaml").read_text().replace("ingress: yes", "ingress: []"))
    code, out, err = run("matrix", str(tmp_path), "-f", "json")
    assert code == 2 and len(errors_of(err)) == 1 and "defined twice" not in err


def test_same_name_in_other_namespace_kind_or_group_is_no_duplicate(tmp_path: Path) -> None:
    policy = (ERRORS / "duplicate-object" / "first.yaml").read_text()
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: shop}\n"
    (tmp_path / "a.yaml").write_text(
        policy + "---\n" + policy.replace("namespace: shop", "namespace: other") + "---\n" + calico
    )
    code, _, err = run("matrix", str(tmp_path))
    assert code == 0, err


def test_a_namespace_defined_twice_is_an_error_not_last_wins(tmp_path: Path) -> None:
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {tenant: %s}}\n"
    (tmp_path / "a.yaml").write_text(namespace % "a" + "---\n" + namespace % "b")
    code, _, err = run("matrix", str(tmp_path))
    assert code == 2 and "a.yaml:5:1: Namespace 'shop' (core API group) is defined twice: first at" in err


def test_a_known_kind_under_a_wrong_group_is_an_unknown_api_version(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n")
    code, _, err = run("matrix", str(tmp_path))
    assert code == 2
    assert errors_of(err) == [f"{tmp_path}/a.yaml:1:1: unknown apiVersion 'v1' for Deployment (expected apps/v1)"]


def test_all_errors_of_a_run_are_reported_together_in_file_order(tmp_path: Path) -> None:
    for name in EXPECTED:
        shutil.copy(ERRORS / name, tmp_path / name)
    code, _, err = run("matrix", str(tmp_path))
    assert code == 2
    assert errors_of(err) == [f"{tmp_path / EXPECTED[name]}" for name in sorted(EXPECTED)]


@pytest.mark.parametrize("command", [["matrix"], ["check"], ["explain", "--from", "other/ok", "--to", "shop/ok"]])
def test_every_command_keeps_going_and_exits_2_on_bad_input(tmp_path: Path, command: list[str]) -> None:
    shutil.copy(ERRORS / "bad-cidr.yaml", tmp_path / "bad-cidr.yaml")
    (tmp_path / "valid.yaml").write_text(VALID_POD + "---\n" + VALID_POD.replace("other", "shop"))
    code, out, err = run(command[0], str(tmp_path), *command[1:])
    assert code == 2
    assert "bad-cidr.yaml:11:13:" in err
    assert out  # the report on the valid files is still written


def test_an_empty_contract_file_is_named_in_its_error(tmp_path: Path) -> None:
    (tmp_path / "contract.yaml").write_text("")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "valid.yaml").write_text(VALID_POD)
    code, _, err = run("check", str(tmp_path / "m"), "--contract", str(tmp_path / "contract.yaml"))
    assert code == 2
    assert errors_of(err) == [f"{tmp_path}/contract.yaml: expected one YAML document in the contract, found 0"]


def test_a_missing_or_mistyped_api_version_or_kind_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: 5\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b}\n---\n"
        "apiVersion: v1\nkind: ''\n---\nmetadata: {name: c}\n"
    )
    code, _, err = run("matrix", str(tmp_path))
    assert code == 2
    assert errors_of(err) == [
        f"{tmp_path}/a.yaml:1:1: apiVersion: found an integer (expected a string such as networking.k8s.io/v1)",
        f"{tmp_path}/a.yaml:5:1: apiVersion is missing (expected a string such as networking.k8s.io/v1)",
        f"{tmp_path}/a.yaml:9:1: kind: found an empty string (expected a string such as NetworkPolicy)",
        f"{tmp_path}/a.yaml:11:1: apiVersion and kind are missing (expected a Kubernetes object with both)",
    ]
