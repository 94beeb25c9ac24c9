"""corporate-grading: approval chains of the monthly personal scorecards.

- "My approvals": what waits for the user across cycles, and the user's own scorecards;
- a monthly cycle's approvals: progress per class and step, filters, pagination (HR, leaders);
- one scorecard's chain: its steps and who acts at each, the current step, the buttons (submit,
  approve, return) and the history.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm.exc import StaleDataError

from core.cycles.service import EDITABLE_STATES
from core.db import db_session
from core.models import CycleSubject
from core.policy import may_enter_inputs, permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate, paginate_list, render_page
from plugins.corporate_grading.approvals import models  # noqa: F401  (registers the tables)
from plugins.corporate_grading.approvals import service  # before policy (see service's imports)
from plugins.corporate_grading import policy  # noqa: I001
from plugins.corporate_grading.approvals.models import CHAINS, CorporateApproval
from plugins.corporate_grading.web import account, cycle_state_name, get_corporate_cycle, require_scheme

from plugins.corporate_grading.letters.service import level_label  # noqa: E402 (one set of level labels)

bp = Blueprint("corporate_approvals", __name__, url_prefix="/t/<tenant>/corporate")

FILTER_STATES = ("none", "returned", "submitted", "approved")
FILTER_STEPS = tuple(dict.fromkeys(step for chain in CHAINS.values() for step in chain))


def _subject(cycle, subject_id: int) -> CycleSubject:
    """A person subject of this cycle in the current tenant that has a chain, or 404."""
    subject = db_session.get(CycleSubject, subject_id)
    if subject is None or not service.in_scope(cycle, subject):
        abort(404)
    return subject


def _panel(cycle, subject, user, message: str | None = None, level: str = "success") -> dict:
    """Everything the scorecard's page shows, and what this user may do there."""
    where = service.directory()
    approval = service.approval_of(subject)
    chain = CHAINS[approval.chain if approval is not None else subject.staff_class]
    state = approval.state if approval is not None else "none"
    current = approval.current_step if approval is not None else None
    steps = [(step, where.acting(step, subject)) for step in chain]
    approver_ids = {u for _step, acting in steps for u in acting.user_ids}
    if not policy.may_see_approval(user, subject, approver_ids):
        abort(403)
    acting = where.acting(current, subject)
    editable = cycle.state in EDITABLE_STATES
    return dict(
        cycle=cycle, subject=subject, approval=approval, state=state, current=current, steps=steps,
        done=(approval.step if state == "submitted" else len(chain) if state == "approved" else 0) if approval else 0,
        acting=acting, who=where.who, step_label=service.step_label, cycle_state_label=cycle_state_name,
        state_labels=service.STATE_LABELS, action_labels=service.ACTION_LABELS, total=service.scorecard_total(cycle, subject),
        events=service.history(approval), editable=editable, own=policy.is_own_scorecard(user, subject),
        version=approval.version if approval is not None else 0,
        can_submit=editable and state in ("none", "returned") and policy.may_submit_scorecard(user, subject),
        can_approve=editable and state == "submitted" and policy.may_approve_step(user, subject, acting.user_ids),
        can_return=editable and policy.may_return_scorecard(user, subject, state, acting.user_ids),
        can_open_form=may_enter_inputs(user, subject.unit_id) or policy.is_own_scorecard(user, subject),
        levels={k: level_label(k) for k in ("very_satisfied", "satisfied", "basically_satisfied", "needs_improvement")},
        message=message, level=level)


@bp.get("/approvals")
@permission_required("tenant.home")
def mine():
    """My approvals: the scorecards waiting for me at their current step, and my own scorecards."""
    require_scheme()
    user = account()
    where = service.directory()
    waiting = service.awaiting(user, where)
    rows = [(a, s, c, where.acting(a.current_step, s)) for a, s, c in waiting]
    return render_page("corporate_grading/approvals/mine.html", page=paginate_list(rows),
                       own=service.my_scorecards(user), step_label=service.step_label,
                       state_labels=service.STATE_LABELS, who=where.who, total_of=service.scorecard_total)


@bp.get("/cycles/<int:cycle_id>/approvals")
@permission_required("tenant.home")
def cycle_index(cycle_id: int):
    """A monthly cycle's approvals: progress per class and step, then the scorecards, filtered."""
    require_scheme()
    cycle = get_corporate_cycle(cycle_id, "month")
    if not policy.may_follow_approvals(account()):
        abort(403)
    errors = []
    klass = request.args.get("class", "")
    state = request.args.get("state", "")
    step = request.args.get("step", "")
    q = request.args.get("q", "").strip()[:100]
    for name, value, allowed in ((_("Class"), klass, tuple(CHAINS)), (_("State"), state, FILTER_STATES),
                                 (_("Step"), step, FILTER_STEPS)):
        if value and value not in allowed:
            errors.append(_("%(field)s: %(value)s is not allowed; allowed: %(allowed)s.", field=name, value=repr(value),
                            allowed=", ".join(allowed)))
    stmt = (select(CycleSubject).outerjoin(CorporateApproval, CorporateApproval.subject_id == CycleSubject.id)
            .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "person", CycleSubject.eligible.is_(True),
                   CycleSubject.staff_class.in_(tuple(CHAINS)))
            .order_by(CycleSubject.code))
    if klass in CHAINS:
        stmt = stmt.where(CycleSubject.staff_class == klass)
    if state == "none":
        stmt = stmt.where(CorporateApproval.id.is_(None))
    elif state in FILTER_STATES:
        stmt = stmt.where(CorporateApproval.state == state)
    if step in FILTER_STEPS:
        stmt = stmt.where(CorporateApproval.state == "submitted", or_(*(
            and_(CorporateApproval.chain == k, CorporateApproval.step == chain.index(step))
            for k, chain in CHAINS.items() if step in chain)))
    if q:
        stmt = stmt.where(or_(CycleSubject.name.contains(q, autoescape=True), CycleSubject.code.contains(q, autoescape=True)))
    page = paginate(stmt)
    found = service.approvals_for([s.id for s in page.items])
    where = service.directory()
    rows = []
    for subject in page.items:
        approval = found.get(subject.id)
        current = approval.current_step if approval is not None else None
        rows.append((subject, approval, current, where.acting(current, subject) if current else None))
    return render_page("corporate_grading/approvals/cycle.html", cycle=cycle, page=page, rows=rows,
                       progress=service.progress(cycle), chains=CHAINS, step_label=service.step_label,
                       state_labels=service.STATE_LABELS, who=where.who, total_of=service.scorecard_total,
                       klass=klass, state=state, step=step, q=q, errors=errors, filter_states=FILTER_STATES,
                       filter_steps=FILTER_STEPS)


@bp.get("/cycles/<int:cycle_id>/approvals/<int:subject_id>")
@permission_required("tenant.home")
def subject_page(cycle_id: int, subject_id: int):
    """One personal scorecard's approval chain: its steps, who acts, the buttons and the history."""
    require_scheme()
    cycle = get_corporate_cycle(cycle_id, "month")
    subject = _subject(cycle, subject_id)
    return render_page("corporate_grading/approvals/subject.html", **_panel(cycle, subject, account()))


def _act(cycle_id: int, subject_id: int, action: str):
    """Run one action on a scorecard; htmx gets the panel back, a plain post a redirect."""
    require_scheme()
    cycle = get_corporate_cycle(cycle_id, "month")
    subject = _subject(cycle, subject_id)
    user = account()
    approval = service.approval_of(subject)
    state = approval.state if approval is not None else "none"
    acting = service.directory().acting(approval.current_step if approval is not None else None, subject)
    allowed = {"submit": policy.may_submit_scorecard(user, subject),
               "approve": policy.may_approve_step(user, subject, acting.user_ids),
               "return": policy.may_return_scorecard(user, subject, state, acting.user_ids)}[action]
    if not allowed:
        abort(403)
    version = request.form.get("version", "")
    note = request.form.get("note", "")
    status, level = 200, "success"
    try:
        if action == "submit":
            service.submit(cycle, subject, user, version)
            message = _("Submitted: %(name)s's scorecard is now with the first approver.", name=subject.name)
        elif action == "approve":
            done = service.approve(cycle, subject, user, note, version)
            message = (_("Approved: %(name)s's scorecard is final.", name=subject.name) if done.state == "approved"
                       else _("Approved: %(name)s's scorecard moves on to %(step)s.", name=subject.name,
                              step=service.step_label(done.current_step)))
        else:
            service.return_to_person(cycle, subject, user, note, version)
            message = _("Returned to %(name)s with your note.", name=subject.name)
        db_session.commit()
    except service.ApprovalError as exc:
        db_session.rollback()
        status, level, message = 422, "error", str(exc)
    except StaleDataError:
        db_session.rollback()
        status, level = 409, "error"
        message = _("Someone else acted on this scorecard since you opened the page; reload it and try again.")
    if not request.headers.get("HX-Request"):
        flash(message, level)
        return redirect(url_for(".subject_page", cycle_id=cycle.id, subject_id=subject.id))
    db_session.expire_all()
    return render_page("corporate_grading/approvals/subject.html",
                       **_panel(cycle, subject, user, message, level)), status


@bp.post("/cycles/<int:cycle_id>/approvals/<int:subject_id>/submit")
@permission_required("tenant.home")
def submit(cycle_id: int, subject_id: int):
    """The person (or HR for them) submits the self-score into the chain."""
    return _act(cycle_id, subject_id, "submit")


@bp.post("/cycles/<int:cycle_id>/approvals/<int:subject_id>/approve")
@permission_required("tenant.home")
def approve(cycle_id: int, subject_id: int):
    """The current step's approver approves (with an optional note)."""
    return _act(cycle_id, subject_id, "approve")


@bp.post("/cycles/<int:cycle_id>/approvals/<int:subject_id>/return")
@permission_required("tenant.home")
def return_scorecard(cycle_id: int, subject_id: int):
    """The current step's approver, or HR, returns the scorecard to the person with a note."""
    return _act(cycle_id, subject_id, "return")


def cycle_links(cycle, user) -> list:
    """"Approvals" on a monthly cycle's page, for those who follow the chains (HR, leaders)."""
    account_ = tenant_user(user)
    if not service.is_monthly(cycle) or not policy.may_follow_approvals(account_):
        return []
    return [MenuItem(_("Approvals"), url_for("corporate_approvals.cycle_index", cycle_id=cycle.id),
                     "corporate_approvals.cycle_index", order=30)]


def _may_approve_somewhere(user) -> bool:
    """Cheap first: only HR, unit heads, leaders, post holders and overseeing leaders can have
    scorecards waiting for them; everyone else's pages skip the approvers' directory."""
    from sqlalchemy import select

    from plugins.corporate_grading.organisation.models import CorporatePost, Oversight

    if user.roles & {"tenant_admin", "unit_head", "leader"}:
        return True
    if db_session.scalar(select(CorporatePost.id).where(CorporatePost.user_id == user.id).limit(1)) is not None:
        return True
    return user.person_id is not None and db_session.scalar(
        select(Oversight.id).where(Oversight.person_id == user.person_id).limit(1)) is not None


def menu_items(tenant, user) -> list:
    """"My approvals", with the number of scorecards waiting for the user."""
    account_ = tenant_user(user)
    if account_ is None:
        return []
    count = service.awaiting_count(account_) if _may_approve_somewhere(account_) else 0
    label = _("My approvals (%(n)s)", n=count) if count else _("My approvals")
    return [MenuItem(label, url_for("corporate_approvals.mine", tenant=tenant.slug), "corporate_approvals.mine", order=41)]
