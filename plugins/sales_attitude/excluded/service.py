"""The people of a sales month who are not assessed, each with the reason (issue 6, item 6).

Two kinds (schemes.md §2, "Who"):

- an excluded status (实习期 intern, 试用期/见习 probation, 转岗 transfer, 晋升 promotion, 降职
  demotion): the person is a subject of the cycle, rated like everyone, but the scheme lists them
  as excluded with the reason: not scored, not ranked, no pay computed (result flag
  ``excluded:<status>``; their total is computed for reference only);
- the people the cycle itself left out (``CycleSubject.eligible`` false, with the core's
  ``excluded_reason``): no staff class of the scheme, a class or status not selected.

A unit head sees the people of their units only (:func:`plugins.sales_attitude.policy.unit_scope`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import false, func, or_, select

from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, User
from core.org.forms import STATUS_LABELS
from plugins.sales_attitude.policy import unit_scope
from plugins.sales_attitude.scoring import EXCLUDED_STATUSES

STATUS = "status"   # an excluded status: listed with the reason, not ranked, no pay
CYCLE = "cycle"     # left out of the cycle by the core (not a subject assessed)


@dataclass(frozen=True)
class Excluded:
    subject: CycleSubject
    unit_name: str
    kind: str           # STATUS or CYCLE
    reason: str


def _clause():
    """An excluded person of a cycle: left out by the core, or assessed with an excluded status."""
    return (CycleSubject.kind == "person") & or_(CycleSubject.eligible.is_(False),
                                                 CycleSubject.status.in_(EXCLUDED_STATUSES))


def _scoped(statement, user: User):
    scope = unit_scope(user)
    if scope is None:
        return statement
    return statement.where(CycleSubject.unit_id.in_(sorted(scope))) if scope else statement.where(false())


def status_reason(status: str | None) -> str:
    """Why a person with an excluded status is not assessed."""
    return _("%(status)s: not scored, not ranked, no pay computed; the ratings are kept for reference.",
             status=STATUS_LABELS.get(status, status))


def excluded(cycle: Cycle, user: User) -> list[Excluded]:
    """The cycle's excluded people the user may see, status exclusions first, then by unit and
    number. One query."""
    statement = _scoped(select(CycleSubject, OrgUnit.name)
                        .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                        .where(CycleSubject.cycle_id == cycle.id, _clause())
                        .order_by(CycleSubject.eligible.desc(), OrgUnit.sort_order, OrgUnit.code, CycleSubject.code),
                        user)
    found = []
    for subject, unit_name in db_session.execute(statement).all():
        if subject.eligible:
            found.append(Excluded(subject, unit_name or "", STATUS, status_reason(subject.status)))
        else:
            found.append(Excluded(subject, unit_name or "", CYCLE, subject.excluded_reason or ""))
    return found


def count_by_cycle(cycle_ids: list[int], user: User) -> dict[int, int]:
    """How many excluded people the user sees in each of these cycles: one query."""
    if not cycle_ids:
        return {}
    statement = _scoped(select(CycleSubject.cycle_id, func.count())
                        .where(CycleSubject.cycle_id.in_(cycle_ids), _clause())
                        .group_by(CycleSubject.cycle_id), user)
    counts = dict(db_session.execute(statement).all())
    return {cycle_id: counts.get(cycle_id, 0) for cycle_id in cycle_ids}
