"""The home page's dashboard: each person's tasks and deadlines; for administrators, how far the
open cycles are (completion of inputs, and coverage: assessed ÷ eligible). A built-in plugin
filling the ``home_panels`` slot; a handful of grouped counts, whatever the size of the tenant."""
from __future__ import annotations

from datetime import date

from flask import render_template
from markupsafe import Markup
from sqlalchemy import and_, case, func, select

from core import hookimpl
from core.cycles.after import appeal_deadline, unread_count
from core.cycles.service import asks_self
from core.db import db_session
from core.models import Acknowledgement, Appeal, Cycle, CycleResult, CycleSubject
from core.policy import can, headed_units, tenant_user


def my_tasks(account) -> dict:
    tasks: dict = {"unread": unread_count(account.id), "to_sign": [], "inputs": [], "appeals": 0, "self": []}
    if account.person_id is not None:
        rows = db_session.execute(
            select(CycleResult.id, Cycle)
            .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .join(Cycle, Cycle.id == CycleResult.cycle_id)
            .outerjoin(Acknowledgement, Acknowledgement.result_id == CycleResult.id)
            .where(CycleSubject.person_id == account.person_id, Cycle.state == "published",
                   Acknowledgement.person_signed_at.is_(None))).all()
        tasks["to_sign"] = [(rid, cycle, appeal_deadline(cycle)) for rid, cycle in rows]
        # self-scores the person still has to enter in open cycles
        own = db_session.execute(
            select(CycleSubject.id, CycleSubject.kind, CycleSubject.staff_class, Cycle)
            .join(Cycle, Cycle.id == CycleSubject.cycle_id)
            .where(CycleSubject.person_id == account.person_id, Cycle.state == "open",
                   CycleSubject.eligible.is_(True), CycleSubject.inputs_version == 0)).all()
        tasks["self"] = [(sid, cycle) for sid, kind, klass, cycle in own if asks_self(cycle, kind, klass)]
    roles = account.roles
    if roles & {"tenant_admin", "unit_head", "committee", "leader"}:
        stmt = (select(Cycle, func.count(CycleSubject.id))
                .join(CycleSubject, CycleSubject.cycle_id == Cycle.id)
                .where(Cycle.state == "open", CycleSubject.eligible.is_(True), CycleSubject.inputs_version == 0)
                .group_by(Cycle.id))
        if not roles & {"tenant_admin", "committee", "leader"}:
            stmt = stmt.where(CycleSubject.unit_id.in_(headed_units(account) or {-1}))
        tasks["inputs"] = db_session.execute(stmt).all()
    if can(account, "appeals.decide"):
        tasks["appeals"] = db_session.scalar(select(func.count()).select_from(Appeal).where(Appeal.state != "decided"))
    return tasks


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
