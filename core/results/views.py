"""A person's results, the interview and signatures, appeals and their decisions (upheld, adjusted,
or corrected: the inputs corrected and the cycle recomputed), notifications.

Who may read a result is decided by :func:`core.policy.can_see_result`, never here.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from core.cycles import after
from core.cycles.after import AfterError, StaleAppeal
from core.cycles.input_views import whole_number
from core.cycles.views import _label as scheme_label
from core.db import db_session
from core.models import Acknowledgement, Appeal, Cycle, CycleResult, CycleSubject, Notification
from core.plugins import get_schemes
from core.policy import (can, can_see_result, is_own_result, may_interview, may_see_confidential,
                         permission_required, redact, tenant_user)
from core.web import paginate, render_page

bp = Blueprint("results", __name__, url_prefix="/t/<tenant>")


def get_result(result_id: int) -> tuple[CycleResult, CycleSubject, Cycle]:
    """A result of the current tenant the user may read: 404 when it is not the tenant's, 403 when
    the access policy says no."""
    result = db_session.get(CycleResult, result_id)
    if result is None:
        abort(404)
    subject = db_session.get(CycleSubject, result.subject_id)
    cycle = db_session.get(Cycle, result.cycle_id)
    if not can_see_result(current_user, cycle.state, subject.person_id, subject.unit_id):
        abort(403)
    return result, subject, cycle


def get_appeal(appeal_id: int) -> Appeal:
    """An appeal of the current tenant, or 404."""
    appeal = db_session.get(Appeal, appeal_id)
    if appeal is None:
        abort(404)
    return appeal


def result_term(cycle: Cycle, subject: CycleSubject):
    """The wording of a result's terms (flags, extra keys, breakdown labels, input keys) in the
    current language: the scheme's labels, else the labels of the input fields the scheme declares
    for the subject (a field's last key, a group's first key), else the term as written."""
    from core.i18n import current_locale
    from core.scoring.case import Period

    scheme = get_schemes().get(cycle.scheme_id)
    words: dict[str, str] = {}
    if scheme is not None and scheme.input_fields is not None:
        locale = current_locale()
        for field in scheme.fields_for(cycle.settings or {}, subject.kind, subject.staff_class,
                                       Period.parse(cycle.period).kind):
            parts = field.path.split(".")
            words.setdefault(field.path, field.label(locale))
            words.setdefault(parts[-1], field.label(locale))
            if len(parts) > 1 and field.group(locale):
                words.setdefault(parts[0], field.group(locale))

    def term(key) -> str:
        label = scheme_label(cycle.scheme_id, key)
        if label != key or not isinstance(key, str):
            return label
        return words.get(key, key)
    return term


def not_scored_reason(result: CycleResult, subject: CycleSubject, term) -> str | None:
    """Why a result has no score (the scheme excluded the person: an intern, a probation period ...),
    else None."""
    from core.org.forms import STATUS_LABELS

    if result.score is not None:
        return None
    for flag in result.flags or ():
        kind, _sep, status = str(flag).partition(":")
        if kind == "excluded" and status:
            return str(STATUS_LABELS.get(status, term(flag)))
    if subject.excluded_reason:
        return subject.excluded_reason
    note = (result.breakdown or {}).get("note")
    return note or _("the scheme does not score this subject")


def _actor() -> str:
    return f"user:{tenant_user(current_user).username}"


@bp.get("/my/results")
@permission_required("results.mine")
def mine():
    """The signed-in person's published results, newest first."""
    account = tenant_user(current_user)
    stmt = (select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .join(Cycle, Cycle.id == CycleResult.cycle_id)
            .where(CycleSubject.person_id == (account.person_id or -1), Cycle.state.in_(("published", "closed")))
            .order_by(Cycle.published_at.desc()))
    page = paginate(stmt)
    cycles = {c.id: c for c in db_session.scalars(select(Cycle).where(Cycle.id.in_({r.cycle_id for r in page.items})))}
    return render_page("results/mine.html", page=page, cycles=cycles)


@bp.get("/results/<int:result_id>")
@permission_required("results.mine")
def result(result_id: int):
    """One result: score, grade, rank, breakdown; the interview and signatures; the appeal; history."""
    result, subject, cycle = get_result(result_id)
    ack = db_session.scalar(select(Acknowledgement).where(Acknowledgement.result_id == result.id))
    appeals = list(db_session.scalars(select(Appeal).where(Appeal.result_id == result.id).order_by(Appeal.id)))
    extra, breakdown = redact(current_user, get_schemes()[cycle.scheme_id], subject.person_id,
                              result.extra, result.breakdown)
    term = result_term(cycle, subject)
    return render_page("results/result.html", result=result, subject=subject, cycle=cycle, ack=ack, appeals=appeals,
                       extra=extra, breakdown=breakdown, term=term, decision_label=after.decision_label,
                       not_scored=not_scored_reason(result, subject, term),
                       deadline=after.appeal_deadline(cycle), changes=after.history(result),
                       own=is_own_result(current_user, subject.person_id),
                       may_interview=may_interview(current_user, subject.unit_id, subject.person_id),
                       confidential=may_see_confidential(current_user),
                       open_appeal=after.open_appeal(result))


def _act(result_id: int, action):
    result, subject, cycle = get_result(result_id)
    try:
        action(result, subject, cycle)
        db_session.commit()
    except AfterError as exc:
        db_session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("results.result", result_id=result_id))


@bp.post("/results/<int:result_id>/interview")
@permission_required("results.mine")
def interview(result_id: int):
    """The assessor records the interview and signs."""
    def act(result, subject, cycle):
        if not may_interview(current_user, subject.unit_id, subject.person_id) or cycle.state != "published":
            abort(403)
        after.record_interview(result, request.form.get("record", ""), _actor())
        flash(_("Interview recorded and signed."), "success")
    return _act(result_id, act)


@bp.post("/results/<int:result_id>/sign")
@permission_required("results.mine")
def sign(result_id: int):
    """The person signs their result."""
    def act(result, subject, cycle):
        if not is_own_result(current_user, subject.person_id):
            abort(403)
        after.person_signs(result, _actor())
        flash(_("Signed."), "success")
    return _act(result_id, act)


@bp.post("/results/<int:result_id>/appeal")
@permission_required("results.mine")
def appeal(result_id: int):
    """The person appeals against their result, within the scheme's window."""
    def act(result, subject, cycle):
        if not is_own_result(current_user, subject.person_id):
            abort(403)
        after.file_appeal(cycle, result, request.form.get("reason", ""), _actor())
        flash(_("Your appeal was filed; HR will investigate it."), "success")
    return _act(result_id, act)


@bp.get("/appeals/")
@permission_required("appeals.decide")
def appeals():
    """Appeals of the tenant, open ones first."""
    state = request.args.get("state", "")
    stmt = select(Appeal).order_by((Appeal.state == "decided").asc(), Appeal.filed_at.desc())
    if state:
        stmt = stmt.where(Appeal.state == state)
    return render_page("results/appeals.html", page=paginate(stmt), state=state)


@bp.route("/appeals/<int:appeal_id>", methods=["GET", "POST"])
@permission_required("appeals.decide")
def appeal_page(appeal_id: int):
    """One appeal: the result it concerns; HR's investigation; the leadership's decision (the form
    carries the appeal's ``version``: a decision on a page loaded before a correction of the inputs
    is refused, 409)."""
    appeal = get_appeal(appeal_id)
    result = db_session.get(CycleResult, appeal.result_id)
    subject = db_session.get(CycleSubject, result.subject_id)
    cycle = db_session.get(Cycle, result.cycle_id)
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "investigate":
                if not can(current_user, "appeals.investigate"):
                    abort(403)
                after.investigate(appeal, cycle, request.form.get("investigation", ""), _actor())
            else:
                if is_own_result(current_user, subject.person_id):
                    raise AfterError(_("Nobody decides an appeal against their own result."))
                raw = request.form.get("version")
                version = None if raw is None else whole_number(raw)
                after.decide(appeal, cycle, request.form.get("decision", ""), request.form.get("new_score"),
                             request.form.get("note", ""), _actor(), after.person_accounts(subject),
                             version=-1 if raw is not None and version is None else version)
            db_session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("results.appeal_page", appeal_id=appeal.id))
        except StaleAppeal as exc:
            db_session.rollback()
            flash(str(exc), "error")
            status = 409
        except AfterError as exc:
            db_session.rollback()
            flash(str(exc), "error")
        except StaleDataError:
            db_session.rollback()
            flash(_("Someone else changed this appeal at the same moment; reload and check."), "error")
            status = 409
    _extra, breakdown = redact(current_user, get_schemes()[cycle.scheme_id], subject.person_id,
                               result.extra, result.breakdown)
    may_investigate = can(current_user, "appeals.investigate")
    corrections = after.corrections(appeal, subject)
    pending = after.pending_corrections(cycle, appeal) if appeal.state == "investigating" else []
    may_correct = (may_investigate and appeal.state == "investigating" and cycle.state == "published"
                   and not is_own_result(current_user, subject.person_id) and not pending)
    return render_page("results/appeal.html", appeal=appeal, result=result, subject=subject, cycle=cycle,
                       breakdown=breakdown, term=result_term(cycle, subject),
                       decision_label=after.decision_label, changes=after.history(result),
                       may_investigate=may_investigate, may_correct=may_correct,
                       correct_url=url_for("cycle_inputs.subject_form", cycle_id=cycle.id, subject_id=subject.id,
                                           appeal=appeal.id),
                       adjust_refused=after.adjust_refused(cycle, result), corrections=corrections,
                       corrected=after.inputs_corrected(appeal, subject, corrections),
                       published_inputs=(corrections[0].before or {}).get("inputs") if corrections else None,
                       changed_inputs=after.changed_inputs,
                       pending=after.pending_message(*pending[0]) if pending else None), status


@bp.get("/notifications")
@permission_required("results.mine")
def notifications():
    """The signed-in account's messages, newest first."""
    account = tenant_user(current_user)
    page = paginate(select(Notification).where(Notification.user_id == account.id).order_by(Notification.id.desc()))
    return render_page("results/notifications.html", page=page)


@bp.post("/notifications/read")
@permission_required("results.mine")
def notifications_read():
    """Mark every message of the account as read."""
    account = tenant_user(current_user)
    db_session.execute(update(Notification).where(Notification.user_id == account.id, Notification.read_at.is_(None))
                       .values(read_at=after.now()).execution_options(synchronize_session=False))
    db_session.commit()
    return redirect(url_for("results.notifications"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
