"""Pydantic at the edge: validate one object and turn every complaint into a positioned Diagnostic.

Pydantic's own messages talk about Python ("Input should be a valid integer", union member tags,
`function-after[...]`); users wrote YAML, so each error is re-worded and pointed at the line of the
offending key, and all errors of an object are reported at once.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import pydantic

from netverify.load.documents import Document, Path
from netverify.load.sources import type_name
from netverify.model.diagnostics import Diagnostic, InputError, Severity

M = TypeVar("M", bound=pydantic.BaseModel)

_SIMPLE_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_MAX_LISTED_FIELDS = 15

_EXPECTED_TYPE = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "none_required": "null",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


class InputErrors(InputError):
    """Every problem of one object, so the user can fix them in one round.

    It is an `InputError` (message and source of the first problem) so callers that only know about
    single errors still report something sensible.
    """

    def __init__(self, diagnostics: list[Diagnostic]):
        first = diagnostics[0] if diagnostics else Diagnostic(Severity.ERROR, "invalid object")
        super().__init__(first.message, first.source)
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


def parse_model(model_cls: type[M], data: Any, doc: Document, base: Path = ()) -> M:
    """Validate `data` (found at `base` inside `doc.data`); raises InputErrors with positioned messages."""
    try:
        return model_cls.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InputErrors(validation_diagnostics(exc, model_cls, data, doc, base)) from exc


def format_path(path: Path) -> str:
    """`spec.ingress[0].from[1].ipBlock`; keys that are not identifiers are quoted: `labels["a.io/b"]`."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _SIMPLE_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def validation_diagnostics(
    exc: pydantic.ValidationError,
    model_cls: type[pydantic.BaseModel],
    data: Any,
    doc: Document,
    base: Path = (),
) -> list[Diagnostic]:
    # Union members each report their own failure at the same place; they are merged into one message
    # ("expected an integer or a string") keyed by (path, what was found).
    merged: dict[tuple[Path, str], list[str | None]] = {}
    for error in exc.errors(include_url=False):
        path = _clean_loc(error["loc"], data, error["type"])
        problem, expected = _describe(error, path, model_cls)
        expectations = merged.setdefault((path, problem), [])
        if expected not in expectations:
            expectations.append(expected)
    diagnostics = []
    for (path, problem), expectations in merged.items():
        wanted = " or ".join(e for e in expectations if e)
        message = f"{problem} (expected {wanted})" if wanted else problem
        where = format_path(base + path)
        text = f"{where}: {message}" if where else message
        diagnostics.append(Diagnostic(Severity.ERROR, text, doc.source(*base, *path), code="schema"))
    diagnostics.sort(key=lambda d: (d.source.line, d.source.column) if d.source else (0, 0))  # file order
    return diagnostics


def _clean_loc(loc: tuple[int | str, ...], data: Any, error_type: str) -> Path:
    """Keep the parts of pydantic's `loc` that name real keys/indexes of the input; drop its internal
    parts (union member tags such as `int` or `function-after[...]`, `[key]`). A `missing` field is,
    by nature, absent from the input, so the last part is kept for it."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif (
            index == len(loc) - 1
            and error_type in ("missing", "union_tag_not_found")
            and isinstance(part, str)
        ):
            path.append(part)
    return tuple(path)


def _found(value: Any) -> str:
    if isinstance(value, str):
        if not value:
            return "found an empty string"
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"found the string {shown!r}"
    if isinstance(value, bool):
        return f"found {str(value).lower()}"
    if isinstance(value, int):
        return f"found the integer {value}"
    if isinstance(value, float):
        return f"found the number {value}"
    return f"found {type_name(value)}"


def _describe(error: Any, path: Path, model_cls: type[pydantic.BaseModel]) -> tuple[str, str | None]:
    """(what is wrong, what was expected) in YAML terms for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind in _EXPECTED_TYPE:
        expected = _EXPECTED_TYPE[kind]
        if kind == "string_type" and isinstance(value, (bool, int, float)):
            expected += "; quote numbers and true/false in YAML to make them strings"
        return _found(value), expected
    if kind == "missing":
        return "required field is missing", "this field to be set"
    if kind == "extra_forbidden":
        return "unknown field", _known_fields_hint(model_cls, path)
    if kind in ("literal_error", "enum"):
        return _found(value), f"one of {ctx.get('expected', '?')}"
    if kind in ("value_error", "assertion_error"):
        reason = ctx.get("error")
        return (str(reason) if reason is not None else error["msg"]), None
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return _found(value), f"a number {words} {ctx.get(key)}"
    if kind == "too_short":
        return f"found {ctx.get('actual_length')} item(s)", f"at least {ctx.get('min_length')}"
    if kind == "too_long":
        return f"found {ctx.get('actual_length')} item(s)", f"at most {ctx.get('max_length')}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _found(value), "a non-empty string"
        return _found(value), f"at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return _found(value), f"at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return _found(value), f"text matching {ctx.get('pattern')}"
    if kind == "union_tag_invalid":
        return f"found {ctx.get('discriminator')} {ctx.get('tag')!r}", f"one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "required field is missing", "this field to be set"
    message = str(error["msg"])
    return message[:1].lower() + message[1:], None


def _known_fields_hint(model_cls: type[pydantic.BaseModel], path: Path) -> str:
    """`one of: egress, ingress, ...; did you mean 'ingress'?` for a misspelt key, if the schema says."""
    if not path or not isinstance(path[-1], str):
        return "only known fields"
    known = sorted(_fields_at(model_cls, path[:-1]))
    if not known:
        return "only known fields"
    listed = ", ".join(known[:_MAX_LISTED_FIELDS]) + (", ..." if len(known) > _MAX_LISTED_FIELDS else "")
    hint = f"one of: {listed}"
    unknown = path[-1]
    guesses = [k for k in known if k.lower() == unknown.lower()] or difflib.get_close_matches(
        unknown, known, 1
    )
    return f"{hint}; did you mean {guesses[0]!r}?" if guesses else hint


def _fields_at(model_cls: type[pydantic.BaseModel], path: Path) -> set[str]:
    """Keys accepted by the model(s) found by following `path` through the field annotations."""
    candidates: list[Any] = [model_cls]
    for part in path:
        candidates = [child for annotation in candidates for child in _step(annotation, part)]
    return {key for annotation in candidates for model in _models(annotation) for key in _model_keys(model)}


def _alternatives(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _alternatives(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [alt for arg in get_args(annotation) for alt in _alternatives(arg)]
    return [annotation]


def _models(annotation: Any) -> list[type[pydantic.BaseModel]]:
    return [
        alt
        for alt in _alternatives(annotation)
        if isinstance(alt, type) and issubclass(alt, pydantic.BaseModel)
    ]


def _model_keys(model: type[pydantic.BaseModel]) -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        keys.append(alias or name)
    return keys


def _step(annotation: Any, part: str | int) -> list[Any]:
    found: list[Any] = []
    for alt in _alternatives(annotation):
        if isinstance(alt, type) and issubclass(alt, pydantic.BaseModel):
            if isinstance(part, str):
                for name, info in alt.model_fields.items():
                    if part in (name, info.alias, info.validation_alias):
                        found.append(info.annotation)
            continue
        origin, args = get_origin(alt), get_args(alt)
        if not isinstance(origin, type):
            continue
        if isinstance(part, int) and issubclass(origin, (Sequence, set, frozenset)) and args:
            found.append(args[0])
        elif isinstance(part, str) and issubclass(origin, Mapping) and len(args) == 2:
            found.append(args[1])
    return found
