"""The monthly manager ratings (主管评分) of a sales cycle: the rows a user rates, the progress, and
each complete row's live total, previewed through the scheme itself.

A row is a person assessed in the cycle; its four ratings (基础能力, 业务熟练程度, 协调性, 服务规范)
are the scheme's declared input fields (:mod:`plugins.sales_attitude.inputs`). Saving a row goes
through the core's input-form path (:func:`core.cycles.input_views.save_form`: the field
declarations' checks, the ``jixiao_event_inputs_saving`` hook and optimistic locking on
``inputs_version``), so the rules live in one place. People with an excluded status (intern,
probation, transfer, promotion, demotion) are rated too: the scheme requires their ratings and
computes their total for reference only.

Reads only: a few queries per page, never one per row.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, false, func, not_, or_, select, true

from core.cycles import inputs as forms
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, User
from core.org.service import descendants
from core.plugins import get_schemes
from core.schemes import InputField
from core.scoring import score_case
from core.scoring.case import CaseError, Period, build_case
from plugins.sales_attitude.policy import rating_scope
from plugins.sales_attitude.scoring import EXCLUDED_STATUSES, STAFF_CLASSES

RATINGS_PREFIX = "ratings."


def rating_fields(cycle: Cycle, staff_class: str | None = None) -> list[InputField]:
    """The manager ratings the scheme declares for a person of the cycle (its ``ratings`` inputs)."""
    scheme = get_schemes()[cycle.scheme_id]
    fields = scheme.fields_for(cycle.settings or {}, "person", staff_class, Period.parse(cycle.period).kind)
    return [f for f in fields if f.path.startswith(RATINGS_PREFIX)]


def is_excluded(subject: CycleSubject) -> bool:
    """A person the scheme does not score this month (an excluded status): rated for reference."""
    return subject.status in EXCLUDED_STATUSES


def is_complete(subject: CycleSubject, fields: list[InputField]) -> bool:
    inputs = subject.inputs or {}
    return all(forms.get_value(inputs, f.path) is not None for f in fields)


def unit_names() -> dict[int, str]:
    return dict(db_session.execute(select(OrgUnit.id, OrgUnit.name)).all())


def complete_clause(cycle: Cycle):
    """SQL: the person's row has every rating the scheme declares for their staff class (as
    :func:`is_complete` reads it), read from the inputs' JSON paths, not by loading them."""
    by_fields: dict[tuple[str, ...], list[str | None]] = {}
    for staff_class in (None, *STAFF_CLASSES):
        paths = tuple(f.path for f in rating_fields(cycle, staff_class))
        by_fields.setdefault(paths, []).append(staff_class)

    def rated(paths: tuple[str, ...]):
        return and_(true(), *(CycleSubject.inputs[tuple(p.split("."))].as_string().is_not(None) for p in paths))

    if len(by_fields) == 1:  # the same ratings for every class (the scheme's declaration)
        return rated(next(iter(by_fields)))
    conditions = []
    for paths, classes in by_fields.items():
        named = [c for c in classes if c is not None]
        which = CycleSubject.staff_class.in_(named) if named else false()
        if None in classes:
            which = or_(which, CycleSubject.staff_class.is_(None), CycleSubject.staff_class.not_in(STAFF_CLASSES))
        conditions.append(and_(which, rated(paths)))
    return or_(*conditions)


def _rateable_where(cycle: Cycle, user: User, unit_id: int | None = None) -> list:
    """The conditions of the people the user rates in the cycle (:func:`plugins.sales_attitude.policy.may_rate`
    as SQL), of one unit and those below it when ``unit_id`` is given."""
    units, own = rating_scope(user)
    where = [CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "person", CycleSubject.eligible.is_(True)]
    if units is not None:
        where.append(CycleSubject.unit_id.in_(sorted(units) or [-1]))
    if own is not None:
        where.append(or_(CycleSubject.person_id.is_(None), CycleSubject.person_id != own))
    if unit_id is not None:
        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        below = descendants({unit_id}, parents) if unit_id in parents else set()
        where.append(CycleSubject.unit_id.in_(sorted(below) or [-1]))
    return where


def rateable_statement(cycle: Cycle, user: User, unit_id: int | None = None, todo: bool = False):
    """The people of the cycle the user rates (HR: everyone but themselves; a unit head: the people
    of their units but themselves), of one unit (and the units below it) when ``unit_id`` is given,
    only those not fully rated with ``todo``; ordered by unit, then number. For :func:`core.web.paginate`."""
    statement = (select(CycleSubject)
                 .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                 .where(*_rateable_where(cycle, user, unit_id))
                 .order_by(OrgUnit.sort_order, OrgUnit.code, CycleSubject.code))
    if todo:
        statement = statement.where(not_(complete_clause(cycle)))
    return statement


def rateable(cycle: Cycle, user: User, unit_id: int | None = None) -> list[CycleSubject]:
    """The people of the cycle the user rates (see :func:`rateable_statement`), loaded. One query."""
    return list(db_session.scalars(rateable_statement(cycle, user, unit_id)))


def unrated_people(cycle: Cycle, user: User) -> list[tuple[int | None, int | None]]:
    """(unit id, person id) of the people the user rates who are not fully rated yet: one query,
    no inputs loaded (for counts such as the home page's to-dos)."""
    return [tuple(row) for row in db_session.execute(
        select(CycleSubject.unit_id, CycleSubject.person_id)
        .where(*_rateable_where(cycle, user), not_(complete_clause(cycle))).order_by(CycleSubject.code))]


def rateable_units(cycle: Cycle, user: User) -> list[tuple[int, str]]:
    """The units of the people the user rates, for the unit filter (id, name), in the org's order:
    one query, without loading the people."""
    used = select(CycleSubject.unit_id).where(*_rateable_where(cycle, user)).distinct()
    return [(u.id, u.name) for u in db_session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(used)).order_by(OrgUnit.sort_order, OrgUnit.code))]


def units_of(subjects: list[CycleSubject]) -> list[tuple[int, str]]:
    """The units the rows belong to, for the unit filter (id, name), in the org's order."""
    used = {s.unit_id for s in subjects if s.unit_id is not None}
    if not used:
        return []
    return [(u.id, u.name) for u in db_session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(sorted(used))).order_by(OrgUnit.sort_order, OrgUnit.code))]


@dataclass(frozen=True)
class Progress:
    rated: int
    total: int

    @property
    def done(self) -> bool:
        return self.total > 0 and self.rated == self.total


def progress(cycle: Cycle, subjects: list[CycleSubject]) -> Progress:
    """How many of these rows have all four ratings."""
    fields: dict[str | None, list[InputField]] = {}
    rated = 0
    for s in subjects:
        if s.staff_class not in fields:
            fields[s.staff_class] = rating_fields(cycle, s.staff_class)
        rated += is_complete(s, fields[s.staff_class])
    return Progress(rated, len(subjects))


def progress_of(cycle: Cycle, user: User, unit_id: int | None = None) -> Progress:
    """How many of the people the user rates (of ``unit_id`` and below, if given) have every rating:
    counted by the database in one query, whatever the number of people (each autosave shows it)."""
    done = complete_clause(cycle)
    total, rated = db_session.execute(
        select(func.count(), func.coalesce(func.sum(case((done, 1), else_=0)), 0))
        .select_from(CycleSubject).where(*_rateable_where(cycle, user, unit_id))).one()
    return Progress(int(rated or 0), int(total or 0))


@dataclass(frozen=True)
class LiveTotal:
    """A complete row's total as the scheme computes it now (the month's events included), rounded
    half up to 2 decimals; ``reference`` for a person the scheme excludes (not ranked, no pay)."""

    total: Decimal | None
    reference: bool = False
    problem: str | None = None


def _case_person(subject: CycleSubject) -> dict[str, Any]:
    inputs = subject.inputs or {}
    person_inputs = {"ratings": inputs.get("ratings")}
    if inputs.get("events"):
        person_inputs["events"] = inputs["events"]
    return {"id": subject.code, "inputs": person_inputs}


def _score(cycle: Cycle, people: list[dict[str, Any]]) -> dict[str, Decimal]:
    raw = {"scheme": cycle.scheme_id, "period": cycle.period, "settings": cycle.settings or {}, "units": [],
           "people": people}
    result = score_case(*build_case(raw, get_schemes()))
    return {p.id: p.score for p in result.people}


def live_totals(cycle: Cycle, subjects: list[CycleSubject]) -> dict[int, LiveTotal]:
    """The live total of each complete row (one scoring of the scheme for all of them). The total
    only needs the ratings and the month's events: the person is scored as regular staff here, so an
    excluded person's total is the one the scheme computes for reference."""
    fields = {c: rating_fields(cycle, c) for c in {s.staff_class for s in subjects}}
    complete = [s for s in subjects if is_complete(s, fields[s.staff_class])]
    if not complete:
        return {}
    try:
        scores = _score(cycle, [_case_person(s) for s in complete])
    except CaseError:  # a stored value the scheme refuses: score the rows one by one to name it
        scores = {}
        problems: dict[str, str] = {}
        for s in complete:
            try:
                scores.update(_score(cycle, [_case_person(s)]))
            except CaseError as exc:
                problems[s.code] = "; ".join(exc.problems)
        return {s.id: LiveTotal(scores.get(s.code), is_excluded(s), problems.get(s.code)) for s in complete}
    return {s.id: LiveTotal(scores.get(s.code), is_excluded(s)) for s in complete}
