"""Tenant-admin pages for org units and people: list with live search and pagination, create,
inline edit (htmx) with optimistic locking, deactivate with confirmation."""
from __future__ import annotations

import json

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from core.audit import history
from core.db import db_session
from core.models import OrgUnit, Person, RoleMembership, User
from core.org import service
from core.org.forms import STATUS_LABELS, UNIT_KIND_LABELS, PersonForm, UnitForm, choices
from core.policy import can, permission_required, tenant_user
from core.schemes_web import enabled_schemes
from core.plugins import get_schemes
from core.web import paginate, paginate_list, redirect_after, render_page, unit_tree

bp = Blueprint("org", __name__, url_prefix="/t/<tenant>/org")


# ------------------------------------------------------------------------------------- loaders

def get_unit(unit_id: int) -> OrgUnit:
    """The unit with this id in the current tenant, or 404 (another tenant's id is simply not found)."""
    unit = db_session.get(OrgUnit, unit_id)
    if unit is None:
        abort(404)
    return unit


def get_person(person_id: int) -> Person:
    """The person with this id in the current tenant, or 404."""
    person = db_session.get(Person, person_id)
    if person is None:
        abort(404)
    return person


# ------------------------------------------------------------------------------------- helpers

def _is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def _parent_choices(unit: OrgUnit | None) -> list[tuple]:
    excluded = {unit.id} | service.descendant_ids(unit.id) if unit else set()
    return [(None, "—")] + [(n.unit.id, "\u2003" * n.depth + n.unit.name) for n in unit_tree() if n.unit.id not in excluded]


def _unit_choices() -> list[tuple]:
    return [(n.unit.id, "\u2003" * n.depth + n.unit.name) for n in unit_tree()]


def _saved(message: str, location: str):
    """After a successful page form: a flash message and a redirect (post/redirect/get)."""
    flash(message, "success")
    return redirect(location)


def _saved_trigger() -> dict[str, str]:
    """The HX-Trigger header for the toast; JSON with ASCII escapes, as header values must be latin-1."""
    return {"HX-Trigger": json.dumps({"jixiao:saved": _("Saved.")})}


def _conflict_message(obj, form) -> str:
    """Which fields someone else changed, and what they hold now."""
    changed = []
    for key, value in service.form_snapshot(obj).items():
        field = form[key]
        if str(field.data if field.data is not None else "") != str(value if value is not None else ""):
            labels = {str(c.value): c.label for c in getattr(field, "choices", None) or []}
            shown = labels.get(str(value), value) if value not in (None, "") else "—"
            changed.append(f"{field.label.text}: {str(shown).strip()}")
    return _("%(name)s was changed by someone else while you were editing. Now: %(current)s. "
             "Your values are kept below: save again to replace theirs, or cancel.",
             name=obj.name, current="; ".join(changed) or "—")


def edit_object(kind: str, obj, form, save, row_view, templates: tuple[str, str], saved: str, detail_url: str):
    """The edit flow units and people share: validate, save with the form's version, commit.

    A version that no longer matches (someone saved in between, or the commit lost a race) is a
    409 that keeps the user's input, names the other side's values and takes the current version,
    so saving again is a deliberate overwrite.
    """
    inline = _is_htmx() and request.args.get("inline") == "1"
    status = 200
    if form.validate_on_submit():
        try:
            save(obj, form.values(), form.version_number())
            db_session.commit()
            if inline:
                return row_view(obj.id), 200, _saved_trigger()
            return _saved(saved, detail_url)
        except (service.Conflict, StaleDataError) as exc:
            db_session.rollback()
            db_session.refresh(obj)
            missing_version = isinstance(exc, service.Conflict) and form.version_number() is None
            form.form_errors.append(str(exc) if missing_version else _conflict_message(obj, form))
            form.version.data = str(obj.version)
            status = 409
        except service.RuleError as exc:
            db_session.rollback()
            (getattr(form, exc.field).errors if exc.field else form.form_errors).append(str(exc))
            status = 422
    elif request.method == "POST":
        status = 422
    return render_template(templates[0] if inline else templates[1], form=form, **{kind: obj}), status


# ------------------------------------------------------------------------------------- units

@bp.get("/units")
@permission_required("org.view")
def units():
    """The org tree, depth first; ``q`` searches code and name, ``kind`` filters, ``inactive=1`` shows all."""
    q = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    show_inactive = request.args.get("inactive") == "1"
    nodes = unit_tree(include_inactive=show_inactive)
    if q:
        needle = q.lower()
        nodes = [n for n in nodes if needle in n.unit.code.lower() or needle in n.unit.name.lower()]
    if kind:
        nodes = [n for n in nodes if n.unit.kind == kind]
    return render_page("org/units.html", page=paginate_list(nodes), q=q, kind=kind, show_inactive=show_inactive,
                       kinds=UNIT_KIND_LABELS, can_manage=can(current_user, "org.manage"))


@bp.route("/units/new", methods=["GET", "POST"])
@permission_required("org.manage")
def unit_new():
    """Create a unit."""
    form = UnitForm()
    form.parent_id.choices = choices(_parent_choices(None))
    if request.method == "GET" and request.args.get("parent", "").isdigit():
        form.parent_id.data = int(request.args["parent"])
    if form.validate_on_submit():
        try:
            unit = service.save_unit(None, form.values())
            db_session.commit()
            return _saved(_("Unit %(name)s created.", name=unit.name), url_for("org.unit", unit_id=unit.id))
        except service.RuleError as exc:
            db_session.rollback()
            getattr(form, exc.field or "code").errors.append(str(exc))
    status = 422 if request.method == "POST" else 200
    return render_template("org/unit_form.html", form=form, unit=None), status


@bp.get("/units/<int:unit_id>")
@permission_required("org.view")
def unit(unit_id: int):
    """One unit: its fields, sub-units, heads, people (paginated) and change history."""
    unit = get_unit(unit_id)
    children = db_session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id)
                                  .order_by(OrgUnit.sort_order, OrgUnit.code)).all()
    heads = db_session.scalars(select(User).join(RoleMembership, RoleMembership.user_id == User.id)
                               .where(RoleMembership.role == "unit_head", RoleMembership.unit_id == unit.id)).all()
    people = paginate(select(Person).where(Person.unit_id == unit.id).order_by(Person.active.desc(), Person.number))
    return render_page("org/unit.html", unit=unit, children=children, heads=heads, page=people,
                       history=history(unit) if can(current_user, "audit.view") else [],
                       kinds=UNIT_KIND_LABELS, statuses=STATUS_LABELS, can_manage=can(current_user, "org.manage"))


@bp.get("/units/<int:unit_id>/row")
@permission_required("org.view")
def unit_row(unit_id: int):
    """One row of the units table (htmx: cancel an inline edit)."""
    unit = get_unit(unit_id)
    node = next((n for n in unit_tree(include_inactive=True) if n.unit.id == unit.id), None)
    return render_template("org/_unit_row.html", node=node, kinds=UNIT_KIND_LABELS, can_manage=can(current_user, "org.manage"))


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@permission_required("org.manage")
def unit_edit(unit_id: int):
    """Edit a unit: inline in the table row (htmx) or as a page. A stale version is refused (409)."""
    unit = get_unit(unit_id)
    form = UnitForm(obj=unit if request.method == "GET" else None)
    form.parent_id.choices = choices(_parent_choices(unit))
    return edit_object("unit", unit, form, service.save_unit, unit_row, ("org/_unit_row_edit.html", "org/unit_form.html"),
                       _("Unit %(name)s saved.", name=form.name.data), url_for("org.unit", unit_id=unit.id))


@bp.route("/units/<int:unit_id>/deactivate", methods=["GET", "POST"])
@permission_required("org.manage")
def unit_deactivate(unit_id: int):
    """Deactivate a unit after confirmation (GET shows the confirmation page)."""
    return _toggle_active(get_unit(unit_id), False)


@bp.post("/units/<int:unit_id>/activate")
@permission_required("org.manage")
def unit_activate(unit_id: int):
    """Reactivate a unit."""
    return _toggle_active(get_unit(unit_id), True)


def _toggle_active(obj, active: bool):
    kind = "unit" if isinstance(obj, OrgUnit) else "person"
    back = url_for(f"org.{kind}", **{f"{kind}_id": obj.id})
    if request.method == "GET":
        return render_template("org/confirm_deactivate.html", obj=obj, kind=kind, back=back)
    version = request.form.get("version", "")
    try:
        version_number = int(version) if version.isdigit() else None
        if kind == "unit":
            service.set_unit_active(obj, active, version_number)
        else:
            service.set_person_active(obj, active, version_number, acting=tenant_user(current_user))
        db_session.commit()
        flash(_("%(name)s reactivated.", name=obj.name) if active else _("%(name)s deactivated.", name=obj.name), "success")
    except (service.RuleError, service.Conflict) as exc:
        db_session.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        db_session.rollback()
        flash(_("%(name)s was changed by someone else at the same moment; nothing was changed. Try again.", name=obj.name), "error")
    return redirect_after(back)


# ------------------------------------------------------------------------------------- people

def _people_query():
    q = request.args.get("q", "").strip()
    unit_id = request.args.get("unit", "")
    status = request.args.get("status", "")
    staff_class = request.args.get("class", "")
    show_inactive = request.args.get("inactive") == "1"
    stmt = select(Person).options(selectinload(Person.unit)).order_by(Person.number)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Person.name.ilike(like), Person.number.ilike(like), Person.position.ilike(like)))
    if unit_id.isdigit():
        stmt = stmt.where(Person.unit_id == int(unit_id))
    if status:
        stmt = stmt.where(Person.status == status)
    if staff_class:
        stmt = stmt.where(Person.staff_class == staff_class)
    if not show_inactive:
        stmt = stmt.where(Person.active.is_(True))
    filters = {"q": q, "unit": unit_id, "status": status, "class": staff_class, "inactive": show_inactive}
    return stmt, filters


@bp.get("/people")
@permission_required("org.view")
def people():
    """People of the tenant: live search on name, number and position; filters; pagination."""
    stmt, filters = _people_query()
    classes = db_session.scalars(select(Person.staff_class).where(Person.staff_class.is_not(None))
                                 .distinct().order_by(Person.staff_class)).all()
    return render_page("org/people.html", page=paginate(stmt), filters=filters, units=_unit_choices(),
                       statuses=STATUS_LABELS, classes=classes, can_manage=can(current_user, "org.manage"))


def _person_form(person: Person | None) -> PersonForm:
    form = PersonForm(obj=person if request.method == "GET" else None)
    form.unit_id.choices = choices(_unit_choices())
    schemes = get_schemes()
    classes = sorted({c for sid in enabled_schemes(g.tenant) if sid in schemes for c in schemes[sid].staff_classes})
    if person is not None and person.staff_class and person.staff_class not in classes:
        classes.append(person.staff_class)  # keep a class that an older setup assigned
    form.staff_class.choices = choices([("", "—")] + [(c, c) for c in classes])
    if request.method == "GET" and person is None and request.args.get("unit", "").isdigit():
        form.unit_id.data = int(request.args["unit"])
    return form


@bp.route("/people/new", methods=["GET", "POST"])
@permission_required("org.manage")
def person_new():
    """Create a person."""
    form = _person_form(None)
    if form.validate_on_submit():
        try:
            person = service.save_person(None, form.values())
            db_session.commit()
            return _saved(_("%(name)s created.", name=person.name), url_for("org.person", person_id=person.id))
        except service.RuleError as exc:
            db_session.rollback()
            getattr(form, exc.field or "number").errors.append(str(exc))
    return render_template("org/person_form.html", form=form, person=None), 422 if request.method == "POST" else 200


@bp.get("/people/<int:person_id>")
@permission_required("org.view")
def person(person_id: int):
    """One person: fields, unit, login account and change history."""
    person = get_person(person_id)
    account = db_session.scalar(select(User).where(User.person_id == person.id))
    return render_page("org/person.html", person=person, account=account, statuses=STATUS_LABELS,
                       history=history(person) if can(current_user, "audit.view") else [],
                       can_manage=can(current_user, "org.manage"))


@bp.get("/people/<int:person_id>/row")
@permission_required("org.view")
def person_row(person_id: int):
    """One row of the people table (htmx: cancel an inline edit)."""
    return render_template("org/_person_row.html", person=get_person(person_id), statuses=STATUS_LABELS,
                           can_manage=can(current_user, "org.manage"))


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@permission_required("org.manage")
def person_edit(person_id: int):
    """Edit a person inline (htmx) or as a page; a stale version is refused (409)."""
    person = get_person(person_id)
    form = _person_form(person)
    return edit_object("person", person, form, service.save_person, person_row, ("org/_person_row_edit.html", "org/person_form.html"),
                       _("%(name)s saved.", name=form.name.data), url_for("org.person", person_id=person.id))


@bp.route("/people/<int:person_id>/deactivate", methods=["GET", "POST"])
@permission_required("org.manage")
def person_deactivate(person_id: int):
    """Deactivate a person (and their login) after confirmation."""
    return _toggle_active(get_person(person_id), False)


@bp.post("/people/<int:person_id>/activate")
@permission_required("org.manage")
def person_activate(person_id: int):
    """Reactivate a person (their login stays off until an admin turns it on)."""
    return _toggle_active(get_person(person_id), True)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
