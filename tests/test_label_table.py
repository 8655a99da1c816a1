"""Column-wise selector evaluation over many objects equals each selector's own `matches`, object by object."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netverify.compile.labels import LabelTable
from netverify.model.selectors import And, Equals, HasKey, InSet, Not, Or, StringTest

KEYS = ("app", "role", "tier")
VALUES = ("a", "b", "ab", "c", "")

label_sets = st.lists(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3), max_size=12)
leaves = st.one_of(
    st.builds(Equals, st.sampled_from(KEYS), st.sampled_from(VALUES + ("absent-value",))),
    st.builds(InSet, st.sampled_from(KEYS), st.frozensets(st.sampled_from(VALUES + ("zz",)), max_size=3)),
    st.builds(HasKey, st.sampled_from(KEYS + ("other",))),
    st.builds(StringTest, st.sampled_from(KEYS), st.sampled_from(("contains", "starts with", "ends with")),
              st.sampled_from(VALUES)),
)
selectors = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, max_size=3).map(tuple)),
    ),
    max_leaves=6,
)


@settings(max_examples=300)
@given(label_sets, selectors)
def test_label_table_selector_equals_matches_per_object(labels, selector):
    table = LabelTable(labels)
    assert table.evaluate(selector).tolist() == [selector.matches(row) for row in labels]


def test_label_table_equals_and_in_on_a_key_with_a_value_per_object():
    """Every pod its own `app` value: lookups by value, absent values match nothing, absent keys never match."""
    labels = [{"app": f"app-{i}"} for i in range(1000)] + [{}]
    table = LabelTable(labels)
    assert table.evaluate(Equals("app", "app-7")).nonzero()[0].tolist() == [7]
    assert table.evaluate(InSet("app", frozenset({"app-3", "app-999", "nope"}))).nonzero()[0].tolist() == [3, 999]
    assert not table.evaluate(InSet("app", frozenset())).any()
    assert table.evaluate(Not(Equals("app", "app-7"))).sum() == 1000
