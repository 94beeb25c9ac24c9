"""The inputs a sales cycle derives from the scheme's own records, kept in step with them.

A month's ``events`` are the counts of the event log, its ``pay`` the person's pay record,
``training`` whether a training plan covers the month, and ``history`` the earlier months' totals
the competence rules read (the published results of the earlier cycles, after appeals). Only the
unit head's ratings are entered on the cycle's form; everything else comes from here:

- when a cycle is created (``jixiao_event_cycle_created``) and before it is computed
  (``jixiao_event_cycle_computing``): every subject;
- when a record changes (an event entered or imported, pay set, a training plan opened): that
  person's subjects in the cycles not yet published.

A few queries per cycle whatever its size, and one bulk write of the subjects that changed.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable

from sqlalchemy import and_, func, select

from core.cycles import service as cycles
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject
from core.scoring.case import Period
from core.scoring.numbers import display, exact

SCHEME_ID = "sales-attitude"
DERIVED_KEYS = ("events", "pay", "training", "history")
FINAL_STATES = ("published", "closed")


# ----------------------------------------------------------------------------- months

def month_bounds(period: str) -> tuple[date, date]:
    """The first day of the month and the first day of the next."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def month_text(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}"


def number_text(value: Any) -> str:
    """An exact number as written in inputs: 3, 0.5."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else str(display(value))


# ----------------------------------------------------------------------------- the records

def event_counts(period: str, person_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """Each person's event totals in the month (days summed exactly); one query."""
    from plugins.sales_attitude.events.models import SalesEvent

    first, following = month_bounds(period)
    statement = (select(SalesEvent.person_id, SalesEvent.kind, SalesEvent.quantity, func.count())
                 .where(SalesEvent.day >= first, SalesEvent.day < following)
                 .group_by(SalesEvent.person_id, SalesEvent.kind, SalesEvent.quantity))
    if person_ids is not None:
        statement = statement.where(SalesEvent.person_id.in_(list(person_ids)))
    counts: dict[int, dict[str, Any]] = defaultdict(dict)
    quantities: dict[str, Any] = {}
    for person_id, kind, quantity, times in db_session.execute(statement):
        if quantity not in quantities:
            quantities[quantity] = exact(quantity)
        totals = counts[person_id]
        totals[kind] = totals.get(kind, 0) + quantities[quantity] * times
    return counts


def pay_records(person_ids: Iterable[int] | None = None) -> dict[int, dict[str, str]]:
    """Each person's pay base and coefficient as exact text; one query."""
    from plugins.sales_attitude.pay.models import PayRecord

    statement = select(PayRecord.person_id, PayRecord.base, PayRecord.coefficient)
    if person_ids is not None:
        statement = statement.where(PayRecord.person_id.in_(list(person_ids)))
    return {person_id: {"base": base, "coefficient": coefficient}
            for person_id, base, coefficient in db_session.execute(statement)}


def in_training(period: str, person_ids: Iterable[int] | None = None) -> set[int]:
    """The people a training plan covers in the month (an HR decision: pay × the training factor).
    A plan closed early ends its training period at its evaluation month."""
    from plugins.sales_attitude.competence.models import ImprovementPlan as Plan

    statement = select(Plan.person_id, Plan.evaluated_on).where(
        Plan.kind == "training", Plan.start_month <= period, Plan.end_month >= period)
    if person_ids is not None:
        statement = statement.where(Plan.person_id.in_(list(person_ids)))
    return {person_id for person_id, evaluated in db_session.execute(statement)
            if evaluated is None or evaluated.strftime("%Y-%m") >= period}


# ----------------------------------------------------------------------------- history

def history_range(period: str, settings: dict) -> tuple[str, str]:
    """The earlier months the competence rules read: the training window and the calendar year."""
    index = month_index(period)
    window = int(settings.get("training_window_months", 6))
    first = min(index - window + 1, int(period[:4]) * 12)
    return month_text(first), month_text(index - 1)


def earlier_totals(period: str, settings: dict,
                   person_ids: Iterable[int] | None = None) -> tuple[dict[int, list[dict]], set[str]]:
    """Each person's totals of the earlier published months in range, oldest first, with the
    total without personal leave where it differs (the approved-leave reading); and the months
    that have a published cycle."""
    first, last = history_range(period, settings)
    cycles_by_period: dict[str, Cycle] = {}
    for cycle in db_session.scalars(select(Cycle).where(
            Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(FINAL_STATES), Cycle.period >= first, Cycle.period <= last,
            func.length(Cycle.period) == 7).order_by(Cycle.published_at)):
        cycles_by_period[cycle.period] = cycle  # the latest published cycle of a month counts
    if not cycles_by_period:
        return {}, set()
    chosen = [c.id for c in cycles_by_period.values()]
    leave_days = CycleSubject.inputs["events"]["personal_leave_days"].as_string()  # not the whole inputs: 100,000s of rows
    statement = (select(CycleSubject.cycle_id, CycleSubject.id, CycleSubject.person_id, CycleResult.score, leave_days)
                 .join(CycleResult, and_(CycleResult.subject_id == CycleSubject.id,
                                         CycleResult.cycle_id == CycleSubject.cycle_id))
                 .where(CycleSubject.cycle_id.in_(chosen), CycleSubject.kind == "person",
                        CycleResult.score.is_not(None)))
    if person_ids is not None:
        statement = statement.where(CycleSubject.person_id.in_(list(person_ids)))
    period_of = {c.id: c.period for c in cycles_by_period.values()}
    top = _top_line(settings)
    found: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    with_leave: dict[str, list[tuple[int, int]]] = defaultdict(list)  # month -> (person, subject) below a line with leave
    for cycle_id, subject_id, person_id, score, leave in db_session.execute(statement):
        score = Decimal(str(score))
        found[person_id].append((period_of[cycle_id], score))
        if leave and score < top and exact(leave):
            with_leave[period_of[cycle_id]].append((person_id, subject_id))
    without = _totals_without_leave(cycles_by_period, with_leave)
    history: dict[int, list[dict]] = {}
    for person_id, months in found.items():
        entries = []
        for month, score in sorted(months, key=lambda m: m[0]):
            entry = {"period": month, "score": str(score)}
            other = without.get((person_id, month))
            if other is not None and other != score:
                entry["score_without_leave"] = str(other)
            entries.append(entry)
        history[person_id] = entries
    return history, set(cycles_by_period)


def _top_line(settings: dict) -> Decimal:
    """The highest competence line: a month at or above it counts for no line, leave or not."""
    lines = [settings.get(key, default) for key, default in
             (("training_line", 80), ("transfer_line", 80), ("transfer_low_line", 70))]
    return max(Decimal(str(exact(line).numerator)) / Decimal(str(exact(line).denominator)) for line in lines)


def _totals_without_leave(cycles_by_period: dict[str, Cycle],
                          with_leave: dict[str, list[tuple[int, int]]]) -> dict[tuple[int, str], Decimal]:
    """The month's total recomputed with personal_leave_days = 0, for the people below a line who
    took personal leave that month: scored by the scheme itself, one case per month (only those people)."""
    from core.plugins import get_schemes
    from core.scoring import score_case
    from core.scoring.case import build_case

    totals: dict[tuple[int, str], Decimal] = {}
    for month, people in with_leave.items():
        inputs_of = dict(db_session.execute(select(CycleSubject.person_id, CycleSubject.inputs).where(
            CycleSubject.id.in_([subject_id for _p, subject_id in people]))).all())
        raw = {"scheme": SCHEME_ID, "period": month, "settings": cycles_by_period[month].settings, "units": [],
               "people": [{"id": str(person_id), "inputs": {
                   "ratings": inputs_of[person_id].get("ratings"),
                   "events": {**inputs_of[person_id]["events"], "personal_leave_days": 0}}} for person_id, _s in people]}
        result = score_case(*build_case(raw, get_schemes()))
        for person in result.people:
            totals[(int(person.id), month)] = Decimal(str(person.score))
    return totals


# ----------------------------------------------------------------------------- refreshing

def derived_inputs(cycle: Cycle, subjects: list[CycleSubject]) -> tuple[dict[int, dict[str, Any]], set[str]]:
    """The derived part of each person subject's inputs (the keys of :data:`DERIVED_KEYS` it has),
    and the earlier months the records cover (a published cycle)."""
    people = [s.person_id for s in subjects if s.kind == "person" and s.person_id is not None]
    if not people:
        return {}, set()
    counts = event_counts(cycle.period, people)
    pay = pay_records(people)
    training = in_training(cycle.period, people)
    history, covered = earlier_totals(cycle.period, cycle.settings or {}, people)
    derived: dict[int, dict[str, Any]] = {}
    for person_id in people:
        part: dict[str, Any] = {}
        if counts.get(person_id):
            part["events"] = {kind: number_text(value) for kind, value in sorted(counts[person_id].items())}
        if person_id in pay:
            part["pay"] = pay[person_id]
        if person_id in training:
            part["training"] = True
        if history.get(person_id):
            part["history"] = history[person_id]
        derived[person_id] = part
    return derived, covered


def refresh(cycle: Cycle, actor: str, person_ids: Iterable[int] | None = None) -> int:
    """Bring the derived inputs of the cycle's people (or only ``person_ids``) in step with the
    records; writes only the subjects that change, without moving their form version (a form open
    on them stays valid). The cycle's row is locked first, so records written meanwhile are not
    overwritten with older counts; a form saved at the same moment makes the write start again
    (three tries, on PostgreSQL). :return: how many changed."""
    # the month's cycle row first (PostgreSQL): an event recorded meanwhile waits, and is then read
    db_session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    savepoints = db_session.get_bind().dialect.name != "sqlite"  # SQLite writes one at a time: no race to retry
    for attempt in range(3):
        statement = select(CycleSubject.id, CycleSubject.kind, CycleSubject.person_id, CycleSubject.inputs,
                           CycleSubject.inputs_version).where(CycleSubject.cycle_id == cycle.id,
                                                              CycleSubject.kind == "person")
        if person_ids is not None:
            statement = statement.where(CycleSubject.person_id.in_(list(person_ids)))
        subjects = db_session.execute(statement).all()  # plain rows: 10,000s of subjects, no ORM objects
        derived, covered = derived_inputs(cycle, subjects)
        changes = []
        for subject in subjects:
            stored = subject.inputs or {}
            wanted = {k: v for k, v in stored.items() if k not in DERIVED_KEYS}
            wanted.update(derived.get(subject.person_id, {}))
            _keep_written_history(wanted, stored, covered)
            if cycle.state in FINAL_STATES:  # an appeal's correction: the month's pay stays as it was then
                for key in ("pay", "training"):
                    wanted.pop(key, None)
                    if key in stored:
                        wanted[key] = stored[key]
            if wanted != stored:
                changes.append((subject, wanted))
        if not savepoints:
            return cycles.set_many_inputs(cycle, changes, actor)
        try:
            with db_session.begin_nested():
                return cycles.set_many_inputs(cycle, changes, actor)
        except cycles.CycleError:
            if attempt == 2 or cycle.state not in cycles.DERIVED_STATES:
                raise
    return 0


def _keep_written_history(wanted: dict, stored: dict, covered: set[str]) -> None:
    """Months of ``history`` written into the inputs (a case file loaded, totals from before the
    portal) stay as long as no published cycle of that month exists: the records win where they exist."""
    written = [e for e in stored.get("history") or () if isinstance(e, dict) and e.get("period") not in covered]
    if written:
        wanted["history"] = sorted([*wanted.get("history", ()), *written], key=lambda e: str(e.get("period")))


def open_cycles(period: str | None = None) -> list[Cycle]:
    """The scheme's monthly cycles whose inputs still follow the records (not yet published)."""
    statement = select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(cycles.DERIVED_STATES))
    if period is not None:
        statement = statement.where(Cycle.period == period)
    return list(db_session.scalars(statement.order_by(Cycle.period, Cycle.id)))


def final_cycle(period: str) -> Cycle | None:
    """A published (or closed) cycle of the month: its records no longer change."""
    return db_session.scalar(select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.period == period,
                                                 Cycle.state.in_(FINAL_STATES)).limit(1))


def refresh_people(person_ids: Iterable[int], actor: str, period: str | None = None) -> None:
    """After a record of these people changed: their subjects in the cycles not yet published (of
    ``period`` only, for a month's events)."""
    person_ids = list(person_ids)
    for cycle in open_cycles(period):
        refresh(cycle, actor, person_ids)
