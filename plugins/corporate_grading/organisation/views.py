"""The scheme's organisation page: who holds each post, which units each class A leader oversees."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.db import db_session
from core.models import OrgUnit, Person, User
from core.policy import permission_required
from core.slots import MenuItem
from core.web import render_page
from plugins.corporate_grading.organisation import service
from plugins.corporate_grading.organisation.models import POSTS
from plugins.corporate_grading.policy import may_manage_organisation
from plugins.corporate_grading.web import account, actor, require_scheme

bp = Blueprint("corporate_organisation", __name__, url_prefix="/t/<tenant>/corporate")


def _ids(values: list[str], field: str) -> list[int]:
    bad = [v for v in values if not v.isdigit()]
    if bad:
        raise service.OrganisationError(_("%(field)s: %(value)s is not an id.", field=field, value=repr(bad[0])))
    return [int(v) for v in values]


def _guard() -> None:
    require_scheme()
    if not may_manage_organisation(account()):
        abort(403)


@bp.get("/organisation")
@permission_required("tenant.home")
def index():
    """Posts and oversight of the corporate scheme, editable by HR."""
    _guard()
    users = list(db_session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
    leaders = list(db_session.scalars(select(Person).where(Person.active.is_(True), Person.staff_class == "A")
                                      .order_by(Person.number)))
    units = list(db_session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True),
                                                          OrgUnit.kind.in_(("department", "subsidiary")))
                                    .order_by(OrgUnit.sort_order, OrgUnit.code)))
    return render_page("corporate_grading/organisation/index.html", posts=POSTS, holders=service.post_holders(),
                       users=users, leaders=leaders, units=units, oversight=service.oversight(),
                       post_label=service.post_label)


@bp.post("/organisation/posts")
@permission_required("tenant.home")
def save_post():
    """Replace the holders of one post (the form names the post)."""
    _guard()
    post = request.form.get("post", "")
    if post not in POSTS:
        flash(_("%(value)s is not a post; allowed: %(allowed)s", value=repr(post), allowed=", ".join(POSTS)), "error")
        return redirect(url_for(".index"))
    try:
        service.set_post(post, _ids(request.form.getlist("user_id"), _("Holders")), actor())
        db_session.commit()
        flash(_("%(post)s saved.", post=service.post_label(post)), "success")
    except service.OrganisationError as exc:
        db_session.rollback()
        flash(str(exc), "error")
    return redirect(url_for(".index"))


@bp.post("/organisation/oversight/<int:person_id>")
@permission_required("tenant.home")
def save_oversight(person_id: int):
    """Replace the units one class A leader oversees."""
    _guard()
    person = db_session.get(Person, person_id)
    if person is None:
        abort(404)
    try:
        service.set_oversight(person.id, _ids(request.form.getlist("unit_id"), _("Units overseen")), actor())
        db_session.commit()
        flash(_("Oversight of %(name)s saved.", name=person.name), "success")
    except service.OrganisationError as exc:
        db_session.rollback()
        flash(str(exc), "error")
    return redirect(url_for(".index"))


def cycle_links(cycle, user) -> list:
    """The organisation page is not tied to a cycle."""
    return []


def menu_items(tenant, user) -> list:
    """HR reaches the organisation page from the menu."""
    if not may_manage_organisation(user):
        return []
    return [MenuItem(_("Assessment organisation"), url_for("corporate_organisation.index", tenant=tenant.slug),
                     "corporate_organisation.index", order=60)]
