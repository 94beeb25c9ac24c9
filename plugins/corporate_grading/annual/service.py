"""The annual cycle: its inputs collected from the year's records, its outputs (rankings, best,
promotion candidates, the bonus distribution table).

Set-based like the core's cycle service: a few queries per cycle, never one per subject; works in
the caller's transaction and never commits.

- :func:`collect` fills an annual (``YYYY``) corporate cycle's ``monthly_scores`` from the year's
  published or closed monthly cycles, ``target_items`` from the scored responsibility letters and a
  person's ``quality`` from the answered 360 reviews, keeping every other key (``adjust``, ``review``).
- :func:`rankings`, :func:`best`, :func:`promotion_candidates` and :func:`bonus_table` read a
  computed cycle's stored results (after appeals) and apply the tenant's output rules
  (``best_rule``, ``promotion_rule``, ``bonus_coefficients``; defaults, see the settings).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from core.audit import record
from core.cycles import service as cycles
from core.cycles.service import CycleError
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject
from core.scoring.blocks import competition_ranks
from core.scoring.numbers import NumberError, exact, round_half_up, text
from plugins.corporate_grading.annual.models import BonusBase

SCHEME_ID = "corporate-grading"
GRADES = ("A", "B", "C", "D")  # best first
PUBLISHED = ("published", "closed")
# The ranking lists of the outputs page: units, all staff, staff of each class.
LISTS = ("unit", "person", "A", "B", "C")
BEST_LISTS = ("unit", "A", "B", "C")  # "best" is named per list of comparable subjects
MAX_BASE = Decimal("1000000000")  # a bonus base below one billion (Numeric(14, 2) holds it)


def is_annual(cycle: Cycle) -> bool:
    return cycle.scheme_id == SCHEME_ID and len(cycle.period) == 4


def settings_of(cycle: Cycle):
    """The cycle's settings as the model (a cycle made before an output setting existed gets its default)."""
    from plugins.corporate_grading import CorporateGradingSettings

    return CorporateGradingSettings.model_validate(cycle.settings or {})


def at_least(grade: str | None, lowest: str) -> bool:
    """Is ``grade`` ``lowest`` or better (A is best)?"""
    return grade in GRADES and GRADES.index(grade) <= GRADES.index(lowest)


# ----------------------------------------------------------------------------------- the year's months

def monthly_cycles(year: str) -> list[Cycle]:
    """The monthly corporate cycles that feed the year: published or closed, one per month (the
    latest published when a month has several), in month order. One query."""
    rows = db_session.scalars(select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.period.like(f"{year}-%"),
                                                  Cycle.state.in_(PUBLISHED))
                              .order_by(Cycle.period, Cycle.published_at.desc(), Cycle.id.desc()))
    chosen: dict[str, Cycle] = {}
    for cycle in rows:
        if len(cycle.period) == 7:
            chosen.setdefault(cycle.period, cycle)
    return [chosen[period] for period in sorted(chosen)]


@dataclass(frozen=True)
class Month:
    period: str
    score: Decimal
    grade: str | None


def monthly_results(year: str, months: list[Cycle] | None = None) -> dict[tuple[str, str], list[Month]]:
    """Each subject's final monthly results of the year (scores after appeals), by ``(kind, code)``,
    in month order. Two queries."""
    months = monthly_cycles(year) if months is None else months
    if not months:
        return {}
    period_of = {c.id: c.period for c in months}
    rows = db_session.execute(
        select(CycleSubject.kind, CycleSubject.code, CycleResult.cycle_id, CycleResult.score, CycleResult.grade)
        .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
        .where(CycleResult.cycle_id.in_(list(period_of)), CycleResult.score.is_not(None)))
    found: dict[tuple[str, str], list[Month]] = {}
    for kind, code, cycle_id, score, grade in rows:
        found.setdefault((kind, code), []).append(Month(period_of[cycle_id], score, grade))
    for months_of in found.values():
        months_of.sort(key=lambda m: m.period)
    return found


# ----------------------------------------------------------------------------------- collecting

def letter_items(year: str) -> dict[tuple[str, int], list[dict]]:
    """Scored responsibility letters of the year: ``{("unit", unit_id) | ("person", person_id): items}``."""
    from plugins.corporate_grading.letters.service import letter_target_items

    return letter_target_items(year)


def quality_ratings(cycle: Cycle) -> dict[int, list[dict]]:
    """Answered 360 ratings of the cycle's people: ``{subject_id: [{"group", "score"}]}``."""
    from plugins.corporate_grading.reviews.service import quality_inputs

    return quality_inputs(cycle)


def _score_text(score: Decimal) -> str:
    return text(Fraction(score))


def collected_inputs(subject: CycleSubject, months: dict, letters: dict, ratings: dict) -> dict[str, Any]:
    """The subject's inputs with what the records know put in; other keys kept. A key whose source
    has nothing yet is left as it is (it may have been entered by hand)."""
    inputs = dict(subject.inputs or {})
    scores = months.get((subject.kind, subject.code))
    if scores:
        inputs["monthly_scores"] = [_score_text(m.score) for m in scores]
    owner = ("unit", subject.unit_id) if subject.kind == "unit" else ("person", subject.person_id)
    items = letters.get(owner)
    if items:
        inputs["target_items"] = [dict(item) for item in items]
        inputs.pop("target_score", None)  # a scorecard is a score or its items, never both
    if subject.kind == "person":
        quality = ratings.get(subject.id)
        if quality:
            inputs["quality"] = [dict(rating) for rating in quality]
    return inputs


def collect(cycle: Cycle, actor: str) -> int:
    """Fill every subject of an annual cycle from the year's monthly cycles, letters and 360 reviews.

    Each subject is written only if nobody saved its inputs since they were read (optimistic
    locking, one bulk update); audited once per cycle when anything changed.

    :return: the number of subjects whose inputs changed.
    :raises CycleError: when the cycle is not an annual corporate cycle, is no longer a draft or
        open, or a subject was changed meanwhile (the caller rolls back: nothing is kept).
    """
    if not is_annual(cycle):
        raise CycleError(_("Only an annual corporate cycle collects the year's results; %(name)s is %(period)s.",
                           name=cycle.name, period=cycle.period))
    if cycle.state not in cycles.EDITABLE_STATES:
        raise CycleError(_("Inputs can be changed while the cycle is a draft or open; it is %(state)s.",
                           state=cycle.state))
    months = monthly_cycles(cycle.period)
    results = monthly_results(cycle.period, months)
    letters = letter_items(cycle.period)
    ratings = quality_ratings(cycle)
    rows = cycles.subjects(cycle)
    stamp = cycles.now()
    updates = []
    for subject in rows:
        inputs = collected_inputs(subject, results, letters, ratings)
        if inputs != (subject.inputs or {}):
            updates.append({"sid": subject.id, "old": subject.inputs_version, "new": subject.inputs_version + 1,
                            "inputs": inputs, "by": actor, "at": stamp})
    if updates:
        table = CycleSubject.__table__
        stmt = (update(table)
                .where(table.c.id == bindparam("sid"), table.c.inputs_version == bindparam("old"),
                       table.c.tenant_id == cycle.tenant_id)
                .values(inputs=bindparam("inputs"), inputs_version=bindparam("new"),
                        inputs_updated_by=bindparam("by"), inputs_updated_at=bindparam("at")))
        written = db_session.connection().execute(stmt, updates).rowcount
        if written != len(updates):
            raise CycleError(_("Some subjects' inputs were changed by someone else while the year was collected; "
                               "nothing was collected. Try again."))
        for subject in rows:
            db_session.expire(subject)
        record("corp.annual.collect", cycle, after={"subjects": len(updates), "months": [c.period for c in months],
                                                    "letters": len(letters), "reviewed": len(ratings)}, actor=actor)
    return len(updates)


@dataclass
class Missing:
    """What an annual subject still lacks."""

    subject: CycleSubject
    months: int
    no_months: bool
    no_letter: bool
    no_quality: bool

    @property
    def anything(self) -> bool:
        return self.no_months or self.no_letter or self.no_quality


@dataclass
class Collection:
    months: list[Cycle]
    subjects: int
    missing: list[Missing]
    counts: dict[str, int] = field(default_factory=dict)


def collection(cycle: Cycle) -> Collection:
    """Per eligible subject what is still missing: no monthly scores, no scored letter (neither
    ``target_items`` nor ``target_score``), no 360 ratings (people); with counts. Two queries."""
    months = monthly_cycles(cycle.period)
    rows = cycles.subjects(cycle)
    found = []
    for subject in rows:
        inputs = subject.inputs or {}
        scores = inputs.get("monthly_scores") or []
        entry = Missing(subject=subject, months=len(scores) if isinstance(scores, list) else 0,
                        no_months=not scores,
                        no_letter=not inputs.get("target_items") and inputs.get("target_score") in (None, ""),
                        no_quality=subject.kind == "person" and not inputs.get("quality"))
        found.append(entry)
    counts = {"months": sum(m.no_months for m in found), "letter": sum(m.no_letter for m in found),
              "quality": sum(m.no_quality for m in found), "subjects": sum(m.anything for m in found)}
    return Collection(months=months, subjects=len(rows), missing=[m for m in found if m.anything], counts=counts)


# ----------------------------------------------------------------------------------- rankings

@dataclass(frozen=True)
class Ranked:
    result: CycleResult
    subject: CycleSubject
    rank: int | None  # competition rank within its list


def _results(cycle: Cycle) -> list[tuple[CycleResult, CycleSubject]]:
    return [(r, s) for r, s in db_session.execute(
        select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
        .where(CycleResult.cycle_id == cycle.id))]


def rankings(cycle: Cycle) -> dict[str, list[Ranked]]:
    """The cycle's ranking lists (after appeals): ``unit``, ``person`` (all staff) and each class
    ``A``, ``B``, ``C``; each ranked within itself, best first. One query."""
    pairs = _results(cycle)
    members: dict[str, list[tuple[CycleResult, CycleSubject]]] = {name: [] for name in LISTS}
    for result, subject in pairs:
        if subject.kind == "unit":
            members["unit"].append((result, subject))
        else:
            members["person"].append((result, subject))
            if subject.staff_class in members:
                members[subject.staff_class].append((result, subject))
    lists: dict[str, list[Ranked]] = {}
    for name, entries in members.items():
        ranks = competition_ranks((r.id, 0, r.score) for r, _s in entries)
        ranked = [Ranked(r, s, ranks.get(r.id)) for r, s in entries]
        ranked.sort(key=lambda x: (x.rank is None, x.rank or 0, x.subject.code))
        lists[name] = ranked
    return lists


def best(cycle: Cycle, lists: dict[str, list[Ranked]] | None = None) -> dict[str, list[Ranked]]:
    """The best of each list (units; staff of each class): grade at least ``best_rule.grade`` and
    ranked within the top ``best_rule.top`` of the list, ties at the last place included."""
    rule = settings_of(cycle).best_rule
    lists = rankings(cycle) if lists is None else lists
    return {name: [x for x in lists[name] if x.rank is not None and x.rank <= rule.top
                   and at_least(x.result.grade, rule.grade)]
            for name in BEST_LISTS}


@dataclass(frozen=True)
class Candidate:
    ranked: Ranked
    months: list[Month]


def promotion_candidates(cycle: Cycle, lists: dict[str, list[Ranked]] | None = None) -> list[Candidate]:
    """Annual cycles: the people whose annual grade is at least ``promotion_rule.annual_grade`` and
    none of whose monthly grades that year (the months feeding the year, after appeals) is below
    ``promotion_rule.lowest_monthly_grade``; someone without any monthly result that year is not
    a candidate (nothing shows the months). Best first."""
    if not is_annual(cycle):
        return []
    rule = settings_of(cycle).promotion_rule
    lists = rankings(cycle) if lists is None else lists
    people = [x for x in lists["person"] if at_least(x.result.grade, rule.annual_grade)]
    if not people:
        return []
    months = monthly_results(cycle.period)
    chosen = []
    for x in people:
        history = months.get(("person", x.subject.code), [])
        if history and all(at_least(m.grade, rule.lowest_monthly_grade) for m in history):
            chosen.append(Candidate(x, history))
    return chosen


# ----------------------------------------------------------------------------------- bonus

class BonusError(ValueError):
    """A bonus base that cannot be saved; the message names the field, the value and what is allowed."""


class StaleBase(BonusError):
    """The bonus base was changed by someone else since the form was shown, or cannot change any more."""


def parse_base(value: Any, where: str | None = None) -> Decimal:
    """A bonus base as written: a plain amount of 0 or more with at most 2 decimals (exact)."""
    label = where or _("Bonus base")
    shown = "" if value is None else str(value).strip()
    try:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        number = exact(value.strip() if isinstance(value, str) else value)
    except NumberError:
        number = None
    if number is None or number < 0 or number >= MAX_BASE or (number * 100).denominator != 1:
        raise BonusError(_("%(field)s: %(value)s is not allowed; allowed: an amount from 0 to 999999999.99 with "
                           "at most 2 decimals, such as 12000 or 8500.50.", field=label, value=repr(shown)))
    return Decimal(round_half_up(number, 2))


def bases(cycle: Cycle) -> dict[int, BonusBase]:
    """The cycle's bonus bases by person id: one query."""
    return {b.person_id: b for b in db_session.scalars(select(BonusBase).where(BonusBase.cycle_id == cycle.id))}


def set_base(cycle: Cycle, person_id: int, value: str, version: int | None, actor: str) -> BonusBase | None:
    """Set (or, with an empty value, clear) one person's bonus base, if nobody changed it since
    ``version`` (None: the form saw no base). Audited on the base itself (not on the person or the
    cycle, whose histories others may read). :raises BonusError: bad value, stale version, closed cycle."""
    if cycle.state == "closed":
        raise StaleBase(_("This cycle is closed: its bonus table can no longer be changed."))
    row = db_session.scalar(select(BonusBase).where(BonusBase.cycle_id == cycle.id, BonusBase.person_id == person_id))
    if (row.version if row else None) != version:
        raise StaleBase(_("This bonus base was changed by someone else; reload the page to see it."))
    text_value = (value or "").strip()
    if not text_value:
        if row is not None:
            record("corp.bonus_base", row, before={"base": str(row.base)}, after={"base": None}, actor=actor)
            db_session.delete(row)
            db_session.flush()
        return None
    amount = parse_base(text_value)
    before = {"base": str(row.base) if row else None}
    if row is None:
        row = BonusBase(cycle_id=cycle.id, person_id=person_id, base=amount, updated_by=actor)
        db_session.add(row)
    elif row.base == amount:
        return row
    else:
        row.base, row.updated_by = amount, actor
    db_session.flush()  # a stale row raises StaleDataError here, a concurrent insert IntegrityError
    record("corp.bonus_base", row, before=before, after={"base": str(amount)}, actor=actor)
    return row


@dataclass(frozen=True)
class BonusRow:
    subject: CycleSubject
    result: CycleResult | None
    base: BonusBase | None
    coefficient: Fraction | None
    bonus: Decimal | None


@dataclass(frozen=True)
class BonusTable:
    rows: list[BonusRow]
    coefficients: dict[str, Fraction]
    total_base: Decimal
    total_bonus: Decimal
    without_base: int
    without_result: int


def bonus_of(base: Decimal, coefficient: Fraction) -> Decimal:
    """base × coefficient, exact, rounded once to the cent, half up."""
    return round_half_up(Fraction(base) * coefficient, 2)


def bonus_table(cycle: Cycle) -> BonusTable:
    """Every assessed person of an annual cycle with their bonus base, annual grade, its coefficient
    and bonus (best first; people without a result last). Three queries."""
    coefficients = settings_of(cycle).bonus_coefficients
    factors = {grade: getattr(coefficients, grade) for grade in GRADES}
    results = {r.subject_id: r for r in db_session.scalars(select(CycleResult).where(CycleResult.cycle_id == cycle.id))}
    known = bases(cycle)
    rows = []
    for subject in cycles.subjects(cycle):
        if subject.kind != "person":
            continue
        result = results.get(subject.id)
        base = known.get(subject.person_id)
        factor = factors.get(result.grade) if result is not None else None
        bonus = bonus_of(base.base, factor) if base is not None and factor is not None else None
        rows.append(BonusRow(subject, result, base, factor, bonus))
    rows.sort(key=lambda r: (r.result is None or r.result.rank is None, r.result.rank if r.result and r.result.rank else 0,
                             r.subject.code))
    return BonusTable(rows=rows, coefficients=factors,
                      total_base=sum((r.base.base for r in rows if r.base), Decimal("0.00")),
                      total_bonus=sum((r.bonus for r in rows if r.bonus is not None), Decimal("0.00")),
                      without_base=sum(1 for r in rows if r.base is None),
                      without_result=sum(1 for r in rows if r.result is None))


IMPORT_COLUMNS = ("number", "name", "class", "grade", "bonus_base")


def import_bases(cycle: Cycle, rows: list[list[Any]], actor: str, own_person_id: int | None = None) -> int:
    """Bonus bases from an uploaded sheet: a header row naming the columns (``number`` and
    ``bonus_base`` required; ``name``, ``class``, ``grade`` ignored), one row per person. Every row is
    checked first; any problem and nothing is written (each named by row and column). An empty
    ``bonus_base`` leaves that person's base as it is. :return: the bases changed."""
    from core.cycles.bulk import ImportError_, _text

    if cycle.state == "closed":
        raise ImportError_([_("This cycle is closed: its bonus table can no longer be changed.")])
    if not rows:
        raise ImportError_([_("The file is empty.")])
    header = [_text(h) for h in rows[0]]
    problems = []
    unknown = [h for h in header if h and h not in IMPORT_COLUMNS]
    if unknown:
        problems.append(_("Row 1: unknown column(s) %(cols)s; allowed: %(allowed)s.", cols=", ".join(unknown),
                          allowed=", ".join(IMPORT_COLUMNS)))
    for required in ("number", "bonus_base"):
        if required not in header:
            problems.append(_("Row 1: the column %(col)s is missing.", col=required))
    if problems:
        raise ImportError_(problems)
    people = {s.code: s for s in cycles.subjects(cycle) if s.kind == "person"}
    wanted: dict[int, Decimal] = {}
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {h: _text(v) for h, v in zip(header, row) if h}
        code = values.get("number", "")
        if not any(values.values()):
            continue
        subject = people.get(code)
        if subject is None:
            problems.append(_("Row %(row)s, column number: %(value)s is not a person assessed in this cycle.",
                              row=number, value=code or "—"))
            continue
        if code in seen:
            problems.append(_("Row %(row)s, column number: %(value)s already appears in row %(first)s.",
                              row=number, value=code, first=seen[code]))
            continue
        seen[code] = number
        if not values.get("bonus_base"):
            continue
        if subject.person_id == own_person_id:
            problems.append(_("Row %(row)s, column number: %(value)s is your own record; another HR administrator "
                              "sets your bonus base.", row=number, value=code))
            continue
        try:
            wanted[subject.person_id] = parse_base(values["bonus_base"], _("Row %(row)s, column bonus_base", row=number))
        except BonusError as exc:
            problems.append(str(exc))
    if problems:
        raise ImportError_(problems)
    known = bases(cycle)
    changes = []
    for person_id, amount in wanted.items():
        row = known.get(person_id)
        if row is None:
            row = BonusBase(cycle_id=cycle.id, person_id=person_id, base=amount, updated_by=actor)
            db_session.add(row)
            changes.append((row, None))
        elif row.base != amount:
            changes.append((row, str(row.base)))
            row.base, row.updated_by = amount, actor
    db_session.flush()  # the new rows learn their ids; a row changed meanwhile raises StaleDataError
    for row, before in changes:
        record("corp.bonus_base", row, before={"base": before}, after={"base": str(row.base)}, actor=actor)
    return len(changes)
