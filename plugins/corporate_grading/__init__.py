"""Built-in scheme `corporate-grading`: A/B/C/D grading of a corporate group (schemes.md §1)."""
from __future__ import annotations

import importlib
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from flask_babel import gettext as _

from core import hookimpl
from core.schemes import Scheme, SchemeSettings
from core.schemes_web import scheme_home_panel
from core.scoring.settings import Exact, FormulaText
from core.scoring.numbers import text
from plugins.corporate_grading.inputs import input_fields
from plugins.corporate_grading.scoring import build_case, compute
from plugins.corporate_grading.approvals.hooks import jixiao_event_inputs_saving  # noqa: F401 (the approval chains' lock)

PLUGIN = "plugins.corporate_grading"


def _whole_number(value):
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=100)]


class AdjustBounds(SchemeSettings):
    """An inclusive range ``[low, high]`` of a number (an adjustment, a letter goal's weight)."""

    low: Exact = Field(description="Lowest allowed value (inclusive).")
    high: Exact = Field(description="Highest allowed value (inclusive).")

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low {text(self.low)} is above high {text(self.high)}")
        return self


class GoalCount(SchemeSettings):
    """An inclusive range of how many goals of one kind a personal letter should have."""

    low: Whole = Field(description="Fewest goals (inclusive).")
    high: Whole = Field(description="Most goals (inclusive).")

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self


class GradeBounds(SchemeSettings):
    """Lower bounds of the grades on the rounded final score; below ``C`` is grade D."""

    A: Exact = Field(Fraction("4.6"), description="A: final score ≥ this (default 4.6).")
    B: Exact = Field(Fraction("4.0"), description="B: final score ≥ this (default 4.0).")
    C: Exact = Field(Fraction("3.6"), description="C: final score ≥ this (default 3.6); below it D.")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.A > self.B > self.C:
            raise ValueError(f"the bounds must descend A > B > C; found A {text(self.A)}, "
                             f"B {text(self.B)}, C {text(self.C)}")
        return self


class _QualityWeights(SchemeSettings):
    """Weights of the 360 rater groups; each ≥ 0, together exactly 1. A group with no raters drops
    out and the others' weights are scaled up proportionally (schemes.md, default)."""

    @model_validator(mode="after")
    def _sum_to_one(self):
        weights = [getattr(self, name) for name in type(self).model_fields]
        negative = [f"{name} {text(w)}" for name, w in zip(type(self).model_fields, weights) if w < 0]
        if negative:
            raise ValueError(f"weights cannot be negative: {', '.join(negative)}")
        total = sum(weights, Fraction(0))
        if total != 1:
            raise ValueError(f"weights sum to {text(total)}; they must sum to exactly 1")
        return self


class ClassAQualityWeights(_QualityWeights):
    """Leadership quality L of class A: president 50%, peers 30%, unit heads 20%."""

    president: Exact = Field(Fraction("0.5"), description="Weight of the president's rating.")
    peer: Exact = Field(Fraction("0.3"), description="Weight of the peers' mean rating.")
    unit_head: Exact = Field(Fraction("0.2"), description="Weight of the unit heads' mean rating.")


class ClassBQualityWeights(_QualityWeights):
    """Management quality M of class B: group leaders 50%, peers 20%, subordinates 30%."""

    leader: Exact = Field(Fraction("0.5"), description="Weight of the group leaders' mean rating.")
    peer: Exact = Field(Fraction("0.2"), description="Weight of the peers' mean rating.")
    subordinate: Exact = Field(Fraction("0.3"), description="Weight of the subordinates' mean rating.")


class ClassCQualityWeights(_QualityWeights):
    """Professional quality Q of class C (default): superior 60%, peers 40%."""

    superior: Exact = Field(Fraction("0.6"), description="Weight of the superior's rating.")
    peer: Exact = Field(Fraction("0.4"), description="Weight of the peers' mean rating.")


GradeLetter = Literal["A", "B", "C", "D"]


def _coefficient(value):
    """A bonus coefficient: an exact decimal of 0 or more (the messages name what is allowed)."""
    from core.scoring.numbers import NumberError, exact

    try:
        number = exact(value)
    except NumberError:
        raise ValueError("not a number; allowed: a decimal number of 0 or more, such as 1.2") from None
    if number < 0:
        raise ValueError("below 0; allowed: a decimal number of 0 or more, such as 1.2")
    return number


Coefficient = Annotated[Exact, BeforeValidator(_coefficient)]


class BonusCoefficients(SchemeSettings):
    """The bonus coefficient of each annual grade: a person's bonus = their bonus base × the
    coefficient of their annual grade, to the cent (half up). The source names the bonus
    distribution table but gives no numbers: A 1.5, B 1.2, C 1.0, D 0.5 are defaults."""

    A: Coefficient = Field(Fraction("1.5"), description="Coefficient of annual grade A (default 1.5).")
    B: Coefficient = Field(Fraction("1.2"), description="Coefficient of annual grade B (default 1.2).")
    C: Coefficient = Field(Fraction("1.0"), description="Coefficient of annual grade C (default 1.0).")
    D: Coefficient = Field(Fraction("0.5"), description="Coefficient of annual grade D (default 0.5).")


class BestRule(SchemeSettings):
    """Who is named best on a ranking list (units; staff of each class), monthly and annual
    (default rule: grade A and among the top 3 of the list, ties at the last place included)."""

    grade: GradeLetter = Field("A", description="Lowest grade that can be named best (default A).")
    top: Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=1000)] = Field(
        3, description="How many places of each list are named best, ties included (default 3).")


class PromotionRule(SchemeSettings):
    """Promotion candidates of an annual cycle (default rule: annual grade A and no monthly grade of
    that year below B; the source names the output, not the rule)."""

    annual_grade: GradeLetter = Field("A", description="Lowest annual grade of a candidate (default A).")
    lowest_monthly_grade: GradeLetter = Field(
        "B", description="Lowest monthly grade a candidate may have had that year (default B).")


def _bounds(low: str, high: str, description: str):
    return Field(default_factory=lambda: AdjustBounds(low=low, high=high), description=description)


UNIT_MONTHLY_NAMES = {"plan_score": "number", "form_score": "number", "adjust": "number"}
CLASS_A_MONTHLY_NAMES = {"personal": "number", "units_mean": "number", "adjust": "number"}
CLASS_BC_MONTHLY_NAMES = {"personal": "number", "unit_score": "number", "adjust": "number"}
UNIT_ANNUAL_NAMES = {"monthly_mean": "number", "target": "number", "adjust": "number"}
PERSON_ANNUAL_NAMES = {"monthly_mean": "number", "target": "number", "quality": "number", "adjust": "number"}


class CorporateGradingSettings(SchemeSettings):
    """Settings of `corporate-grading`; every default is the spec's (schemes.md §1).

    Formulas are expression strings a tenant may change (core/scoring/formula.py); each may use only
    the names listed for it:

    - ``plan_score_formula`` (``plan_rate``, completed ÷ planned items, 0–1): ``5 * plan_rate`` (default).
    - ``unit_monthly_formula`` (``plan_score``, ``form_score``, ``adjust``).
    - ``class_a_monthly_formula`` (``personal``, ``units_mean`` = mean of the published (rounded)
      monthly scores of the units the person oversees, ``adjust``).
    - ``class_b_monthly_formula`` / ``class_c_monthly_formula`` (``personal``, ``unit_score`` = the
      published monthly score of the person's own unit, ``adjust``).
    - ``unit_annual_formula`` (``monthly_mean``, ``target``, ``adjust``).
    - ``class_a_annual_formula`` / ``class_b_annual_formula`` / ``class_c_annual_formula``
      (``monthly_mean``, ``target``, ``quality`` = the class's 360 quality score L / M / Q, ``adjust``).

    Other settings: ``letter_rules`` (warn | enforce), ``grade_bounds`` (A/B/C lower bounds, below C
    is D), the 360 rater-group weights per class, the allowed range of ``adjust`` per subject kind,
    class and period, the responsibility-letter guidance (goal weight range, goal counts), and the
    outputs' rules: ``best_rule``, ``promotion_rule`` and ``bonus_coefficients`` (defaults: the
    source gives no rule or number for them).
    """

    letter_rules: Literal["warn", "enforce"] = Field(
        "warn", description="Responsibility-letter guidance: 'warn' (default) lists each breach in the "
                            "output's warnings and next to the goal; 'enforce' makes each breach a validation error.")
    grade_bounds: GradeBounds = Field(default_factory=GradeBounds,
                                      description="Lower bounds of grades A, B, C on the rounded final score; below C is D.")

    plan_score_formula: FormulaText({"plan_rate": "number"}) = Field(
        "5 * plan_rate", description="A unit's plan score from its plan completion rate (default).")
    unit_monthly_formula: FormulaText(UNIT_MONTHLY_NAMES) = Field(
        "plan_score * 0.6 + form_score * 0.4 + adjust", description="A unit's monthly score.")
    class_a_monthly_formula: FormulaText(CLASS_A_MONTHLY_NAMES) = Field(
        "personal * 0.3 + units_mean * 0.7 + adjust", description="Class A monthly score.")
    class_b_monthly_formula: FormulaText(CLASS_BC_MONTHLY_NAMES) = Field(
        "personal * 0.4 + unit_score * 0.6 + adjust", description="Class B monthly score.")
    class_c_monthly_formula: FormulaText(CLASS_BC_MONTHLY_NAMES) = Field(
        "personal * 0.8 + unit_score * 0.2 + adjust", description="Class C monthly score.")
    unit_annual_formula: FormulaText(UNIT_ANNUAL_NAMES) = Field(
        "monthly_mean * 0.4 + target * 0.6 + adjust", description="A unit's annual score.")
    class_a_annual_formula: FormulaText(PERSON_ANNUAL_NAMES) = Field(
        "monthly_mean * 0.2 + target * 0.6 + quality * 0.2 + adjust", description="Class A annual score (quality = L).")
    class_b_annual_formula: FormulaText(PERSON_ANNUAL_NAMES) = Field(
        "monthly_mean * 0.25 + target * 0.6 + quality * 0.15 + adjust", description="Class B annual score (quality = M).")
    class_c_annual_formula: FormulaText(PERSON_ANNUAL_NAMES) = Field(
        "monthly_mean * 0.3 + target * 0.6 + quality * 0.1 + adjust", description="Class C annual score (quality = Q, default).")

    class_a_quality_weights: ClassAQualityWeights = Field(
        default_factory=ClassAQualityWeights, description="Leadership quality L: president, peer, unit_head.")
    class_b_quality_weights: ClassBQualityWeights = Field(
        default_factory=ClassBQualityWeights, description="Management quality M: leader, peer, subordinate.")
    class_c_quality_weights: ClassCQualityWeights = Field(
        default_factory=ClassCQualityWeights, description="Professional quality Q (default): superior, peer.")

    unit_adjust_bounds: AdjustBounds = _bounds("-1", "1", "Allowed adjust of a unit, monthly and annual: [-1, 1].")
    class_a_adjust_bounds: AdjustBounds = _bounds("-1", "1", "Allowed adjust of class A, monthly and annual: [-1, 1].")
    class_b_monthly_adjust_bounds: AdjustBounds = _bounds("-1", "1", "Allowed adjust of class B, monthly: [-1, 1].")
    class_b_annual_adjust_bounds: AdjustBounds = _bounds("-2", "2", "Allowed adjust of class B, annual: [-2, 2].")
    class_c_adjust_bounds: AdjustBounds = _bounds("-1", "1", "Allowed adjust of class C, monthly and annual: [-1, 1].")

    letter_goal_weight: AdjustBounds = _bounds(
        "0.05", "0.3", "Guidance: each goal of a responsibility letter (unit or personal) weighs 5%–30%.")
    letter_performance_goals: GoalCount = Field(
        default_factory=lambda: GoalCount(low=5, high=7),
        description="Guidance: a personal letter has 5–7 performance goals (checked when every goal has `goal`).")
    letter_development_goals: GoalCount = Field(
        default_factory=lambda: GoalCount(low=2, high=3),
        description="Guidance: a personal letter has 2–3 development goals (checked when every goal has `goal`).")

    # Outputs (annual results, schemes.md "Outputs"): rules the source leaves open, marked default.
    best_rule: BestRule = Field(default_factory=BestRule,
                                description="Best units and staff: grade at least A and in the top 3 of each list (default).")
    promotion_rule: PromotionRule = Field(
        default_factory=PromotionRule,
        description="Promotion candidates: annual grade A and no monthly grade below B that year (default).")
    bonus_coefficients: BonusCoefficients = Field(
        default_factory=BonusCoefficients,
        description="Bonus = bonus base × the coefficient of the annual grade (defaults A 1.5, B 1.2, C 1.0, D 0.5).")


def adjust_refusal(kind: str, flags: list, extra: dict) -> str | None:
    """A unit's score feeds its staff's scores: it changes through the committee review, not alone."""
    if kind == "unit":
        return _("A unit's score feeds its staff's scores, so it is changed through the committee's "
                 "review of the unit, not on its own.")
    return None


def grade_of(settings: dict, score) -> str:
    """The grade of a rounded score under a cycle's settings (for scores adjusted on appeal)."""
    from core.scoring.blocks import GradeBands

    bounds = settings.get("grade_bounds") or {"A": "4.6", "B": "4.0", "C": "3.6"}
    return GradeBands.from_mapping(bounds, lowest="D").grade(score)


SCHEME = Scheme(
    id="corporate-grading",
    name_zh="集团A/B/C/D等级考评",
    name_en="Corporate A/B/C/D grading",
    version="1.0",
    plugin=PLUGIN,
    description_zh="单位月度计划与考评表、员工按A/B/C类加权,年度目标责任书与360度素质评价,考评小组表决。",
    description_en="Monthly unit plans and forms, staff weighted by class A/B/C; annual responsibility "
                   "letters, 360 quality reviews and committee votes.",
    periods=("month", "year"),
    subject_kinds=("unit", "person"),
    unit_kinds=("department", "subsidiary"),
    staff_classes=("A", "B", "C"),
    settings_model=CorporateGradingSettings,
    build_case=build_case,
    input_fields=input_fields,
    grade_of=grade_of,
    appeal_days=3,  # 3 working days after the result is communicated (source 002)
    adjust_refusal=adjust_refusal,
    compute=compute,
    # who rated what in the 360 reviews is HR's alone; the group means stay in the breakdown
    rater_answers=("quality",),
    rater_groups=("president", "peer", "unit_head", "leader", "subordinate", "superior"),
)


@hookimpl
def jixiao_load_schemes():
    return [SCHEME]


# The scheme's pages, one package per feature (a reader finds each by its folder name). Each
# package's views module has a blueprint ``bp``, ``cycle_links(cycle, user)`` and ``menu_items(tenant, user)``.
FEATURES = ("organisation", "plans", "letters", "committee", "reviews", "approvals", "annual")


def features() -> list:
    """The views modules of the features (imported on first use: they import this module back)."""
    return [importlib.import_module(f"{PLUGIN}.{name}.views") for name in FEATURES]


@hookimpl
def jixiao_load_blueprints():
    return [feature.bp for feature in features()]


@hookimpl
def jixiao_load_migrations():
    return [str(Path(__file__).parent / "migrations")]


@hookimpl
def jixiao_load_cli_commands():
    from plugins.corporate_grading.demo.cli import corporate_cli

    return [corporate_cli]


@hookimpl
def jixiao_tpl_menu_items(tenant, user):
    from plugins.corporate_grading.web import scheme_enabled

    if tenant is None or not scheme_enabled():
        return []
    return [item for feature in features() for item in feature.menu_items(tenant, user)]


@hookimpl
def jixiao_tpl_cycle_links(tenant, user, cycle):
    if cycle.scheme_id != SCHEME.id:
        return []
    return [link for feature in features() for link in feature.cycle_links(cycle, user)]


@hookimpl
def jixiao_event_cycle_created(tenant, cycle):
    """Fill what the scheme's own records already know into the new cycle's inputs."""
    if cycle.scheme_id != SCHEME.id:
        return
    from plugins.corporate_grading.prefill import prefill

    prefill(cycle)


@hookimpl
def jixiao_load_template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    from plugins.corporate_grading.todo import todo

    return scheme_home_panel(SCHEME, tenant, "corporate_grading/home_panel.html", todo=lambda: todo(user))
