"""The home page's dashboard: each person's tasks and deadlines; for administrators, how far the
open cycles are (completion of inputs, and coverage: assessed ÷ eligible). A built-in plugin
filling the ``home_panels`` slot; a handful of queries, whatever the size of the tenant."""
from __future__ import annotations

from datetime import date

from flask import render_template
from markupsafe import Markup
from sqlalchemy import and_, case, func, or_, select

from core import hookimpl
from core.cycles.after import appeal_deadline, unread_count
from core.cycles.inputs import get_value
from core.cycles.service import asks_self
from core.db import db_session
from core.models import Acknowledgement, Appeal, Cycle, CycleResult, CycleSubject
from core.plugins import get_schemes
from core.policy import can, headed_units, tenant_user
from core.scoring.case import Period


def my_tasks(account) -> dict:
    tasks: dict = {"unread": unread_count(account.id), "to_sign": [], "inputs": [], "appeals": 0, "self": []}
    if account.person_id is not None:
        rows = db_session.execute(
            select(CycleResult.id, Cycle)
            .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .join(Cycle, Cycle.id == CycleResult.cycle_id)
            .outerjoin(Acknowledgement, Acknowledgement.result_id == CycleResult.id)
            .where(CycleSubject.person_id == account.person_id, Cycle.state == "published",
                   CycleResult.score.is_not(None),  # a person the scheme did not score has nothing to sign
                   Acknowledgement.person_signed_at.is_(None))).all()
        tasks["to_sign"] = [(rid, cycle, appeal_deadline(cycle)) for rid, cycle in rows]
        # self-scores the person still has to enter in open cycles
        own = db_session.execute(
            select(CycleSubject.id, CycleSubject.kind, CycleSubject.staff_class, Cycle)
            .join(Cycle, Cycle.id == CycleSubject.cycle_id)
            .where(CycleSubject.person_id == account.person_id, Cycle.state == "open",
                   CycleSubject.eligible.is_(True), CycleSubject.inputs_version == 0)).all()
        tasks["self"] = [(sid, cycle) for sid, kind, klass, cycle in own if asks_self(cycle, kind, klass)]
    if account.roles & {"tenant_admin", "unit_head", "committee", "leader", "surveyor"}:
        tasks["inputs"] = inputs_missing(account)
    if can(account, "appeals.decide"):
        tasks["appeals"] = db_session.scalar(select(func.count()).select_from(Appeal).where(Appeal.state != "decided"))
    return tasks


def missing(field, inputs: dict) -> bool:
    """Is a declared field not entered? (a scorecard: neither its one score nor its items)"""
    paths = (f"{field.path}_score", f"{field.path}_items") if field.kind == "scorecard" else (field.path,)
    return all(get_value(inputs, path) in (None, "", [], {}) for path in paths)


def inputs_missing(account) -> list[tuple[Cycle, int]]:
    """Per open cycle, how many subjects still miss a required field of the account's role (the
    fields the scheme declares for each subject's kind and class whose roles include one of the
    account's), among the subjects the account enters inputs for (a unit head: the units they
    head; never their own subject: what they score themselves is the "Score yourself" task).
    Inputs a scheme derives from its own records are asked of nobody and do not count. Three
    queries; only the subjects of a kind and class with such fields are read."""
    cycles = {c.id: c for c in db_session.scalars(select(Cycle).where(Cycle.state == "open").order_by(Cycle.id))}
    if not cycles:
        return []
    scope = [CycleSubject.cycle_id.in_(list(cycles)), CycleSubject.eligible.is_(True)]
    if not account.roles & {"tenant_admin", "committee", "leader", "surveyor"}:
        scope.append(CycleSubject.unit_id.in_(headed_units(account) or {-1}))
    if account.person_id is not None:
        scope.append(or_(CycleSubject.person_id.is_(None), CycleSubject.person_id != account.person_id))
    schemes = get_schemes()
    wanted: dict[tuple, list] = {}
    for cycle_id, kind, staff_class in db_session.execute(
            select(CycleSubject.cycle_id, CycleSubject.kind, CycleSubject.staff_class).where(*scope).distinct()):
        cycle = cycles[cycle_id]
        scheme = schemes.get(cycle.scheme_id)
        fields = scheme.fields_for(cycle.settings or {}, kind, staff_class, Period.parse(cycle.period).kind) if scheme else []
        mine = [f for f in fields if f.required and set(f.roles) & account.roles]
        if mine:
            wanted[(cycle_id, kind, staff_class)] = mine
    if not wanted:
        return []
    which = or_(*(and_(CycleSubject.cycle_id == cycle_id, CycleSubject.kind == kind,
                       CycleSubject.staff_class.is_(None) if staff_class is None else CycleSubject.staff_class == staff_class)
                  for cycle_id, kind, staff_class in wanted))
    counts: dict[int, int] = {}
    for cycle_id, kind, staff_class, inputs in db_session.execute(
            select(CycleSubject.cycle_id, CycleSubject.kind, CycleSubject.staff_class, CycleSubject.inputs)
            .where(*scope, which)):
        if any(missing(f, inputs or {}) for f in wanted[(cycle_id, kind, staff_class)]):
            counts[cycle_id] = counts.get(cycle_id, 0) + 1
    return [(cycles[i], n) for i, n in sorted(counts.items())]


def cycle_progress() -> list[tuple]:
    """Per open or in-review cycle: eligible subjects, those with inputs, those with results."""
    entered = func.sum(case((CycleSubject.inputs_version > 0, 1), else_=0))
    rows = db_session.execute(
        select(Cycle, func.count(CycleSubject.id), entered)
        .join(CycleSubject, and_(CycleSubject.cycle_id == Cycle.id, CycleSubject.eligible.is_(True)))
        .where(Cycle.state.in_(("open", "review")))
        .group_by(Cycle.id).order_by(Cycle.id)).all()
    results = dict(db_session.execute(select(CycleResult.cycle_id, func.count()).group_by(CycleResult.cycle_id)).all())
    return [(cycle, eligible, int(done or 0), results.get(cycle.id, 0)) for cycle, eligible, done in rows]


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    account = tenant_user(user)
    if tenant is None or account is None:
        return []
    progress = cycle_progress() if can(account, "cycles.view") else []
    return [Markup(render_template("dashboard/_panel.html", tasks=my_tasks(account), progress=progress,
                                   today=date.today()))]
