"""The formula evaluator: scheme formulas are expression strings a tenant may change.

Written by hand on purpose (architecture.md, "Formulas"): a formula is parsed with Python's ``ast``
and checked against an allow-list — numbers (read as exact decimals from the source text),
declared names, ``+ - * / **`` (small integer powers), comparisons, ``and``/``or``/``not``,
``a if c else b`` and the registered functions. Nothing else: no attribute access, no other calls,
no ``eval``. Sizes are capped before parsing, so hostile input is refused quickly.

A formula is compiled and checked once (types included: a list cannot be added to a number) into
a tree of closures that evaluates many times fast, and every evaluation can be explained term by
term. Errors speak the tenant admin's language and point at the offending part.
"""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from core.scoring.breakdown import Breakdown
from core.scoring.numbers import exact, round_half_up

MAX_SOURCE = 1000      # characters
MAX_NODES = 300        # syntax-tree nodes
MAX_DEPTH = 30         # nesting
MAX_POWER = 10         # |exponent| of **, an integer literal
MAX_ARGS = 50
NUMBER_LITERAL = re.compile(r"^\d{1,15}(\.\d{1,15})?$")

NUM, BOOL, LIST = "number", "condition", "list"


class FormulaError(ValueError):
    """A formula cannot be used; the message names the part and says what is allowed."""


# ----------------------------------------------------------------------------------- functions

def _values(args: tuple) -> list[Fraction]:
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    return list(args)


def _avg(*args):
    values = _values(args)
    if not values:
        raise FormulaError("avg() of no values")
    return sum(values, Fraction(0)) / len(values)


def _sum(*args):
    return sum(_values(args), Fraction(0))


def _min(*args):
    values = _values(args)
    if not values:
        raise FormulaError("min() of no values")
    return min(values)


def _max(*args):
    values = _values(args)
    if not values:
        raise FormulaError("max() of no values")
    return max(values)


def _count(*args):
    return Fraction(len(_values(args)))


def _clamp(value, low, high):
    if low > high:
        raise FormulaError(f"clamp(): the lower bound {float(low)} is above the upper bound {float(high)}")
    return min(max(value, low), high)


def _round(value, places=Fraction(0)):
    return Fraction(round_half_up(value, int(places)))


def _if(condition, then, otherwise):
    return then if condition else otherwise


@dataclass(frozen=True)
class Function:
    fn: Callable
    min_args: int
    max_args: int
    aggregate: bool  # takes numbers or one list
    doc: str


FUNCTIONS: dict[str, Function] = {
    "avg": Function(_avg, 1, MAX_ARGS, True, "avg(a, b, ...) or avg(list): the mean"),
    "sum": Function(_sum, 1, MAX_ARGS, True, "sum(a, b, ...) or sum(list)"),
    "min": Function(_min, 1, MAX_ARGS, True, "min(a, b, ...) or min(list)"),
    "max": Function(_max, 1, MAX_ARGS, True, "max(a, b, ...) or max(list)"),
    "count": Function(_count, 1, MAX_ARGS, True, "count(list): how many values"),
    "clamp": Function(_clamp, 3, 3, False, "clamp(x, low, high): x kept within [low, high]"),
    "round": Function(_round, 1, 2, False, "round(x, places): half away from zero"),
    "if_": Function(_if, 3, 3, False, "if_(condition, then, otherwise)"),
}

_ALLOWED = ("numbers, the names listed for this formula, + - * / and ** (integer powers up to "
            f"{MAX_POWER}), comparisons, and / or / not, `x if condition else y`, and the functions "
            + ", ".join(FUNCTIONS))


# ----------------------------------------------------------------------------------- compiled form

Evaluator = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Term:
    """One additive term of a formula's top level: ``sign * (weight * name)`` or any expression."""

    source: str
    sign: int
    evaluate: Evaluator
    name: str | None       # the input it weighs, when the term is `name * weight` or `weight * name`
    weight: Fraction | None  # signed: a subtracted term has a negative weight


class Formula:
    """A checked formula: call ``evaluate(env)`` or ``explain(env, label, inputs)`` many times."""

    __slots__ = ("source", "names", "_terms", "_evaluate")

    def __init__(self, source: str, names: frozenset[str], terms: tuple[Term, ...], evaluate: Evaluator):
        self.source = source
        self.names = names
        self._terms = terms
        self._evaluate = evaluate

    def __repr__(self) -> str:
        return f"Formula({self.source!r})"

    def evaluate(self, env: Mapping[str, Any]) -> Fraction:
        try:
            value = self._evaluate(env)
        except KeyError as exc:
            raise FormulaError(f"`{self.source}`: no value was given for `{exc.args[0]}`") from None
        except ZeroDivisionError:
            raise FormulaError(f"`{self.source}`: division by zero with these inputs") from None
        return value

    def explain(self, env: Mapping[str, Any], label: str,
                inputs: Mapping[str, Breakdown] | None = None) -> tuple[Fraction, Breakdown]:
        """The value and its breakdown: one term per top-level addend, with its weight and the
        breakdown of the input it weighs (when ``inputs`` has one)."""
        inputs = inputs or {}
        total = Fraction(0)
        terms = []
        try:
            for term in self._terms:
                value = term.evaluate(env)
                total += value if term.sign > 0 else -value
                if term.name is not None:
                    node = Breakdown(term.name, env[term.name], weight=term.weight,
                                     terms=(inputs[term.name],) if term.name in inputs else None)
                else:
                    node = Breakdown(term.source, value if term.sign > 0 else -value,
                                     terms=tuple(inputs[n] for n in _names_in(term.source) if n in inputs) or None)
                terms.append(node)
        except KeyError as exc:
            raise FormulaError(f"`{self.source}`: no value was given for `{exc.args[0]}`") from None
        except ZeroDivisionError:
            raise FormulaError(f"`{self.source}`: division by zero with these inputs") from None
        return total, Breakdown(label, total, formula=self.source, terms=terms)


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_in(source: str) -> list[str]:
    return list(dict.fromkeys(_NAME_RE.findall(source)))


# ----------------------------------------------------------------------------------- compiler

class _Compiler:
    def __init__(self, source: str, names: Mapping[str, str]):
        self.source = source
        self.names = names
        self.used: set[str] = set()
        self.nodes = 0

    def text(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or type(node).__name__
        return text if len(text) <= 60 else text[:57] + "..."

    def fail(self, node: ast.AST, message: str) -> FormulaError:
        return FormulaError(f"`{self.text(node)}`: {message}")

    def compile(self, node: ast.AST, depth: int = 0) -> tuple[Evaluator, str]:
        """Return (evaluator, type) of a node, refusing anything outside the allow-list."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"the formula is too long: more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{_describe(node)} is not allowed in formulas; allowed: {_ALLOWED}")
        return method(node, depth + 1)

    def number(self, node: ast.AST, depth: int) -> Evaluator:
        fn, kind = self.compile(node, depth)
        if kind != NUM:
            raise FormulaError(f"`{self.text(node)}` is a {kind}, but a number is needed here")
        return fn

    # leaves
    def _Constant(self, node: ast.Constant, depth: int):
        text = self.text(node)
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)) or not NUMBER_LITERAL.match(text):
            raise self.fail(node, "only plain decimal numbers such as 0.6 or 100 are allowed")
        value = exact(text)
        return (lambda env: value), NUM

    def _Name(self, node: ast.Name, depth: int):
        name = node.id
        if name.startswith("_"):
            raise self.fail(node, "names starting with '_' are not allowed")
        if name in FUNCTIONS:
            raise self.fail(node, f"`{name}` is a function; call it, e.g. {FUNCTIONS[name].doc}")
        if name not in self.names:
            suggestion = difflib.get_close_matches(name, list(self.names), n=1, cutoff=0.6)
            hint = f" — did you mean `{suggestion[0]}`?" if suggestion else ""
            allowed = ", ".join(sorted(self.names)) or "none"
            raise FormulaError(f"unknown name `{name}`{hint} (names this formula may use: {allowed})")
        self.used.add(name)
        return (lambda env: env[name]), self.names[name]

    # operators
    def _BinOp(self, node: ast.BinOp, depth: int):
        op = type(node.op)
        if op is ast.Pow:
            base = self.number(node.left, depth)
            exponent = node.right
            sign = 1
            if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
                sign, exponent = -1, exponent.operand
            if not (isinstance(exponent, ast.Constant) and type(exponent.value) is int and exponent.value <= MAX_POWER):
                raise self.fail(node, f"a power needs a whole-number exponent from -{MAX_POWER} to {MAX_POWER}")
            n = sign * exponent.value
            return (lambda env: base(env) ** n), NUM
        left, right = self.number(node.left, depth), self.number(node.right, depth)
        if op is ast.Add:
            return (lambda env: left(env) + right(env)), NUM
        if op is ast.Sub:
            return (lambda env: left(env) - right(env)), NUM
        if op is ast.Mult:
            return (lambda env: left(env) * right(env)), NUM
        if op is ast.Div:
            return (lambda env: left(env) / right(env)), NUM
        raise self.fail(node, f"the operator is not allowed; allowed: {_ALLOWED}")

    def _UnaryOp(self, node: ast.UnaryOp, depth: int):
        if isinstance(node.op, ast.Not):
            operand, _kind = self.compile(node.operand, depth)
            return (lambda env: not operand(env)), BOOL
        operand = self.number(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return (lambda env: -operand(env)), NUM
        if isinstance(node.op, ast.UAdd):
            return operand, NUM
        raise self.fail(node, f"the operator is not allowed; allowed: {_ALLOWED}")

    _COMPARE = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
                ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}

    def _Compare(self, node: ast.Compare, depth: int):
        operands = [self.number(node.left, depth)] + [self.number(c, depth) for c in node.comparators]
        ops = []
        for op in node.ops:
            if type(op) not in self._COMPARE:
                raise self.fail(node, "only < <= > >= == != comparisons are allowed")
            ops.append(self._COMPARE[type(op)])

        def compare(env):
            values = [o(env) for o in operands]
            return all(op(values[i], values[i + 1]) for i, op in enumerate(ops))

        return compare, BOOL

    def _BoolOp(self, node: ast.BoolOp, depth: int):
        parts = [self.compile(v, depth)[0] for v in node.values]
        if isinstance(node.op, ast.And):
            return (lambda env: all(p(env) for p in parts)), BOOL
        return (lambda env: any(p(env) for p in parts)), BOOL

    def _IfExp(self, node: ast.IfExp, depth: int):
        test, _kind = self.compile(node.test, depth)
        then, otherwise = self.number(node.body, depth), self.number(node.orelse, depth)
        return (lambda env: then(env) if test(env) else otherwise(env)), NUM

    def _Call(self, node: ast.Call, depth: int):
        if isinstance(node.func, ast.Attribute):
            raise self.fail(node.func, f"attribute access (a.b) is not allowed in formulas; allowed: {_ALLOWED}")
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, f"only these functions may be called: {', '.join(FUNCTIONS)}")
        name = node.func.id
        function = FUNCTIONS.get(name)
        if function is None:
            suggestion = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.6)
            hint = f" — did you mean `{suggestion[0]}`?" if suggestion else ""
            raise self.fail(node, f"`{name}` is not a function formulas may call{hint}; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, f"write the arguments plainly: {function.doc}")
        if not function.min_args <= len(node.args) <= function.max_args:
            raise self.fail(node, f"wrong number of arguments: {function.doc}")
        compiled = [self.compile(a, depth) for a in node.args]
        kinds = [k for _fn, k in compiled]
        if function.aggregate:
            if LIST in kinds and len(kinds) > 1:
                raise self.fail(node, f"give either one list or several numbers: {function.doc}")
            if BOOL in kinds:
                raise self.fail(node, f"the arguments must be numbers: {function.doc}")
        elif name == "if_":
            if kinds[1] != NUM or kinds[2] != NUM:
                raise self.fail(node, f"then and otherwise must be numbers: {function.doc}")
        elif name == "round":
            if kinds[0] != NUM or (len(node.args) == 2 and not (
                    isinstance(node.args[1], ast.Constant) and type(node.args[1].value) is int and node.args[1].value <= 6)):
                raise self.fail(node, f"places must be a whole number from 0 to 6: {function.doc}")
        elif any(k != NUM for k in kinds):
            raise self.fail(node, f"the arguments must be numbers: {function.doc}")
        args = tuple(fn for fn, _k in compiled)
        call = function.fn
        if len(args) == 1:
            only = args[0]
            return (lambda env: call(only(env))), NUM
        return (lambda env: call(*[a(env) for a in args])), NUM


def _describe(node: ast.AST) -> str:
    return {
        "Attribute": "attribute access (a.b)", "Subscript": "indexing (a[b])", "Lambda": "lambda",
        "ListComp": "a comprehension", "GeneratorExp": "a comprehension", "DictComp": "a comprehension",
        "SetComp": "a comprehension", "Dict": "a mapping", "Set": "a set", "List": "a list literal",
        "Tuple": "a tuple", "NamedExpr": "assignment (:=)", "JoinedStr": "text", "Await": "await",
        "Yield": "yield", "Starred": "*arguments",
    }.get(type(node).__name__, type(node).__name__)


def _split_terms(compiler: _Compiler, root: ast.AST) -> list[tuple[int, ast.AST]]:
    """The top-level additive terms with their signs: a - b + c → (+a), (-b), (+c)."""
    if isinstance(root, ast.BinOp) and isinstance(root.op, (ast.Add, ast.Sub)):
        left = _split_terms(compiler, root.left)
        right = _split_terms(compiler, root.right)
        if isinstance(root.op, ast.Sub):
            right = [(-sign, node) for sign, node in right]
        return left + right
    if isinstance(root, ast.UnaryOp) and isinstance(root.op, ast.USub):
        return [(-sign, node) for sign, node in _split_terms(compiler, root.operand)]
    return [(1, root)]


def _weighted_name(node: ast.AST, source: str) -> tuple[str | None, Fraction | None]:
    """`name * 0.6`, `0.6 * name` or a bare `name` (weight 1)."""
    if isinstance(node, ast.Name):
        return node.id, Fraction(1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for name_side, weight_side in ((node.left, node.right), (node.right, node.left)):
            if isinstance(name_side, ast.Name) and isinstance(weight_side, ast.Constant):
                return name_side.id, exact(ast.get_source_segment(source, weight_side))
    return None, None


@lru_cache(maxsize=512)
def _compile_cached(source: str, names: tuple[tuple[str, str], ...]) -> Formula:
    if not isinstance(source, str) or not source.strip():
        raise FormulaError("the formula is empty")
    if len(source) > MAX_SOURCE:
        raise FormulaError(f"the formula is too long: {len(source)} characters, at most {MAX_SOURCE}")
    if "\n" in source.strip() or ";" in source:
        raise FormulaError("a formula is one expression on one line")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise FormulaError(f"`{source.strip()}` is not a valid formula{where}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError("the formula is nested too deeply or too large") from None
    text = source.strip()
    compiler = _Compiler(text, dict(names))
    try:
        evaluate, kind = compiler.compile(tree.body)
        if kind != NUM:
            raise FormulaError(f"`{text}` gives a {kind}; a formula must give a number")
        terms = []
        compiler.nodes = 0  # the terms are the same parts compiled again
        for sign, node in _split_terms(compiler, tree.body):
            name, weight = _weighted_name(node, text)
            term_fn = compiler.number(node, 0)
            terms.append(Term(ast.get_source_segment(text, node) or "", sign, term_fn, name,
                              None if weight is None else weight * sign))
    except RecursionError:
        raise FormulaError("the formula is nested too deeply") from None
    return Formula(text, frozenset(compiler.used), tuple(terms), evaluate)


def compile_formula(source: str, names: Mapping[str, str] | Iterable[str]) -> Formula:
    """Check and compile ``source``. ``names`` are the inputs it may use: a mapping of name to
    ``"number"`` or ``"list"``, or just names (all numbers)."""
    if not isinstance(names, Mapping):
        names = {n: NUM for n in names}
    return _compile_cached(source, tuple(sorted(names.items())))


def check_formula(source: str, names: Mapping[str, str] | Iterable[str]) -> str | None:
    """The error message for a formula, or None when it compiles (for settings validation)."""
    try:
        compile_formula(source, names)
        return None
    except FormulaError as exc:
        return str(exc)
