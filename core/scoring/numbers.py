"""Exact numbers for scoring: inputs are read as the decimals they are written as, arithmetic is
rational (``fractions.Fraction``), and a result is rounded once, half away from zero.

Division by 3 or 7 (means, redistributed weights) therefore never leaks error into the rounding:
``27/8`` is exactly 3.375 and rounds to 3.38.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from math import lcm
from typing import Any

Number = Fraction
CENT = Decimal("0.01")
DECIMAL_TEXT_MAX = 40


class NumberError(ValueError):
    """A value is not a decimal number as the case file or form must write it."""


def exact(value: Any) -> Fraction:
    """A Fraction equal to ``value`` as written: ``"0.1"`` is one tenth, never a binary float."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise NumberError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberError(f"{value} is not a finite number")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > DECIMAL_TEXT_MAX or "e" in text.lower() or "_" in text:
            raise NumberError(f"{value!r} is not a plain decimal number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise NumberError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise NumberError(f"{value!r} is not a finite number")
        return Fraction(number)
    if isinstance(value, float):
        # Only reachable from code, never from case files; repr gives the shortest decimal.
        return exact(repr(value))
    raise NumberError(f"{value!r} is not a number")


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round once, half away from zero: 3.375 → 3.38, -1.005 → -1.01."""
    scale = 10 ** places
    scaled = abs(value) * scale
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    result = Decimal(whole).scaleb(-places)
    return -result if value < 0 and whole else result


def to_decimal(value: Fraction, places: int = 2) -> Decimal:
    return round_half_up(value, places).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def display(value: Fraction | Decimal | int | None, places: int = 6) -> float | None:
    """A value for a breakdown (a JSON number): the nearest float, to ``places`` decimals.
    Exactness lives in the scores; this is for reading."""
    if value is None:
        return None
    return round(float(value), places)


def text(value: Fraction | Decimal | int, max_places: int = 6) -> str:
    """Plain decimal text for messages and stored settings: ``1``, ``-0.5``, ``76.666667``:
    exact up to ``max_places`` decimals (a repeating decimal is shown rounded to them)."""
    value = Fraction(value)
    denominator = value.denominator
    places = 0
    while denominator % 10 == 0 or denominator % 2 == 0 or denominator % 5 == 0:
        if denominator % 10 == 0:
            denominator //= 10
        elif denominator % 2 == 0:
            denominator //= 2
        else:
            denominator //= 5
        places += 1
    if denominator != 1 or places > max_places:
        places = max_places
    rounded = round_half_up(value, places)
    result = format(rounded.normalize(), "f") if rounded else "0"
    return result


def mean(values: list[Fraction]) -> Fraction:
    if not values:
        raise ZeroDivisionError("mean of no values")
    return sum(values, Fraction(0)) / len(values)


def as_decimal(value: Fraction, max_places: int = 6) -> Decimal:
    """An output number that is not a score (a subtotal): exact decimal, no exponent notation."""
    return Decimal(text(value, max_places))


def exact_sum(values: list[Fraction]) -> Fraction:
    """Σ values over one common denominator: exact, and much faster than adding Fractions in turn."""
    common = 1
    for v in values:
        if common % v.denominator:
            common = lcm(common, v.denominator)
    return Fraction(sum(v.numerator * (common // v.denominator) for v in values), common)
