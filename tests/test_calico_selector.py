"""Tests for the Calico selector parser and formatter (`netverify.load.calico_selector`).

Semantics are checked by evaluating trees on label dictionaries rather than only comparing tree shapes,
because what the verifier relies on is which endpoints a selector matches.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.load.calico_selector import (
    MAX_LABEL_LENGTH,
    MAX_NESTING,
    CalicoSelectorError,
    format_calico_selector,
    parse_calico_selector,
)
from netverify.model.selectors import (
    And,
    Equals,
    HasKey,
    InSet,
    MatchAll,
    MatchGlobal,
    Not,
    Or,
    Selector,
    StringTest,
    not_equals,
    not_in,
)

parse = parse_calico_selector


def agrees(
    sel: Selector, reference: Callable[[Mapping[str, str]], bool], dicts: list[dict[str, str]]
) -> None:
    """Assert that `sel` matches exactly the label dicts the reference predicate accepts."""
    for labels in dicts:
        assert sel.matches(labels) == reference(labels), labels


K_DICTS: list[dict[str, str]] = [{}, {"k": "v"}, {"k": "w"}, {"k": ""}, {"other": "v"}, {"k": "v", "o": "x"}]


# ------------------------------------------------------------------------------------- empty and all()


@pytest.mark.parametrize("text", ["", " ", "\t \t", "\n"])
def test_empty_or_whitespace_selector_matches_everything(text: str) -> None:
    assert parse(text) == MatchAll()


def test_all_matches_everything() -> None:
    assert parse("all()") == MatchAll()
    assert parse("all(  )") == MatchAll()
    agrees(parse("all()"), lambda labels: True, K_DICTS)


def test_not_all_matches_nothing() -> None:
    sel = parse("!all()")
    assert sel == Not(MatchAll())
    agrees(sel, lambda labels: False, K_DICTS)


def test_global_parses_to_match_global() -> None:
    assert parse("global()") == MatchGlobal()
    assert parse("global( )") == MatchGlobal()


# ------------------------------------------------------------------------------------------- operators


def test_equals_requires_label_with_that_value() -> None:
    sel = parse("k == 'v'")
    assert sel == Equals("k", "v")
    agrees(sel, lambda labels: labels.get("k") == "v", K_DICTS)


def test_not_equals_matches_when_label_absent() -> None:
    sel = parse("k != 'v'")
    assert sel == not_equals("k", "v")
    assert sel.matches({}) and sel.matches({"other": "v"})
    agrees(sel, lambda labels: labels.get("k") != "v", K_DICTS)


def test_has_requires_label_presence() -> None:
    sel = parse("has(k)")
    assert sel == HasKey("k")
    assert parse("has(  k\t)") == HasKey("k")
    agrees(sel, lambda labels: "k" in labels, K_DICTS)


def test_not_has_matches_when_label_absent() -> None:
    sel = parse("!has(k)")
    assert sel == Not(HasKey("k"))
    agrees(sel, lambda labels: "k" not in labels, K_DICTS)


def test_in_requires_label_with_value_in_set() -> None:
    sel = parse("k in {'v', \"x\"}")
    assert sel == InSet("k", frozenset({"v", "x"}))
    agrees(sel, lambda labels: labels.get("k") in {"v", "x"}, K_DICTS)


def test_in_empty_set_matches_nothing() -> None:
    sel = parse("k in {}")
    assert sel == InSet("k", frozenset())
    agrees(sel, lambda labels: False, K_DICTS)


def test_not_in_matches_when_label_absent() -> None:
    sel = parse("k not in {'v'}")
    assert sel == not_in("k", frozenset({"v"}))
    assert sel.matches({})
    agrees(sel, lambda labels: labels.get("k") != "v", K_DICTS)


def test_not_in_empty_set_matches_everything() -> None:
    agrees(parse("k not in {}"), lambda labels: True, K_DICTS)


def test_set_allows_one_trailing_comma() -> None:
    assert parse("k in {'a', 'b',}") == InSet("k", frozenset({"a", "b"}))


def test_set_duplicates_collapse() -> None:
    assert parse("k in {'a', 'a'}") == InSet("k", frozenset({"a"}))


def test_contains_requires_label_presence() -> None:
    sel = parse("k contains 'e'")
    assert sel == StringTest("k", "contains", "e")
    assert not parse("k contains ''").matches({})
    assert parse("k contains ''").matches({"k": ""})
    agrees(sel, lambda labels: "e" in labels.get("k", ""), [{}, {"k": "here"}, {"k": "x"}])


def test_starts_with_requires_label_presence() -> None:
    sel = parse("k starts with 'pr'")
    assert sel == StringTest("k", "starts with", "pr")
    agrees(sel, lambda labels: labels.get("k", "").startswith("pr"), [{}, {"k": "prod"}, {"k": "xpr"}])


def test_ends_with_requires_label_presence() -> None:
    sel = parse("k ends with 'od'")
    assert sel == StringTest("k", "ends with", "od")
    agrees(sel, lambda labels: labels.get("k", "").endswith("od"), [{}, {"k": "prod"}, {"k": "odd"}])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k not  in {}", not_in("k", frozenset())),
        ("k not\tin {}", not_in("k", frozenset())),
        ("k notin{}", not_in("k", frozenset())),
        ("k starts\nwith 'a'", StringTest("k", "starts with", "a")),
        ("k startswith'a'", StringTest("k", "starts with", "a")),
        ('k ends   with "a"', StringTest("k", "ends with", "a")),
    ],
)
def test_two_word_keywords_allow_any_whitespace_between_words(text: str, expected: Selector) -> None:
    assert parse(text) == expected


def test_single_and_double_quotes_are_equivalent() -> None:
    assert parse("k == 'v'") == parse('k == "v"')


def test_quotes_may_contain_the_other_quote_character() -> None:
    assert parse('k == "it\'s"') == Equals("k", "it's")
    assert parse("k == 'say \"hi\"'") == Equals("k", 'say "hi"')


def test_no_whitespace_is_needed_around_symbols() -> None:
    expected = Or((And((Equals("a", "1"), not_equals("b", "2"))), InSet("c", frozenset({"3"}))))
    assert parse("a=='1'&&b!='2'||c in{'3'}") == expected


def test_newlines_count_as_whitespace() -> None:
    assert parse("a == '1'\n&&\nhas(b)\n") == And((Equals("a", "1"), HasKey("b")))


@pytest.mark.parametrize(
    "key", ["projectcalico.org/namespace", "k8s-app", "app.kubernetes.io/name", "_x", "9"]
)
def test_label_keys_allow_dots_slashes_dashes_and_underscores(key: str) -> None:
    assert parse(f"{key} == 'v'") == Equals(key, "v")
    assert parse(f"has({key})") == HasKey(key)


def test_label_key_of_512_characters_is_accepted() -> None:
    key = "a" * MAX_LABEL_LENGTH
    assert parse(f"{key} == 'v'") == Equals(key, "v")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in == 'x'", Equals("in", "x")),
        ("not in {'a'}", InSet("not", frozenset({"a"}))),
        ("has == 'x'", Equals("has", "x")),
        ("all != 'x'", not_equals("all", "x")),
        ("global in {}", InSet("global", frozenset())),
        ("contains contains 'contains'", StringTest("contains", "contains", "contains")),
    ],
)
def test_keywords_are_ordinary_labels_in_label_position(text: str, expected: Selector) -> None:
    assert parse(text) == expected


# ------------------------------------------------------------------------------------------ precedence


def test_match_operators_bind_tighter_than_not() -> None:
    assert parse("!k == 'v'") == Not(Equals("k", "v"))
    assert parse("!k in {'v'}") == not_in("k", frozenset({"v"}))


def test_not_binds_tighter_than_and() -> None:
    assert parse("!has(a) && has(b)") == And((Not(HasKey("a")), HasKey("b")))


def test_and_binds_tighter_than_or() -> None:
    a, b, c = HasKey("a"), HasKey("b"), HasKey("c")
    assert parse("has(a) || has(b) && has(c)") == Or((a, And((b, c))))
    assert parse("has(a) && has(b) || has(c)") == Or((And((a, b)), c))


def test_parentheses_override_precedence() -> None:
    a, b, c = HasKey("a"), HasKey("b"), HasKey("c")
    assert parse("(has(a) || has(b)) && has(c)") == And((Or((a, b)), c))
    assert parse("!(has(a) && has(b))") == Not(And((a, b)))


def test_double_negation_collapses() -> None:
    assert parse("!!has(a)") == HasKey("a")
    assert parse("! ! ! has(a)") == Not(HasKey("a"))
    assert parse("!!!!k != 'v'") == not_equals("k", "v")


def test_negation_of_parenthesised_negation_collapses() -> None:
    assert parse("!(!has(a))") == HasKey("a")
    assert parse("!(k != 'v')") == Equals("k", "v")


def test_and_chains_are_flattened_through_parentheses() -> None:
    a, b, c = HasKey("a"), HasKey("b"), HasKey("c")
    assert parse("has(a) && has(b) && has(c)") == And((a, b, c))
    assert parse("(has(a) && has(b)) && has(c)") == And((a, b, c))


def test_or_chains_are_flattened_through_parentheses() -> None:
    a, b, c = HasKey("a"), HasKey("b"), HasKey("c")
    assert parse("has(a) || (has(b) || has(c))") == Or((a, b, c))


def test_redundant_parentheses_do_not_change_the_tree() -> None:
    assert parse("((k == 'v'))") == Equals("k", "v")


DOC_EXAMPLE = "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}"
# The docs print this "equivalent" form with two closing parentheses missing; this is it balanced.
DOC_EXPLICIT = "((!(has(my-label))) || ((my-label starts with 'prod') && (role in {'frontend','business'})))"
DOC_EXPLICIT_AS_PRINTED = (
    "((!(has(my-label)) || ((my-label starts with 'prod') && (role in {'frontend','business'}))"
)


def test_doc_precedence_example_matches_its_parenthesised_form() -> None:
    def reference(labels: Mapping[str, str]) -> bool:
        label = labels.get("my-label")
        role = labels.get("role")
        return label is None or (label.startswith("prod") and role in {"frontend", "business"})

    dicts: list[dict[str, str]] = []
    for label, role in itertools.product(
        [None, "prod", "production", "xprod", "", "Prod"], [None, "frontend", "business", "backend", ""]
    ):
        labels = {k: v for k, v in (("my-label", label), ("role", role)) if v is not None}
        dicts.append(labels)
        dicts.append({**labels, "unrelated": "prod"})
    implicit, explicit = parse(DOC_EXAMPLE), parse(DOC_EXPLICIT)
    agrees(implicit, reference, dicts)
    agrees(explicit, reference, dicts)
    assert implicit == explicit


def test_doc_parenthesised_form_as_printed_is_unbalanced() -> None:
    with pytest.raises(CalicoSelectorError) as info:
        parse(DOC_EXPLICIT_AS_PRINTED)
    assert info.value.column == len(DOC_EXPLICIT_AS_PRINTED) + 1
    assert "expected ')'" in info.value.message


# ---------------------------------------------------------------------------------------------- errors


def test_error_message_format() -> None:
    with pytest.raises(CalicoSelectorError) as info:
        parse("k8s-app == foo")
    assert str(info.value) == "column 12: expected a quoted string after '==', found 'foo'"
    assert info.value.column == 12
    assert info.value.message == "expected a quoted string after '==', found 'foo'"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("k == 'abc", 6, "unterminated string"),
        ("k == \"abc'", 6, "unterminated string"),
        ("k = 'v'", 3, "unknown operator '='"),
        ("k <> 'v'", 3, "expected an operator"),
        ("a == 'b' & c == 'd'", 10, "unknown operator '&'"),
        ("a == 'b' | c == 'd'", 10, "unknown operator '|'"),
        ("(a == 'b' || has(c)", 20, "expected ')' to close the '(' at column 1"),
        ("a == 'b' c == 'd'", 10, "expected '&&', '||' or the end"),
        ("a == 'b')", 9, "unmatched ')'"),
        ("k in {'a',,'b'}", 11, "empty set element"),
        ("k in {,'a'}", 7, "empty set element"),
        ("k in {'a' 'b'}", 11, "expected ',' or '}'"),
        ("k in {'a'", 10, "expected ',' or '}'"),
        ("k in 'a'", 6, "expected '{'"),
        ("k not in ('a')", 10, "expected '{'"),
        ("x" * (MAX_LABEL_LENGTH + 1) + " == 'v'", 1, "at most 512"),
        ("has(" + "x" * (MAX_LABEL_LENGTH + 1) + ")", 5, "at most 512"),
        ("k$ey == 'v'", 2, "not allowed in a label"),
        ("has(k", 6, "expected ')' to close the 'has('"),
        ("has()", 5, "expected a label inside has()"),
        ("has (k)", 5, "no space"),
        ("all(x)", 5, "all() takes no arguments"),
        ("a == 'b' &&", 12, "expected a selector after '&&'"),
        ("a == 'b' || ", 13, "expected a selector after '||'"),
        ("()", 2, "expected a selector after '('"),
        ("!", 2, "expected a selector after '!'"),
        ("!= 'a'", 1, "found '!='"),
        ("k", 2, "expected an operator"),
        ("k inx {'a'}", 3, "expected an operator"),
        ("k contains x", 12, "expected a quoted string after 'contains'"),
        ("k starts 'x'", 3, "expected an operator"),
    ],
)
def test_syntax_errors_point_at_the_offending_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(CalicoSelectorError) as info:
        parse(text)
    assert info.value.column == column, str(info.value)
    assert fragment in info.value.message, str(info.value)
    assert str(info.value) == f"column {column}: {info.value.message}"


def test_deep_nesting_is_accepted_up_to_the_limit() -> None:
    text = "(" * MAX_NESTING + "has(a)" + ")" * MAX_NESTING
    assert parse(text) == HasKey("a")
    assert parse("!" * 5000 + "has(a)") == HasKey("a")


def test_nesting_beyond_the_limit_is_a_selector_error_not_a_recursion_error() -> None:
    with pytest.raises(CalicoSelectorError) as info:
        parse("(" * 5000)
    assert info.value.column == MAX_NESTING + 1
    assert "nested more than" in info.value.message


# ------------------------------------------------------------------------------------------ formatting


@pytest.mark.parametrize(
    ("sel", "text"),
    [
        (MatchAll(), "all()"),
        (Not(MatchAll()), "!all()"),
        (MatchGlobal(), "global()"),
        (not_equals("k", "v"), "k != 'v'"),
        (not_in("k", frozenset({"b", "a"})), "k not in {'a', 'b'}"),
        (Not(HasKey("k")), "!has(k)"),
        (Not(StringTest("k", "contains", "x")), "!(k contains 'x')"),
        (Equals("k", "it's"), 'k == "it\'s"'),
        (Or((HasKey("a"), And((HasKey("b"), HasKey("c"))))), "has(a) || (has(b) && has(c))"),
        (And((Or((HasKey("a"), HasKey("b"))), HasKey("c"))), "(has(a) || has(b)) && has(c)"),
        (Not(Or((HasKey("a"), HasKey("b")))), "!(has(a) || has(b))"),
        (And(()), "all()"),
        (Or(()), "!all()"),
        (And((HasKey("a"),)), "has(a)"),
    ],
)
def test_format_writes_canonical_calico_syntax(sel: Selector, text: str) -> None:
    assert format_calico_selector(sel) == text


@pytest.mark.parametrize(
    "text",
    [
        DOC_EXAMPLE,
        "",
        "!all()",
        "(a == '1' || b != '2') && !(c in {} || d not in {'x', \"y'\"})",
        "!(k starts with 'a') && global() && all()",
        "!(has(a) && !has(b)) || has(c) && (has(d) || has(e))",
    ],
)
def test_format_round_trips_parsed_selectors(text: str) -> None:
    parsed = parse(text)
    assert parse(format_calico_selector(parsed)) == parsed


def test_format_rejects_values_with_both_quote_characters() -> None:
    with pytest.raises(ValueError, match="both quote"):
        format_calico_selector(Equals("k", "'\""))


def test_format_rejects_keys_calico_cannot_write() -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        format_calico_selector(HasKey("bad key"))


# ---------------------------------------------------------------------------------- property-based tests

KEYS = ["a", "b", "k8s-app", "projectcalico.org/namespace", "in", "not", "has", "all", "global", "x_1"]
VALUES = st.one_of(
    st.sampled_from(["", "x", "prod", "prod-1", "a b", "it's", 'say "hi"']),
    st.text(alphabet="ab '\"", max_size=3).filter(lambda v: not ("'" in v and '"' in v)),
)
STRING_OPS = ["contains", "starts with", "ends with"]

leaves = st.one_of(
    st.just(MatchAll()),
    st.just(MatchGlobal()),
    st.builds(HasKey, st.sampled_from(KEYS)),
    st.builds(Equals, st.sampled_from(KEYS), VALUES),
    st.builds(not_equals, st.sampled_from(KEYS), VALUES),
    st.builds(InSet, st.sampled_from(KEYS), st.frozensets(VALUES, max_size=3)),
    st.builds(not_in, st.sampled_from(KEYS), st.frozensets(VALUES, max_size=3)),
    st.builds(StringTest, st.sampled_from(KEYS), st.sampled_from(STRING_OPS), VALUES),
)


def _extend(children: st.SearchStrategy[Selector]) -> st.SearchStrategy[Selector]:
    return st.one_of(
        st.builds(Not, children),
        st.builds(And, st.lists(children, max_size=4).map(tuple)),
        st.builds(Or, st.lists(children, max_size=4).map(tuple)),
    )


trees = st.recursive(leaves, _extend, max_leaves=10)
label_dicts = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5)

# Rendering contexts, loosest to tightest.
OR_LEVEL, AND_LEVEL, UNARY_LEVEL = 0, 1, 2


class RandomRenderer:
    """Writes a tree as Calico text with random (but valid) spacing, quoting, parentheses and negations."""

    def __init__(self, data: st.DataObject) -> None:
        self.draw = data.draw

    def ws(self) -> str:
        return self.draw(st.sampled_from(["", "", " ", "  ", "\t", "\n", " \t "]))

    def ws1(self) -> str:
        return self.draw(st.sampled_from([" ", "  ", "\t", "\n", " \t "]))

    def chance(self) -> bool:
        return self.draw(st.integers(0, 4)) == 0

    def string(self, value: str) -> str:
        quotes = [q for q in ("'", '"') if q not in value]
        quote = self.draw(st.sampled_from(quotes))
        return f"{quote}{value}{quote}"

    def keyword(self, op: str) -> str:
        first, _, second = op.partition(" ")
        return first + (self.ws() + second if second else "")

    def set_literal(self, values: frozenset[str]) -> str:
        items = self.draw(st.permutations(sorted(values)))
        if items and self.chance():
            items = [*items, items[0]]  # duplicates are allowed and collapse
        parts = [self.ws() + self.string(v) + self.ws() for v in items]
        trailing = "," if parts and self.chance() else ""
        return "{" + self.ws() + ",".join(parts) + trailing + self.ws() + "}"

    def render(self, sel: Selector, level: int = OR_LEVEL) -> str:
        text, text_level = self._render(sel, level)
        if text_level < level or self.chance():
            text = "(" + self.ws() + text + self.ws() + ")"
        elif self.chance():
            text = "!" + self.ws() + "!" + self.ws() + text if text_level == UNARY_LEVEL else text
        return text

    def _render(self, sel: Selector, level: int) -> tuple[str, int]:
        """Text for `sel` and the loosest context it can stand in without parentheses."""
        if isinstance(sel, MatchAll):
            return "all(" + self.ws() + ")", UNARY_LEVEL
        if isinstance(sel, MatchGlobal):
            return "global(" + self.ws() + ")", UNARY_LEVEL
        if isinstance(sel, HasKey):
            return "has(" + self.ws() + sel.key + self.ws() + ")", UNARY_LEVEL
        if isinstance(sel, Equals):
            return sel.key + self.ws() + "==" + self.ws() + self.string(sel.value), UNARY_LEVEL
        if isinstance(sel, InSet):
            return sel.key + self.ws1() + "in" + self.ws() + self.set_literal(sel.values), UNARY_LEVEL
        if isinstance(sel, StringTest):
            return sel.key + self.ws1() + self.keyword(sel.op) + self.ws() + self.string(
                sel.value
            ), UNARY_LEVEL
        if isinstance(sel, Not):
            inner = sel.operand
            if isinstance(inner, Equals) and self.draw(st.booleans()):
                return inner.key + self.ws() + "!=" + self.ws() + self.string(inner.value), UNARY_LEVEL
            if isinstance(inner, InSet) and self.draw(st.booleans()):
                op = self.keyword("not in")
                return inner.key + self.ws1() + op + self.ws() + self.set_literal(inner.values), UNARY_LEVEL
            return "!" + self.ws() + self.render(inner, UNARY_LEVEL), UNARY_LEVEL
        if isinstance(sel, And | Or):
            if not sel.operands:
                return ("all()", UNARY_LEVEL) if isinstance(sel, And) else ("!all()", UNARY_LEVEL)
            if len(sel.operands) == 1:
                return self.render(sel.operands[0], level), level
            if isinstance(sel, And):
                parts = [self.render(op, AND_LEVEL) for op in sel.operands]
                return (self.ws() + "&&" + self.ws()).join(parts), AND_LEVEL
            parts = [self.render(op, OR_LEVEL) for op in sel.operands]
            return (self.ws() + "||" + self.ws()).join(parts), OR_LEVEL
        raise TypeError(sel)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, dicts=st.lists(label_dicts, min_size=10, max_size=25), data=st.data())
def test_random_renderings_parse_to_equivalent_selectors(
    tree: Selector, dicts: list[dict[str, str]], data: st.DataObject
) -> None:
    renderer = RandomRenderer(data)
    text = renderer.ws() + renderer.render(tree) + renderer.ws()
    parsed = parse(text)
    canonical = format_calico_selector(tree)
    reparsed = parse(canonical)
    for labels in dicts:
        expected = tree.matches(labels)
        assert parsed.matches(labels) == expected, (text, labels)
        assert reparsed.matches(labels) == expected, (canonical, labels)
    assert parse(format_calico_selector(parsed)) == parsed


GRAMMAR_ALPHABET = list(" \t\n!=&|(){},'\"abkinotsw_-./$:") + ["has(", "all(", "global(", " in ", " not in "]


def _check_only_selector_errors(text: str) -> None:
    try:
        result = parse(text)
    except CalicoSelectorError as err:
        assert 1 <= err.column <= len(text) + 1
        assert str(err) == f"column {err.column}: {err.message}"
    else:
        assert isinstance(result, Selector)
        assert parse(format_calico_selector(result)) == result


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(GRAMMAR_ALPHABET), max_size=30).map("".join)))
def test_garbage_raises_only_calico_selector_errors(text: str) -> None:
    _check_only_selector_errors(text)


@settings(max_examples=300, deadline=None)
@given(tree=trees, data=st.data())
def test_mutated_selectors_raise_only_calico_selector_errors(tree: Selector, data: st.DataObject) -> None:
    text = RandomRenderer(data).render(tree)
    index = data.draw(st.integers(0, len(text)))
    action = data.draw(st.sampled_from(["delete", "insert", "truncate"]))
    if action == "delete":
        text = text[:index] + text[index + 1 :]
    elif action == "insert":
        text = text[:index] + data.draw(st.sampled_from(GRAMMAR_ALPHABET)) + text[index:]
    else:
        text = text[:index]
    _check_only_selector_errors(text)
