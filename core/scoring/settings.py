"""Setting types for schemes: formulas checked when settings are loaded, exact numbers."""
from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any, Mapping

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from core.scoring.formula import FormulaError, compile_formula
from core.scoring.numbers import NumberError, exact, text


def FormulaText(names: Mapping[str, str] | tuple[str, ...]) -> Any:  # noqa: N802 - a type factory
    """A formula setting over ``names``; invalid formulas are refused with the evaluator's message."""

    def check(source: str) -> str:
        try:
            compile_formula(source, names)
        except FormulaError as exc:
            raise ValueError(str(exc)) from None
        return source

    return Annotated[str, AfterValidator(check)]


def _exact(value: Any) -> Fraction:
    try:
        return exact(value)
    except NumberError as exc:
        raise ValueError(str(exc)) from None


def _serialise(value: Fraction) -> str:
    return text(value, 30)  # exact decimal text: re-reading the stored settings gives the same number


Exact = Annotated[Fraction, BeforeValidator(_exact), PlainSerializer(_serialise, return_type=str)]
"""A number setting, exact, stored as its decimal text."""
