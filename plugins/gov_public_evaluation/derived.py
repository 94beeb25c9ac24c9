"""The inputs a township cycle derives from the scheme's own records, kept in step with them.

A unit's ``indicators`` are the cycle's indicator entries, its ``survey`` the answers counted from
the cycle's responses (both ways in), its ``inspection`` the findings dated within the cycle's
period, and, in an annual cycle, ``info_reports`` the items it reported that year. Nothing is typed
on the generic input form: what a cycle scores is always what its records say, so a case file
exported from a cycle scores identically with ``jixiao score``.

When: a cycle is created (``jixiao_event_cycle_created``), before it is computed or moved to review
(``jixiao_event_cycle_computing``), and when a record of a unit changes (points, a finding, a
report): that unit's subject in the cycles not yet published. Survey answers arrive hundreds a
second and are only counted at those moments; the progress pages count the responses themselves.

A few queries per cycle whatever its size, and one bulk write of the subjects that changed.
"""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any, Iterable

from sqlalchemy import func, select

from core.cycles import service as cycles
from core.db import db_session
from core.models import Cycle, CycleSubject
from core.scoring.numbers import exact, text

SCHEME_ID = "gov-public-evaluation"
DERIVED_KEYS = ("indicators", "survey", "inspection", "info_reports")
ANSWER_KEYS = ("satisfied", "basically_satisfied", "dissatisfied", "dont_know")


# ----------------------------------------------------------------------------- periods

def period_bounds(period: str) -> tuple[date, date]:
    """The first day of a year (``2026``) or quarter (``2026-Q2``) and the first day after it."""
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 1, 1), date(year + 1, 1, 1)
    quarter = int(period[-1])
    first = date(year, 3 * quarter - 2, 1)
    return first, (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1))


def is_annual(period: str) -> bool:
    return len(period) == 4


def number_text(value: Any) -> str:
    """An exact number as written in inputs: 3, 4.5 (the records hold terminating decimals)."""
    return text(Fraction(value), max_places=16)


# ----------------------------------------------------------------------------- the records

def indicator_points(cycle_id: int, unit_ids: Iterable[int] | None = None) -> dict[int, dict[str, str]]:
    """Each unit's points per second-level code in the cycle; one query."""
    from plugins.gov_public_evaluation.points.models import IndicatorEntry as E

    statement = select(E.unit_id, E.code, E.points).where(E.cycle_id == cycle_id).order_by(E.unit_id, E.code)
    if unit_ids is not None:
        statement = statement.where(E.unit_id.in_(list(unit_ids)))
    points: dict[int, dict[str, str]] = {}
    for unit_id, code, value in db_session.execute(statement):
        points.setdefault(unit_id, {})[code] = number_text(exact(value))
    return points


def survey_counts(cycle_id: int, unit_ids: Iterable[int] | None = None) -> dict[int, dict[str, dict[str, int]]]:
    """Each unit's answers per category and answer, both ways in together; one grouped query."""
    from plugins.gov_public_evaluation.survey.models import SurveyResponse as R

    statement = (select(R.unit_id, R.category, func.sum(R.satisfied), func.sum(R.basically_satisfied),
                        func.sum(R.dissatisfied), func.sum(R.dont_know), func.count())
                 .where(R.cycle_id == cycle_id).group_by(R.unit_id, R.category).order_by(R.unit_id, R.category))
    if unit_ids is not None:
        statement = statement.where(R.unit_id.in_(list(unit_ids)))
    counts: dict[int, dict[str, dict[str, int]]] = {}
    for unit_id, category, *sums, _responses in db_session.execute(statement):
        answers = {key: int(value or 0) for key, value in zip(ANSWER_KEYS, sums) if value}
        if answers:
            counts.setdefault(unit_id, {})[category] = answers
    return counts


def findings(period: str, unit_ids: Iterable[int] | None = None) -> dict[int, list[dict[str, str]]]:
    """Each unit's inspection deductions dated within the period, oldest first; one query. The
    item reads "date item" so that a breakdown shows when it was found."""
    from plugins.gov_public_evaluation.inspections.models import InspectionFinding as F

    first, following = period_bounds(period)
    statement = (select(F.unit_id, F.day, F.item, F.points).where(F.day >= first, F.day < following)
                 .order_by(F.unit_id, F.day, F.id))
    if unit_ids is not None:
        statement = statement.where(F.unit_id.in_(list(unit_ids)))
    found: dict[int, list[dict[str, str]]] = {}
    for unit_id, day, item, points in db_session.execute(statement):
        found.setdefault(unit_id, []).append({"item": f"{day.isoformat()} {item}", "points": number_text(exact(points))})
    return found


def report_counts(year: int, unit_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each unit's information items reported in the year; one query."""
    from plugins.gov_public_evaluation.reports.models import InfoReport as I

    statement = (select(I.unit_id, func.count()).where(I.day >= date(year, 1, 1), I.day < date(year + 1, 1, 1))
                 .group_by(I.unit_id))
    if unit_ids is not None:
        statement = statement.where(I.unit_id.in_(list(unit_ids)))
    return {unit_id: int(n) for unit_id, n in db_session.execute(statement)}


def derived_inputs(cycle: Cycle, unit_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """The derived part of every unit's inputs in the cycle (or of ``unit_ids``), by unit id."""
    unit_ids = None if unit_ids is None else list(unit_ids)
    points = indicator_points(cycle.id, unit_ids)
    survey = survey_counts(cycle.id, unit_ids)
    found = findings(cycle.period, unit_ids)
    reports = report_counts(int(cycle.period[:4]), unit_ids) if is_annual(cycle.period) else None
    units = set(points) | set(survey) | set(found) | set(reports or ())
    derived: dict[int, dict[str, Any]] = {}
    for unit_id in units:
        inputs: dict[str, Any] = {}
        if unit_id in points:
            inputs["indicators"] = points[unit_id]
        inputs["survey"] = survey.get(unit_id, {})
        if unit_id in found:
            inputs["inspection"] = found[unit_id]
        if reports is not None:
            inputs["info_reports"] = reports.get(unit_id, 0)
        derived[unit_id] = inputs
    return derived


def empty_inputs(cycle: Cycle) -> dict[str, Any]:
    """A unit's derived inputs when it has no record yet."""
    return {"survey": {}, **({"info_reports": 0} if is_annual(cycle.period) else {})}


# ----------------------------------------------------------------------------- keeping in step

def refresh(cycle: Cycle, actor: str, unit_ids: Iterable[int] | None = None) -> int:
    """Bring the derived inputs of the cycle's units (or only ``unit_ids``) in step with the
    records; writes only the subjects that change. The cycle's row is locked first, so records
    written meanwhile are not overwritten with older counts; a save at the same moment makes the
    write start again (three tries, on PostgreSQL). :return: how many changed."""
    db_session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    savepoints = db_session.get_bind().dialect.name != "sqlite"
    unit_ids = None if unit_ids is None else list(unit_ids)
    for attempt in range(3):
        statement = select(CycleSubject.id, CycleSubject.unit_id, CycleSubject.inputs,
                           CycleSubject.inputs_version).where(CycleSubject.cycle_id == cycle.id,
                                                              CycleSubject.kind == "unit")
        if unit_ids is not None:
            statement = statement.where(CycleSubject.unit_id.in_(unit_ids))
        subjects = db_session.execute(statement).all()
        derived = derived_inputs(cycle, unit_ids)
        changes = []
        for subject in subjects:
            stored = subject.inputs or {}
            wanted = {k: v for k, v in stored.items() if k not in DERIVED_KEYS}
            wanted.update(derived.get(subject.unit_id) or empty_inputs(cycle))
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


def open_cycles(day: date | None = None) -> list[Cycle]:
    """The scheme's cycles whose inputs still follow the records (not yet published); with ``day``,
    only those whose period contains it."""
    rows = db_session.scalars(select(Cycle).where(Cycle.scheme_id == SCHEME_ID,
                                                  Cycle.state.in_(cycles.DERIVED_STATES))
                              .order_by(Cycle.period, Cycle.id))
    if day is None:
        return list(rows)
    return [c for c in rows if period_bounds(c.period)[0] <= day < period_bounds(c.period)[1]]


def refresh_units(unit_ids: Iterable[int], actor: str, day: date | None = None, cycle: Cycle | None = None) -> None:
    """After a record of these units changed: their subjects in ``cycle``, or in every cycle not yet
    published whose period contains ``day`` (a finding, a report)."""
    unit_ids = list(unit_ids)
    for target in ([cycle] if cycle is not None else open_cycles(day)):
        if target.state in cycles.DERIVED_STATES:
            refresh(target, actor, unit_ids)
