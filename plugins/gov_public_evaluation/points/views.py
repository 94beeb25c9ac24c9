"""Indicator points (指标考核) of a township cycle: the overview (units × first-level subtotals, entry
and verification progress) and a unit's page, a row per second-level indicator that applies to it,
where the efficiency office enters the points with their evidence note and, in annual cycles, marks
them verified (年终核查).

Each row saves on its own: htmx posts the row's form and gets the row back (with the unit's
subtotals out of band); a plain POST redirects to the unit's page after success and gets the page
with the row's errors otherwise. Every row names the entry it shows (its stamp: id and entering
moment) and its version: a save over a newer entry, or over an entry cleared and entered anew since
the row was read, is refused (409). Who may do what: plugins/gov_public_evaluation/policy.py (points section).
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.db import db_session
from core.org.forms import UNIT_KIND_LABELS
from core.policy import permission_required, tenant_user
from core.scoring.numbers import text
from core.slots import MenuItem
from core.web import actor_name, paginate, render_page
from plugins.gov_public_evaluation.indicators import applies
from plugins.gov_public_evaluation.points import models  # noqa: F401 (the tables register)
from plugins.gov_public_evaluation.points import service
from plugins.gov_public_evaluation.points.models import IndicatorEntry
from plugins.gov_public_evaluation.points.service import Leaf, PointsError
from plugins.gov_public_evaluation.policy import (may_enter_points, may_open_points, may_view_points,
                                                  readable_units)
from plugins.gov_public_evaluation.web import (account, actor, allowed, cycle_state_name, get_township_cycle,
                                               require_scheme)

bp = Blueprint("township_points", __name__, url_prefix="/t/<tenant>/township")

KINDS = ("village", "department")


# ----------------------------------------------------------------------------------- loaders

def _cycle(cycle_id: int):
    """The township cycle (404: unknown, another tenant's or scheme's) whose points the user opens (403)."""
    require_scheme()
    cycle = get_township_cycle(cycle_id)
    allowed(may_open_points(account()))
    return cycle


def _unit(cycle, unit_id: int):
    """The unit's subject in the cycle (404: not one of its units), when the user reads its points (403)."""
    subject = service.subject_of(cycle, unit_id)
    if subject is None:
        abort(404)
    allowed(may_view_points(account(), unit_id))
    return subject


def _leaf(groups, subject, code: str, entries: dict) -> Leaf:
    """The cycle's indicator ``code`` when it applies to the unit or the unit has an entry on it
    (one the tree lacks stands as a stray, to be cleared); 404 otherwise."""
    leaf = service.leaf_for(groups, code)
    if code in entries:
        return leaf or service.stray_leaf(code)
    if leaf is None or not applies(leaf.units, subject.code, subject.unit_kind or ""):
        abort(404)
    return leaf


def _htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def row_id(code: str) -> str:
    """The element id of an indicator's row: CSS-safe (htmx finds out-of-band targets by ``#id``),
    one per code ("." and "_" escaped as _2e and _5f)."""
    return "pt-" + code.replace("_", "_5f").replace(".", "_2e")


def _context(**extra) -> dict:
    return dict(text=text, actor_name=actor_name, state_label=cycle_state_name, kind_labels=UNIT_KIND_LABELS,
                row_id=row_id, stamp=service.entry_stamp, **extra)


def _at_row(cycle, unit_id: int, code: str) -> str:
    return url_for(".unit", cycle_id=cycle.id, unit_id=unit_id) + "#" + row_id(code)


# ----------------------------------------------------------------------------------- the overview

@bp.get("/cycles/<int:cycle_id>/points")
@permission_required("tenant.home")
def overview(cycle_id: int):
    """The cycle's units (a unit head: their own) with each first-level subtotal and the total out
    of the maxima that apply to the unit, how many indicators are entered of those that apply and,
    in annual cycles, how many entries are verified; filter by unit kind, paginated."""
    cycle = _cycle(cycle_id)
    user = account()
    scope = readable_units(user)
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    groups = service.tree_of(cycle)
    page = paginate(service.units_statement(cycle, scope, kind or None))
    entries = service.entries_of(cycle, [s.unit_id for s in page.items])
    rows = [(s, service.summary(groups, s, entries.get(s.unit_id, {}))) for s in page.items]
    return render_page("gov_public_evaluation/points/overview.html", **_context(
        cycle=cycle, groups=groups, page=page, rows=rows, kind=kind, kinds=KINDS,
        progress=service.progress(cycle, groups, scope), annual=service.is_annual(cycle),
        editable=service.editable(cycle), may_enter=may_enter_points(user)))


# ----------------------------------------------------------------------------------- a unit's page

def _row(leaf: Leaf, entry: IndicatorEntry | None, fits: bool = True, typed: dict | None = None,
         errors: dict | None = None, message: str | None = None, status: int = 200, confirm: bool = False) -> dict:
    """What one row shows: the indicator, the stored entry, the values (as typed after a refusal),
    the errors by field, the message, whether a clear waits for its confirmation."""
    typed = typed or {}
    return dict(leaf=leaf, entry=entry, fits=fits, errors=errors or {}, message=message, status=status,
                confirm=confirm,
                points=typed.get("points", entry.points if entry else ""),
                evidence=typed.get("evidence", entry.evidence if entry else ""),
                note=typed.get("note", ""))


def _unit_context(cycle, subject, overrides: dict[str, dict] | None = None, message: str | None = None) -> dict:
    user = account()
    groups = service.tree_of(cycle)
    entries = service.entries_of(cycle, [subject.unit_id]).get(subject.unit_id, {})
    fitting = service.applicable(groups, subject.code, subject.unit_kind)
    overrides = overrides or {}
    sections = []
    for group, leaves in fitting:
        rows = [_row(leaf, entries.get(leaf.code), **overrides.get(leaf.code, {})) for leaf in leaves]
        sections.append((group, rows))
    stray = [_row(service.leaf_for(groups, e.code) or service.stray_leaf(e.code), e, fits=False,
                  **overrides.get(e.code, {})) for e in service.stale_entries(groups, subject, entries)]
    fits = {leaf.code for _g, leaves in fitting for leaf in leaves}
    scope = readable_units(user)
    before, after = service.neighbours(cycle, subject.unit_id, scope)
    summary = service.summary(groups, subject, entries)
    return _context(
        cycle=cycle, subject=subject, sections=sections, stray=stray, summary=summary,
        not_applicable=[leaf for g in groups for leaf in g.leaves if leaf.code not in fits],
        annual=service.is_annual(cycle), editable=service.editable(cycle), may_enter=may_enter_points(user),
        seen=service.seen_text(entries), unverified=sum(1 for code, e in entries.items()
                                                        if code in fits and e.verified_at is None),
        before=before, after=after, page_message=message, verify_errors={})


@bp.get("/cycles/<int:cycle_id>/points/<int:unit_id>")
@permission_required("tenant.home")
def unit(cycle_id: int, unit_id: int):
    """A unit's points in the cycle: per first-level indicator, a row per second-level indicator that
    applies to the unit (points from 0 to its maximum, the evidence note, who entered it, the year-end
    verification in annual cycles), the subtotals, and the indicators that do not apply to it."""
    cycle = _cycle(cycle_id)
    subject = _unit(cycle, unit_id)
    return render_page("gov_public_evaluation/points/unit.html", **_unit_context(cycle, subject))


def _row_answer(cycle, subject, code: str, status: int = 200, toast: str | None = None, **row_args):
    """htmx: the row and the unit's subtotals, both out of band (the row in a template: a table row
    cannot stand alone); a plain request: the unit's page."""
    if not _htmx():
        return render_template("gov_public_evaluation/points/unit.html",
                               **_unit_context(cycle, subject, {code: {**row_args, "status": status}})), status
    context = _unit_context(cycle, subject, {code: {**row_args, "status": status}})
    row = next((r for _g, rows in context["sections"] for r in rows if r["leaf"].code == code), None) or \
        next((r for r in context["stray"] if r["leaf"].code == code), None)
    if row is not None:
        replaced = render_template("gov_public_evaluation/points/_row.html", row=row, oob=True, **context)
    else:  # a cleared entry on an indicator that does not apply: its row goes
        replaced = f'<tr id="{row_id(code)}" hx-swap-oob="delete"></tr>'
    body = ("<template>" + replaced + "</template>"
            + render_template("gov_public_evaluation/points/_summary.html", oob=True, **context))
    response = make_response(body, status)
    if toast:
        # JSON with ASCII escapes: header values are latin-1
        response.headers["HX-Trigger"] = json.dumps({"jixiao:saved": toast})
    return response


@bp.get("/cycles/<int:cycle_id>/points/<int:unit_id>/indicators/<code>")
@permission_required("tenant.home")
def row(cycle_id: int, unit_id: int, code: str):
    """One indicator's row as stored (htmx: the row, e.g. to cancel a clear); otherwise the unit's page at the row."""
    cycle = _cycle(cycle_id)
    subject = _unit(cycle, unit_id)
    entries = service.entries_of(cycle, [unit_id]).get(unit_id, {})
    _leaf(service.tree_of(cycle), subject, code, entries)
    if not _htmx():
        return redirect(_at_row(cycle, unit_id, code))
    return _row_answer(cycle, subject, code)


@bp.post("/cycles/<int:cycle_id>/points/<int:unit_id>/indicators/<code>")
@permission_required("tenant.home")
def save(cycle_id: int, unit_id: int, code: str):
    """Save one row (the office, while the cycle is a draft, open or in review): points from 0 to the
    indicator's maximum with an evidence note, or, emptied (or "Clear"), remove the entry after a
    confirmation step. Refused with 422 (the indicator, the value, the allowed range) or 409 (the
    entry changed meanwhile, the cycle no longer takes points)."""
    cycle = _cycle(cycle_id)
    subject = _unit(cycle, unit_id)
    allowed(may_enter_points(account()))
    groups = service.tree_of(cycle)
    entries = service.entries_of(cycle, [unit_id]).get(unit_id, {})
    leaf = _leaf(groups, subject, code, entries)
    form = request.form
    clearing = bool(form.get("clear"))
    typed = {"points": "" if clearing else form.get("points", ""), "evidence": form.get("evidence", "")}
    try:
        saved = service.save(cycle, subject, leaf, typed["points"], typed["evidence"], form.get("version"), actor(),
                             confirm=bool(form.get("confirm")), stamp=form.get("entry"))
        if saved.action in ("created", "updated", "cleared"):
            db_session.commit()
    except PointsError as exc:
        db_session.rollback()
        return _row_answer(cycle, subject, code, exc.status, typed=typed, errors=exc.errors, message=str(exc))
    messages = {"created": _("%(indicator)s: %(points)s points entered.", indicator=leaf.label,
                             points=saved.entry.points if saved.entry else ""),
                "updated": _("%(indicator)s saved.", indicator=leaf.label),
                "cleared": _("%(indicator)s cleared: the unit earns 0 on it.", indicator=leaf.label),
                "unchanged": _("%(indicator)s: nothing changed.", indicator=leaf.label)}
    if saved.action == "confirm":
        message = _("Clear the %(points)s points of %(indicator)s? The unit then earns 0 on it.",
                    points=saved.entry.points, indicator=leaf.label)
        return _row_answer(cycle, subject, code, confirm=True, message=message)
    if not _htmx():
        flash(messages[saved.action], "success")
        return redirect(_at_row(cycle, unit_id, code))
    return _row_answer(cycle, subject, code, toast=messages[saved.action])


@bp.post("/cycles/<int:cycle_id>/points/<int:unit_id>/indicators/<code>/verify")
@permission_required("tenant.home")
def verify(cycle_id: int, unit_id: int, code: str):
    """Mark one entry verified at year end (年终核查, annual cycles) with an optional note, or unmark
    it (``mark=0``); the office, while the cycle is a draft, open or in review."""
    cycle = _cycle(cycle_id)
    subject = _unit(cycle, unit_id)
    allowed(may_enter_points(account()))
    groups = service.tree_of(cycle)
    entries = service.entries_of(cycle, [unit_id]).get(unit_id, {})
    leaf = _leaf(groups, subject, code, entries)
    mark = request.form.get("mark", "1") != "0"
    note = request.form.get("note", "")
    try:
        service.verify(cycle, subject, leaf, request.form.get("version"), note, actor(), mark=mark,
                       stamp=request.form.get("entry"))
        db_session.commit()
    except PointsError as exc:
        db_session.rollback()
        return _row_answer(cycle, subject, code, exc.status, typed={"note": note}, errors=exc.errors,
                           message=str(exc))
    message = (_("%(indicator)s marked verified.", indicator=leaf.label) if mark
               else _("%(indicator)s: verification mark removed.", indicator=leaf.label))
    if not _htmx():
        flash(message, "success")
        return redirect(_at_row(cycle, unit_id, code))
    return _row_answer(cycle, subject, code, toast=message)


@bp.post("/cycles/<int:cycle_id>/points/<int:unit_id>/verify")
@permission_required("tenant.home")
def verify_all(cycle_id: int, unit_id: int):
    """Mark every unverified entry of the unit verified at once (annual cycles), provided the entries
    are still those the page showed; all or nothing."""
    cycle = _cycle(cycle_id)
    subject = _unit(cycle, unit_id)
    allowed(may_enter_points(account()))
    groups = service.tree_of(cycle)
    try:
        marked = service.verify_all(cycle, subject, groups, request.form.get("seen", ""), request.form.get("note", ""),
                                    actor())
        db_session.commit()
    except PointsError as exc:
        db_session.rollback()
        context = _unit_context(cycle, subject, message=str(exc))
        context["verify_errors"] = exc.errors
        return render_page("gov_public_evaluation/points/unit.html", **context), exc.status
    if marked:
        flash(_("%(n)s entries of %(unit)s marked verified.", n=marked, unit=subject.name), "success")
    else:
        flash(_("Every entry of %(unit)s was verified already.", unit=subject.name), "success")
    target = url_for(".unit", cycle_id=cycle.id, unit_id=unit_id)
    if _htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """"Indicator points" on a township cycle, for the office, leaders and unit heads."""
    if not may_open_points(tenant_user(user)):
        return []
    return [MenuItem(_("Indicator points"), url_for("township_points.overview", cycle_id=cycle.id),
                     "township_points.overview", order=10)]


def menu_items(tenant, user) -> list:
    """The points are reached from a cycle (its links); no menu entry of their own."""
    return []
