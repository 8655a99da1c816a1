"""Reading inputs into positioned Documents: positions, file walking, and hostile or broken input."""

from __future__ import annotations

import datetime
import io
import json
import os
import time
from pathlib import Path as FsPath

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netverify.load import sources, yamltree
from netverify.load.sources import read_sources, read_text
from netverify.model.diagnostics import Severity
from netverify.model.source import SourceRef

TWO_POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: a
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: web}
    ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: b
spec:
  egress:
  - to: []
"""


def write(path: FsPath, text: str = "kind: ConfigMap\n") -> FsPath:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def messages(diags: list) -> list[str]:
    return [d.message for d in diags]


def test_multi_document_yaml_records_lines_of_keys_and_items() -> None:
    docs, diags = read_text(TWO_POLICIES, "np.yaml")
    assert diags == []
    first, second = docs
    assert first.source() == SourceRef("np.yaml", 1, 1)
    assert first.source("spec") == SourceRef("np.yaml", 5, 1)
    assert first.source("spec", "ingress", 0) == SourceRef("np.yaml", 8, 5)
    assert first.source("spec", "ingress", 0, "from", 0, "podSelector") == SourceRef("np.yaml", 9, 7)
    assert first.source("spec", "ingress", 0, "ports", 0, "port") == SourceRef("np.yaml", 12, 7)
    assert first.data["spec"]["ingress"][0]["ports"][0]["port"] == 80
    assert second.source() == SourceRef("np.yaml", 14, 1)
    assert second.source("spec", "egress", 0, "to") == SourceRef("np.yaml", 20, 5)


def test_unrecorded_path_falls_back_to_the_nearest_recorded_ancestor() -> None:
    docs, _ = read_text(TWO_POLICIES, "np.yaml")
    assert docs[0].source("spec", "ingress", 0, "ports", 0, "nope", 3) == SourceRef("np.yaml", 12, 7)


def test_json_file_positions(tmp_path: FsPath) -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"}}, "spec": {}}
    path = write(tmp_path / "pod.json", json.dumps(obj, indent=2))
    docs, diags = read_sources([str(path)])
    assert diags == []
    assert docs[0].data == obj
    assert docs[0].source("metadata", "labels", "app") == SourceRef(str(path), 7, 7)


def test_list_kind_expands_items_with_their_own_positions() -> None:
    text = """\
apiVersion: v1
kind: PodList
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one}
- apiVersion: v1
  kind: Pod
  metadata:
    name: two
"""
    docs, diags = read_text(text, "pods.yaml")
    assert diags == []
    assert [d.data["metadata"]["name"] for d in docs] == ["one", "two"]
    assert docs[1].base == ("items", 1)
    assert docs[1].source() == SourceRef("pods.yaml", 7, 3)
    assert docs[1].source("metadata", "name") == SourceRef("pods.yaml", 10, 5)
    assert docs[0].source_map is docs[1].source_map


def test_list_items_that_are_not_mappings_are_errors() -> None:
    docs, diags = read_text("kind: List\nitems:\n- kind: Pod\n- just text\n", "l.yaml")
    assert len(docs) == 1
    assert diags[0].source == SourceRef("l.yaml", 4, 3)
    assert "found a string (items[1] of a List)" in diags[0].message


def test_merge_keys_are_applied_and_explicit_keys_win() -> None:
    text = """\
base: &base {app: web, tier: front}
extra: &extra {tier: back, zone: a}
kind: Pod
labels:
  <<: [*base, *extra]
  app: api
"""
    docs, diags = read_text(text, "m.yaml")
    assert diags == []
    assert (
        docs[0].data["labels"]
        == yaml.safe_load(text)["labels"]
        == {"app": "api", "tier": "front", "zone": "a"}
    )
    assert docs[0].source("labels", "app") == SourceRef("m.yaml", 6, 3)
    assert docs[0].source("labels", "zone") == SourceRef("m.yaml", 5, 3)


def test_scalars_resolve_like_safe_loader_and_keys_become_strings() -> None:
    text = "kind: X\na: 80\nb: '80'\nc: true\nd: null\ne: 1.5\nf: 2024-01-02\ng: !!str 7\n80: port\non: yes\n"
    docs, _ = read_text(text, "s.yaml")
    data = docs[0].data
    assert data["a"] == 80 and data["b"] == "80" and data["c"] is True and data["d"] is None
    assert data["e"] == 1.5 and data["f"] == datetime.date(2024, 1, 2) and data["g"] == "7"
    assert data["80"] == "port" and data["on"] is True


def test_impossible_dates_stay_strings() -> None:
    docs, diags = read_text("kind: X\nday: 2021-02-30\n", "d.yaml")
    assert diags == [] and docs[0].data["day"] == "2021-02-30"


def test_stdin_is_read_for_dash() -> None:
    docs, diags = read_sources(["-"], stdin=io.StringIO(TWO_POLICIES))
    assert diags == []
    assert [d.file for d in docs] == ["<stdin>", "<stdin>"]
    assert docs[1].source("metadata", "name") == SourceRef("<stdin>", 17, 3)


def test_yaml_text_and_python_objects_are_sources() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    docs, diags = read_sources(["kind: Namespace\nmetadata: {name: n}\n", pod, [pod, "oops"]])
    assert [d.file for d in docs] == ["<string>", "<python>", "<python>"]
    assert docs[1].data is pod and docs[1].source("metadata") == SourceRef("<python>", 0)
    (diag,) = diags
    assert diag.message.startswith("expected a Kubernetes object (a mapping with apiVersion and kind)")
    assert diag.message.endswith(", found a string (item 1 of the list)")


def test_directory_walk_is_sorted_filters_extensions_and_skips_hidden(
    tmp_path: FsPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "policies"
    for name in [
        "b.yaml",
        "a/z.yml",
        "a/y.json",
        "c.YAML",
        "notes.txt",
        ".hidden.yaml",
        ".git/x.yaml",
        "a/.venv/v.yaml",
    ]:
        write(root / name)
    monkeypatch.chdir(tmp_path)
    docs, diags = read_sources(["policies"])
    assert diags == []
    assert [d.file for d in docs] == [
        "policies/a/y.json",
        "policies/a/z.yml",
        "policies/b.yaml",
        "policies/c.YAML",
    ]


def test_explicit_file_is_read_whatever_its_extension(tmp_path: FsPath) -> None:
    path = write(tmp_path / "manifest.txt")
    docs, diags = read_sources([path])
    assert diags == [] and docs[0].file == str(path)


def test_symlinked_directory_loop_is_walked_once(tmp_path: FsPath) -> None:
    write(tmp_path / "tree" / "sub" / "np.yaml")
    os.symlink(tmp_path / "tree", tmp_path / "tree" / "sub" / "loop")
    os.symlink(tmp_path / "tree" / "sub", tmp_path / "tree" / "again")
    os.symlink(tmp_path / "missing.yaml", tmp_path / "tree" / "dangling.yaml")
    docs, diags = read_sources([tmp_path / "tree"])
    assert len(docs) == 1
    assert docs[0].file == str(tmp_path / "tree" / "again" / "np.yaml")
    assert messages(diags) == [
        f"{tmp_path / 'tree' / 'dangling.yaml'}: no such file or directory (broken symbolic link)"
    ]


def test_same_file_given_twice_is_read_once(tmp_path: FsPath) -> None:
    path = write(tmp_path / "d" / "ns.yaml")
    docs, _ = read_sources([str(path), str(tmp_path / "d")])
    assert len(docs) == 1


def test_a_lone_source_is_not_iterated_character_by_character() -> None:
    docs, diags = read_sources("kind: Namespace\n")  # type: ignore[arg-type]
    assert diags == [] and [d.kind for d in docs] == ["Namespace"]


def test_missing_path_is_reported_by_name() -> None:
    docs, diags = read_sources(["no/such/dir"])
    assert docs == []
    assert [str(d) for d in diags] == ["no/such/dir: no such file or directory"]


def test_broken_yaml_reports_line_and_column_and_keeps_earlier_documents() -> None:
    text = "kind: A\n---\nkind: B\n---\nkind: C\nmetadata:\n  name: [unclosed\n---\nkind: D\n"
    docs, diags = read_text(text, "bad.yaml")
    assert [d.kind for d in docs] == ["A", "B"]
    (diag,) = diags
    assert diag.severity is Severity.ERROR
    assert diag.message.startswith("invalid YAML: ") and diag.message.endswith("(expected valid YAML syntax)")
    assert diag.source is not None and diag.source.file == "bad.yaml" and diag.source.line == 8


def test_bad_indentation_points_at_the_offending_line() -> None:
    _, diags = read_text("kind: A\nmetadata:\n  name: x\n   labels: {}\n", "i.yaml")
    assert diags[0].source == SourceRef("i.yaml", 4, 10)


def test_document_level_errors_do_not_stop_the_stream() -> None:
    text = "kind: A\nx: !Ref y\n---\nkind: B\ny: *nowhere\n---\nkind: C\n"
    docs, diags = read_text(text, "t.yaml")
    assert [d.kind for d in docs] == ["C"]
    assert [d.source for d in diags] == [SourceRef("t.yaml", 2, 4), SourceRef("t.yaml", 5, 4)]
    assert "'!Ref'" in diags[0].message and "undefined alias 'nowhere'" in diags[1].message


def test_non_mapping_root_is_an_error() -> None:
    docs, diags = read_text("kind: A\n---\n- a\n- b\n---\njust a string\n---\n# only a comment\n", "r.yaml")
    assert [d.kind for d in docs] == ["A"]
    assert [(str(d.source), d.message.rsplit(", ", 1)[1]) for d in diags] == [
        ("r.yaml:3:1", "found a list"),
        ("r.yaml:6:1", "found a string"),
    ]


def test_binary_file_is_not_text(tmp_path: FsPath) -> None:
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfa")
    docs, diags = read_sources([path])
    assert docs == []
    assert messages(diags) == [
        "not a text file: byte 0x89 is not valid UTF-8 (expected a UTF-8 or UTF-16 YAML or JSON manifest)"
    ]


def test_utf8_bom_and_utf16_files_are_read(tmp_path: FsPath) -> None:
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfkind: A\n")
    wide = tmp_path / "wide.yaml"
    wide.write_bytes("kind: B\n".encode("utf-16"))
    docs, diags = read_sources([bom, wide])
    assert diags == [] and [d.kind for d in docs] == ["A", "B"]


def test_oversized_file_is_rejected(tmp_path: FsPath, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 10)
    path = write(tmp_path / "big.yaml", "kind: ConfigMap\ndata: {}\n")
    docs, diags = read_sources([path])
    assert docs == [] and "larger than" in diags[0].message


def test_alias_bomb_fails_fast_with_a_clear_message() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "kind: ConfigMap\n" + "\n".join(lines) + "\n---\nkind: After\n"
    started = time.perf_counter()
    docs, diags = read_text(text, "lol.yaml")
    assert time.perf_counter() - started < 0.5
    assert [d.kind for d in docs] == ["After"]
    assert messages(diags) == ["document expands to more than 5,000,000 nodes (YAML alias bomb?)"]


def test_merge_key_bomb_fails_fast() -> None:
    lines = ["a0: &a0 {x: 1}"]
    for level in range(1, 12):
        lines.append(f"a{level}: &a{level} {{<<: [" + ", ".join([f"*a{level - 1}"] * 9) + "]}")
    started = time.perf_counter()
    docs, diags = read_text("\n".join(lines) + "\n", "merge.yaml")
    assert time.perf_counter() - started < 0.5
    assert docs == [] and "YAML alias bomb?" in diags[0].message


@pytest.mark.parametrize(
    "text",
    [
        "kind: X\nspec: " + "[" * 200_000 + "]" * 200_000 + "\n",  # crashes the C composer
        "kind: X\nspec:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 1100)) + " " * 1100 + "v: 1\n",
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_an_error_not_a_crash(text: str) -> None:
    started = time.perf_counter()
    docs, diags = read_text("kind: Before\n---\n" + text + "---\nkind: After\n", "deep.yaml")
    assert time.perf_counter() - started < 1
    assert [d.kind for d in docs] == ["Before"]
    assert messages(diags) == [
        "document nests deeper than 1000 levels (expected a Kubernetes object); "
        "the rest of this input is not read"
    ]
    assert diags[0].source is not None and diags[0].source.line > 3


def test_helm_source_comments_set_the_origin() -> None:
    text = """\
# Source: chart/templates/ns.yaml
kind: Namespace
---
# Source: chart/templates/np.yaml
kind: NetworkPolicy
spec:
  note: |
    literal text
# Source: chart/templates/svc.yaml
---
kind: Service
---
kind: Plain
"""
    docs, _ = read_text(text, "helm.yaml")
    assert [(d.kind, d.origin) for d in docs] == [
        ("Namespace", "chart/templates/ns.yaml"),
        ("NetworkPolicy", "chart/templates/np.yaml"),
        ("Service", "chart/templates/svc.yaml"),
        ("Plain", None),
    ]


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)
_KEYS = st.text(alphabet="abcxyz-_.:/ ", min_size=1, max_size=6).filter(lambda k: k != "<<")
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=5), flow=st.booleans())
def test_data_matches_safe_load_and_every_value_has_a_position(data: dict, flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False)
    docs, diags = read_text(text, "h.yaml")
    assert diags == []
    assert docs[0].data == yaml.safe_load(text)

    def paths(value: object, prefix: tuple) -> list[tuple]:
        found = [prefix]
        children = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
        )
        for key, child in children:
            found += paths(child, (*prefix, key))
        return found

    for path in paths(docs[0].data, ()):
        assert path in docs[0].source_map.positions


def test_pure_python_loader_gives_the_same_documents_and_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    text = TWO_POLICIES + "---\nkind: M\nbase: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n"
    fast_docs, _ = read_text(text, "np.yaml")
    monkeypatch.setattr(yamltree, "Loader", yaml.SafeLoader)
    slow_docs, diags = read_text(text, "np.yaml")
    assert diags == []
    assert [d.data for d in slow_docs] == [d.data for d in fast_docs]
    assert [d.source_map.positions for d in slow_docs] == [d.source_map.positions for d in fast_docs]
    _, errors = read_text("a: [1\n", "bad.yaml")
    assert errors[0].message.startswith("invalid YAML: ") and errors[0].source == SourceRef("bad.yaml", 2, 1)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.text(alphabet="-:[]{}&*!|>'\"#<%@`,? \n\tab01~.", max_size=120),
    )
)
def test_any_text_gives_documents_or_diagnostics_never_an_exception(text: str) -> None:
    docs, diags = read_text(text, "fuzz.yaml")
    assert all(isinstance(d.data, dict) for d in docs)
    assert all(d.source is None or d.source.file == "fuzz.yaml" for d in diags)
