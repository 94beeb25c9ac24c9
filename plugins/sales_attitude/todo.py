"""What the sales scheme asks of the signed-in user now, for the home page (the scheme's card):

- a unit head: the people of their units still to rate in each open month (→ the ratings grid,
  only the unrated rows);
- HR: the people no unit head rates (the sales supervisors: nobody rates themselves) still to rate
  in each open month, sales staff without a pay base (→ the pay page, only those), people listed
  for training or transfer in the latest published month without a plan (→ that month's competence
  lists), and the latest computed month's payroll (→ the payroll);
- a salesperson: their open improvement plan (→ the plan).

Shown only for tenants with the scheme enabled (``core.schemes_web.scheme_home_panel`` calls it
only then). A few queries per page, never one per person.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Text, cast, func, or_, select

from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject, User
from core.policy import tenant_user
from plugins.sales_attitude.policy import is_hr, may_manage_pay, may_manage_plans, may_see_payroll

SCHEME_ID = "sales-attitude"


@dataclass(frozen=True)
class Todo:
    label: str  # says how many, where it is a number of people
    url: str
    count: int | None = None  # how many (people rated, paid ...), for whoever reads the list


def todo(user) -> list[Todo]:
    """The user's sales to-dos, most pressing first."""
    account: User | None = tenant_user(user)
    if account is None:
        return []
    found: list[Todo] = []
    if "unit_head" in account.roles and not is_hr(account):
        found.extend(_to_rate(account))
    if is_hr(account):
        found.extend(_to_rate(account, unheaded_only=True))
        found.extend(_pay_missing(account))
        found.extend(_listed_without_plan(account))
        found.extend(_payroll(account))
    if account.person_id is not None:
        found.extend(_own_plans(account))
    return found


def _to_rate(account: User, unheaded_only: bool = False) -> list[Todo]:
    """Per open month: the people the account rates (a unit head: those of their units; HR with
    ``unheaded_only``: those no unit head but themselves could rate) not fully rated yet. One
    query per open month (there is one, now and then two), and one for the unit heads."""
    from plugins.sales_attitude.ratings import service as ratings

    heads = _unit_heads() if unheaded_only else {}
    found = []
    for cycle in db_session.scalars(select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.state == "open")
                                    .order_by(Cycle.period, Cycle.id)):
        unrated = 0
        for unit_id, person_id in ratings.unrated_people(cycle, account):  # one query, no inputs loaded
            if unheaded_only and heads.get(unit_id, set()) - {person_id}:
                continue  # their unit head rates them
            unrated += 1
        if unrated:
            found.append(Todo(_("Rate %(n)s person(s) for %(month)s", n=unrated, month=cycle.period),
                              url_for("sales_ratings.grid", cycle_id=cycle.id, todo=1), unrated))
    return found


def _unit_heads() -> dict[int, set[int]]:
    """Each unit's heads (their person ids), a unit head answering for the units below theirs too."""
    from core.models import OrgUnit, RoleMembership
    from core.org.service import descendants

    parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    heads: dict[int, set[int]] = {}
    for unit_id, person_id in db_session.execute(
            select(RoleMembership.unit_id, User.person_id).join(User, User.id == RoleMembership.user_id)
            .where(RoleMembership.role == "unit_head", RoleMembership.unit_id.is_not(None), User.active.is_(True),
                   User.person_id.is_not(None))):
        for unit in descendants({unit_id}, parents):
            heads.setdefault(unit, set()).add(person_id)
    return heads


def _pay_missing(account: User) -> list[Todo]:
    """Sales staff without a pay base and coefficient: no performance pay is computed for them."""
    from plugins.sales_attitude.pay import service as pay

    if not may_manage_pay(account):
        return []
    statement = pay.staff_statement(missing=True).order_by(None).subquery()
    missing = db_session.scalar(select(func.count()).select_from(statement)) or 0
    if not missing:
        return []
    return [Todo(_("%(n)s sales staff without a pay base", n=missing), url_for("sales_pay.index", missing=1), missing)]


def _listed_without_plan(account: User) -> list[Todo]:
    """The people the latest published month lists for training or transfer with no plan answering
    the listing (a plan made from it, or an open plan of that kind). Three queries."""
    from plugins.sales_attitude.competence import service as competence

    latest = competence.latest_published_cycle()
    if latest is None:
        return []
    text = cast(CycleResult.flags, Text)
    rows = db_session.execute(
        select(CycleSubject.person_id, CycleResult.flags)
        .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
        .where(CycleResult.cycle_id == latest.id, CycleSubject.kind == "person", CycleResult.score.is_not(None),
               or_(text.like('%"training"%'), text.like('%"transfer"%')))).all()
    listed = [(person_id, kind) for person_id, flags in rows for kind in ("training", "transfer")
              if kind in (flags or ()) and person_id is not None and may_manage_plans(account, person_id)]
    plans = competence.plans_by_person_kind([p for p, _k in listed], latest.period)
    waiting = {person_id for person_id, kind in listed if (person_id, kind) not in plans}
    if not waiting:
        return []
    return [Todo(_("%(n)s person(s) listed in %(month)s without an improvement plan", n=len(waiting), month=latest.period),
                 url_for("sales_competence.lists", cycle_id=latest.id), len(waiting))]


def _payroll(account: User) -> list[Todo]:
    """The latest computed month not closed yet: its payroll (provisional until published). Two queries."""
    if not may_see_payroll(account):
        return []
    cycle = db_session.scalar(select(Cycle).where(
        Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(("review", "published")), Cycle.computed_at.is_not(None),
        func.length(Cycle.period) == 7).order_by(Cycle.period.desc(), Cycle.id.desc()).limit(1))
    if cycle is None:
        return []
    paid = db_session.scalar(select(func.count()).select_from(CycleResult).where(
        CycleResult.cycle_id == cycle.id, cast(CycleResult.extra, Text).like('%"pay"%'))) or 0
    label = (_("Payroll of %(month)s is ready", month=cycle.period) if cycle.state == "published"
             else _("Payroll of %(month)s computed (provisional until published)", month=cycle.period))
    return [Todo(label, url_for("sales_pay.payroll", cycle_id=cycle.id), paid)]


def _own_plans(account: User) -> list[Todo]:
    """The person's own open improvement plans (training, transfer). One query."""
    from plugins.sales_attitude.competence import service as competence
    from plugins.sales_attitude.competence.models import ImprovementPlan

    plans = db_session.scalars(select(ImprovementPlan).where(
        ImprovementPlan.person_id == account.person_id, ImprovementPlan.state == "open").order_by(ImprovementPlan.id))
    return [Todo(_("Your improvement plan: %(kind)s, %(first)s to %(last)s", kind=competence.kind_label(plan.kind),
                   first=plan.start_month, last=plan.end_month),
                 url_for("sales_competence.plan", plan_id=plan.id)) for plan in plans]
