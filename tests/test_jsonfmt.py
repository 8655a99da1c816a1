"""The readable JSON printer: one pass, but byte for byte what the plain recursive definition prints."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from netverify.report import jsonfmt


def reference_dumps(value, indent: int = 2, level: int = 0) -> str:
    """The definition: a value fits on one line when its compact form (plus indentation) is short enough."""
    compact = json.dumps(value, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or len(compact) + indent * level <= jsonfmt.INLINE_WIDTH:
        return compact
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {reference_dumps(v, indent, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    return "[\n" + ",\n".join(f"{inner}{reference_dumps(v, indent, level + 1)}" for v in value) + f"\n{pad}]"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=8),
        st.dictionaries(st.text(max_size=12), inner, max_size=6),
        st.dictionaries(st.integers(0, 99), inner, max_size=3),
        st.tuples(inner, inner),
    ),
    max_leaves=40,
)


@settings(max_examples=200)
@given(documents)
def test_readable_json_equals_its_recursive_definition(document):
    assert jsonfmt.dumps(document) == reference_dumps(document)


def test_readable_json_breaks_long_values_and_keeps_short_ones_inline():
    document = {"endpoints": [{"id": f"tenant-{i:03d}/web", "kind": "Deployment"} for i in range(3)], "ok": True}
    text = jsonfmt.dumps(document)
    assert text == reference_dumps(document)
    assert '  "endpoints": [\n    {"id": "tenant-000/web", "kind": "Deployment"},' in text


def test_readable_json_lays_out_repeated_subtrees_per_level():
    """A broken container is remembered by its one-line text and level: the same one deeper in the document
    must still be indented for where it sits."""
    reason = {"kind": "contract", "justification": "x" * 60, "file": "contract.yaml", "line": 10}
    violation = {"src": "a/b", "dst": "c/d", "suppressions": [reason, reason]}
    document = {"suppressed": [violation, violation], "nested": {"deeper": [violation, {"again": [violation]}]}}
    assert jsonfmt.dumps(document) == reference_dumps(document)
    big = {"items": [dict(violation, src=f"ns/{i}") for i in range(200)]}
    assert jsonfmt.dumps(big) == reference_dumps(big)


def pre_encoded(value):
    """The same document with every mapping carrying its one-line text, as a report assembles them."""
    if isinstance(value, dict):
        inner = {k: pre_encoded(v) for k, v in value.items()}
        return jsonfmt.Encoded(inner, jsonfmt.dumps_compact(value))
    if isinstance(value, list):
        return [pre_encoded(v) for v in value]
    return value


@settings(max_examples=200)
@given(documents)
def test_pre_encoded_mappings_print_like_plain_ones(document):
    assert jsonfmt.dumps(pre_encoded(document)) == reference_dumps(document)


def test_pre_encoded_entries_too_long_for_a_line_are_broken():
    entry = {"src": "a" * 60, "dst": "b" * 60, "conn": {"TCP": [[80, 80]]}}
    document = {"connections": [pre_encoded(entry), pre_encoded({"src": "x", "dst": "y", "conn": "all"})]}
    assert jsonfmt.dumps(document) == reference_dumps({"connections": [entry, {"src": "x", "dst": "y", "conn": "all"}]})
