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

from sqlalchemy import select

from core.cycles import inputs as forms
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, User
from core.org.service import descendants
from core.plugins import get_schemes
from core.schemes import InputField
from core.scoring import score_case
from core.scoring.case import CaseError, Period, build_case
from plugins.sales_attitude.policy import may_rate, unit_scope
from plugins.sales_attitude.scoring import EXCLUDED_STATUSES

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


def rateable(cycle: Cycle, user: User, unit_id: int | None = None) -> list[CycleSubject]:
    """The people of the cycle the user rates (HR: everyone but themselves; a unit head: the people
    of their units but themselves), of one unit (and the units below it) when ``unit_id`` is given;
    ordered by unit, then number. Two queries."""
    statement = (select(CycleSubject)
                 .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                 .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "person",
                        CycleSubject.eligible.is_(True))
                 .order_by(OrgUnit.sort_order, OrgUnit.code, CycleSubject.code))
    scope = unit_scope(user)
    if scope is not None:
        statement = statement.where(CycleSubject.unit_id.in_(sorted(scope) or [-1]))
    if unit_id is not None:
        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        below = descendants({unit_id}, parents) if unit_id in parents else set()
        statement = statement.where(CycleSubject.unit_id.in_(sorted(below) or [-1]))
    return [s for s in db_session.scalars(statement) if may_rate(user, s.person_id, s.unit_id)]


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
    rated = sum(1 for s in subjects if is_complete(s, rating_fields(cycle, s.staff_class)))
    return Progress(rated, len(subjects))


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
    complete = [s for s in subjects if is_complete(s, rating_fields(cycle, s.staff_class))]
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
