"""What the township scheme asks of the signed-in user now, for the home page (the scheme's card):

- the efficiency office (效能办): per open or in-review cycle, the units with indicator points still
  missing (→ the points overview), the units without a scorable survey answer and the units below
  a quota (→ the survey's progress, filtered); the inspection rounds of this year when fewer than
  two (→ the year's inspections); the cycles in review waiting to be computed or published (→ the
  cycle's page);
- surveyors: each open survey and how many of its units are below a quota (→ the progress, only
  those units);
- unit heads: the rankings published lately (the last :data:`NEW_DAYS` days) of the cycles that
  assess their units (→ the rankings);
- leaders: the cycles in review (→ the rankings once computed, else the cycle's page).

Shown only for tenants with the scheme enabled (``core.schemes_web.scheme_home_panel`` calls it
only then). A few queries per page whatever the number of cycles, units, entries and responses:
never one per unit or per cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.db import db_session
from core.models import Cycle, CycleSubject, User
from core.policy import tenant_user
from plugins.gov_public_evaluation.policy import (highlighted_units, is_leader, is_office, is_surveyor,
                                                  may_enter_points, may_manage_survey, may_record_findings,
                                                  may_view_rankings, may_view_survey_progress)

SCHEME_ID = "gov-public-evaluation"
NEW_DAYS = 30  # a published ranking is "new" on a unit head's home page for this many days


@dataclass(frozen=True)
class Todo:
    label: str  # says how many, where it is a number of units
    url: str
    count: int | None = None  # how many units (rounds ...), for whoever reads the list


def todo(user) -> list[Todo]:
    """The user's township to-dos, most pressing first (an account may hold several roles)."""
    account: User | None = tenant_user(user)
    if account is None:
        return []
    found: list[Todo] = []
    if is_office(account):
        found.extend(_office(account))
    if is_surveyor(account) and not is_office(account):  # the office's list already names the shortfalls
        found.extend(_surveys(account))
    if is_leader(account) and not is_office(account):  # the office's list already names the cycles in review
        found.extend(_in_review(account))
    found.extend(_published(account))
    return found


def _cycles(states: tuple[str, ...]) -> list[Cycle]:
    """The scheme's cycles in these states, oldest period first; one query."""
    return list(db_session.scalars(select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(states))
                                   .order_by(Cycle.period, Cycle.id)))


# ----------------------------------------------------------------------------------- the office

def _office(account: User) -> list[Todo]:
    """Per open or in-review cycle: missing points, survey answers and quotas; then this year's
    inspection rounds, then the cycles in review waiting to be computed or published. Six queries."""
    from plugins.gov_public_evaluation.survey import service as survey

    cycles = _cycles(("open", "review"))
    found: list[Todo] = []
    missing_points = _units_missing_points(cycles) if may_enter_points(account) else {}
    short = survey.shortfalls(cycles) if may_manage_survey(account) else {}
    for cycle in cycles:
        n = missing_points.get(cycle.id, 0)
        if n:
            found.append(Todo(_("%(cycle)s: %(n)s unit(s) with indicator points missing", cycle=cycle.name, n=n),
                              url_for("township_points.overview", cycle_id=cycle.id), n))
        shortfall = short.get(cycle.id)
        if shortfall is None:
            continue
        if shortfall.without_answers:
            found.append(Todo(_("%(cycle)s: %(n)s unit(s) without a scorable survey answer", cycle=cycle.name,
                                n=shortfall.without_answers),
                              url_for("township_survey.progress", cycle_id=cycle.id, missing=1),
                              shortfall.without_answers))
        if shortfall.below_quota and cycle.state in survey.COLLECTING:
            found.append(Todo(_("%(cycle)s: %(n)s of %(total)s unit(s) below the survey's sample quota",
                                cycle=cycle.name, n=shortfall.below_quota, total=shortfall.units),
                              url_for("township_survey.progress", cycle_id=cycle.id, below=1), shortfall.below_quota))
    found.extend(_inspection_rounds(account))
    for cycle in cycles:
        if cycle.state != "review":
            continue
        if cycle.computed_at is None:
            found.append(Todo(_("%(cycle)s is in review and waits to be computed", cycle=cycle.name),
                              url_for("cycles.cycle", cycle_id=cycle.id)))
        else:
            found.append(Todo(_("%(cycle)s is computed and waits to be published", cycle=cycle.name),
                              url_for("cycles.cycle", cycle_id=cycle.id)))
    return found


def _units_missing_points(cycles: list[Cycle]) -> dict[int, int]:
    """Per cycle, its assessed units with fewer entries than indicators that apply to them: the
    subjects of all the cycles (one query) and their entries counted per cycle and unit (one grouped query)."""
    from plugins.gov_public_evaluation.points import service as points
    from plugins.gov_public_evaluation.points.models import IndicatorEntry

    ids = [c.id for c in cycles]
    if not ids:
        return {}
    trees = {c.id: points.tree_of(c) for c in cycles}
    entered = {(cycle_id, unit_id): int(n) for cycle_id, unit_id, n in db_session.execute(
        select(IndicatorEntry.cycle_id, IndicatorEntry.unit_id, func.count())
        .where(IndicatorEntry.cycle_id.in_(ids)).group_by(IndicatorEntry.cycle_id, IndicatorEntry.unit_id))}
    applicable: dict[tuple[int, str, str | None], int] = {}
    missing = {cycle_id: 0 for cycle_id in ids}
    for cycle_id, unit_id, code, kind in db_session.execute(
            select(CycleSubject.cycle_id, CycleSubject.unit_id, CycleSubject.code, CycleSubject.unit_kind).where(
                CycleSubject.cycle_id.in_(ids), CycleSubject.kind == "unit", CycleSubject.eligible.is_(True))):
        key = (cycle_id, code, kind)
        if key not in applicable:
            applicable[key] = sum(len(leaves) for _g, leaves in points.applicable(trees[cycle_id], code, kind))
        missing[cycle_id] += entered.get((cycle_id, unit_id), 0) < applicable[key]
    return missing


def _inspection_rounds(account: User) -> list[Todo]:
    """This year's inspection rounds (months with findings) when fewer than the two a year asks
    (察访核验 every half year); one query."""
    from plugins.gov_public_evaluation.inspections import service as inspections

    if not may_record_findings(account):
        return []
    year = inspections.today().year
    rounds = inspections.rounds(year)
    if len(rounds) >= inspections.MIN_ROUNDS:
        return []
    return [Todo(_("Inspections of %(year)s: %(n)s round(s) so far; at least %(min)s a year", year=year,
                   n=len(rounds), min=inspections.MIN_ROUNDS),
                 url_for("township_inspections.index", year=year), len(rounds))]


# ----------------------------------------------------------------------------------- surveyors

def _surveys(account: User) -> list[Todo]:
    """Each open survey and how many of its units are below a quota. Four queries."""
    from plugins.gov_public_evaluation.survey import service as survey

    if not may_view_survey_progress(account):
        return []
    cycles = survey.survey_cycles()
    short = survey.shortfalls(cycles)
    found = []
    for cycle in cycles:
        shortfall = short[cycle.id]
        if shortfall.below_quota:
            found.append(Todo(_("Survey of %(cycle)s: %(n)s of %(total)s unit(s) below the sample quota",
                                cycle=cycle.name, n=shortfall.below_quota, total=shortfall.units),
                              url_for("township_survey.progress", cycle_id=cycle.id, below=1), shortfall.below_quota))
        else:
            found.append(Todo(_("Survey of %(cycle)s is open: every unit has reached its sample quota",
                                cycle=cycle.name), url_for("township_survey.progress", cycle_id=cycle.id), 0))
    return found


# ----------------------------------------------------------------------------------- leaders

def _in_review(account: User) -> list[Todo]:
    """The cycles in review: their rankings once computed, else the cycle's page. One query."""
    found = []
    for cycle in _cycles(("review",)):
        if cycle.computed_at is not None and may_view_rankings(account, cycle.state):
            found.append(Todo(_("%(cycle)s is in review: its rankings", cycle=cycle.name),
                              url_for("township_results.rankings", cycle_id=cycle.id)))
        else:
            found.append(Todo(_("%(cycle)s is in review, not computed yet", cycle=cycle.name),
                              url_for("cycles.cycle", cycle_id=cycle.id)))
    return found


# ----------------------------------------------------------------------------------- unit heads

def _published(account: User) -> list[Todo]:
    """The rankings published in the last NEW_DAYS days of the cycles that assess a unit the
    account heads; one query (with the headed units, cached per request)."""
    units = highlighted_units(account)
    if not units or not may_view_rankings(account, "published"):
        return []
    since = datetime.now(timezone.utc) - timedelta(days=NEW_DAYS)
    assessed = select(CycleSubject.cycle_id).where(CycleSubject.kind == "unit", CycleSubject.eligible.is_(True),
                                                   CycleSubject.unit_id.in_(sorted(units)))
    cycles = db_session.scalars(select(Cycle).where(
        Cycle.scheme_id == SCHEME_ID, Cycle.state == "published", Cycle.published_at >= since,
        Cycle.id.in_(assessed)).order_by(Cycle.published_at.desc(), Cycle.id.desc()))
    return [Todo(_("Rankings of %(cycle)s published on %(day)s", cycle=cycle.name,
                   day=cycle.published_at.strftime("%Y-%m-%d")),
                 url_for("township_results.rankings", cycle_id=cycle.id)) for cycle in cycles]
