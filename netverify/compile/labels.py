"""Selectors evaluated for all objects at once: one integer column per label key.

A `LabelTable` turns a list of label dicts into columns of value codes (-1 = absent), so a selector costs a
few numpy comparisons however many endpoint classes there are; results are cached per selector, because
policies repeat the same selectors (`{}`, the DNS pods, `tenant=...`) over and over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

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
)


class LabelTable:
    def __init__(self, labels: Sequence[Mapping[str, str]]):
        self.size = len(labels)
        self._values: dict[str, dict[str, int]] = {}
        columns: dict[str, np.ndarray] = {}
        for row, mapping in enumerate(labels):
            for key, value in mapping.items():
                codes = self._values.setdefault(key, {})
                code = codes.setdefault(value, len(codes))
                column = columns.get(key)
                if column is None:
                    column = columns[key] = np.full(self.size, -1, dtype=np.int32)
                column[row] = code
        self._columns = columns
        self._cache: dict[Selector, np.ndarray] = {}

    def evaluate(self, selector: Selector) -> np.ndarray:
        """Boolean mask of the rows the selector matches (cached; do not modify the result)."""
        found = self._cache.get(selector)
        if found is None:
            found = self._evaluate(selector)
            found.setflags(write=False)
            self._cache[selector] = found
        return found

    def _column(self, key: str) -> np.ndarray | None:
        return self._columns.get(key)

    def _evaluate(self, sel: Selector) -> np.ndarray:
        if isinstance(sel, (MatchAll, MatchGlobal)):
            return np.ones(self.size, dtype=bool)
        if isinstance(sel, HasKey):
            column = self._column(sel.key)
            return column >= 0 if column is not None else np.zeros(self.size, dtype=bool)
        if isinstance(sel, (Equals, InSet, StringTest)):
            column = self._column(sel.key)
            if column is None:
                return np.zeros(self.size, dtype=bool)
            values = self._values[sel.key]
            accepted = np.zeros(len(values) + 1, dtype=bool)  # last slot stands for "absent" (code -1)
            if isinstance(sel, StringTest):
                for value, code in values.items():
                    accepted[code] = sel.matches({sel.key: value})
            else:  # look the wanted values up: a key can have as many values as there are pods
                wanted = (sel.value,) if isinstance(sel, Equals) else sel.values
                accepted[[values[v] for v in wanted if v in values]] = True
            return accepted[column]
        if isinstance(sel, Not):
            return ~self.evaluate(sel.operand)
        if isinstance(sel, And):
            result = np.ones(self.size, dtype=bool)
            for operand in sel.operands:
                result &= self.evaluate(operand)
            return result
        if isinstance(sel, Or):
            result = np.zeros(self.size, dtype=bool)
            for operand in sel.operands:
                result |= self.evaluate(operand)
            return result
        raise TypeError(f"unsupported selector node {type(sel).__name__}")
