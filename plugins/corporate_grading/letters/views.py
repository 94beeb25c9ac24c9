"""Responsibility letters (目标责任书): the year's letters, one letter's goals with the guidance
checks, signing by both sides, reopening, and the year-end scoring with the live score."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from core.audit import history
from core.db import db_session
from core.models import OrgUnit, Person, User
from core.org.service import descendants
from core.policy import permission_required
from core.scoring.blocks import LEVELS
from core.scoring.numbers import exact
from core.slots import MenuItem
from core.web import paginate, redirect_after, render_page
from plugins.corporate_grading.letters import models, service  # noqa: F401 (models: the tables register)
from plugins.corporate_grading.letters.models import STATES, LetterGoal, ResponsibilityLetter
from plugins.corporate_grading.letters.service import LetterError
from plugins.corporate_grading.policy import (letter_scope, may_manage_letters, may_score_letter, may_sign_letter,
                                              may_view_letter)
from plugins.corporate_grading.web import account, actor, require_scheme

bp = Blueprint("corporate_letters", __name__, url_prefix="/t/<tenant>/corporate")

L = ResponsibilityLetter


# ----------------------------------------------------------------------------------- helpers

def _year(raw: str | None) -> str:
    raw = (raw or "").strip()
    return raw if len(raw) == 4 and raw.isdigit() and 2000 <= int(raw) <= 2100 else str(date.today().year)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _load(letter_id: int) -> ResponsibilityLetter:
    """A letter of the current tenant the user may see: 404 otherwise (another tenant's too), 403
    when it exists but is not the user's to see."""
    require_scheme()
    letter = db_session.get(ResponsibilityLetter, letter_id)
    if letter is None:
        abort(404)
    if not may_view_letter(account(), letter):
        abort(403)
    return letter


def _goal(letter: ResponsibilityLetter, goal_id: int) -> LetterGoal:
    goal = service.get_goal(letter, goal_id)
    if goal is None:
        abort(404)
    return goal


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _context(letter: ResponsibilityLetter, **extra):
    user = account()
    goals = service.goals_of(letter)
    rules = service.settings()
    checks = service.check(letter, goals, rules)
    signer_ids = [i for i in (letter.assessed_signed_by, letter.superior_signed_by) if i is not None]
    signers = {u.id: u for u in db_session.scalars(select(User).where(User.id.in_(signer_ids)))} if signer_ids else {}
    editable = may_manage_letters(user, letter) and not letter.signed
    context = dict(
        letter=letter, goals=goals, checks=checks, live=service.live_score(goals), rules=rules,
        personal=letter.person_id is not None, subject=service.subject_name(letter), signers=signers,
        editable=editable, may_reopen=may_manage_letters(user, letter) and letter.signed,
        sign_sides=[side for side in models.SIDES
                    if not letter.signed and getattr(letter, f"{side}_signed_by") is None
                    and may_sign_letter(user, letter, side)],
        may_score=letter.signed and may_score_letter(user, letter),
        history=history(letter), percent=service.percent, exact=exact, levels=LEVELS,
        goal_type_label=service.goal_type_label, level_label=service.level_label, state_label=service.state_label,
        better_label=service.better_label, add_values={}, add_errors={}, editing=None, edit_values={},
        edit_errors={}, score_values={}, score_errors={}, message=None, message_kind="error", problems=[],
        max_goals=service.MAX_GOALS)
    context.update(extra)
    return context


def _page(letter: ResponsibilityLetter, status: int = 200, **extra):
    return render_page("corporate_grading/letters/letter.html", **_context(letter, **extra)), status


def _done(letter: ResponsibilityLetter, message: str):
    """After a change: htmx gets the letter block again (with the message); a plain post redirects."""
    db_session.commit()
    if _htmx():
        db_session.refresh(letter)
        return _page(letter, message=message, message_kind="success")
    flash(message, "success")
    return redirect(url_for(".letter", letter_id=letter.id))


def _refused(letter: ResponsibilityLetter, exc: Exception, **extra):
    """A refused change: nothing is saved; 409 when the letter changed meanwhile, else 422."""
    db_session.rollback()
    letter = db_session.get(ResponsibilityLetter, letter.id)
    if letter is None:
        abort(404)
    if isinstance(exc, StaleDataError):
        return _page(letter, 409, message=_("The letter was changed by someone else since this page was loaded; "
                                            "reload the page."))
    status = 409 if exc.stale else 422
    return _page(letter, status, message=str(exc), problems=exc.problems, **extra)


# ----------------------------------------------------------------------------------- the year's letters

def _scope_clause(user):
    scope = letter_scope(user)
    if scope.everything:
        return None
    conditions = []
    if scope.person_id is not None:
        conditions.append(L.person_id == scope.person_id)
    if scope.president:
        conditions += [L.unit_id.is_not(None), Person.staff_class == "A"]
    if scope.unit_ids:
        conditions.append(L.unit_id.in_(scope.unit_ids))
    if scope.staff_unit_ids:
        conditions.append(Person.unit_id.in_(scope.staff_unit_ids))
    if scope.class_b_unit_ids:
        conditions.append(and_(Person.staff_class == "B", Person.unit_id.in_(scope.class_b_unit_ids)))
    return or_(*conditions) if conditions else false()


@bp.get("/letters")
@permission_required("tenant.home")
def index():
    """The responsibility letters of a year the user may see: filters, search, progress, pages."""
    require_scheme()
    user = account()
    year = _year(request.args.get("year"))
    kind = request.args.get("kind", "")
    kind = kind if kind in ("unit", "person") else ""
    state = request.args.get("state", "")
    state = state if state in STATES else ""
    raw_unit = request.args.get("unit_id", "")
    unit_id = int(raw_unit) if raw_unit.isdigit() else None
    q = request.args.get("q", "").strip()[:100]

    clauses = [L.year == year]
    scope = _scope_clause(user)
    if scope is not None:
        clauses.append(scope)
    if kind == "unit":
        clauses.append(L.unit_id.is_not(None))
    elif kind == "person":
        clauses.append(L.person_id.is_not(None))
    if unit_id is not None:
        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        below = descendants({unit_id}, parents) if unit_id in parents else set()
        clauses.append(or_(L.unit_id.in_(below), Person.unit_id.in_(below)))
    if q:
        clauses.append(or_(OrgUnit.name.icontains(q, autoescape=True), OrgUnit.code.icontains(q, autoescape=True),
                           Person.name.icontains(q, autoescape=True), Person.number.icontains(q, autoescape=True)))

    def joined(stmt):
        return (stmt.outerjoin(OrgUnit, L.unit_id == OrgUnit.id).outerjoin(Person, L.person_id == Person.id)
                .where(*clauses))

    counts = dict(db_session.execute(joined(select(L.state, func.count(L.id)).select_from(L)).group_by(L.state)).all())
    stmt = joined(select(L)).options(selectinload(L.unit), selectinload(L.person).selectinload(Person.unit))
    if state:
        stmt = stmt.where(L.state == state)
    stmt = stmt.order_by(case((L.unit_id.is_not(None), 0), else_=1), OrgUnit.sort_order, OrgUnit.code, Person.number)
    page = paginate(stmt)

    ids = [letter.id for letter in page.items]
    totals: dict[int, tuple[int, Fraction]] = {}
    if ids:
        for letter_id, weight in db_session.execute(select(LetterGoal.letter_id, LetterGoal.weight)
                                                    .where(LetterGoal.letter_id.in_(ids))):
            count, total = totals.get(letter_id, (0, Fraction(0)))
            totals[letter_id] = (count + 1, total + exact(weight))
    signer_ids = {i for letter in page.items for i in (letter.assessed_signed_by, letter.superior_signed_by) if i}
    signers = {u.id: u for u in db_session.scalars(select(User).where(User.id.in_(signer_ids)))} if signer_ids else {}
    this_year = date.today().year  # and the next one: letters are drafted before the year begins
    years = sorted(set(db_session.scalars(select(L.year).distinct())) | {year, str(this_year), str(this_year + 1)},
                   reverse=True)
    units = list(db_session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True))
                                    .order_by(OrgUnit.sort_order, OrgUnit.code)))
    return render_page("corporate_grading/letters/index.html", page=page, year=year, years=years, kind=kind,
                       state=state, unit_id=unit_id, q=q, units=units, counts=counts, totals=totals,
                       signers=signers, may_manage=may_manage_letters(user), states=STATES,
                       state_label=service.state_label, subject_name=service.subject_name, percent=service.percent)



@bp.post("/letters/draft")
@permission_required("tenant.home")
def draft_all():
    """HR: a draft letter for every unit and every class A/B/C person of the year that has none."""
    require_scheme()
    if not may_manage_letters(account()):
        abort(403)
    year = request.form.get("year", "")
    try:
        units, people = service.draft_all(year, actor())
        db_session.commit()
    except LetterError as exc:
        db_session.rollback()
        flash(str(exc), "error")
        return redirect_after(url_for(".index"))
    except IntegrityError:  # someone else drafted the same letters at the same moment
        db_session.rollback()
        flash(_("Letters were being created by someone else at the same time; nothing was created. Try again."), "error")
        return redirect_after(url_for(".index", year=year))
    if units or people:
        flash(_("Draft letters created for %(year)s: %(units)s unit(s) and %(people)s person(s).", year=year,
                units=units, people=people), "success")
    else:
        flash(_("Every unit and person already has a letter for %(year)s: nothing was created.", year=year), "success")
    return redirect_after(url_for(".index", year=year))


# ----------------------------------------------------------------------------------- one letter

@bp.get("/letters/<int:letter_id>")
@permission_required("tenant.home")
def letter(letter_id: int):
    """One letter: its goals with the weight total and the guidance, signatures, scores, history."""
    return _page(_load(letter_id))


@bp.post("/letters/<int:letter_id>/goals")
@permission_required("tenant.home")
def add_goal(letter_id: int):
    """HR adds a goal to a draft letter."""
    letter = _load(letter_id)
    if not may_manage_letters(account(), letter):
        abort(403)
    try:
        goal = service.add_goal(letter, request.form, _version(), actor())
        name = goal.name
        return _done(letter, _("Goal “%(name)s” added.", name=name))
    except (LetterError, StaleDataError) as exc:
        return _refused(letter, exc, add_values=request.form.to_dict(), add_errors=getattr(exc, "errors", {}))


@bp.get("/letters/<int:letter_id>/goals/<int:goal_id>/edit")
@permission_required("tenant.home")
def edit_goal(letter_id: int, goal_id: int):
    """HR: the goal's row as a form (htmx swaps it in place of the row)."""
    letter = _load(letter_id)
    if not may_manage_letters(account(), letter):
        abort(403)
    goal = _goal(letter, goal_id)
    if letter.signed:
        abort(409, _("This letter is signed by both sides: its goals are locked. HR may reopen it with a reason."))
    context = _context(letter, editing=goal.id, edit_values={k: getattr(goal, k) or "" for k in service.AUDITED})
    if _htmx():
        index = next(i for i, g in enumerate(context["goals"], start=1) if g.id == goal.id)
        return render_template("corporate_grading/letters/_goal_row.html", goal=goal, index=index, **context)
    return render_page("corporate_grading/letters/letter.html", **context)


@bp.post("/letters/<int:letter_id>/goals/<int:goal_id>")
@permission_required("tenant.home")
def save_goal(letter_id: int, goal_id: int):
    """HR saves an edited goal of a draft letter."""
    letter = _load(letter_id)
    if not may_manage_letters(account(), letter):
        abort(403)
    goal = _goal(letter, goal_id)
    try:
        service.update_goal(letter, goal, request.form, _version(), actor())
        return _done(letter, _("Goal “%(name)s” saved.", name=goal.name))
    except (LetterError, StaleDataError) as exc:
        return _refused(letter, exc, editing=goal_id, edit_values=request.form.to_dict(),
                        edit_errors=getattr(exc, "errors", {}))


@bp.post("/letters/<int:letter_id>/goals/<int:goal_id>/delete")
@permission_required("tenant.home")
def delete_goal(letter_id: int, goal_id: int):
    """HR deletes a goal of a draft letter (confirmed first)."""
    letter = _load(letter_id)
    if not may_manage_letters(account(), letter):
        abort(403)
    goal = _goal(letter, goal_id)
    name = goal.name
    try:
        service.delete_goal(letter, goal, _version(), actor())
        return _done(letter, _("Goal “%(name)s” deleted.", name=name))
    except (LetterError, StaleDataError) as exc:
        return _refused(letter, exc)


@bp.post("/letters/<int:letter_id>/sign")
@permission_required("tenant.home")
def sign(letter_id: int):
    """One side signs the letter (签订): only the account the policy names for that side."""
    letter = _load(letter_id)
    user = account()
    side = request.form.get("side", "")
    if side not in models.SIDES:
        abort(400)
    if not may_sign_letter(user, letter, side):
        abort(403)
    try:
        service.sign(letter, side, user, _version(), actor())
        message = (_("Signed by both sides: the goals are locked.") if letter.signed
                   else _("Signed. The letter waits for the other side's signature."))
        return _done(letter, message)
    except (LetterError, StaleDataError) as exc:
        return _refused(letter, exc)


@bp.post("/letters/<int:letter_id>/reopen")
@permission_required("tenant.home")
def reopen(letter_id: int):
    """HR reopens a signed letter with a reason: both signatures are cleared (audited)."""
    letter = _load(letter_id)
    if not may_manage_letters(account(), letter):
        abort(403)
    try:
        service.reopen(letter, request.form.get("reason", ""), _version(), actor())
        return _done(letter, _("The letter is reopened: both sides sign it again after the changes."))
    except (LetterError, StaleDataError) as exc:
        return _refused(letter, exc, reopen_reason=request.form.get("reason", ""))


@bp.post("/letters/<int:letter_id>/scores")
@permission_required("tenant.home")
def scores(letter_id: int):
    """The superior side or HR enters the year-end actuals and levels (htmx on each change)."""
    letter = _load(letter_id)
    if not may_score_letter(account(), letter):
        abort(403)
    try:
        changed = service.set_scores(letter, request.form, _version(), actor())
        message = _("Saved.") if changed else _("Nothing changed.")
        return _done(letter, message)
    except (LetterError, StaleDataError) as exc:
        return _refused(letter, exc, score_values=request.form.to_dict(), score_errors=getattr(exc, "errors", {}))


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """An annual cycle links to that year's letters (its target scores come from them)."""
    if len(cycle.period) != 4:
        return []
    return [MenuItem(_("Responsibility letters %(year)s", year=cycle.period),
                     url_for("corporate_letters.index", year=cycle.period), "corporate_letters.index", order=20)]


def menu_items(tenant, user) -> list:
    """Every user of a tenant with the scheme reaches the letters they are party to."""
    return [MenuItem(_("Responsibility letters"), url_for("corporate_letters.index", tenant=tenant.slug),
                     "corporate_letters.index", order=62)]
