"""Scoring of `sales-attitude` (schemes.md §2; casefile.md, "sales-attitude").

A month's total is Σ weight × dimension over five dimensions, each 0–100 (clamped by default):
attitude from attendance events, basic ability / proficiency / coordination from the unit head's
ratings, responsibility from the service-norm rating with praise and complaints. The rounded total
ranks the regular staff, sets the monthly performance pay and feeds the competence listings
(training: a rolling window; transfer: the calendar year), where a month that is below a line only
because of personal leave does not count for that line.

Choices this module makes where the spec leaves room (marked "(choice)" below and in the report):
- ``status`` sits on the person, next to ``class`` and ``unit`` (as in tenant files), not in inputs.
- Excluded people (interns, probation, transfer, promotion, demotion) are validated like everyone
  (all four ratings required); their total is computed for reference only, in the breakdown.
- Event counts are whole numbers; leave days may be fractional (half days).
- Pay base and coefficient must be above 0.
- Units are optional, grouping only: ``kind`` optional, one of the tenant-file unit kinds; no inputs.
  They are listed in the output unscored, with their people's scores in the breakdown.
- History scores are not range-checked (a tenant's formula may leave 0–100); ``score_without_leave``
  defaults to ``score``.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Annotated, Any, Literal, Optional

from pydantic import BeforeValidator, Field, StrictBool
from pydantic_core import PydanticCustomError

from core.scoring import finish
from core.scoring.breakdown import Breakdown
from core.scoring.case import (Case, CaseError, Id, Period, record, subject_label, unit_reference_problems,
                               validate_subjects)
from core.scoring.formula import compile_formula
from core.scoring.numbers import NumberError, display, exact, round_half_up
from core.scoring.result import CaseResult, SubjectResult

SCHEME_ID = "sales-attitude"

DIMENSIONS = ("attitude", "basic_ability", "proficiency", "responsibility", "coordination")
RATED = ("basic_ability", "proficiency", "coordination")  # the unit head's ratings (default)
ATTITUDE_EVENTS = ("late", "early_leave", "personal_leave_days", "sick_leave_days", "overtime", "extra_work",
                   "proactive", "shirking")
RESPONSIBILITY_EVENTS = ("praise", "complaint")
EVENTS = ATTITUDE_EVENTS + RESPONSIBILITY_EVENTS

# The names each formula may use. In the attitude and responsibility formulas an event name stands
# for its points: count × the event's points (setting `points`), so `base - late` with 3 late
# arrivals at 1 point each is 100 - 3.
ATTITUDE_NAMES = ("base",) + ATTITUDE_EVENTS
RESPONSIBILITY_NAMES = ("service",) + RESPONSIBILITY_EVENTS
TOTAL_NAMES = DIMENSIONS
PAY_NAMES = ("base", "coefficient", "total")

DEFAULT_ATTITUDE_FORMULA = ("base - late - early_leave - personal_leave_days + overtime + extra_work + proactive"
                            " - shirking")
DEFAULT_RESPONSIBILITY_FORMULA = "service + praise - complaint"
DEFAULT_PAY_FORMULA = "base * coefficient * total / 100"

EXCLUDED_STATUSES = ("intern", "probation", "transfer", "promotion", "demotion")
STATUSES = ("regular",) + EXCLUDED_STATUSES
STAFF_CLASSES = ("supervisor", "staff")
# (choice) the unit kinds of tenant files; units only group people in this scheme.
UNIT_KINDS = ("group", "company", "subsidiary", "department", "office", "team", "village")

EVENT_NOTES = {
    "late": "迟到 late arrival", "early_leave": "早退 early leave", "personal_leave_days": "事假 personal leave (days)",
    "sick_leave_days": "病假 sick leave (days)", "overtime": "自愿加班 voluntary overtime",
    "extra_work": "计划外任务 accepted unplanned assignment", "proactive": "主动承担临时任务 temporary task taken on",
    "shirking": "无故推诿 task shirked", "praise": "表扬 praise", "complaint": "投诉 complaint",
}
RATING_NOTES = {
    "basic_ability": "基础能力 unit head's rating", "proficiency": "业务熟练程度 unit head's rating",
    "coordination": "协调性 unit head's rating", "service": "服务规范 service-norm rating",
}


# ----------------------------------------------------------------------------------- input values

def _number(value: Any) -> Fraction | int:
    """Exact number; plain digit strings (the common case: counts, ratings) take a fast path."""
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    try:
        return exact(value)
    except NumberError as exc:
        raise PydanticCustomError("number", str(exc)) from None


def _rating(value: Any) -> Fraction | int:
    number = _number(value)
    if not 0 <= number <= 100:
        raise PydanticCustomError("range", "a rating is from 0 to 100")
    return number


def _count(value: Any) -> int:
    number = _number(value)
    if number < 0 or (type(number) is not int and number.denominator != 1):
        raise PydanticCustomError("count", "an event count is a whole number, 0 or more")
    return int(number)


def _days(value: Any) -> Fraction | int:
    number = _number(value)
    if number < 0:
        raise PydanticCustomError("days", "days are a number, 0 or more")
    return number


def _positive(value: Any) -> Fraction | int:
    number = _number(value)
    if number <= 0:
        raise PydanticCustomError("positive", "must be a number above 0")
    return number


@lru_cache(maxsize=1024)
def _parse_month(text: str) -> Period | None:
    """History months repeat across people: parsed once (a Period is immutable)."""
    try:
        period = Period.parse(text)
    except ValueError:
        return None
    return period if period.kind == "month" else None


def _month(value: Any) -> Period:
    period = _parse_month(str(value))
    if period is None:
        raise PydanticCustomError("month", "a month is written YYYY-MM")
    return period


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


_PLAIN_DECIMAL = re.compile(r"-?\d{1,20}(\.\d{1,15})?")  # always a number exact() accepts


def _score(value: Any) -> Decimal:
    """A month's total as written (a Decimal, exact); compared after rounding to 2 decimals."""
    if type(value) is str and _PLAIN_DECIMAL.fullmatch(value):
        return Decimal(value)
    number = _number(value)
    if type(value) is str:
        return Decimal(value.strip())
    if isinstance(value, Decimal):
        return value
    return Decimal(number) if type(number) is int else number  # a Fraction (from code) stays exact


Score = Annotated[Any, BeforeValidator(_score)]
Rating = Annotated[Any, BeforeValidator(_rating)]
Count = Annotated[Any, BeforeValidator(_count)]
Days = Annotated[Any, BeforeValidator(_days)]
Positive = Annotated[Any, BeforeValidator(_positive)]
Month = Annotated[Any, BeforeValidator(_month)]


@record
class Ratings:
    basic_ability: Rating
    proficiency: Rating
    coordination: Rating
    service: Rating


@record
class Events:
    """Counts of the month; a missing event is 0."""

    late: Count = 0
    early_leave: Count = 0
    personal_leave_days: Days = 0
    sick_leave_days: Days = 0
    overtime: Count = 0
    extra_work: Count = 0
    proactive: Count = 0
    shirking: Count = 0
    praise: Count = 0
    complaint: Count = 0


NO_EVENTS = Events()


@record
class Pay:
    base: Positive
    coefficient: Positive


@record
class HistoryMonth:
    period: Month
    score: Score
    score_without_leave: Optional[Score] = None


@record
class PersonInputs:
    ratings: Ratings
    events: Optional[Events] = None
    pay: Optional[Pay] = None
    training: StrictBool = False  # an HR decision: pay × training_pay_factor while true
    history: tuple[HistoryMonth, ...] = ()


@record(populate_by_name=False)
class Person:
    id: Id
    name: Optional[str] = None
    unit: Optional[Id] = None
    staff_class: Optional[Literal[STAFF_CLASSES]] = Field(None, alias="class")
    status: Literal[STATUSES] = "regular"
    inputs: PersonInputs


@record
class NoInputs:
    """Units carry no inputs in this scheme."""


@record
class Unit:
    id: Id
    name: Optional[str] = None
    kind: Optional[Literal[UNIT_KINDS]] = None
    inputs: Optional[NoInputs] = None


# ----------------------------------------------------------------------------------- build_case

def build_case(shape, period: Period, settings: dict) -> Case:
    """Validate every unit and person; raise :class:`CaseError` listing all problems."""
    problems: list[str] = []
    units = validate_subjects(shape.units, Unit, "units", problems)
    people = validate_subjects(shape.people, Person, "people", problems)
    # References and history periods are checked on the people as written, so that a person with
    # another problem (an unknown status, say) still has these reported too.
    unit_ids = {subject_label(raw, "units", i) for i, raw in enumerate(shape.units) if isinstance(raw, dict)}
    written = [_Written(raw, i) for i, raw in enumerate(shape.people) if isinstance(raw, dict)]
    problems.extend(unit_reference_problems([w for w in written if w.unit is not None], unit_ids, required=False))
    for person in written:
        problems.extend(_history_problems(person, period))
    if problems:
        raise CaseError(problems)
    return Case(scheme=SCHEME_ID, period=period, settings=settings, units=units, people=people)


class _Written:
    """A person's id, unit and history as written (before validation)."""

    __slots__ = ("id", "unit", "history")

    def __init__(self, raw: dict, index: int):
        self.id = subject_label(raw, "people", index)
        unit = raw.get("unit")
        self.unit = str(unit) if isinstance(unit, (str, int)) and not isinstance(unit, bool) else None
        inputs = raw.get("inputs")
        history = inputs.get("history") if isinstance(inputs, dict) else None
        self.history = history if isinstance(history, list) else ()


def _history_problems(person: _Written, period: Period) -> list[str]:
    """History months are earlier than the case's month and not repeated. Well-formed months
    (YYYY-MM) compare as text; malformed ones are reported by validation."""
    problems = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(person.history):
        month = entry.get("period") if isinstance(entry, dict) else None
        if not isinstance(month, str) or not _MONTH.match(month.strip()):
            continue
        month = month.strip()
        where = f"{person.id}.inputs.history[{index}].period"
        if month >= period.text:
            problems.append(f"{where}: {month} is not earlier than the case's period {period}; "
                            f"history lists earlier months only")
        if month in seen:
            problems.append(f"{where}: {month} is repeated (also history[{seen[month]}]); each month may appear once")
        else:
            seen[month] = index
    return problems


# ----------------------------------------------------------------------------------- rules

_CENTS = Decimal("0.01")
_WIDE = Context(prec=80, rounding=ROUND_HALF_UP)  # exact for every decimal a case file may hold


def _round2(value: Any) -> Decimal:
    """Half away from zero to 2 decimals (Decimal's ROUND_HALF_UP), exactly."""
    if isinstance(value, Decimal):
        return _WIDE.quantize(value, _CENTS)
    return round_half_up(value)


def _plain(value: Fraction) -> Fraction | int:
    """Whole numbers as ints: the formulas then run on fast integer arithmetic where they can."""
    return value.numerator if value.denominator == 1 else value


def _text(value: Any) -> str:
    """A number as a person writes it: 80, 0.8, 79.99."""
    if isinstance(value, Decimal):
        return str(value)
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else str(display(value))


class Line:
    """A competence line: the threshold as a Decimal (comparisons with rounded totals) and its text."""

    __slots__ = ("value", "text")

    def __init__(self, value: Any):
        number = exact(value)
        self.value = _WIDE.divide(Decimal(number.numerator), Decimal(number.denominator))
        self.text = _text(number)


class Rules:
    """The settings, read once per computation: exact numbers and compiled formulas."""

    def __init__(self, settings: dict):
        self.base = _plain(exact(settings["attitude_base"]))
        self.points = {name: _plain(exact(value)) for name, value in settings["points"].items()}
        self.attitude = compile_formula(settings["attitude_formula"], ATTITUDE_NAMES)
        self.responsibility = compile_formula(settings["responsibility_formula"], RESPONSIBILITY_NAMES)
        self.total = compile_formula(settings["total_formula"], TOTAL_NAMES)
        self.pay = compile_formula(settings["pay_formula"], PAY_NAMES)
        self.clamp = bool(settings["clamp_dimensions"])
        self.low = _plain(exact(settings["dimension_min"]))
        self.high = _plain(exact(settings["dimension_max"]))
        self.clamp_formula = f"clamp(x, {_text(self.low)}, {_text(self.high)})"
        self.training_factor = exact(settings["training_pay_factor"])
        self.training_line = Line(settings["training_line"])
        self.training_months = int(settings["training_months"])
        self.training_window = int(settings["training_window_months"])
        self.transfer_line = Line(settings["transfer_line"])
        self.transfer_months = int(settings["transfer_months"])
        self.transfer_low_line = Line(settings["transfer_low_line"])
        self.transfer_low_months = int(settings["transfer_low_months"])
        self.leave_exception = bool(settings["leave_exception"])
        self.top_line = max(self.training_line.value, self.transfer_line.value, self.transfer_low_line.value)
        self.pay_formula = settings["pay_formula"]
        self.training_pay_formula = f"({self.pay_formula}) * {_text(self.training_factor)}"
        self.sick_shown = "sick_leave_days" not in self.attitude.names
        self.attitude_cache: dict[tuple, tuple] = {}
        self.responsibility_cache: dict[tuple, tuple] = {}


def _clamp(rules: Rules, value, label: str, node: Breakdown) -> tuple[Any, Breakdown]:
    if not rules.clamp or rules.low <= value <= rules.high:
        return value, node
    clamped = rules.low if value < rules.low else rules.high
    node.label = f"{label} before clamping"
    return clamped, Breakdown(label, clamped, formula=rules.clamp_formula, terms=[node],
                              note=f"clamped from {_text(value)} to {_text(clamped)} (setting clamp_dimensions)")


# ----------------------------------------------------------------------------------- compute

def compute(case: Case) -> CaseResult:
    """Score every person; rank the regular staff; pay and competence listings; units unscored."""
    rules = Rules(case.settings)
    current = case.period
    current_index = current.year * 12 + current.index - 1
    training_first = current_index - rules.training_window + 1
    year_first = current.year * 12
    window = Window(rules, current_index, current)
    # 1. the exact totals; finish() rounds them once and ranks the regular staff
    entries = []
    for person in case.people:
        row = _Row(person)
        total, total_node, row.env, row.dims = _total(rules, person.inputs)
        if person.status in EXCLUDED_STATUSES:
            row.flags.append(f"excluded:{person.status}")
            entries.append((row, None, Breakdown(
                "score", None, terms=[total_node],
                note=f"excluded ({person.status}): not scored, not ranked, no pay, no competence listing; "
                     f"the total below is for reference only")))
        else:
            entries.append((row, total, Breakdown("score", None, formula=ROUNDING, terms=[total_node])))
    people = finish(entries, flags=_flags, extra=_extra)
    # 2. from each rounded total: the pay and the competence listings
    for result, (row, total, root) in zip(people, entries):
        if total is None:
            continue
        rounded = row.rounded = root.value = result.score
        inputs = row.person.inputs
        if inputs.pay is not None:
            row.extra["pay"], pay_node = _pay(rules, inputs, rounded)
            root.terms.append(pay_node)
        # the competence months: (index, text, rounded total, rounded total without personal leave, as written)
        without = rounded
        if rounded < rules.top_line and rules.leave_exception and row.env["personal_leave_days"]:
            without = round_half_up(_without_leave_total(rules, row.env, row.dims))
        months = [(current_index, current.text, rounded, without, None)]
        if inputs.history:
            for month in inputs.history:
                score = _round2(month.score)
                other = score if month.score_without_leave is None else _round2(month.score_without_leave)
                months.append((month.period.year * 12 + month.period.index - 1, month.period.text, score, other, month))
            months.sort(key=_first)
        root.terms.append(window.training(row, [m for m in months if m[0] >= training_first]))
        root.terms.append(window.transfer(row, [m for m in months if m[0] >= year_first]))
        result.flags, result.extra = row.flags, row.extra
    units = _units(case.units, [row for row, _s, _b in entries])
    return CaseResult(scheme=case.scheme, period=str(case.period), units=units, people=people)


ROUNDING = "total rounded half away from zero to 2 decimals"


def _first(month: tuple) -> int:
    return month[0]


def _flags(row: "_Row") -> list[str]:
    return row.flags


def _extra(row: "_Row") -> dict:
    return row.extra


class _Row:
    __slots__ = ("person", "id", "name", "unit", "flags", "extra", "rounded", "env", "dims")

    def __init__(self, person: Person):
        self.person = person
        self.id = person.id
        self.name = person.name
        self.unit = person.unit
        self.flags: list[str] = []
        self.extra: dict[str, Any] = {}
        self.rounded = None
        self.env: dict = {}
        self.dims: dict = {}


def _total(rules: Rules, inputs: PersonInputs):
    """The exact total and its breakdown, the attitude formula's inputs and the five dimensions.

    People with the same event counts share one explained attitude (and responsibility) subtree:
    identical inputs give an identical explanation, and a cycle of thousands of people repeats them a lot.
    """
    ratings = inputs.ratings
    events = inputs.events or NO_EVENTS
    key = (events.late, events.early_leave, events.personal_leave_days, events.sick_leave_days, events.overtime,
           events.extra_work, events.proactive, events.shirking)
    attitude = rules.attitude_cache.get(key)
    if attitude is None:
        attitude = rules.attitude_cache[key] = _attitude(rules, key)
    attitude, attitude_node, env = attitude
    key = (ratings.service, events.praise, events.complaint)
    responsibility = rules.responsibility_cache.get(key)
    if responsibility is None:
        responsibility = rules.responsibility_cache[key] = _responsibility(rules, *key)
    responsibility, responsibility_node = responsibility

    dims = {"attitude": attitude, "responsibility": responsibility, "basic_ability": ratings.basic_ability,
            "proficiency": ratings.proficiency, "coordination": ratings.coordination}
    nodes = {"attitude": attitude_node, "responsibility": responsibility_node}
    if rules.clamp:
        for name in RATED:
            value = dims[name]
            if not rules.low <= value <= rules.high:
                dims[name], nodes[name] = _clamp(rules, value, name, Breakdown(name, value, input=value,
                                                                               note=RATING_NOTES[name]))
    total, total_node = rules.total.explain(dims, "total", nodes)
    for term in total_node.terms:
        if term.label in RATED and not term.terms:  # a rating weighed as it was entered: the input itself
            term.input = dims[term.label]
            term.note = RATING_NOTES[term.label]
    return total, total_node, env, dims


def _attitude(rules: Rules, counts: tuple) -> tuple[Any, Breakdown, dict]:
    """Attitude: the base and the events' points through the (tenant's) attitude formula, clamped."""
    points = rules.points
    env: dict[str, Any] = {}
    for name, count in zip(ATTITUDE_EVENTS, counts):
        env[name] = count if points[name] == 1 else count * points[name]
    env["base"] = rules.base
    raw, node = rules.attitude.explain(env, "attitude")
    by_name = dict(zip(ATTITUDE_EVENTS, counts))
    for term in node.terms:
        name = term.label
        if name in by_name:
            term.input = {"count": by_name[name], "points": points[name]}
            term.note = EVENT_NOTES[name]
        elif name == "base":
            term.note = "setting attitude_base"
    if rules.sick_shown and by_name["sick_leave_days"]:
        node.terms.append(Breakdown("sick_leave_days", 0, input={"count": by_name["sick_leave_days"], "points": 0},
                                    note="病假 sick leave: recorded, 0 points (not in the attitude formula)"))
    value, node = _clamp(rules, raw, "attitude", node)
    return value, node, env


def _responsibility(rules: Rules, service, praise: int, complaint: int) -> tuple[Any, Breakdown]:
    """Responsibility: the service-norm rating with praise and complaints, clamped."""
    points = rules.points
    counts = {"praise": praise, "complaint": complaint}
    env = {name: count if points[name] == 1 else count * points[name] for name, count in counts.items()}
    env["service"] = service
    raw, node = rules.responsibility.explain(env, "responsibility")
    for term in node.terms:
        name = term.label
        if name in counts:
            term.input = {"count": counts[name], "points": points[name]}
            term.note = EVENT_NOTES[name]
        elif name == "service":
            term.input = service
            term.note = RATING_NOTES["service"]
    return _clamp(rules, raw, "responsibility", node)


def _without_leave_total(rules: Rules, env: dict, dims: dict) -> Fraction:
    """The month recomputed with personal_leave_days = 0 (the approved-leave reading)."""
    attitude = rules.attitude.evaluate(dict(env, personal_leave_days=0))
    if rules.clamp:
        attitude = min(max(attitude, rules.low), rules.high)
    return rules.total.evaluate(dict(dims, attitude=attitude))


def _pay(rules: Rules, inputs: PersonInputs, rounded: Decimal) -> tuple[Decimal, Breakdown]:
    """Pay base × coefficient × the rounded total / 100 (the tenant's pay formula), × the training
    factor while in training, rounded half-up to the cent."""
    pay = inputs.pay
    value = rules.pay.evaluate({"base": pay.base, "coefficient": pay.coefficient, "total": Fraction(rounded)})
    raw = {"base": pay.base, "coefficient": pay.coefficient, "total": rounded}
    formula = rules.pay_formula
    if inputs.training:
        value = value * rules.training_factor
        raw["training"] = True
        formula = rules.training_pay_formula
    result = round_half_up(value)
    raw["unrounded"] = value
    return result, Breakdown("pay", result, formula=formula, input=raw,
                             note="rounded half-up to the cent" + (TRAINING_NOTE if inputs.training else ""))


TRAINING_NOTE = "; in training (培训期): pay × training_pay_factor"


class Window:
    """The competence listings at the month evaluated (stateless: they hold whenever their rule holds)."""

    def __init__(self, rules: Rules, current_index: int, current: Period):
        self.rules = rules
        first = current_index - rules.training_window + 1
        self.training_formula = (f"months with a total below {rules.training_line.text} in {_month_text(first)} … "
                                 f"{current.text} ({rules.training_window} months ending with this one); listed at "
                                 f"{rules.training_months}")
        self.transfer_formula = (f"months of {current.year} up to {current.text}: listed at {rules.transfer_months} "
                                 f"below {rules.transfer_line.text} or {rules.transfer_low_months} below "
                                 f"{rules.transfer_low_line.text}")
        self.high_key = f"below {rules.transfer_line.text}"
        self.low_key = f"below {rules.transfer_low_line.text}"

    def below(self, score: Decimal, without: Decimal, line: Line) -> tuple[bool, str]:
        """Whether a month counts as below ``line``, and why."""
        if score >= line.value:
            return False, f"{score} reaches {line.text}"
        if not self.rules.leave_exception or without == score:
            return True, f"{score} is below {line.text}: counted"
        if without >= line.value:
            return False, (f"{score} is below {line.text} only because of personal leave ({without} without it): "
                           f"not counted")
        if without != score:
            return True, f"{score} is below {line.text}, {without} without leave too: counted"
        return True, f"{score} is below {line.text}: counted"

    def training(self, row: _Row, months: list) -> Breakdown:
        rules = self.rules
        counted, terms = [], []
        for _index, text, score, without, month in months:
            below, why = self.below(score, without, rules.training_line)
            if below:
                counted.append(text)
            terms.append(Breakdown(text, score, input=_month_input(score, without, month), note=why))
        listed = len(counted) >= rules.training_months
        if listed:
            row.flags.append("training")
        return Breakdown("training listing", len(counted), formula=self.training_formula, terms=terms,
                         input={"counted": counted}, note="listed for training (培训对象)" if listed else "not listed")

    def transfer(self, row: _Row, months: list) -> Breakdown:
        rules = self.rules
        high, low, terms = [], [], []
        for _index, text, score, without, month in months:
            below_high, why_high = self.below(score, without, rules.transfer_line)
            below_low, why_low = self.below(score, without, rules.transfer_low_line)
            if below_high:
                high.append(text)
            if below_low:
                low.append(text)
            terms.append(Breakdown(text, score, input=_month_input(score, without, month),
                                   note=f"{why_high}; {why_low}"))
        listed = len(high) >= rules.transfer_months or len(low) >= rules.transfer_low_months
        if listed:
            row.flags.append("transfer")
        return Breakdown("transfer listing", {self.high_key: len(high), self.low_key: len(low)},
                         formula=self.transfer_formula, terms=terms, input={self.high_key: high, self.low_key: low},
                         note=("listed for transfer (转岗对象): " if listed else "not listed: ")
                         + f"{len(high)} month(s) {self.high_key}, {len(low)} {self.low_key}")


def _month_input(score: Decimal, without: Decimal, month: HistoryMonth | None) -> dict | str:
    if month is None:
        return "this month" if without == score else {"score": score, "score_without_leave": without}
    raw = {"score": month.score}
    if month.score_without_leave is not None:
        raw["score_without_leave"] = month.score_without_leave
    return raw


def _month_text(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}"


def _units(units: list[Unit], rows: list[_Row]) -> list[SubjectResult]:
    """Units only group people here: listed unscored, with their people's scores."""
    if not units:
        return []
    members: dict[str, list[Breakdown]] = {u.id: [] for u in units}
    for row in rows:
        if row.unit in members:
            members[row.unit].append(Breakdown(row.id, row.rounded, note=row.flags[0] if row.rounded is None else None))
    return [SubjectResult(id=u.id, name=u.name, score=None,
                          breakdown=Breakdown(u.id, None, terms=members[u.id],
                                              note="grouping only: units are not scored in sales-attitude"))
            for u in units]
