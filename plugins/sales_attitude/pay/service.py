"""Pay bases and coefficients (绩效工资基数、系数) of the sales staff, and a month's payroll.

HR's alone (schemes.md §2). A person's pay record holds the base (above 0, at most 10,000,000, at
most 2 decimals) and the coefficient (above 0, at most 10, at most 3 decimals) as normalised exact
decimal text (``"6500.00"``, ``"1.2"``). After a change the person's inputs follow in the cycles not
yet published (:func:`plugins.sales_attitude.derived.refresh_people`); a published month keeps the
pay it was computed with.

The payroll of a computed month lists every person assessed with the pay the engine computed
(``extra["pay"]``: base × coefficient × the rounded total / 100, × the training factor while in
training, half up to the cent); excluded people (``excluded:<status>``) and people without a pay
record get no pay, with the reason.

Works in the caller's transaction and never commits; a few queries whatever the number of people.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import record
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, Person
from core.org.forms import STATUS_LABELS
from core.scoring.numbers import NumberError, exact, text
from plugins.sales_attitude import derived
from plugins.sales_attitude.pay.models import PayRecord
from plugins.sales_attitude.scoring import STAFF_CLASSES

MAX_BASE = Fraction(10_000_000)
MAX_COEFFICIENT = Fraction(10)
AUDITED = ("base", "coefficient")


class PayError(ValueError):
    """Pay that cannot be saved; ``errors`` by field (``base``, ``coefficient``), each message naming
    the field, the value and what is allowed."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class StalePay(PayError):
    """The pay record was changed by someone else since the form was shown."""


# ----------------------------------------------------------------------------------- values

def _number(value: Any) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return exact(value.strip() if isinstance(value, str) else value)
    except NumberError:
        return None


def parse_base(value: Any, where: str | None = None) -> str:
    """A pay base as written: above 0, at most 10,000,000, at most 2 decimals; as text with 2 decimals."""
    number = _number(value)
    if number is None or number <= 0 or number > MAX_BASE or (number * 100).denominator != 1:
        raise PayError(_("%(field)s: %(value)s is not allowed; allowed: an amount above 0 and at most 10000000 with at "
                         "most 2 decimals, such as 6500 or 6500.50.", field=where or _("Pay base"),
                         value=repr("" if value is None else str(value).strip())))
    return f"{Decimal(number.numerator) / Decimal(number.denominator):.2f}"


def parse_coefficient(value: Any, where: str | None = None) -> str:
    """A pay coefficient as written: above 0, at most 10, at most 3 decimals; as its shortest text."""
    number = _number(value)
    if number is None or number <= 0 or number > MAX_COEFFICIENT or (number * 1000).denominator != 1:
        raise PayError(_("%(field)s: %(value)s is not allowed; allowed: a number above 0 and at most 10 with at most "
                         "3 decimals, such as 1 or 1.125.", field=where or _("Pay coefficient"),
                         value=repr("" if value is None else str(value).strip())))
    return text(number, 3)


# ----------------------------------------------------------------------------------- the sales staff

def is_sales_staff(person: Person | None) -> bool:
    """The people pay is kept for: active, with a staff class of the scheme."""
    return person is not None and person.active and person.staff_class in STAFF_CLASSES


def staff_statement(unit_id: int | None = None, q: str = "", missing: bool = False):
    """The sales staff (with their pay record, if any), by number; filters: a unit, a search on
    number or name, only those without pay."""
    statement = (select(Person).outerjoin(PayRecord, PayRecord.person_id == Person.id)
                 .where(Person.active.is_(True), Person.staff_class.in_(STAFF_CLASSES)))
    if unit_id is not None:
        statement = statement.where(Person.unit_id == unit_id)
    if q:
        statement = statement.where(Person.number.icontains(q, autoescape=True) | Person.name.icontains(q, autoescape=True))
    if missing:
        statement = statement.where(PayRecord.id.is_(None))
    return statement.order_by(Person.number)


def records(person_ids: list[int] | None = None) -> dict[int, PayRecord]:
    """Pay records by person id: one query."""
    statement = select(PayRecord)
    if person_ids is not None:
        if not person_ids:
            return {}
        statement = statement.where(PayRecord.person_id.in_(person_ids))
    return {r.person_id: r for r in db_session.scalars(statement)}


def counts() -> tuple[int, int]:
    """(sales staff, of whom without a pay record)."""
    staff = db_session.scalar(select(func.count()).select_from(staff_statement().order_by(None).subquery())) or 0
    missing = db_session.scalar(select(func.count()).select_from(staff_statement(missing=True).order_by(None).subquery())) or 0
    return staff, missing


# ----------------------------------------------------------------------------------- changes

def set_pay(person: Person, base: Any, coefficient: Any, version: int | None, actor: str) -> PayRecord:
    """Set a person's pay base and coefficient, if nobody changed them since ``version`` (None: the
    form saw no record). Audited; the person's inputs follow in the cycles not yet published.
    :raises PayError: a bad value (every field's problem); :raises StalePay: a stale version."""
    row = db_session.scalar(select(PayRecord).where(PayRecord.person_id == person.id))
    if (row.version if row else None) != version:
        raise StalePay(_("The pay of %(name)s was changed by someone else; reload the page to see it.", name=person.name))
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, parse, label in (("base", parse_base, _("Pay base")), ("coefficient", parse_coefficient, _("Pay coefficient"))):
        try:
            values[name] = parse(base if name == "base" else coefficient, label)
        except PayError as exc:
            errors[name] = str(exc)
    if errors:
        raise PayError(" ".join(errors.values()), errors)
    before = {k: getattr(row, k) for k in AUDITED} if row else {k: None for k in AUDITED}
    if row is not None and all(getattr(row, k) == values[k] for k in AUDITED):
        return row
    if row is None:
        row = PayRecord(person_id=person.id, updated_by=actor, **values)
        db_session.add(row)
    else:
        row.base, row.coefficient, row.updated_by = values["base"], values["coefficient"], actor
    db_session.flush()  # a stale row raises StaleDataError here, a concurrent insert IntegrityError
    record("sales.pay", row, before=before, after={**values, "person": person.number}, actor=actor)
    derived.refresh_people([person.id], actor)
    return row


def remove_pay(person: Person, version: int | None, actor: str) -> None:
    """Remove a person's pay record (they get no pay until HR sets it again). Audited."""
    row = db_session.scalar(select(PayRecord).where(PayRecord.person_id == person.id))
    if row is None or row.version != version:
        raise StalePay(_("The pay of %(name)s was changed by someone else; reload the page to see it.", name=person.name))
    record("sales.pay", row, before={k: getattr(row, k) for k in AUDITED},
           after={"base": None, "coefficient": None, "person": person.number}, actor=actor)
    db_session.delete(row)
    db_session.flush()
    derived.refresh_people([person.id], actor)


# ----------------------------------------------------------------------------------- import

IMPORT_COLUMNS = ("number", "name", "unit", "base", "coefficient", "version")
READABLE = ("工号", "姓名", "单位", "绩效工资基数", "绩效工资系数", "版本")
ALIASES = {**{c: c for c in IMPORT_COLUMNS}, **dict(zip(READABLE, IMPORT_COLUMNS)), "部门": "unit", "绩效系数": "coefficient"}


def template_rows() -> list[list[Any]]:
    """One row per sales staff member, the current base and coefficient filled in, and the version
    of the pay record they were read from (empty: no record yet), which the import checks."""
    people = list(db_session.scalars(staff_statement()))
    known = records()
    units = dict(db_session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    rows = []
    for p in people:
        row = known.get(p.id)
        rows.append([p.number, p.name, units.get(p.unit_id, ""), row.base if row else "", row.coefficient if row else "",
                     row.version if row else ""])
    return rows


def _version_problem(number: int, code: str, given: str, current: PayRecord | None) -> str | None:
    """A row's ``version`` against the record's current one (optimistic locking of the import): the
    problem, or None. A person with a record needs its current version; one without, none."""
    if current is None:
        if not given:
            return None
        return _("Row %(row)s, column version: %(value)s, but %(number)s has no pay record now (it may have been "
                 "removed by someone else since the template was downloaded); allowed: empty. Download the template "
                 "again.",
                 row=number, value=repr(given[:20]), number=code)
    if given == str(current.version):
        return None
    if not given:
        return _("Row %(row)s, column version: empty, but %(number)s has a pay record: without the version of the "
                 "template its pay may have been changed by someone else since the template was downloaded; allowed: "
                 "%(current)s (the current version). Download the template again.", row=number, number=code,
                 current=current.version)
    return _("Row %(row)s, column version: %(value)s is not the current version of the pay of %(number)s: it was "
             "changed by someone else since the template was downloaded; allowed: %(current)s. Download the template "
             "again.", row=number, value=repr(given[:20]), number=code, current=current.version)


def import_pay(rows: list[list[Any]], actor: str, own_person_id: int | None = None) -> int:
    """Pay from an uploaded sheet: a header row (``number``/工号 and at least one of ``base``/
    绩效工资基数 and ``coefficient``/绩效工资系数; ``version``/版本 as the template gives it; ``name``,
    ``unit`` ignored), one row per person. Every row is checked first; any problem and nothing is
    written (each named by row and column). An empty cell keeps that value as it is. A row that sets
    pay for a person with a pay record must carry that record's current version (the template's):
    a sheet older than someone else's change is refused instead of silently undoing it; a person
    without a record needs none. :return: the records changed."""
    from core.cycles.bulk import ImportError_, _text

    if not rows:
        raise ImportError_([_("The file is empty.")])
    header = [ALIASES.get(_text(h), _text(h)) for h in rows[0]]
    problems = []
    unknown = [_text(raw) for raw, h in zip(rows[0], header) if h and h not in IMPORT_COLUMNS]
    if unknown:
        problems.append(_("Row 1: unknown column(s) %(cols)s; allowed: %(allowed)s.", cols=", ".join(unknown),
                          allowed=", ".join(f"{c} ({r})" for c, r in zip(IMPORT_COLUMNS, READABLE))))
    if "number" not in header:
        problems.append(_("Row 1: the column %(col)s is missing.", col="number (工号)"))
    if "base" not in header and "coefficient" not in header:
        problems.append(_("Row 1: the columns base (绩效工资基数) and coefficient (绩效工资系数) are both missing."))
    if problems:
        raise ImportError_(problems)
    people = {p.number: p for p in db_session.scalars(select(Person).where(Person.active.is_(True)))}
    known = records()
    wanted: dict[int, tuple[Person, dict[str, str]]] = {}
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {h: _text(v) for h, v in zip(header, row) if h}
        code = values.get("number", "")
        if not any(values.values()) or ALIASES.get(code) == "number":  # blank, or the readable header row
            continue
        person = people.get(code)
        if not is_sales_staff(person):
            problems.append(_("Row %(row)s, column number: %(value)s is not a sales staff member (an active person "
                              "with a staff class of the scheme).", row=number, value=code or "—"))
            continue
        if code in seen:
            problems.append(_("Row %(row)s, column number: %(value)s already appears in row %(first)s.",
                              row=number, value=code, first=seen[code]))
            continue
        seen[code] = number
        base, coefficient = values.get("base", ""), values.get("coefficient", "")
        if not base and not coefficient:
            continue
        if person.id == own_person_id:
            problems.append(_("Row %(row)s, column number: %(value)s is your own record; another HR administrator "
                              "sets your pay.", row=number, value=code))
            continue
        current = known.get(person.id)
        stale = _version_problem(number, code, values.get("version", ""), current)
        if stale is not None:
            problems.append(stale)
            continue
        parsed: dict[str, str] = {}
        for column, given, parse in (("base", base, parse_base), ("coefficient", coefficient, parse_coefficient)):
            if not given:
                if current is None:
                    problems.append(_("Row %(row)s, column %(col)s: empty, but %(value)s has no pay yet; give both "
                                      "the base and the coefficient.", row=number, col=column, value=code))
                else:
                    parsed[column] = getattr(current, column)
                continue
            try:
                parsed[column] = parse(given, _("Row %(row)s, column %(col)s", row=number, col=column))
            except PayError as exc:
                problems.append(str(exc))
        if len(parsed) == 2:
            wanted[person.id] = (person, parsed)
    if problems:
        raise ImportError_(problems)
    changes = []
    for person_id, (person, values) in wanted.items():
        row = known.get(person_id)
        if row is None:
            row = PayRecord(person_id=person_id, updated_by=actor, **values)
            db_session.add(row)
            changes.append((row, person, {k: None for k in AUDITED}))
        elif any(getattr(row, k) != values[k] for k in AUDITED):
            changes.append((row, person, {k: getattr(row, k) for k in AUDITED}))
            row.base, row.coefficient, row.updated_by = values["base"], values["coefficient"], actor
    db_session.flush()  # new rows learn their ids; a row changed meanwhile raises StaleDataError
    for row, person, before in changes:
        record("sales.pay", row, before=before, after={"base": row.base, "coefficient": row.coefficient,
                                                       "person": person.number}, actor=actor)
    if changes:
        derived.refresh_people([person.id for _row, person, _before in changes], actor)
    return len(changes)


# ----------------------------------------------------------------------------------- payroll

def payroll_years() -> list[str]:
    """The years with a monthly sales cycle, newest first: one query."""
    periods = db_session.scalars(select(Cycle.period).where(Cycle.scheme_id == derived.SCHEME_ID,
                                                            func.length(Cycle.period) == 7).distinct())
    return sorted({p[:4] for p in periods}, reverse=True)


def payroll_months(year: str) -> list[Cycle]:
    """The monthly sales cycles of ``year``, newest month first (each with a payroll once computed)."""
    return list(db_session.scalars(select(Cycle).where(
        Cycle.scheme_id == derived.SCHEME_ID, func.length(Cycle.period) == 7, Cycle.period.like(f"{year}-%"))
        .order_by(Cycle.period.desc(), Cycle.id.desc())))


def class_label(staff_class: str | None) -> str:
    """A staff class as the scheme names it in the current language (销售主管 / 销售业务员)."""
    from core.cycles.views import _label

    return _label(derived.SCHEME_ID, staff_class) if staff_class else ""


@dataclass(frozen=True)
class PayrollRow:
    subject: "PayrollSubject"    # code, name, unit_id, status, staff_class of the person assessed
    unit_name: str
    status_label: str
    total: Decimal | None        # the rounded total (None: excluded, or no result)
    base: Decimal | None
    coefficient: Decimal | None
    training: bool
    pay: Decimal | None
    note: str                    # why there is no pay ("" when paid)
    excluded: str | None = None  # the excluded status (result flag excluded:<status>)
    class_label: str = ""        # the staff class as the scheme names it


@dataclass(frozen=True)
class Payroll:
    rows: list[PayrollRow]
    total_pay: Decimal
    paid: int
    excluded: int
    without_base: int
    training_percent: str        # the training pay factor as a percentage ("80")
    stale: bool                  # computed, not published, and inputs changed since: compute again
    published: bool = False      # the month is published (or closed): this is its final pay
    changed_after: bool = False  # published, and inputs changed after its results were computed:
                                 # not in this pay (a correction goes through an appeal)


def _decimal(value: Any) -> Decimal | None:
    """Exact decimal text as stored ("6500.00", "1.2") as a Decimal of the same digits."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def training_percent(cycle: Cycle) -> str:
    factor = (cycle.settings or {}).get("training_pay_factor", "0.8")
    try:
        return text(exact(factor) * 100, 3)
    except NumberError:
        return "80"


@dataclass(frozen=True)
class PayrollSubject:
    """The columns of a person assessed that the payroll shows (not their whole inputs)."""

    id: int
    code: str
    name: str
    unit_id: int | None
    person_id: int | None
    status: str | None
    staff_class: str | None


def _is_true(value: Any) -> bool:
    """A JSON ``true`` read with ``as_string()``: ``"1"`` on SQLite, ``"true"`` on PostgreSQL."""
    return value is True or value in ("1", "true")


def payroll(cycle: Cycle) -> Payroll:
    """Every person assessed in the computed cycle with the engine's pay, by number. Three queries,
    reading only what the table shows: the results' score, flags and extra (not their breakdowns),
    the subjects' ``pay`` and ``training`` inputs (not the whole inputs)."""
    results = {subject_id: (score, flags or (), extra or {}) for subject_id, score, flags, extra in db_session.execute(
        select(CycleResult.subject_id, CycleResult.score, CycleResult.flags, CycleResult.extra)
        .where(CycleResult.cycle_id == cycle.id))}
    units = dict(db_session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    subjects = db_session.execute(
        select(CycleSubject.id, CycleSubject.code, CycleSubject.name, CycleSubject.unit_id, CycleSubject.person_id,
               CycleSubject.status, CycleSubject.staff_class, CycleSubject.inputs_updated_at,
               CycleSubject.inputs["pay"], CycleSubject.inputs["training"].as_string())
        .where(CycleSubject.cycle_id == cycle.id, CycleSubject.eligible.is_(True), CycleSubject.kind == "person")
        .order_by(CycleSubject.code))
    rows = []
    latest = None
    final = cycle.state in derived.FINAL_STATES
    class_labels: dict[str | None, str] = {}
    status_labels: dict[str | None, str] = {}
    for subject_id, code, name, unit_id, person_id, status, staff_class, updated, pay_inputs, training in subjects:
        subject = PayrollSubject(subject_id, code, name, unit_id, person_id, status, staff_class)
        if updated is not None:
            stamp = updated if updated.tzinfo else updated.replace(tzinfo=timezone.utc)
            latest = stamp if latest is None or stamp > latest else latest
        pay_inputs = pay_inputs if isinstance(pay_inputs, dict) else {}
        result = results.get(subject_id)
        score, flags, extra = result if result is not None else (None, (), {})
        excluded = next((f.split(":", 1)[1] for f in flags if str(f).startswith("excluded:")), None)
        pay = None
        if result is None:
            note = _("no result")
        elif excluded is not None:
            note = _("excluded: %(status)s", status=STATUS_LABELS.get(excluded, excluded))
        elif not pay_inputs:
            note = _("no pay base")
        elif "pay" not in extra:
            note = _("no pay in the published results: the pay base was set after they were computed") if final \
                else _("the pay base was set after the results were computed: compute again")
        else:
            pay, note = _decimal(extra["pay"]), ""
        if staff_class not in class_labels:
            class_labels[staff_class] = class_label(staff_class)
        if status not in status_labels:
            status_labels[status] = str(STATUS_LABELS.get(status, status or ""))
        rows.append(PayrollRow(
            subject=subject, unit_name=units.get(unit_id, ""), status_label=status_labels[status],
            total=score if result is not None and excluded is None else None,
            base=_decimal(pay_inputs.get("base")), coefficient=_decimal(pay_inputs.get("coefficient")),
            training=_is_true(training), pay=pay, note=note, excluded=excluded,
            class_label=class_labels[staff_class]))
    computed = cycle.computed_at
    if computed is not None and computed.tzinfo is None:
        computed = computed.replace(tzinfo=timezone.utc)
    changed = computed is not None and latest is not None and latest > computed
    return Payroll(rows=rows, total_pay=sum((r.pay for r in rows if r.pay is not None), Decimal("0.00")),
                   paid=sum(1 for r in rows if r.pay is not None),
                   excluded=sum(1 for r in rows if r.excluded is not None),
                   without_base=sum(1 for r in rows if r.pay is None and r.excluded is None and r.base is None),
                   training_percent=training_percent(cycle), stale=changed and not final, published=final,
                   changed_after=changed and final)
