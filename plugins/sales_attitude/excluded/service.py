"""The people of a sales month who are not assessed, each with the reason (issue 6, item 6).

Two kinds (schemes.md §2, "Who"), shown apart:

- the excluded staff: an excluded status (实习期 intern, 试用期/见习 probation, 转岗 transfer, 晋升
  promotion, 降职 demotion). The person is a subject of the cycle, rated like everyone, but the scheme
  lists them as excluded with the reason: not scored, not ranked, no pay computed (result flag
  ``excluded:<status>``; their total is computed for reference only). These are the ones counted
  ("Excluded staff (3)");
- the people the cycle itself left out (``CycleSubject.eligible`` false): no staff class of the
  scheme (the head office ...), or a class or status not selected for the cycle. Their reason is
  written again in the reader's language (the core stored it in the language of the cycle's maker).

A unit head sees the people of their units only (:func:`plugins.sales_attitude.policy.unit_scope`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import false, func, select

from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, User
from core.org.forms import STATUS_LABELS
from plugins.sales_attitude.policy import unit_scope
from plugins.sales_attitude.scoring import EXCLUDED_STATUSES, STAFF_CLASSES
from plugins.sales_attitude.web import SCHEME_ID

STATUS = "status"   # an excluded status: listed with the reason, not ranked, no pay
CYCLE = "cycle"     # left out of the cycle by the core (not a subject assessed)


@dataclass(frozen=True)
class Excluded:
    subject: CycleSubject
    unit_name: str
    kind: str           # STATUS or CYCLE
    reason: str
    label: str = ""     # STATUS: the scheme's label of ``excluded:<status>``


def term_label(term: str | None) -> str:
    """A term of the scheme (a staff class, ``excluded:<status>``) in the current language."""
    from core.cycles.views import _label

    return _label(SCHEME_ID, term) if term else ""


def _status_clause():
    """A person assessed with an excluded status."""
    return (CycleSubject.kind == "person") & CycleSubject.eligible.is_(True) & CycleSubject.status.in_(EXCLUDED_STATUSES)


def _outside_clause():
    """A person the cycle left out."""
    return (CycleSubject.kind == "person") & CycleSubject.eligible.is_(False)


def _scoped(statement, user: User):
    scope = unit_scope(user)
    if scope is None:
        return statement
    return statement.where(CycleSubject.unit_id.in_(sorted(scope))) if scope else statement.where(false())


def status_reason(status: str | None) -> str:
    """Why a person with an excluded status is not assessed."""
    return _("%(status)s: not scored, not ranked, no pay computed; the ratings are kept for reference.",
             status=STATUS_LABELS.get(status, status))


def join_terms(terms) -> str:
    from plugins.sales_attitude.competence.service import join_terms as join

    return join(terms)


def cycle_reason(subject: CycleSubject, cycle: Cycle) -> str:
    """Why the cycle left a person out, in the reader's language (the core's stored reason otherwise)."""
    selection = cycle.selection or {}
    if subject.staff_class not in STAFF_CLASSES:
        return _("no staff class of this scheme (%(classes)s)", classes=join_terms(term_label(c) for c in STAFF_CLASSES))
    if selection.get("classes") and subject.staff_class not in selection["classes"]:
        return _("class %(cls)s not selected for this cycle", cls=term_label(subject.staff_class))
    if selection.get("statuses") and subject.status not in selection["statuses"]:
        return _("status %(status)s not selected for this cycle", status=STATUS_LABELS.get(subject.status, subject.status))
    return subject.excluded_reason or ""


def _rows(cycle: Cycle, user: User, clause) -> list[tuple[CycleSubject, str]]:
    statement = _scoped(select(CycleSubject, OrgUnit.name)
                        .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                        .where(CycleSubject.cycle_id == cycle.id, clause)
                        .order_by(OrgUnit.sort_order, OrgUnit.code, CycleSubject.code), user)
    return [(subject, unit_name or "") for subject, unit_name in db_session.execute(statement).all()]


def excluded(cycle: Cycle, user: User) -> list[Excluded]:
    """The cycle's excluded staff (an excluded status) the user may see, by unit and number. One query."""
    return [Excluded(subject, unit_name, STATUS, status_reason(subject.status), term_label(f"excluded:{subject.status}"))
            for subject, unit_name in _rows(cycle, user, _status_clause())]


def outside(cycle: Cycle, user: User) -> list[Excluded]:
    """The people the cycle left out that the user may see (no staff class of the scheme ...), with
    the reason in the reader's language, by unit and number. One query."""
    return [Excluded(subject, unit_name, CYCLE, cycle_reason(subject, cycle))
            for subject, unit_name in _rows(cycle, user, _outside_clause())]


def count_by_cycle(cycle_ids: list[int], user: User) -> dict[int, int]:
    """How many excluded staff (an excluded status) the user sees in each of these cycles: one query."""
    if not cycle_ids:
        return {}
    statement = _scoped(select(CycleSubject.cycle_id, func.count())
                        .where(CycleSubject.cycle_id.in_(cycle_ids), _status_clause())
                        .group_by(CycleSubject.cycle_id), user)
    counts = dict(db_session.execute(statement).all())
    return {cycle_id: counts.get(cycle_id, 0) for cycle_id in cycle_ids}
