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
from datetime import date
from fractions import Fraction
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from core.audit import record, snapshot
from core.db import db_session
from core.models import Cycle, OrgUnit
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
        raise ValueError(_("“%(value)s” is not an active village or department of this organisation; choose one "
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
    from plugins.gov_public_evaluation.web import cycle_state_name

    return ", ".join(_("%(name)s (%(period)s, %(state)s)", name=c.name, period=c.period,
                       state=cycle_state_name(c.state)) for c in cycles)


def final_message(day: date, cycles: list[Cycle]) -> str:
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


def _refresh(pairs: Iterable[tuple[int, date]], actor: str) -> None:
    """The open cycles covering each date follow the records of the units."""
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
    _refresh([(finding.unit_id, finding.day)], actor)
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
    _refresh([old, (finding.unit_id, finding.day)], actor)
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
    _refresh([(unit_id, day)], actor)


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
