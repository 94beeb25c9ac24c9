"""Scoring of `corporate-grading` (schemes.md §1; inputs as in casefile.md "corporate-grading").

``build_case`` validates a case file's subjects (every problem, one line each) and ``compute``
scores them: units first (their rounded, published monthly scores feed the staff formulas), then
people, each with a breakdown down to the raw inputs.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from core.scoring import finish
from core.scoring.blocks import (GradeBands, Vote, apply_review, bound_problem, direct_score,
                                 quantitative_problems, rater_groups, scorecard, vote_problems)
from core.scoring.breakdown import Breakdown
from core.scoring.case import (Case, CaseError, CaseFile, Id, Num, Period, record, subject_label,
                               unit_reference_problems, validate_subjects)
from core.scoring.formula import compile_formula
from core.scoring.numbers import mean, round_half_up, text
from core.scoring.result import CaseResult

SCHEME_ID = "corporate-grading"
ZERO = Fraction(0)
SCORE_LOW, SCORE_HIGH = Fraction(2), Fraction(5)   # direct scores and 360 ratings lie in [2, 5]
RATE_LOW, RATE_HIGH = Fraction(0), Fraction(1)     # plan completion rate
MAX_MONTHS = 12

QUALITY_GROUPS = {"A": ("president", "peer", "unit_head"), "B": ("leader", "peer", "subordinate"),
                  "C": ("superior", "peer")}
QUALITY_LABELS = {"A": "quality (leadership L)", "B": "quality (management M)", "C": "quality (professional Q)"}


# ----------------------------------------------------------------------------------- input models

def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
Level = Literal["very_satisfied", "satisfied", "basically_satisfied", "needs_improvement"]


@record
class ItemIn:
    """A scorecard item; duck-types :class:`core.scoring.blocks.Item` for ``scorecard``."""

    name: str = Field(min_length=1, max_length=200)
    weight: Num
    kind: Literal["quantitative", "qualitative"]
    actual: Num | None = None
    threshold: Num | None = None
    target: Num | None = None
    challenge: Num | None = None
    better: Literal["higher", "lower"] | None = None  # None: higher is better
    level: Level | None = None


@record
class LetterItemIn(ItemIn):
    """A goal of a responsibility letter (目标责任书)."""

    goal: Literal["performance", "development"] | None = None


@record
class ReviewIn:
    """The committee's (考评小组) vote on a proposed changed unit score."""

    proposed: Num
    members: Whole
    votes_for: Whole
    votes_against: Whole
    chair: Literal["for", "against"] | None = None


@record
class QualityIn:
    """One rater's 360 rating."""

    group: str
    score: Num


@record
class PlanIn:
    """The unit's monthly plan sheet (月计划进度/实际进度表) as counts: planned and completed items."""

    planned: Whole
    completed: Whole


@record
class UnitMonthlyInputs:
    plan_rate: Num | None = None   # completed ÷ planned as one number, or
    plan: PlanIn | None = None     # the counts themselves (exactly one of the two)
    form_score: Num | None = None
    form_items: list[ItemIn] | None = None
    adjust: Num = ZERO
    review: ReviewIn | None = None


@record
class UnitAnnualInputs:
    monthly_scores: list[Num]
    target_score: Num | None = None
    target_items: list[LetterItemIn] | None = None
    adjust: Num = ZERO
    review: ReviewIn | None = None


@record
class PersonMonthlyInputs:
    personal_score: Num | None = None
    personal_items: list[ItemIn] | None = None
    adjust: Num = ZERO
    oversees: list[Id] | None = None


@record
class PersonAnnualInputs:
    monthly_scores: list[Num]
    target_score: Num | None = None
    target_items: list[LetterItemIn] | None = None
    quality: list[QualityIn]
    adjust: Num = ZERO


@record
class UnitMonthly:
    id: Id
    name: str | None = None
    kind: Literal["department", "subsidiary"]
    inputs: UnitMonthlyInputs


@record
class UnitAnnual:
    id: Id
    name: str | None = None
    kind: Literal["department", "subsidiary"]
    inputs: UnitAnnualInputs


@record
class PersonMonthly:
    id: Id
    name: str | None = None
    unit: Id | None = None
    class_: Literal["A", "B", "C"] = Field(alias="class")
    inputs: PersonMonthlyInputs


@record
class PersonAnnual:
    id: Id
    name: str | None = None
    unit: Id | None = None
    class_: Literal["A", "B", "C"] = Field(alias="class")
    inputs: PersonAnnualInputs


# ----------------------------------------------------------------------------------- settings

def _settings(raw: dict[str, Any]):
    from plugins.corporate_grading import CorporateGradingSettings  # the plugin imports this module
    return CorporateGradingSettings.model_validate(raw)


def _adjust_bounds(settings, subject: str, monthly: bool):
    """(bounds, how messages name them) for a unit or a class."""
    if subject == "unit":
        return settings.unit_adjust_bounds, "for units"
    if subject == "B":
        if monthly:
            return settings.class_b_monthly_adjust_bounds, "for class B (monthly)"
        return settings.class_b_annual_adjust_bounds, "for class B (annual)"
    return (settings.class_a_adjust_bounds if subject == "A" else settings.class_c_adjust_bounds), f"for class {subject}"


def _quality_weights(settings, klass: str) -> dict[str, Fraction]:
    model = {"A": settings.class_a_quality_weights, "B": settings.class_b_quality_weights,
             "C": settings.class_c_quality_weights}[klass]
    return {group: getattr(model, group) for group in QUALITY_GROUPS[klass]}


# ----------------------------------------------------------------------------------- validation

def _outside(value: Fraction, low: Fraction, high: Fraction) -> str | None:
    if bound_problem(value, low, high) is None:
        return None
    return f"{text(value)} is outside [{text(low)}, {text(high)}]"


def _check_card(path: str, inputs: Any, stem: str, problems: list[str]) -> None:
    """A scorecard given as ``<stem>_score`` XOR ``<stem>_items``."""
    score = getattr(inputs, f"{stem}_score")
    items = getattr(inputs, f"{stem}_items")
    if score is not None and items is not None:
        problems.append(f"{path}: {stem}_score and {stem}_items are both given; give one of them")
    elif score is None and items is None:
        problems.append(f"{path}: {stem}_score or {stem}_items is required; neither was given")
    if score is not None:
        outside = _outside(score, SCORE_LOW, SCORE_HIGH)
        if outside:
            problems.append(f"{path}.{stem}_score: {outside}")
    if items is not None:
        _check_items(f"{path}.{stem}_items", items, problems)


def _check_plan(path: str, inputs: UnitMonthlyInputs, problems: list[str]) -> None:
    """The plan completion: ``plan_rate`` (0–1) XOR ``plan: {planned, completed}`` (whole numbers)."""
    rate, plan = inputs.plan_rate, inputs.plan
    if rate is not None and plan is not None:
        problems.append(f"{path}: plan_rate and plan are both given; give one of them")
    elif rate is None and plan is None:
        problems.append(f"{path}: plan_rate or plan is required; neither was given")
    if rate is not None:
        outside = _outside(rate, RATE_LOW, RATE_HIGH)
        if outside:
            problems.append(f"{path}.plan_rate: {outside} (completed ÷ planned items)")
    if plan is not None:
        if plan.planned < 1:
            problems.append(f"{path}.plan.planned: {plan.planned} is below 1; a plan sheet has at least one item")
            if plan.completed < 0:
                problems.append(f"{path}.plan.completed: {plan.completed} is below 0")
        elif not 0 <= plan.completed <= plan.planned:
            problems.append(f"{path}.plan.completed: {plan.completed} is outside [0, {plan.planned}] "
                            f"(completed items of the {plan.planned} planned)")


def _check_items(path: str, items: list[ItemIn], problems: list[str]) -> None:
    total = ZERO
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        total += item.weight
        if item.weight <= 0:
            problems.append(f"{where}.weight: {text(item.weight)} must be above 0")
        if item.kind == "quantitative":
            missing = [f for f in ("actual", "threshold", "target") if getattr(item, f) is None]
            problems.extend(f"{where}.{f}: required for a quantitative item" for f in missing)
            if item.level is not None:
                problems.append(f"{where}.level: not used by a quantitative item; remove it")
            if item.threshold is not None and item.target is not None:
                for problem in quantitative_problems(item.threshold, item.target, item.challenge, item.better or "higher"):
                    field = "challenge" if problem.startswith("challenge") else "target"
                    problems.append(f"{where}.{field}: {_ordering_message(item, field)}")
        else:
            if item.level is None:
                problems.append(f"{where}.level: required for a qualitative item; allowed: very_satisfied, "
                                f"satisfied, basically_satisfied, needs_improvement")
            for field in ("actual", "threshold", "target", "challenge", "better"):
                if getattr(item, field) is not None:
                    problems.append(f"{where}.{field}: not used by a qualitative item; remove it")
    if total != 1:
        problems.append(f"{path}: weights sum to {text(total)}; they must sum to exactly 1")


def _ordering_message(item: ItemIn, field: str) -> str:
    better = item.better or "higher"
    word = "above" if better == "higher" else "below"
    if field == "target":
        return (f"target {text(item.target)} must be {word} threshold {text(item.threshold)} "
                f"(better: {better})")
    return f"challenge {text(item.challenge)} must be {word} target {text(item.target)} (better: {better})"


def _check_adjust(path: str, value: Fraction, bounds, naming: str, problems: list[str]) -> None:
    outside = _outside(value, bounds.low, bounds.high)
    if outside:
        problems.append(f"{path}.adjust: {outside} {naming}")


def _check_review(path: str, review: ReviewIn | None, problems: list[str]) -> None:
    if review is not None:
        problems.extend(f"{path}.review: {p}" for p in vote_problems(_vote(review)))


def _check_monthly_scores(path: str, scores: list[Fraction], problems: list[str]) -> None:
    if not 1 <= len(scores) <= MAX_MONTHS:
        problems.append(f"{path}.monthly_scores: {len(scores)} scores; allowed: 1 to {MAX_MONTHS} "
                        f"(the monthly final scores of the year)")


def letter_breaches(subject_id: str, items: list[LetterItemIn] | None, person: bool,
                    settings) -> list[tuple[int | None, str]]:
    """Responsibility-letter guidance breaches: ``(item index or None, message)``."""
    if not items:
        return []
    found = []
    bounds = settings.letter_goal_weight
    for i, item in enumerate(items):
        outside = _outside(item.weight, bounds.low, bounds.high)
        if outside:
            found.append((i, f"{subject_id}.inputs.target_items[{i}].weight: {outside} (goal {item.name!r}); "
                             f"responsibility-letter guidance: each goal weighs {text(bounds.low)} to {text(bounds.high)}"))
    if person and all(item.goal is not None for item in items):
        for kind, rule in (("performance", settings.letter_performance_goals),
                           ("development", settings.letter_development_goals)):
            count = sum(1 for item in items if item.goal == kind)
            if not rule.low <= count <= rule.high:
                found.append((None, f"{subject_id}.inputs.target_items: {count} {kind} goal(s); "
                                    f"responsibility-letter guidance: {rule.low} to {rule.high} {kind} goals"))
    return found


def build_case(shape: CaseFile, period: Period, settings: dict[str, Any]) -> Case:
    """Validate every subject; raise :class:`CaseError` with all problems, else return the case."""
    s = _settings(settings)
    if period.kind not in ("month", "year"):
        raise CaseError([f"period: {period.text!r} is a {period.kind}; {SCHEME_ID} scores YYYY-MM or YYYY"])
    monthly = period.kind == "month"
    problems: list[str] = []
    units = validate_subjects(shape.units, UnitMonthly if monthly else UnitAnnual, "units", problems)
    people = validate_subjects(shape.people, PersonMonthly if monthly else PersonAnnual, "people", problems)
    # References are checked against every unit written in the file, valid or not, so that one
    # unit's own problem is not repeated as a bad reference in each of its staff.
    unit_ids = {subject_label(raw, "units", i) for i, raw in enumerate(shape.units) if isinstance(raw, dict)}
    enforce = s.letter_rules == "enforce"

    unit_bounds = _adjust_bounds(s, "unit", monthly)
    for unit in units:
        path = f"{unit.id}.inputs"
        inputs = unit.inputs
        if monthly:
            _check_plan(path, inputs, problems)
            _check_card(path, inputs, "form", problems)
        else:
            _check_monthly_scores(path, inputs.monthly_scores, problems)
            _check_card(path, inputs, "target", problems)
            if enforce:
                problems.extend(m for _i, m in letter_breaches(unit.id, inputs.target_items, False, s))
        _check_adjust(path, inputs.adjust, *unit_bounds, problems)
        _check_review(path, inputs.review, problems)

    allowed_units = ", ".join(sorted(unit_ids)) or "none (the file has no units)"
    for person in people:
        path = f"{person.id}.inputs"
        inputs = person.inputs
        klass = person.class_
        _check_adjust(path, inputs.adjust, *_adjust_bounds(s, klass, monthly), problems)
        if monthly:
            _check_card(path, inputs, "personal", problems)
            if klass == "A":
                if not inputs.oversees:
                    problems.append(f"{path}.oversees: required for class A and not empty; allowed: "
                                    f"the ids of the units the person oversees")
                seen = set()
                for i, unit_id in enumerate(inputs.oversees or ()):
                    if unit_id not in unit_ids:
                        problems.append(f"{path}.oversees[{i}]: {unit_id!r} is not a unit in this file; "
                                        f"allowed: {allowed_units}")
                    elif unit_id in seen:
                        problems.append(f"{path}.oversees[{i}]: {unit_id!r} is listed twice")
                    seen.add(unit_id)
            else:
                if inputs.oversees is not None:
                    problems.append(f"{path}.oversees: only class A oversees units; class {klass} is "
                                    f"scored with its own unit; remove it")
                if person.unit is None:
                    problems.append(f"{person.id}.unit: required for class {klass} (its unit's monthly "
                                    f"score is in its formula); allowed: the id of a unit in this file")
        else:
            _check_monthly_scores(path, inputs.monthly_scores, problems)
            _check_card(path, inputs, "target", problems)
            if enforce:
                problems.extend(m for _i, m in letter_breaches(person.id, inputs.target_items, True, s))
            _check_quality(path, klass, inputs.quality, _quality_weights(s, klass), problems)
    problems.extend(unit_reference_problems([p for p in people if p.unit is not None], unit_ids, required=False))

    if problems:
        raise CaseError(problems)
    return Case(scheme=SCHEME_ID, period=period, settings=settings, units=units, people=people)


def _check_quality(path: str, klass: str, ratings: list[QualityIn], weights: dict[str, Fraction],
                   problems: list[str]) -> None:
    groups = QUALITY_GROUPS[klass]
    if not ratings:
        problems.append(f"{path}.quality: no ratings; at least one rating of a group {', '.join(groups)} "
                        f"is required for class {klass}")
        return
    present = set()
    for i, rating in enumerate(ratings):
        if rating.group not in groups:
            problems.append(f"{path}.quality[{i}].group: {rating.group!r} is not a rater group of class {klass}; "
                            f"allowed: {', '.join(groups)}")
        else:
            present.add(rating.group)
        outside = _outside(rating.score, SCORE_LOW, SCORE_HIGH)
        if outside:
            problems.append(f"{path}.quality[{i}].score: {outside}")
    if present and not any(weights[g] > 0 for g in present):
        problems.append(f"{path}.quality: only groups weighted 0 in the settings have ratings "
                        f"({', '.join(sorted(present))}); the quality score cannot be formed")


# ----------------------------------------------------------------------------------- computing

def _vote(review: ReviewIn) -> Vote:
    return Vote(proposed=review.proposed, members=review.members, votes_for=review.votes_for,
                votes_against=review.votes_against, chair=review.chair)


def _card(label: str, score: Fraction | None, items: list[ItemIn] | None) -> tuple[Fraction, Breakdown]:
    if items is None:
        return direct_score(label, score)
    return scorecard(label, items)


def _monthly_mean(scores: list[Fraction]) -> tuple[Fraction, Breakdown]:
    value = mean(scores)
    terms = [Breakdown(f"monthly score {i}", v, input=v) for i, v in enumerate(scores, start=1)]
    return value, Breakdown("monthly_mean", value, formula=f"mean of {len(scores)} monthly score(s)", terms=terms)


def _mark_inputs(breakdown: Breakdown, raw: dict[str, Fraction]) -> Breakdown:
    """Mark the formula terms that weigh a raw entry (plan_rate, adjust) with that entry."""
    for term in breakdown.terms:
        if term.label in raw:
            term.input = raw[term.label]
    return breakdown


def _plan_score(formula, inputs: UnitMonthlyInputs) -> tuple[Fraction, Breakdown]:
    """plan_score from ``plan_rate`` or from the plan sheet's counts: then plan_rate is exactly
    completed ÷ planned (2 of 3 stays 2/3) and its node shows both counts as raw inputs."""
    if inputs.plan is None:
        score, breakdown = formula.explain({"plan_rate": inputs.plan_rate}, "plan_score")
        return score, _mark_inputs(breakdown, {"plan_rate": inputs.plan_rate})
    planned, completed = inputs.plan.planned, inputs.plan.completed
    rate = Fraction(completed, planned)
    node = Breakdown("plan_rate", rate, formula="completed ÷ planned",
                     terms=[Breakdown("completed", Fraction(completed), input=completed),
                            Breakdown("planned", Fraction(planned), input=planned)])
    score, breakdown = formula.explain({"plan_rate": rate}, "plan_score", {"plan_rate": node})
    for term in breakdown.terms:
        if term.label == "plan_rate":  # the weighted rate itself: show how it is made, not the node twice
            term.formula, term.terms = node.formula, node.terms
    return score, breakdown


def _review(label: str, score: Fraction, breakdown: Breakdown, review: ReviewIn | None):
    if review is None:
        return score, breakdown
    return apply_review(label, score, breakdown, _vote(review))


def _target(subject_id: str, inputs: Any, person: bool, settings, warnings: list[str]) -> tuple[Fraction, Breakdown]:
    value, breakdown = _card("target", inputs.target_score, inputs.target_items)
    for index, message in letter_breaches(subject_id, inputs.target_items, person, settings):
        warnings.append(message)
        node = breakdown.terms[index] if index is not None else breakdown
        guidance = "guidance: " + message.split(": ", 1)[1]
        node.note = f"{node.note}; {guidance}" if node.note else guidance
    return value, breakdown


def compute(case: Case) -> CaseResult:
    """Score a validated case: pure, exact, one rounding per final score."""
    s = _settings(case.settings)
    bounds = s.grade_bounds
    bands = GradeBands.from_mapping({"A": bounds.A, "B": bounds.B, "C": bounds.C}, "D")
    warnings: list[str] = []
    if case.period.kind == "month":
        units, people = _compute_monthly(case, s)
    else:
        units, people = _compute_annual(case, s, warnings)
    return CaseResult(scheme=case.scheme, period=str(case.period), units=finish(units, bands),
                      people=finish(people, bands), warnings=warnings)


def _compute_monthly(case: Case, s) -> tuple[list, list]:
    from plugins.corporate_grading import CLASS_A_MONTHLY_NAMES, CLASS_BC_MONTHLY_NAMES, UNIT_MONTHLY_NAMES
    plan_formula = compile_formula(s.plan_score_formula, {"plan_rate": "number"})
    unit_formula = compile_formula(s.unit_monthly_formula, UNIT_MONTHLY_NAMES)
    person_formulas = {"A": compile_formula(s.class_a_monthly_formula, CLASS_A_MONTHLY_NAMES),
                       "B": compile_formula(s.class_b_monthly_formula, CLASS_BC_MONTHLY_NAMES),
                       "C": compile_formula(s.class_c_monthly_formula, CLASS_BC_MONTHLY_NAMES)}

    units = []
    published: dict[str, Fraction] = {}
    for unit in case.units:
        inputs = unit.inputs
        plan, plan_breakdown = _plan_score(plan_formula, inputs)
        form, form_breakdown = _card("form_score", inputs.form_score, inputs.form_items)
        score, breakdown = unit_formula.explain(
            {"plan_score": plan, "form_score": form, "adjust": inputs.adjust}, "monthly score",
            {"plan_score": plan_breakdown, "form_score": form_breakdown})
        _mark_inputs(breakdown, {"adjust": inputs.adjust})
        score, breakdown = _review("monthly score after committee review", score, breakdown, inputs.review)
        published[unit.id] = Fraction(round_half_up(score))
        units.append((unit, score, breakdown))

    people = []
    unit_nodes: dict[str, Breakdown] = {}
    for person in case.people:
        inputs = person.inputs
        personal, personal_breakdown = _card("personal", inputs.personal_score, inputs.personal_items)
        env = {"personal": personal, "adjust": inputs.adjust}
        explained = {"personal": personal_breakdown}
        if person.class_ == "A":
            scores = [published[u] for u in inputs.oversees]
            env["units_mean"] = value = mean(scores)
            explained["units_mean"] = Breakdown(
                "mean of the overseen units' published monthly scores", value,
                formula=f"({' + '.join(inputs.oversees)}) / {len(scores)}",
                terms=[Breakdown(u, v, input={"unit": u}, note="the unit's published (rounded) monthly score")
                       for u, v in zip(inputs.oversees, scores)])
        else:
            env["unit_score"] = published[person.unit]
            # one node per unit, shared by its staff's breakdowns (breakdowns are never modified)
            node = unit_nodes.get(person.unit)
            if node is None:
                node = unit_nodes[person.unit] = Breakdown(
                    person.unit, published[person.unit], input={"unit": person.unit},
                    note="the unit's published (rounded) monthly score")
            explained["unit_score"] = node
        score, breakdown = person_formulas[person.class_].explain(env, "monthly score", explained)
        _mark_inputs(breakdown, {"adjust": inputs.adjust})
        people.append((person, score, breakdown))
    return units, people


def _compute_annual(case: Case, s, warnings: list[str]) -> tuple[list, list]:
    from plugins.corporate_grading import PERSON_ANNUAL_NAMES, UNIT_ANNUAL_NAMES
    unit_formula = compile_formula(s.unit_annual_formula, UNIT_ANNUAL_NAMES)
    person_formulas = {"A": compile_formula(s.class_a_annual_formula, PERSON_ANNUAL_NAMES),
                       "B": compile_formula(s.class_b_annual_formula, PERSON_ANNUAL_NAMES),
                       "C": compile_formula(s.class_c_annual_formula, PERSON_ANNUAL_NAMES)}
    weights = {k: _quality_weights(s, k) for k in QUALITY_GROUPS}
    quality_formulas = {k: " + ".join(f"{g} × {text(w)}" for g, w in weights[k].items())
                        + " (a group with no raters drops out; the others' weights scale up)" for k in weights}

    units = []
    for unit in case.units:
        inputs = unit.inputs
        monthly_mean, mean_breakdown = _monthly_mean(inputs.monthly_scores)
        target, target_breakdown = _target(unit.id, inputs, False, s, warnings)
        score, breakdown = unit_formula.explain(
            {"monthly_mean": monthly_mean, "target": target, "adjust": inputs.adjust}, "annual score",
            {"monthly_mean": mean_breakdown, "target": target_breakdown})
        _mark_inputs(breakdown, {"adjust": inputs.adjust})
        score, breakdown = _review("annual score after committee review", score, breakdown, inputs.review)
        units.append((unit, score, breakdown))

    people = []
    for person in case.people:
        inputs = person.inputs
        klass = person.class_
        monthly_mean, mean_breakdown = _monthly_mean(inputs.monthly_scores)
        target, target_breakdown = _target(person.id, inputs, True, s, warnings)
        ratings: dict[str, list[Fraction]] = {}
        for rating in inputs.quality:
            ratings.setdefault(rating.group, []).append(rating.score)
        quality, quality_breakdown = rater_groups(QUALITY_LABELS[klass], weights[klass], ratings,
                                                  quality_formulas[klass])
        score, breakdown = person_formulas[klass].explain(
            {"monthly_mean": monthly_mean, "target": target, "quality": quality, "adjust": inputs.adjust},
            "annual score", {"monthly_mean": mean_breakdown, "target": target_breakdown, "quality": quality_breakdown})
        _mark_inputs(breakdown, {"adjust": inputs.adjust})
        people.append((person, score, breakdown))
    return units, people
