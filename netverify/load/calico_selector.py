"""Calico selector expressions: parse them into the shared selector tree and write trees back out.

Calico policies select endpoints with a small expression language (`k == 'v' && has(role)`, ...). Every
policy kind in netverify compiles into one expression tree (`netverify.model.selectors`), so this module is
the single place where Calico's text form enters the model. The parser is hand-written recursive descent
rather than a tokenizer-then-parser pair because Calico's lexing is context-sensitive (after a label, `in`
is an operator; elsewhere it is a label) and because reading characters directly lets every error point at
the exact column the user has to fix.

Grammar (following Calico's own tokenizer and parser, `libcalico-go/lib/selector`):

    selector := <empty> | or
    or       := and ('||' and)*
    and      := unary ('&&' unary)*
    unary    := '!'* primary                       leading '!'s collapse by parity
    primary  := '(' or ')' | 'has(' label ')' | 'all(' ')' | 'global(' ')'
              | label ('==' | '!=' | 'contains' | 'starts' 'with' | 'ends' 'with') string
              | label ('in' | 'not' 'in') '{' [string (',' string)* [',']] '}'
    label    := [a-zA-Z0-9_./-]{1,512}
    string   := "'" [^']* "'" | '"' [^"]* '"'       no escapes

Deliberate details, each taken from Calico's behaviour:

* `has(`, `all(` and `global(` must be written without a space before `(`; `has (k)` is an error.
* The words of `not in`, `starts with`, `ends with` may be separated by any whitespace, including none
  (`notin`, `startswith`), and an operator keyword must end at a word boundary (`k inx {..}` is an error).
* A set literal may be empty (`{}`) and may end with one trailing comma (`{'a',}`); an empty element
  (`{,'a'}`, `{'a',,'b'}`) is an error.
* Calico only skips spaces and tabs; this parser also accepts newlines and carriage returns, because
  selectors written as YAML block scalars carry them and the meaning is unambiguous.
"""

from __future__ import annotations

import string

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

__all__ = [
    "MAX_LABEL_LENGTH",
    "MAX_NESTING",
    "CalicoSelectorError",
    "format_calico_selector",
    "is_valid_calico_label",
    "parse_calico_selector",
]

MAX_LABEL_LENGTH = 512
"""Calico rejects longer label keys, so a key longer than this can never match anything Calico would."""

_WHITESPACE = frozenset(" \t\r\n")
_LABEL_CHARS = frozenset(string.ascii_letters + string.digits + "_./-")
_QUOTES = ("'", '"')
# Characters that can legitimately follow a label in some valid selector. Another character glued inside a
# label-like word (`k$ey`, `kö`) is reported as "not allowed in a label", the likelier fix than a missing
# operator; elsewhere (`k<>'v'`) the message asks for an operator.
_PUNCTUATION = frozenset("=!&|(){},'\"")
# Operators written with words, in the order Calico tries them; each is a tuple of words.
_KEYWORD_OPERATORS: tuple[tuple[str, ...], ...] = (
    ("contains",),
    ("starts", "with"),
    ("ends", "with"),
    ("not", "in"),
    ("in",),
)
_OPERATOR_LIST = "'==', '!=', 'in', 'not in', 'contains', 'starts with' or 'ends with'"
_FOUND_LIMIT = 40
MAX_NESTING = 100
"""Deepest parenthesis nesting accepted. Beyond it Python's recursion limit would end the parse with an
unhelpful RecursionError instead of a column-pointing error (Calico has no limit; real selectors nest a
few levels deep)."""
_EOF = "end of selector"


class CalicoSelectorError(ValueError):
    """A Calico selector that Calico itself would reject, with the 1-based column of the offending text.

    It subclasses ValueError so callers validating many inputs can catch one familiar exception type, while
    `column` and `message` stay separate so a report can underline the exact spot in the user's YAML.
    """

    def __init__(self, column: int, message: str, selector: str = "") -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column
        self.message = message
        self.selector = selector


def is_valid_calico_label(key: str) -> bool:
    """Whether `key` can be written as a label in a Calico selector (so a formatter can refuse early)."""
    return 0 < len(key) <= MAX_LABEL_LENGTH and all(c in _LABEL_CHARS for c in key)


def parse_calico_selector(text: str) -> Selector:
    """Parse a Calico selector expression into the shared selector tree.

    An empty or whitespace-only selector means "everything in scope" (`MatchAll`), as in Calico. `&&` and
    `||` chains are flattened into single `And`/`Or` nodes, including chains split by parentheses, and a
    doubled negation collapses, so selectors that differ only in redundant syntax give equal trees (and so
    share cache keys downstream). Raises CalicoSelectorError pointing at the first offending column.
    """
    return _Parser(text).parse()


def format_calico_selector(sel: Selector) -> str:
    """Render a selector tree as canonical Calico syntax, so parsing the result gives back the same meaning.

    Used to show users Calico-native text for selectors that may have come from Kubernetes label selectors
    or from simplification. Trees produced by `parse_calico_selector` come back exactly equal after a
    format/parse round trip. Raises ValueError when the tree cannot be written in Calico syntax (a key with
    characters Calico does not allow, or a value containing both quote characters, since there are no
    escapes).
    """
    return _format(sel, _LEVEL_TOP)


# --------------------------------------------------------------------------------------------- parsing


def _quote_for_message(fragment: str) -> str:
    """Quote a fragment of the input for an error message, choosing quotes that do not clash with it."""
    if "'" in fragment and '"' not in fragment:
        return f'"{fragment}"'
    return f"'{fragment}'"


def _negate(sel: Selector) -> Selector:
    """Negation that removes a double negation (`!(!x)` is `x`) to keep parsed trees canonical."""
    if isinstance(sel, Not):
        return sel.operand
    return Not(sel)


class _Parser:
    """Recursive-descent parser over the raw characters; `pos` is the 0-based index of the next character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    # ---- low-level helpers

    def _error(self, pos: int, message: str) -> CalicoSelectorError:
        return CalicoSelectorError(pos + 1, message, self.text)

    def _skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _startswith(self, prefix: str) -> bool:
        return self.text.startswith(prefix, self.pos)

    def _label_end(self, pos: int) -> int:
        text = self.text
        while pos < len(text) and text[pos] in _LABEL_CHARS:
            pos += 1
        return pos

    def _describe(self, pos: int) -> str:
        """What the input holds at `pos`, as a whole token where possible, for 'found ...' messages."""
        text = self.text
        if pos >= len(text):
            return _EOF
        char = text[pos]
        if char in _LABEL_CHARS:
            fragment = text[pos : self._label_end(pos)]
        elif char in _QUOTES:
            close = text.find(char, pos + 1)
            fragment = text[pos:] if close == -1 else text[pos : close + 1]
        elif text.startswith(("==", "!=", "&&", "||"), pos):
            fragment = text[pos : pos + 2]
        else:
            fragment = char
        if len(fragment) > _FOUND_LIMIT:
            fragment = fragment[: _FOUND_LIMIT - 3] + "..."
        return _quote_for_message(fragment)

    def _found(self) -> str:
        """`_describe` at the current position: what stopped the parse."""
        return self._describe(self.pos)

    def _bad_operator_hint(self, pos: int) -> str | None:
        """A 'did you mean' message for single-character typos of the two-character operators."""
        text = self.text
        if pos >= len(text):
            return None
        char = text[pos]
        doubled = char * 2
        if char in "=&|" and not text.startswith(doubled, pos):
            return f"unknown operator '{char}'; did you mean '{doubled}'?"
        return None

    # ---- grammar

    def parse(self) -> Selector:
        self._skip_ws()
        if self._at_end():
            return MatchAll()
        sel = self._parse_or("")
        self._skip_ws()
        if not self._at_end():
            pos = self.pos
            if self._peek() == ")":
                raise self._error(pos, "unmatched ')': there is no '(' for it to close")
            hint = self._bad_operator_hint(pos)
            if hint is not None:
                raise self._error(pos, hint)
            raise self._error(
                pos, f"expected '&&', '||' or the end of the selector, found {self._describe(pos)}"
            )
        return sel

    def _parse_or(self, context: str) -> Selector:
        parts: list[Selector] = []
        self._extend_flat(parts, self._parse_and(context), Or)
        while True:
            self._skip_ws()
            if not self._startswith("||"):
                break
            self.pos += 2
            self._extend_flat(parts, self._parse_and("after '||'"), Or)
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _parse_and(self, context: str) -> Selector:
        parts: list[Selector] = []
        self._extend_flat(parts, self._parse_unary(context), And)
        while True:
            self._skip_ws()
            if not self._startswith("&&"):
                break
            self.pos += 2
            self._extend_flat(parts, self._parse_unary("after '&&'"), And)
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    @staticmethod
    def _extend_flat(parts: list[Selector], sel: Selector, kind: type[And] | type[Or]) -> None:
        """Append `sel`, splicing in its operands when it is the same connective (from parentheses)."""
        if isinstance(sel, kind):
            parts.extend(sel.operands)
        else:
            parts.append(sel)

    def _parse_unary(self, context: str) -> Selector:
        negations = 0
        while True:
            self._skip_ws()
            if self._peek() == "!" and not self._startswith("!="):
                negations += 1
                self.pos += 1
                context = "after '!'"
            else:
                break
        sel = self._parse_primary(context)
        return _negate(sel) if negations % 2 else sel

    def _parse_primary(self, context: str) -> Selector:
        self._skip_ws()
        start = self.pos
        char = self._peek()
        if char == "(":
            if self.depth >= MAX_NESTING:
                raise self._error(start, f"parentheses are nested more than {MAX_NESTING} deep")
            self.pos += 1
            self.depth += 1
            inner = self._parse_or("after '('")
            self.depth -= 1
            self._skip_ws()
            if self._peek() != ")":
                raise self._error(
                    self.pos,
                    f"expected ')' to close the '(' at column {start + 1}, found {self._found()}",
                )
            self.pos += 1
            return inner
        if self._startswith("has("):
            return self._parse_has()
        if self._startswith("all("):
            self._parse_empty_call("all")
            return MatchAll()
        if self._startswith("global("):
            self._parse_empty_call("global")
            return MatchGlobal()
        if char and char in _LABEL_CHARS:
            key = self._parse_label()
            return self._parse_match(key)
        raise self._error(
            start,
            f"expected a selector{' ' + context if context else ''} "
            f"(a label comparison, '(', '!', has(), all() or global()), found {self._describe(start)}",
        )

    def _parse_label(self) -> str:
        start = self.pos
        end = self._label_end(start)
        if end - start > MAX_LABEL_LENGTH:
            raise self._error(
                start, f"label is {end - start} characters long; Calico allows at most {MAX_LABEL_LENGTH}"
            )
        self.pos = end
        return self.text[start:end]

    def _parse_has(self) -> Selector:
        open_pos = self.pos + 3
        self.pos += 4
        self._skip_ws()
        char = self._peek()
        if not char or char not in _LABEL_CHARS:
            raise self._error(self.pos, f"expected a label inside has(), found {self._found()}")
        key = self._parse_label()
        self._skip_ws()
        if self._peek() != ")":
            raise self._error(
                self.pos,
                f"expected ')' to close the 'has(' at column {open_pos + 1}, found {self._found()}",
            )
        self.pos += 1
        return HasKey(key)

    def _parse_empty_call(self, name: str) -> None:
        self.pos += len(name) + 1
        self._skip_ws()
        if self._peek() != ")":
            raise self._error(
                self.pos,
                f"expected ')' after '{name}(' ({name}() takes no arguments), found {self._found()}",
            )
        self.pos += 1

    def _match_keyword(self, words: tuple[str, ...]) -> bool:
        """Consume a (possibly multi-word) operator keyword that ends at a word boundary, as Calico does."""
        text = self.text
        pos = self.pos
        for index, word in enumerate(words):
            if not text.startswith(word, pos):
                return False
            pos += len(word)
            if index < len(words) - 1:
                while pos < len(text) and text[pos] in _WHITESPACE:
                    pos += 1
        if pos < len(text) and text[pos] in _LABEL_CHARS:
            return False
        self.pos = pos
        return True

    def _parse_match(self, key: str) -> Selector:
        label_end = self.pos
        self._skip_ws()
        op_pos = self.pos
        if self._startswith("=="):
            self.pos += 2
            return Equals(key, self._parse_string("after '=='"))
        if self._startswith("!="):
            self.pos += 2
            return not_equals(key, self._parse_string("after '!='"))
        for words in _KEYWORD_OPERATORS:
            if self._match_keyword(words):
                op = " ".join(words)
                if op in ("in", "not in"):
                    values = self._parse_set(op)
                    return InSet(key, values) if op == "in" else not_in(key, values)
                return StringTest(key, op, self._parse_string(f"after '{op}'"))
        raise self._error(op_pos, self._missing_operator_message(key, label_end, op_pos))

    def _missing_operator_message(self, key: str, label_end: int, op_pos: int) -> str:
        """Explain a label not followed by an operator, guessing the most likely mistake."""
        text = self.text
        char = text[op_pos] if op_pos < len(text) else ""
        after = text[op_pos + 1] if op_pos + 1 < len(text) else ""
        embedded = bool(after) and (after in _LABEL_CHARS or after.isalnum())
        if op_pos == label_end and char and char not in _PUNCTUATION and (embedded or char.isalnum()):
            return (
                f"character {_quote_for_message(char)} is not allowed in a label "
                "(labels may contain only ASCII letters, digits, '_', '.', '/' and '-')"
            )
        hint = self._bad_operator_hint(op_pos)
        if hint is not None:
            return hint
        if char == "(" and key in ("has", "all", "global"):
            return f"unexpected space before '(': write '{key}(' with no space"
        return f"expected an operator ({_OPERATOR_LIST}) after label '{key}', found {self._describe(op_pos)}"

    def _parse_string(self, context: str) -> str:
        self._skip_ws()
        start = self.pos
        quote = self._peek()
        if quote not in _QUOTES or not quote:
            raise self._error(start, f"expected a quoted string {context}, found {self._describe(start)}")
        close = self.text.find(quote, start + 1)
        if close == -1:
            raise self._error(
                start,
                f"unterminated string: the {quote} opened here is never closed (strings have no escapes)",
            )
        self.pos = close + 1
        return self.text[start + 1 : close]

    def _parse_set(self, op: str) -> frozenset[str]:
        self._skip_ws()
        open_pos = self.pos
        if self._peek() != "{":
            raise self._error(
                open_pos,
                f"expected '{{' to start a set of quoted strings after '{op}', found {self._found()}",
            )
        self.pos += 1
        values: list[str] = []
        self._skip_ws()
        if self._peek() == "}":
            self.pos += 1
            return frozenset()
        while True:
            self._skip_ws()
            char = self._peek()
            if char == ",":
                raise self._error(self.pos, "empty set element: expected a quoted string before ','")
            if char == "}":  # a trailing comma, which Calico accepts
                self.pos += 1
                break
            if not char:
                raise self._error(
                    self.pos,
                    f"expected a quoted string or '}}' to close the '{{' at column {open_pos + 1}, "
                    f"found {_EOF}",
                )
            values.append(self._parse_string("as a set element"))
            self._skip_ws()
            char = self._peek()
            if char == ",":
                self.pos += 1
                continue
            if char == "}":
                self.pos += 1
                break
            raise self._error(
                self.pos,
                f"expected ',' or '}}' to close the '{{' at column {open_pos + 1}, found {self._found()}",
            )
        return frozenset(values)


# -------------------------------------------------------------------------------------------- formatting

# Binding contexts: what the rendered text is embedded in, so parentheses go exactly where they are needed
# (plus around an '&&' chain inside '||', which Calico does not need but readers do).
_LEVEL_TOP = 0  # the whole selector
_LEVEL_OR = 1  # one operand of '||'
_LEVEL_AND = 2  # one operand of '&&'
_LEVEL_NOT = 3  # the operand of '!'


def _format_key(key: str) -> str:
    if not is_valid_calico_label(key):
        raise ValueError(f"label key {key!r} cannot be written in a Calico selector")
    return key


def _format_string(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError(f"value {value!r} contains both quote characters; Calico strings have no escapes")


def _format_set(values: frozenset[str]) -> str:
    if not values:
        return "{}"
    return "{" + ", ".join(_format_string(v) for v in sorted(values)) + "}"


def _format(sel: Selector, level: int) -> str:
    """Render `sel` for embedding at `level`."""
    if isinstance(sel, MatchAll):
        return "all()"
    if isinstance(sel, MatchGlobal):
        return "global()"
    if isinstance(sel, HasKey):
        return f"has({_format_key(sel.key)})"
    if isinstance(sel, Equals):
        text = f"{_format_key(sel.key)} == {_format_string(sel.value)}"
    elif isinstance(sel, InSet):
        text = f"{_format_key(sel.key)} in {_format_set(sel.values)}"
    elif isinstance(sel, StringTest):
        text = f"{_format_key(sel.key)} {sel.op} {_format_string(sel.value)}"
    elif isinstance(sel, Not):
        return _format_not(sel.operand, level)
    elif isinstance(sel, And | Or):
        if not sel.operands:
            return "all()" if isinstance(sel, And) else "!all()"
        if len(sel.operands) == 1:
            return _format(sel.operands[0], level)
        if isinstance(sel, And):
            text = " && ".join(_format(op, _LEVEL_AND) for op in sel.operands)
            bare_levels: tuple[int, ...] = (_LEVEL_TOP, _LEVEL_AND)
        else:
            text = " || ".join(_format(op, _LEVEL_OR) for op in sel.operands)
            bare_levels = (_LEVEL_TOP, _LEVEL_OR)
        return text if level in bare_levels else f"({text})"
    else:
        raise TypeError(f"cannot format {type(sel).__name__} as a Calico selector")
    # A match operator binds tighter than '!', but "!(k == 'v')" reads unambiguously; "!k == 'v'" does not.
    return f"({text})" if level == _LEVEL_NOT else text


def _format_not(operand: Selector, level: int) -> str:
    """Render `!operand`, using Calico's own negated operators where they exist."""
    if isinstance(operand, Equals):
        return f"{_format_key(operand.key)} != {_format_string(operand.value)}"
    if isinstance(operand, InSet):
        return f"{_format_key(operand.key)} not in {_format_set(operand.values)}"
    if isinstance(operand, Not):
        # Written as "!!x", this would parse back as x anyway; say so directly.
        return _format(operand.operand, level)
    return "!" + _format(operand, _LEVEL_NOT)
