"""The township's results read back for people (schemes.md §3): a cycle's rankings on the total and
per first-level indicator (一级指标), the reward and accountability lists, a year's quarterly
progress, and the half-year and annual analysis bulletins (分析通报).

Everything here reads what the core stored when it computed the cycle (``CycleResult``: the rounded
total and its rank, the flags ``reward:<code>`` / ``accountability:<code>``, ``extra`` with each
first-level subtotal and the public score) and the inputs the results were computed from
(``CycleSubject.inputs``: the findings and the information items counted); nothing is scored again.
Per first-level indicator the competition ranks of the exact subtotals are the ones the scoring
ranked (ties share a rank: 1, 1, 3).

Set-based: a few queries per page whatever the number of units (one for a cycle's results with
their subjects, one for all the results of a year's cycles, one grouped query per kind of record).
Nothing here writes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Callable, Iterable

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from core.cycles.service import DERIVED_STATES
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject
from core.scoring.blocks import competition_ranks, ranks_from_bottom
from core.i18n import current_locale
from core.models import Person, RoleMembership, User
from core.scoring.numbers import NumberError, exact, exact_sum, text, to_decimal
from plugins.gov_public_evaluation import derived, settings_of
from plugins.gov_public_evaluation.labels import formula_text
from plugins.gov_public_evaluation.scoring import config

SCHEME_ID = "gov-public-evaluation"
PUBLISHED = ("published", "closed")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
ZERO = Fraction(0)
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The bulletins: the half year (June) covers the first two quarters; the year (November) the four
# quarters and the annual cycle.
HALF_QUARTERS = ("Q1", "Q2")


def today() -> date:
    """The server's today (a function, so that tests can fix it): the date a bulletin is issued."""
    return date.today()


def valid_year(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _exact(value: Any) -> Fraction:
    """A stored exact number (decimal text, an int); 0 when missing or unreadable."""
    if value is None or value == "":
        return ZERO
    try:
        return exact(value)
    except (NumberError, TypeError, ValueError):
        return ZERO


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(value: Fraction | Decimal | int | None) -> str:
    """An exact value as people read it: ``30.5``, ``4``, ``-1.25``; "—" for none."""
    if value is None:
        return "—"
    return text(Fraction(value))


def score(value: Fraction | Decimal | int | str | None) -> str:
    """A score (a total, a public score) with its two decimals, exactly as stored (no float on the
    way): ``85.50``, ``-1.25``; "—" for none or unreadable."""
    if value is None or value == "":
        return "—"
    try:
        return format(to_decimal(exact(value), 2), "f")
    except (NumberError, TypeError, ValueError):
        return "—"


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in whole percent, rounded half up in integers; None when ``whole`` is 0."""
    if not whole:
        return None
    return (200 * part + whole) // (2 * whole)


# ----------------------------------------------------------------------------------- labels

def flag_parts(flag: str) -> tuple[str, str]:
    """``reward:S`` → ("reward", "S")."""
    kind, _sep, code = str(flag).partition(":")
    return kind, code


def flag_kind_label(kind: str) -> str:
    return {"reward": _("Reward"), "accountability": _("Accountability of the head")}.get(kind, kind)


def period_label(period: str) -> str:
    """``2026-Q2`` → "Q2 2026"; ``2026`` → "Year 2026" (the page's language)."""
    if len(period) == 4:
        return _("Year %(year)s", year=period)
    return _("%(quarter)s %(year)s", quarter=period[5:], year=period[:4])


# ----------------------------------------------------------------------------------- one cycle

@dataclass(frozen=True)
class GroupInfo:
    """A first-level indicator (一级指标) of the cycle's tree: code, name and maximum (Σ of its children's)."""

    code: str
    name: str
    max: Fraction


@dataclass
class UnitRow:
    """One unit's result in a cycle, with what the rankings show of it."""

    result_id: int
    subject_id: int
    unit_id: int | None
    code: str
    name: str
    kind: str | None
    score: Decimal | None                 # the rounded total, as stored
    rank: int | None                      # its competition rank among the units
    flags: tuple[str, ...]
    subtotals: dict[str, Fraction]        # first-level code -> exact subtotal
    group_ranks: dict[str, int]           # first-level code -> competition rank of the subtotal
    bottom_ranks: dict[str, int]          # first-level code -> its rank from the bottom (lowest first)
    indicator_points: Fraction            # Σ subtotals
    public: Decimal | None                # the public score (公众评议), rounded as stored
    inspection: Fraction                  # Σ deductions of the findings counted (察访核验)
    findings: list[tuple[str, Fraction]]  # (item, points) counted
    reported: int | None                  # information items counted (annual cycles), else None
    shortfall: Fraction                   # points deducted for missing items (annual cycles), else 0
    minimum: int | None                   # the fewest items for the unit's kind (annual cycles)
    changed: bool                         # its inputs changed after its result was computed
    records_changed: bool = False         # its records no longer match its inputs (cycles not yet published)

    def rewarded(self, code: str) -> bool:
        return f"reward:{code}" in self.flags

    def accountable(self, code: str) -> bool:
        return f"accountability:{code}" in self.flags

    @property
    def missing(self) -> int | None:
        """Information items missing against the minimum (annual cycles)."""
        if self.reported is None or self.minimum is None:
            return None
        return max(0, self.minimum - self.reported)


@dataclass
class Rankings:
    """A cycle's results as the rankings show them. ``rows`` are ordered by rank, then code."""

    cycle: Cycle
    groups: list[GroupInfo]
    rows: list[UnitRow]
    annual: bool
    reward_top: int
    accountability_bottom: int
    per_missing: Fraction
    formula: str = ""                     # the total's formula (total_formula), as the settings write it
    heads: dict[int, list[str]] = field(default_factory=dict)  # unit -> its heads' names (see with_heads)

    @property
    def formula_text(self) -> str:
        """The formula with its terms named in the page's language (指标考核得分 × 70% + ...)."""
        return formula_text(self.formula, current_locale())

    def head_names(self, row: "UnitRow") -> str:
        """The unit's head (主要领导) as recorded (their accounts' names), "—" when none is."""
        names = self.heads.get(row.unit_id) if row.unit_id is not None else None
        return "、".join(names) if names else "—"

    @property
    def computed(self) -> bool:
        return self.cycle.computed_at is not None and bool(self.rows)

    @property
    def changed(self) -> int:
        """Units whose inputs changed after their result was computed."""
        return sum(1 for r in self.rows if r.changed)

    @property
    def records_changed(self) -> int:
        """Units whose records (points, answers, findings, reports) no longer match what was computed."""
        return sum(1 for r in self.rows if r.records_changed and not r.changed)

    @property
    def stale(self) -> bool:
        return any(r.changed or r.records_changed for r in self.rows)

    def group(self, code: str) -> GroupInfo | None:
        return next((g for g in self.groups if g.code == code), None)

    def by_group(self, code: str) -> list[UnitRow]:
        """The units ranked on one first-level indicator (its rank, then code)."""
        return sorted(self.rows, key=lambda r: (r.group_ranks.get(code, 10 ** 9), r.code))

    def rewarded(self, code: str) -> list[UnitRow]:
        return [r for r in self.by_group(code) if r.rewarded(code)]

    def accountable(self, code: str) -> list[UnitRow]:
        """Those facing accountability, the lowest subtotal first."""
        return sorted((r for r in self.rows if r.accountable(code)),
                      key=lambda r: (r.bottom_ranks.get(code, 0), r.code))

    @property
    def inspection_total(self) -> Fraction:
        return exact_sum([r.inspection for r in self.rows])

    @property
    def findings_count(self) -> int:
        return sum(len(r.findings) for r in self.rows)


def groups_of(cycle: Cycle) -> list[GroupInfo]:
    """The cycle's first-level indicators, in the tree's order (its own settings)."""
    return [GroupInfo(g.code, g.name, g.max) for g in config(cycle.settings or {}).groups]


def _findings(raw: Any) -> list[tuple[str, Fraction]]:
    if not isinstance(raw, list):
        return []
    return [(str(f.get("item", "")), _exact(f.get("points"))) for f in raw if isinstance(f, dict)]


def rankings(cycle: Cycle, check_records: bool = True) -> Rankings:
    """The cycle's stored results with their subjects (one query), ranked per first-level
    indicator, and, while the cycle's inputs still follow the records (not yet published) and
    ``check_records``, which units' records changed since (four grouped queries)."""
    cfg = config(cycle.settings or {})
    annual = derived.is_annual(cycle.period)
    statement = (select(CycleResult.id, CycleResult.subject_id, CycleResult.score, CycleResult.rank,
                        CycleResult.flags, CycleResult.extra, CycleResult.computed_at, CycleSubject.unit_id,
                        CycleSubject.code, CycleSubject.name, CycleSubject.unit_kind, CycleSubject.inputs,
                        CycleSubject.inputs_updated_at)
                 .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                 .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == "unit"))
    groups = [GroupInfo(g.code, g.name, g.max) for g in cfg.groups]
    rows: list[UnitRow] = []
    inputs_of: dict[int, dict] = {}
    for (result_id, subject_id, score, rank, flags, extra, computed_at, unit_id, code, name, kind, inputs,
         updated) in db_session.execute(statement):
        extra = extra if isinstance(extra, dict) else {}
        inputs = inputs if isinstance(inputs, dict) else {}
        raw = extra.get("indicators") if isinstance(extra.get("indicators"), dict) else {}
        subtotals = {g.code: _exact(raw.get(g.code)) for g in groups}
        findings = _findings(inputs.get("inspection"))
        reported = minimum = None
        shortfall = ZERO
        if annual:
            reported = inputs.get("info_reports") if isinstance(inputs.get("info_reports"), int) else 0
            minimum = cfg.minimum.get(kind or "")
            if minimum is not None:
                shortfall = max(0, minimum - reported) * cfg.per_missing
        stamp, computed = _aware(updated), _aware(computed_at)
        rows.append(UnitRow(
            result_id=result_id, subject_id=subject_id, unit_id=unit_id, code=code, name=name, kind=kind,
            score=score, rank=rank, flags=tuple(str(f) for f in flags or ()), subtotals=subtotals, group_ranks={}, bottom_ranks={},
            indicator_points=exact_sum(list(subtotals.values())), public=_decimal(extra.get("public")),
            inspection=exact_sum([p for _item, p in findings]), findings=findings, reported=reported,
            shortfall=shortfall, minimum=minimum,
            changed=stamp is not None and computed is not None and stamp > computed))
        inputs_of[subject_id] = inputs
    for g in groups:
        ranks = competition_ranks((r.subject_id, 0, r.subtotals[g.code]) for r in rows)
        bottom = ranks_from_bottom((r.subject_id, r.subtotals[g.code]) for r in rows)
        for r in rows:
            r.group_ranks[g.code] = ranks[r.subject_id]
            r.bottom_ranks[g.code] = bottom[r.subject_id]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.code))
    if check_records and rows and cycle.state in DERIVED_STATES:
        now = derived.derived_inputs(cycle, None)
        empty = derived.empty_inputs(cycle)
        for r in rows:
            stored = inputs_of[r.subject_id]
            wanted = {k: v for k, v in stored.items() if k not in derived.DERIVED_KEYS}
            wanted.update(now.get(r.unit_id) or empty)
            r.records_changed = wanted != stored
    return Rankings(cycle=cycle, groups=groups, rows=rows, annual=annual, reward_top=cfg.reward_top,
                    accountability_bottom=cfg.accountability_bottom, per_missing=cfg.per_missing,
                    formula=cfg.formula.source)


def unit_heads(unit_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each unit's heads (主要领导): the active accounts holding the unit-head role for that very unit
    (not for a unit above it), named by their person record, else their account's display name.
    One query whatever the number of units."""
    wanted = sorted({u for u in unit_ids if u is not None})
    if not wanted:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for unit_id, display_name, person_name in db_session.execute(
            select(RoleMembership.unit_id, User.display_name, Person.name)
            .join(User, User.id == RoleMembership.user_id)
            .outerjoin(Person, Person.id == User.person_id)
            .where(RoleMembership.role == "unit_head", RoleMembership.unit_id.in_(wanted), User.active.is_(True))
            .order_by(RoleMembership.unit_id, User.username)):
        name = person_name or display_name
        if name and name not in found[unit_id]:
            found[unit_id].append(name)
    return dict(found)


def with_heads(table: Rankings) -> Rankings:
    """The rankings with the heads of the units facing accountability (one query)."""
    table.heads = unit_heads(r.unit_id for r in table.rows
                             if any(flag_parts(f)[0] == "accountability" for f in r.flags))
    return table


# ----------------------------------------------------------------------------------- a year's cycles

def year_cycles(year: int) -> list[Cycle]:
    """The scheme's cycles of the year: its quarters in order, then the year itself; one query."""
    found = db_session.scalars(select(Cycle).where(Cycle.scheme_id == SCHEME_ID,
                                                   or_(Cycle.period == str(year), Cycle.period.like(f"{year}-Q%"))))
    return sorted(found, key=lambda c: (derived.is_annual(c.period), c.period, c.id))


def years() -> list[int]:
    """The years with a cycle of the scheme, newest first: one query."""
    periods = db_session.scalars(select(Cycle.period).where(Cycle.scheme_id == SCHEME_ID).distinct())
    return sorted({int(p[:4]) for p in periods if p[:4].isdigit()}, reverse=True)


def chosen_cycles(cycles: Iterable[Cycle], visible: Callable[[str], bool]) -> dict[str, Cycle]:
    """Per period, the cycle whose results count: among the computed cycles the user may see, a
    published (or closed) one first, then the latest computed."""
    best: dict[str, Cycle] = {}

    def key(c: Cycle):
        return (c.state in PUBLISHED, _aware(c.computed_at), c.id)

    for cycle in cycles:
        if cycle.computed_at is None or not visible(cycle.state):
            continue
        if cycle.period not in best or key(cycle) > key(best[cycle.period]):
            best[cycle.period] = cycle
    return best


@dataclass(frozen=True)
class Column:
    """A period of the year in the progress table, and the cycle shown for it (None: none yet)."""

    period: str
    label: str
    cycle: Cycle | None
    annual: bool


@dataclass
class Cell:
    result_id: int
    score: Decimal | None
    rank: int | None
    movement: int | None = None  # places gained since the previous quarter (negative: lost)


@dataclass
class ProgressRow:
    unit_id: int | None
    code: str
    name: str
    kind: str | None
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Progress:
    year: int
    columns: list[Column]
    rows: list[ProgressRow]

    @property
    def shown(self) -> list[Column]:
        return [c for c in self.columns if c.cycle is not None]


def progress(year: int, visible: Callable[[str], bool], periods: Iterable[str] | None = None,
             cycles: list[Cycle] | None = None) -> Progress:
    """Per unit, the total and rank of each quarter of the year and of the year itself (the cycle
    :func:`chosen_cycles` picks per period), with the places gained or lost since the previous
    quarter shown. One query for every result of those cycles (plus one for the cycles)."""
    all_periods = [f"{year}-{q}" for q in QUARTERS] + [str(year)]
    wanted = list(periods) if periods is not None else all_periods
    chosen = chosen_cycles(cycles if cycles is not None else year_cycles(year), visible)
    columns = [Column(p, period_label(p), chosen.get(p), derived.is_annual(p)) for p in wanted]
    ids = {c.cycle.id: c.period for c in columns if c.cycle is not None}
    rows: dict[Any, ProgressRow] = {}
    if ids:
        statement = (select(CycleResult.cycle_id, CycleResult.id, CycleResult.score, CycleResult.rank,
                            CycleSubject.unit_id, CycleSubject.code, CycleSubject.name, CycleSubject.unit_kind)
                     .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                     .where(CycleResult.cycle_id.in_(list(ids)), CycleSubject.kind == "unit"))
        for cycle_id, result_id, score, rank, unit_id, code, name, kind in db_session.execute(statement):
            key = unit_id if unit_id is not None else code
            row = rows.get(key)
            if row is None:
                row = rows[key] = ProgressRow(unit_id, code, name, kind)
            row.cells[ids[cycle_id]] = Cell(result_id, score, rank)
    quarters = [c.period for c in columns if not c.annual]
    for row in rows.values():
        previous = None
        for period in quarters:
            cell = row.cells.get(period)
            if cell is not None and previous is not None and cell.rank is not None and previous.rank is not None:
                cell.movement = previous.rank - cell.rank
            previous = cell
    order = [c.period for c in reversed(columns) if c.cycle is not None and c.annual] + \
            [c.period for c in reversed(columns) if c.cycle is not None and not c.annual]

    def sort_key(row: ProgressRow):
        for period in order:  # the annual rank, else the latest quarter's
            cell = row.cells.get(period)
            if cell is not None and cell.rank is not None:
                return (0, cell.rank, row.code)
        return (1, 0, row.code)

    return Progress(year=year, columns=columns, rows=sorted(rows.values(), key=sort_key))


# ----------------------------------------------------------------------------------- a unit head's own units

@dataclass
class OwnCycle:
    """One cycle of a unit head's unit: its result when the cycle is published, else only its state."""

    cycle: Cycle
    unit_id: int
    result_id: int | None = None
    score: Decimal | None = None
    rank: int | None = None
    flags: tuple[str, ...] = ()
    ranked: int | None = None     # how many units the cycle ranked
    consequences: list[tuple[str, str]] = field(default_factory=list)  # (reward / accountability, indicator name)

    @property
    def published(self) -> bool:
        return self.cycle.state in PUBLISHED

    @property
    def year(self) -> int:
        return int(self.cycle.period[:4])

    @property
    def quarter(self) -> int | None:
        return None if derived.is_annual(self.cycle.period) else QUARTERS.index(self.cycle.period[5:]) + 1


@dataclass
class OwnUnit:
    unit_id: int
    code: str
    name: str
    kind: str
    cycles: list[OwnCycle]


def own_unit_list(unit_ids: Iterable[int]) -> list[OwnUnit]:
    """The units (in the org tree's order), their cycles not loaded yet: one query."""
    from core.models import OrgUnit

    wanted = sorted(set(unit_ids))
    if not wanted:
        return []
    return [OwnUnit(unit_id, code, name, kind, []) for unit_id, code, name, kind in db_session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind)
        .where(OrgUnit.id.in_(wanted)).order_by(OrgUnit.sort_order, OrgUnit.code))]


def own_units(units: list[OwnUnit]) -> list[OwnUnit]:
    """A unit head's units (a page of :func:`own_unit_list`) with the township cycles they take part
    in (every state but draft), the newest period first: the total, rank and flags of the published
    (and closed) ones, only the state of the others (results before publication are not the
    units'). Two queries whatever the number of units and cycles."""
    wanted = sorted({u.unit_id for u in units})
    if not wanted:
        return units
    rows: dict[int, list[OwnCycle]] = defaultdict(list)
    published: set[int] = set()
    for cycle, unit_id, result_id, score_, rank, flags in db_session.execute(
            select(Cycle, CycleSubject.unit_id, CycleResult.id, CycleResult.score, CycleResult.rank, CycleResult.flags)
            .join(CycleSubject, CycleSubject.cycle_id == Cycle.id)
            .outerjoin(CycleResult, CycleResult.subject_id == CycleSubject.id)
            .where(Cycle.scheme_id == SCHEME_ID, Cycle.state != "draft", CycleSubject.kind == "unit",
                   CycleSubject.unit_id.in_(wanted))):
        row = OwnCycle(cycle, unit_id)
        if cycle.state in PUBLISHED and result_id is not None:
            row.result_id, row.score, row.rank = result_id, score_, rank
            row.flags = tuple(str(f) for f in flags or ())
            published.add(cycle.id)
        rows[unit_id].append(row)
    ranked: dict[int, int] = {}
    if published:
        ranked = {cycle_id: int(n) for cycle_id, n in db_session.execute(
            select(CycleResult.cycle_id, func.count()).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .where(CycleResult.cycle_id.in_(sorted(published)), CycleSubject.kind == "unit")
            .group_by(CycleResult.cycle_id))}

    def newest(row: OwnCycle):
        period = row.cycle.period
        return (-row.year, 0 if derived.is_annual(period) else 1, -(row.quarter or 0), -row.cycle.id)

    names: dict[int, dict[str, str]] = {}
    for unit in units:
        unit.cycles = sorted(rows.get(unit.unit_id, []), key=newest)
        for row in unit.cycles:
            if row.result_id is None:
                continue
            row.ranked = ranked.get(row.cycle.id)
            if row.flags and row.cycle.id not in names:
                names[row.cycle.id] = {g.code: g.name for g in groups_of(row.cycle)}
            row.consequences = [(kind, names.get(row.cycle.id, {}).get(code, code))
                                for kind, code in map(flag_parts, row.flags)]
    return units


# ----------------------------------------------------------------------------------- the bulletins

@dataclass
class CategoryCount:
    code: str
    name: str
    responses: int
    target: int
    channels: dict[str, int]

    @property
    def percent(self) -> int | None:
        return percent(self.responses, self.target)


@dataclass
class UnitParticipation:
    code: str
    name: str
    counts: dict[str, int]       # category -> responses
    below: set[str]              # categories under the quota


@dataclass
class Participation:
    """The survey of one cycle (公众评议): responses per respondent category against the target; per
    unit (``per_unit``) for the bulletin's main cycle only (empty otherwise)."""

    cycle: Cycle
    units: int
    categories: list[CategoryCount]
    per_unit: list[UnitParticipation]
    short_units: int = 0         # units below the quota in at least one category

    @property
    def responses(self) -> int:
        return sum(c.responses for c in self.categories)

    @property
    def target(self) -> int:
        return sum(c.target for c in self.categories)


def participation(cycles: list[Cycle], detail: int | None = None) -> list[Participation]:
    """Responses per category and way in of each cycle against its quotas, how many units fall short
    of a quota, and for the cycle ``detail`` (the bulletin's main cycle) the table per unit. Three
    grouped queries for all the cycles together, then one pass over the grouped rows: the work grows
    with the rows and the units, never with their product."""
    if not cycles:
        return []
    from plugins.gov_public_evaluation.survey.models import SurveyQuota, SurveyResponse as R

    ids = [c.id for c in cycles]
    by_channel: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    by_unit: dict[int, dict[Any, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for cycle_id, unit_id, category, channel, n in db_session.execute(
            select(R.cycle_id, R.unit_id, R.category, R.channel, func.count()).where(R.cycle_id.in_(ids))
            .group_by(R.cycle_id, R.unit_id, R.category, R.channel)):
        by_channel[cycle_id][category][channel] += int(n)
        by_unit[cycle_id][unit_id][category] += int(n)
    quotas: dict[int, dict[str, int]] = defaultdict(dict)
    for cycle_id, category, per_unit in db_session.execute(
            select(SurveyQuota.cycle_id, SurveyQuota.category, SurveyQuota.per_unit)
            .where(SurveyQuota.cycle_id.in_(ids))):
        quotas[cycle_id][category] = int(per_unit)
    units: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for cycle_id, unit_id, code, name in db_session.execute(
            select(CycleSubject.cycle_id, CycleSubject.unit_id, CycleSubject.code, CycleSubject.name)
            .where(CycleSubject.cycle_id.in_(ids), CycleSubject.kind == "unit", CycleSubject.eligible.is_(True))
            .order_by(CycleSubject.code)):
        units[cycle_id].append((unit_id, code, name))
    found = []
    for cycle in cycles:
        categories = settings_of(cycle.settings).survey_categories
        quota = {c.code: quotas[cycle.id].get(c.code, c.quota) for c in categories}
        n_units = len(units[cycle.id])
        channels = by_channel.get(cycle.id, {})
        rows = [CategoryCount(c.code, c.name, sum(channels.get(c.code, {}).values()), quota[c.code] * n_units,
                              dict(channels.get(c.code, {})))
                for c in categories]
        counted = by_unit.get(cycle.id, {})
        per_unit, short = [], 0
        for unit_id, code, name in units[cycle.id]:
            counts = counted.get(unit_id, {})
            below = {c.code for c in categories if counts.get(c.code, 0) < quota[c.code]}
            short += bool(below)
            if cycle.id == detail:
                per_unit.append(UnitParticipation(code, name, dict(counts), below))
        found.append(Participation(cycle, n_units, rows, per_unit, short))
    return found


@dataclass
class InspectionRow:
    code: str
    name: str
    findings: list[tuple[str, Fraction]]

    @property
    def deductions(self) -> Fraction:
        return exact_sum([p for _item, p in self.findings])


def inspections(cycles: list[Cycle]) -> list[InspectionRow]:
    """The findings the cycles' results counted (察访核验), per unit, the largest deductions first:
    one query over the cycles' inputs."""
    if not cycles:
        return []
    by_unit: dict[Any, InspectionRow] = {}
    for unit_id, code, name, raw in db_session.execute(
            select(CycleSubject.unit_id, CycleSubject.code, CycleSubject.name, CycleSubject.inputs["inspection"])
            .where(CycleSubject.cycle_id.in_([c.id for c in cycles]), CycleSubject.kind == "unit")
            .order_by(CycleSubject.cycle_id)):
        found = _findings(raw)
        if not found:
            continue
        key = unit_id if unit_id is not None else code
        row = by_unit.setdefault(key, InspectionRow(code, name, []))
        row.findings.extend(found)
    return sorted(by_unit.values(), key=lambda r: (-r.deductions, r.code))


@dataclass
class ReportRow:
    unit_id: int | None
    code: str
    name: str
    kind: str | None
    reported: int
    minimum: int | None          # the year's minimum for the unit's kind
    shortfall: Fraction | None   # points deducted (the annual cycle's), None: not assessed yet
    due: int | None = None       # the pro-rated target by the end of a quarter (⌈minimum × quarters ÷ 4⌉)

    @property
    def target(self) -> int | None:
        """What the count is held against: the pro-rated target in a quarter, else the year's minimum."""
        return self.due if self.due is not None else self.minimum

    @property
    def missing(self) -> int | None:
        return None if self.target is None else max(0, self.target - self.reported)


@dataclass
class Reports:
    """The bulletin's information reports (信息报送): the annual results' counts and deductions
    (``until`` None), or the items recorded before ``until`` (the end of the main quarter) held
    against the pace of the year's minimum after ``quarters`` quarters."""

    rows: list[ReportRow]
    until: date | None = None
    quarters: int | None = None
    limited: bool = False        # only the user's own units (live counts shown to a unit head)

    @property
    def last_day(self) -> date | None:
        return None if self.until is None else self.until - timedelta(days=1)


def due_by(minimum: int | None, quarters: int) -> int | None:
    """The pace of the year's minimum after ``quarters`` quarters: ⌈minimum × quarters ÷ 4⌉ (the
    reports page's assumption for the quarterly supervision)."""
    return None if minimum is None else -(-minimum * quarters // 4)


def report_rows(main: Rankings, scope: set[int] | None = None) -> Reports:
    """Information items (信息报送) per unit of the main cycle. In an annual cycle, what its results
    counted against the year's minimum for the unit's kind and the points deducted. In a quarter,
    the items recorded from 1 January to the end of that quarter (one grouped query), held against
    the minimum pro-rated to the quarters elapsed (:func:`due_by`), with no deduction: reporting is
    assessed in annual cycles only. Those live counts are records, not published results: ``scope``
    (:func:`plugins.gov_public_evaluation.policy.readable_units`, None for every unit) keeps a unit
    head to their own units. The units with the most items missing first."""
    if main.annual:
        rows = [ReportRow(r.unit_id, r.code, r.name, r.kind, r.reported or 0, r.minimum, r.shortfall)
                for r in main.rows]
        return Reports(sorted(rows, key=lambda r: (-(r.missing or 0), r.code)))
    from plugins.gov_public_evaluation.reports.models import InfoReport as I

    year = int(main.cycle.period[:4])
    _first, until = derived.period_bounds(main.cycle.period)
    quarters = QUARTERS.index(main.cycle.period[5:]) + 1
    units = [r for r in main.rows if scope is None or r.unit_id in scope]
    statement = (select(I.unit_id, func.count()).where(I.day >= date(year, 1, 1), I.day < until)
                 .group_by(I.unit_id))
    if scope is not None:
        statement = statement.where(I.unit_id.in_(sorted(scope)))
    counted = dict(db_session.execute(statement).all()) if units else {}
    minimum = settings_of(main.cycle.settings).info_report_minimum.model_dump()
    rows = []
    for r in units:
        least = minimum.get(r.kind or "")
        rows.append(ReportRow(r.unit_id, r.code, r.name, r.kind, int(counted.get(r.unit_id, 0)), least, None,
                              due_by(least, quarters)))
    return Reports(sorted(rows, key=lambda r: (-(r.missing or 0), r.code)), until, quarters, scope is not None)


@dataclass
class Bulletin:
    """An analysis bulletin (分析通报): the half year (``half``) or the year (``annual``)."""

    year: int
    part: str
    issued: date
    progress: Progress
    main: Rankings | None                 # the latest period's results (the year's own in the annual one)
    participation: list[Participation]
    inspections: list[InspectionRow]
    reports: Reports

    @property
    def cycles(self) -> list[Cycle]:
        return [c.cycle for c in self.progress.columns if c.cycle is not None]

    @property
    def empty(self) -> bool:
        return self.main is None


def bulletin(year: int, part: str, visible: Callable[[str], bool], scope: set[int] | None = None) -> Bulletin:
    """The half-year bulletin (June: the first and second quarters; the results of the second, or
    of the first while the second has none) or the annual one (November: the year's quarters and
    the annual cycle, whose results it reports; the latest quarter's while there is none).
    ``scope``: the units whose records the user reads (None: every unit), for the information
    reports counted from the records (see :func:`report_rows`)."""
    if part == "half":
        periods = [f"{year}-{q}" for q in HALF_QUARTERS]
    else:
        periods = [f"{year}-{q}" for q in QUARTERS] + [str(year)]
    table = progress(year, visible, periods)
    shown = table.shown
    main_column = next((c for c in shown if c.annual), None) or (shown[-1] if shown else None)
    if main_column is None:
        return Bulletin(year, part, today(), table, None, [], [], Reports([]))
    main = with_heads(rankings(main_column.cycle, check_records=False))
    # The findings: the annual cycle's (the whole year), else the quarters' together.
    sources = [main_column.cycle] if main_column.annual else [c.cycle for c in shown]
    return Bulletin(year, part, today(), table, main,
                    participation([c.cycle for c in shown], detail=main.cycle.id),
                    inspections(sources), report_rows(main, scope))
