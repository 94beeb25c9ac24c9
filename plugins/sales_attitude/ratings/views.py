"""The monthly manager ratings (主管评分): a grid per sales cycle where a unit head rates the people
of their units (HR: every unit) on basic ability, business proficiency, coordination and service
norms, 0 to 100. Each row saves on its own (htmx autosave, or the row's Save button) through the
core's input-form path, with optimistic locking; complete rows show their live total."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.cycles import inputs as forms
from core.cycles.input_views import save_form
from core.cycles.service import EDITABLE_STATES
from core.db import db_session
from core.i18n import current_locale
from core.models import Cycle, CycleSubject
from core.org.forms import STATUS_LABELS
from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate, render_page
from plugins.sales_attitude.policy import may_open_ratings, may_rate, may_view_excluded
from plugins.sales_attitude.ratings import service
from plugins.sales_attitude.web import SCHEME_ID, account, cycle_state_name, get_sales_cycle, require_scheme

bp = Blueprint("sales_ratings", __name__, url_prefix="/t/<tenant>/sales")


# ----------------------------------------------------------------------------------- loaders

def _cycle(cycle_id: int) -> Cycle:
    """A sales cycle whose ratings the user may open: 404 (unknown, another tenant's or scheme's),
    403 (neither HR nor a unit head)."""
    require_scheme()
    cycle = get_sales_cycle(cycle_id)
    if not may_open_ratings(account()):
        abort(403)
    return cycle


def _subject(cycle: Cycle, subject_id: int) -> CycleSubject:
    """A person assessed in the cycle the user rates: 404 otherwise, 403 when not theirs to rate
    (another unit's person, or themselves)."""
    subject = db_session.get(CycleSubject, subject_id)
    if subject is None or subject.cycle_id != cycle.id or subject.kind != "person" or not subject.eligible:
        abort(404)
    if not may_rate(account(), subject.person_id, subject.unit_id):
        abort(403)
    return subject


def _unit_filter() -> int | None:
    raw = request.values.get("unit_id", "")
    return int(raw) if raw.isdigit() else None


def _no_store(body, status: int = 200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------------- rows

def _field_message(field, messages: list[str], locale: str) -> list[str]:
    """The core's message about a value, with the field's name and what is allowed."""
    return [_("%(field)s: %(problem)s Allowed: %(low)s to %(high)s.", field=field.label(locale), problem=m,
              low=field.minimum, high=field.maximum) for m in messages]


def _row(cycle: Cycle, subject: CycleSubject, editable: bool, live: dict, units: dict, locale: str,
         typed: dict | None = None, errors: dict | None = None, message: str | None = None, status: int = 200,
         filters: dict | None = None) -> dict:
    """What a row of the grid shows: the person, the ratings (as typed after a refused save), the
    errors by field path, the save status, the live total."""
    fields = service.rating_fields(cycle, subject.staff_class)
    stored = subject.inputs or {}
    values = {}
    for f in fields:
        name = forms.form_name(f.path)
        if typed is not None and name in typed:
            values[f.path] = typed[name]
        else:
            value = forms.get_value(stored, f.path)
            values[f.path] = "" if value is None else value
    return dict(subject=subject, fields={f.path: f for f in fields}, values=values,
                stored={f.path: forms.get_value(stored, f.path) for f in fields},
                errors=errors or {}, message=message, status=status, live=live.get(subject.id),
                complete=service.is_complete(subject, fields), excluded=service.is_excluded(subject),
                unit_name=units.get(subject.unit_id, ""), editable=editable,
                status_label=str(STATUS_LABELS.get(subject.status, subject.status or "")),
                filters=filters or {})


def _grid_context(cycle: Cycle, row_overrides: dict[int, dict] | None = None):
    user = account()
    unit_id = _unit_filter()
    todo = request.args.get("todo") == "1"
    progress = service.progress_of(cycle, user, unit_id)
    page = paginate(service.rateable_statement(cycle, user, unit_id, todo))  # only the page's people are loaded
    editable = cycle.state in EDITABLE_STATES
    live = service.live_totals(cycle, page.items)
    units = service.unit_names()
    locale = current_locale()
    filters = {"unit_id": unit_id, "todo": "1" if todo else None}
    rows = []
    for s in page.items:
        extra = (row_overrides or {}).get(s.id, {})
        rows.append(_row(cycle, s, editable, live, units, locale, filters=filters, **extra))
    return dict(cycle=cycle, page=page, rows=rows, progress=progress, headers=service.rating_fields(cycle),
                locale=locale, editable=editable, unit_id=unit_id, todo=todo, units=service.rateable_units(cycle, user),
                state_label=cycle_state_name, may_see_excluded=may_view_excluded(user), filters=filters)


# ----------------------------------------------------------------------------------- pages

@bp.get("/ratings")
@permission_required("tenant.home")
def index():
    """The sales cycles, newest month first, each with a link to its ratings grid; for the months
    still rated (draft or open) the user's progress."""
    require_scheme()
    user = account()
    if not may_open_ratings(user):
        abort(403)
    page = paginate(select(Cycle).where(Cycle.scheme_id == SCHEME_ID).order_by(Cycle.period.desc(), Cycle.id.desc()))
    progress = {c.id: service.progress_of(c, user) for c in page.items if c.state in EDITABLE_STATES}
    excluded = {}
    if may_view_excluded(user) and page.items:
        from plugins.sales_attitude.excluded.service import count_by_cycle

        excluded = count_by_cycle([c.id for c in page.items], user)
    return render_page("sales_attitude/ratings/index.html", page=page, progress=progress, excluded=excluded,
                       editable_states=EDITABLE_STATES, state_label=cycle_state_name)


@bp.get("/cycles/<int:cycle_id>/ratings")
@permission_required("tenant.home")
def grid(cycle_id: int):
    """The month's ratings grid: the people the user rates (HR: every unit, filter by unit), four
    ratings each, 0 to 100; progress (n of m rated) and the live total of complete rows. Editable
    while the cycle is a draft or open, read-only afterwards."""
    cycle = _cycle(cycle_id)
    return _no_store(render_page("sales_attitude/ratings/grid.html", **_grid_context(cycle)))


@bp.post("/cycles/<int:cycle_id>/ratings/<int:subject_id>")
@permission_required("tenant.home")
def save(cycle_id: int, subject_id: int):
    """Save one row's ratings (htmx on change, or the row's Save button): checked by the scheme's
    field declarations, refused with 422 (the field, the value, 0 to 100) or 409 (a stale
    ``inputs_version``, a cycle no longer open), nothing written then."""
    cycle = _cycle(cycle_id)
    subject = _subject(cycle, subject_id)
    locale = current_locale()
    htmx = bool(request.headers.get("HX-Request"))
    if cycle.state not in EDITABLE_STATES:
        message = _("This cycle is %(state)s: its ratings can no longer be changed.", state=cycle_state_name(cycle.state))
        return _answer(cycle, subject, htmx, 409, message, typed=request.form.to_dict())
    fields = service.rating_fields(cycle, subject.staff_class)
    saved = save_form(cycle, subject, fields, request.form, account(), set())
    by_name = {forms.form_name(f.path): f for f in fields}
    errors = {by_name[name].path: _field_message(by_name[name], messages, locale)
              for name, messages in saved.field_errors.items() if name in by_name}
    if saved.status == 200 and not htmx:
        flash(_("Ratings of %(name)s saved.", name=subject.name), "success")
        return redirect(url_for(".grid", cycle_id=cycle.id, page=request.args.get("page"),
                                unit_id=request.args.get("unit_id"), todo=request.args.get("todo")))
    message = saved.message if saved.status == 200 else _("Not saved: %(reason)s", reason=saved.message)
    if saved.status == 422:
        message = _("Not saved: %(problems)s", problems=" ".join(m for ms in errors.values() for m in ms))
    typed = None if saved.status == 200 else request.form.to_dict()
    return _answer(cycle, subject, htmx, saved.status, message, typed=typed, errors=errors)


def _answer(cycle: Cycle, subject: CycleSubject, htmx: bool, status: int, message: str, typed: dict | None = None,
            errors: dict | None = None):
    """htmx gets the row's version, errors, total and status and the progress, out of band (the
    inputs are left as they are being typed); a plain post the whole grid."""
    if not htmx:
        context = _grid_context(cycle, {subject.id: dict(typed=typed, errors=errors, message=message, status=status)})
        if all(r["subject"].id != subject.id for r in context["rows"]):
            flash(message, "error" if status != 200 else "success")
        return _no_store(render_template("sales_attitude/ratings/grid.html", **context), status)
    unit_id = _unit_filter()
    live = service.live_totals(cycle, [subject])
    filters = {"unit_id": unit_id, "todo": request.args.get("todo")}
    row = _row(cycle, subject, cycle.state in EDITABLE_STATES, live, service.unit_names(), current_locale(),
               typed=typed, errors=errors, message=message, status=status, filters=filters)
    body = render_template("sales_attitude/ratings/_saved.html", row=row, headers=service.rating_fields(cycle),
                           locale=current_locale(), progress=service.progress_of(cycle, account(), unit_id))
    return _no_store(body, status)


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """"Ratings" on a sales cycle, for HR and unit heads."""
    if not may_open_ratings(tenant_user(user)):
        return []
    return [MenuItem(_("Ratings"), url_for("sales_ratings.grid", cycle_id=cycle.id), "sales_ratings.grid", order=20)]


def menu_items(tenant, user) -> list:
    """"Ratings" (the sales months to rate), for HR and unit heads."""
    if not may_open_ratings(tenant_user(user)):
        return []
    return [MenuItem(_("Ratings"), url_for("sales_ratings.index", tenant=tenant.slug), "sales_ratings.index", order=62)]

