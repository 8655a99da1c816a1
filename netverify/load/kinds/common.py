"""Pydantic schemas shared by several kinds (object metadata, label selectors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from netverify.model.selectors import Equals, HasKey, InSet, MatchAll, Not, Selector, conjunction, not_in


class Lenient(BaseModel):
    """Objects whose unknown fields are none of our business (workloads, metadata)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Strict(BaseModel):
    """Policy specs: an unknown field is most likely a typo that silently changes reachability."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ObjectMeta(Lenient):
    name: StrictStr = Field(min_length=1)
    namespace: StrictStr | None = None
    labels: dict[StrictStr, StrictStr] | None = None
    annotations: dict[StrictStr, StrictStr] | None = None
    ownerReferences: list[Any] | None = None  # present on pods a controller made


class LabelSelectorRequirement(Strict):
    key: StrictStr = Field(min_length=1)
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[StrictStr] | None = None

    @model_validator(mode="after")
    def _values_fit_operator(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs a non-empty 'values' list")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no 'values'")
        return self


class LabelSelector(Strict):
    matchLabels: dict[StrictStr, StrictStr] | None = None
    matchExpressions: list[LabelSelectorRequirement] | None = None

    def to_selector(self) -> Selector:
        """matchLabels and matchExpressions are ANDed; an empty selector selects everything."""
        parts: list[Selector] = [Equals(k, v) for k, v in sorted((self.matchLabels or {}).items())]
        for req in self.matchExpressions or []:
            if req.operator == "In":
                parts.append(InSet(req.key, frozenset(req.values or ())))
            elif req.operator == "NotIn":
                parts.append(not_in(req.key, frozenset(req.values or ())))
            elif req.operator == "Exists":
                parts.append(HasKey(req.key))
            else:
                parts.append(Not(HasKey(req.key)))
        return conjunction(parts)


def selector_or_all(selector: LabelSelector | None) -> Selector:
    return selector.to_selector() if selector is not None else MatchAll()
