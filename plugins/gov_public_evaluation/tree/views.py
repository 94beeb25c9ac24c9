"""The indicator tree's pages (指标体系): the tree with its sums for everyone who reads it, and the
efficiency office's changes: add, edit, remove (after a confirmation) and move first- and
second-level indicators, restore the default tree, and apply the current tree to the cycles not
yet under way (after a confirmation listing them).

Forms answer htmx requests with their block (``#tree-form``, ``#confirm``); a plain POST redirects
after success. Every form carries the version of the tree it was read from: a change over a newer
tree is refused (409). Who may do what: plugins/gov_public_evaluation/policy.py (tree section).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _

from core.db import db_session
from core.org.forms import UNIT_KIND_LABELS
from core.policy import permission_required, tenant_user
from core.scoring.numbers import text
from core.slots import MenuItem
from core.web import actor_name, redirect_after, render_page
from plugins.gov_public_evaluation.policy import may_apply_tree_to_cycles, may_edit_tree, may_view_tree
from plugins.gov_public_evaluation.tree import service
from plugins.gov_public_evaluation.tree.service import UNIT_KINDS, TreeError
from plugins.gov_public_evaluation.web import account, actor, allowed, cycle_state_name, require_scheme

bp = Blueprint("township_tree", __name__, url_prefix="/t/<tenant>/township")


# ----------------------------------------------------------------------------------- helpers

def _reader():
    """The signed-in account, when it may read the tree (404 without the scheme, 403 otherwise)."""
    require_scheme()
    user = account()
    allowed(may_view_tree(user))
    return user


def _editor():
    """The signed-in account, when it may change the tree (the efficiency office)."""
    require_scheme()
    user = account()
    allowed(may_edit_tree(user))
    return user


def _unit_names() -> dict[str, str]:
    return {u.code: u.name for u in service.scored_units()}


def _applies_to(units: list[str] | None, names: dict[str, str]) -> list[str]:
    """How an indicator's ``units`` read: every unit, villages, departments, or the units' names."""
    if not units:
        return [_("Every unit")]
    shown = []
    for unit in units:
        if unit == "village":
            shown.append(_("All villages"))
        elif unit == "department":
            shown.append(_("All departments"))
        else:
            shown.append(_("%(name)s (%(code)s)", name=names[unit], code=unit) if unit in names else unit)
    return shown


def _context(**extra) -> dict:
    return dict(text=text, kind_labels=UNIT_KIND_LABELS, unit_kinds=UNIT_KINDS, field_label=service.field_label,
                sep=_(", "), state_label=cycle_state_name, **extra)


def _refused(exc: TreeError, template: str, **context):
    """A refused change: the form again (htmx: its block) with the message and the errors by field."""
    db_session.rollback()
    return render_page(template, **{**context, "message": str(exc), "errors": exc.errors}), exc.status


def _back(code: str | None = None) -> str:
    return url_for(".index") + (f"#ind-{code}" if code else "")


# ----------------------------------------------------------------------------------- the tree

@bp.get("/indicators")
@permission_required("tenant.home")
def index():
    """The indicator tree: first-level indicators with their second-level ones (code, name, maximum,
    the units each applies to), each group's sum of maxima and the tree's, and the maxima that apply
    per unit kind (and for the units an indicator names), the cycles not yet published with another
    tree; the office's links to change it, and to apply it to the cycles without points."""
    user = _reader()
    tree = service.current()
    units = service.scored_units()
    names = {u.code: u.name for u in units}
    listed = service.cycles_and_tree(tree)
    change = service.last_change()
    return render_page("gov_public_evaluation/tree/index.html", **_context(
        tree=tree, sums=service.sums(tree, units), may_edit=may_edit_tree(user), in_progress=len(listed),
        differ=sum(1 for c in listed if c.differs), change=change, actor_name=actor_name,
        applicable=sum(1 for c in listed if c.changes) if may_apply_tree_to_cycles(user) else 0,
        applies_to=lambda item: _applies_to(item.get("units"), names),
        leaves=sum(len(g["children"]) for g in tree.groups)))


# ----------------------------------------------------------------------------------- forms

def _group_choices(tree) -> list[tuple[str, str]]:
    return [(g["code"], f"{g['code']} {g['name']}") for g in tree.groups]


def _indicator_values(item: dict | None, group: str = "") -> dict:
    """A second-level indicator as its form shows it."""
    if item is None:
        return {"code": "", "name": "", "max": "", "unit_kinds": [], "unit_codes": "", "group": group}
    units = item.get("units") or []
    return {"code": item["code"], "name": item["name"], "max": item["max"],
            "unit_kinds": [u for u in units if u in UNIT_KINDS],
            "unit_codes": " ".join(u for u in units if u not in UNIT_KINDS), "group": group}


def _typed() -> dict:
    """The form as it was sent (shown again after a refusal)."""
    form = request.form
    values = {k: form.get(k, "") for k in ("code", "name", "max", "unit_codes", "group", "child_code", "child_name",
                                           "child_max", "child_unit_codes")}
    values["unit_kinds"] = form.getlist("unit_kinds")
    values["child_unit_kinds"] = form.getlist("child_unit_kinds")
    return values


def _form_page(mode: str, tree, values: dict, title: str, action: str, **extra):
    return _context(mode=mode, tree=tree, values=values, title=title, action=action,
                    groups=_group_choices(tree), version=extra.pop("version", tree.version),
                    errors=extra.pop("errors", {}), message=extra.pop("message", None), **extra)


@bp.route("/indicators/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new_group():
    """Add a first-level indicator (一级指标) at the end of the tree, with its first second-level
    indicator (a first-level indicator is never empty)."""
    _editor()
    tree = service.current()
    title = _("Add a first-level indicator")
    template = "gov_public_evaluation/tree/form.html"
    if request.method == "GET":
        values = {"code": "", "name": "", **{f"child_{k}": v for k, v in _indicator_values(None).items()}}
        return render_page(template, **_form_page("new_group", tree, values, title, url_for(".new_group")))
    try:
        saved = service.add_group(request.form, request.form.get("version"), actor())
        db_session.commit()
    except TreeError as exc:
        return _refused(exc, template, **_form_page("new_group", tree, _typed(), title, url_for(".new_group"),
                                                    version=request.form.get("version", "")))
    code = request.form.get("code", "").strip()
    flash(_("Added %(item)s.", item=saved.label(code)), "success")
    return redirect_after(_back(code))


@bp.route("/indicators/<code>/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new_indicator(code: str):
    """Add a second-level indicator (二级指标) at the end of the first-level indicator ``code``:
    code, name, maximum points and the units it applies to (empty: every unit)."""
    _editor()
    tree = service.current()
    where = tree.find(code)
    if where is None or where[1] is not None:
        abort(404)
    group = tree.groups[where[0]]
    title = _("Add a second-level indicator to %(group)s", group=f"{group['code']} {group['name']}")
    template = "gov_public_evaluation/tree/form.html"
    action = url_for(".new_indicator", code=code)
    if request.method == "GET":
        return render_page(template, **_form_page("new_indicator", tree, _indicator_values(None, code), title, action))
    try:
        saved = service.add_indicator(code, request.form, request.form.get("version"), actor())
        db_session.commit()
    except TreeError as exc:
        return _refused(exc, template, **_form_page("new_indicator", tree, {**_typed(), "group": code}, title, action,
                                                    version=request.form.get("version", "")))
    added = request.form.get("code", "").strip()
    flash(_("Added %(item)s.", item=saved.label(added)), "success")
    return redirect_after(_back(added))


@bp.route("/indicators/<code>/edit", methods=["GET", "POST"])
@permission_required("tenant.home")
def edit(code: str):
    """Edit a first-level indicator (code, name) or a second-level one (code, name, maximum points,
    the units it applies to, its first-level indicator)."""
    _editor()
    tree = service.current()
    where = tree.find(code)
    if where is None:
        abort(404)
    i, j = where
    mode = "group" if j is None else "indicator"
    item = tree.item(code)
    title = _("Edit %(item)s", item=tree.label(code))
    template = "gov_public_evaluation/tree/form.html"
    action = url_for(".edit", code=code)
    if request.method == "GET":
        values = ({"code": item["code"], "name": item["name"]} if mode == "group"
                  else _indicator_values(item, tree.groups[i]["code"]))
        return render_page(template, **_form_page(mode, tree, values, title, action, item=item))
    change = service.edit_group if mode == "group" else service.edit_indicator
    try:
        saved = change(code, request.form, request.form.get("version"), actor())
        db_session.commit()
    except TreeError as exc:
        return _refused(exc, template, **_form_page(mode, tree, _typed(), title, action, item=item,
                                                    version=request.form.get("version", "")))
    new_code = request.form.get("code", "").strip()
    flash(_("Saved %(item)s.", item=saved.label(new_code)), "success")
    return redirect_after(_back(new_code))


@bp.route("/indicators/<code>/remove", methods=["GET", "POST"])
@permission_required("tenant.home")
def remove(code: str):
    """Remove a first-level indicator with its second-level ones, or one second-level indicator,
    after a confirmation step; the cycles created before keep their tree and their points."""
    _editor()
    tree = service.current()
    where = tree.find(code)
    if where is None:
        abort(404)
    item = tree.item(code)
    template = "gov_public_evaluation/tree/confirm.html"
    context = _context(mode="remove", tree=tree, item=item, is_group=where[1] is None, label=tree.label(code),
                       version=tree.version, action=url_for(".remove", code=code),
                       group=tree.groups[where[0]], message=None)
    if request.method == "GET":
        return render_page(template, **context)
    try:
        service.remove(code, request.form.get("version"), actor())
        db_session.commit()
    except TreeError as exc:
        db_session.rollback()
        return render_page(template, **{**context, "message": str(exc)}), exc.status
    flash(_("Deleted %(item)s.", item=context["label"]), "success")
    return redirect_after(_back())


@bp.post("/indicators/<code>/move")
@permission_required("tenant.home")
def move(code: str):
    """Move an indicator one place up or down among its siblings (``direction``: up or down)."""
    _editor()
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    try:
        service.move(code, direction, request.form.get("version"), actor())
        db_session.commit()
    except TreeError as exc:
        db_session.rollback()
        if exc.status == 404:
            abort(404)
        flash(str(exc), "error")
    return redirect_after(_back(code))


@bp.route("/indicators/restore", methods=["GET", "POST"])
@permission_required("tenant.home")
def restore():
    """Put the default tree back (the tenant's own tree is dropped), after a confirmation step."""
    _editor()
    tree = service.current()
    default = service.default_tree()
    template = "gov_public_evaluation/tree/confirm.html"
    context = _context(mode="restore", tree=tree, version=tree.version, action=url_for(".restore"), message=None,
                       default_groups=len(default), default_leaves=sum(len(g["children"]) for g in default),
                       default_total=text(service.tree_total(default)))
    if request.method == "GET":
        return render_page(template, **context)
    try:
        service.restore_default(request.form.get("version"), actor())
        db_session.commit()
    except TreeError as exc:
        db_session.rollback()
        return render_page(template, **{**context, "message": str(exc)}), exc.status
    flash(_("The default indicator tree applies again, to the cycles created from now on."), "success")
    return redirect_after(_back())


def _apply_context(message: str | None = None) -> dict:
    """The confirmation page of "apply the current tree to cycles", as things are now."""
    tree = service.current()
    listed = service.cycles_and_tree(tree)
    return _context(tree=tree, version=tree.version, seen=service.cycles_seen(listed),
                    changing=[c for c in listed if c.changes], kept=[c for c in listed if not c.changes],
                    leaves=sum(len(g["children"]) for g in tree.groups), total=text(service.tree_total(tree.groups)),
                    message=message)


@bp.route("/indicators/apply", methods=["GET", "POST"])
@permission_required("tenant.home")
def apply():
    """Apply the current tree to the cycles not yet under way: the scheme's draft and open cycles
    with no points entered whose tree differs. The confirmation page lists the cycles it would
    change and, with the reason, the cycles it leaves as they are (points entered, in review, the
    same tree already); a refusal (the tree or the cycles changed meanwhile) shows the list anew."""
    require_scheme()
    allowed(may_apply_tree_to_cycles(account()))
    template = "gov_public_evaluation/tree/apply.html"
    if request.method == "GET":
        return render_page(template, **_apply_context())
    try:
        changed = service.apply_to_cycles(request.form.get("version"), request.form.get("seen"), actor())
        db_session.commit()
    except TreeError as exc:
        db_session.rollback()
        return render_page(template, **_apply_context(str(exc))), exc.status
    if changed:
        flash(_("The current indicator tree now applies to %(n)s cycle(s): %(names)s.", n=len(changed),
                names=_(", ").join(c.name for c in changed)), "success")
    else:
        flash(_("No cycle needed the current tree: nothing was changed."), "success")
    return redirect_after(_back())


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """The tree has no page per cycle (a cycle's tree is shown with its points)."""
    return []


def menu_items(tenant, user) -> list:
    """"Indicators" (the tree), for everyone who reads it."""
    if not may_view_tree(tenant_user(user)):
        return []
    return [MenuItem(_("Indicators"), url_for("township_tree.index", tenant=tenant.slug), "township_tree.index",
                     order=71)]
