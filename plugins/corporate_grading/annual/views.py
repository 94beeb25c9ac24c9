"""corporate-grading: the annual cycle's collection from the year's records, and the outputs of
every computed corporate cycle (rankings, best units and staff, promotion candidates, the bonus
distribution table)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from urllib.parse import quote

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.cycles.bulk import ImportError_, read_rows
from core.cycles.service import EDITABLE_STATES, CycleError
from core.db import db_session
from core.models import CycleSubject, OrgUnit
from core.policy import permission_required
from core.scoring.numbers import text
from core.slots import MenuItem
from core.web import paginate_list, redirect_after, render_page
from plugins.corporate_grading.annual import models  # noqa: F401 - registers the tables
from plugins.corporate_grading.annual import service
from plugins.corporate_grading.policy import (may_collect_annual, may_record_confidence, may_see_bonus, may_see_confidence,
                                              may_see_rankings, may_set_bonus_base)
from plugins.corporate_grading.web import account, actor, cycle_state_name, get_corporate_cycle, require_scheme

bp = Blueprint("corporate_annual", __name__, url_prefix="/t/<tenant>/corporate")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _list_labels() -> dict[str, str]:
    return {"unit": _("Units"), "person": _("All staff"), "A": _("Class A"), "B": _("Class B"), "C": _("Class C")}


def _no_store(response):
    """Results and pay-like figures are not kept in shared caches or the browser's history."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unit_names() -> dict[int, str]:
    return dict(db_session.execute(select(OrgUnit.id, OrgUnit.name)).all())


def _download(body, filename: str, mimetype: str):
    response = make_response(body)
    response.mimetype = mimetype
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return _no_store(response)


# ----------------------------------------------------------------------------------- collection

def _annual_for_hr(cycle_id: int):
    require_scheme()
    if not may_collect_annual(account()):
        abort(403)
    return get_corporate_cycle(cycle_id, "year")


def _collection_page(cycle, status: int = 200):
    found = service.collection(cycle)
    page = paginate_list(found.missing)
    return render_page("corporate_grading/annual/collection.html", cycle=cycle, found=found, page=page,
                       editable=cycle.state in EDITABLE_STATES, state_label=cycle_state_name), status


@bp.get("/annual/<int:cycle_id>/collection")
@permission_required("tenant.home")
def collection(cycle_id: int):
    """What an annual cycle collected from the year (the monthly cycles used) and, per subject, what
    is still missing: monthly scores, a scored responsibility letter, 360 ratings; with counts."""
    cycle = _annual_for_hr(cycle_id)
    return _collection_page(cycle)


@bp.post("/annual/<int:cycle_id>/collect")
@permission_required("tenant.home")
def collect(cycle_id: int):
    """Collect again: refill the annual cycle's inputs from the year's records (draft or open only)."""
    cycle = _annual_for_hr(cycle_id)
    version = request.form.get("version", "")
    if not version.isdigit() or int(version) != cycle.version:
        flash(_("The cycle was changed by someone else; reload the page."), "error")
    else:
        try:
            count = service.collect(cycle, actor())
            db_session.commit()
            flash(_("Collected: %(count)s subject(s) updated from the year's records.", count=count), "success")
        except CycleError as exc:
            db_session.rollback()
            flash(str(exc), "error")
    return redirect_after(url_for(".collection", cycle_id=cycle.id))


# ----------------------------------------------------------------------------------- rankings

@bp.get("/rankings/<int:cycle_id>")
@permission_required("tenant.home")
def rankings(cycle_id: int):
    """The outputs of a computed corporate cycle (monthly or annual): ranking lists of units, of all
    staff and of each class; the best units and staff; promotion candidates (annual)."""
    require_scheme()
    if not may_see_rankings(account()):
        abort(403)
    cycle = get_corporate_cycle(cycle_id)
    lists = service.rankings(cycle) if cycle.computed_at else {name: [] for name in service.LISTS}
    chosen = request.args.get("list", "")
    if chosen not in service.LISTS:
        chosen = "unit" if lists["unit"] or not lists["person"] else "person"
    best = service.best(cycle, lists)
    best_ids = {x.result.id for name in best for x in best[name]}
    settings = service.settings_of(cycle)
    return _no_store(render_page(
        "corporate_grading/annual/rankings.html", cycle=cycle, lists=lists, chosen=chosen,
        labels=_list_labels(), page=paginate_list(lists[chosen]), best=best, best_ids=best_ids,
        best_lists=service.BEST_LISTS, rule=settings.best_rule, promotion_rule=settings.promotion_rule,
        candidates=service.promotion_candidates(cycle, lists) if cycle.computed_at else [],
        annual=service.is_annual(cycle), units=_unit_names(), state_label=cycle_state_name))


# ----------------------------------------------------------------------------------- bonus

def _annual_bonus(cycle_id: int):
    require_scheme()
    if not may_see_bonus(account()):
        abort(403)
    return get_corporate_cycle(cycle_id, "year")


def _bonus_page(cycle, status: int = 200, message: str | None = None, problems: list[str] | None = None,
                row_errors: dict[int, str] | None = None, typed: dict[int, str] | None = None):
    table = service.bonus_table(cycle)
    return _no_store(make_response(render_page(
        "corporate_grading/annual/bonus.html", cycle=cycle, table=table, page=paginate_list(table.rows),
        units=_unit_names(), message=message, status=status, problems=problems or [],
        row_errors=row_errors or {}, typed=typed or {}, editable=cycle.state != "closed",
        number_text=text, state_label=cycle_state_name), status))


@bp.get("/annual/<int:cycle_id>/bonus")
@permission_required("tenant.home")
def bonus(cycle_id: int):
    """The bonus distribution table of an annual cycle (HR only): each person's bonus base, annual
    grade, its coefficient and the bonus, exact to the cent; bases edited inline or imported."""
    return _bonus_page(_annual_bonus(cycle_id))


@bp.post("/annual/<int:cycle_id>/bonus/<int:person_id>")
@permission_required("tenant.home")
def save_base(cycle_id: int, person_id: int):
    """Set or clear one person's bonus base (optimistically locked by the version the form saw)."""
    cycle = _annual_bonus(cycle_id)
    subject = db_session.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id,
                                                           CycleSubject.kind == "person",
                                                           CycleSubject.person_id == person_id,
                                                           CycleSubject.eligible.is_(True)))
    if subject is None:
        abort(404)
    if not may_set_bonus_base(account(), person_id):
        abort(403)  # nobody sets their own bonus base
    value = request.form.get("base", "")
    raw_version = request.form.get("version", "")
    version = int(raw_version) if raw_version.isdigit() else None
    try:
        service.set_base(cycle, person_id, value, version, actor())
        db_session.commit()
    except service.BonusError as exc:
        db_session.rollback()
        return _bonus_failed(cycle, 409 if isinstance(exc, service.StaleBase) else 422, str(exc), person_id, value)
    except (StaleDataError, IntegrityError):
        db_session.rollback()
        return _bonus_failed(cycle, 409, _("This bonus base was changed by someone else; reload the page to see it."),
                             person_id, value)
    message = _("Bonus base of %(name)s saved.", name=subject.name)
    if request.headers.get("HX-Request"):
        return _bonus_page(cycle, message=message)
    flash(message, "success")
    return redirect(url_for(".bonus", cycle_id=cycle.id, page=request.args.get("page", "1")))


def _bonus_failed(cycle, status: int, message: str, person_id: int, value: str):
    return _bonus_page(cycle, status=status, message=_("Not saved: %(reason)s", reason=message),
                       row_errors={person_id: message}, typed={person_id: value})


@bp.post("/annual/<int:cycle_id>/bonus/import")
@permission_required("tenant.home")
def import_bases(cycle_id: int):
    """Import bonus bases from an .xlsx or .csv file: every row checked first, all or nothing."""
    cycle = _annual_bonus(cycle_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _bonus_page(cycle, status=422, problems=[_("Choose a file to upload.")])
    try:
        count = service.import_bases(cycle, read_rows(upload.filename, upload.read()), actor(), account().person_id)
        db_session.commit()
    except ImportError_ as exc:
        db_session.rollback()
        return _bonus_page(cycle, status=422, problems=exc.problems)
    except (StaleDataError, IntegrityError):
        db_session.rollback()
        return _bonus_page(cycle, status=409, problems=[_(
            "Some bonus bases were changed by someone else during the import; nothing was imported. Try again.")])
    flash(_("%(n)s bonus base(s) changed from %(file)s.", n=count, file=upload.filename), "success")
    return redirect(url_for(".bonus", cycle_id=cycle.id))


def _template_rows(cycle) -> list[list]:
    table = service.bonus_table(cycle)
    return [[r.subject.code, r.subject.name, r.subject.staff_class or "", (r.result.grade if r.result else "") or "",
             r.base.base if r.base else None] for r in table.rows]


@bp.get("/annual/<int:cycle_id>/bonus/template")
@permission_required("tenant.home")
def bonus_template(cycle_id: int):
    """The import template (``?format=csv`` or .xlsx): one row per person, their current base filled in."""
    cycle = _annual_bonus(cycle_id)
    rows = _template_rows(cycle)
    name = f"{cycle.name}-bonus-bases"
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(service.IMPORT_COLUMNS)
        writer.writerows([[*row[:4], "" if row[4] is None else str(row[4])] for row in rows])
        return _download("\ufeff" + buffer.getvalue(), f"{name}.csv", "text/csv")
    book = Workbook()
    sheet = book.active
    sheet.title = "bonus_base"
    sheet.append(list(service.IMPORT_COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(), f"{name}.xlsx", XLSX)


@bp.get("/annual/<int:cycle_id>/bonus.xlsx")
@permission_required("tenant.home")
def bonus_xlsx(cycle_id: int):
    """The bonus distribution table as an .xlsx workbook (amounts exact, shown with 2 decimals)."""
    cycle = _annual_bonus(cycle_id)
    table = service.bonus_table(cycle)
    units = _unit_names()
    book = Workbook()
    sheet = book.active
    sheet.title = _("Bonus table")[:31]
    headers = [_("Rank"), _("Number"), _("Name"), _("Unit"), _("Class"), _("Annual score"), _("Grade"),
               _("Bonus base"), _("Coefficient"), _("Bonus amount")]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in table.rows:
        sheet.append([r.result.rank if r.result else None, r.subject.code, r.subject.name,
                      units.get(r.subject.unit_id, ""), r.subject.staff_class or "",
                      r.result.score if r.result else None, (r.result.grade if r.result else "") or "",
                      r.base.base if r.base else None,
                      Decimal(text(r.coefficient)) if r.coefficient is not None else None, r.bonus])
    sheet.append([None, None, _("Total"), None, None, None, None, table.total_base, None, table.total_bonus])
    for column in ("F", "H", "J"):
        for cell in sheet[column][1:]:
            cell.number_format = "#,##0.00"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(), f"{cycle.name}-{cycle.period}-bonus.xlsx", XLSX)


# ----------------------------------------------------------------------------------- links

# ----------------------------------------------------------------------------------- confidence vote

def _confidence_cycle(cycle_id: int):
    require_scheme()
    if not may_see_confidence(account()):
        abort(403)
    return get_corporate_cycle(cycle_id, "year")


def _confidence_page(cycle, status: int = 200, message: str | None = None, errors_for: int | None = None,
                     errors: dict | None = None, error: str | None = None):
    from plugins.corporate_grading.annual import confidence

    user = account()
    return render_page("corporate_grading/annual/confidence.html", cycle=cycle, rows=confidence.rows(cycle),
                       labels=confidence.count_labels(), counts=confidence.COUNTS, message=message, error=error,
                       errors=errors or {}, errors_for=errors_for, posted=request.form if errors_for else {},
                       editable=cycle.state != "closed" and may_record_confidence(user),
                       state_label=cycle_state_name), status


@bp.get("/annual/<int:cycle_id>/confidence")
@permission_required("tenant.home")
def confidence_vote(cycle_id: int):
    """The confidence vote (民主信任投票) on the class A leaders of an annual cycle: the counted
    ballots per leader and the trust rate; recorded by HR, not part of any score."""
    return _confidence_page(_confidence_cycle(cycle_id))


@bp.post("/annual/<int:cycle_id>/confidence/<int:subject_id>")
@permission_required("tenant.home")
def record_confidence(cycle_id: int, subject_id: int):
    """Record (or correct) one leader's counted ballots; a concurrent change is refused."""
    from plugins.corporate_grading.annual import confidence

    cycle = _confidence_cycle(cycle_id)
    if not may_record_confidence(account()):
        abort(403)
    subject = db_session.get(CycleSubject, subject_id)
    if subject is None or subject.cycle_id != cycle.id:
        abort(404)
    try:
        confidence.record_vote(cycle, subject, request.form, actor())
        db_session.commit()
    except confidence.ConfidenceError as exc:
        db_session.rollback()
        return _confidence_page(cycle, 422, error=str(exc), errors=exc.errors, errors_for=subject.id)
    except (StaleDataError, IntegrityError):
        db_session.rollback()
        return _confidence_page(cycle, 409, error=_("Someone else recorded this vote meanwhile; reload the page to see it."),
                                errors_for=subject.id)
    return _confidence_page(cycle, message=_("The confidence vote on %(name)s is recorded.", name=subject.name))


def cycle_links(cycle, user) -> list:
    """Annual collection (annual, HR), Rankings (computed, HR and leaders), Bonus table (annual, HR)."""
    annual = service.is_annual(cycle)
    links = []
    if annual and may_collect_annual(user):
        links.append(MenuItem(_("Annual collection"), url_for("corporate_annual.collection", cycle_id=cycle.id),
                              "corporate_annual.collection"))
    if cycle.computed_at is not None and may_see_rankings(user):
        links.append(MenuItem(_("Rankings"), url_for("corporate_annual.rankings", cycle_id=cycle.id),
                              "corporate_annual.rankings"))
    if annual and may_see_confidence(user):
        links.append(MenuItem(_("Confidence vote"), url_for("corporate_annual.confidence_vote", cycle_id=cycle.id),
                              "corporate_annual.confidence_vote"))
    if annual and may_see_bonus(user):
        links.append(MenuItem(_("Bonus table"), url_for("corporate_annual.bonus", cycle_id=cycle.id),
                              "corporate_annual.bonus"))
    return links


def menu_items(tenant, user) -> list:
    """The annual pages belong to a cycle: they are reached from the cycle's page, not the menu."""
    return []
