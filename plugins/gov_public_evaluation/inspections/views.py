"""The inspection pages (察访核验): the year's findings by unit and quarter, one finding with its
history, recording, correcting and deleting a finding.

Findings of unannounced visits (明察暗访) deduct points only (倒扣分). The office (效能办) records
them; leaders read every unit's, unit heads their own units'. Every page answers htmx requests with
the block its target names (``#results``, ``#finding-form``, ``#delete``); a plain POST redirects
after success. Who may do what is decided in plugins/gov_public_evaluation/policy.py; the rules
(final dates, validation, rounds) live in :mod:`plugins.gov_public_evaluation.inspections.service`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm.exc import StaleDataError

from core.audit import history
from core.cycles.service import CycleError
from core.db import db_session
from core.models import OrgUnit
from core.policy import permission_required, tenant_user
from core.scoring.numbers import exact_sum
from core.slots import MenuItem
from core.web import Page, actor_name, paginate_list, redirect_after, render_page
from plugins.gov_public_evaluation.inspections import models, service  # noqa: F401 (models: the tables register)
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from plugins.gov_public_evaluation.inspections.service import FindingError
from plugins.gov_public_evaluation.policy import (may_list_unit_records, may_record_findings, may_view_unit_records,
                                                  readable_units)
from plugins.gov_public_evaluation.web import account, actor, allowed, cycle_state_name, require_scheme

bp = Blueprint("township_inspections", __name__, url_prefix="/t/<tenant>/township")

F = InspectionFinding
LIST_PAGE = "list_page"  # the records' list: the units' table above it pages with ?page=


# ----------------------------------------------------------------------------------- helpers

def _context(**extra) -> dict:
    """What every page's template uses."""
    return dict(points_text=service.points_text, unit_label=service.unit_label, kind_label=service.kind_label,
                actor_name=actor_name, cycle_state_name=cycle_state_name, cycle_names=service.cycle_names,
                quarter_name=service.quarter_name, quarter_of_year=service.quarter_of_year,
                max_points=service.points_text(service.MAX_POINTS),
                **extra)


@dataclass
class ListPage(Page):
    """The page of a second paginated list on a page (the records below the units' table): its
    number is ``?list_page=``, so that paging one list leaves the other where it is."""

    def url(self, page: int) -> str:
        args = request.args.to_dict()
        args[LIST_PAGE] = str(page)
        return f"{request.path}?{urlencode(args)}"


def paginate_records(statement: Select) -> ListPage:
    """One page of ``statement`` (``?list_page=N``) plus one COUNT query, as core.web.paginate."""
    per_page = current_app.config["PAGE_SIZE"]
    total = db_session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    raw = request.args.get(LIST_PAGE, "1")
    number = min(int(raw) if raw.isascii() and raw.isdigit() and int(raw) >= 1 else 1,
                 max(1, math.ceil(total / per_page)))
    items = list(db_session.scalars(statement.limit(per_page).offset((number - 1) * per_page)))
    return ListPage(items=items, page=number, per_page=per_page, total=total)


def _year() -> int:
    return service.valid_year(request.values.get("year")) or service.today().year


def _load(finding_id: int) -> InspectionFinding:
    """A finding of the current tenant whose unit's records the user reads: 404 otherwise (another
    tenant's too), 403 when it exists but is not the user's to see."""
    require_scheme()
    finding = db_session.get(InspectionFinding, finding_id)
    if finding is None:
        abort(404)
    allowed(may_view_unit_records(account(), finding.unit_id))
    return finding


def _quarter_notices(year: int, cycles, office: bool) -> list[tuple[str, str]]:
    """Per quarter of the year whose cycles are (partly) published: what that means for its findings
    (``final``: no change any more; ``following``: a published quarter whose findings still count in
    the open annual cycle). Only the office, who records them, is told they may still be corrected."""
    notices = []
    for quarter in range(1, 5):
        status = service.status_of(date(year, 3 * quarter - 2, 1), cycles)
        period = service.quarter_of_year(year, quarter)
        if status.final:
            notices.append(("final", _("Findings dated in %(period)s are final: every cycle covering them is "
                                       "published or closed (%(cycles)s).", period=period,
                                       cycles=service.cycle_names(status.final))))
        elif status.published and office:
            notices.append(("following", _(
                "%(period)s is published (%(published)s); its findings still count in %(open)s, which is not "
                "published yet: they may still be corrected, and a change reaches only that cycle (the published "
                "result stays as it is).", period=period, published=service.cycle_names(status.published),
                open=service.cycle_names(status.following))))
        elif status.published:
            notices.append(("following", _(
                "%(period)s is published (%(published)s); its findings also count in %(open)s, which is not "
                "published yet.", period=period, published=service.cycle_names(status.published),
                open=service.cycle_names(status.following))))
    return notices


# ----------------------------------------------------------------------------------- the year's findings

@bp.get("/inspections")
@permission_required("tenant.home")
def index():
    """The year's inspection findings (``?year=``, default this year), filtered by unit and quarter,
    paginated; per unit the year's findings and deductions by quarter; the inspection rounds so far
    (a notice when fewer than two); which quarters are final."""
    require_scheme()
    user = account()
    allowed(may_list_unit_records(user))
    year = _year()
    quarter = service.valid_quarter(request.args.get("quarter"))
    unit_id = service.as_id(request.args.get("unit_id"))
    scope = readable_units(user)

    first, following = service.quarter_bounds(year, quarter)
    statement = select(F).where(F.day >= first, F.day < following)
    if scope is not None:
        statement = statement.where(F.unit_id.in_(sorted(scope)))
    if unit_id is not None:
        statement = statement.where(F.unit_id == unit_id)
    page = paginate_records(statement.order_by(F.day.desc(), F.id.desc()))

    summary = service.year_by_unit(year, scope)
    summary_units = service.units_by_id([*summary, *(f.unit_id for f in page.items)])
    summary_rows = sorted((row for row in summary.values() if row.unit_id in summary_units),
                          key=lambda r: (summary_units[r.unit_id].sort_order, summary_units[r.unit_id].code))
    choices = [u for u in service.unit_choices() if scope is None or u.id in scope]
    cycles = service.year_cycles(year)
    may_record = may_record_findings(user)
    final_days = {f.day for f in page.items if service.status_of(f.day, cycles).final}
    rounds = service.rounds(year)
    low, high = service.year_range()
    return render_page("gov_public_evaluation/inspections/index.html", **_context(
        year=year, quarter=quarter, unit_id=unit_id, page=page, units=summary_units,
        summary_page=paginate_list(summary_rows), summary_count=len(summary_rows),
        choices=choices, rounds=rounds, months=service.month_list(rounds), min_rounds=service.MIN_ROUNDS,
        years=list(range(max(high, year), min(low, year) - 1, -1)),
        total=exact_sum([r.total for r in summary_rows]),  # over all the units, not only the page's
        findings_count=sum(r.findings for r in summary_rows),
        notices=_quarter_notices(year, cycles, may_record),
        may_record=may_record, may_change=lambda f: may_record and f.day not in final_days, final_days=final_days,
        filtered=bool(quarter or unit_id)))


# ----------------------------------------------------------------------------------- one finding

@bp.get("/inspections/<int:finding_id>")
@permission_required("tenant.home")
def finding(finding_id: int):
    """One finding: its evidence in full, whether its date is final, and its change log (who, what,
    which fields from what to what). How a correction would go is shown to the office only."""
    finding = _load(finding_id)
    office = may_record_findings(account())
    status = service.status_of(finding.day, service.year_cycles(finding.day.year))
    unit = db_session.get(OrgUnit, finding.unit_id)
    return render_page("gov_public_evaluation/inspections/finding.html", **_context(
        finding=finding, unit=unit, status=status, log=service.change_log(history(finding)),
        final_message=service.final_message(finding.day, status.final, office) if status.final else None,
        office=office, may_change=office and not status.final))


# ----------------------------------------------------------------------------------- recording

def _form_context(values: dict, errors: dict, message: str | None = None, finding: InspectionFinding | None = None,
                  status=None) -> dict:
    choices = service.unit_choices([finding.unit_id] if finding is not None else [])
    return _context(values=values, errors=errors, message=message, choices=choices, finding=finding, status=status,
                    suggestions=service.ITEM_SUGGESTIONS, today=service.today().isoformat())


@bp.route("/inspections/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new():
    """The office records a finding: date (today or earlier), unit, item, deduction (above 0, at
    most 100) and evidence. ``?unit_id=`` and ``?day=`` prefill the form; "Save and record another"
    comes back to it with the same date."""
    require_scheme()
    allowed(may_record_findings(account()))
    if request.method == "GET":
        values = {"day": service.today().isoformat()}
        unit_id = service.as_id(request.args.get("unit_id"))
        if unit_id is not None:
            values["unit_id"] = str(unit_id)
        try:
            if request.args.get("day"):
                values["day"] = service.parse_day(request.args["day"]).isoformat()
        except ValueError:
            pass  # a bad date in the link: the default stays
        return render_page("gov_public_evaluation/inspections/new.html", **_form_context(values, {}))
    values = request.form.to_dict()
    try:
        checked = service.check_form(values)
        finding = service.add_finding(checked, actor())
        described, day = service.describe(finding, checked.unit), finding.day
        db_session.commit()
    except FindingError as exc:
        db_session.rollback()
        return render_page("gov_public_evaluation/inspections/new.html",
                           **_form_context(values, exc.errors, str(exc))), exc.status
    except CycleError as exc:
        db_session.rollback()
        return render_page("gov_public_evaluation/inspections/new.html", **_form_context(values, {}, str(exc))), 409
    flash(_("Finding recorded: %(finding)s.", finding=described), "success")
    if values.get("another"):
        return redirect_after(url_for(".new", day=day.isoformat()))
    return redirect_after(url_for(".index", year=day.year))


@bp.route("/inspections/<int:finding_id>/edit", methods=["GET", "POST"])
@permission_required("tenant.home")
def edit(finding_id: int):
    """The office corrects a finding while a cycle covering its date (and the new date) is not yet
    published; a finding changed meanwhile gives 409 with the entries kept (the form carries the
    version it was built from)."""
    finding = _load(finding_id)
    allowed(may_record_findings(account()))
    status = service.status_of(finding.day, service.year_cycles(finding.day.year))
    template = "gov_public_evaluation/inspections/edit.html"
    if request.method == "GET":
        values = {"day": finding.day.isoformat(), "unit_id": str(finding.unit_id), "item": finding.item,
                  "points": service.points_text(finding.points), "evidence": finding.evidence,
                  "version": str(finding.version)}
        message = service.final_message(finding.day, status.final) if status.final else None
        return render_page(template, **_form_context(values, {}, message, finding, status),
                           current=None), (409 if message else 200)
    values = request.form.to_dict()
    try:
        checked = service.check_form(values, include_unit=finding.unit_id)
        changed = service.update_finding(finding, checked, service.as_id(values.get("version")), actor())
        described = service.describe(finding, checked.unit)
        db_session.commit()
    except (FindingError, CycleError, StaleDataError) as exc:
        db_session.rollback()
        finding = db_session.get(InspectionFinding, finding_id)
        if finding is None:
            abort(404)
        if isinstance(exc, FindingError):
            message, errors, code = str(exc), exc.errors, exc.status
        else:
            message, errors, code = (service.stale_message() if isinstance(exc, StaleDataError) else str(exc)), {}, 409
        status = service.status_of(finding.day, service.year_cycles(finding.day.year))
        current = None
        if code == 409 and not status.final and service.as_id(values.get("version")) != finding.version:
            current = finding  # changed meanwhile: shown above the entries, which may then be saved over it
            values["version"] = str(finding.version)
        context = _form_context(values, errors, message, finding, status)
        return render_page(template, **context, current=current), code
    flash(_("Finding saved: %(finding)s.", finding=described) if changed else _("Nothing changed."), "success")
    return redirect_after(url_for(".finding", finding_id=finding_id))


# ----------------------------------------------------------------------------------- deleting

@bp.route("/inspections/<int:finding_id>/delete", methods=["GET", "POST"])
@permission_required("tenant.home")
def delete(finding_id: int):
    """Delete a finding after a confirmation step showing it, while a cycle covering its date is not
    yet published (409 otherwise, the published cycle named)."""
    finding = _load(finding_id)
    allowed(may_record_findings(account()))
    status = service.status_of(finding.day, service.year_cycles(finding.day.year))
    back = url_for(".index", year=finding.day.year)
    context = _context(finding=finding, unit=db_session.get(OrgUnit, finding.unit_id), back=back,
                       status=status,
                       message=service.final_message(finding.day, status.final) if status.final else None)
    if request.method == "GET":
        return render_page("gov_public_evaluation/inspections/delete.html", **context), (409 if status.final else 200)
    described = service.describe(finding)
    try:
        service.delete_finding(finding, service.as_id(request.form.get("version")), actor())
        db_session.commit()
    except (FindingError, CycleError) as exc:
        db_session.rollback()
        finding = db_session.get(InspectionFinding, finding_id)
        if finding is None:
            abort(404)
        context.update(finding=finding, message=str(exc))
        return render_page("gov_public_evaluation/inspections/delete.html", **context), 409
    flash(_("Finding deleted: %(finding)s.", finding=described), "success")
    return redirect_after(back)


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """A township cycle links to the findings of its period (the year, or the quarter)."""
    if not may_list_unit_records(tenant_user(user)):
        return []
    year, quarter = int(cycle.period[:4]), (int(cycle.period[-1]) if "-Q" in cycle.period else None)
    return [MenuItem(_("Inspection findings of this period"),
                     url_for("township_inspections.index", year=year, quarter=quarter),
                     "township_inspections.index", order=74)]


def menu_items(tenant, user) -> list:
    """"Inspections" (order 74) for the office, leaders and unit heads."""
    if not may_list_unit_records(tenant_user(user)):
        return []
    return [MenuItem(_("Inspections"), url_for("township_inspections.index", tenant=tenant.slug),
                     "township_inspections.index", order=74)]
