"""The event log's pages (考勤与客户事件): the month's log, a person's log, recording and deleting one
event, importing an attendance export and undoing an import, and the panel of a result's events.

Every page answers htmx requests with the block its target names (``#results``, ``#event-form``);
a plain POST redirects after success. Who may do what is decided in plugins/sales_attitude/policy.py.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timezone
from fractions import Fraction
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, g, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, or_, select

from core.cycles.service import CycleError
from core.db import db_session
from core.i18n import current_locale
from core.models import OrgUnit, Person
from core.org.service import descendants
from core.policy import permission_required
from core.scoring.numbers import NumberError, exact
from core.slots import MenuItem
from core.web import actor_name, paginate, redirect_after, render_page
from plugins.sales_attitude import derived
from plugins.sales_attitude.events import models, service  # noqa: F401 (models: the tables register)
from plugins.sales_attitude.events.models import DAY_KINDS, KINDS, EventImport, SalesEvent
from plugins.sales_attitude.events.service import EventError, ImportRefused
from plugins.sales_attitude.policy import (has_own_event_log, may_delete_event, may_import_events, may_list_events,
                                           may_record_event, may_undo_import, may_view_events, recordable_event_kinds,
                                           sees_everyone, unit_scope)
from plugins.sales_attitude.scoring import STAFF_CLASSES
from plugins.sales_attitude.web import account, actor, require_scheme

bp = Blueprint("sales_events", __name__, url_prefix="/t/<tenant>/sales")

E = SalesEvent
PEOPLE_LISTED = 2000  # the add form's suggestions


# ----------------------------------------------------------------------------------- helpers

def _htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _this_month() -> str:
    return service.today().strftime("%Y-%m")


def _local(target: str | None) -> str | None:
    """A path of the current tenant's pages to go back to (``/t/<tenant>/…``), or None: never
    another site. Refused: anything but one "/" followed by a character other than "/" and "\\"
    (browsers read ``/\\host`` and ``//host`` as another host), any backslash, control character
    or whitespace (browsers drop tabs and newlines: "/", a tab, "/host" is ``//host``), a scheme or a
    host, and a path outside the tenant's own prefix. (``HX-Redirect`` sends the value as it is.)"""
    if not target or len(target) > 2000:
        return None
    if any(ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs")
           for ch in target):
        return None
    if len(target) < 2 or target[0] != "/" or target[1] in "/\\":
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    tenant = g.get("tenant")
    if tenant is None or not target.startswith(f"/t/{tenant.slug}/"):
        return None
    return target


def _context(**extra) -> dict:
    """What every page's template uses."""
    return dict(kind_label=service.kind_label, source_label=service.source_label, quantity_text=service.quantity_text,
                actor_name=actor_name, kinds=KINDS, day_kinds=DAY_KINDS, **extra)


def _people(ids) -> dict[int, Person]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {p.id: p for p in db_session.scalars(select(Person).where(Person.id.in_(ids)))}


def _sales_staff():
    """The scheme's people: active, with a staff class of the scheme (supervisor, staff)."""
    return select(Person.unit_id).where(Person.staff_class.in_(STAFF_CLASSES), Person.active.is_(True))


def _units(ids) -> dict[int, OrgUnit]:
    ids = sorted(set(i for i in ids if i is not None))
    if not ids:
        return {}
    return {u.id: u for u in db_session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}


# ----------------------------------------------------------------------------------- loaders

def _load_person(person_id: int) -> Person:
    """A person of the current tenant whose log the user may see: 404 otherwise (another tenant's
    too), 403 when it exists but is not the user's to see."""
    require_scheme()
    person = db_session.get(Person, person_id)
    if person is None:
        abort(404)
    if not may_view_events(account(), person.id, person.unit_id):
        abort(403)
    return person


def _load_event(event_id: int) -> tuple[SalesEvent, Person]:
    """An event of the current tenant whose person's log the user may see (404 / 403 as above)."""
    require_scheme()
    event = db_session.get(SalesEvent, event_id)
    if event is None:
        abort(404)
    person = db_session.get(Person, event.person_id)
    if person is None:
        abort(404)
    if not may_view_events(account(), person.id, person.unit_id):
        abort(403)
    return event, person


def _load_import(import_id: int) -> EventImport:
    """An import of the current tenant that the user may undo: 404 otherwise (another tenant's
    too), 403 when it exists but the user may not undo imports."""
    require_scheme()
    batch = db_session.get(EventImport, import_id)
    if batch is None:
        abort(404)
    if not may_undo_import(account()):
        abort(403)
    return batch


# ----------------------------------------------------------------------------------- the month's log

@bp.get("/events")
@permission_required("tenant.home")
def index():
    """The month's event log (``?month=YYYY-MM``, default this month) of the people the user may
    list, filtered by unit, kind and person; paginated, with the totals per kind of the filtered set."""
    require_scheme()
    user = account()
    if not may_list_events(user):
        abort(403)
    month = service.valid_month(request.args.get("month")) or _this_month()
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    raw_unit = request.args.get("unit_id", "")
    unit_id = int(raw_unit) if raw_unit.isdigit() else None
    number = request.args.get("number", "").strip()[:100]
    raw_import = request.args.get("import_id", "")
    import_id = int(raw_import) if raw_import.isdigit() else None

    first, following = derived.month_bounds(month)
    clauses = [E.day >= first, E.day < following]
    scope = unit_scope(user)
    if scope is not None:
        clauses.append(Person.unit_id.in_(sorted(scope)))
    if unit_id is not None:
        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        below = descendants({unit_id}, parents) if unit_id in parents else set()
        clauses.append(Person.unit_id.in_(sorted(below)))
    if number:
        clauses.append(or_(Person.number.icontains(number, autoescape=True),
                           Person.name.icontains(number, autoescape=True)))
    if import_id is not None:
        clauses.append(E.import_id == import_id)
    by_kind = [E.kind == kind] if kind else []

    def joined(statement):
        return statement.join(Person, Person.id == E.person_id).where(*clauses)

    totals = service.totals_of(db_session.execute(
        joined(select(E.kind, E.quantity, func.count()).select_from(E)).group_by(E.kind, E.quantity)).all())
    page = paginate(joined(select(E)).where(*by_kind).order_by(E.day.desc(), Person.number, E.id.desc()))
    people = _people(e.person_id for e in page.items)
    units_of_rows = _units(p.unit_id for p in people.values())
    unit_stmt = (select(OrgUnit).where(OrgUnit.active.is_(True), OrgUnit.id.in_(_sales_staff()))
                 .order_by(OrgUnit.sort_order, OrgUnit.code))  # only the units with sales staff
    if scope is not None:
        unit_stmt = unit_stmt.where(OrgUnit.id.in_(sorted(scope)))
    final = derived.final_cycle(month)
    return render_page(
        "sales_attitude/events/index.html", **_context(
            page=page, month=month, kind=kind, unit_id=unit_id, number=number, import_id=import_id,
            units=list(db_session.scalars(unit_stmt)), totals=totals, people=people, units_of_rows=units_of_rows,
            imports=service.imports_of([*(e.import_id for e in page.items), import_id]), final=final,
            final_message=service.final_message(month, final) if final else None,
            may_add=bool(recordable_event_kinds(user)), may_import=may_import_events(user),
            may_delete=lambda e: final is None and may_delete_event(user, e.person_id, people[e.person_id].unit_id,
                                                                    e.created_by)))


# ----------------------------------------------------------------------------------- a person's log

@bp.get("/events/people/<int:person_id>")
@permission_required("tenant.home")
def person(person_id: int):
    """A person's event log, all months (``?month=YYYY-MM`` for one), paginated, with each month's counts."""
    person = _load_person(person_id)
    user = account()
    month = service.valid_month(request.args.get("month"))
    statement = select(E).where(E.person_id == person.id)
    if month:
        first, following = derived.month_bounds(month)
        statement = statement.where(E.day >= first, E.day < following)
    page = paginate(statement.order_by(E.day.desc(), E.id.desc()))
    months = service.person_months(person.id)
    finals = service.final_periods([m for m, _totals in months] + [service.month_of(e.day) for e in page.items])
    unit = db_session.get(OrgUnit, person.unit_id) if person.unit_id else None
    return render_page(
        "sales_attitude/events/person.html", **_context(
            person=person, unit=unit, page=page, month=month, months=months, finals=finals,
            imports=service.imports_of(e.import_id for e in page.items),
            may_add=any(may_record_event(user, k, person.id, person.unit_id) for k in KINDS),
            may_list=may_list_events(user),
            may_delete=lambda e: service.month_of(e.day) not in finals and may_delete_event(
                user, person.id, person.unit_id, e.created_by)))


# ----------------------------------------------------------------------------------- recording

def _form_context(values: dict, errors: dict, message: str | None = None) -> dict:
    user = account()
    kinds = recordable_event_kinds(user)
    statement = (select(Person).where(Person.active.is_(True), Person.staff_class.in_(STAFF_CLASSES))
                 .order_by(Person.number).limit(PEOPLE_LISTED))
    scope = unit_scope(user)
    if scope is not None:
        statement = statement.where(Person.unit_id.in_(sorted(scope)))
    if user.person_id is not None:
        statement = statement.where(Person.id != user.person_id)
    return _context(values=values, errors=errors, message=message, allowed_kinds=kinds,
                    suggestions=list(db_session.scalars(statement)), unit_head_only=not sees_everyone(user),
                    next_url=_local(values.get("next")))


@bp.route("/events/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new():
    """Record one event: HR any person and kind; a unit head the task and customer kinds for the
    people of their units, never themselves. ``?person_id=``, ``?day=`` and ``?month=`` prefill the
    form; "Save and record another" comes back to it with the same person and date."""
    require_scheme()
    user = account()
    kinds = recordable_event_kinds(user)
    if not kinds:
        abort(403)
    if request.method == "GET":
        values = {"day": service.today().isoformat(), "kind": kinds[0], "quantity": "1",
                  "next": _local(request.args.get("next")) or ""}
        raw_person = request.args.get("person_id", "")
        if raw_person.isdigit():  # only someone the user records for: the link tells nobody else's number
            chosen = db_session.get(Person, int(raw_person))
            if chosen is not None and any(may_record_event(user, k, chosen.id, chosen.unit_id) for k in kinds):
                values["number"] = chosen.number
        month = service.valid_month(request.args.get("month"))
        if month and month != _this_month():
            values["day"] = f"{month}-01"
        try:
            if request.args.get("day"):
                values["day"] = service.parse_day(request.args["day"]).isoformat()
        except ValueError:
            pass  # a bad date in the link: the default stays
        return render_page("sales_attitude/events/new.html", **_form_context(values, {}))
    values = request.form.to_dict()
    try:
        checked = service.check_form(values, KINDS)
        if checked.kind not in kinds:
            raise EventError(_("The event is not recorded: correct the fields marked below."), {
                "kind": _("Kind: you do not record %(kind)s; you may record %(allowed)s.",
                          kind=service.kind_label(checked.kind), allowed=service.kinds_text(kinds))})
        if not may_record_event(user, checked.kind, checked.person.id, checked.person.unit_id):
            reason = (_("Person number: you do not record your own events.") if user.person_id == checked.person.id
                      else _("Person number: %(person)s is not in a unit you head; you record events only for the "
                             "people of your units.", person=service.person_label(checked.person)))
            raise EventError(_("The event is not recorded: correct the fields marked below."), {"number": reason})
        event = service.add_event(checked, actor())
        person_id, day, described = event.person_id, event.day, service.event_title(event, checked.person)
        db_session.commit()
    except EventError as exc:
        db_session.rollback()
        return render_page("sales_attitude/events/new.html", **_form_context(values, exc.errors, str(exc))), exc.status
    except CycleError as exc:
        db_session.rollback()
        return render_page("sales_attitude/events/new.html", **_form_context(values, {}, str(exc))), 409
    flash(_("Recorded: %(event)s.", event=described), "success")
    if values.get("another"):  # "Save and record another": an empty form, the same person and date
        return redirect_after(url_for(".new", person_id=person_id, day=day.isoformat(),
                                      next=_local(values.get("next")) or None))
    return redirect_after(_local(values.get("next")) or url_for(".person", person_id=person_id))


# ----------------------------------------------------------------------------------- deleting

@bp.route("/events/<int:event_id>/delete", methods=["GET", "POST"])
@permission_required("tenant.home")
def delete(event_id: int):
    """Delete one event, after a confirmation step: HR, or whoever entered it, while the month is
    not final."""
    event, person = _load_event(event_id)
    user = account()
    if not may_delete_event(user, person.id, person.unit_id, event.created_by):
        abort(403)
    back = _local(request.values.get("next")) or url_for(".person", person_id=person.id)
    final = derived.final_cycle(service.month_of(event.day))
    context = _context(event=event, person=person, next_url=back, described=service.event_title(event, person),
                       message=service.final_message(service.month_of(event.day), final) if final else None)
    if request.method == "GET":
        return render_page("sales_attitude/events/delete.html", **context), (409 if final else 200)
    try:
        service.delete_event(event, actor())
        db_session.commit()
    except (EventError, CycleError) as exc:
        db_session.rollback()
        event = db_session.get(SalesEvent, event_id)
        if event is None:
            abort(404)
        context.update(event=event, message=str(exc))
        return render_page("sales_attitude/events/delete.html", **context), 409
    flash(_("Deleted: %(event)s.", event=context["described"]), "success")
    return redirect_after(back)


# ----------------------------------------------------------------------------------- import

@bp.get("/events/template.<fmt>")
@permission_required("tenant.home")
def template(fmt: str):
    """The import template (.xlsx or .csv): the header row 工号/number, 日期/date, 类型/kind, 数量/quantity, 备注/note."""
    require_scheme()
    if not may_import_events(account()):
        abort(403)
    locale = current_locale()
    if fmt == "xlsx":
        body, mimetype = service.template_xlsx(locale), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        body, mimetype = "\ufeff" + service.template_csv(locale), "text/csv; charset=utf-8"
    else:
        abort(404)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=sales-events.{fmt}", "Cache-Control": "no-store"})


@bp.route("/events/import", methods=["GET", "POST"])
@permission_required("tenant.home")
def import_file():
    """HR imports an attendance export (.xlsx or .csv), all or nothing; duplicates are skipped and
    reported. The page then shows the report."""
    require_scheme()
    if not may_import_events(account()):
        abort(403)
    problems: list[str] = []
    report = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems, status = [_("Choose a file to upload (.xlsx or .csv).")], 422
        else:
            try:
                data = upload.read(service.MAX_BYTES + 1)
                report = service.import_rows(upload.filename, service.read_rows(upload.filename, data), actor(),
                                             own_person_id=account().person_id)
                db_session.commit()
            except ImportRefused as exc:
                db_session.rollback()
                problems, status = exc.problems, 422
            except CycleError as exc:
                db_session.rollback()
                problems, status = [str(exc)], 409
    return render_page("sales_attitude/events/import.html", **_context(
        problems=problems, report=report, max_rows=f"{service.MAX_ROWS:,}", **_imports_list())), status


def _imports_list() -> dict:
    """The imports, newest first, paginated, with their months and which imports may be undone."""
    page = paginate(select(EventImport).order_by(EventImport.id.desc()))
    months = service.import_months(i.id for i in page.items)
    finals = service.final_periods(m for ms in months.values() for m in ms)
    return dict(imports_page=page, import_months=months,
                undoable=lambda i: may_undo_import(account()) and not any(m in finals for m in months.get(i.id, ())))


@bp.route("/events/imports/<int:import_id>/undo", methods=["GET", "POST"])
@permission_required("tenant.home")
def undo_import(import_id: int):
    """HR undoes a whole import after a confirmation step naming the file, its events and months:
    exactly its events are deleted, while none of its months is final (409 otherwise, the month named)."""
    batch = _load_import(import_id)
    contents = service.import_contents(batch)
    refusal = service.undo_refusal(contents)
    context = _context(batch_id=batch.id, contents=contents, message=refusal, gone=False)
    if request.method == "GET":
        return render_page("sales_attitude/events/undo.html", **context), (409 if refusal else 200)
    raw = request.form.get("events", "")
    try:
        done = service.undo_import(batch, actor(), int(raw) if raw.isdigit() else None)
        db_session.commit()
    except (EventError, CycleError) as exc:
        db_session.rollback()
        fresh = db_session.get(EventImport, import_id)
        if fresh is not None:
            context.update(contents=service.import_contents(fresh))
        context.update(message=str(exc), gone=fresh is None)
        return render_page("sales_attitude/events/undo.html", **context), 409
    flash(_("Import undone: %(file)s, %(n)s event(s) deleted (%(months)s).", file=done.filename, n=done.events,
            months=", ".join(done.months) or "—"), "success")
    return redirect_after(url_for(".import_file"))


# ----------------------------------------------------------------------------------- slots

def _aware(moment: datetime | None) -> datetime | None:
    """A stored moment comparable with another (SQLite gives them back without their zone: UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _counted(subject) -> dict[str, Fraction]:
    """The month's counts the subject's inputs hold (``inputs["events"]``), exact; a value that is
    not a number is left out (the result could not have counted it either)."""
    raw = (subject.inputs or {}).get("events")
    counted: dict[str, Fraction] = {}
    if isinstance(raw, dict):
        for kind, value in raw.items():
            if kind in KINDS:
                try:
                    counted[kind] = exact(value)
                except (NumberError, TypeError, ValueError):
                    continue
    return counted


def result_panel(cycle, subject, user=None, result=None) -> Markup:
    """The events of the cycle's month behind a person's attitude and responsibility counts, each
    with the points it adds or takes under the cycle's own formulas and points, and where the log
    no longer matches what the result counted: the events recorded after the result was computed
    (``result.computed_at``, else the cycle's), and the kinds whose total in the log differs from
    the subject's inputs (what the result counted, unless the inputs changed after it was computed).
    Nothing for a viewer who may not see the person's event log (``user``; without it the caller
    has checked)."""
    if subject.person_id is None or len(cycle.period) != 7:
        return Markup("")
    person = db_session.get(Person, subject.person_id)
    if user is not None and (person is None or not may_view_events(user, person.id, person.unit_id)):
        return Markup("")
    events = service.month_events(subject.person_id, cycle.period)
    effects = service.event_effects(cycle.settings)
    computed = _aware(getattr(result, "computed_at", None) or cycle.computed_at)
    later = {e.id for e in events if computed is not None and _aware(e.created_at) is not None
             and _aware(e.created_at) > computed}
    rows = [(e, service.signed_points(e.kind, e.quantity, effects), e.id in later) for e in events]
    totals = service.totals_of((e.kind, e.quantity, 1) for e in events)
    # The inputs are what the result counted, unless they changed after it was computed (a result
    # in review, computed again before publication): then only the later events can be named.
    inputs_newer = computed is not None and (_aware(subject.inputs_updated_at) or computed) > computed
    counted = None if inputs_newer else _counted(subject)
    shown = [k for k in KINDS if k in totals or (counted or {}).get(k)]
    differs = {k for k in shown if counted is not None and totals.get(k, Fraction(0)) != counted.get(k, Fraction(0))}
    points = {k: service.signed_points(k, totals.get(k, Fraction(0)), effects) for k in shown}
    return Markup(render_template("sales_attitude/events/result_panel.html", **_context(
        cycle=cycle, subject=subject, rows=rows, totals=totals, points=points, shown=shown, counted=counted,
        differs=differs, later=later, inputs_newer=inputs_newer, computed=computed)))


def cycle_links(cycle, user) -> list:
    """A monthly sales cycle links to that month's event log (for those who may list it)."""
    if len(cycle.period) != 7 or not may_list_events(user):
        return []
    return [MenuItem(_("Events of this month"), url_for("sales_events.index", month=cycle.period),
                     "sales_events.index", order=10)]


def menu_items(tenant, user) -> list:
    """"Events" for those who list people's events; "My events" for the people the scheme assesses
    (a staff class of the scheme: supervisor, staff). The sales entries follow the core menu (10–50):
    61 events and my events, 62 ratings, 63 pay, 64 competence lists, 65 improvement plans."""
    items = []
    if may_list_events(user):
        items.append(MenuItem(_("Events"), url_for("sales_events.index", tenant=tenant.slug), "sales_events.index",
                              order=61))
    person_id = getattr(user, "person_id", None)
    staff_class = (db_session.scalar(select(Person.staff_class).where(Person.id == person_id))
                   if person_id is not None else None)
    if has_own_event_log(user, staff_class):
        items.append(MenuItem(_("My events"), url_for("sales_events.person", tenant=tenant.slug,
                                                      person_id=person_id), "sales_events.person", order=61))
    return items

