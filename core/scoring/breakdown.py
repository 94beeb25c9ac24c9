"""Breakdowns: every computed score explained down to its raw inputs.

A breakdown is a tree ``{"label", "value", "formula", "terms": [...]}``; a term may carry a
``weight`` and the ``input`` it came from (a scorecard item, a rater's rating, an event).
Built with ``__slots__`` objects because a cycle makes tens of thousands of them.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from core.scoring.numbers import display


_NO_TERMS: tuple = ()


class Breakdown:
    __slots__ = ("label", "value", "formula", "terms", "weight", "input", "note")

    def __init__(self, label: str, value: Any, formula: str | None = None, terms: "list[Breakdown] | None" = None,
                 weight: Fraction | None = None, input: Any = None, note: str | None = None):
        self.label = label
        self.value = value
        self.formula = formula
        self.terms = terms if terms is not None else _NO_TERMS  # leaves share one empty tuple
        self.weight = weight
        self.input = input
        self.note = note

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        out: dict[str, Any] = {"label": self.label,
                               "value": value if type(value) in _AS_IS else _plain(value)}
        if self.formula is not None:
            out["formula"] = self.formula
        if self.weight is not None:
            out["weight"] = _plain(self.weight)
        if self.input is not None:
            given = self.input
            out["input"] = given if type(given) in _AS_IS else _plain(given)
        if self.note is not None:
            out["note"] = self.note
        out["terms"] = [t.to_dict() for t in self.terms] if self.terms else []
        return out

    def find(self, label: str) -> "Breakdown | None":
        """The first node with this label, depth first (for tests and the portal's drill-down)."""
        if self.label == label:
            return self
        for term in self.terms:
            found = term.find(label)
            if found is not None:
                return found
        return None


_AS_IS = frozenset({int, str, float, bool, type(None)})  # written as they are (most values are)


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Fraction:
        return display(value)
    if kind is Decimal:
        return float(value)
    if kind is dict:
        return {k: v if type(v) in _AS_IS else _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _AS_IS else _plain(v) for v in value]
    if isinstance(value, Fraction):
        return display(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "is_finite"):  # Decimal
        return float(value)
    return value


def leaf(label: str, value: Any, **kwargs: Any) -> Breakdown:
    return Breakdown(label, value, **kwargs)
