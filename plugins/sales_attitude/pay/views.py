"""Pay (绩效工资), HR's alone: the sales staff's pay bases and coefficients (edited per row with
optimistic locking, or imported from a sheet all or nothing), and a computed month's payroll with
its .xlsx export (the performance pay the engine computed, exact to the cent)."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.cycles.bulk import ImportError_, read_rows
from core.cycles.service import CycleError
from core.db import db_session
from core.models import OrgUnit, Person
from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate, paginate_list, render_page
from plugins.sales_attitude.pay import models  # noqa: F401 (the tables register)
from plugins.sales_attitude.pay import service
from plugins.sales_attitude.policy import may_manage_pay, may_see_payroll, may_set_pay
from plugins.sales_attitude.web import account, actor, cycle_state_name, get_sales_cycle, require_scheme

bp = Blueprint("sales_pay", __name__, url_prefix="/t/<tenant>/sales")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _no_store(body, status: int = 200):
    """Pay figures are kept out of shared caches and the browser's history."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _download(body, filename: str, mimetype: str):
    response = make_response(body)
    response.mimetype = mimetype
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response


def _hr() -> None:
    """The pay pages are HR's alone: 404 without the scheme, 403 for everyone else."""
    require_scheme()
    if not may_manage_pay(account()):
        abort(403)


def _person(person_id: int) -> Person:
    """A sales staff member of the tenant (404 otherwise) whose pay the user may set (403: not HR,
    or their own)."""
    _hr()
    person = db_session.get(Person, person_id)
    if not service.is_sales_staff(person):
        abort(404)
    if not may_set_pay(account(), person.id):
        abort(403)
    return person


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _filters() -> dict:
    raw = request.args.get("unit_id", "")
    return {"unit_id": int(raw) if raw.isdigit() else None, "q": request.args.get("q", "").strip()[:100],
            "missing": request.args.get("missing") == "1"}


# ----------------------------------------------------------------------------------- pay bases

def _pay_page(status: int = 200, message: str | None = None, problems: list[str] | None = None,
              row_errors: dict[int, dict[str, str]] | None = None, typed: dict[int, dict[str, str]] | None = None):
    filters = _filters()
    page = paginate(service.staff_statement(filters["unit_id"], filters["q"], filters["missing"]))
    known = service.records([p.id for p in page.items])
    staff, missing = service.counts()
    units = dict(db_session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    unit_choices = [(u.id, u.name) for u in db_session.scalars(
        select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.sort_order, OrgUnit.code))]
    user = account()
    years = service.payroll_years()
    year = request.args.get("year", "")
    year = year if year in years else (years[0] if years else "")
    return _no_store(render_page(
        "sales_attitude/pay/index.html", page=page, known=known, staff=staff, missing=missing, units=units,
        unit_choices=unit_choices, filters=filters, message=message, status=status, problems=problems or [],
        row_errors=row_errors or {}, typed=typed or {}, may_set=lambda person: may_set_pay(user, person.id),
        class_label=service.class_label, years=years, year=year,
        months=service.payroll_months(year) if year else [], state_label=cycle_state_name), status)


@bp.get("/pay")
@permission_required("tenant.home")
def index():
    """The sales months with a link to each computed month's payroll and its .xlsx export (``?year=``,
    the latest year by default), and the sales staff with their pay base and coefficient (HR only):
    filters, pages, inline edits, the import."""
    _hr()
    return _pay_page()


@bp.post("/pay/<int:person_id>")
@permission_required("tenant.home")
def save(person_id: int):
    """Set one person's pay base and coefficient (optimistically locked by the version the form saw)."""
    person = _person(person_id)
    base, coefficient = request.form.get("base", ""), request.form.get("coefficient", "")
    typed = {person.id: {"base": base, "coefficient": coefficient}}
    try:
        service.set_pay(person, base, coefficient, _version(), actor())
        db_session.commit()
    except service.StalePay as exc:
        db_session.rollback()
        return _pay_page(409, _("Not saved: %(reason)s", reason=str(exc)), row_errors={person.id: {"": str(exc)}}, typed=typed)
    except service.PayError as exc:
        db_session.rollback()
        return _pay_page(422, _("Not saved: %(reason)s", reason=str(exc)), row_errors={person.id: exc.errors}, typed=typed)
    except (StaleDataError, IntegrityError, CycleError):
        db_session.rollback()
        reason = _("The pay of %(name)s was changed by someone else; reload the page to see it.", name=person.name)
        return _pay_page(409, _("Not saved: %(reason)s", reason=reason), row_errors={person.id: {"": reason}}, typed=typed)
    message = _("Pay of %(name)s saved.", name=person.name)
    if request.headers.get("HX-Request"):
        return _pay_page(message=message)
    flash(message, "success")
    return redirect(url_for(".index", **{k: v for k, v in request.args.items()}))


@bp.post("/pay/<int:person_id>/remove")
@permission_required("tenant.home")
def remove(person_id: int):
    """Remove a person's pay record (confirmed first): no pay until it is set again."""
    person = _person(person_id)
    try:
        service.remove_pay(person, _version(), actor())
        db_session.commit()
    except (service.PayError, StaleDataError, CycleError) as exc:
        db_session.rollback()
        reason = str(exc) if isinstance(exc, service.PayError) else \
            _("The pay of %(name)s was changed by someone else; reload the page to see it.", name=person.name)
        return _pay_page(409, _("Not saved: %(reason)s", reason=reason), row_errors={person.id: {"": reason}})
    message = _("Pay of %(name)s removed.", name=person.name)
    if request.headers.get("HX-Request"):
        return _pay_page(message=message)
    flash(message, "success")
    return redirect(url_for(".index"))


@bp.post("/pay/import")
@permission_required("tenant.home")
def import_pay():
    """Import pay bases and coefficients from an .xlsx or .csv file: every row checked first, all
    or nothing, each problem named by row and column."""
    _hr()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _pay_page(422, problems=[_("Choose a file to upload.")])
    try:
        count = service.import_pay(read_rows(upload.filename, upload.read()), actor(), account().person_id)
        db_session.commit()
    except ImportError_ as exc:
        db_session.rollback()
        return _pay_page(422, problems=exc.problems)
    except (StaleDataError, IntegrityError, CycleError):
        db_session.rollback()
        return _pay_page(409, problems=[_("Some pay records were changed by someone else during the import; nothing "
                                          "was imported. Try again.")])
    flash(_("%(n)s pay record(s) changed from %(file)s.", n=count, file=upload.filename), "success")
    return redirect(url_for(".index"))


@bp.get("/pay/template")
@permission_required("tenant.home")
def template():
    """The import template (``?format=csv``, else .xlsx): one row per sales staff member, their
    current pay filled in, under a header of column keys and a readable one."""
    _hr()
    rows = service.template_rows()
    name = "sales-pay"
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(service.IMPORT_COLUMNS)
        writer.writerow(service.READABLE)
        writer.writerows(rows)
        return _download("\ufeff" + buffer.getvalue(), f"{name}.csv", "text/csv")
    book = Workbook()
    sheet = book.active
    sheet.title = "pay"
    sheet.append(list(service.IMPORT_COLUMNS))
    sheet.append(list(service.READABLE))
    for row in rows:
        sheet.append(row)  # base and coefficient as text: exactly as stored
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(), f"{name}.xlsx", XLSX)


# ----------------------------------------------------------------------------------- payroll

def _payroll_cycle(cycle_id: int):
    """A sales cycle of the tenant (404 otherwise) whose payroll the user may see (403: HR only)."""
    require_scheme()
    cycle = get_sales_cycle(cycle_id)
    if not may_see_payroll(account()):
        abort(403)
    return cycle


@bp.get("/cycles/<int:cycle_id>/payroll")
@permission_required("tenant.home")
def payroll(cycle_id: int):
    """The month's performance pay per person (HR only): base, coefficient, total, training, pay
    as the engine computed it; excluded people and people without pay with the reason."""
    cycle = _payroll_cycle(cycle_id)
    table = service.payroll(cycle) if cycle.computed_at is not None else None
    return _no_store(render_page("sales_attitude/pay/payroll.html", cycle=cycle, table=table,
                                 page=paginate_list(table.rows) if table else None, state_label=cycle_state_name))


@bp.get("/cycles/<int:cycle_id>/payroll.xlsx")
@permission_required("tenant.home")
def payroll_xlsx(cycle_id: int):
    """The payroll as an .xlsx workbook: one row per person, the pay a number cell with 2 decimals
    (exact: written from Decimal), then a totals row."""
    cycle = _payroll_cycle(cycle_id)
    if cycle.computed_at is None:
        abort(409, _("The results of %(cycle)s are not computed yet: there is no payroll.", cycle=cycle.name))
    table = service.payroll(cycle)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Payroll")[:31]
    sheet.append([_("Number"), _("Name of person"), _("Unit"), _("Class"), _("Status"), _("Total"), _("Pay base"),
                  _("Pay coefficient"), _("In training (%(percent)s%%)", percent=table.training_percent),
                  _("Performance pay"), _("Notes")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in table.rows:
        sheet.append([r.subject.code, r.subject.name, r.unit_name, r.class_label, r.status_label,
                      r.total, r.base, r.coefficient, _("yes") if r.training else "", r.pay, r.note])
    sheet.append([None, _("Total"), None, None, None, None, None, None, None, table.total_pay,
                  _("%(n)s paid", n=table.paid)])
    last = sheet.max_row
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    for column, number_format in (("F", "0.00"), ("G", "#,##0.00"), ("H", "0.0##"), ("J", "#,##0.00")):
        for cell in sheet[column][1:]:
            cell.number_format = number_format
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(), f"{cycle.name}-{cycle.period}-payroll.xlsx", XLSX)


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """"Payroll" on a computed sales cycle, for HR."""
    if cycle.computed_at is None or not may_see_payroll(tenant_user(user)):
        return []
    return [MenuItem(_("Payroll"), url_for("sales_pay.payroll", cycle_id=cycle.id), "sales_pay.payroll", order=30)]


def menu_items(tenant, user) -> list:
    """"Pay" (the months' payrolls, the bases and coefficients), for HR."""
    if not may_manage_pay(tenant_user(user)):
        return []
    return [MenuItem(_("Pay"), url_for("sales_pay.index", tenant=tenant.slug), "sales_pay.index", order=63)]

