"""Inspection findings (察访核验): recording, correcting and deleting the findings of unannounced
visits (明察暗访), and reading them back per unit, quarter and year.

A finding is dated (today or earlier), names one unit (a village or a department: the units the
scheme scores), the item found lacking (window service efficiency, work style, ...), the points it
deducts and the evidence. Deductions only (倒扣分): the points are an exact decimal above 0 and at
most :data:`MAX_POINTS`, with at most two decimals; there is no bonus and no negative deduction.

A cycle counts the findings dated within its period (:func:`plugins.gov_public_evaluation.derived.findings`),
refreshed in the same transaction as every change. A finding is *final* when every cycle of the
scheme covering its date (the year's annual cycle, the quarter's cycle) is published or closed: it
can then no longer be added, changed or deleted (a correction goes through an appeal). While one
covering cycle is still open (a quarter published, the year not yet), the finding may be corrected:
the change reaches the open cycle only.

Inspection rounds: the source asks for inspections at least twice a year. A round is counted as a
calendar month with at least one finding (a round visits many units over a few days; counting dates
would count one round several times). A round that found nothing leaves no record and is not counted.

Every change is audited. Nothing here commits.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from core.audit import record, snapshot
from core.db import db_session
from core.i18n import current_locale
from core.models import AuditLog, Cycle, OrgUnit
from core.scoring.numbers import NumberError, exact, exact_sum, text
from plugins.gov_public_evaluation import derived
from plugins.gov_public_evaluation.inspections.models import InspectionFinding

SCHEME_ID = derived.SCHEME_ID
FINAL_STATES = ("published", "closed")
UNIT_KINDS = ("village", "department")  # the units the scheme scores
MAX_POINTS = Fraction(100)
MAX_PLACES = 2
ITEM_MAX = 200
EVIDENCE_MAX = 4000
FIRST_YEAR, LAST_YEAR = 2000, 2100
MIN_ROUNDS = 2
AUDITED = ("day", "unit_id", "item", "points", "evidence")

# Suggestions for the item (the form's list; any other text is allowed).
ITEM_SUGGESTIONS = ("窗口服务效率", "工作作风", "工作纪律", "在岗在位", "服务态度", "办事效率", "首问负责制落实",
                    "政务公开", "群众反映问题办理", "环境卫生")


class FindingError(ValueError):
    """A change that is refused: ``errors`` maps form fields to their message; ``status`` is 422 for
    a bad input, 409 for a final date or a finding changed meanwhile."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


# ----------------------------------------------------------------------------------- small values

def today() -> date:
    """The server's today (a function, so that tests can fix it)."""
    return date.today()


def as_id(raw: Any) -> int | None:
    """An id or version from a form or query: ASCII digits that fit a database integer, else None."""
    value = str(raw or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def valid_year(raw: Any) -> int | None:
    """A year (2000–2100) from a query, else None."""
    value = str(raw or "").strip()
    if value.isascii() and value.isdigit() and len(value) == 4 and FIRST_YEAR <= int(value) <= LAST_YEAR:
        return int(value)
    return None


def valid_quarter(raw: Any) -> int | None:
    value = str(raw or "").strip()
    return int(value) if value in ("1", "2", "3", "4") else None


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def listing(terms: Iterable[str]) -> str:
    """Terms listed in the page's language: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if current_locale() == "zh" else ", ").join(terms)


def quarter_name(quarter: int) -> str:
    """A quarter as the product names it: 第一季度 … 第四季度 (English: Q1 … Q4)."""
    return {1: _("Q1"), 2: _("Q2"), 3: _("Q3"), 4: _("Q4")}[quarter]


def quarter_of_year(year: int, quarter: int) -> str:
    """A quarter of a year: 2026 年第一季度 (English: Q1 2026)."""
    return {1: _("Q1 %(year)s", year=year), 2: _("Q2 %(year)s", year=year), 3: _("Q3 %(year)s", year=year),
            4: _("Q4 %(year)s", year=year)}[quarter]


def period_name(period: str) -> str:
    """A cycle's period as a reader names it: 2026年度, 2026 年第一季度 (English: Year 2026, Q1 2026)."""
    match = re.fullmatch(r"(\d{4})-Q([1-4])", period or "")
    if match:
        return quarter_of_year(int(match[1]), int(match[2]))
    if re.fullmatch(r"\d{4}", period or ""):
        return _("Year %(year)s", year=period)
    return period


def month_list(months: Iterable[int]) -> str:
    """Months as a reader names them: 4月、9月 (English: April, September); "—" for none."""
    from babel.dates import get_month_names

    locale = current_locale()
    names = get_month_names("abbreviated" if locale == "zh" else "wide", locale=locale)
    return listing(names[m] for m in months) or "—"


def quarter_bounds(year: int, quarter: int | None) -> tuple[date, date]:
    """The first day of the year (or quarter) and the first day after it."""
    return derived.period_bounds(f"{year}-Q{quarter}" if quarter else str(year))


def points_text(value: Fraction | str) -> str:
    return text(exact(value))


def parse_day(raw: Any) -> date:
    """A date written YYYY-MM-DD, today or earlier. :raises ValueError: with the message."""
    value = str(raw or "").strip()
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    try:
        if match is None:
            raise ValueError
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(_("“%(value)s” is not a date; write it as YYYY-MM-DD, e.g. 2026-05-12.",
                           value=value[:40])) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(_("%(value)s is out of range; dates from %(first)s to %(last)s are allowed.",
                           value=day.isoformat(), first=FIRST_YEAR, last=LAST_YEAR))
    now = today()
    if day > now:
        raise ValueError(_("%(value)s is after today (%(today)s); a record is dated today or earlier.",
                           value=day.isoformat(), today=now.isoformat()))
    return day


def parse_points(raw: Any) -> Fraction:
    """The points a finding deducts: an exact decimal above 0, at most 100, at most two decimals.
    :raises ValueError: with the message (the value and what is allowed)."""
    value = str(raw or "").strip()
    allowed = _("allowed: a deduction above 0 and at most %(max)s, with at most %(places)s decimals (e.g. 0.5, 2); "
                "findings only deduct points (倒扣分), enter the deduction without a sign.",
                max=text(MAX_POINTS), places=MAX_PLACES)
    if not value:
        raise ValueError(_("enter the points deducted; %(allowed)s", allowed=allowed))
    try:
        number = exact(value)
    except NumberError:
        raise ValueError(_("“%(value)s” is not a number; %(allowed)s", value=value[:40], allowed=allowed)) from None
    if number < 0 or value.startswith(("-", "+")):
        raise ValueError(_("“%(value)s” has a sign: a finding only deducts points (倒扣分), there is no bonus; "
                           "%(allowed)s", value=value[:40], allowed=allowed))
    if number == 0:
        raise ValueError(_("“%(value)s” deducts nothing; %(allowed)s", value=value[:40], allowed=allowed))
    if number > MAX_POINTS:
        raise ValueError(_("“%(value)s” is more than %(max)s; %(allowed)s", value=value[:40], max=text(MAX_POINTS),
                           allowed=allowed))
    if (number * 10 ** MAX_PLACES).denominator != 1:
        raise ValueError(_("“%(value)s” has more than %(places)s decimals; %(allowed)s", value=value[:40],
                           places=MAX_PLACES, allowed=allowed))
    return number


def clean_text(raw: Any) -> str:
    """Spacing tidied: runs of spaces and tabs as one space, lines kept."""
    lines = [" ".join(line.split()) for line in str(raw or "").replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


# ----------------------------------------------------------------------------------- units

def unit_choices(include: Iterable[int] = ()) -> list[OrgUnit]:
    """The units a finding or a report may name: the active villages and departments (and the units
    of ``include``, a record's current unit even if it is no longer active), in the org's order."""
    include = sorted(set(i for i in include if i is not None))
    clause = (OrgUnit.active.is_(True) & OrgUnit.kind.in_(UNIT_KINDS))
    if include:
        clause = clause | OrgUnit.id.in_(include)
    return list(db_session.scalars(select(OrgUnit).where(clause).order_by(OrgUnit.sort_order, OrgUnit.code)))


def units_by_id(ids: Iterable[int]) -> dict[int, OrgUnit]:
    ids = sorted(set(i for i in ids if i is not None))
    if not ids:
        return {}
    return {u.id: u for u in db_session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}


def unit_label(unit: OrgUnit | None) -> str:
    return f"{unit.name} ({unit.code})" if unit is not None else "—"


def kind_label(kind: str) -> str:
    return {"village": _("Village"), "department": _("Department")}.get(kind, kind)


def parse_unit(raw: Any, include: Iterable[int] = ()) -> OrgUnit:
    """A village or department of the tenant from its id (the form) or its code (an import).
    :raises ValueError: with the message."""
    value = str(raw or "").strip()
    if not value:
        raise ValueError(_("choose the village or department."))
    include = set(include)
    unit = None
    unit_id = as_id(value)
    if unit_id is not None:
        unit = db_session.get(OrgUnit, unit_id)
    if unit is None:
        unit = db_session.scalar(select(OrgUnit).where(OrgUnit.code == value))
    if unit is None or unit.id not in include and (not unit.active or unit.kind not in UNIT_KINDS):
        raise ValueError(_("“%(value)s” is not an active village or department of this township; choose one "
                           "of the list.", value=value[:40]))
    return unit


# ----------------------------------------------------------------------------------- final dates

def covering_periods(day: date) -> tuple[str, str]:
    """The periods of the scheme that contain the day: its year and its quarter."""
    return str(day.year), f"{day.year}-Q{quarter_of(day)}"


def _cycles_of(periods: Iterable[str], lock: bool = False) -> list[Cycle]:
    statement = (select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.period.in_(sorted(set(periods))))
                 .order_by(Cycle.id))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(db_session.scalars(statement))


@dataclass
class DayStatus:
    """What the cycles covering a date say about its records: ``final`` (every covering cycle is
    published or closed: the cycles, else empty), ``published`` (the covering cycles published or
    closed) and ``following`` (those still following the records)."""

    final: list[Cycle]
    published: list[Cycle]
    following: list[Cycle]


def status_of(day: date, cycles: Iterable[Cycle], periods: Iterable[str] | None = None) -> DayStatus:
    """The status of ``day`` among ``cycles`` (only those of ``periods`` count when given: the
    information reports count in annual cycles only)."""
    wanted = set(periods if periods is not None else covering_periods(day))
    covering = [c for c in cycles if c.period in wanted]
    published = [c for c in covering if c.state in FINAL_STATES]
    following = [c for c in covering if c.state not in FINAL_STATES]
    return DayStatus(final=published if covering and not following else [], published=published,
                     following=following)


def year_cycles(year: int) -> list[Cycle]:
    """The scheme's cycles of the year and its quarters; one query."""
    return _cycles_of([str(year)] + [f"{year}-Q{q}" for q in range(1, 5)])


def cycle_names(cycles: Iterable[Cycle]) -> str:
    """Cycles as a message names them: name (period, state), listed in the page's language."""
    from plugins.gov_public_evaluation.web import cycle_state_name

    return listing(_("%(name)s (%(period)s, %(state)s)", name=c.name, period=period_name(c.period),
                     state=cycle_state_name(c.state)) for c in cycles)


def final_message(day: date, cycles: list[Cycle], office: bool = True) -> str:
    """Why the findings of ``day`` no longer change; what to do instead only for the office
    (``office``), who records them: read-only viewers get the fact alone."""
    if not office:
        return _("The findings dated %(day)s are final: every cycle covering that date is published or closed "
                 "(%(cycles)s).", day=day.isoformat(), cycles=cycle_names(cycles))
    return _("The findings dated %(day)s are final: every cycle covering that date is published or closed "
             "(%(cycles)s). They can no longer be added, changed or deleted; a correction goes through an appeal "
             "against the result.", day=day.isoformat(), cycles=cycle_names(cycles))


def refuse_final(days: Iterable[date]) -> None:
    """:raises FindingError: (409) when a date's covering cycles are all published or closed. The
    cycles are locked until the transaction ends (PostgreSQL; SQLite writes one at a time), so a
    publication, which locks its cycle row too, cannot slip between this check and the change."""
    days = sorted(set(days))
    cycles = _cycles_of([p for d in days for p in covering_periods(d)], lock=True)
    for day in days:
        status = status_of(day, cycles)
        if status.final:
            raise FindingError(final_message(day, status.final), status=409)


# ----------------------------------------------------------------------------------- one finding

@dataclass
class FindingForm:
    """The form's values once checked."""

    day: date
    unit: OrgUnit
    item: str
    points: Fraction
    evidence: str


def check_form(form: Mapping[str, Any], include_unit: int | None = None) -> FindingForm:
    """The form's fields, each checked: :raises FindingError: (422) with one message per field."""
    errors: dict[str, str] = {}
    day = unit = points = None
    try:
        day = parse_day(form.get("day"))
    except ValueError as exc:
        errors["day"] = _("Date: %(problem)s", problem=str(exc))
    try:
        unit = parse_unit(form.get("unit_id"), [include_unit] if include_unit else [])
    except ValueError as exc:
        errors["unit_id"] = _("Unit: %(problem)s", problem=str(exc))
    item = " ".join(str(form.get("item") or "").split())
    if not item:
        errors["item"] = _("Item: name what was found lacking (e.g. 窗口服务效率, 工作作风).")
    elif len(item) > ITEM_MAX:
        errors["item"] = _("Item: %(n)s characters; at most %(max)s are allowed.", n=len(item), max=ITEM_MAX)
    try:
        points = parse_points(form.get("points"))
    except ValueError as exc:
        errors["points"] = _("Deduction: %(problem)s", problem=str(exc))
    evidence = clean_text(form.get("evidence"))
    if not evidence:
        errors["evidence"] = _("Evidence: required; describe what was found, where, and the photo or document "
                               "that shows it.")
    elif len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = _("Evidence: %(n)s characters; at most %(max)s are allowed.", n=len(evidence),
                               max=EVIDENCE_MAX)
    if errors:
        raise FindingError(_("The finding is not saved: correct the fields marked below."), errors)
    return FindingForm(day, unit, item, points, evidence)


def describe(finding: InspectionFinding, unit: OrgUnit | None = None) -> str:
    """A finding as a confirmation names it: the date, the unit, the item and the deduction."""
    unit = unit if unit is not None else db_session.get(OrgUnit, finding.unit_id)
    return _("%(day)s, %(unit)s, %(item)s: −%(points)s", day=finding.day.isoformat(), unit=unit_label(unit),
             item=finding.item, points=points_text(finding.points))


def refresh_pairs(pairs: Iterable[tuple[int, date]], actor: str) -> None:
    """The open cycles covering each date follow the records of the units (one refresh per date,
    for all the units: the old and the new unit and date of a corrected record)."""
    by_day: dict[date, set[int]] = defaultdict(set)
    for unit_id, day in pairs:
        by_day[day].add(unit_id)
    units = sorted(set().union(*by_day.values())) if by_day else []
    for day in sorted(by_day):
        derived.refresh_units(units, actor, day=day)


def add_finding(values: FindingForm, actor: str) -> InspectionFinding:
    """Record a finding, audited; the open cycles covering its date follow.
    :raises FindingError: 409 when its date is final."""
    refuse_final([values.day])
    finding = InspectionFinding(day=values.day, unit_id=values.unit.id, item=values.item,
                                points=points_text(values.points), evidence=values.evidence, recorded_by=actor)
    db_session.add(finding)
    db_session.flush()
    record("gov_inspection.add", finding, after=snapshot(finding, AUDITED), actor=actor)
    refresh_pairs([(finding.unit_id, finding.day)], actor)
    return finding


def record_finding(form: Mapping[str, Any], actor: str) -> InspectionFinding:
    """What the page does with a form (day, unit_id, item, points, evidence), for commands and the
    demo: :func:`check_form` then :func:`add_finding`. :raises FindingError: as they do."""
    return add_finding(check_form(form), actor)


def stale_message() -> str:
    return _("The finding was changed by someone else since this page was loaded; your entries are kept below: "
             "check the finding as it is now, then save again.")


def update_finding(finding: InspectionFinding, values: FindingForm, version: int | None, actor: str) -> bool:
    """Correct a finding (optimistic locking: ``version`` is the one the form was built from), audited;
    the open cycles covering the old and the new date follow. :return: whether anything changed.
    :raises FindingError: 409 when either date is final or the finding changed meanwhile (a race
    the version column catches raises :class:`sqlalchemy.orm.exc.StaleDataError` at the flush)."""
    if version is None or version != finding.version:
        raise FindingError(stale_message(), status=409)
    refuse_final([finding.day, values.day])
    wanted = {"day": values.day, "unit_id": values.unit.id, "item": values.item,
              "points": points_text(values.points), "evidence": values.evidence}
    changed = {k: v for k, v in wanted.items() if getattr(finding, k) != v}
    if not changed:
        return False
    before = snapshot(finding, AUDITED)
    old = (finding.unit_id, finding.day)
    for key, value in changed.items():
        setattr(finding, key, value)
    db_session.flush()
    after = snapshot(finding, AUDITED)
    record("gov_inspection.edit", finding, before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
           actor=actor)
    refresh_pairs([old, (finding.unit_id, finding.day)], actor)
    return True


def delete_finding(finding: InspectionFinding, version: int | None, actor: str) -> None:
    """Delete a finding (``version``: the one the confirmation showed), audited; the open cycles
    covering its date follow. :raises FindingError: 409 when its date is final, or it changed or
    was deleted meanwhile."""
    if version is None or version != finding.version:
        raise FindingError(stale_message(), status=409)
    refuse_final([finding.day])
    unit_id, day, before = finding.unit_id, finding.day, snapshot(finding, AUDITED)
    record("gov_inspection.delete", finding, before=before, actor=actor)
    gone = db_session.execute(delete(InspectionFinding).where(InspectionFinding.id == finding.id,
                                                              InspectionFinding.version == version)
                              .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        raise FindingError(_("The finding was changed or deleted by someone else meanwhile; check it again."),
                           status=409)
    db_session.expunge(finding)
    refresh_pairs([(unit_id, day)], actor)


# ----------------------------------------------------------------------------------- reading

@dataclass
class UnitYear:
    """A unit's findings of a year: how many, the deduction per quarter and in total."""

    unit_id: int
    findings: int = 0
    total: Fraction = Fraction(0)
    quarters: dict[int, Fraction] | None = None


def year_by_unit(year: int, units: Iterable[int] | None = None) -> dict[int, UnitYear]:
    """Each unit's findings of the year, with exact deduction totals per quarter and for the year;
    one query (the points are exact decimal text: summed here, never as floats)."""
    first, following = quarter_bounds(year, None)
    statement = (select(InspectionFinding.unit_id, InspectionFinding.day, InspectionFinding.points)
                 .where(InspectionFinding.day >= first, InspectionFinding.day < following))
    if units is not None:
        statement = statement.where(InspectionFinding.unit_id.in_(sorted(set(units))))
    points: dict[int, dict[int, list[Fraction]]] = defaultdict(lambda: defaultdict(list))
    for unit_id, day, value in db_session.execute(statement):
        points[unit_id][quarter_of(day)].append(exact(value))
    summary: dict[int, UnitYear] = {}
    for unit_id, by_quarter in points.items():
        quarters = {q: exact_sum(values) for q, values in by_quarter.items()}
        summary[unit_id] = UnitYear(unit_id, sum(len(v) for v in by_quarter.values()),
                                    exact_sum(list(quarters.values())), quarters)
    return summary


def rounds(year: int) -> list[int]:
    """The months of the year with at least one finding (each counted as an inspection round), in
    order; one query over the distinct dates (a year has at most 366)."""
    first, following = quarter_bounds(year, None)
    days = db_session.scalars(select(InspectionFinding.day).where(InspectionFinding.day >= first,
                                                                  InspectionFinding.day < following).distinct())
    return sorted({d.month for d in days})


def year_range() -> tuple[int, int]:
    """The years to offer: from the first finding's (or this year) to this year (or the last finding's)."""
    low, high = db_session.execute(select(func.min(InspectionFinding.day), func.max(InspectionFinding.day))).one()
    this = today().year
    return min(this, low.year if low else this), max(this, high.year if high else this)


# ----------------------------------------------------------------------------------- change log

@dataclass
class Change:
    """One field of an audited change: its name, and its value before and after, as a reader reads
    them (None: no such side, e.g. a record's first entry has no "before")."""

    label: str
    before: str | None
    after: str | None


@dataclass
class LogEntry:
    """One audited change as a page shows it: when, who (the account's name), what (in words) and
    the fields with their values."""

    at: datetime
    who: str
    what: str
    changes: list[Change]


def field_labels() -> dict[str, str]:
    """The audited fields of findings and information reports, named as their forms name them."""
    return {"day": _("Date"), "unit_id": _("Unit"), "item": _("Item"), "points": _("Points deducted"),
            "evidence": _("Evidence of the finding"), "title": _("Title of the item"),
            "adopted_by": _("Taken up by"), "file": _("Imported from")}


def action_names() -> dict[str, str]:
    """What an audited action did, in words (记录/修改/删除)."""
    return {"gov_inspection.add": _("Record added"), "gov_inspection.edit": _("Record changed"),
            "gov_inspection.delete": _("Record deleted"), "gov_info_report.add": _("Record added"),
            "gov_info_report.edit": _("Record changed"), "gov_info_report.delete": _("Record deleted"),
            "gov_info_report.import": _("Record imported")}


def change_log(entries: list[AuditLog]) -> list[LogEntry]:
    """Audit rows of a finding or an item as the page shows them: the account's name (not its
    ``user:`` key), the action in words, and each changed field by its name, with units named (not
    their ids) and deductions as written. One query for the units of all the entries."""
    from core.web import actor_name

    labels, actions = field_labels(), action_names()
    ids = set()
    for entry in entries:
        for side in (entry.before or {}, entry.after or {}):
            value = side.get("unit_id")
            if isinstance(value, int):
                ids.add(value)
    units = units_by_id(ids)

    def shown(key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if key == "unit_id":
            return unit_label(units.get(value)) if value in units else str(value)
        if key == "points":
            try:
                return "−" + points_text(str(value))
            except NumberError:
                return str(value)
        return str(value)

    rows = []
    for entry in entries:
        before, after = entry.before or {}, entry.after or {}
        if before and after:
            keys = [k for k in labels if (k in before or k in after) and before.get(k) != after.get(k)]
        else:
            keys = [k for k in labels if k in (after or before)]
        changes = [Change(labels[k], shown(k, before.get(k)) if before else None,
                          shown(k, after.get(k)) if after else None) for k in keys]
        rows.append(LogEntry(entry.at, actor_name(entry.actor), actions.get(entry.action, entry.action), changes))
    return rows
