"""The information-report pages (信息报送): the year's overview per unit (items per quarter and in
the year, the minimum for the unit's kind, the shortfall and its deduction), the year's items,
recording, correcting and deleting an item, and importing a spreadsheet of items.

The office (效能办) records; leaders read every unit's, unit heads their own units'. Every page
answers htmx requests with the block its target names (``#results``, ``#report-form``,
``#delete``); a plain POST redirects after success. Who may do what is decided in
plugins/gov_public_evaluation/policy.py; the rules live in :mod:`plugins.gov_public_evaluation.reports.service`.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from core.audit import history

from core.cycles.service import CycleError
from core.db import db_session
from core.i18n import current_locale
from core.models import OrgUnit
from core.policy import permission_required, tenant_user
from core.scoring.numbers import exact_sum
from core.slots import MenuItem
from core.web import actor_name, paginate_list, redirect_after, render_page
from plugins.gov_public_evaluation.inspections import service as units_service
from plugins.gov_public_evaluation.inspections.views import paginate_records
from plugins.gov_public_evaluation.policy import (may_list_unit_records, may_record_findings, may_view_unit_records,
                                                  readable_units)
from plugins.gov_public_evaluation.reports import models, service  # noqa: F401 (models: the tables register)
from plugins.gov_public_evaluation.reports.models import InfoReport
from plugins.gov_public_evaluation.reports.service import ImportRefused, ReportError
from plugins.gov_public_evaluation.web import account, actor, allowed, cycle_state_name, require_scheme

bp = Blueprint("township_reports", __name__, url_prefix="/t/<tenant>/township")

R = InfoReport


def _context(**extra) -> dict:
    """What every page's template uses."""
    return dict(unit_label=units_service.unit_label, kind_label=units_service.kind_label, actor_name=actor_name,
                cycle_state_name=cycle_state_name, cycle_names=units_service.cycle_names,
                quarter_name=units_service.quarter_name, quarter_of_year=units_service.quarter_of_year,
                listing=units_service.listing, number_text=service.deduction_text, **extra)


def _load(report_id: int) -> InfoReport:
    """An item of the current tenant whose unit's records the user reads: 404 otherwise (another
    tenant's too), 403 when it exists but is not the user's to see."""
    require_scheme()
    report = db_session.get(InfoReport, report_id)
    if report is None:
        abort(404)
    allowed(may_view_unit_records(account(), report.unit_id))
    return report


# ----------------------------------------------------------------------------------- the year

@bp.get("/reports")
@permission_required("tenant.home")
def index():
    """The year's information reports (``?year=``, default this year): per unit the items per quarter
    (the quarterly supervision, 季度督查, with who is behind the pace this year) and in the year, the
    minimum for its kind, the shortfall and the deduction it makes in the annual cycle; below, the
    year's items filtered by unit and quarter, paginated."""
    require_scheme()
    user = account()
    allowed(may_list_unit_records(user))
    year = units_service.valid_year(request.args.get("year")) or units_service.today().year
    quarter = units_service.valid_quarter(request.args.get("quarter"))
    unit_id = units_service.as_id(request.args.get("unit_id"))
    scope = readable_units(user)

    cycles = service.annual_cycles(year)
    rules = service.rules_of(year, cycles)
    rows = service.overview(year, rules, scope)
    first, following = units_service.quarter_bounds(year, quarter)
    statement = select(R).where(R.day >= first, R.day < following)
    if scope is not None:
        statement = statement.where(R.unit_id.in_(sorted(scope)))
    if unit_id is not None:
        statement = statement.where(R.unit_id == unit_id)
    page = paginate_records(statement.order_by(R.day.desc(), R.id.desc()))
    units = {r.unit.id: r.unit for r in rows}
    units.update(units_service.units_by_id(r.unit_id for r in page.items if r.unit_id not in units))
    final = service.final_cycles(cycles)
    may_record = may_record_findings(user)
    low, high = service.year_range()
    return render_page("gov_public_evaluation/reports/index.html", **_context(
        year=year, quarter=quarter, unit_id=unit_id, overview=paginate_list(rows), unit_count=len(rows), rules=rules,
        page=page, units=units, choices=[r.unit for r in rows],
        years=list(range(max(high, year), min(low, year) - 1, -1)), cycles=cycles,
        elapsed=service.elapsed_quarters(year),
        final_message=service.final_message(year, final, may_record) if final else None,
        # the totals are over all the units, not only the overview's page
        totals={"reported": sum(r.reported for r in rows), "shortfall": sum(r.shortfall for r in rows),
                "deduction": exact_sum([r.deduction for r in rows]),
                "quarters": {q: sum(r.quarters.get(q, 0) for r in rows) for q in range(1, 5)}},
        behind=sum(1 for r in rows if r.behind), may_record=may_record, may_change=may_record and not final,
        filtered=bool(quarter or unit_id)))


# ----------------------------------------------------------------------------------- recording

def _form_context(values: dict, errors: dict, message: str | None = None, report: InfoReport | None = None,
                  **extra) -> dict:
    choices = units_service.unit_choices([report.unit_id] if report is not None else [])
    return _context(values=values, errors=errors, message=message, choices=choices, report=report,
                    today=units_service.today().isoformat(), **extra)


@bp.route("/reports/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new():
    """The office records an item a unit reported: date (today or earlier), unit, title and where it
    was taken up (optional). The same unit, date and title is refused (409, the item named).
    "Save and record another" comes back to the form with the same date and unit."""
    require_scheme()
    allowed(may_record_findings(account()))
    template = "gov_public_evaluation/reports/new.html"
    if request.method == "GET":
        values = {"day": units_service.today().isoformat()}
        unit_id = units_service.as_id(request.args.get("unit_id"))
        if unit_id is not None:
            values["unit_id"] = str(unit_id)
        try:
            if request.args.get("day"):
                values["day"] = units_service.parse_day(request.args["day"]).isoformat()
        except ValueError:
            pass  # a bad date in the link: the default stays
        return render_page(template, **_form_context(values, {}))
    values = request.form.to_dict()
    try:
        checked = service.check_form(values)
        report = service.add_report(checked, actor())
        described, day, unit_id = service.describe(report, checked.unit), report.day, report.unit_id
        db_session.commit()
    except ReportError as exc:
        db_session.rollback()
        return render_page(template, **_form_context(values, exc.errors, str(exc))), exc.status
    except CycleError as exc:
        db_session.rollback()
        return render_page(template, **_form_context(values, {}, str(exc))), 409
    flash(_("Item recorded: %(item)s.", item=described), "success")
    if values.get("another"):
        return redirect_after(url_for(".new", day=day.isoformat(), unit_id=unit_id))
    return redirect_after(url_for(".index", year=day.year))


# ----------------------------------------------------------------------------------- correcting

def _values_of(report: InfoReport) -> dict:
    return {"day": report.day.isoformat(), "unit_id": str(report.unit_id), "title": report.title,
            "adopted_by": report.adopted_by, "version": str(report.version)}


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@permission_required("tenant.home")
def edit(report_id: int):
    """The office corrects an item (date, unit, title, where it was taken up) under the rules of a
    new one: the same unit, date and title as another item is refused (409, that item named), and so
    is a year whose annual cycle is published (the old and the new date). A change made meanwhile
    gives 409 with the entries kept (the form carries the version it was built from). Below the
    form: the item's change log."""
    report = _load(report_id)
    allowed(may_record_findings(account()))
    template = "gov_public_evaluation/reports/edit.html"
    final = service.final_cycles(service.annual_cycles(report.day.year))
    if request.method == "GET":
        message = service.final_message(report.day.year, final) if final else None
        return render_page(template, **_form_context(
            _values_of(report), {}, message, report, final=bool(final), current=None,
            log=units_service.change_log(history(report)))), (409 if final else 200)
    values = request.form.to_dict()
    try:
        checked = service.check_form(values, include_unit=report.unit_id)
        changed = service.update_report(report, checked, units_service.as_id(values.get("version")), actor())
        described, year = service.describe(report, checked.unit), report.day.year
        db_session.commit()
    except (ReportError, CycleError, StaleDataError) as exc:
        db_session.rollback()
        report = db_session.get(InfoReport, report_id)
        if report is None:
            abort(404)
        if isinstance(exc, ReportError):
            message, errors, code = str(exc), exc.errors, exc.status
        else:
            message, errors, code = (service.stale_message() if isinstance(exc, StaleDataError) else str(exc)), {}, 409
        final = service.final_cycles(service.annual_cycles(report.day.year))
        current = None
        if code == 409 and not final and units_service.as_id(values.get("version")) != report.version:
            current = report  # changed meanwhile: shown above the entries, which may then be saved over it
            values["version"] = str(report.version)
        return render_page(template, **_form_context(values, errors, message, report, final=bool(final),
                                                     current=current,
                                                     log=units_service.change_log(history(report)))), code
    flash(_("Item saved: %(item)s.", item=described) if changed else _("Nothing changed."), "success")
    return redirect_after(url_for(".index", year=year))


# ----------------------------------------------------------------------------------- deleting

@bp.route("/reports/<int:report_id>/delete", methods=["GET", "POST"])
@permission_required("tenant.home")
def delete(report_id: int):
    """Delete an item after a confirmation step showing it, while the year's annual cycle is not yet
    published (409 otherwise, the cycle named); a confirmation out of date (the item changed since)
    refuses the deletion (409)."""
    report = _load(report_id)
    allowed(may_record_findings(account()))
    final = service.final_cycles(service.annual_cycles(report.day.year))
    back = url_for(".index", year=report.day.year)
    context = _context(report=report, unit=db_session.get(OrgUnit, report.unit_id), back=back,
                       message=service.final_message(report.day.year, final) if final else None)
    if request.method == "GET":
        return render_page("gov_public_evaluation/reports/delete.html", **context), (409 if final else 200)
    described = service.describe(report)
    try:
        service.delete_report(report, units_service.as_id(request.form.get("version")), actor())
        db_session.commit()
    except (ReportError, CycleError) as exc:
        db_session.rollback()
        report = db_session.get(InfoReport, report_id)
        if report is None:
            abort(404)
        context.update(report=report, unit=db_session.get(OrgUnit, report.unit_id), message=str(exc))
        return render_page("gov_public_evaluation/reports/delete.html", **context), 409
    flash(_("Item deleted: %(item)s.", item=described), "success")
    return redirect_after(back)


# ----------------------------------------------------------------------------------- import

@bp.get("/reports/template.<fmt>")
@permission_required("tenant.home")
def template(fmt: str):
    """The import template (.xlsx or .csv): the header row 日期/date, 单位代码/unit, 标题/title, 采用情况/adopted_by
    in the page's language, and one example row (dated today, its title saying it is an example)."""
    require_scheme()
    allowed(may_record_findings(account()))
    locale = current_locale()
    if fmt == "xlsx":
        body = service.template_xlsx(locale)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":  # text/* gets "; charset=utf-8" from Flask: named once
        body, mimetype = "\ufeff" + service.template_csv(locale), "text/csv"
    else:
        abort(404)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=info-reports.{fmt}", "Cache-Control": "no-store"})


@bp.route("/reports/import", methods=["GET", "POST"])
@permission_required("tenant.home")
def import_file():
    """The office imports a spreadsheet of items (.xlsx or .csv: date, unit code, title, adopted_by),
    all or nothing: every bad row and column is named; items already recorded are skipped and named."""
    require_scheme()
    allowed(may_record_findings(account()))
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
                report = service.import_rows(upload.filename, service.read_rows(upload.filename, data), actor())
                db_session.commit()
            except ImportRefused as exc:
                db_session.rollback()
                problems, status = exc.problems, 422
            except CycleError as exc:
                db_session.rollback()
                problems, status = [str(exc)], 409
    return render_page("gov_public_evaluation/reports/import.html", **_context(
        problems=problems, report=report, max_rows=f"{service.MAX_ROWS:,}")), status


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """A township cycle links to its year's information reports (a quarter cycle: its quarter's
    items, for the quarterly supervision; the reports count in annual cycles only)."""
    if not may_list_unit_records(tenant_user(user)):
        return []
    year, quarter = int(cycle.period[:4]), (int(cycle.period[-1]) if "-Q" in cycle.period else None)
    return [MenuItem(_("Information reports of this period"),
                     url_for("township_reports.index", year=year, quarter=quarter),
                     "township_reports.index", order=75)]


def menu_items(tenant, user) -> list:
    """"Information reports" (order 75) for the office, leaders and unit heads."""
    if not may_list_unit_records(tenant_user(user)):
        return []
    return [MenuItem(_("Information reports"), url_for("township_reports.index", tenant=tenant.slug),
                     "township_reports.index", order=75)]
