"""Responsibility letters (目标责任书): drafting, goals, the guidance checks, signing by both sides,
reopening, year-end scoring, and the scored letters as case-file items for the annual cycle.

Every change is audited and bumps the letter's version: a caller passes the version its form was
built from and a stale one is refused (:class:`LetterError` with ``stale``). Nothing here commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import record
from core.db import db_session
from core.models import OrgUnit, Person, User
from core.models.base import utcnow
from core.scoring.blocks import LEVELS, Item, quantitative_problems, score_item, scorecard
from core.scoring.numbers import NumberError, exact, text
from plugins.corporate_grading.letters.models import (BETTER, GOAL_TYPES, KINDS, SIDES, LetterGoal,
                                                      ResponsibilityLetter)
from plugins.corporate_grading.scoring import LetterItemIn, letter_breaches

SCHEME_ID = "corporate-grading"
UNIT_KINDS = ("department", "subsidiary")
STAFF_CLASSES = ("A", "B", "C")
MAX_GOALS = 30
NAME_MAX, MEASURE_MAX, REASON_MAX, NUMBER_MAX = 200, 500, 500, 40
HUNDRED = Fraction(100)
WEIGHT_PLACES = 4  # a percent with up to 4 decimals is a fraction with up to 6: exact as text
AUDITED = ("name", "goal", "weight", "kind", "measure", "threshold", "target", "challenge", "better")


class LetterError(ValueError):
    """A letter action that is not possible now. ``problems`` lists every reason; ``errors`` maps
    form fields to their message; ``stale`` says the letter changed since the form was built."""

    def __init__(self, message: str, problems: list[str] | None = None, errors: dict[str, str] | None = None,
                 stale: bool = False):
        super().__init__(message)
        self.problems = problems or []
        self.errors = errors or {}
        self.stale = stale


# ----------------------------------------------------------------------------------- labels

def goal_type_label(value: str | None) -> str:
    return {"performance": _("performance goal (业绩目标)"), "development": _("development goal (发展目标)")}.get(value or "", "")


def level_label(value: str | None) -> str:
    return {"very_satisfied": _("very satisfied (很满意)"), "satisfied": _("satisfied (满意)"),
            "basically_satisfied": _("basically satisfied (基础满意)"),
            "needs_improvement": _("needs improvement (待提升)")}.get(value or "", "")


def state_label(state: str) -> str:
    return {"draft": _("draft"), "signed": _("signed"), "scored": _("scored")}.get(state, state)


def subject_name(letter: ResponsibilityLetter) -> str:
    if letter.unit_id is not None:
        return f"{letter.unit.name} ({letter.unit.code})" if letter.unit else str(letter.unit_id)
    return f"{letter.person.name} ({letter.person.number})" if letter.person else str(letter.person_id)


def percent(value: Fraction) -> str:
    """A percent for messages: ``95``, ``12.5``."""
    return text(value, WEIGHT_PLACES)


# ----------------------------------------------------------------------------------- settings

def settings():
    """The tenant's current settings of the scheme (defaults filled in)."""
    from core.cycles.service import enabled_scheme
    from plugins.corporate_grading import CorporateGradingSettings

    _scheme, raw = enabled_scheme(SCHEME_ID)
    return CorporateGradingSettings.model_validate(raw)


# ----------------------------------------------------------------------------------- reading

def goals_of(letter: ResponsibilityLetter) -> list[LetterGoal]:
    return list(db_session.scalars(select(LetterGoal).where(LetterGoal.letter_id == letter.id)
                                   .order_by(LetterGoal.position, LetterGoal.id)))


def get_goal(letter: ResponsibilityLetter, goal_id: int) -> LetterGoal | None:
    goal = db_session.get(LetterGoal, goal_id)
    return goal if goal is not None and goal.letter_id == letter.id else None


def total_weight(goals: list[LetterGoal]) -> Fraction:
    return sum((exact(g.weight) for g in goals), Fraction(0))


# ----------------------------------------------------------------------------------- goal input

def _number(raw: str, label: str, errors: dict[str, str], key: str, required: bool) -> str | None:
    value = (raw or "").strip()
    if not value:
        if required:
            errors[key] = _("%(field)s: required for a quantitative goal; allowed: a decimal number.", field=label)
        return None
    try:
        exact(value)
    except NumberError:
        errors[key] = _("%(field)s: %(value)s is not a number; allowed: a decimal number such as 95 or 0.85.",
                        field=label, value=repr(value[:NUMBER_MAX]))
        return None
    if len(value) > NUMBER_MAX:
        errors[key] = _("%(field)s: %(count)s characters; allowed: at most %(max)s.", field=label,
                        count=len(value), max=NUMBER_MAX)
        return None
    return value


def parse_goal(form: Mapping[str, Any], personal: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """A goal from a form (or a stored goal's values): ``(values, errors by field)``.

    The scheme's item rules (plugins.corporate_grading.scoring): a name, a weight above 0, a kind; a
    quantitative goal has a threshold and a target ordered the way ``better`` says, and optionally
    a challenge beyond the target; a qualitative goal has none of them. Weights are percents.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    name = str(form.get("name") or "").strip()
    if not name:
        errors["name"] = _("Goal: required; allowed: a name of 1 to %(max)s characters.", max=NAME_MAX)
    elif len(name) > NAME_MAX:
        errors["name"] = _("Goal: %(count)s characters; allowed: at most %(max)s.", count=len(name), max=NAME_MAX)
    values["name"] = name

    goal = str(form.get("goal") or "").strip() or None
    if personal:
        if goal not in GOAL_TYPES:
            errors["goal"] = _("Goal type: %(value)s is not allowed; allowed: performance (业绩目标), development (发展目标).",
                               value=repr(goal or ""))
    elif goal is not None:
        errors["goal"] = _("Goal type: a unit letter's goals have no type; leave it empty.")
        goal = None
    values["goal"] = goal if personal else None

    weight_text = str(form.get("weight") or "").strip().rstrip("%").strip()
    try:
        weight = exact(weight_text) if weight_text else None
    except NumberError:
        weight = None
    if weight is None:
        errors["weight"] = _("Weight: %(value)s is not a percent; allowed: a number above 0 and at most 100, "
                             "e.g. 20 for 20%%.", value=repr(weight_text[:NUMBER_MAX]))
    elif not 0 < weight <= HUNDRED:
        errors["weight"] = _("Weight: %(value)s%% is outside what is allowed: above 0%% and at most 100%%.",
                             value=weight_text)
    elif (weight * 10 ** WEIGHT_PLACES).denominator != 1:
        errors["weight"] = _("Weight: %(value)s%% has more than %(places)s decimals; allowed: at most %(places)s.",
                             value=weight_text, places=WEIGHT_PLACES)
    values["weight"] = weight_text

    kind = str(form.get("kind") or "").strip()
    if kind not in KINDS:
        errors["kind"] = _("Kind: %(value)s is not allowed; allowed: quantitative (定量), qualitative (定性).",
                           value=repr(kind))
    values["kind"] = kind

    measure = str(form.get("measure") or "").strip()
    if len(measure) > MEASURE_MAX:
        errors["measure"] = _("Measure: %(count)s characters; allowed: at most %(max)s.", count=len(measure),
                              max=MEASURE_MAX)
    values["measure"] = measure or None

    better = str(form.get("better") or "higher").strip() or "higher"
    labels = {"threshold": _("Threshold"), "target": _("Target"), "challenge": _("Challenge")}
    if kind == "quantitative":
        if better not in BETTER:
            errors["better"] = _("Better: %(value)s is not allowed; allowed: higher, lower.", value=repr(better))
            better = "higher"
        for key in ("threshold", "target", "challenge"):
            values[key] = _number(str(form.get(key) or ""), labels[key], errors, key, key != "challenge")
        if values["threshold"] is not None and values["target"] is not None:
            challenge = exact(values["challenge"]) if values["challenge"] is not None else None
            for problem in quantitative_problems(exact(values["threshold"]), exact(values["target"]), challenge, better):
                key = "challenge" if problem.startswith("challenge") else "target"
                word = _("above") if better == "higher" else _("below")
                if key == "target":
                    errors[key] = _("Target: %(target)s must be %(word)s the threshold %(threshold)s (better: %(better)s).",
                                    target=values["target"], word=word, threshold=values["threshold"],
                                    better=better_label(better))
                else:
                    errors[key] = _("Challenge: %(challenge)s must be %(word)s the target %(target)s (better: %(better)s).",
                                    challenge=values["challenge"], word=word, target=values["target"],
                                    better=better_label(better))
    else:
        for key in ("threshold", "target", "challenge"):
            if str(form.get(key) or "").strip() and kind == "qualitative":
                errors[key] = _("%(field)s: not used by a qualitative goal; clear it.", field=labels[key])
            values[key] = None
    values["better"] = better
    return values, errors


def better_label(value: str) -> str:
    return _("higher is better") if value == "higher" else _("lower is better")


# ----------------------------------------------------------------------------------- checks

@dataclass
class Checks:
    """What the letter page shows next to the goals and what keeps the letter from being signed."""

    total: Fraction = Fraction(0)                     # Σ weights, percent
    goal_notes: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # goal id -> (level, message)
    letter_notes: list[tuple[str, str]] = field(default_factory=list)          # (level, message)
    blocking: list[str] = field(default_factory=list)

    @property
    def signable(self) -> bool:
        return not self.blocking

    def note(self, goal_id: int | None, level: str, message: str) -> None:
        if goal_id is None:
            self.letter_notes.append((level, message))
        else:
            self.goal_notes.setdefault(goal_id, []).append((level, message))
        if level == "error":
            self.blocking.append(message)


def check(letter: ResponsibilityLetter, goals: list[LetterGoal], rules=None) -> Checks:
    """The hard rules (weights sum to exactly 100%, every goal valid) and the guidance
    (``letter_breaches``: each goal 5–30%; a personal letter 5–7 performance and 2–3 development
    goals), as warnings under ``letter_rules: warn`` and as errors under ``enforce``."""
    rules = rules or settings()
    personal = letter.person_id is not None
    checks = Checks(total=total_weight(goals))
    if not goals:
        checks.note(None, "error", _("The letter has no goals yet."))
        return checks
    if checks.total != HUNDRED:
        checks.note(None, "error", _("The weights sum to %(total)s%%; they must sum to exactly 100%% before the "
                                     "letter is signed.", total=percent(checks.total)))
    valid = True
    for goal in goals:
        _values, errors = parse_goal(_stored(goal), personal)
        for message in errors.values():
            checks.note(goal.id, "error", message)
        valid = valid and not errors
    if not valid:
        return checks
    level = "error" if rules.letter_rules == "enforce" else "warning"
    items = [_letter_item(goal) for goal in goals]
    bounds = rules.letter_goal_weight
    count_breach = False
    for index, _message in letter_breaches("letter", items, personal, rules):
        if index is None:
            count_breach = True
            continue
        goal = goals[index]
        checks.note(goal.id, level, _("Goal “%(name)s”: weight %(value)s%% is outside the guidance of %(low)s%%–%(high)s%% "
                                      "per goal.", name=goal.name, value=percent(exact(goal.weight)),
                                      low=percent(bounds.low * 100), high=percent(bounds.high * 100)))
    if count_breach:
        for kind, rule in (("performance", rules.letter_performance_goals),
                           ("development", rules.letter_development_goals)):
            count = sum(1 for goal in goals if goal.goal == kind)
            if not rule.low <= count <= rule.high:
                if kind == "performance":
                    message = _("%(count)s performance goal(s) (业绩目标); the guidance for a personal letter is "
                                "%(low)s to %(high)s.", count=count, low=rule.low, high=rule.high)
                else:
                    message = _("%(count)s development goal(s) (发展目标); the guidance for a personal letter is "
                                "%(low)s to %(high)s.", count=count, low=rule.low, high=rule.high)
                checks.note(None, level, message)
    return checks


def _stored(goal: LetterGoal) -> dict[str, Any]:
    return {key: getattr(goal, key) for key in AUDITED}


def _letter_item(goal: LetterGoal) -> LetterItemIn:
    return LetterItemIn(name=goal.name, weight=exact(goal.weight) / HUNDRED, kind=goal.kind,
                        threshold=goal.threshold, target=goal.target, challenge=goal.challenge,
                        better=goal.better if goal.kind == "quantitative" else None, goal=goal.goal)


# ----------------------------------------------------------------------------------- live score

@dataclass
class LiveScore:
    """Each scored goal's item score (2–5) and, once every goal is scored, the letter's score."""

    items: dict[int, int]
    total: Fraction | None

    @property
    def total_text(self) -> str | None:
        return None if self.total is None else text(self.total)


def _item(goal: LetterGoal) -> Item:
    quantitative = goal.kind == "quantitative"
    return Item(name=goal.name, weight=exact(goal.weight) / HUNDRED, kind=goal.kind,
                actual=exact(goal.actual) if quantitative and goal.actual is not None else None,
                threshold=exact(goal.threshold) if quantitative else None,
                target=exact(goal.target) if quantitative else None,
                challenge=exact(goal.challenge) if quantitative and goal.challenge is not None else None,
                better=goal.better if quantitative else None, level=None if quantitative else goal.level,
                goal=goal.goal)


def live_score(goals: list[LetterGoal]) -> LiveScore:
    """Item scores by the scheme's scale (core.scoring.blocks) and Σ weight × score, exact."""
    items = {goal.id: score_item(_item(goal))[0] for goal in goals if goal.scored}
    total = None
    if goals and len(items) == len(goals) and total_weight(goals) == HUNDRED:
        total, _breakdown = scorecard("target", [_item(goal) for goal in goals])
    return LiveScore(items=items, total=total)


# ----------------------------------------------------------------------------------- changes

def _expect(letter: ResponsibilityLetter, version: int | None) -> None:
    if version is None or version != letter.version:
        raise LetterError(_("The letter was changed by someone else since this page was loaded; reload the page."),
                          stale=True)


def _editable(letter: ResponsibilityLetter) -> None:
    if letter.signed:
        raise LetterError(_("This letter is signed by both sides: its goals are locked. HR may reopen it with a reason."))


def _touch(letter: ResponsibilityLetter, actor: str) -> None:
    """Mark the letter changed (its version moves on); a goal change withdraws a lone signature,
    since it was given to other goals."""
    if letter.assessed_signed_by is not None or letter.superior_signed_by is not None:
        if not letter.signed:
            record("corp.letter.unsign", letter, before=_signatures(letter), after={"reason": "goals changed"}, actor=actor)
            letter.assessed_signed_by = letter.assessed_signed_at = None
            letter.superior_signed_by = letter.superior_signed_at = None
    letter.updated_by = actor
    letter.updated_at = utcnow()


def _signatures(letter: ResponsibilityLetter) -> dict[str, Any]:
    return {"assessed_signed_by": letter.assessed_signed_by, "superior_signed_by": letter.superior_signed_by}


def _refresh_state(letter: ResponsibilityLetter, goals: list[LetterGoal]) -> None:
    if not letter.signed:
        letter.state = "draft"
    else:
        letter.state = "scored" if goals and all(g.scored for g in goals) else "signed"


def add_goal(letter: ResponsibilityLetter, form: Mapping[str, Any], version: int | None, actor: str) -> LetterGoal:
    """A new goal at the end of the letter."""
    _editable(letter)
    values, errors = parse_goal(form, letter.person_id is not None)
    if errors:
        raise LetterError(_("Not saved: correct the fields marked below."), errors=errors)
    _expect(letter, version)
    goals = goals_of(letter)
    if len(goals) >= MAX_GOALS:
        raise LetterError(_("A letter has at most %(max)s goals; this one has %(count)s.", max=MAX_GOALS, count=len(goals)))
    goal = LetterGoal(letter_id=letter.id, position=max((g.position for g in goals), default=0) + 1, **values)
    db_session.add(goal)
    _touch(letter, actor)
    db_session.flush()
    record("corp.letter.goal.add", letter, after={"goal_id": goal.id, **values}, actor=actor)
    return goal


def update_goal(letter: ResponsibilityLetter, goal: LetterGoal, form: Mapping[str, Any], version: int | None,
                actor: str) -> LetterGoal:
    """Change a goal of a draft letter; a year-end value of another kind is dropped."""
    _editable(letter)
    values, errors = parse_goal(form, letter.person_id is not None)
    if errors:
        raise LetterError(_("Not saved: correct the fields marked below."), errors=errors)
    _expect(letter, version)
    before = _stored(goal)
    for key, value in values.items():
        setattr(goal, key, value)
    if goal.kind == "quantitative":
        goal.level = None
    else:
        goal.actual = None
    _touch(letter, actor)
    record("corp.letter.goal.edit", letter, before={"goal_id": goal.id, **before}, after={"goal_id": goal.id, **values},
           actor=actor)
    return goal


def delete_goal(letter: ResponsibilityLetter, goal: LetterGoal, version: int | None, actor: str) -> None:
    _editable(letter)
    _expect(letter, version)
    before = {"goal_id": goal.id, **_stored(goal)}
    db_session.delete(goal)
    _touch(letter, actor)
    record("corp.letter.goal.delete", letter, before=before, actor=actor)


def sign(letter: ResponsibilityLetter, side: str, user: User, version: int | None, actor: str) -> None:
    """Sign one side (the caller has checked that ``user`` may: plugins.corporate_grading.policy).

    Refused while a hard rule or, under ``letter_rules: enforce``, a guidance rule is broken.
    """
    if side not in SIDES:
        raise LetterError(_("%(value)s is not a side; allowed: assessed, superior.", value=repr(side)))
    if letter.signed:
        raise LetterError(_("This letter is already signed by both sides."))
    if getattr(letter, f"{side}_signed_by") is not None:
        raise LetterError(_("This side of the letter is already signed."))
    _expect(letter, version)
    goals = goals_of(letter)
    checks = check(letter, goals)
    if checks.blocking:
        raise LetterError(_("The letter cannot be signed yet."), problems=checks.blocking)
    setattr(letter, f"{side}_signed_by", user.id)
    setattr(letter, f"{side}_signed_at", utcnow())
    _refresh_state(letter, goals)
    letter.updated_by = actor
    record("corp.letter.sign", letter, after={"side": side, "user": user.username, "state": letter.state,
                                              "weights": percent(checks.total)}, actor=actor)


def _final(letter: ResponsibilityLetter) -> None:
    """A letter is final once its year's annual cycle has left draft and open: its score is in results."""
    from core.cycles.service import EDITABLE_STATES
    from core.models import Cycle

    states = set(db_session.scalars(select(Cycle.state).where(Cycle.scheme_id == SCHEME_ID, Cycle.period == letter.year)))
    if states - set(EDITABLE_STATES):
        raise LetterError(_("The annual cycle of %(year)s is past its inputs: this letter's score is part of its "
                            "results and can no longer change.", year=letter.year))


def reopen(letter: ResponsibilityLetter, reason: str, version: int | None, actor: str) -> None:
    """HR reopens a signed letter: both signatures are cleared, the goals editable again."""
    reason = (reason or "").strip()
    if not letter.signed:
        raise LetterError(_("Only a letter signed by both sides is reopened; this one is a draft."))
    if not reason:
        raise LetterError(_("Reason: required; say why the signed letter is reopened."), errors={"reason": _("Required.")})
    if len(reason) > REASON_MAX:
        raise LetterError(_("Reason: %(count)s characters; allowed: at most %(max)s.", count=len(reason), max=REASON_MAX),
                          errors={"reason": _("Too long.")})
    _final(letter)
    _expect(letter, version)
    before = {**_signatures(letter), "state": letter.state}
    for goal in goals_of(letter):  # the year-end values were for the goals as signed: score again
        goal.actual = goal.level = None
    letter.assessed_signed_by = letter.assessed_signed_at = None
    letter.superior_signed_by = letter.superior_signed_at = None
    letter.state = "draft"
    letter.updated_by = actor
    record("corp.letter.reopen", letter, before=before, after={"state": "draft", "reason": reason}, actor=actor)


def set_scores(letter: ResponsibilityLetter, form: Mapping[str, Any], version: int | None, actor: str) -> int:
    """Year-end values of a signed letter: ``actual-<goal id>`` (a number) for quantitative goals,
    ``level-<goal id>`` for qualitative ones; an empty value clears it. Every value is checked first:
    one bad value and nothing is saved. Returns the number of goals changed."""
    if not letter.signed:
        raise LetterError(_("Goals are scored once the letter is signed by both sides; this one is a draft."))
    _final(letter)
    goals = goals_of(letter)
    errors: dict[str, str] = {}
    wanted: dict[int, str | None] = {}
    for goal in goals:
        if goal.kind == "quantitative":
            key = f"actual-{goal.id}"
            if key not in form:
                continue
            raw = str(form.get(key) or "").strip()
            value = None
            if raw:
                try:
                    exact(raw)
                    value = raw if len(raw) <= NUMBER_MAX else None
                except NumberError:
                    pass
                if value is None:
                    errors[key] = _("Actual of “%(name)s”: %(value)s is not a number; allowed: a decimal number.",
                                    name=goal.name, value=repr(raw[:NUMBER_MAX]))
                    continue
        else:
            key = f"level-{goal.id}"
            if key not in form:
                continue
            value = str(form.get(key) or "").strip() or None
            if value is not None and value not in LEVELS:
                errors[key] = _("Level of “%(name)s”: %(value)s is not allowed; allowed: very_satisfied, satisfied, "
                                "basically_satisfied, needs_improvement.", name=goal.name, value=repr(value))
                continue
        wanted[goal.id] = value
    if errors:
        raise LetterError(_("Not saved: correct the fields marked below."), errors=errors)
    _expect(letter, version)
    before, after = {}, {}
    stamp = utcnow()
    for goal in goals:
        if goal.id not in wanted:
            continue
        attr = "actual" if goal.kind == "quantitative" else "level"
        if getattr(goal, attr) != wanted[goal.id]:
            before[str(goal.id)], after[str(goal.id)] = getattr(goal, attr), wanted[goal.id]
            setattr(goal, attr, wanted[goal.id])
            goal.scored_by, goal.scored_at = actor, stamp
    if after:
        _refresh_state(letter, goals)
        letter.updated_by = actor
        letter.updated_at = stamp
        record("corp.letter.score", letter, before=before, after={**after, "state": letter.state}, actor=actor)
    return len(after)


def draft_all(year: str, actor: str) -> tuple[int, int]:
    """A draft letter for every active unit (department, subsidiary) and every active person of
    class A/B/C that has none for ``year`` yet (idempotent). Returns (units, people) created."""
    year = (year or "").strip()
    if not (len(year) == 4 and year.isdigit() and 2000 <= int(year) <= 2100):
        raise LetterError(_("Year: %(value)s is not a year; allowed: 2000 to 2100.", value=repr(year)))
    existing = db_session.execute(select(ResponsibilityLetter.unit_id, ResponsibilityLetter.person_id)
                                  .where(ResponsibilityLetter.year == year)).all()
    have_units = {u for u, _p in existing if u is not None}
    have_people = {p for _u, p in existing if p is not None}
    units = db_session.scalars(select(OrgUnit.id).where(OrgUnit.active.is_(True), OrgUnit.kind.in_(UNIT_KINDS))
                               .order_by(OrgUnit.sort_order, OrgUnit.code)).all()
    people = db_session.scalars(select(Person.id).where(Person.active.is_(True), Person.staff_class.in_(STAFF_CLASSES))
                                .order_by(Person.number)).all()
    new = [ResponsibilityLetter(year=year, unit_id=u, created_by=actor) for u in units if u not in have_units]
    new_people = [ResponsibilityLetter(year=year, person_id=p, created_by=actor) for p in people if p not in have_people]
    db_session.add_all(new + new_people)
    db_session.flush()
    for letter in new + new_people:
        record("corp.letter.create", letter, after={"year": year, "unit_id": letter.unit_id, "person_id": letter.person_id},
               actor=actor)
    return len(new), len(new_people)


# ----------------------------------------------------------------------------------- annual cycle

def case_item(goal: LetterGoal, personal: bool) -> dict[str, Any]:
    """A goal as a case file's ``target_items`` entry (docs/casefile.md): weight as a fraction."""
    item: dict[str, Any] = {"name": goal.name, "weight": text(exact(goal.weight) / HUNDRED), "kind": goal.kind}
    if goal.kind == "quantitative":
        item.update(actual=goal.actual, threshold=goal.threshold, target=goal.target)
        if goal.challenge is not None:
            item["challenge"] = goal.challenge
        item["better"] = goal.better
    else:
        item["level"] = goal.level
    if personal and goal.goal:
        item["goal"] = goal.goal
    return item


def letter_target_items(year: str) -> dict[tuple[str, int], list[dict]]:
    """The letters of ``year`` signed by both sides with every goal scored, as case-file items,
    keyed ``("unit", unit_id)`` or ``("person", person_id)``. One query."""
    rows = db_session.execute(
        select(LetterGoal, ResponsibilityLetter.unit_id, ResponsibilityLetter.person_id)
        .join(ResponsibilityLetter, ResponsibilityLetter.id == LetterGoal.letter_id)
        .where(ResponsibilityLetter.year == str(year), ResponsibilityLetter.assessed_signed_by.is_not(None),
               ResponsibilityLetter.superior_signed_by.is_not(None))
        .order_by(LetterGoal.letter_id, LetterGoal.position, LetterGoal.id)).all()
    found: dict[tuple[str, int], list[dict]] = defaultdict(list)
    incomplete: set[tuple[str, int]] = set()
    for goal, unit_id, person_id in rows:
        key = ("unit", unit_id) if unit_id is not None else ("person", person_id)
        if not goal.scored:
            incomplete.add(key)
            continue
        found[key].append(case_item(goal, person_id is not None))
    return {key: items for key, items in found.items() if key not in incomplete}
