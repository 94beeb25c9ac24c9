"""corporate-grading: 360 quality reviews of annual cycles.

HR assigns raters from the org structure, adjusts them and follows the progress per ratee and
group; raters answer their own assignments under "My 360 reviews". Who rated whom and each answer
are HR's to see only (policy.py, reviews section).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.cycles.views import state_label
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, Person
from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate, paginate_list, redirect_after, render_page
from plugins.corporate_grading.policy import is_rater, may_manage_ratee, may_manage_reviews, may_see_review_answers
from plugins.corporate_grading.reviews import models  # noqa: F401  (registers the tables)
from plugins.corporate_grading.reviews import service
from plugins.corporate_grading.reviews.models import ReviewAssignment
from plugins.corporate_grading.web import account, actor, get_corporate_cycle, require_scheme

bp = Blueprint("corporate_reviews", __name__, url_prefix="/t/<tenant>/corporate")

FLAG_FILTERS = ("redistributed", "no_answers", "incomplete")


# ----------------------------------------------------------------------------------- loaders

def _hr_cycle(cycle_id: int) -> Cycle:
    """An annual corporate cycle of the tenant (404) that the user may manage the reviews of (403)."""
    require_scheme()
    cycle = get_corporate_cycle(cycle_id, "year")
    if not may_manage_reviews(account()):
        abort(403)
    return cycle


def _ratee(cycle: Cycle, subject_id: int) -> CycleSubject:
    """A ratee of the cycle (an eligible person subject of class A, B or C), or 404."""
    subject = db_session.get(CycleSubject, subject_id)
    if not service.is_ratee(cycle, subject):
        abort(404)
    return subject


def _managed_ratee(cycle: Cycle, subject_id: int) -> CycleSubject:
    """A ratee whose raters the user manages: 403 for HR's own record (who rated them)."""
    subject = _ratee(cycle, subject_id)
    if not may_manage_ratee(account(), subject):
        abort(403)
    return subject


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None



def _unit_names(unit_ids) -> dict[int, str]:
    ids = {u for u in unit_ids if u is not None}
    if not ids:
        return {}
    return dict(db_session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


# ----------------------------------------------------------------------------------- HR: the cycle

@bp.get("/reviews/cycles/<int:cycle_id>")
@permission_required("tenant.home")
def manage(cycle_id: int):
    """HR's page of a cycle's 360 reviews: progress per ratee and group (answered/assigned), ratees
    whose weights are redistributed or who have no answer flagged; filters and pagination."""
    cycle = _hr_cycle(cycle_id)
    q = request.args.get("q", "").strip()
    klass = request.args.get("class", "")
    flag = request.args.get("flag", "")
    ratees = list(db_session.scalars(service.ratees_stmt(cycle)))
    progress = service.progress(cycle, ratees)
    totals = service.group_totals(progress)
    flagged = {"redistributed": sum(p.redistributed for p in progress.values()),
               "no_answers": sum(p.no_answers for p in progress.values())}
    shown = [s for s in ratees
             if (not q or q.lower() in s.name.lower() or q.lower() in s.code.lower())
             and (klass not in service.GROUPS or s.staff_class == klass)
             and (flag not in FLAG_FILTERS or flag == "redistributed" and progress[s.id].redistributed
                  or flag == "no_answers" and progress[s.id].no_answers
                  or flag == "incomplete" and not progress[s.id].complete)]
    page = paginate_list(shown)
    return render_page("corporate_grading/reviews/manage.html", cycle=cycle, page=page, progress=progress,
                       totals=totals, flagged=flagged, ratee_count=len(ratees), editable=service.editable(cycle),
                       filters={"q": q, "class": klass, "flag": flag}, groups=service.GROUPS,
                       group_label=service.group_label, state_label=state_label,
                       units=_unit_names(s.unit_id for s in page.items))


@bp.post("/reviews/cycles/<int:cycle_id>/assign")
@permission_required("tenant.home")
def assign(cycle_id: int):
    """Assign raters to every ratee from the org structure (idempotent; answered assignments and
    raters added by hand are kept)."""
    cycle = _hr_cycle(cycle_id)
    try:
        counts = service.bulk_assign(cycle, actor())
        db_session.commit()
        flash(_("Raters assigned from the org structure: %(added)s added, %(removed)s removed, %(total)s in all.",
                **counts), "success")
    except service.ReviewError as exc:
        db_session.rollback()
        flash(str(exc), "error")
    except IntegrityError:  # the same assignment made at the same moment (a double click, a second tab)
        db_session.rollback()
        flash(_("Raters were being assigned by someone else at the same moment; reload to see them."), "error")
    return redirect_after(url_for(".manage", cycle_id=cycle.id))


# ----------------------------------------------------------------------------------- HR: one ratee

def _ratee_page(cycle: Cycle, subject: CycleSubject, error: service.ReviewError | None = None,
                status: int = 200, form: dict | None = None):
    q = request.args.get("q", "").strip() if request.method == "GET" else (form or {}).get("q", "")
    rows = service.assignments_of(subject)
    by_group = {g: [(a, p) for a, p in rows if a.group == g] for g in service.GROUPS[subject.staff_class]}
    extra = [(a, p) for a, p in rows if a.group not in by_group]  # a group the class no longer has
    progress = service.progress(cycle, [subject])[subject.id]
    return render_page("corporate_grading/reviews/ratee.html", cycle=cycle, subject=subject, by_group=by_group,
                       extra=extra, progress=progress, q=q, with_account=service.with_accounts(p.id for _a, p in rows), candidates=service.candidates(subject, q),
                       editable=service.editable(cycle), error=error, form=form or {},
                       show_answers=may_see_review_answers(account()), group_label=service.group_label,
                       state_label=state_label, unit_name=_unit_names([subject.unit_id]).get(subject.unit_id, "")), status


@bp.get("/reviews/cycles/<int:cycle_id>/subjects/<int:subject_id>")
@permission_required("tenant.home")
def ratee(cycle_id: int, subject_id: int):
    """One ratee's raters per group with their answers (HR only); add a rater found by name or staff
    number (``?q=``), remove an unanswered assignment."""
    cycle = _hr_cycle(cycle_id)
    return _ratee_page(cycle, _managed_ratee(cycle, subject_id))


@bp.post("/reviews/cycles/<int:cycle_id>/subjects/<int:subject_id>/raters")
@permission_required("tenant.home")
def add_rater(cycle_id: int, subject_id: int):
    """Add the chosen person as a rater of one of the ratee's groups."""
    cycle = _hr_cycle(cycle_id)
    subject = _managed_ratee(cycle, subject_id)
    raw = request.form.get("person_id", "").strip()
    group = request.form.get("group", "")
    try:
        assignment = service.add_rater(cycle, subject, int(raw) if raw.isdigit() else None, group, actor())
        db_session.commit()
    except service.ReviewError as exc:
        db_session.rollback()
        return _ratee_page(cycle, subject, exc, 422, {"group": group, "q": request.form.get("q", "")})
    except IntegrityError:  # the same rater added at the same moment
        db_session.rollback()
        flash(_("This rater was added by someone else at the same moment; reload to see them."), "error")
        return redirect_after(url_for(".ratee", cycle_id=cycle.id, subject_id=subject.id))
    flash(_("%(rater)s now rates %(ratee)s (%(group)s).", rater=db_session.get(Person, assignment.rater_id).name,
            ratee=subject.name, group=service.group_label(group)), "success")
    return redirect_after(url_for(".ratee", cycle_id=cycle.id, subject_id=subject.id))


@bp.post("/reviews/cycles/<int:cycle_id>/subjects/<int:subject_id>/raters/<int:person_id>/remove")
@permission_required("tenant.home")
def remove_rater(cycle_id: int, subject_id: int, person_id: int):
    """Remove one rater's unanswered assignment (confirmed first; the version guards against a
    concurrent answer)."""
    cycle = _hr_cycle(cycle_id)
    subject = _managed_ratee(cycle, subject_id)
    person = db_session.get(Person, person_id)
    if person is None:
        abort(404)
    assignment = service.rater_assignment(subject, person.id)
    if assignment is None:
        abort(404)
    try:
        service.remove_rater(cycle, assignment, _version(), actor())
        db_session.commit()
    except service.StaleReview as exc:
        db_session.rollback()
        return _ratee_page(cycle, subject, exc, 409)
    except StaleDataError:
        db_session.rollback()
        return _ratee_page(cycle, subject, service.StaleReview(
            _("This assignment was changed by someone else; reload the page to see it.")), 409)
    except service.ReviewError as exc:
        db_session.rollback()
        return _ratee_page(cycle, subject, exc, 422)
    flash(_("%(rater)s no longer rates %(ratee)s.", rater=person.name, ratee=subject.name), "success")
    return redirect_after(url_for(".ratee", cycle_id=cycle.id, subject_id=subject.id))


# ----------------------------------------------------------------------------------- raters

@bp.get("/reviews/mine")
@permission_required("tenant.home")
def mine():
    """The signed-in person's 360 reviews: whom they rate, in which cycle and group, and their own
    answers (nobody else's)."""
    require_scheme()
    user = account()
    todo = request.args.get("todo") == "1"
    page = paginate(service.my_assignments_stmt(user.person_id, todo)) if user.person_id else paginate_list([])
    subjects = {s.id: s for s in db_session.scalars(
        select(CycleSubject).where(CycleSubject.id.in_({a.subject_id for a in page.items})))} if page.items else {}
    cycles = {c.id: c for c in db_session.scalars(
        select(Cycle).where(Cycle.id.in_({a.cycle_id for a in page.items})))} if page.items else {}
    return render_page("corporate_grading/reviews/mine.html", page=page, subjects=subjects, cycles=cycles, todo=todo,
                       group_label=service.group_label, state_label=state_label, editable=service.editable,
                       plain=service.plain, units=_unit_names(s.unit_id for s in subjects.values()))


def _own_assignment(cycle_id: int, subject_id: int) -> tuple[Cycle, CycleSubject, ReviewAssignment]:
    """The signed-in rater's own assignment for the ratee: 404 for another tenant's cycle or a
    subject that is not a ratee, 403 when the user does not rate this ratee."""
    require_scheme()
    cycle = get_corporate_cycle(cycle_id, "year")
    subject = _ratee(cycle, subject_id)
    user = account()
    assignment = service.rater_assignment(subject, user.person_id)
    if assignment is None or not is_rater(user, assignment.rater_id):
        abort(403)
    return cycle, subject, assignment


def _rate_page(cycle, subject, assignment, error=None, status=200, form=None):
    return render_page("corporate_grading/reviews/rate.html", cycle=cycle, subject=subject, assignment=assignment,
                       error=error, form=form, editable=service.editable(cycle), group_label=service.group_label,
                       state_label=state_label, plain=service.plain,
                       unit_name=_unit_names([subject.unit_id]).get(subject.unit_id, "")), status


@bp.get("/reviews/cycles/<int:cycle_id>/subjects/<int:subject_id>/rate")
@permission_required("tenant.home")
def rate(cycle_id: int, subject_id: int):
    """The rater's form for one ratee: a rating from 2 to 5 (up to 2 decimals) and a comment."""
    cycle, subject, assignment = _own_assignment(cycle_id, subject_id)
    return _rate_page(cycle, subject, assignment)


@bp.post("/reviews/cycles/<int:cycle_id>/subjects/<int:subject_id>/rate")
@permission_required("tenant.home")
def save_rating(cycle_id: int, subject_id: int):
    """Save the rater's rating and comment (while the cycle is a draft or open); a bad rating is
    shown next to the field (422), a concurrent change is a 409 and nothing is saved."""
    cycle, subject, assignment = _own_assignment(cycle_id, subject_id)
    form = {"rating": request.form.get("rating", ""), "comment": request.form.get("comment", "")}
    try:
        service.answer(cycle, assignment, form["rating"], form["comment"], _version(), actor())
        db_session.commit()
    except service.StaleReview as exc:
        db_session.rollback()
        return _rate_page(cycle, subject, db_session.get(ReviewAssignment, assignment.id), exc, 409, form)
    except StaleDataError:
        db_session.rollback()
        error = service.StaleReview(_("This assignment was changed by someone else; reload the page to see it."))
        return _rate_page(cycle, subject, db_session.get(ReviewAssignment, assignment.id), error, 409, form)
    except service.ReviewError as exc:
        db_session.rollback()
        return _rate_page(cycle, subject, db_session.get(ReviewAssignment, assignment.id), exc, 422, form)
    flash(_("Your rating of %(ratee)s was saved.", ratee=subject.name), "success")
    return redirect_after(url_for(".mine"))


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """HR reaches an annual cycle's 360 reviews from the cycle's page."""
    if len(cycle.period) != 4 or not may_manage_reviews(tenant_user(user)):
        return []
    return [MenuItem(_("360 reviews"), url_for("corporate_reviews.manage", cycle_id=cycle.id), "corporate_reviews.manage")]


def menu_items(tenant, user) -> list:
    """"My 360 reviews" for people who rate someone in an open cycle."""
    account_ = tenant_user(user)
    if account_ is None or not service.has_open_assignments(account_.person_id):
        return []
    return [MenuItem(_("My 360 reviews"), url_for("corporate_reviews.mine", tenant=tenant.slug),
                     "corporate_reviews.mine", order=40)]
