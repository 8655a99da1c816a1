"""Pydantic errors re-worded for YAML authors and pointed at the offending line."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from netverify.load.sources import read_text
from netverify.load.validation import InputErrors, format_path, parse_model
from netverify.model.diagnostics import InputError
from netverify.model.source import SourceRef


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Port(Strict):
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    port: StrictInt | StrictStr | None = None
    endPort: StrictInt | None = None

    @model_validator(mode="after")
    def _range(self) -> Port:
        if self.endPort is not None and not isinstance(self.port, int):
            raise ValueError("endPort may only be set together with a numeric port")
        return self


class Peer(Strict):
    podSelector: dict[StrictStr, dict[StrictStr, StrictStr]] | None = None
    cidr: StrictStr | None = None


class Rule(Strict):
    from_: list[Peer] | None = Field(default=None, alias="from")
    ports: list[Port] | None = None


class Spec(Strict):
    podSelector: dict[StrictStr, dict[StrictStr, StrictStr]] | None = None
    ingress: list[Rule] | None = None
    replicas: StrictInt = Field(default=1, ge=0)


class Meta(BaseModel):
    name: StrictStr = Field(min_length=1)
    labels: dict[StrictStr, StrictStr] | None = None


class Policy(BaseModel):
    metadata: Meta
    spec: Spec


def load(text: str, model: type[BaseModel] = Policy) -> InputErrors:
    docs, diags = read_text(text, "np.yaml")
    assert diags == []
    with pytest.raises(InputErrors) as caught:
        parse_model(model, docs[0].data, docs[0])
    return caught.value


def test_format_path_uses_dots_indexes_and_quotes_odd_keys() -> None:
    assert format_path(("spec", "ingress", 0, "from", 1, "ipBlock")) == "spec.ingress[0].from[1].ipBlock"
    assert (
        format_path(("metadata", "labels", "app.kubernetes.io/name"))
        == 'metadata.labels["app.kubernetes.io/name"]'
    )
    assert format_path((3, "a")) == "[3].a"
    assert format_path(()) == ""


def test_bad_int_in_nested_lists_points_at_its_line() -> None:
    errors = load("""\
metadata: {name: np}
spec:
  ingress:
  - ports:
    - port: 80
  - from:
    - cidr: 10.0.0.0/8
    ports:
    - port: 443
      endPort: "x"
""")
    (diag,) = errors.diagnostics
    assert diag.source == SourceRef("np.yaml", 10, 7)
    assert diag.message == "spec.ingress[1].ports[0].endPort: found the string 'x' (expected an integer)"


def test_valid_object_is_returned_typed() -> None:
    docs, _ = read_text("metadata: {name: np}\nspec: {ingress: [{ports: [{port: 80}]}]}\n", "np.yaml")
    policy = parse_model(Policy, docs[0].data, docs[0])
    assert isinstance(policy, Policy) and policy.spec.ingress and policy.spec.ingress[0].ports
    assert policy.spec.ingress[0].ports[0].port == 80


def test_all_errors_of_an_object_are_reported_together() -> None:
    errors = load("metadata:\n  name: ''\nspec:\n  replicas: -1\n  ingress: {}\n")
    assert [(d.source.line if d.source else None, d.message) for d in errors.diagnostics] == [
        (2, "metadata.name: found an empty string (expected a non-empty string)"),
        (4, "spec.replicas: found the integer -1 (expected a number at least 0)"),
        (5, "spec.ingress: found a mapping (expected a list)"),
    ]


def test_missing_field_points_at_the_parent() -> None:
    errors = load("metadata:\n  labels: {}\nspec: {}\n")
    (diag,) = errors.diagnostics
    assert diag.source == SourceRef("np.yaml", 1, 1)
    assert diag.message == "metadata.name: required field is missing (expected this field to be set)"


def test_unknown_field_suggests_the_closest_known_one() -> None:
    errors = load("metadata: {name: np}\nspec:\n  ingres: []\n")
    (diag,) = errors.diagnostics
    assert diag.source == SourceRef("np.yaml", 3, 3)
    assert diag.message == (
        "spec.ingres: unknown field "
        "(expected one of: ingress, podSelector, replicas; did you mean 'ingress'?)"
    )


def test_unknown_field_under_an_aliased_list_lists_alias_names() -> None:
    errors = load("metadata: {name: np}\nspec:\n  ingress:\n  - from:\n    - cidrs: x\n")
    assert errors.diagnostics[0].message == (
        "spec.ingress[0].from[0].cidrs: unknown field "
        "(expected one of: cidr, podSelector; did you mean 'cidr'?)"
    )


def test_union_alternatives_merge_into_one_message() -> None:
    errors = load("metadata: {name: np}\nspec:\n  ingress:\n  - ports:\n    - port: [80]\n")
    (diag,) = errors.diagnostics
    assert diag.message == "spec.ingress[0].ports[0].port: found a list (expected an integer or a string)"
    assert diag.source == SourceRef("np.yaml", 5, 7)


def test_value_error_keeps_its_own_text() -> None:
    errors = load("metadata: {name: np}\nspec:\n  ingress:\n  - ports:\n    - {port: http, endPort: 90}\n")
    (diag,) = errors.diagnostics
    assert diag.message == "spec.ingress[0].ports[0]: endPort may only be set together with a numeric port"
    assert diag.source == SourceRef("np.yaml", 5, 7)


def test_literal_error_lists_the_allowed_values() -> None:
    errors = load("metadata: {name: np}\nspec:\n  ingress:\n  - ports:\n    - protocol: tcp\n")
    assert errors.diagnostics[0].message == (
        "spec.ingress[0].ports[0].protocol: found the string 'tcp' (expected one of 'TCP', 'UDP' or 'SCTP')"
    )


def test_unquoted_number_where_a_string_is_expected_hints_at_quoting() -> None:
    errors = load("metadata:\n  name: np\n  labels:\n    version: 1.10\nspec: {}\n")
    (diag,) = errors.diagnostics
    assert diag.source == SourceRef("np.yaml", 4, 5)
    assert diag.message.startswith("metadata.labels.version: found the number 1.1 (expected a string; quote")


def test_base_prefixes_paths_and_positions() -> None:
    docs, _ = read_text("metadata: {name: np}\nspec:\n  replicas: many\n", "np.yaml")
    with pytest.raises(InputErrors) as caught:
        parse_model(Spec, docs[0].data["spec"], docs[0], base=("spec",))
    (diag,) = caught.value.diagnostics
    assert diag.message == "spec.replicas: found the string 'many' (expected an integer)"
    assert diag.source == SourceRef("np.yaml", 3, 3)


def test_list_items_are_located_inside_the_list_file() -> None:
    docs, _ = read_text(
        "kind: List\nitems:\n- metadata: {name: a}\n  spec: {}\n- metadata: {name: b}\n  spec: 7\n", "l.yaml"
    )
    with pytest.raises(InputErrors) as caught:
        parse_model(Policy, docs[1].data, docs[1])
    (diag,) = caught.value.diagnostics
    assert diag.message == "spec: found the integer 7 (expected a mapping)"
    assert diag.source == SourceRef("l.yaml", 6, 3)


def test_input_errors_is_an_input_error_carrying_the_first_problem() -> None:
    errors = load("metadata: {name: 5}\nspec: []\n")
    assert isinstance(errors, InputError)
    assert errors.message == errors.diagnostics[0].message
    assert errors.source == errors.diagnostics[0].source
    assert str(errors).count("\n") == len(errors.diagnostics) - 1


def test_non_mapping_object_reports_without_a_path() -> None:
    docs, _ = read_text("kind: X\nspec: {}\n", "x.yaml")
    with pytest.raises(InputErrors) as caught:
        parse_model(Spec, "text", docs[0])
    assert caught.value.diagnostics[0].message == "found the string 'text' (expected a mapping)"
