"""Information reports (信息报送): the items each unit reported, with their dates, and the year's
count set against the minimum for the unit's kind.

An item is dated (today or earlier), names one unit (a village or a department), its title and,
optionally, where it was taken up (adopted_by: the county bulletin, a leader's instruction, ...).
The same unit, date and title is the same item: a second one is refused (a unique key backs the
check when two are saved at the same moment). Items are recorded by the office one by one or
imported from a spreadsheet (.xlsx / .csv), all or nothing, and corrected under the same rules
(optimistic locking on the item's ``version``).

Information reporting is assessed in annual cycles only (schemes.md §3): the annual cycle's
``info_reports`` input is the unit's count of the year (:func:`plugins.gov_public_evaluation.derived.report_counts`),
refreshed in the same transaction as every change; the shortfall against the minimum
(``info_report_minimum``: villages 5, departments 6 by default) × ``info_report_points_per_missing``
(default 1) is deducted from the total. A year's items are *final* once every annual cycle of the
year is published or closed. Quarter counts are shown for the quarterly supervision (季度督查) only.

Every change is audited. Nothing here commits; on a unique-key race the session is rolled back
before the refusal is raised (the caller's transaction held nothing else yet).
"""
from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Iterable, Mapping

from flask import has_request_context, request
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, extract, func, insert, select
from sqlalchemy.exc import IntegrityError

from core.audit import record, snapshot
from core.db import db_session
from core.i18n import current_locale
from core.models import AuditLog, Cycle, OrgUnit, TenantScheme
from core.models.base import utcnow
from core.scoring.numbers import text
from core.tenancy import current_tenant_id
from plugins.gov_public_evaluation import derived, settings_of
from plugins.gov_public_evaluation.inspections import service as inspections
from plugins.gov_public_evaluation.inspections.service import (FINAL_STATES, UNIT_KINDS, cycle_names, listing,
                                                              parse_day, parse_unit, quarter_of, refresh_pairs,
                                                              unit_label)
from plugins.gov_public_evaluation.reports.models import InfoReport

SCHEME_ID = derived.SCHEME_ID
TITLE_MAX = 200
ADOPTED_MAX = 120
AUDITED = ("day", "unit_id", "title", "adopted_by")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# The import's columns: key -> the header names accepted (compared case-insensitively).
COLUMNS = {
    "date": ("date", "day", "日期", "报送日期"),
    "unit": ("unit", "unit code", "unit_code", "单位", "单位代码", "单位编码"),
    "title": ("title", "item", "标题", "信息标题", "题目"),
    "adopted_by": ("adopted_by", "adopted by", "adopted", "采用", "采用情况", "采用单位"),
}
REQUIRED_COLUMNS = ("date", "unit", "title")
TEMPLATE_HEADERS = {"zh": ("日期", "单位代码", "标题", "采用情况"), "en": ("date", "unit", "title", "adopted_by")}
# The templates' example row: its title says it is one; an import refuses a row left with it.
EXAMPLE_TITLES = {"zh": "示例：春耕备耕工作进展（导入前请删除此行）",
                  "en": "Example: spring ploughing progress (delete this row before importing)"}
EXAMPLE_ADOPTED = {"zh": "县政务信息 第12期", "en": "County bulletin No. 12"}


def today() -> date:
    """The server's today: the one the dates are checked against (tests fix it in the inspections' service)."""
    return inspections.today()


class ReportError(ValueError):
    """A change that is refused: ``errors`` maps form fields to their message; ``status`` is 422 for
    a bad input, 409 for a duplicate or a final year."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


class ImportRefused(ValueError):
    """The file is refused as a whole; ``problems`` names every one (row, column, value, what is allowed)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# ----------------------------------------------------------------------------------- final years

def annual_cycles(year: int, lock: bool = False) -> list[Cycle]:
    """The scheme's annual cycles of the year (the only ones that count the reports); one query."""
    statement = (select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.period == str(year)).order_by(Cycle.id))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(db_session.scalars(statement))


def final_cycles(cycles: list[Cycle]) -> list[Cycle]:
    """The cycles, when every one is published or closed (the year is final); else empty."""
    return cycles if cycles and all(c.state in FINAL_STATES for c in cycles) else []


def final_message(year: int, cycles: list[Cycle], office: bool = True) -> str:
    """Why the items of ``year`` no longer change; what to do instead only for the office
    (``office``), who records them: read-only viewers get the fact alone."""
    if not office:
        return _("The information reports of %(year)s are final: the year's annual cycle is published or closed "
                 "(%(cycles)s).", year=year, cycles=cycle_names(cycles))
    return _("The information reports of %(year)s are final: the year's annual cycle is published or closed "
             "(%(cycles)s). Items of %(year)s can no longer be added, changed or deleted; a correction goes through "
             "an appeal against the result.", year=year, cycles=cycle_names(cycles))


def refuse_final(years: Iterable[int]) -> None:
    """:raises ReportError: (409) when a year's annual cycles are all published or closed. The
    cycles are locked until the transaction ends (PostgreSQL), so a publication cannot slip between
    this check and the change."""
    for year in sorted(set(years)):
        final = final_cycles(annual_cycles(year, lock=True))
        if final:
            raise ReportError(final_message(year, final), status=409)


# ----------------------------------------------------------------------------------- the rules

def tenant_settings() -> dict:
    """The tenant's current settings of the scheme (its overrides)."""
    return db_session.scalar(select(TenantScheme.settings).where(TenantScheme.scheme_id == SCHEME_ID)) or {}


@dataclass
class Rules:
    """The minimum per unit kind and the points per missing item that apply to a year: those of the
    annual cycle that counts the year (the newest still following the records, else the newest
    published), else the tenant's current settings."""

    minimum: dict[str, int]
    per_missing: Fraction
    cycle: Cycle | None


def rules_of(year: int, cycles: list[Cycle] | None = None) -> Rules:
    cycles = annual_cycles(year) if cycles is None else cycles
    following = [c for c in cycles if c.state not in FINAL_STATES]
    chosen = (following or cycles or [None])[-1]
    settings = settings_of(chosen.settings if chosen is not None else tenant_settings())
    minimum = settings.info_report_minimum
    return Rules({"village": minimum.village, "department": minimum.department},
                 Fraction(settings.info_report_points_per_missing), chosen)


# ----------------------------------------------------------------------------------- one item

@dataclass
class ReportForm:
    day: date
    unit: OrgUnit
    title: str
    adopted_by: str


def clean_title(raw: Any) -> str:
    return " ".join(str(raw or "").split())


def check_form(form: Mapping[str, Any], include_unit: int | None = None) -> ReportForm:
    """The form's fields, each checked (``include_unit``: an item's current unit, accepted even if it
    is no longer active): :raises ReportError: (422) with one message per field."""
    errors: dict[str, str] = {}
    day = unit = None
    try:
        day = parse_day(form.get("day"))
    except ValueError as exc:
        errors["day"] = _("Date: %(problem)s", problem=str(exc))
    try:
        unit = parse_unit(form.get("unit_id"), [include_unit] if include_unit else [])
    except ValueError as exc:
        errors["unit_id"] = _("Unit: %(problem)s", problem=str(exc))
    title = clean_title(form.get("title"))
    if not title:
        errors["title"] = _("Title: required; the title of the item the unit reported.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("Title: %(n)s characters; at most %(max)s are allowed.", n=len(title), max=TITLE_MAX)
    adopted = clean_title(form.get("adopted_by"))
    if len(adopted) > ADOPTED_MAX:
        errors["adopted_by"] = _("Taken up by: %(n)s characters; at most %(max)s are allowed.", n=len(adopted),
                                 max=ADOPTED_MAX)
    if errors:
        raise ReportError(_("The item is not saved: correct the fields marked below."), errors)
    return ReportForm(day, unit, title, adopted)


def _existing(unit_id: int, day: date, title: str) -> InfoReport | None:
    return db_session.scalar(select(InfoReport).where(InfoReport.unit_id == unit_id, InfoReport.day == day,
                                                      InfoReport.title == title))


def describe(report: InfoReport, unit: OrgUnit | None = None) -> str:
    """An item as a message names it: the date, the unit and the title."""
    unit = unit if unit is not None else db_session.get(OrgUnit, report.unit_id)
    return _("%(day)s, %(unit)s: “%(title)s”", day=report.day.isoformat(), unit=unit_label(unit), title=report.title)


def duplicate_message(unit: OrgUnit, day: date, title: str, existing: InfoReport | None) -> str:
    from core.web import actor_name

    if existing is None:
        return _("%(unit)s already has the item “%(title)s” of %(day)s (recorded at the same moment by someone "
                 "else); an item is recorded once.", unit=unit_label(unit), title=title, day=day.isoformat())
    return _("%(unit)s already has the item “%(title)s” of %(day)s, recorded by %(who)s on %(when)s; an item (the "
             "same unit, date and title) is recorded once.", unit=unit_label(unit), title=title, day=day.isoformat(),
             who=actor_name(existing.recorded_by),
             when=existing.recorded_at.strftime("%Y-%m-%d") if existing.recorded_at else "")


def add_report(values: ReportForm, actor: str) -> InfoReport:
    """Record an item, audited; the year's open annual cycles follow.
    :raises ReportError: 409 when the year is final or the item is already recorded."""
    refuse_final([values.day.year])
    existing = _existing(values.unit.id, values.day, values.title)
    if existing is not None:
        raise ReportError(duplicate_message(values.unit, values.day, values.title, existing), status=409)
    report = InfoReport(day=values.day, unit_id=values.unit.id, title=values.title, adopted_by=values.adopted_by,
                        recorded_by=actor)
    db_session.add(report)
    try:
        db_session.flush()
    except IntegrityError:  # the same item saved at the same moment: the unique key holds
        db_session.rollback()
        unit = db_session.get(OrgUnit, values.unit.id)
        raise ReportError(duplicate_message(unit, values.day, values.title,
                                            _existing(unit.id, values.day, values.title)), status=409) from None
    record("gov_info_report.add", report, after=snapshot(report, AUDITED), actor=actor)
    derived.refresh_units([report.unit_id], actor, day=report.day)
    return report


def record_report(form: Mapping[str, Any], actor: str) -> InfoReport:
    """What the page does with a form (day, unit_id, title, adopted_by), for commands and the demo:
    :func:`check_form` then :func:`add_report`. :raises ReportError: as they do."""
    return add_report(check_form(form), actor)


def stale_message() -> str:
    return _("The item was changed by someone else since this page was loaded; your entries are kept below: "
             "check the item as it is now, then save again.")


def update_report(report: InfoReport, values: ReportForm, version: int | None, actor: str) -> bool:
    """Correct an item (date, unit, title, adopted_by) under the rules of :func:`add_report`:
    optimistic locking (``version`` is the one the form was built from), audited; the open annual
    cycles of the old and the new unit and date follow. :return: whether anything changed.
    :raises ReportError: 409 when either year is final, the corrected item is already recorded or
    the item changed meanwhile (a race the version column catches raises
    :class:`sqlalchemy.orm.exc.StaleDataError` at the flush)."""
    if version is None or version != report.version:
        raise ReportError(stale_message(), status=409)
    refuse_final([report.day.year, values.day.year])
    wanted = {"day": values.day, "unit_id": values.unit.id, "title": values.title, "adopted_by": values.adopted_by}
    changed = {k: v for k, v in wanted.items() if getattr(report, k) != v}
    if not changed:
        return False
    if {"day", "unit_id", "title"} & set(changed):
        existing = _existing(values.unit.id, values.day, values.title)
        if existing is not None and existing.id != report.id:
            raise ReportError(duplicate_message(values.unit, values.day, values.title, existing), status=409)
    before = snapshot(report, AUDITED)
    old = (report.unit_id, report.day)
    for key, value in changed.items():
        setattr(report, key, value)
    try:
        db_session.flush()
    except IntegrityError:  # the same item saved elsewhere at the same moment: the unique key holds
        db_session.rollback()
        unit = db_session.get(OrgUnit, values.unit.id)
        raise ReportError(duplicate_message(unit, values.day, values.title,
                                            _existing(unit.id, values.day, values.title)), status=409) from None
    after = snapshot(report, AUDITED)
    record("gov_info_report.edit", report, before={k: before[k] for k in changed},
           after={k: after[k] for k in changed}, actor=actor)
    refresh_pairs([old, (report.unit_id, report.day)], actor)
    return True


def delete_report(report: InfoReport, version: int | None, actor: str) -> None:
    """Delete an item (``version``: the one the confirmation showed), audited; the year's open
    annual cycles follow. :raises ReportError: 409 when the year is final, or the item changed or
    was deleted meanwhile."""
    if version is None or version != report.version:
        raise ReportError(stale_message(), status=409)
    refuse_final([report.day.year])
    unit_id, day, before = report.unit_id, report.day, snapshot(report, AUDITED)
    record("gov_info_report.delete", report, before=before, actor=actor)
    gone = db_session.execute(delete(InfoReport).where(InfoReport.id == report.id, InfoReport.version == version)
                              .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        raise ReportError(_("The item was changed or deleted by someone else meanwhile; check it again."),
                          status=409)
    db_session.expunge(report)
    derived.refresh_units([unit_id], actor, day=day)


# ----------------------------------------------------------------------------------- the overview

@dataclass
class UnitRow:
    """A unit's line of the year's overview."""

    unit: OrgUnit
    quarters: dict[int, int]
    reported: int
    minimum: int
    shortfall: int
    deduction: Fraction
    due_so_far: int | None  # the pace for the quarterly supervision (the current year only), else None

    @property
    def behind(self) -> bool:
        return self.due_so_far is not None and self.reported < self.due_so_far


def quarter_counts(year: int, units: Iterable[int] | None = None) -> dict[int, dict[int, int]]:
    """Each unit's items of the year per quarter; one grouped query (by unit and month)."""
    month = extract("month", InfoReport.day)
    statement = (select(InfoReport.unit_id, month, func.count())
                 .where(InfoReport.day >= date(year, 1, 1), InfoReport.day < date(year + 1, 1, 1))
                 .group_by(InfoReport.unit_id, month))
    if units is not None:
        statement = statement.where(InfoReport.unit_id.in_(sorted(set(units))))
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, m, n in db_session.execute(statement):
        counts[unit_id][(int(m) - 1) // 3 + 1] += int(n)
    return counts


def elapsed_quarters(year: int) -> int | None:
    """How many quarters of the year have begun (the current year), else None (a past or future year)."""
    now = today()
    return quarter_of(now) if now.year == year else None


def overview(year: int, rules: Rules, scope: set[int] | None = None) -> list[UnitRow]:
    """Per unit (the active villages and departments, and any other unit with items that year):
    items per quarter and in the year, the minimum for its kind, the shortfall and the deduction it
    makes in the annual cycle, and the pace of the quarterly supervision: by the end of the current
    quarter ⌈minimum × quarters begun ÷ 4⌉ (a portal assumption; the source sets only the year's
    minimum). Two queries (the units, the grouped counts)."""
    counts = quarter_counts(year, scope)
    clause = (OrgUnit.active.is_(True) & OrgUnit.kind.in_(UNIT_KINDS))
    if counts:
        clause = clause | OrgUnit.id.in_(sorted(counts))
    statement = select(OrgUnit).where(clause).order_by(OrgUnit.sort_order, OrgUnit.code)
    if scope is not None:
        statement = statement.where(OrgUnit.id.in_(sorted(scope)))
    elapsed = elapsed_quarters(year)
    rows: list[UnitRow] = []
    for unit in db_session.scalars(statement):
        quarters = dict(counts.get(unit.id, {}))
        reported = sum(quarters.values())
        minimum = rules.minimum.get(unit.kind, 0)
        shortfall = max(0, minimum - reported)
        due = math.ceil(minimum * elapsed / 4) if elapsed is not None else None
        rows.append(UnitRow(unit, quarters, reported, minimum, shortfall, shortfall * rules.per_missing, due))
    return rows


def deduction_text(value: Fraction) -> str:
    return text(value)


def year_range() -> tuple[int, int]:
    low, high = db_session.execute(select(func.min(InfoReport.day), func.max(InfoReport.day))).one()
    this = today().year
    return min(this, low.year if low else this), max(this, high.year if high else this)


# ----------------------------------------------------------------------------------- import

@dataclass
class ImportReport:
    """What an import did: the file, the items added, the duplicates skipped (each named)."""

    filename: str
    imported: int = 0
    skipped: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()[:10]
    return str(value).strip()


def read_rows(filename: str, data: bytes) -> list[list[Any]]:
    """The rows of an .xlsx (first sheet) or a .csv (UTF-8, with or without BOM; GB18030 accepted).
    :raises ImportRefused: for another kind of file, an unreadable one or one over the limits."""
    name = (filename or "").lower()
    if len(data) > MAX_BYTES:
        raise ImportRefused([_("%(file)s is too large: at most %(mb)s MB is imported at once.", file=filename,
                               mb=MAX_BYTES // (1024 * 1024))])
    rows: list[list[Any]]
    if name.endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    break
            book.close()
        except Exception:  # noqa: BLE001 - any unreadable workbook is the user's file, not a bug
            raise ImportRefused([_("%(file)s could not be read as an .xlsx workbook; save it again from the "
                                   "spreadsheet program, or upload a .csv.", file=filename)]) from None
    elif name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                decoded = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRefused([_("%(file)s is not UTF-8 or GB18030 text; save it as CSV UTF-8.", file=filename)])
        rows = [list(r) for r in csv.reader(io.StringIO(decoded))]
    else:
        raise ImportRefused([_("%(file)s: upload an .xlsx or .csv file.", file=filename)])
    if len(rows) > MAX_ROWS + 1:
        raise ImportRefused([_("%(file)s has more than %(max)s rows; split it.", file=filename,
                               max=f"{MAX_ROWS:,}")])
    return rows


def _header(row: list[Any]) -> tuple[dict[str, int], list[str]]:
    names = {alias.casefold(): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(row):
        value = _cell_text(cell)
        key = names.get(" ".join(value.split()).casefold())
        if key is not None and key not in found:
            found[key] = index
        elif value:
            ignored.append(value)
    return found, ignored


def column_names() -> dict[str, str]:
    """The import's columns as the template's header names them in the page's language."""
    return dict(zip(COLUMNS, TEMPLATE_HEADERS["zh" if current_locale() == "zh" else "en"]))


def _column_labels(header: list[Any], columns: dict[str, int]) -> dict[str, str]:
    """How a problem names each column: as the template's header does in the page's language, with
    the file's own heading added when it differs (a file headed in the other language)."""
    names = column_names()
    labels = {}
    for key, name in names.items():
        index = columns.get(key)
        heading = " ".join(_cell_text(header[index]).split()) if index is not None else ""
        labels[key] = (name if not heading or heading.casefold() == name.casefold()
                       else _("%(name)s (%(heading)s)", name=name, heading=heading))
    return labels


def import_rows(filename: str, rows: list[list[Any]], actor: str) -> ImportReport:
    """Import the rows (a header row, then date, unit code, title, adopted_by), all or nothing:
    every bad row and column is named and nothing is written; an item already recorded (or repeated
    in the file) is skipped and named. One bulk insert; the open annual cycles of the years follow.
    :raises ImportRefused: with every problem."""
    rows = [r for r in rows if any(_cell_text(c) for c in r)]
    names = column_names()
    if not rows:
        raise ImportRefused([_("%(file)s is empty: the first row names the columns %(columns)s.", file=filename,
                               columns=listing(names.values()))])
    columns, ignored = _header(rows[0])
    lacking = [c for c in REQUIRED_COLUMNS if c not in columns]
    if lacking:
        raise ImportRefused([_("Row 1: the header row lacks the column(s) %(columns)s; the template's columns are "
                               "%(all)s (the last one is optional).", columns=listing(names[c] for c in lacking),
                               all=listing(names.values()))])
    label = _column_labels(rows[0], columns)
    examples = set(EXAMPLE_TITLES.values())

    def problem(number: int, key: str, text: str) -> str:
        return _("Row %(row)s, column %(column)s: %(problem)s", row=number, column=label[key], problem=text)

    units = {u.code: u for u in db_session.scalars(select(OrgUnit))}
    problems: list[str] = []
    checked: list[tuple[int, date, OrgUnit, str, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        def cell(key: str) -> Any:
            index = columns.get(key)
            return row[index] if index is not None and index < len(row) else None

        row_problems = []
        raw_day = cell("date")
        day = None
        try:
            day = parse_day(raw_day.date() if isinstance(raw_day, datetime) else
                            raw_day.isoformat() if isinstance(raw_day, date) else _cell_text(raw_day))
        except ValueError as exc:
            row_problems.append(problem(number, "date", str(exc)))
        code = _cell_text(cell("unit"))
        unit = units.get(code)
        if unit is None or not unit.active or unit.kind not in UNIT_KINDS:
            row_problems.append(problem(number, "unit", _(
                "“%(value)s” is not the code of an active village or department of this township.", value=code[:40])))
        title = clean_title(cell("title"))
        if not title:
            row_problems.append(problem(number, "title", _("required: the title of the item the unit reported.")))
        elif title in examples:
            row_problems.append(problem(number, "title", _(
                "this is the template's example row; delete it, or replace it with an item, before importing.")))
        elif len(title) > TITLE_MAX:
            row_problems.append(problem(number, "title", _("%(n)s characters; at most %(max)s are allowed.",
                                                           n=len(title), max=TITLE_MAX)))
        adopted = clean_title(cell("adopted_by"))
        if len(adopted) > ADOPTED_MAX:
            row_problems.append(problem(number, "adopted_by", _("%(n)s characters; at most %(max)s are allowed.",
                                                                n=len(adopted), max=ADOPTED_MAX)))
        problems.extend(row_problems)
        if not row_problems:
            checked.append((number, day, unit, title, adopted))
    years = sorted({day.year for _n, day, *_rest in checked})
    finals = {}
    for year in years:
        final = final_cycles(annual_cycles(year, lock=True))
        if final:
            finals[year] = final
    for number, day, unit, title, _adopted in checked:
        if day.year in finals:
            problems.append(problem(number, "date", _("%(value)s: %(reason)s", value=day.isoformat(),
                                                      reason=final_message(day.year, finals[day.year]))))
    if problems:
        raise ImportRefused(problems)
    report = ImportReport(filename=filename, ignored_columns=ignored)
    fresh = _without_duplicates(checked, report.skipped)
    tenant_id, stamp = current_tenant_id(db_session), utcnow()  # a Core insert is not stamped by the session
    if fresh:
        try:
            added = db_session.execute(
                insert(InfoReport).returning(InfoReport.id, sort_by_parameter_order=True),
                [dict(tenant_id=tenant_id, day=day, unit_id=unit.id, title=title, adopted_by=adopted,
                      recorded_by=actor, recorded_at=stamp) for _n, day, unit, title, adopted in fresh]).scalars().all()
        except IntegrityError:  # someone recorded some of these items at the same moment
            db_session.rollback()
            raise ImportRefused([_("Some of these items were recorded by someone else at the same moment; nothing "
                                   "was imported. Upload the file again: the items recorded meanwhile are then "
                                   "skipped.")]) from None
        # one audit row per item, as when recorded one by one, in one statement
        ip = request.remote_addr if has_request_context() else None
        db_session.execute(insert(AuditLog), [
            dict(tenant_id=tenant_id, at=stamp, actor=actor, action="gov_info_report.import",
                 object_type="InfoReport", object_id=str(report_id), before=None, ip=ip,
                 after={"day": day.isoformat(), "unit_id": unit.id, "title": title, "adopted_by": adopted,
                        "file": filename})
            for report_id, (_n, day, unit, title, adopted) in zip(added, fresh)])
    report.imported = len(fresh)
    report.years = sorted({day.year for _n, day, *_rest in fresh})
    for year in report.years:  # a report counts in its year's annual cycles: one refresh per year
        unit_ids = sorted({unit.id for _n, day, unit, *_r in fresh if day.year == year})
        derived.refresh_units(unit_ids, actor, day=date(year, 1, 1))
    return report


def _without_duplicates(checked: list[tuple], skipped: list[str]) -> list[tuple]:
    """The rows to insert: those already recorded (one query) or repeating an earlier row are left
    out, each named in ``skipped``."""
    unit_ids = sorted({unit.id for _n, _d, unit, *_r in checked})
    first, last = min(d for _n, d, *_r in checked), max(d for _n, d, *_r in checked)
    existing = {(r.unit_id, r.day, r.title): r for r in db_session.scalars(select(InfoReport).where(
        InfoReport.unit_id.in_(unit_ids), InfoReport.day >= first, InfoReport.day <= last))}
    seen: dict[tuple, int] = {}
    fresh = []
    for row in checked:
        number, day, unit, title, _adopted = row
        key = (unit.id, day, title)
        if key in existing:
            skipped.append(_("Row %(row)s: %(problem)s Skipped.", row=number,
                             problem=duplicate_message(unit, day, title, existing[key])))
        elif key in seen:
            skipped.append(_("Row %(row)s: the same item as row %(first)s (%(unit)s, %(day)s, “%(title)s”); skipped.",
                             row=number, first=seen[key], unit=unit.code, day=day.isoformat(), title=title))
        else:
            seen[key] = number
            fresh.append(row)
    return fresh


def template_rows(locale: str) -> list[list[Any]]:
    """The template's header row in the language, and one example row that says it is one: dated
    today, naming the first village (or department) of the tenant. An import refuses the example
    row if it is left in (its title gives it away)."""
    key = "zh" if locale == "zh" else "en"
    code = db_session.scalar(select(OrgUnit.code).where(OrgUnit.active.is_(True), OrgUnit.kind.in_(UNIT_KINDS))
                             .order_by(OrgUnit.kind.desc(), OrgUnit.sort_order, OrgUnit.code).limit(1)) or "V01"
    return [list(TEMPLATE_HEADERS[key]), [today(), code, EXAMPLE_TITLES[key], EXAMPLE_ADOPTED[key]]]


def template_csv(locale: str) -> str:
    """The import template as CSV: the header row and the example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in template_rows(locale):
        writer.writerow([value.isoformat() if isinstance(value, date) else value for value in row])
    return buffer.getvalue()


def template_xlsx(locale: str) -> bytes:
    """The import template as a workbook: the header row and the example row (its date a date cell)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "信息报送" if locale == "zh" else "reports"
    header, example = template_rows(locale)
    sheet.append(header)
    sheet.append(example)
    sheet["A2"].number_format = "yyyy-mm-dd"
    for column, width in zip("ABCD", (12, 10, 48, 24)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
