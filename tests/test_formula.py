"""The formula evaluator: exact arithmetic, explanations, and refusing everything else quickly."""
from __future__ import annotations

import time
from fractions import Fraction

import pytest

from core.scoring.formula import FUNCTIONS, FormulaError, check_formula, compile_formula
from core.scoring.numbers import exact, round_half_up

NAMES = {"plan_score": "number", "form_score": "number", "adjust": "number", "monthly": "list", "target": "number"}


def ev(source, **env):
    return compile_formula(source, NAMES).evaluate({k: (v if isinstance(v, list) else exact(v)) for k, v in env.items()})


def test_numbers_are_the_decimals_written():
    assert ev("0.1 + 0.2") == Fraction(3, 10)
    assert ev("plan_score * 0.6 + form_score * 0.4 + adjust", plan_score="4.5", form_score="4.1", adjust="-0.2") == Fraction(207, 50)


def test_division_is_exact_and_rounds_once():
    # 27/8 = 3.375 exactly: rounds half away from zero to 3.38
    assert round_half_up(ev("27 / 8")) == round_half_up(Fraction(27, 8)) and str(round_half_up(ev("27 / 8"))) == "3.38"
    # a third times three is one again, with no error to leak into the rounding
    assert ev("(1 / 3) * 3") == 1
    assert str(round_half_up(ev("avg(monthly)", monthly=[exact("4.01"), exact("4.02"), exact("4.0")]))) == "4.01"


def test_functions():
    ms = [exact("4.1"), exact("4.3"), exact("3.9")]
    assert ev("avg(monthly)", monthly=ms) == Fraction(123, 30)
    assert ev("sum(monthly)", monthly=ms) == exact("12.3")
    assert ev("min(monthly) + max(monthly)", monthly=ms) == exact("8.2")
    assert ev("count(monthly)", monthly=ms) == 3
    assert ev("avg(1, 2, 4)") == Fraction(7, 3)
    assert ev("clamp(120, 0, 100) + clamp(-5, 0, 100)") == 100
    assert ev("round(2.675, 2)") == exact("2.68")
    assert ev("if_(adjust > 0, 1, 2)", adjust="0.5") == 1
    assert ev("1 if adjust >= 1 and not adjust > 2 else 0", adjust="1") == 1
    assert ev("2 ** 3 + 2 ** -1") == Fraction(17, 2)
    assert set(FUNCTIONS) == {"avg", "sum", "min", "max", "count", "clamp", "round", "if_"}


def test_explain_lists_each_weighted_term():
    formula = compile_formula("plan_score * 0.6 + 0.4 * form_score - adjust", NAMES)
    value, breakdown = formula.explain({"plan_score": exact("4"), "form_score": exact("5"), "adjust": exact("1")}, "unit")
    assert value == exact("3.4")
    data = breakdown.to_dict()
    assert data["formula"] == "plan_score * 0.6 + 0.4 * form_score - adjust"
    assert [(t["label"], t["value"], t["weight"]) for t in data["terms"]] == [
        ("plan_score", 4.0, 0.6), ("form_score", 5.0, 0.4), ("adjust", 1.0, -1.0)]


@pytest.mark.parametrize("source, message", [
    ("plan_scor * 0.6", "unknown name `plan_scor` — did you mean `plan_score`?"),
    ("plan_score.real", "attribute access (a.b) is not allowed"),
    ("plan_score.__class__.__bases__", "attribute access"),
    ("__import__('os').system('true')", "attribute access (a.b) is not allowed"),
    ("__import__('os')", "`__import__` is not a function formulas may call"),
    ("_secret + 1", "names starting with '_' are not allowed"),
    ("open('/etc/passwd')", "`open` is not a function formulas may call"),
    ("eval('1')", "`eval` is not a function formulas may call"),
    ("avg", "`avg` is a function; call it"),
    ("monthly[0]", "indexing (a[b]) is not allowed"),
    ("[x for x in monthly]", "a comprehension is not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("(target := 1)", "assignment (:=) is not allowed"),
    ("'text'", "only plain decimal numbers"),
    ("1e308 * 1e308", "only plain decimal numbers"),
    ("0x10", "only plain decimal numbers"),
    ("9 ** 99999999", "a power needs a whole-number exponent from -10 to 10"),
    ("target ** target", "a power needs a whole-number exponent"),
    ("monthly * 2", "is a list, but a number is needed here"),
    ("avg(monthly, 1)", "give either one list or several numbers"),
    ("clamp(1, 2)", "wrong number of arguments"),
    ("round(target, target)", "places must be a whole number from 0 to 6"),
    ("avg(x=1)", "write the arguments plainly"),
    ("target > 1", "gives a condition; a formula must give a number"),
    ("target +", "is not a valid formula"),
    ("1; 2", "one expression on one line"),
    ("", "the formula is empty"),
])
def test_refused_with_a_message_a_tenant_admin_understands(source, message):
    with pytest.raises(FormulaError) as info:
        compile_formula(source, NAMES)
    assert message in str(info.value)
    assert check_formula(source, NAMES) == str(info.value)


@pytest.mark.parametrize("source", [
    "1 + " * 2000 + "1",               # very long
    "(" * 500 + "1" + ")" * 500,        # deeply nested
    "-" * 5000 + "1",                   # deep unary chain
    "avg(" * 200 + "1" + ")" * 200,     # nested calls
    "1" * 100000,                       # a huge literal
    "+".join(["plan_score"] * 400),    # too many parts
])
def test_hostile_input_is_refused_quickly_without_crashing(source):
    started = time.perf_counter()
    with pytest.raises(FormulaError):
        compile_formula(source, NAMES)
    assert time.perf_counter() - started < 0.5


def test_runtime_problems_are_formula_errors():
    with pytest.raises(FormulaError, match="division by zero"):
        ev("target / (adjust - adjust)", target="1", adjust="2")
    with pytest.raises(FormulaError, match="no value was given for `target`"):
        compile_formula("target * 2", NAMES).evaluate({})
    with pytest.raises(FormulaError, match="avg\\(\\) of no values"):
        ev("avg(monthly)", monthly=[])


def test_compiled_once_evaluated_many_times():
    first = compile_formula("plan_score * 0.6 + form_score * 0.4 + adjust", NAMES)
    assert compile_formula("plan_score * 0.6 + form_score * 0.4 + adjust", NAMES) is first
    env = {"plan_score": exact("4"), "form_score": exact("3"), "adjust": exact("0")}
    assert [first.evaluate(env) for _ in range(3)] == [exact("3.6")] * 3
    assert first.names == {"plan_score", "form_score", "adjust"}
