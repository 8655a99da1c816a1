"""The line reader for plain block-style YAML (`load/block_yaml.py`) against libyaml's event builder.

StreamBuilder is the definition. The block reader must return exactly what it builds (data, positions,
first and last lines of every document) or decline with None; it must never accept text that libyaml
rejects or reads differently. Generated documents in the subset check that it accepts what it should;
mutated ones (random edits with YAML's significant characters) check that it declines the rest.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.load.block_yaml import read_block_documents
from netverify.load.sources import read_text
from netverify.load.yamltree import DocumentError, StreamBuilder

ROOT = Path(__file__).resolve().parent.parent

PLAIN_KEYS = ["app", "kubernetes.io/metadata.name", "k8s-app", "a_b", "80", "on", "y", "null", "x.y"]
QUOTED_KEYS = ["a b", "a: b", "x#y", "", "- z", "on"]
PLAIN_VALUES = [
    "web",
    "tenant-000",
    "10.0.0.0/8",
    "8080",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    "+1",
    "-1",
    "1e3",
    "1.5",
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "null",
    "Null",
    "true",
    "on",
    "Off",
    "yes",
    "n",
    "2021-02-03",
    "2021-02-30",
    "2001-12-14t21:59:43.10-05:00",
    "a:b",
    "a#b",
    "http://x/y",
    "=",
    "a,b",
    "it's",
    'a"b',
    "--x",
    "---",
    "a b  c",
    "role in {'a', 'b'}",
    'has(x) && y == "z"',
    "a[0]",
    "x]",
    "1:20",
    "190:20:30",
    "<<",
    "a=b",
    "$x",
    "a%b",
    "x ?",
    "1..2",
]
QUOTED_VALUES = ["it''s", "", "a: b", "# not a comment", "80", "true", "it", "[x]", "{}", "- x", "  pad  "]


def _scalar() -> st.SearchStrategy[tuple[str, str]]:
    """A value as written: plain, single- or double-quoted, or an empty flow collection."""
    plain = st.sampled_from(PLAIN_VALUES).map(lambda v: ("plain", v))
    quoted = st.tuples(st.sampled_from(["'", '"']), st.sampled_from(QUOTED_VALUES)).map(lambda q: ("quoted", q))
    empty = st.sampled_from(["{}", "[]"]).map(lambda v: ("plain", v))
    return st.one_of(plain, plain, quoted, empty)


def _key() -> st.SearchStrategy[str]:
    quoted = st.tuples(st.sampled_from(["'", '"']), st.sampled_from(QUOTED_KEYS)).map(lambda q: q[0] + q[1] + q[0])
    return st.one_of(st.sampled_from(PLAIN_KEYS), quoted)


def _tree(depth: int = 3) -> st.SearchStrategy[Any]:
    leaf = _scalar()
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(st.tuples(_key(), children), min_size=1, max_size=4).map(lambda items: ("map", items)),
            st.lists(children, min_size=1, max_size=3).map(lambda items: ("seq", items)),
        ),
        max_leaves=12,
    )


@st.composite
def _style(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "indent": draw(st.sampled_from([2, 4, 3])),
        "indentless": draw(st.booleans()),
        "dash_spaces": draw(st.sampled_from([1, 1, 3])),
        "comments": draw(st.booleans()),
        "blank_lines": draw(st.booleans()),
        "trailing": draw(st.sampled_from(["", "", "  ", "  # note", " #x"])),
    }


def _render_scalar(leaf: tuple[str, Any], trailing: str) -> str:
    kind, value = leaf
    if kind == "plain":
        return value + trailing
    quote, inner = value
    return f"{quote}{inner}{quote}{trailing}"


def _render(node: Any, style: dict[str, Any], indent: int, lines: list[str]) -> None:
    """Append the block lines of a mapping or list whose entries sit at `indent`."""
    kind, items = node
    pad = " " * indent
    for position, item in enumerate(items):
        if style["comments"] and position == 1:
            lines.append(f"{' ' * max(indent - 1, 0)}# a comment line")
        if style["blank_lines"] and position == 2:
            lines.append("")
        if kind == "map":
            key, value = item
            if value[0] in ("map", "seq"):
                lines.append(f"{pad}{key}:")
                if value[0] == "seq" and style["indentless"]:
                    _render(value, style, indent, lines)
                else:
                    _render(value, style, indent + style["indent"], lines)
            else:
                lines.append(f"{pad}{key}: {_render_scalar(value, style['trailing'])}")
        else:
            dash = "-" + " " * style["dash_spaces"]
            if item[0] == "map":
                inner: list[str] = []
                _render(item, style, indent + len(dash), inner)
                lines.append(f"{pad}{dash}{inner[0][indent + len(dash) :]}")  # the first entry joins the dash
                lines.extend(inner[1:])
            elif item[0] == "seq":  # a list inside a list: the subset wants it under a key
                lines.append(f"{pad}{dash}nested:")
                _render(item, style, indent + len(dash) + style["indent"], lines)
            else:
                lines.append(f"{pad}{dash}{_render_scalar(item, style['trailing'])}")


@st.composite
def _stream(draw: st.DrawFn) -> str:
    """One or more documents in the subset: a mapping at the root of each, `---` between them."""
    documents = draw(st.lists(st.lists(st.tuples(_key(), _tree()), min_size=1, max_size=4), min_size=1, max_size=3))
    style = draw(_style())
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("---")
    for number, entries in enumerate(documents):
        if number:
            lines.append("---")
        _render(("map", entries), style, draw(st.sampled_from([0, 0, 2])), lines)
    ending = draw(st.sampled_from(["\n", "\n", "", "\n---\n", "\n# end\n\n", "\n---\n---\n"]))
    return "\n".join(lines) + ending


def _libyaml(text: str) -> list[Any] | None:
    """What StreamBuilder builds, as comparable tuples; None when it reports any problem."""
    builder = StreamBuilder(text)
    try:
        built = list(builder.documents())
    except yaml.YAMLError:
        return None
    finally:
        builder.close()
    if any(isinstance(b, DocumentError) for b in built):
        return None
    return [(b.data, b.positions, b.start_line, b.end_line, b.tags) for b in built]


def _block(text: str) -> list[Any] | None:
    built = read_block_documents(text)
    if built is None:
        return None
    return [(b.data, b.positions, b.start_line, b.end_line, b.tags) for b in built]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_stream())
def test_block_reader_builds_what_libyaml_builds(text: str) -> None:
    expected = _libyaml(text)
    got = _block(text)
    assert got is not None, f"the subset text was declined:\n{text}"
    assert got == expected


_EDITS = [
    " ",
    "  ",
    "-",
    "- ",
    ":",
    ": ",
    "#",
    " #",
    '"',
    "'",
    "\n",
    "{",
    "[",
    "]",
    "}",
    "a",
    "0",
    "|",
    ">",
    "&a ",
    "*a",
    "!x ",
    "? ",
    "\t",
    ".",
    "...",
    "---",
    "%",
    "\\",
    ",",
    "\r",
    "é",
    "~",
    "<<: ",
]


def _value_starts(text: str) -> list[int]:
    """Where lines, keys and values begin: the places where one character changes the most."""
    starts = [0]
    for index in range(len(text) - 1):
        if text[index] == "\n":
            starts.append(index + 1)
        elif text[index] in ":-" and text[index + 1] == " ":
            starts.append(index + 2)
    return starts


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _stream(),
    st.lists(
        st.tuples(
            st.booleans(),
            st.integers(0, 10_000),
            st.sampled_from(["insert", "delete", "replace"]),
            st.sampled_from(_EDITS),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_block_reader_accepts_only_what_libyaml_reads_the_same(
    text: str, edits: list[tuple[bool, int, str, str]]
) -> None:
    for at_start, where, how, what in edits:
        starts = _value_starts(text) if at_start else range(len(text) + 1)
        at = starts[where % len(starts)]
        if how == "insert":
            text = text[:at] + what + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + len(what) :]
        else:
            text = text[:at] + what + text[at + 1 :]
    got = _block(text)
    if got is not None:
        assert got == _libyaml(text), f"accepted, but libyaml reads it otherwise:\n{text!r}"


_TEMPLATES = [
    "a: {c}\n",
    "a: {c}x\n",
    "a: x{c}\n",
    "a: x{c}y\n",
    "a: x {c}y\n",
    "a: 'x'{c}\n",
    "a: {{}}{c}\n",
    "k:\n- {c}\n",
    "k:\n- {c}x\n",
    "k:\n-{c}x\n",
    "{c}: 1\n",
    "a{c}: 1\n",
    "{c}a: 1\n",
    "a:{c}1\n",
    "a: 1\n{c}\n",
    "a: 1\n {c}\n",
    "a:\n  b: 1\n {c}c: 2\n",
    "{c}\na: 1\n",
    "a: 1\n{c}--\n",
    "a: 'x''{c}'\n",
    "a: 'x'{c}'y'\n",
]


@pytest.mark.parametrize("template", _TEMPLATES)
def test_block_reader_never_reads_a_character_differently(template: str) -> None:
    """Every ASCII character (and a few beyond) in every place that matters in a line, one at a time:
    what the reader accepts, libyaml reads the same."""
    for code in [*range(0, 128), 0xA0, 0xE9, 0xFEFF, 0x2028]:
        text = template.format(c=chr(code))
        got = _block(text)
        if got is not None:
            assert got == _libyaml(text), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: [x, y]\n",  # flow collections
        "a: {b: 1}\n",
        "a: |\n  text\n",  # block scalars
        "a: >\n  text\n",
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !Ref x\n",  # tags
        "a: b\n  c\n",  # a plain scalar continued on the next line
        'a: "x\\ny"\n',
        "a:\nb: 1\n",  # a key without a value
        "a:\tb\n",  # tabs
        "a: 1\r\n",  # CR
        "a: caf\u00e9\n",  # beyond ASCII
        "- a\n- b\n",  # a list at the root
        "just text\n",
        "a: 1\n...\n",  # document end marker
        "%YAML 1.1\n---\na: 1\n",  # directive
        "<<: {a: 1}\n",  # merge key
        "? a\n: b\n",  # complex key
        "a:\n- - x\n",  # a list inside a list on one line
        "a: 1\n---",  # a stream ending on `---`
    ],
)
def test_block_reader_declines_what_lies_outside_the_subset(text: str) -> None:
    assert read_block_documents(text) is None


def test_block_reader_reads_indentless_lists_and_list_item_mappings() -> None:
    text = (
        "spec:\n  ingress:\n  - from:\n    - podSelector: {}\n    ports:\n    - port: 80\n  policyTypes:\n  - Ingress\n"
    )
    assert _block(text) == _libyaml(text)
    assert _block(text)[0][0] == {
        "spec": {"ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}], "policyTypes": ["Ingress"]}
    }


def test_block_reader_resolves_plain_scalars_like_safeloader() -> None:
    text = "a: on\nb: 0x1F\nc: 2021-02-30\nd: ~\ne: '80'\nf: 1e3\n80: x\n"
    data = _block(text)[0][0]
    assert data == {"a": True, "b": 31, "c": "2021-02-30", "d": None, "e": "80", "f": "1e3", "80": "x"}
    assert _block(text) == _libyaml(text)


def test_block_reader_places_empty_documents_where_libyaml_does() -> None:
    for text in ("---\n", "a: 1\n---\n", "---\n---\na: 1\n", "# c\n---\n# only a comment\n---\nb: 2\n"):
        assert _block(text) == _libyaml(text), text


def _yaml_files() -> list[Path]:
    found = [p for folder in ("fixtures", "policies") for p in sorted((ROOT / folder).rglob("*.y*ml"))]
    return [p for p in found if p.is_file()]


def test_block_reader_agrees_on_every_bundled_manifest() -> None:
    accepted = 0
    for path in _yaml_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        got = _block(text)
        if got is not None:
            accepted += 1
            assert got == _libyaml(text), path
    assert accepted >= 10, "the subset should cover most of the bundled manifests"


def test_read_text_gives_the_same_documents_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader plugs into read_text: documents, positions and diagnostics as with libyaml alone."""
    block_yaml = importlib.import_module("netverify.load.block_yaml")  # `netverify.load` is also a function

    for path in _yaml_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        fast_docs, fast_diags = read_text(text, str(path))
        with monkeypatch.context() as patch:
            patch.setattr(block_yaml, "read_block_documents", lambda _text: None)
            slow_docs, slow_diags = read_text(text, str(path))
        assert [(d.data, d.source_map, d.base, d.origin) for d in fast_docs] == [
            (d.data, d.source_map, d.base, d.origin) for d in slow_docs
        ], path
        assert [str(d) for d in fast_diags] == [str(d) for d in slow_diags], path
