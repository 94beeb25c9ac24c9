"""corporate-grading: the monthly plan sheets of the units (月计划进度/实际进度表) and the cycle's
adjustments (加减分) with their reasons.

Every page answers htmx requests with the block its target names (``#sheet``, ``#results``); a plain
POST redirects after success. Who may do what is decided in plugins/corporate_grading/policy.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.db import db_session
from core.models import CycleSubject
from core.org.forms import UNIT_KIND_LABELS
from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate, paginate_list, render_page
from plugins.corporate_grading.plans import models, service  # noqa: F401 - models: the tables register
from plugins.corporate_grading.plans.models import BONUS_KINDS, PENALTY_KINDS, SHEET_STATES, PlanItem
from plugins.corporate_grading.policy import (heads_unit, may_adjust, may_check_sheet, may_draft_sheet,
                                              may_return_sheet, may_view_all_plans, may_view_plans, may_view_sheet)
from plugins.corporate_grading.web import account, actor, cycle_state_name, get_corporate_cycle, require_scheme

bp = Blueprint("corporate_plans", __name__, url_prefix="/t/<tenant>/corporate")


def _htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _toast(message: str) -> dict[str, str]:
    """The HX-Trigger header for the toast (JSON with ASCII escapes: header values are latin-1)."""
    return {"HX-Trigger": json.dumps({"jixiao:saved": message})}


def _stale_message() -> str:
    return _("Someone else changed this at the same time; reload to see the changes.")


# ----------------------------------------------------------------------------------- loaders

def _monthly_cycle(cycle_id: int):
    require_scheme()
    return get_corporate_cycle(cycle_id, "month")


def _unit_subject(cycle, subject_id: int) -> CycleSubject:
    """A unit assessed in this cycle (of the current tenant), or 404."""
    subject = db_session.get(CycleSubject, subject_id)
    if subject is None or subject.cycle_id != cycle.id or subject.kind != "unit" or not subject.eligible:
        abort(404)
    return subject


def _item(sheet, plan_item_id: int) -> PlanItem:
    item = db_session.get(PlanItem, plan_item_id)
    if item is None or sheet is None or item.sheet_id != sheet.id:
        abort(404)
    return item


# ----------------------------------------------------------------------------------- the list

@dataclass
class SheetRow:
    subject: CycleSubject
    sheet: Any
    state: str
    planned: int
    completed: int
    pending: int
    late: bool


@bp.get("/cycles/<int:cycle_id>/plans")
@permission_required("tenant.home")
def index(cycle_id: int):
    """The cycle's plan sheets: every unit with its sheet's state, planned and completed items and
    rate; filtered by state. A unit head sees the units they answer for."""
    cycle = _monthly_cycle(cycle_id)
    user = account()
    if not may_view_plans(user):
        abort(403)
    subjects = service.unit_subjects(cycle)
    if not may_view_all_plans(user):
        subjects = [s for s in subjects if heads_unit(user, s.unit_id)]
    sheets = service.sheets_by_subject(cycle)
    counts = service.counts_by_sheet(cycle)
    rows = []
    for subject in subjects:
        sheet = sheets.get(subject.id)
        planned, completed, pending = counts.get(sheet.id, (0, 0, 0)) if sheet else (0, 0, 0)
        rows.append(SheetRow(subject, sheet, sheet.state if sheet else "draft", planned, completed, pending,
                             service.is_late(cycle, sheet)))
    state = request.args.get("state", "")
    state = state if state in SHEET_STATES else ""
    tally = {s: sum(1 for r in rows if r.state == s) for s in SHEET_STATES}
    if state:
        rows = [r for r in rows if r.state == state]
    due, office = service.deadlines(cycle)
    return render_page("corporate_grading/plans/index.html", cycle=cycle, page=paginate_list(rows), state=state,
                       states=service.state_labels(), tally=tally, rate_text=service.rate_text, due=due, office=office,
                       may_adjust=may_adjust(user))


# ----------------------------------------------------------------------------------- one sheet

def _sheet_page(cycle, subject: CycleSubject, status: int = 200, message: str | None = None,
                error: str | None = None, errors: dict | None = None, errors_for: str | None = None):
    """The sheet page (or its ``#sheet`` block for htmx): items, live counts and the buttons its
    state and the user allow. ``errors_for`` names the form whose posted values are shown again."""
    user = account()
    sheet = service.sheet_of(subject)
    items = service.items_of(sheet)
    planned, completed, pending = service.tally(items)
    state = sheet.state if sheet else "draft"
    editable = cycle.state in ("draft", "open")
    edit = request.args.get("edit", "")
    due, office = service.deadlines(cycle)
    context = dict(
        cycle=cycle, subject=subject, sheet=sheet, items=items, state=state, planned=planned, completed=completed,
        pending=pending, rate_text=service.rate_text(planned, completed), late=service.is_late(cycle, sheet),
        due=due, office=office, states=service.state_labels(), completions=service.completion_labels(),
        editable=editable, may_draft=editable and state == "draft" and may_draft_sheet(user, subject.unit_id),
        may_check=editable and state == "submitted" and may_check_sheet(user, subject.unit_id),
        may_return=editable and state == "submitted" and may_return_sheet(user),
        may_reopen=editable and state == "checked" and may_return_sheet(user),
        editing=int(edit) if edit.isdigit() else None, message=message, error=error, errors=errors or {},
        errors_for=errors_for, posted=request.form if errors_for else {},
    )
    headers = _toast(message) if message and _htmx() else {}
    context["cycle_state_name"] = cycle_state_name(cycle.state)
    return render_page("corporate_grading/plans/sheet.html", **context), status, headers


def _sheet_guard(cycle_id: int, subject_id: int):
    cycle = _monthly_cycle(cycle_id)
    subject = _unit_subject(cycle, subject_id)
    if not may_view_sheet(account(), subject.unit_id):
        abort(403)
    return cycle, subject


@bp.get("/cycles/<int:cycle_id>/plans/<int:subject_id>")
@permission_required("tenant.home")
def sheet(cycle_id: int, subject_id: int):
    """One unit's plan sheet; ``?edit=<item id>`` shows that item as a form (htmx: inline)."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    return _sheet_page(cycle, subject)


def _act(cycle, subject, action, done: str, errors_for: str | None = None):
    """Run a service action and commit. A refusal shows the sheet again with the reason (422 for
    what was entered, 409 for the state or a concurrent change); success re-renders (htmx) or
    redirects with a flash."""
    try:
        action()
        db_session.commit()
    except service.PlanError as exc:
        db_session.rollback()
        return _sheet_page(cycle, subject, 422 if exc.errors else 409, error=str(exc), errors=exc.errors,
                           errors_for=errors_for)
    except (StaleDataError, IntegrityError):
        db_session.rollback()
        return _sheet_page(cycle, subject, 409, error=_stale_message())
    if _htmx():
        return _sheet_page(cycle, subject, message=done)
    flash(done, "success")
    return redirect(url_for(".sheet", cycle_id=cycle.id, subject_id=subject.id))


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/items")
@permission_required("tenant.home")
def add_item(cycle_id: int, subject_id: int):
    """Add a planned item to the unit's draft sheet (its head, or HR)."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    if not may_draft_sheet(account(), subject.unit_id):
        abort(403)
    return _act(cycle, subject, lambda: service.add_item(cycle, subject, request.form, actor()),
                _("Item added."), errors_for="new")


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/items/<int:plan_item_id>")
@permission_required("tenant.home")
def save_item(cycle_id: int, subject_id: int, plan_item_id: int):
    """Save an item: its plan while the sheet is a draft (its head, or HR), its completion and
    evidence while the sheet is submitted (the plan supervisor, or HR)."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    sheet_row = service.sheet_of(subject)
    item = _item(sheet_row, plan_item_id)
    user = account()
    if sheet_row.state == "submitted":
        if not may_check_sheet(user, subject.unit_id):
            abort(403)
        action = lambda: service.judge_item(cycle, sheet_row, item, request.form, actor())  # noqa: E731
        done = _("Judgement saved.")
    else:
        if not may_draft_sheet(user, subject.unit_id):
            abort(403)
        action = lambda: service.edit_item(cycle, sheet_row, item, request.form, actor())  # noqa: E731
        done = _("Item saved.")
    return _act(cycle, subject, action, done, errors_for=str(item.id))


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/items/<int:plan_item_id>/delete")
@permission_required("tenant.home")
def delete_item(cycle_id: int, subject_id: int, plan_item_id: int):
    """Remove an item from a draft sheet (confirmed first in the browser)."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    sheet_row = service.sheet_of(subject)
    item = _item(sheet_row, plan_item_id)
    if not may_draft_sheet(account(), subject.unit_id):
        abort(403)
    return _act(cycle, subject, lambda: service.delete_item(cycle, sheet_row, item, request.form.get("version", ""),
                                                            actor()), _("Item removed."))


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/submit")
@permission_required("tenant.home")
def submit(cycle_id: int, subject_id: int):
    """The unit's head (or HR) submits the draft plan."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    if not may_draft_sheet(account(), subject.unit_id):
        abort(403)
    return _act(cycle, subject, lambda: service.submit(cycle, service.sheet_of(subject), request.form.get("version", ""),
                                                       actor()), _("The plan sheet was submitted."))


def _sheet(subject):
    """The unit's plan sheet, or 404 when it has none yet."""
    sheet_row = service.sheet_of(subject)
    if sheet_row is None:
        abort(404)
    return sheet_row


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/check")
@permission_required("tenant.home")
def check(cycle_id: int, subject_id: int):
    """The plan supervisor (or HR) checks the judged sheet: its counts go into the unit's inputs."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    if not may_check_sheet(account(), subject.unit_id):
        abort(403)
    sheet_row = _sheet(subject)
    return _act(cycle, subject, lambda: service.check(cycle, subject, sheet_row, request.form.get("version", ""), actor()),
                _("The plan sheet was checked; its counts are in the unit's inputs."))


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/return")
@permission_required("tenant.home")
def return_sheet(cycle_id: int, subject_id: int):
    """HR returns a submitted sheet to draft, with a reason."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    if not may_return_sheet(account()):
        abort(403)
    sheet_row = _sheet(subject)
    return _act(cycle, subject, lambda: service.return_to_draft(cycle, sheet_row, request.form.get("reason", ""),
                                                                request.form.get("version", ""), actor()),
                _("The plan sheet was returned to draft."), errors_for="return")


@bp.post("/cycles/<int:cycle_id>/plans/<int:subject_id>/reopen")
@permission_required("tenant.home")
def reopen_sheet(cycle_id: int, subject_id: int):
    """HR reopens a checked sheet to correct a judgement, with a reason."""
    cycle, subject = _sheet_guard(cycle_id, subject_id)
    if not may_return_sheet(account()):
        abort(403)
    sheet_row = _sheet(subject)
    return _act(cycle, subject, lambda: service.reopen_checked(cycle, subject, sheet_row, request.form.get("reason", ""),
                                                               request.form.get("version", ""), actor()),
                _("The plan sheet was reopened: judge its items and check it again."), errors_for="reopen")


# ----------------------------------------------------------------------------------- adjustments

def _adjust_filters() -> dict[str, str]:
    kind = request.args.get("kind", "")
    return {"kind": kind if kind in ("unit", "person") else "", "q": request.args.get("q", "").strip()[:100],
            "only": "1" if request.args.get("only") == "1" else ""}


def _adjust_cycle(cycle_id: int):
    require_scheme()
    cycle = get_corporate_cycle(cycle_id)
    if not may_adjust(account()):
        abort(403)
    return cycle


def _adjust_page(cycle, status: int = 200, message: str | None = None, error: str | None = None,
                 errors: dict | None = None, errors_for: int | None = None):
    filters = _adjust_filters()
    stmt = (select(CycleSubject).where(CycleSubject.cycle_id == cycle.id, CycleSubject.eligible.is_(True))
            .order_by(CycleSubject.kind.desc(), CycleSubject.code))
    if filters["kind"]:
        stmt = stmt.where(CycleSubject.kind == filters["kind"])
    if filters["q"]:
        like = f"%{filters['q']}%"
        stmt = stmt.where(or_(CycleSubject.code.ilike(like), CycleSubject.name.ilike(like)))
    if filters["only"]:
        stmt = stmt.where(CycleSubject.id.in_(select(models.Adjustment.subject_id)
                                              .where(models.Adjustment.cycle_id == cycle.id)))
    page = paginate(stmt)
    args = {k: v for k, v in filters.items() if v}
    page.url = lambda number: url_for(".adjustments", cycle_id=cycle.id, page=number, **args)  # type: ignore[method-assign]
    if errors_for is not None and all(s.id != errors_for for s in page.items):
        page.items.insert(0, db_session.get(CycleSubject, errors_for))  # the refused row stays in sight
    edit = request.args.get("edit", "")
    bounds = service.adjust_bounds_table(cycle)
    context = dict(
        cycle=cycle, page=page, filters=filters, args={**args, "page": page.page}, adjustments=service.adjustments_by_subject(cycle),
        bounds=bounds, bounds_of=service.bounds_key, kinds=service.kind_labels(), bonus_kinds=BONUS_KINDS,
        penalty_kinds=PENALTY_KINDS, editable=cycle.state in ("draft", "open"),
        editing=errors_for if errors_for is not None else (int(edit) if edit.isdigit() else None),
        message=message, error=error, errors=errors or {}, posted=request.form if errors_for is not None else {},
        text=service.text, unit_kinds=UNIT_KIND_LABELS, may_adjust_subject=lambda subject: may_adjust(account(), subject),
    )
    headers = _toast(message) if message and _htmx() else {}
    context["cycle_state_name"] = cycle_state_name(cycle.state)
    return render_page("corporate_grading/plans/adjustments.html", **context), status, headers


@bp.get("/cycles/<int:cycle_id>/adjustments")
@permission_required("tenant.home")
def adjustments(cycle_id: int):
    """The cycle's bonuses and penalties (加减分) with their reasons, for units and people
    (HR and the plan supervisor); ``?edit=<subject id>`` opens one row's form."""
    return _adjust_page(_adjust_cycle(cycle_id))


@bp.post("/cycles/<int:cycle_id>/adjustments/<int:subject_id>")
@permission_required("tenant.home")
def adjust(cycle_id: int, subject_id: int):
    """Set a subject's adjustment (value within the cycle's bounds, reason category and written
    reason); 0 removes it. Mirrored into the subject's inputs; a concurrent change is refused."""
    cycle = _adjust_cycle(cycle_id)
    subject = db_session.get(CycleSubject, subject_id)
    if subject is None or subject.cycle_id != cycle.id or not subject.eligible:
        abort(404)
    user = account()
    if not may_adjust(user, subject):
        return _adjust_page(cycle, 403, error=_("Nobody adjusts their own score or their own unit's: another "
                                                 "plan supervisor or HR administrator does."), errors_for=subject.id)
    try:
        service.set_adjustment(cycle, subject, request.form, actor(), by=user.display_name or user.username)
        db_session.commit()
    except service.PlanError as exc:
        db_session.rollback()
        return _adjust_page(cycle, 422 if exc.errors else 409, error=str(exc), errors=exc.errors, errors_for=subject.id)
    except (StaleDataError, IntegrityError):
        db_session.rollback()
        return _adjust_page(cycle, 409, error=_stale_message(), errors_for=subject.id)
    done = _("Adjustment of %(name)s saved.", name=subject.name)
    if _htmx():
        return _adjust_page(cycle, message=done)
    flash(done, "success")
    return redirect(url_for(".adjustments", cycle_id=cycle.id, **_adjust_filters_args()))


def _adjust_filters_args() -> dict[str, str]:
    args = {k: v for k, v in _adjust_filters().items() if v}
    if request.args.get("page", "").isdigit():
        args["page"] = request.args["page"]
    return args


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """"Plan sheets" on monthly corporate cycles, "Adjustments" on monthly and annual ones, for
    those who may open them."""
    account_ = tenant_user(user)
    if account_ is None:
        return []
    links = []
    if len(cycle.period) == 7 and may_view_plans(account_):
        links.append(MenuItem(_("Plan sheets"), url_for("corporate_plans.index", tenant=_tenant_slug(), cycle_id=cycle.id),
                              "corporate_plans.index", order=20))
    if may_adjust(account_):
        links.append(MenuItem(_("Adjustments"), url_for("corporate_plans.adjustments", tenant=_tenant_slug(),
                                                        cycle_id=cycle.id), "corporate_plans.adjustments", order=21))
    return links


def _tenant_slug() -> str:
    from flask import g

    return g.tenant.slug


def menu_items(tenant, user) -> list:
    """The plan sheets of the month under way, for those who plan or check them (a unit head cannot
    open the cycle's page, so the menu is their way in)."""
    account_ = tenant_user(user)
    if not may_view_plans(account_):
        return []
    cycle = service.current_monthly_cycle()
    if cycle is None:
        return []
    return [MenuItem(_("Plan sheets"), url_for("corporate_plans.index", tenant=tenant.slug, cycle_id=cycle.id),
                     "corporate_plans.index", order=55)]
