"""Scoring of `gov-public-evaluation` (schemes.md §3; inputs as in casefile.md).

Per unit (a village or a department), for a year (``YYYY``) or a quarter (``YYYY-Qn``):

- indicator points: the sum of the points earned per second-level indicator (a missing entry earns
  0; an unknown code, a negative value or more than the maximum is an error); a first-level
  indicator's subtotal is the sum of its children's points;
- public score: a category's value is the mean of its answers' values (satisfied 100, basically
  satisfied 75, dissatisfied 55; don't know left out); the public score is the mean of the values
  of the categories that have answers (weights equal by default, the weights of the categories
  without answers left out); a unit without answers cannot be scored;
- inspection: the sum of the findings' deductions;
- reporting shortfall: in a year, ``max(0, minimum − reported) × points per missing item``; in a
  quarter, 0 (information reporting is assessed in annual cycles only; a count given in a quarter
  is ignored, with a warning);
- total: the ``total_formula`` setting (default
  ``indicator_points * 0.7 + public_score * 0.3 - inspection - reporting_shortfall``), rounded once;
  not clamped (it may be negative).

Ranks: competition ranks of the rounded totals. Per first-level indicator the exact subtotals are
ranked: rank ≤ ``reward_top`` → ``reward:<code>``; rank from the bottom ≤ ``accountability_bottom``
and not rewarded for that indicator → ``accountability:<code>``. No grades.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import lcm
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, WrapValidator
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.scoring import finish
from core.scoring.blocks import competition_ranks, ranks_from_bottom
from core.scoring.breakdown import Breakdown
from pydantic.dataclasses import rebuild_dataclass

from core.scoring.case import Case, CaseError, Id, Num, Period, record, subject_label, validate_subjects
from core.scoring.formula import Formula, compile_formula
from core.scoring.numbers import NumberError, as_decimal, exact, exact_sum, round_half_up, text
from core.scoring.result import CaseResult
from plugins.gov_public_evaluation import FORMULA_NAMES, GovPublicEvaluationSettings
from plugins.gov_public_evaluation.indicators import applies

SCHEME_ID = "gov-public-evaluation"
ZERO = Fraction(0)
ANSWER_LABELS = {"satisfied": "satisfied 满意", "basically_satisfied": "basically_satisfied 基本满意",
                 "dissatisfied": "dissatisfied 不满意", "dont_know": "dont_know 不了解"}


# ----------------------------------------------------------------------------------- numbers as text

# ----------------------------------------------------------------------------------- input models

def _error(loc: tuple, value: Any, kind: str, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)


def _count(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a count; allowed: a whole number, 0 or more")
    return value


Count = Annotated[int, BeforeValidator(_count), Field(ge=0)]


def _above_zero(value: Fraction) -> Fraction:
    if value <= 0:
        raise ValueError(f"a finding's deduction points must be above 0; found {text(value)}")
    return value


def _described(value: str) -> str:
    if not value.strip():
        raise ValueError("describe the finding (window efficiency, work style, ...)")
    return value


@record


class Answers:
    """Counts of a respondent category's answers; a missing count is 0."""

    satisfied: Count = 0
    basically_satisfied: Count = 0
    dissatisfied: Count = 0
    dont_know: Count = 0


@record


class Finding:
    """One inspection finding (察访核验): deduction only."""

    item: Annotated[str, AfterValidator(_described)]
    points: Annotated[Num, AfterValidator(_above_zero)]


@dataclass(frozen=True)
class Leaf:
    code: str
    name: str
    max: Fraction
    label: str
    note: str
    missing_note: str
    units: tuple[str, ...] = ()  # empty: every unit (see indicators.applies)


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    max: Fraction
    label: str
    leaves: tuple[Leaf, ...]
    note: str


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    weight: Fraction
    label: str


def _unit_model(leaves: dict[str, Leaf], categories: tuple[Category, ...]) -> type:
    """The unit model of one indicator tree and category list (built once per settings)."""
    allowed_codes = ", ".join(leaves)
    category_codes = {c.code for c in categories}
    allowed_categories = ", ".join(c.code for c in categories)

    def check_indicators(raw: Any, handler: Any) -> Any:
        errors: list[InitErrorDetails] = []
        value = None
        try:
            value = handler(raw)
        except ValidationError as exc:
            errors.extend(_error(e["loc"], e["input"], e["type"], e["msg"]) for e in exc.errors())
        if isinstance(raw, dict):
            for code, given in raw.items():
                leaf = leaves.get(code) if isinstance(code, str) else None
                if leaf is None:
                    errors.append(_error((code,), given, "unknown_indicator",
                                         f"{code} is not a second-level indicator code; allowed: {allowed_codes}"))
                    continue
                if value is not None:
                    points = value[code]
                else:
                    try:
                        points = exact(given)
                    except (NumberError, TypeError):
                        continue  # reported by the handler
                if not ZERO <= points <= leaf.max:
                    errors.append(_error((code,), given, "points_out_of_range",
                                         f"{text(points)} is outside [0, {text(leaf.max)}] for {leaf.code} {leaf.name}"))
        if errors:
            raise ValidationError.from_exception_data("indicators", errors)
        return value

    def check_survey(raw: Any, handler: Any) -> Any:
        errors: list[InitErrorDetails] = []
        value = None
        try:
            value = handler(raw)
        except ValidationError as exc:
            errors.extend(_error(e["loc"], e["input"], e["type"], e["msg"]) for e in exc.errors())
        if isinstance(raw, dict):
            for code, given in raw.items():
                if code not in category_codes:
                    errors.append(_error((code,), given, "unknown_category",
                                         f"{code} is not a respondent category; allowed: {allowed_categories}"))
        if not errors and not any(a.satisfied or a.basically_satisfied or a.dissatisfied for a in value.values()):
            errors.append(_error((), raw, "no_answers",
                                 "the unit has no answers to score (none, or only dont_know); it needs at least "
                                 "one satisfied, basically_satisfied or dissatisfied answer"))
        if errors:
            raise ValidationError.from_exception_data("survey", errors)
        return value

    @record

    class Inputs:
        indicators: Annotated[dict[str, Num], WrapValidator(check_indicators)] = Field(default_factory=dict)
        survey: Annotated[dict[str, Answers], WrapValidator(check_survey)]
        inspection: list[Finding] = Field(default_factory=list)
        info_reports: Count | None = None  # missing: 0 (None tells a quarter's warning it was not given)

    @record

    class Unit:
        id: Id
        name: str | None = None
        kind: Literal["village", "department"]
        inputs: Inputs

    # Annotations are strings (postponed); resolve them against this function's names.
    namespace = {**globals(), **locals()}
    rebuild_dataclass(Inputs, _types_namespace=namespace)
    rebuild_dataclass(Unit, _types_namespace=namespace)
    return Unit


# ----------------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class Config:
    groups: tuple[Group, ...]
    leaves: dict[str, Leaf]
    categories: tuple[Category, ...]
    equal_weights: bool
    values: tuple[Fraction, Fraction, Fraction]
    value_texts: tuple[str, str, str]
    int_values: tuple[int, int, int] | None  # the answer values when all are whole numbers (the default)
    formula: Formula
    minimum: dict[str, int]
    per_missing: Fraction
    reward_top: int
    accountability_bottom: int
    unit_model: type


def config(settings: dict[str, Any]) -> Config:
    """The scoring configuration of validated settings (built once per distinct settings)."""
    return _config(json.dumps(settings, sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=64)
def _config(key: str) -> Config:
    s = GovPublicEvaluationSettings.model_validate(json.loads(key))
    groups = []
    for g in s.indicators:
        leaves = tuple(Leaf(c.code, c.name, c.max, f"{c.code} {c.name}", f"max {text(c.max)}",
                            f"no entry: earns 0 (max {text(c.max)})", tuple(c.units)) for c in g.children)
        most = exact_sum([leaf.max for leaf in leaves])
        groups.append(Group(g.code, g.name, most, f"{g.code} {g.name}", leaves, f"max {text(most)}"))
    leaves = {leaf.code: leaf for g in groups for leaf in g.leaves}
    categories = tuple(Category(c.code, c.name, c.weight, f"{c.code} {c.name}") for c in s.survey_categories)
    a = s.answer_values
    values = (a.satisfied, a.basically_satisfied, a.dissatisfied)
    return Config(groups=tuple(groups), leaves=leaves, categories=categories,
                  equal_weights=len({c.weight for c in categories}) == 1,
                  values=values,
                  value_texts=(text(a.satisfied), text(a.basically_satisfied), text(a.dissatisfied)),
                  int_values=(tuple(int(v) for v in values) if all(v.denominator == 1 for v in values) else None),
                  formula=compile_formula(s.total_formula, FORMULA_NAMES),
                  minimum={"village": s.info_report_minimum.village, "department": s.info_report_minimum.department},
                  per_missing=s.info_report_points_per_missing, reward_top=s.reward_top,
                  accountability_bottom=s.accountability_bottom, unit_model=_unit_model(leaves, categories))


# ----------------------------------------------------------------------------------- build_case

def build_case(shape: Any, period: Period, settings: dict[str, Any]) -> Case:
    """Validate every unit against the settings' tree and categories; all problems at once."""
    cfg = config(settings)
    problems: list[str] = []
    for index, raw in enumerate(shape.people):
        problems.append(f"{subject_label(raw, 'people', index)}: people are not used by {SCHEME_ID}; it scores "
                        f"units only (kind village or department) — remove the people section")
    units = validate_subjects(shape.units, cfg.unit_model, "units", problems)
    for unit in units:
        for code in unit.inputs.indicators:
            leaf = cfg.leaves[code]
            if not applies(leaf.units, unit.id, unit.kind):
                problems.append(f"{unit.id}.inputs.indicators.{code}: {text(unit.inputs.indicators[code])} is not "
                                f"allowed — {leaf.code} {leaf.name} does not apply to {unit.id} (kind {unit.kind}); "
                                f"it applies to {', '.join(leaf.units)}")
    if problems:
        raise CaseError(problems)
    return Case(scheme=SCHEME_ID, period=period, settings=settings, units=units, people=[])


# ----------------------------------------------------------------------------------- compute

def _indicators(cfg: Config, points: dict[str, Fraction]) -> tuple[Fraction, dict[str, Fraction], Breakdown]:
    subtotals: dict[str, Fraction] = {}
    nodes = []
    for group in cfg.groups:
        earned = []
        terms = []
        for leaf in group.leaves:
            given = points.get(leaf.code)
            if given is None:
                terms.append(Breakdown(leaf.label, ZERO, note=leaf.missing_note))
            else:
                earned.append(given)
                terms.append(Breakdown(leaf.label, given, input=given, note=leaf.note))
        subtotal = exact_sum(earned)
        subtotals[group.code] = subtotal
        nodes.append(Breakdown(group.label, subtotal, formula="Σ second-level points", terms=terms,
                               note=group.note))
    total = exact_sum(list(subtotals.values()))
    return total, subtotals, Breakdown("indicator points 指标考核", total, formula="Σ first-level subtotals",
                                       terms=nodes)


def _public(cfg: Config, survey: dict[str, Any]) -> tuple[Fraction, Breakdown]:
    vs, vb, vd = cfg.values
    ts, tb, td = cfg.value_texts
    ints = cfg.int_values
    terms: list[Breakdown] = []
    present: list[tuple[Category, Fraction, Breakdown]] = []
    for category in cfg.categories:
        answers = survey.get(category.code)
        if answers is None:
            terms.append(Breakdown(category.label, None, weight=ZERO, note="no answers; left out"))
            continue
        s, b, d, k = answers.satisfied, answers.basically_satisfied, answers.dissatisfied, answers.dont_know
        leaves = [Breakdown(ANSWER_LABELS["satisfied"], vs, input=s),
                  Breakdown(ANSWER_LABELS["basically_satisfied"], vb, input=b),
                  Breakdown(ANSWER_LABELS["dissatisfied"], vd, input=d),
                  Breakdown(ANSWER_LABELS["dont_know"], None, input=k, note="left out")]
        n = s + b + d
        if n == 0:
            terms.append(Breakdown(category.label, None, weight=ZERO, terms=leaves,
                                   note="only dont_know answers; left out" if k else "no answers; left out"))
            continue
        if ints is not None:
            value = Fraction(ints[0] * s + ints[1] * b + ints[2] * d, n)
        else:
            value = exact_sum([vs * s, vb * b, vd * d]) / n
        node = Breakdown(category.label, value, formula=f"({ts} × {s} + {tb} × {b} + {td} × {d}) ÷ {n}", terms=leaves)
        terms.append(node)
        present.append((category, value, node))
    # build_case refuses a unit without answers, so ``present`` is never empty here
    if cfg.equal_weights:
        weight = Fraction(1, len(present))
        for _category, _value, node in present:
            node.weight = weight
        total = exact_sum([v for _c, v, _n in present]) / len(present)
        formula = f"mean of the values of the {len(present)} categories with answers"
    else:
        scale = exact_sum([c.weight for c, _v, _n in present])
        for category, _value, node in present:
            node.weight = category.weight / scale
        total = exact_sum([node.weight * value for _c, value, node in present])
        formula = "Σ weight × category value ÷ Σ weights of the categories with answers"
    return total, Breakdown("public score 公众评议", total, formula=formula, terms=terms)


def _inspection(findings: list[Finding]) -> tuple[Fraction, Breakdown]:
    total = exact_sum([f.points for f in findings])
    terms = [Breakdown(f.item, f.points, input=f.points) for f in findings]
    return total, Breakdown("inspection 察访核验", total, formula="Σ deductions of the findings", terms=terms,
                            note=None if findings else "no findings")


def _reporting(cfg: Config, unit: Any, annual: bool, period: Period) -> tuple[Fraction, Breakdown]:
    reported = unit.inputs.info_reports or 0  # a missing count is 0
    if not annual:
        return ZERO, Breakdown("reporting shortfall 信息报送", ZERO, input={"reported": reported},
                               note=f"assessed in annual periods only; not in {period}")
    minimum = cfg.minimum[unit.kind]
    missing = max(0, minimum - reported)
    value = missing * cfg.per_missing
    return value, Breakdown("reporting shortfall 信息报送", value,
                            formula=f"max(0, {minimum} − {reported}) × {text(cfg.per_missing)}",
                            input={"reported": reported, "minimum": minimum,
                                   "points_per_missing": cfg.per_missing},
                            note=f"{missing} item(s) missing of the {unit.kind}'s {minimum}")


def compute(case: Case) -> CaseResult:
    cfg = config(case.settings)
    annual = case.period.kind == "year"
    warnings: list[str] = []
    entries = []
    subtotals_by_unit: list[dict[str, Fraction]] = []
    extras: dict[int, dict[str, Any]] = {}
    for unit in case.units:
        inputs = unit.inputs
        points, subtotals, points_node = _indicators(cfg, inputs.indicators)
        public, public_node = _public(cfg, inputs.survey)
        inspection, inspection_node = _inspection(inputs.inspection)
        shortfall, shortfall_node = _reporting(cfg, unit, annual, case.period)
        if not annual and inputs.info_reports is not None:
            warnings.append(f"{unit.id}.inputs.info_reports: {inputs.info_reports} ignored in {case.period}; "
                            f"information reporting is assessed in annual periods only")
        env = {"indicator_points": points, "public_score": public, "inspection": inspection,
               "reporting_shortfall": shortfall}
        nodes = {"indicator_points": points_node, "public_score": public_node, "inspection": inspection_node,
                 "reporting_shortfall": shortfall_node}
        total, breakdown = cfg.formula.explain(env, "total 总分", nodes)
        entries.append((unit, total, breakdown))
        subtotals_by_unit.append(subtotals)
        extras[id(unit)] = {"indicators": {code: as_decimal(v) for code, v in subtotals.items()},
                            "public": round_half_up(public)}
    flags = _flags(cfg, case.units, subtotals_by_unit)
    units = finish(entries, None, flags=lambda u: flags[id(u)], extra=lambda u: extras[id(u)])
    return CaseResult(scheme=SCHEME_ID, period=str(case.period), units=units, warnings=warnings)


def _flags(cfg: Config, units: list[Any], subtotals: list[dict[str, Fraction]]) -> dict[int, list[str]]:
    """reward:<code> for rank ≤ reward_top; accountability:<code> for rank from the bottom ≤
    accountability_bottom unless rewarded for that indicator."""
    flags: dict[int, list[str]] = {id(u): [] for u in units}
    for group in cfg.groups:
        scores = list(enumerate(_whole(subtotals[i][group.code] for i in range(len(units)))))
        top = competition_ranks((i, 0, v) for i, v in scores)
        bottom = ranks_from_bottom(scores)
        for i, unit in enumerate(units):
            if top[i] <= cfg.reward_top:
                flags[id(unit)].append(f"reward:{group.code}")
            elif bottom[i] <= cfg.accountability_bottom:
                flags[id(unit)].append(f"accountability:{group.code}")
    return flags


def _whole(values: Any) -> list[int]:
    """Exact values as whole numbers over their common denominator: the same order, compared fast."""
    values = list(values)
    common = 1
    for v in values:
        if common % v.denominator:
            common = lcm(common, v.denominator)
    return [v.numerator * (common // v.denominator) for v in values]
