"""Competence lists (不称职认定: 培训对象 training, 转岗对象 transfer) and improvement plans (改进计划).

The lists are read from the results as the engine computed them (``plugins.sales_attitude.scoring``):
a result's ``flags`` say whether the person is listed, and its breakdown nodes "training listing" and
"transfer listing" say which months counted, with their totals, and which did not count because the
total was below a line only because of approved personal leave. Nothing here applies the rules again.

A plan follows a listing (or a failed training plan's decision, "列入转岗对象"): goals, actions, an
owner, a start and end month, progress notes, and the final evaluation with HR's decision
(schemes.md §2 "What follows a listing"). A training plan is also the person's training period: while
it covers a month, that month's pay is × the training factor (``derived.in_training``), so every
change to one refreshes the person's months not yet published, and a change that would alter a
published month's pay is refused.

Every change is audited; a caller passes the version its form was built from and a stale one is
refused (:class:`PlanError` with ``stale``). Nothing here commits.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.exc import IntegrityError

from core.audit import record
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, Person, RoleMembership, User
from core.models.base import utcnow
from plugins.sales_attitude import derived
from plugins.sales_attitude.competence.models import (DECISIONS, KINDS, OUTCOMES, STATES, ImprovementPlan,
                                                      PlanNote)
from plugins.sales_attitude.policy import may_own_plan

SCHEME_ID = "sales-attitude"
FINAL_STATES = derived.FINAL_STATES
TRAINING_MAX_MONTHS = 3    # schemes.md §2: "training of 1–3 months at 80% pay"
TRANSFER_MAX_MONTHS = 12   # (portal limit) a transfer plan runs at most a year
TEXT_MAX = 4000
NOTE_MAX = 2000
LEAVE_MARK = "only because of personal leave"   # the engine's note on a month not counted
# schemes.md §2: training passed → back to the post; failed → the transfer list; transfer passed →
# the new post; transfer refused or failed → termination of the labour contract (an HR decision).
FOLLOWS = {
    ("training", "passed"): "return_to_post",
    ("training", "failed"): "transfer_list",
    ("transfer", "passed"): "new_post",
    ("transfer", "failed"): "terminate_contract",
    ("transfer", "refused"): "terminate_contract",
}
AUDITED = ("kind", "period", "listed_months", "goals", "actions", "owner_id", "start_month", "end_month", "state",
           "outcome", "decision", "evaluation", "evaluated_on")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_CENTS = Decimal("0.01")


class PlanError(ValueError):
    """A plan action that is not possible now. ``errors`` maps form fields to their message;
    ``stale`` says the plan changed since the form was built."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, stale: bool = False,
                 status: int | None = None):
        super().__init__(message)
        self.errors = errors or {}
        self.stale = stale
        self.status = status or (409 if stale or not self.errors else 422)


# ----------------------------------------------------------------------------------- labels

def kind_label(kind: str) -> str:
    return {"training": _("training (培训对象)"), "transfer": _("transfer (转岗对象)")}.get(kind, kind)


def join_terms(terms: Iterable[str]) -> str:
    """A list of terms as a reader of the current language writes it: 培训对象、转岗对象 in Chinese,
    "training, transfer" in English."""
    from core.i18n import current_locale

    return ("、" if current_locale() == "zh" else ", ").join(terms)


def kinds_label(kinds: Iterable[str]) -> str:
    return join_terms(kind_label(k) for k in kinds)


def list_title(kind: str) -> str:
    return {"training": _("Listed for training"), "transfer": _("Listed for transfer")}.get(kind, kind)


def outcome_label(outcome: str | None) -> str:
    return {"passed": _("passed"), "failed": _("failed"), "refused": _("refused")}.get(outcome or "", outcome or "")


def decision_label(decision: str | None) -> str:
    return {"return_to_post": _("return to the post (回到原岗位)"),
            "transfer_list": _("placed on the transfer list (列入转岗对象)"),
            "new_post": _("takes up the new post"),
            "terminate_contract": _("termination of the labour contract (解除劳动合同)")}.get(decision or "",
                                                                                       decision or "")


def state_label(state: str) -> str:
    """A plan's state as a label (Open / Closed; 进行中 / 已结束)."""
    text = {"open": _("open"), "closed": _("closed")}.get(state, state)
    return text[:1].upper() + text[1:]


def plan_label(plan: ImprovementPlan) -> str:
    """A plan named with its state: "Plan #3 (open)", "Plan #2 (closed)"."""
    return _("Plan #%(id)s (%(state)s)", id=plan.id, state={"open": _("open"), "closed": _("closed")}.get(
        plan.state, plan.state))


def choice(code: str, label: str) -> str:
    """A value allowed, for a message: its code, and its label where that says more."""
    return label if label.split(" (")[0] == code.replace("_", " ") else f"{code} – {label}"


def outcomes_for(kind: str) -> list[str]:
    return [o for o in OUTCOMES if (kind, o) in FOLLOWS]


def as_id(raw: Any) -> int | None:
    """An id or version from a form or query: ASCII digits that fit a database integer, else None."""
    value = str(raw or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


# ----------------------------------------------------------------------------------- months

def parse_month(raw: Any) -> str | None:
    """``YYYY-MM`` (2000–2100), else None."""
    value = str(raw or "").strip()
    match = _MONTH.match(value)
    return value if match and 2000 <= int(match.group(1)) <= 2100 else None


def month_span(first: str, last: str) -> list[str]:
    """The months from ``first`` to ``last``, both included."""
    return [derived.month_text(i) for i in range(derived.month_index(first), derived.month_index(last) + 1)]


def add_months(month: str, count: int) -> str:
    return derived.month_text(derived.month_index(month) + count)


def training_months(kind: str, start: str, end: str, evaluated_on: date | None) -> list[str]:
    """The months a training plan puts the person in training (pay × the factor): its start to its
    end month, cut at the evaluation month when evaluated earlier (as ``derived.in_training`` reads it)."""
    if kind != "training":
        return []
    months = month_span(start, end)
    if evaluated_on is not None:
        stop = evaluated_on.strftime("%Y-%m")
        months = [m for m in months if m <= stop]
    return months


def plan_training_months(plan: ImprovementPlan) -> list[str]:
    return training_months(plan.kind, plan.start_month, plan.end_month, plan.evaluated_on)


def final_months(months: Iterable[str]) -> set[str]:
    """The months among ``months`` with a published (or closed) sales cycle: one query."""
    months = sorted(set(months))
    if not months:
        return set()
    return set(db_session.scalars(select(Cycle.period).where(
        Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(FINAL_STATES), Cycle.period.in_(months)).distinct()))


def tenant_settings():
    """The tenant's current settings of the scheme (defaults filled in)."""
    from core.cycles.service import enabled_scheme
    from plugins.sales_attitude import SalesAttitudeSettings

    _scheme, raw = enabled_scheme(SCHEME_ID)
    return SalesAttitudeSettings.model_validate(raw)


def settings_of(cycle: Cycle):
    """The settings a cycle ran under (defaults filled in)."""
    from plugins.sales_attitude import SalesAttitudeSettings

    return SalesAttitudeSettings.model_validate(cycle.settings or {})


def rules_of(settings) -> dict[str, Any]:
    """The competence rules' numbers of a cycle's (or the tenant's) settings, for the pages' texts."""
    from plugins.sales_attitude.scoring import Line

    return {"training_months": settings.training_months, "training_line": Line(settings.training_line).text,
            "window": settings.training_window_months, "transfer_months": settings.transfer_months,
            "transfer_line": Line(settings.transfer_line).text, "low_months": settings.transfer_low_months,
            "low_line": Line(settings.transfer_low_line).text,
            "factor": percent_text(settings.training_pay_factor)}


def percent_text(value) -> str:
    """A factor as a percent: 0.8 → ``80%``."""
    from core.scoring.numbers import text

    return f"{text(value * 100)}%"


# ----------------------------------------------------------------------------------- the lists

@dataclass
class MonthTotal:
    """A month of a listing: its rounded total, and the total without personal leave where shown."""

    period: str
    score: str
    without: str | None = None


@dataclass
class Rule:
    """One line of a listing (training: below 80 within the window; transfer: below 80 and below 70 in
    the year): the months counted, how many list the person, the months not counted because of leave."""

    key: str
    months: list[MonthTotal]
    needed: int
    leave: list[MonthTotal] = field(default_factory=list)

    @property
    def line(self) -> str:
        """The line of the rule as written in its key (``below 80`` → ``80``)."""
        return self.key.split(" ", 1)[-1]

    @property
    def met(self) -> bool:
        return len(self.months) >= self.needed


@dataclass
class Listed:
    """A person in a month's list (or not listed, with months not counted because of approved leave)."""

    kind: str
    listed: bool
    result_id: int
    person_id: int
    number: str
    name: str
    unit_id: int | None
    unit_name: str
    score: str
    rules: list[Rule]
    kinds: list[str] = field(default_factory=list)   # leave rows: the lists not listing the person

    @property
    def months(self) -> list[MonthTotal]:
        """The months that list the person: those of every rule met (all counted months if none is)."""
        rules = [r for r in self.rules if r.met] or self.rules
        seen: dict[str, MonthTotal] = {}
        for rule in rules:
            for month in rule.months:
                seen.setdefault(month.period, month)
        return [seen[k] for k in sorted(seen)]

    @property
    def leave(self) -> list[MonthTotal]:
        seen: dict[str, MonthTotal] = {}
        for rule in self.rules:
            for month in rule.leave:
                seen.setdefault(month.period, month)
        return [seen[k] for k in sorted(seen)]


@dataclass
class Listings:
    cycle: Cycle
    computed: bool
    training: list[Listed] = field(default_factory=list)
    transfer: list[Listed] = field(default_factory=list)
    leave_only: list[Listed] = field(default_factory=list)   # not listed; months not counted because of leave

    def of(self, kind: str) -> list[Listed]:
        return self.training if kind == "training" else self.transfer

    @property
    def people(self) -> int:
        return len({row.person_id for row in self.training + self.transfer})


def _total(value: Any) -> str:
    """A month's rounded total as shown: ``74.50``."""
    try:
        return str(Decimal(str(value)).quantize(_CENTS))
    except (InvalidOperation, ValueError):
        return str(value)


def find_node(tree: dict | None, label: str) -> dict | None:
    """The first breakdown node with this label, depth first."""
    stack = [tree] if tree else []
    while stack:
        node = stack.pop()
        if node.get("label") == label:
            return node
        stack.extend(reversed(node.get("terms") or []))
    return None


def _line_key(value) -> str:
    from plugins.sales_attitude.scoring import Line

    return f"below {Line(value).text}"


def _rules(node: dict, keys: list[tuple[str, str, int]]) -> list[Rule]:
    """The rules of a listing node: ``keys`` are (the key of the node's input, the rule's key, the
    months needed) in the order of the parts of each month's note."""
    counted = node.get("input") or {}
    rules = [Rule(key=key, months=[], needed=needed) for _input_key, key, needed in keys]
    for term in node.get("terms") or []:
        period = str(term.get("label"))
        raw = term.get("input")
        without = _total(raw["score_without_leave"]) if isinstance(raw, dict) and "score_without_leave" in raw else None
        month = MonthTotal(period, _total(term.get("value")), without)
        parts = str(term.get("note") or "").split("; ")
        for index, (input_key, _key, _needed) in enumerate(keys):
            rule = rules[index]
            if period in (counted.get(input_key) or []):
                rule.months.append(month)
            elif index < len(parts) and LEAVE_MARK in parts[index]:
                rule.leave.append(month)
    return rules


def _rows_of(cycle: Cycle, settings, row) -> list[Listed]:
    """The listings (and leave-only rows) of one result row."""
    result_id, score, flags, breakdown, person_id, number, name, unit_id, unit_name = row
    flags = set(flags or ())
    training_key = _line_key(settings.training_line)
    high_key, low_key = _line_key(settings.transfer_line), _line_key(settings.transfer_low_line)
    found = []
    for kind, label, keys in (
            ("training", "training listing", [("counted", training_key, settings.training_months)]),
            ("transfer", "transfer listing", [(high_key, high_key, settings.transfer_months),
                                              (low_key, low_key, settings.transfer_low_months)])):
        node = find_node(breakdown, label)
        if node is None:
            continue
        rules = _rules(node, keys)
        listed = kind in flags
        if listed or any(rule.leave for rule in rules):
            found.append(Listed(kind=kind, listed=listed, result_id=result_id, person_id=person_id, number=number,
                                name=name, unit_id=unit_id, unit_name=unit_name or "",
                                score=_total(score) if score is not None else "", rules=rules))
    return found


def _flagged():
    text = cast(CycleResult.flags, Text)
    return or_(text.like('%"training"%'), text.like('%"transfer"%'))


def top_line(settings) -> Decimal:
    """The highest competence line, up to the cent: a rounded total at or above it is below no line."""
    from plugins.sales_attitude.scoring import Line

    top = max(Line(settings.training_line).value, Line(settings.transfer_line).value,
              Line(settings.transfer_low_line).value)
    return top.quantize(_CENTS, rounding=ROUND_CEILING)


def _leave_clause(top: Decimal):
    """The results whose breakdown may hold a month not counted only because of personal leave (a
    superset, narrow enough not to parse everyone's breakdown): this month's total below the highest
    line with personal leave this month (the engine then computes the total without it), or an
    earlier month's total without leave in the inputs (``history``: written only for a month below
    a line with personal leave)."""
    leave_days = CycleSubject.inputs["events"]["personal_leave_days"].as_string()  # not the whole inputs
    return or_(and_(CycleResult.score < top, leave_days.is_not(None)),
               cast(CycleSubject.inputs, Text).like("%score_without_leave%"))


def _result_rows(cycle_ids: list[int], unit_ids: set[int] | None, leave_below: Decimal | None,
                 person_id: int | None = None):
    """The result rows to read listings from: the listed people, and with ``leave_below`` (the
    highest line) those who may have a month not counted because of leave."""
    columns = (CycleResult.id, CycleResult.score, CycleResult.flags, CycleResult.breakdown, CycleSubject.person_id,
               CycleSubject.code, CycleSubject.name, CycleSubject.unit_id, OrgUnit.name)
    wanted = _flagged()
    if leave_below is not None:
        wanted = or_(wanted, _leave_clause(leave_below))
    statement = (select(*columns)
                 .join(CycleSubject, and_(CycleSubject.id == CycleResult.subject_id,
                                          CycleSubject.cycle_id == CycleResult.cycle_id))
                 .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                 .where(CycleResult.cycle_id.in_(cycle_ids), CycleSubject.kind == "person",
                        CycleResult.score.is_not(None), wanted)
                 .order_by(CycleSubject.code))
    if unit_ids is not None:
        statement = statement.where(CycleSubject.unit_id.in_(list(unit_ids)))
    if person_id is not None:
        statement = statement.where(CycleSubject.person_id == person_id)
    return db_session.execute(statement).all()


def listings(cycle: Cycle, unit_ids: set[int] | None = None) -> Listings:
    """The month's training and transfer lists as computed (of ``unit_ids``' people only, unless
    None), and the people not listed for whom a month was not counted because of approved leave.
    One query for the results: only the listed people and those below the highest line with personal
    leave (this month or, as their inputs say, an earlier one) have their breakdown read."""
    found = Listings(cycle=cycle, computed=cycle.computed_at is not None)
    if not found.computed:
        return found
    settings = settings_of(cycle)
    leave_below = top_line(settings) if settings.leave_exception else None
    for row in _result_rows([cycle.id], unit_ids, leave_below):
        leave = None
        for entry in _rows_of(cycle, settings, row):
            if entry.listed:
                found.of(entry.kind).append(entry)
            elif leave is None:
                leave = entry
                leave.kinds = [entry.kind]
                found.leave_only.append(leave)
            else:  # one row per person: the months of both lists
                leave.kinds.append(entry.kind)
                leave.rules = leave.rules + entry.rules
    return found


def listed_count(cycle: Cycle, unit_ids: set[int] | None = None) -> int:
    """How many people the month lists (training or transfer): one light query."""
    if cycle.computed_at is None:
        return 0
    statement = (select(func.count(func.distinct(CycleSubject.person_id)))
                 .select_from(CycleResult)
                 .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                 .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == "person", _flagged()))
    if unit_ids is not None:
        statement = statement.where(CycleSubject.unit_id.in_(list(unit_ids)))
    return db_session.scalar(statement) or 0


def person_listing(cycle: Cycle, person_id: int) -> dict[str, Listed]:
    """The person's listings in the month, by kind (listed only)."""
    settings = settings_of(cycle)
    found = {}
    for row in _result_rows([cycle.id], None, None, person_id=person_id):
        for entry in _rows_of(cycle, settings, row):
            if entry.listed:
                found[entry.kind] = entry
    return found


def published_cycles(year: str | None = None) -> list[Cycle]:
    """The published (or closed) monthly sales cycles, the latest published of each month, oldest month first."""
    statement = select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(FINAL_STATES),
                                    func.length(Cycle.period) == 7)
    if year is not None:
        statement = statement.where(Cycle.period.like(f"{year}-%"))
    by_period: dict[str, Cycle] = {}
    for cycle in db_session.scalars(statement.order_by(Cycle.published_at, Cycle.id)):
        by_period[cycle.period] = cycle
    return [by_period[p] for p in sorted(by_period)]


def latest_published_cycle() -> Cycle | None:
    cycles = published_cycles()
    return cycles[-1] if cycles else None


def published_years() -> list[str]:
    periods = db_session.scalars(select(Cycle.period).where(
        Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(FINAL_STATES), func.length(Cycle.period) == 7).distinct())
    return sorted({p[:4] for p in periods}, reverse=True)


@dataclass
class PersonYear:
    """A person's listings across a year: month → (kinds listed, the result)."""

    person_id: int
    number: str
    name: str
    unit_name: str
    months: dict[str, tuple[list[str], int]] = field(default_factory=dict)

    @property
    def count(self) -> dict[str, int]:
        counts = {kind: 0 for kind in KINDS}
        for kinds, _result in self.months.values():
            for kind in kinds:
                counts[kind] += 1
        return counts


def year_history(year: str, unit_ids: set[int] | None = None) -> tuple[list[Cycle], list[PersonYear]]:
    """Every person listed in a published month of ``year``, with the months and kinds: one query
    over the year's published results (only the flagged ones), whatever the number of people."""
    cycles = published_cycles(year)
    if not cycles:
        return cycles, []
    period_of = {c.id: c.period for c in cycles}
    statement = (select(CycleResult.cycle_id, CycleResult.id, CycleResult.flags, CycleSubject.person_id,
                        CycleSubject.code, CycleSubject.name, OrgUnit.name)
                 .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                 .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                 .where(CycleResult.cycle_id.in_(list(period_of)), CycleSubject.kind == "person", _flagged()))
    if unit_ids is not None:
        statement = statement.where(CycleSubject.unit_id.in_(list(unit_ids)))
    people: dict[int, PersonYear] = {}
    for cycle_id, result_id, flags, person_id, number, name, unit_name in db_session.execute(statement):
        kinds = [kind for kind in KINDS if kind in (flags or ())]
        if not kinds:
            continue
        period = period_of[cycle_id]
        person = people.get(person_id)
        if person is None:
            person = people[person_id] = PersonYear(person_id, number, name, unit_name or "")
        if period >= max(person.months, default=""):  # the latest month names the person
            person.number, person.name, person.unit_name = number, name, unit_name or ""
        person.months[period] = (kinds, result_id)
    return cycles, sorted(people.values(), key=lambda p: p.number)


# ----------------------------------------------------------------------------------- plans: reading

def plans_by_person_kind(person_ids: Iterable[int], period: str | None = None) -> dict[tuple[int, str], ImprovementPlan]:
    """The plan that answers each (person, kind) listing of the month ``period``: the plan made from
    that listing (same person, kind and month; open or closed, the latest), else the person's open
    plan of that kind (one at a time). Without ``period``: the open plans only. One query."""
    person_ids = list(set(person_ids))
    if not person_ids:
        return {}
    wanted = ImprovementPlan.state == "open"
    if period is not None:
        wanted = or_(wanted, ImprovementPlan.period == period)
    found: dict[tuple[int, str], ImprovementPlan] = {}
    for plan in db_session.scalars(select(ImprovementPlan).where(ImprovementPlan.person_id.in_(person_ids), wanted)
                                   .order_by(ImprovementPlan.id)):
        key = (plan.person_id, plan.kind)
        current = found.get(key)
        if current is None or (plan.period == period) >= (current.period == period):
            found[key] = plan   # one of the listing's own plans beats an open plan of another month
    return found


def published_cycle_of(period: str) -> Cycle | None:
    """The published (or closed) sales cycle of a month (the latest published), else None."""
    return db_session.scalar(select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(FINAL_STATES),
                                                 Cycle.period == period)
                             .order_by(Cycle.published_at.desc(), Cycle.id.desc()).limit(1))


def followed_plan(plan: ImprovementPlan) -> int | None:
    """The training plan a transfer plan follows ("placed on the transfer list"), from the plan's
    creation entry in the audit log, else None."""
    from core.models import AuditLog

    entry = db_session.scalar(select(AuditLog).where(
        AuditLog.action == "sales.plan.create", AuditLog.object_type == "ImprovementPlan",
        AuditLog.object_id == str(plan.id)).limit(1))
    after = (entry.after or {}) if entry is not None else {}
    return as_id(after.get("follows_plan"))


def listing_plan(person_id: int, kind: str, period: str) -> ImprovementPlan | None:
    """The plan already made from the person's ``kind`` listing of ``period`` (open or closed), if any."""
    return db_session.scalar(select(ImprovementPlan).where(
        ImprovementPlan.person_id == person_id, ImprovementPlan.kind == kind, ImprovementPlan.period == period)
        .order_by(ImprovementPlan.id.desc()).limit(1))


def open_plan(person_id: int, kind: str) -> ImprovementPlan | None:
    return db_session.scalar(select(ImprovementPlan).where(
        ImprovementPlan.person_id == person_id, ImprovementPlan.kind == kind, ImprovementPlan.state == "open").limit(1))


def notes_of(plan: ImprovementPlan) -> list[PlanNote]:
    return list(db_session.scalars(select(PlanNote).where(PlanNote.plan_id == plan.id)
                                   .order_by(PlanNote.day.desc(), PlanNote.id.desc())))


OWNER_ROLES = ("tenant_admin", "leader")   # HR and company leaders may own any person's plan


def units_above(unit_id: int | None) -> set[int]:
    """The unit and every unit above it: one query."""
    parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    found: set[int] = set()
    while unit_id is not None and unit_id not in found:
        found.add(unit_id)
        unit_id = parents.get(unit_id)
    return found


def owner_choices(person: Person) -> list[User]:
    """The accounts that may own the person's plan, by name: the active accounts of the person's
    unit heads (heading their unit or a unit above it), HR and company leaders, never the person's
    own (as :func:`plugins.sales_attitude.policy.may_own_plan` decides one account). Two queries."""
    heads = units_above(person.unit_id)
    member = select(RoleMembership.id).where(
        RoleMembership.user_id == User.id,
        or_(RoleMembership.role.in_(OWNER_ROLES),
            and_(RoleMembership.role == "unit_head", RoleMembership.unit_id.in_(sorted(heads) or [-1]))))
    return list(db_session.scalars(
        select(User).where(User.active.is_(True), or_(User.person_id.is_(None), User.person_id != person.id),
                           member.exists())
        .order_by(User.display_name, User.username)))


def owner_rule(choices: list[User]) -> str:
    """What an owner may be, for a message: the rule, and the accounts it allows (the first few)."""
    shown = 8
    names = ", ".join(f"{u.display_name} ({u.username})" for u in choices[:shown])
    if len(choices) > shown:
        names = _("%(names)s and %(n)s more", names=names, n=len(choices) - shown)
    return _("the person's unit heads (of their unit or a unit above it), HR or a company leader: %(names)s",
             names=names or "—")


def default_owner(person: Person) -> int | None:
    """The person's unit head (of the person's unit, else of the nearest unit above), never the
    person themselves: two queries."""
    parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    heads: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in db_session.execute(
            select(RoleMembership.user_id, RoleMembership.unit_id)
            .join(User, User.id == RoleMembership.user_id)
            .where(RoleMembership.role == "unit_head", User.active.is_(True),
                   or_(User.person_id.is_(None), User.person_id != person.id))
            .order_by(RoleMembership.user_id)):
        heads[unit_id].append(user_id)
    unit, seen = person.unit_id, set()
    while unit is not None and unit not in seen:
        seen.add(unit)
        if heads.get(unit):
            return heads[unit][0]
        unit = parents.get(unit)
    return None


def plan_scope_clause(scope):
    """The plans a :class:`plugins.sales_attitude.policy.PlanScope` shows, as a WHERE clause (None: all)."""
    if scope.everything:
        return None
    conditions = []
    if scope.unit_ids:
        conditions.append(Person.unit_id.in_(list(scope.unit_ids)))
    if scope.user_id is not None:
        conditions.append(ImprovementPlan.owner_id == scope.user_id)
    if scope.person_id is not None:
        conditions.append(ImprovementPlan.person_id == scope.person_id)
    return or_(*conditions) if conditions else Person.id.is_(None)


def plans_statement(scope, state: str = "", kind: str = ""):
    """The plans of the scope, newest first, with filters; joined to the person (for scope and order)."""
    statement = select(ImprovementPlan).join(Person, Person.id == ImprovementPlan.person_id)
    clause = plan_scope_clause(scope)
    if clause is not None:
        statement = statement.where(clause)
    if state in STATES:
        statement = statement.where(ImprovementPlan.state == state)
    if kind in KINDS:
        statement = statement.where(ImprovementPlan.kind == kind)
    return statement.order_by(ImprovementPlan.state.desc(), ImprovementPlan.period.desc(), Person.number,
                              ImprovementPlan.id.desc())


def any_plan(scope) -> bool:
    """Does the scope show at least one plan? (the menu's entry for those who own or have a plan)"""
    statement = select(ImprovementPlan.id).join(Person, Person.id == ImprovementPlan.person_id)
    clause = plan_scope_clause(scope)
    if clause is not None:
        statement = statement.where(clause)
    return db_session.scalar(statement.limit(1)) is not None


# ----------------------------------------------------------------------------------- plans: the source

@dataclass
class Source:
    """What a new plan follows: a month's listing (``cycle``), or a training plan that ended with
    "placed on the transfer list" (``after``)."""

    kinds: list[str]
    period: str
    listed_months: dict[str, list[str]]
    cycle: Cycle | None = None
    after: ImprovementPlan | None = None


def source_from_listing(cycle: Cycle, person: Person) -> Source:
    """The person's listings of a published month: refused when the month is not published or does
    not list the person."""
    if cycle.state not in FINAL_STATES:
        raise PlanError(_("The lists of %(period)s are provisional until the month is published; a plan follows a "
                          "published listing.", period=cycle.period))
    found = person_listing(cycle, person.id)
    if not found:
        raise PlanError(_("%(name)s (%(number)s) is not listed for training or transfer in %(period)s.",
                          name=person.name, number=person.number, period=cycle.period), status=422)
    return Source(kinds=[k for k in KINDS if k in found], period=cycle.period,
                  listed_months={k: [m.period for m in v.months] for k, v in found.items()}, cycle=cycle)


def source_after_plan(after: ImprovementPlan, person: Person) -> Source:
    """A transfer plan after a training plan that ended with "placed on the transfer list"."""
    if after.person_id != person.id or after.kind != "training" or after.decision != "transfer_list":
        raise PlanError(_("Plan #%(id)s did not end with “placed on the transfer list” for this person; a transfer "
                          "plan follows a transfer listing or such a decision.", id=after.id), status=422)
    period = after.evaluated_on.strftime("%Y-%m") if after.evaluated_on else after.end_month
    return Source(kinds=["transfer"], period=period, listed_months={"transfer": list(after.listed_months or [])},
                  after=after)


def defaults(source: Source, person: Person, kind: str) -> dict[str, str]:
    """The new plan's form as first shown: the month after the listing, 3 months, the unit head."""
    start = add_months(source.period, 1)
    owner = default_owner(person)
    return {"kind": kind, "start_month": start, "end_month": add_months(start, TRAINING_MAX_MONTHS - 1),
            "owner_id": str(owner) if owner else "", "goals": "", "actions": ""}


# ----------------------------------------------------------------------------------- plans: input

def _text(form: Mapping[str, Any], key: str, label: str, errors: dict[str, str], limit: int = TEXT_MAX) -> str:
    value = str(form.get(key) or "").strip()
    if not value:
        errors[key] = _("%(field)s: required; allowed: 1 to %(max)s characters.", field=label, max=limit)
    elif len(value) > limit:
        errors[key] = _("%(field)s: %(count)s characters; allowed: at most %(max)s.", field=label, count=len(value),
                        max=limit)
    return value


def parse_plan(form: Mapping[str, Any], kind: str, period: str, person: Person) -> tuple[dict[str, Any], dict[str, str]]:
    """Goals, actions, owner and months from a form: ``(values, errors by field)``. A training plan
    lasts 1 to 3 months; every plan starts no earlier than the month of its listing."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"goals": _text(form, "goals", _("Goals"), errors),
                              "actions": _text(form, "actions", _("Actions"), errors)}
    raw_owner = str(form.get("owner_id") or "").strip()
    owner_id = as_id(raw_owner)
    owner = db_session.get(User, owner_id) if owner_id is not None else None
    if not raw_owner:
        errors["owner_id"] = _("Owner: required; allowed: %(allowed)s (the unit head by default).",
                               allowed=owner_rule(owner_choices(person)))
    elif owner is None or not owner.active:
        errors["owner_id"] = _("Owner: %(value)s is not an active account of this organisation; allowed: %(allowed)s.",
                               value=repr(raw_owner[:20]), allowed=owner_rule(owner_choices(person)))
    elif owner.person_id is not None and owner.person_id == person.id:
        errors["owner_id"] = _("Owner: %(name)s is the person the plan is for; allowed: another account (the unit "
                               "head by default).", name=owner.display_name)
    elif not may_own_plan(owner, person.id, person.unit_id):
        # an owner sees the plan (the listed months, the notes): only someone who sees the results anyway
        errors["owner_id"] = _("Owner: %(name)s (%(value)s) does not see the results of %(person)s; allowed: "
                               "%(allowed)s.", name=owner.display_name, value=owner.username, person=person.name,
                               allowed=owner_rule(owner_choices(person)))
    values["owner_id"] = owner.id if owner is not None and "owner_id" not in errors else None

    raw_start, raw_end = str(form.get("start_month") or "").strip(), str(form.get("end_month") or "").strip()
    start, end = parse_month(raw_start), parse_month(raw_end)
    if start is None:
        errors["start_month"] = _("Start month: %(value)s is not a month; allowed: YYYY-MM, e.g. %(example)s.",
                                  value=repr(raw_start[:20]), example=add_months(period, 1))
    elif start < period:
        errors["start_month"] = _("Start month: %(value)s is before %(period)s, the month of the listing; allowed: "
                                  "%(period)s or later.", value=start, period=period)
    if end is None:
        errors["end_month"] = _("End month: %(value)s is not a month; allowed: YYYY-MM, e.g. %(example)s.",
                                value=repr(raw_end[:20]), example=add_months(start or period, 2))
    elif start is not None and end < start:
        errors["end_month"] = _("End month: %(value)s is before the start month %(start)s; allowed: %(start)s or "
                                "later.", value=end, start=start)
    elif start is not None:
        count = derived.month_index(end) - derived.month_index(start) + 1
        limit = TRAINING_MAX_MONTHS if kind == "training" else TRANSFER_MAX_MONTHS
        if count > limit:
            if kind == "training":
                errors["end_month"] = _("End month: %(value)s makes a training period of %(count)s months; allowed: 1 "
                                        "to %(max)s months (schemes.md: training of 1–3 months), so from %(start)s to "
                                        "%(last)s at the latest.", value=end, count=count, max=limit, start=start,
                                        last=add_months(start, limit - 1))
            else:
                errors["end_month"] = _("End month: %(value)s makes a plan of %(count)s months; allowed: at most "
                                        "%(max)s months, so %(last)s at the latest.", value=end, count=count, max=limit,
                                        last=add_months(start, limit - 1))
    values["start_month"], values["end_month"] = start or raw_start, end or raw_end
    return values, errors


def _training_checks(person_id: int, kind: str, before: list[str], after: list[str], errors: dict[str, str],
                     plan_id: int | None, key: str = "start_month") -> None:
    """A training period may not change the pay of a published month, nor overlap another plan's."""
    if kind != "training" or errors.get(key):
        return
    changed = sorted(final_months(set(before) ^ set(after)))
    if changed:
        errors[key] = _("%(field)s: this would change the training period in %(months)s, which is published: its pay "
                        "no longer changes; allowed: a training period that leaves published months as they are.",
                        field=_("Evaluated on") if key == "evaluated_on" else _("Start month"),
                        months=", ".join(changed))
        return
    if key != "start_month" or not after:
        return
    others = db_session.scalars(select(ImprovementPlan).where(
        ImprovementPlan.person_id == person_id, ImprovementPlan.kind == "training",
        ImprovementPlan.id != (plan_id or -1)))
    for other in others:
        overlap = sorted(set(after) & set(plan_training_months(other)))
        if overlap:
            errors[key] = _("Start month: %(start)s to %(end)s overlaps the training period of plan #%(id)s in "
                            "%(months)s; allowed: months outside it.", start=after[0], end=after[-1], id=other.id,
                            months=", ".join(overlap))
            return


def snapshot(plan: ImprovementPlan) -> dict[str, Any]:
    out = {}
    for key in AUDITED:
        value = getattr(plan, key)
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def _refresh(plan: ImprovementPlan, actor: str) -> None:
    """The person's months not yet published follow the training period (pay × the factor)."""
    if plan.kind == "training":
        db_session.flush()
        derived.refresh_people([plan.person_id], actor)


# ----------------------------------------------------------------------------------- plans: changes

def create_plan(person: Person, source: Source, form: Mapping[str, Any], actor: str) -> ImprovementPlan:
    """HR opens a plan for a listed person (one open plan per person and kind). When another save
    opens one at the same moment the database refuses the second (a partial unique index on the open
    plans): the session is rolled back and :class:`PlanError` (409) names the plan already open."""
    kind = str(form.get("kind") or "").strip()
    if kind not in source.kinds:
        allowed = ", ".join(choice(k, kind_label(k)) for k in source.kinds)
        raise PlanError(_("Not saved: correct the fields marked below."), errors={
            "kind": _("Kind: %(value)s is not allowed; allowed: %(allowed)s (what the listing of %(period)s names).",
                      value=repr(kind[:20]), allowed=allowed, period=source.period)})
    existing = open_plan(person.id, kind)
    if existing is not None:
        raise PlanError(open_plan_message(person, existing))
    if source.cycle is not None:
        made = listing_plan(person.id, kind, source.period)
        if made is not None:
            raise PlanError(duplicate_message(person, made))
    values, errors = parse_plan(form, kind, source.period, person)
    if not errors:
        _training_checks(person.id, kind, [], training_months(kind, values["start_month"], values["end_month"], None),
                         errors, None)
    if errors:
        raise PlanError(_("Not saved: correct the fields marked below."), errors=errors)
    plan = ImprovementPlan(person_id=person.id, kind=kind, period=source.period,
                           listed_months=list(source.listed_months.get(kind, [])), state="open", created_by=actor,
                           **values)
    db_session.add(plan)
    try:
        db_session.flush()
    except IntegrityError:
        # another save opened a plan of this kind for the person meanwhile (the partial unique index
        # on open plans): the transaction is lost, so roll it back and say which plan it is
        db_session.rollback()
        existing = open_plan(person.id, kind)
        if existing is not None:
            raise PlanError(open_plan_message(person, existing)) from None
        raise PlanError(_("Someone else changed the same records at the same time; nothing was saved. Try again.")) \
            from None
    after = snapshot(plan)
    if source.after is not None:
        after["follows_plan"] = source.after.id
    if source.cycle is not None:
        after["cycle_id"] = source.cycle.id
    record("sales.plan.create", plan, after=after, actor=actor)
    _refresh(plan, actor)
    return plan


def open_plan_message(person: Person, existing: ImprovementPlan) -> str:
    """One open plan per person and kind: the one already open."""
    return _("%(name)s already has an open %(kind)s plan (#%(id)s): add to it, or close it first.",
             name=person.name, kind=kind_label(existing.kind), id=existing.id)


def duplicate_message(person: Person, made: ImprovementPlan) -> str:
    """A listing is followed by one plan: the one already made from it."""
    return _("%(plan)s was already made from the %(kind)s listing of %(period)s for %(name)s; a listing is followed "
             "by one plan (a later month's listing may call for another).", plan=plan_label(made),
             kind=kind_label(made.kind), period=made.period, name=person.name)


def _expect(plan: ImprovementPlan, version: int | None) -> None:
    if version is None or version != plan.version:
        raise PlanError(_("The plan was changed by someone else since this page was loaded; your entries are kept "
                          "below: reload the plan to see the changes, then enter them again."), stale=True)


def _editable(plan: ImprovementPlan) -> None:
    if plan.state != "open":
        raise PlanError(_("This plan is closed (%(decision)s): it is read-only.", decision=decision_label(plan.decision)))


def update_plan(plan: ImprovementPlan, form: Mapping[str, Any], version: int | None, actor: str) -> bool:
    """HR changes an open plan's goals, actions, owner or months. :return: whether anything changed."""
    _editable(plan)
    _expect(plan, version)
    person = db_session.get(Person, plan.person_id)
    values, errors = parse_plan(form, plan.kind, plan.period, person)
    if not errors:
        _training_checks(plan.person_id, plan.kind, plan_training_months(plan),
                         training_months(plan.kind, values["start_month"], values["end_month"], None), errors, plan.id)
    if errors:
        raise PlanError(_("Not saved: correct the fields marked below."), errors=errors)
    before = snapshot(plan)
    changed = {k: v for k, v in values.items() if getattr(plan, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(plan, key, value)
    plan.updated_at = utcnow()
    record("sales.plan.edit", plan, before={k: before[k] for k in changed}, after=changed, actor=actor)
    _refresh(plan, actor)
    return True


def parse_note(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    raw = str(form.get("day") or "").strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
        errors["day"] = _("Date: %(value)s is not a date; allowed: YYYY-MM-DD.", value=repr(raw[:20]))
    if day is not None and day > date.today():
        errors["day"] = _("Date: %(value)s is after today (%(today)s); allowed: today or earlier.", value=raw,
                          today=date.today().isoformat())
    note = _text(form, "note", _("Progress note"), errors, NOTE_MAX)
    return {"day": day, "note": note}, errors


def add_note(plan: ImprovementPlan, form: Mapping[str, Any], actor: str) -> PlanNote:
    """A dated progress note on an open plan (HR, the owner, the unit head: the caller checks)."""
    _editable(plan)
    values, errors = parse_note(form)
    if errors:
        raise PlanError(_("The note was not added: correct the fields marked below."), errors=errors)
    note = PlanNote(plan_id=plan.id, day=values["day"], note=values["note"], created_by=actor)
    db_session.add(note)
    db_session.flush()
    record("sales.plan.note", plan, after={"note_id": note.id, "day": values["day"].isoformat(), "note": values["note"]},
           actor=actor)
    return note


def parse_close(plan: ImprovementPlan, form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The final evaluation: outcome, HR's decision (the one schemes.md has follow the outcome), the
    evaluation against the goals, and its date."""
    errors: dict[str, str] = {}
    kind = plan.kind
    outcome = str(form.get("outcome") or "").strip()
    allowed = outcomes_for(kind)
    if outcome not in allowed:
        errors["outcome"] = _("Outcome: %(value)s is not allowed for a %(kind)s plan; allowed: %(allowed)s.",
                              value=repr(outcome[:20]), kind=kind_label(kind),
                              allowed=", ".join(choice(o, outcome_label(o)) for o in allowed))
    decision = str(form.get("decision") or "").strip()
    wanted = FOLLOWS.get((kind, outcome))
    if decision not in DECISIONS:
        errors["decision"] = _("Decision: %(value)s is not a decision; allowed: %(allowed)s.", value=repr(decision[:30]),
                               allowed=", ".join(choice(d, decision_label(d)) for d in DECISIONS))
    elif wanted is not None and decision != wanted:
        errors["decision"] = _("Decision: %(value)s does not follow a %(kind)s plan with the outcome %(outcome)s; "
                               "allowed: %(wanted)s.", value=decision, kind=kind_label(kind),
                               outcome=outcome_label(outcome), wanted=choice(wanted, decision_label(wanted)))
    evaluation = _text(form, "evaluation", _("Final evaluation"), errors)
    raw = str(form.get("evaluated_on") or "").strip()
    first = date(int(plan.period[:4]), int(plan.period[5:7]), 1)
    today = date.today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
        errors["evaluated_on"] = _("Evaluated on: %(value)s is not a date; allowed: YYYY-MM-DD.", value=repr(raw[:20]))
    if day is not None and not first <= day <= today:
        errors["evaluated_on"] = _("Evaluated on: %(value)s is outside what is allowed: from %(first)s (the listing "
                                   "month) to today, %(today)s.", value=raw, first=first.isoformat(),
                                   today=today.isoformat())
    if day is not None and not errors.get("evaluated_on"):
        _training_checks(plan.person_id, kind, plan_training_months(plan),
                         training_months(kind, plan.start_month, plan.end_month, day), errors, plan.id, "evaluated_on")
    return {"outcome": outcome, "decision": decision, "evaluation": evaluation, "evaluated_on": day}, errors


def check_close(plan: ImprovementPlan, form: Mapping[str, Any], version: int | None) -> dict[str, Any]:
    """The evaluation as it would be recorded (shown for confirmation); refused like :func:`close_plan`."""
    _editable(plan)
    _expect(plan, version)
    values, errors = parse_close(plan, form)
    if errors:
        raise PlanError(_("Not recorded: correct the fields marked below."), errors=errors)
    return values


def close_plan(plan: ImprovementPlan, form: Mapping[str, Any], version: int | None, actor: str) -> ImprovementPlan:
    """HR records the final evaluation and decision: the plan is closed and read-only from then on.
    This records the decision; it sends nothing to anyone. A training plan evaluated before its end
    month ends the training period at the evaluation month."""
    values = check_close(plan, form, version)
    before = snapshot(plan)
    for key, value in values.items():
        setattr(plan, key, value)
    plan.state = "closed"
    plan.evaluated_by = actor
    plan.updated_at = utcnow()
    after = snapshot(plan)
    record("sales.plan.close", plan, before={k: before[k] for k in ("state", "outcome", "decision", "evaluated_on")},
           after={k: after[k] for k in ("state", "outcome", "decision", "evaluation", "evaluated_on")}, actor=actor)
    _refresh(plan, actor)
    return plan
