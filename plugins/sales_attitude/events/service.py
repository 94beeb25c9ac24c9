"""The event log (考勤与客户事件): recording, deleting and importing a person's events, and reading
them back for the pages and the result panel.

An event is one late arrival, early leave, day(s) of leave, overtime, task or customer's word on a
day; the month's counts of each kind are the attitude and responsibility inputs of that month's
cycle (:mod:`plugins.sales_attitude.derived`), refreshed in the same transaction as every change.
A month whose cycle is published or closed is final: its events no longer change (a correction goes
through an appeal). Duplicates are impossible: ``dedupe_key`` (the day and kind of an attendance
kind; the day, kind and note of the others) is unique per person.

Events are dated today or earlier. A leave event (personal or sick) of N days dated D covers the
calendar days D .. D+ceil(N)-1: they stay within D's month (each month's days are recorded in that
month) and do not overlap another leave event of the person. An import may be undone as a whole
while none of its months is final.

Every change is audited. Nothing here commits; on a unique-constraint race the session is rolled
back before the refusal is raised (the caller's transaction held nothing else yet).
"""
from __future__ import annotations

import calendar
import csv
import hashlib
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from core.audit import record, snapshot
from core.db import db_session
from core.models import Cycle, Person
from core.models.base import utcnow
from core.scoring.numbers import NumberError, exact, text
from core.tenancy import current_tenant_id
from plugins.sales_attitude import derived
from plugins.sales_attitude.events.models import DAILY_KINDS, DAY_KINDS, KINDS, EventImport, SalesEvent

AUDITED = ("person_id", "day", "kind", "quantity", "note", "source", "import_id")
NOTE_REQUIRED = ("shirking", "praise", "complaint")  # the source wants the reason / the customer named
NOTE_MAX = 500
MAX_DAYS = 31
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
FIRST_YEAR, LAST_YEAR = 2000, 2100

# Chinese labels (the wording of the source handbook) and other names an attendance export uses:
# the import accepts any of them, whatever the page's language.
KIND_ZH = {
    "late": "迟到", "early_leave": "早退", "personal_leave_days": "事假（天）", "sick_leave_days": "病假（天）",
    "overtime": "主动加班", "extra_work": "服从计划外工作安排", "proactive": "主动承担临时任务",
    "shirking": "无故推卸", "praise": "顾客表扬", "complaint": "顾客投诉",
}
KIND_ALIASES = {
    "late": ("迟到", "late arrival", "late"),
    "early_leave": ("早退", "early leave", "early-leave", "leave early"),
    "personal_leave_days": ("事假", "事假(天)", "事假天数", "personal leave", "personal leave (days)", "personal leave days"),
    "sick_leave_days": ("病假", "病假(天)", "病假天数", "sick leave", "sick leave (days)", "sick leave days"),
    "overtime": ("加班", "主动加班", "自愿加班", "voluntary overtime"),
    "extra_work": ("计划外工作", "计划外任务", "服从计划外工作安排", "服从计划外任务", "accepted unplanned work",
                   "unplanned work", "extra work"),
    "proactive": ("主动承担", "主动承担任务", "主动承担临时任务", "proactive task", "proactive"),
    "shirking": ("推卸", "推诿", "无故推卸", "无故推诿", "无故推卸任务", "task shirked", "shirked", "shirking"),
    "praise": ("表扬", "顾客表扬", "客户表扬", "customer praise"),
    "complaint": ("投诉", "顾客投诉", "客户投诉", "customer complaint"),
}

# The import's columns: key -> the header names accepted (compared case-insensitively).
COLUMNS = {
    "number": ("number", "person number", "person_number", "employee number", "工号", "员工工号", "人员编号", "员工编号", "编号"),
    "date": ("date", "day", "日期"),
    "kind": ("kind", "type", "event", "类型", "事件", "事件类型", "类别"),
    "quantity": ("quantity", "qty", "days", "数量", "天数"),
    "note": ("note", "notes", "remark", "remarks", "备注", "说明", "原因"),
}
REQUIRED_COLUMNS = ("number", "date", "kind")
TEMPLATE_HEADERS = {"zh": ("工号", "日期", "类型", "数量", "备注"), "en": ("number", "date", "kind", "quantity", "note")}


class EventError(ValueError):
    """A change that is refused: ``errors`` maps form fields to their message; ``status`` is 422 for
    a bad input, 409 for a duplicate or a final month."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


class ImportRefused(ValueError):
    """The file is refused as a whole; ``problems`` names every one (row, column, value, what is allowed)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# ----------------------------------------------------------------------------------- labels

def kind_label(kind: str) -> str:
    """A kind as people read it (the page's language)."""
    return {
        "late": _("Late arrival"), "early_leave": _("Early leave"),
        "personal_leave_days": _("Personal leave (days)"), "sick_leave_days": _("Sick leave (days)"),
        "overtime": _("Voluntary overtime"), "extra_work": _("Accepted unplanned work"),
        "proactive": _("Proactive task"), "shirking": _("Task shirked"), "praise": _("Customer praise"),
        "complaint": _("Customer complaint"),
    }.get(kind, kind)


def source_label(source: str) -> str:
    return {"entered": _("entered"), "imported": _("imported")}.get(source, source)


def kinds_text(kinds: Iterable[str]) -> str:
    """The allowed kinds for a message: ``late (迟到), early_leave (早退), ...``."""
    return ", ".join(f"{k} ({KIND_ZH[k]})" for k in kinds)


def quantity_text(value: Fraction | str) -> str:
    return text(exact(value))


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def valid_month(raw: str | None) -> str | None:
    """``YYYY-MM`` as given, or None."""
    raw = (raw or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}", raw) and 1 <= int(raw[5:]) <= 12 and FIRST_YEAR <= int(raw[:4]) <= LAST_YEAR:
        return raw
    return None


def _normal(value: str) -> str:
    """For comparing names: case and spacing ignored, full-width brackets as plain ones."""
    value = value.replace("（", "(").replace("）", ")").casefold()
    return " ".join(value.replace("_", " ").split())


_KIND_NAMES = {_normal(name): kind for kind in KINDS for name in (kind, KIND_ZH[kind]) + KIND_ALIASES[kind]}


# ----------------------------------------------------------------------------------- values

def parse_kind(raw: Any) -> str:
    """A kind from its key, its Chinese or English label. :raises ValueError: with the message."""
    value = _cell_text(raw)
    kind = _KIND_NAMES.get(_normal(value))
    if kind is None:
        raise ValueError(_("“%(value)s” is not a kind of event; allowed: %(allowed)s.", value=value,
                           allowed=kinds_text(KINDS)))
    return kind


def parse_day(raw: Any) -> date:
    """A date written YYYY-MM-DD (or a spreadsheet's date cell). :raises ValueError: with the message."""
    if isinstance(raw, datetime):
        day = raw.date()
    elif isinstance(raw, date):
        day = raw
    else:
        value = _cell_text(raw)
        match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
        try:
            if match is None:
                raise ValueError
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError(_("“%(value)s” is not a date; write it as YYYY-MM-DD, e.g. 2026-09-03.", value=value)) \
                from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(_("%(value)s is out of range; dates from %(first)s to %(last)s are allowed.",
                           value=day.isoformat(), first=FIRST_YEAR, last=LAST_YEAR))
    return day


def parse_quantity(kind: str, raw: Any) -> Fraction:
    """Days for leave (half days: 0.5 steps, above 0, at most 31); 1 for a counted kind (one event
    at a time). An empty value is 1. :raises ValueError: with the message."""
    value = _cell_text(raw)
    if value == "":
        return Fraction(1)
    try:
        number = exact(value)
    except NumberError:
        number = None
    if kind in DAY_KINDS:
        if number is None or number <= 0 or number > MAX_DAYS or (number * 2).denominator != 1:
            raise ValueError(_("“%(value)s” is not allowed for %(kind)s: days in half-day steps (0.5, 1, 1.5, …), "
                               "above 0 and at most %(max)s.", value=value, kind=kind_label(kind), max=MAX_DAYS))
        return number
    if number != 1:
        raise ValueError(_("“%(value)s” is not allowed for %(kind)s: each one is recorded on its own, quantity 1.",
                           value=value, kind=kind_label(kind)))
    return Fraction(1)


def parse_note(kind: str, raw: Any) -> str:
    """The note, required for shirking, praise and complaints. :raises ValueError: with the message."""
    note = " ".join(_cell_text(raw).split())
    if not note and kind in NOTE_REQUIRED:
        raise ValueError(_("a note is required for %(kind)s: name the reason or the customer.", kind=kind_label(kind)))
    if len(note) > NOTE_MAX:
        raise ValueError(_("the note has %(n)s characters; at most %(max)s are allowed.", n=len(note), max=NOTE_MAX))
    return note


def today() -> date:
    """The server's today (a function, so that tests can fix it)."""
    return date.today()


def future_problem(day: date) -> str | None:
    """Events are recorded once they happened: a date after today is refused (the message)."""
    now = today()
    if day > now:
        return _("%(value)s is after today (%(today)s); an event is dated today or earlier.",
                 value=day.isoformat(), today=now.isoformat())
    return None


def leave_end(day: date, quantity: Fraction | str) -> date:
    """The last calendar day a leave event covers: N days dated D cover D .. D+ceil(N)-1 (a half
    day covers its day)."""
    return day + timedelta(days=max(1, math.ceil(exact(quantity))) - 1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def leave_span_problem(kind: str, day: date, quantity: Fraction) -> str | None:
    """A leave event stays within its month (each month's days are counted in that month): the
    message when its days run past the month's end, naming the last day allowed."""
    if kind not in DAY_KINDS:
        return None
    end, last = leave_end(day, quantity), month_end(day)
    if end <= last:
        return None
    return _("%(days)s days from %(day)s run to %(end)s, past the end of %(month)s: record the days of each month "
             "separately; from %(day)s at most %(max)s days, up to %(last)s.", days=quantity_text(quantity),
             day=day.isoformat(), end=end.isoformat(), month=month_of(day), max=(last - day).days + 1,
             last=last.isoformat())


def dedupe_key(day: date, kind: str, note: str) -> str:
    """The day and kind for an attendance kind (once a day); the day, kind and note (case and
    spacing ignored, hashed) for the others."""
    if kind in DAILY_KINDS:
        return f"{day.isoformat()}|{kind}"
    digest = hashlib.sha256(" ".join(note.split()).casefold().encode("utf-8")).hexdigest()[:32]
    return f"{day.isoformat()}|{kind}|{digest}"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()[:10]
    return str(value).strip()


# ----------------------------------------------------------------------------------- people

def find_person(number: str) -> Person | None:
    """A person of the current tenant by their number (工号)."""
    number = (number or "").strip()
    return db_session.scalar(select(Person).where(Person.number == number)) if number else None


def person_label(person: Person | None) -> str:
    return f"{person.name} ({person.number})" if person is not None else "—"


def describe(event: SalesEvent) -> str:
    """An event as a refusal names it: day, kind, quantity, note, source, who and when (the person
    is named by the message around it)."""
    from core.web import actor_name

    values = dict(day=event.day.isoformat(), kind=kind_label(event.kind),
                  quantity=quantity_text(event.quantity), who=actor_name(event.created_by),
                  when=event.created_at.strftime("%Y-%m-%d") if event.created_at else "")
    if event.note:
        values["note"] = event.note
        if event.source == "imported":
            return _("%(day)s, %(kind)s × %(quantity)s, “%(note)s”, imported by %(who)s on %(when)s", **values)
        return _("%(day)s, %(kind)s × %(quantity)s, “%(note)s”, entered by %(who)s on %(when)s", **values)
    if event.source == "imported":
        return _("%(day)s, %(kind)s × %(quantity)s, imported by %(who)s on %(when)s", **values)
    return _("%(day)s, %(kind)s × %(quantity)s, entered by %(who)s on %(when)s", **values)


def event_title(event: SalesEvent, person: Person | None) -> str:
    """An event as a confirmation names it: the person, the date and the kind (and the days of leave)."""
    values = dict(person=person_label(person), day=event.day.isoformat(), kind=kind_label(event.kind))
    if event.kind in DAY_KINDS:
        return _("%(person)s, %(day)s, %(kind)s: %(quantity)s", quantity=quantity_text(event.quantity), **values)
    return _("%(person)s, %(day)s, %(kind)s", **values)


def duplicate_message(person: Person, existing: SalesEvent | None) -> str:
    if existing is None:
        return _("%(person)s already has this event (recorded at the same moment by someone else); it is not "
                 "recorded twice.", person=person_label(person))
    hint = (_("%(kind)s is recorded at most once a day.", kind=kind_label(existing.kind))
            if existing.kind in DAILY_KINDS else
            _("To record another one on the same day, describe it in its own note."))
    return _("%(person)s already has this event: %(existing)s. It is not recorded twice. %(hint)s",
             person=person_label(person), existing=describe(existing), hint=hint)


def _lock_people(person_ids: Iterable[int]) -> None:
    """Lock the people's rows until the transaction ends (PostgreSQL; SQLite writes one at a time
    anyway): two leave events of a person recorded at the same moment are then checked one after
    the other, so that they cannot overlap."""
    ids = sorted(set(person_ids))
    if ids:
        db_session.execute(select(Person.id).where(Person.id.in_(ids)).order_by(Person.id).with_for_update())


def _leaves_between(person_ids: Iterable[int], first: date,
                    last: date) -> dict[int, list[tuple[date, date, SalesEvent]]]:
    """The leave events (personal or sick) of these people covering a day between ``first`` and
    ``last``, each with the days it covers, by person and day; one query."""
    ids = sorted(set(person_ids))
    found: dict[int, list[tuple[date, date, SalesEvent]]] = defaultdict(list)
    if not ids:
        return found
    for event in db_session.scalars(select(SalesEvent).where(
            SalesEvent.person_id.in_(ids), SalesEvent.kind.in_(DAY_KINDS),
            SalesEvent.day >= first - timedelta(days=MAX_DAYS), SalesEvent.day <= last)
            .order_by(SalesEvent.day, SalesEvent.id)):
        end = leave_end(event.day, event.quantity)
        if end >= first:
            found[event.person_id].append((event.day, end, event))
    return found


def _existing(person_id: int, key: str) -> SalesEvent | None:
    return db_session.scalar(select(SalesEvent).where(SalesEvent.person_id == person_id,
                                                      SalesEvent.dedupe_key == key))


# ----------------------------------------------------------------------------------- final months

def final_message(period: str, cycle: Cycle) -> str:
    from plugins.sales_attitude.web import cycle_state_name

    return _("The results of %(month)s are final (cycle %(cycle)s: %(state)s): the month's events can no longer be "
             "added, deleted or imported. A correction goes through an appeal against the result.",
             month=period, state=cycle_state_name(cycle.state), cycle=cycle.name)


def refuse_final(period: str) -> None:
    """:raises EventError: (409) when the month's results are published or closed. The month's cycle
    rows stay locked until the transaction ends (:func:`lock_final_periods`): a publication cannot
    slip between this check and the change that follows it."""
    cycle = lock_final_periods([period]).get(period)
    if cycle is not None:
        raise EventError(final_message(period, cycle), status=409)


def lock_final_periods(periods: Iterable[str]) -> dict[str, Cycle]:
    """Like :func:`final_periods`, for a change of these months' events: every cycle of the months
    is locked (``SELECT … FOR UPDATE``, in id order; PostgreSQL, SQLite writes one at a time anyway)
    and read afresh, so that a publication, which locks its cycle row too, waits for the change to
    commit, or the change sees the month published. One query."""
    periods = sorted(set(periods))
    if not periods:
        return {}
    found: dict[str, Cycle] = {}
    statement = (select(Cycle).where(Cycle.scheme_id == derived.SCHEME_ID, Cycle.period.in_(periods))
                 .order_by(Cycle.id).with_for_update().execution_options(populate_existing=True))
    for cycle in db_session.scalars(statement):
        if cycle.state in derived.FINAL_STATES:
            found.setdefault(cycle.period, cycle)
    return found


def final_periods(periods: Iterable[str]) -> dict[str, Cycle]:
    """The months among ``periods`` whose results are final, with their cycle; one query."""
    periods = sorted(set(periods))
    if not periods:
        return {}
    found: dict[str, Cycle] = {}
    for cycle in db_session.scalars(select(Cycle).where(Cycle.scheme_id == derived.SCHEME_ID,
                                                        Cycle.period.in_(periods),
                                                        Cycle.state.in_(derived.FINAL_STATES))
                                    .order_by(Cycle.id)):
        found.setdefault(cycle.period, cycle)
    return found


# ----------------------------------------------------------------------------------- one event

@dataclass
class EventForm:
    """The add form's values once checked."""

    person: Person
    day: date
    kind: str
    quantity: Fraction
    note: str


def check_form(form: Mapping[str, Any], allowed_kinds: Iterable[str]) -> EventForm:
    """The add form's fields, each checked: :raises EventError: (422) with one message per field."""
    errors: dict[str, str] = {}
    number = (form.get("number") or "").strip()
    person = find_person(number)
    if not number:
        errors["number"] = _("Person number: enter the person's number (工号).")
    elif person is None:
        errors["number"] = _("Person number: “%(value)s” is not a person of this organisation.", value=number)
    kind = None
    raw_kind = (form.get("kind") or "").strip()
    allowed = tuple(allowed_kinds)
    try:
        kind = parse_kind(raw_kind) if raw_kind else None
        if kind is None:
            errors["kind"] = _("Kind: choose one of %(allowed)s.", allowed=kinds_text(allowed))
    except ValueError as exc:
        errors["kind"] = _("Kind: %(problem)s", problem=str(exc))
    if kind is not None and kind not in allowed:
        errors["kind"] = _("Kind: you do not record %(kind)s; you may record %(allowed)s.", kind=kind_label(kind),
                           allowed=kinds_text(allowed))
        kind = None
    day = None
    try:
        day = parse_day(form.get("day") or "")
        future = future_problem(day)
        if future:
            errors["day"] = _("Date: %(problem)s", problem=future)
    except ValueError as exc:
        errors["day"] = _("Date: %(problem)s", problem=str(exc))
    quantity = Fraction(1)
    note = ""
    if kind is not None:
        try:
            quantity = parse_quantity(kind, form.get("quantity"))
            span = leave_span_problem(kind, day, quantity) if day is not None else None
            if span:
                errors["quantity"] = _("Quantity: %(problem)s", problem=span)
        except ValueError as exc:
            errors["quantity"] = _("Quantity: %(problem)s", problem=str(exc))
        try:
            note = parse_note(kind, form.get("note"))
        except ValueError as exc:
            errors["note"] = _("Note: %(problem)s", problem=str(exc))
    if errors:
        raise EventError(_("The event is not recorded: correct the fields marked below."), errors)
    return EventForm(person, day, kind, quantity, note)


def add_event(values: EventForm, actor: str) -> SalesEvent:
    """Record one event (source "entered"), audited, and bring the month's cycle inputs in step.

    :raises EventError: 409 when the month is final or the event is a duplicate (the existing one named).
    """
    person, period = values.person, month_of(values.day)
    refuse_final(period)
    key = dedupe_key(values.day, values.kind, values.note)
    existing = _existing(person.id, key)
    if existing is not None:
        raise EventError(duplicate_message(person, existing), status=409)
    if values.kind in DAY_KINDS:
        _lock_people([person.id])
        end = leave_end(values.day, values.quantity)
        other = next(iter(_leaves_between([person.id], values.day, end).get(person.id, ())), None)
        if other is not None:
            first, last, held = other
            raise EventError(_("The event is not recorded: correct the fields marked below."), {
                "day": _("Date: %(kind)s from %(start)s to %(end)s overlaps the leave %(person)s already has from "
                         "%(first)s to %(last)s: %(existing)s. Leave events do not overlap: delete that one first, "
                         "or change the date or the days.", kind=kind_label(values.kind),
                         start=values.day.isoformat(), end=end.isoformat(), person=person_label(person),
                         first=first.isoformat(), last=last.isoformat(), existing=describe(held))}, status=409)
    event = SalesEvent(person_id=person.id, day=values.day, kind=values.kind, quantity=quantity_text(values.quantity),
                       note=values.note, source="entered", dedupe_key=key, created_by=actor)
    db_session.add(event)
    try:
        db_session.flush()
    except IntegrityError:  # the same event recorded at the same moment: the unique constraint holds
        db_session.rollback()
        person = db_session.get(Person, values.person.id)
        raise EventError(duplicate_message(person, _existing(person.id, key)), status=409) from None
    record("sales_event.add", event, after=snapshot(event, AUDITED), actor=actor)
    derived.refresh_people([person.id], actor, period)
    return event


def delete_event(event: SalesEvent, actor: str) -> None:
    """Delete one event, audited, and bring the month's cycle inputs in step.

    :raises EventError: 409 when the month is final or the event is gone already.
    """
    period = month_of(event.day)
    refuse_final(period)
    person_id, before = event.person_id, snapshot(event, AUDITED)
    record("sales_event.delete", event, before=before, actor=actor)
    gone = db_session.execute(delete(SalesEvent).where(SalesEvent.id == event.id)
                              .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        raise EventError(_("This event was deleted by someone else meanwhile."), status=409)
    db_session.expunge(event)
    derived.refresh_people([person_id], actor, period)


# ----------------------------------------------------------------------------------- import

@dataclass
class ImportReport:
    """What an import did: rows imported, duplicates skipped (each named), months refreshed."""

    filename: str
    imported: int
    skipped: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    import_id: int | None = None


def template_xlsx(locale: str) -> bytes:
    """The import template: the header row, and a sheet listing the kinds."""
    book = Workbook()
    sheet = book.active
    sheet.title = "events"
    sheet.append(list(TEMPLATE_HEADERS.get(locale, TEMPLATE_HEADERS["en"])))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (12, 14, 22, 10, 40)):
        sheet.column_dimensions[column].width = width
    kinds = book.create_sheet("kinds")
    kinds.append(["kind", "类型", "quantity"])
    for kind in KINDS:
        kinds.append([kind, KIND_ZH[kind], "0.5–31" if kind in DAY_KINDS else "1"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_csv(locale: str) -> str:
    """The import template as CSV: the header row only."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(TEMPLATE_HEADERS.get(locale, TEMPLATE_HEADERS["en"]))
    return buffer.getvalue()


def read_rows(filename: str, data: bytes) -> list[list[Any]]:
    """The rows of an uploaded .xlsx or .csv file (UTF-8 with or without a byte-order mark).

    :raises ImportRefused: for another kind of file, a file over 5 MB or over 20,000 rows.
    """
    if len(data) > MAX_BYTES:
        raise ImportRefused([_("%(file)s is %(size)s MB; at most 5 MB is imported at once: split the file.",
                               file=filename, size=f"{len(data) / 1024 / 1024:.1f}")])
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(list(row))
                _not_too_many(rows, filename)
        except ImportRefused:
            raise
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportRefused([_("%(file)s is not an .xlsx workbook.", file=filename)]) from None
        return rows
    if name.endswith(".csv"):
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportRefused([_("%(file)s is not UTF-8 text; save the CSV as UTF-8.", file=filename)]) from None
        rows = []
        for row in csv.reader(io.StringIO(content)):
            rows.append(row)
            _not_too_many(rows, filename)
        return rows
    raise ImportRefused([_("%(file)s: upload an .xlsx or .csv file (the template's columns).", file=filename)])


def _not_too_many(rows: list, filename: str) -> None:
    if len(rows) > MAX_ROWS + 1:  # the header row and MAX_ROWS events
        raise ImportRefused([_("%(file)s has more than %(max)s rows; at most %(max)s events are imported at once: "
                               "split the file.", file=filename, max=f"{MAX_ROWS:,}")])


def _header(row: list[Any]) -> tuple[dict[str, int], list[str], list[str]]:
    """The columns of the header row: key -> position; the unknown names; the problems."""
    names = {_normal(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    problems: list[str] = []
    for index, cell in enumerate(row):
        title = _cell_text(cell)
        if not title:
            continue
        key = names.get(_normal(title))
        if key is None:
            unknown.append(title)
        elif key in positions:
            problems.append(_("Row 1: the column %(column)s appears twice.", column=title))
        else:
            positions[key] = index
    missing = [k for k in REQUIRED_COLUMNS if k not in positions]
    if missing:
        problems.append(_("Row 1: the header row lacks the column(s) %(missing)s; the columns are 工号/number, "
                          "日期/date, 类型/kind, 数量/quantity (optional), 备注/note (optional).",
                          missing=", ".join(missing)))
    return positions, unknown, problems


@dataclass
class _Row:
    """One row of the file once read: ``kind`` is empty when the row has a problem of its own (it
    is still checked for its person and month, so that every problem is named at once)."""

    row: int
    number: str
    day: date
    kind: str
    quantity: Fraction
    note: str
    person_id: int | None = None

    @property
    def key(self) -> str:
        return dedupe_key(self.day, self.kind, self.note)

    @property
    def end(self) -> date:
        """The last day a leave row covers."""
        return leave_end(self.day, self.quantity)


def import_rows(filename: str, rows: list[list[Any]], actor: str, own_person_id: int | None = None) -> ImportReport:
    """Check every row, then import them all or nothing. Duplicates (of the log, or of an earlier
    row of the file) are skipped and reported, not errors. A few queries whatever the size: the
    people, the final months (their cycles locked until the transaction ends), the existing events,
    one bulk insert. ``own_person_id`` is the importing account's person: nobody records their own
    events (:func:`plugins.sales_attitude.policy.may_record_event`), so a row of theirs refuses the file.

    :raises ImportRefused: listing every problem by row and column; nothing is written then.
    """
    filename = (filename or "events")[-200:]
    rows = list(rows)
    while rows and not any(_cell_text(c) for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise ImportRefused([_("%(file)s is empty.", file=filename)])
    positions, unknown, header_problems = _header(rows[0])
    if header_problems:
        raise ImportRefused(header_problems)
    parsed, problems = _read_events(rows, positions)
    checked = _resolve(parsed, problems, own_person_id)
    _overlapping_leave(checked, problems)
    if problems:
        raise ImportRefused([message for _row, message in sorted(problems, key=lambda p: p[0])])
    if not checked:
        raise ImportRefused([_("%(file)s has no events below its header row.", file=filename)])
    report = ImportReport(filename=filename, imported=0, ignored_columns=unknown)
    fresh = _without_duplicates(checked, report.skipped)

    batch = EventImport(filename=filename, imported=len(fresh), duplicates=len(report.skipped), created_by=actor)
    db_session.add(batch)
    db_session.flush()
    tenant_id, stamp = current_tenant_id(db_session), utcnow()  # a Core insert is not stamped by the session
    try:
        if fresh:
            db_session.execute(insert(SalesEvent), [
                dict(tenant_id=tenant_id, person_id=r.person_id, day=r.day, kind=r.kind,
                     quantity=quantity_text(r.quantity), note=r.note, source="imported", import_id=batch.id,
                     dedupe_key=r.key, created_by=actor, created_at=stamp) for r in fresh])
    except IntegrityError:  # someone recorded some of these events at the same moment
        db_session.rollback()
        raise ImportRefused([_("Some of these events were recorded by someone else while the file was being imported; "
                               "nothing was imported. Import the file again: the events recorded meanwhile are then "
                               "skipped as duplicates.")]) from None
    months: dict[str, set[int]] = defaultdict(set)
    for r in fresh:
        months[month_of(r.day)].add(r.person_id)
    report.imported, report.import_id, report.months = len(fresh), batch.id, sorted(months)
    record("sales_event.import", batch, after={"filename": filename, "imported": len(fresh),
                                               "duplicates": len(report.skipped), "months": report.months},
           actor=actor)
    for period, person_ids in sorted(months.items()):
        derived.refresh_people(sorted(person_ids), actor, period)
    return report


def _read_events(rows: list[list[Any]], positions: dict[str, int]) -> tuple[list[_Row], list[tuple[int, str]]]:
    """Each row's values checked on their own (no queries): the rows, and (row, message) problems."""
    def cell(row: list[Any], key: str) -> Any:
        index = positions.get(key)
        return row[index] if index is not None and index < len(row) else None

    parsed: list[_Row] = []
    problems: list[tuple[int, str]] = []
    for number_row, row in enumerate(rows[1:], start=2):
        if not any(_cell_text(c) for c in row):
            continue
        mine: list[str] = []
        number = _cell_text(cell(row, "number"))
        if not number:
            mine.append(_("Row %(row)s, column number: empty; enter the person's number (工号).", row=number_row))
        day = kind = None
        try:
            day = parse_day(cell(row, "date"))
            future = future_problem(day)
            if future:
                mine.append(_("Row %(row)s, column date: %(problem)s", row=number_row, problem=future))
        except ValueError as exc:
            mine.append(_("Row %(row)s, column date: %(problem)s", row=number_row, problem=str(exc)))
        try:
            kind = parse_kind(cell(row, "kind"))
        except ValueError as exc:
            mine.append(_("Row %(row)s, column kind: %(problem)s", row=number_row, problem=str(exc)))
        quantity, note = Fraction(1), ""
        if kind is not None:
            try:
                quantity = parse_quantity(kind, cell(row, "quantity"))
                span = leave_span_problem(kind, day, quantity) if day is not None else None
                if span:
                    mine.append(_("Row %(row)s, column quantity: %(problem)s", row=number_row, problem=span))
            except ValueError as exc:
                mine.append(_("Row %(row)s, column quantity: %(problem)s", row=number_row, problem=str(exc)))
            try:
                note = parse_note(kind, cell(row, "note"))
            except ValueError as exc:
                mine.append(_("Row %(row)s, column note: %(problem)s", row=number_row, problem=str(exc)))
        problems.extend((number_row, message) for message in mine)
        if number and day is not None:
            parsed.append(_Row(number_row, number, day, "" if mine else kind, quantity, note))
    return parsed, problems


def _resolve(parsed: list[_Row], problems: list[tuple[int, str]], own_person_id: int | None = None) -> list[_Row]:
    """The rows whose person is known (one query), not the importing account's own person, and
    whose month is not final (one query, the months' cycles locked); the others are added to
    ``problems``. A person of another tenant is simply unknown."""
    numbers = sorted({r.number for r in parsed})
    people = dict(db_session.execute(select(Person.number, Person.id).where(Person.number.in_(numbers))).all()) \
        if numbers else {}
    finals = lock_final_periods(month_of(r.day) for r in parsed)
    checked = []
    for r in parsed:
        bad = False
        if r.number not in people:
            problems.append((r.row, _("Row %(row)s, column number: “%(value)s” is not a person number of this "
                                      "organisation.", row=r.row, value=r.number)))
            bad = True
        elif own_person_id is not None and people[r.number] == own_person_id:
            problems.append((r.row, _("Row %(row)s, column number: %(value)s is your own number; you do not record "
                                      "your own events: another HR administrator records them.",
                                      row=r.row, value=r.number)))
            bad = True
        cycle = finals.get(month_of(r.day))
        if cycle is not None:
            problems.append((r.row, _("Row %(row)s, column date: %(value)s is in %(month)s. %(reason)s", row=r.row,
                                      value=r.day.isoformat(), month=month_of(r.day),
                                      reason=final_message(month_of(r.day), cycle))))
            bad = True
        if not bad and r.kind:
            r.person_id = people[r.number]
            checked.append(r)
    return checked


def _overlapping_leave(checked: list[_Row], problems: list[tuple[int, str]]) -> None:
    """Leave rows (personal or sick) must not overlap the leave a person already has in the log
    (one query), nor another leave row of the file: each overlap is a problem of its row. A row
    repeating an event of the log or an earlier row is left to :func:`_without_duplicates` (skipped)."""
    leave = [r for r in checked if r.kind in DAY_KINDS]
    if not leave:
        return
    _lock_people(r.person_id for r in leave)
    held = _leaves_between((r.person_id for r in leave), min(r.day for r in leave), max(r.end for r in leave))
    logged = {(e.person_id, e.dedupe_key) for spans in held.values() for _first, _last, e in spans}
    seen: set[tuple[int, str]] = set()
    fresh: dict[int, list[_Row]] = defaultdict(list)
    for r in leave:  # file order: the first of repeated rows is the one kept
        pair = (r.person_id, r.key)
        if pair in logged or pair in seen:
            continue
        seen.add(pair)
        clash = next(((first, last, e) for first, last, e in held.get(r.person_id, ())
                      if first <= r.end and last >= r.day), None)
        if clash is not None:
            first, last, event = clash
            problems.append((r.row, _(
                "Row %(row)s, column date: %(kind)s from %(start)s to %(end)s overlaps the leave %(number)s already "
                "has from %(first)s to %(last)s (%(existing)s); leave events do not overlap.", row=r.row,
                kind=kind_label(r.kind), start=r.day.isoformat(), end=r.end.isoformat(), number=r.number,
                first=first.isoformat(), last=last.isoformat(), existing=describe(event))))
        else:
            fresh[r.person_id].append(r)
    for rows in fresh.values():
        widest: _Row | None = None  # of the rows so far (by day), the one reaching furthest
        for r in sorted(rows, key=lambda x: (x.day, x.row)):
            if widest is not None and r.day <= widest.end:
                problems.append((r.row, _(
                    "Row %(row)s, column date: %(kind)s from %(start)s to %(end)s overlaps row %(other)s (%(other_kind)s "
                    "from %(first)s to %(last)s) of the same person %(number)s; leave events do not overlap.",
                    row=r.row, kind=kind_label(r.kind), start=r.day.isoformat(), end=r.end.isoformat(),
                    other=widest.row, other_kind=kind_label(widest.kind), first=widest.day.isoformat(),
                    last=widest.end.isoformat(), number=r.number)))
            if widest is None or r.end > widest.end:
                widest = r


def _without_duplicates(checked: list[_Row], skipped: list[str]) -> list[_Row]:
    """The rows to insert: those already in the log (one query) or repeating an earlier row are
    left out, each named in ``skipped``."""
    keys = {(r.person_id, r.key) for r in checked}
    first, last = min(r.day for r in checked), max(r.day for r in checked)
    existing: dict[tuple[int, str], SalesEvent] = {}
    for event in db_session.scalars(select(SalesEvent).where(
            SalesEvent.person_id.in_(sorted({k[0] for k in keys})), SalesEvent.day >= first, SalesEvent.day <= last)):
        if (event.person_id, event.dedupe_key) in keys:
            existing[(event.person_id, event.dedupe_key)] = event
    seen: dict[tuple[int, str], int] = {}
    fresh: list[_Row] = []
    for r in checked:
        pair = (r.person_id, r.key)
        if pair in existing:
            skipped.append(_("Row %(row)s: %(number)s already has this event: %(existing)s; skipped.",
                             row=r.row, number=r.number, existing=describe(existing[pair])))
        elif pair in seen:
            skipped.append(_("Row %(row)s: the same event as row %(first)s (%(number)s, %(day)s, %(kind)s); skipped.",
                             row=r.row, first=seen[pair], number=r.number, day=r.day.isoformat(),
                             kind=kind_label(r.kind)))
        else:
            seen[pair] = r.row
            fresh.append(r)
    return fresh


# ----------------------------------------------------------------------------------- undoing an import

@dataclass
class ImportContents:
    """What undoing an import would delete: its events still in the log, by month and person."""

    filename: str
    created_at: datetime | None
    created_by: str
    imported: int
    events: int
    people: dict[str, set[int]]  # month -> the people with events of the import in it
    finals: dict[str, Cycle]  # the months among them whose results are final

    @property
    def months(self) -> list[str]:
        return sorted(self.people)


def import_contents(batch: EventImport) -> ImportContents:
    """The events of an import still in the log (some may have been deleted one by one), their
    months and people, and which of the months are final; two queries."""
    people: dict[str, set[int]] = defaultdict(set)
    count = 0
    for person_id, day in db_session.execute(select(SalesEvent.person_id, SalesEvent.day)
                                             .where(SalesEvent.import_id == batch.id)):
        people[month_of(day)].add(person_id)
        count += 1
    return ImportContents(filename=batch.filename, created_at=batch.created_at, created_by=batch.created_by,
                          imported=batch.imported, events=count, people=dict(people),
                          finals=final_periods(people))


def undo_refusal(contents: ImportContents) -> str | None:
    """Why the import cannot be undone (a month of it is final), or None."""
    if not contents.finals:
        return None
    month = min(contents.finals)
    cycle = contents.finals[month]
    from plugins.sales_attitude.web import cycle_state_name

    return _("The import of %(file)s cannot be undone: the results of %(month)s are final (cycle %(cycle)s: "
             "%(state)s), and that month's events no longer change. A correction goes through an appeal against "
             "the result.", file=contents.filename, month=month, cycle=cycle.name, state=cycle_state_name(cycle.state))


def undo_import(batch: EventImport, actor: str, expected: int | None = None) -> ImportContents:
    """Delete exactly the events of an import and the import itself, audited, and bring each
    month's cycle inputs in step. ``expected`` is the number of events the confirmation showed.

    :raises EventError: 409 when a month of it is final, when its events changed since the
        confirmation (``expected``), or when someone else undid it meanwhile.
    """
    contents = import_contents(batch)
    contents.finals = lock_final_periods(contents.people)  # locked until the transaction ends
    refusal = undo_refusal(contents)
    if refusal:
        raise EventError(refusal, status=409)
    if expected is not None and expected != contents.events:
        raise EventError(_("The events of the import of %(file)s changed meanwhile: it now holds %(n)s event(s) "
                           "(%(months)s). Check them, then confirm again.", file=contents.filename,
                           n=contents.events, months=", ".join(contents.months) or "—"), status=409)
    record("sales_event.import_undo", batch, before={
        "filename": batch.filename, "imported": batch.imported, "duplicates": batch.duplicates,
        "events": contents.events, "months": contents.months,
        "people": len(set().union(*contents.people.values())) if contents.people else 0}, actor=actor)
    db_session.execute(delete(SalesEvent).where(SalesEvent.import_id == batch.id)
                       .execution_options(synchronize_session=False))
    gone = db_session.execute(delete(EventImport).where(EventImport.id == batch.id)
                              .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        raise EventError(_("This import was undone by someone else meanwhile."), status=409)
    db_session.expunge(batch)
    for period, person_ids in sorted(contents.people.items()):
        derived.refresh_people(sorted(person_ids), actor, period)
    return contents


def import_months(import_ids: Iterable[int]) -> dict[int, list[str]]:
    """The months each import's events (still in the log) fall in; one query over distinct days."""
    ids = sorted(set(i for i in import_ids if i is not None))
    months: dict[int, set[str]] = defaultdict(set)
    if ids:
        for import_id, day in db_session.execute(select(SalesEvent.import_id, SalesEvent.day)
                                                 .where(SalesEvent.import_id.in_(ids)).distinct()):
            months[import_id].add(month_of(day))
    return {i: sorted(m) for i, m in months.items()}


# ----------------------------------------------------------------------------------- reading

def totals_of(rows: Iterable[tuple[str, str, int]]) -> dict[str, Fraction]:
    """Exact totals per kind from (kind, quantity, count) rows."""
    totals: dict[str, Fraction] = {}
    for kind, quantity, count in rows:
        totals[kind] = totals.get(kind, Fraction(0)) + exact(quantity) * count
    return totals


def person_months(person_id: int) -> list[tuple[str, dict[str, Fraction]]]:
    """A person's totals per kind for each month with events, newest first; one grouped query."""
    by_day: dict[str, dict[str, Fraction]] = defaultdict(dict)
    statement = (select(SalesEvent.day, SalesEvent.kind, SalesEvent.quantity)
                 .where(SalesEvent.person_id == person_id))
    for day, kind, quantity in db_session.execute(statement):
        month = by_day[month_of(day)]
        month[kind] = month.get(kind, Fraction(0)) + exact(quantity)
    return sorted(by_day.items(), reverse=True)


def month_events(person_id: int, period: str) -> list[SalesEvent]:
    """A person's events of a month, by day."""
    first, following = derived.month_bounds(period)
    return list(db_session.scalars(select(SalesEvent).where(
        SalesEvent.person_id == person_id, SalesEvent.day >= first, SalesEvent.day < following)
        .order_by(SalesEvent.day, SalesEvent.id)))


def imports_of(import_ids: Iterable[int]) -> dict[int, EventImport]:
    ids = sorted(set(i for i in import_ids if i is not None))
    return {i.id: i for i in db_session.scalars(select(EventImport).where(EventImport.id.in_(ids)))} if ids else {}


def event_effects(settings: Mapping[str, Any] | None) -> dict[str, Fraction]:
    """What one event (one day of leave) of each kind adds to its dimension (negative: takes from
    it) under a cycle's settings, the tenant's formulas and points: the attitude (or responsibility)
    formula with that kind's count 1 and the other events' 0, less the formula with every count 0,
    × the kind's points. ``base`` is the setting attitude_base and ``service`` 100 in both. With the
    default formulas: −points for late arrivals, leave, shirking and complaints, +points for overtime,
    unplanned work, proactive tasks and praise, 0 for sick leave (not in the formula). Settings that
    no longer validate, or a formula that cannot be evaluated, read as the defaults."""
    from core.plugins import get_schemes
    from core.scoring.formula import FormulaError
    from plugins.sales_attitude.scoring import (ATTITUDE_EVENTS, ATTITUDE_NAMES, RESPONSIBILITY_EVENTS,
                                                RESPONSIBILITY_NAMES, Rules)

    scheme = get_schemes()[derived.SCHEME_ID]
    defaults, _none = scheme.validate_settings({})
    full, errors = scheme.validate_settings(dict(settings or {}))
    for attempt in ((defaults,) if errors or full is None else (full, defaults)):
        try:
            rules = Rules(attempt)
            effects: dict[str, Fraction] = {}
            for formula, names, kinds, fixed in (
                    (rules.attitude, ATTITUDE_NAMES, ATTITUDE_EVENTS, {"base": rules.base}),
                    (rules.responsibility, RESPONSIBILITY_NAMES, RESPONSIBILITY_EVENTS, {"service": 100})):
                zero = {**{name: 0 for name in names}, **fixed}
                none = Fraction(formula.evaluate(zero))
                for kind in kinds:
                    once = Fraction(formula.evaluate({**zero, kind: 1}))
                    effects[kind] = (once - none) * Fraction(rules.points[kind])
            return effects
        except (FormulaError, KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return {kind: Fraction(0) for kind in KINDS}


def signed_points(kind: str, quantity: Fraction | str, effects: Mapping[str, Fraction]) -> str:
    """The points an event (or a total) adds to (+) or takes from (−) its dimension: quantity × the
    kind's effect (:func:`event_effects`); "0" when it does not count."""
    value = exact(quantity) * effects.get(kind, Fraction(0))
    if value == 0:
        return "0"
    return ("+" if value > 0 else "−") + text(abs(value))
