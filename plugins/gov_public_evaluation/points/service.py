"""Indicator points (指标考核) of a township cycle: what each unit earned on each second-level
indicator that applies to it, entered by the efficiency office from collected data with an evidence
note, and the year-end verification marks (年终核查) of annual cycles.

The indicators are the cycle's own tree (``settings_of(cycle.settings)``: the tree the cycle was
created with); an indicator applies to a unit when :func:`plugins.gov_public_evaluation.indicators.applies`
says so for the unit's code and kind as the cycle's subject records them. Points are exact decimal
text from 0 to the indicator's maximum; an indicator without an entry earns 0, and clearing an entry
removes it (after a confirmation step). Changing the points clears the verification mark; changing
only the evidence note keeps it.

Every write locks the cycle's row first and reads its state afresh (a publication waits, or the
write sees it published), checks the entry against the one the form was read at, by its stamp (id
and entering moment) and its version (two editors at once: the second is refused; an entry cleared
and entered anew meanwhile is another entry, whatever its version), is audited, and brings the
unit's derived inputs in step (:func:`plugins.gov_public_evaluation.derived.refresh_units`).
Reading: a few queries per page, never one per unit or row. Nothing here commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.audit import record, snapshot
from core.cycles.service import DERIVED_STATES, CycleError
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit
from core.models.base import utcnow
from core.scoring.numbers import exact_sum, text
from plugins.gov_public_evaluation import derived, settings_of
from plugins.gov_public_evaluation.indicators import applies
from plugins.gov_public_evaluation.points.models import IndicatorEntry

POINTS_CHARS = 16  # the column's size; 15 digits at most, which the derived inputs keep exactly
POINTS_PLACES = 6
EVIDENCE_MAX = 2000
NOTE_MAX = 500
AUDITED = ("cycle_id", "unit_id", "code", "points", "evidence", "entered_by", "verified_by", "verification_note")


class PointsError(Exception):
    """A write is refused: ``message`` for the row or page, ``errors`` by field (``points``,
    ``evidence``, ``note``), HTTP ``status`` (422 the values, 409 a concurrent change or a cycle no
    longer taking points, 404 an indicator that is not the unit's)."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


# ----------------------------------------------------------------------------------- the cycle's tree

@dataclass(frozen=True)
class Leaf:
    """A second-level indicator of the cycle's tree, with its first-level indicator."""

    code: str
    name: str
    max: Fraction
    units: tuple[str, ...]
    group: str
    group_name: str

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def max_text(self) -> str:
        return text(self.max, 30)


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    leaves: tuple[Leaf, ...]

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


def tree_of(cycle: Cycle) -> tuple[Group, ...]:
    """The cycle's indicator tree (the one it was created with)."""
    groups = []
    for g in settings_of(cycle.settings or {}).indicators:
        groups.append(Group(g.code, g.name, tuple(Leaf(c.code, c.name, c.max, tuple(c.units), g.code, g.name)
                                                  for c in g.children)))
    return tuple(groups)


def leaves_of(groups: tuple[Group, ...]) -> dict[str, Leaf]:
    return {leaf.code: leaf for g in groups for leaf in g.leaves}


def applicable(groups: tuple[Group, ...], unit_code: str, unit_kind: str | None) -> list[tuple[Group, list[Leaf]]]:
    """Per first-level indicator, the second-level ones that apply to the unit (groups left empty are kept)."""
    return [(g, [leaf for leaf in g.leaves if applies(leaf.units, unit_code, unit_kind or "")]) for g in groups]


def is_annual(cycle: Cycle) -> bool:
    """Year-end verification (年终核查) is for annual cycles."""
    return derived.is_annual(cycle.period)


def editable(cycle: Cycle) -> bool:
    """Points follow the records until the results are published (draft, open, review)."""
    return cycle.state in DERIVED_STATES


# ----------------------------------------------------------------------------------- reading

def units_statement(cycle: Cycle, scope: set[int] | None = None, kind: str | None = None) -> Select:
    """The cycle's units (subjects of kind unit), in the org's order: all, or those in ``scope``,
    of one unit kind. For :func:`core.web.paginate`."""
    statement = (select(CycleSubject).outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
                 .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit")
                 .order_by(OrgUnit.sort_order, CycleSubject.code))
    if scope is not None:
        statement = statement.where(CycleSubject.unit_id.in_(sorted(scope) or [-1]))
    if kind:
        statement = statement.where(CycleSubject.unit_kind == kind)
    return statement


def subject_of(cycle: Cycle, unit_id: int) -> CycleSubject | None:
    """The unit's subject in the cycle, or None (not one of its units)."""
    return db_session.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id,
                                                        CycleSubject.kind == "unit", CycleSubject.unit_id == unit_id))


def neighbours(cycle: Cycle, unit_id: int, scope: set[int] | None = None) -> tuple[int | None, int | None]:
    """The units before and after this one in the cycle's order (within ``scope``); one query of ids."""
    ids = list(db_session.scalars(units_statement(cycle, scope).with_only_columns(CycleSubject.unit_id)))
    if unit_id not in ids:
        return None, None
    at = ids.index(unit_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


def entries_of(cycle: Cycle, unit_ids: Iterable[int]) -> dict[int, dict[str, IndicatorEntry]]:
    """The entries of these units in the cycle, by unit and code; one query."""
    ids = sorted(set(unit_ids))
    found: dict[int, dict[str, IndicatorEntry]] = {}
    if not ids:
        return found
    for entry in db_session.scalars(select(IndicatorEntry).where(IndicatorEntry.cycle_id == cycle.id,
                                                                 IndicatorEntry.unit_id.in_(ids))):
        found.setdefault(entry.unit_id, {})[entry.code] = entry
    return found


@dataclass
class GroupSum:
    group: Group
    earned: Fraction
    most: Fraction  # the maxima that apply to the unit
    entered: int
    applicable: int
    verified: int


@dataclass
class UnitSummary:
    """One unit's points per first-level indicator and in all, and how far entry and verification are."""

    groups: list[GroupSum]
    earned: Fraction
    most: Fraction
    entered: int
    applicable: int
    verified: int

    @property
    def complete(self) -> bool:
        return self.entered >= self.applicable


def summary(groups: tuple[Group, ...], subject: CycleSubject, entries: dict[str, IndicatorEntry]) -> UnitSummary:
    """The unit's subtotals from its entries (only the indicators that apply to it count)."""
    sums = []
    for group, leaves in applicable(groups, subject.code, subject.unit_kind):
        mine = [entries[leaf.code] for leaf in leaves if leaf.code in entries]
        sums.append(GroupSum(group, exact_sum([Fraction(e.points) for e in mine]),
                             exact_sum([leaf.max for leaf in leaves]), len(mine), len(leaves),
                             sum(1 for e in mine if e.verified_at is not None)))
    return UnitSummary(sums, exact_sum([s.earned for s in sums]), exact_sum([s.most for s in sums]),
                       sum(s.entered for s in sums), sum(s.applicable for s in sums), sum(s.verified for s in sums))


@dataclass
class Progress:
    """The cycle's entry and verification progress over the units the reader sees."""

    units: int = 0
    complete: int = 0
    entered: int = 0
    applicable: int = 0
    verified: int = 0


def applying(groups: tuple[Group, ...]) -> ColumnElement[bool]:
    """SQL: the entry (``IndicatorEntry``, joined with the unit's ``CycleSubject``) is on an
    indicator of the cycle's tree that applies to the unit, as :func:`applies` decides: one term per
    distinct ``units`` setting (its codes, and the subject's code or kind listed when not empty)."""
    classes: dict[tuple[str, ...], list[str]] = {}
    for group in groups:
        for leaf in group.leaves:
            classes.setdefault(leaf.units, []).append(leaf.code)
    terms = []
    for units, codes in classes.items():
        term = IndicatorEntry.code.in_(codes)
        if units:
            term = and_(term, or_(CycleSubject.code.in_(units), CycleSubject.unit_kind.in_(units)))
        terms.append(term)
    return or_(*terms) if terms else false()


def progress(cycle: Cycle, groups: tuple[Group, ...], scope: set[int] | None = None) -> Progress:
    """Entered / applicable indicators, verified entries and complete units of the cycle (within
    ``scope``): the subjects' codes and kinds (one query) and, per unit, its entries on the
    indicators that apply to it (one grouped query; an entry on an indicator that does not apply to
    the unit, or that the cycle's tree lacks, counts nowhere)."""
    statement = select(CycleSubject.unit_id, CycleSubject.code, CycleSubject.unit_kind).where(
        CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit")
    counts = (select(IndicatorEntry.unit_id, func.count(), func.count(IndicatorEntry.verified_at))
              .join(CycleSubject, and_(CycleSubject.cycle_id == IndicatorEntry.cycle_id,
                                       CycleSubject.unit_id == IndicatorEntry.unit_id, CycleSubject.kind == "unit"))
              .where(IndicatorEntry.cycle_id == cycle.id, applying(groups)).group_by(IndicatorEntry.unit_id))
    if scope is not None:
        statement = statement.where(CycleSubject.unit_id.in_(sorted(scope) or [-1]))
        counts = counts.where(IndicatorEntry.unit_id.in_(sorted(scope) or [-1]))
    entered = {unit_id: (int(n), int(v)) for unit_id, n, v in db_session.execute(counts)}
    result = Progress()
    by_kind: dict[tuple[str, str | None], int] = {}
    for unit_id, code, kind in db_session.execute(statement):
        key = (code, kind)
        if key not in by_kind:
            by_kind[key] = sum(len(leaves) for _g, leaves in applicable(groups, code, kind))
        n, v = entered.get(unit_id, (0, 0))
        result.units += 1
        result.applicable += by_kind[key]
        result.entered += min(n, by_kind[key])
        result.verified += v
        result.complete += n >= by_kind[key]
    return result


# ----------------------------------------------------------------------------------- checking values

def points_text(raw: str, leaf: Leaf) -> str:
    """The points as stored: exact decimal text without needless zeros, 0 to the maximum.
    :raises PointsError: 422, naming the indicator, the value and the allowed range."""
    value = raw.strip()
    allowed = _("allowed: an exact decimal from 0 to %(max)s, such as 3 or 2.5", max=leaf.max_text)
    try:
        if not value or len(value) > 40 or "e" in value.lower() or "_" in value:
            raise InvalidOperation
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise PointsError(_("Not saved."), {"points": _(
            "Points of %(indicator)s: “%(value)s” is not a number; %(allowed)s.", indicator=leaf.label, value=value,
            allowed=allowed)}) from None
    exact_value = Fraction(number)
    if not 0 <= exact_value <= leaf.max:
        raise PointsError(_("Not saved."), {"points": _(
            "Points of %(indicator)s: %(value)s is outside the allowed range 0 to %(max)s.", indicator=leaf.label,
            value=value, max=leaf.max_text)})
    normal = "0" if number == 0 else format(number.normalize(), "f")
    if "." in normal and len(normal.split(".")[1]) > POINTS_PLACES:
        raise PointsError(_("Not saved."), {"points": _(
            "Points of %(indicator)s: “%(value)s” has more than %(places)s decimal places; %(allowed)s.",
            indicator=leaf.label, value=value, places=POINTS_PLACES, allowed=allowed)})
    if len(normal) > POINTS_CHARS:
        raise PointsError(_("Not saved."), {"points": _(
            "Points of %(indicator)s: “%(value)s” has too many digits; allowed: at most %(n)s characters.",
            indicator=leaf.label, value=value, n=POINTS_CHARS)})
    return normal


# ----------------------------------------------------------------------------------- writing

def lock_cycle(cycle: Cycle) -> Cycle:
    """Lock the cycle's row and read it afresh (a publication waits for the write, or the write sees it)."""
    db_session.execute(select(Cycle).where(Cycle.id == cycle.id).with_for_update()
                       .execution_options(populate_existing=True))
    return cycle


def _taking_points(cycle: Cycle) -> None:
    if not editable(cycle):
        from plugins.gov_public_evaluation.web import cycle_state_name

        raise PointsError(_("This cycle is %(state)s: its points no longer change.",
                            state=cycle_state_name(cycle.state)), status=409)


def _locked_entry(cycle: Cycle, unit_id: int, code: str) -> IndicatorEntry | None:
    return db_session.scalar(select(IndicatorEntry).where(IndicatorEntry.cycle_id == cycle.id,
                                                          IndicatorEntry.unit_id == unit_id,
                                                          IndicatorEntry.code == code)
                             .with_for_update().execution_options(populate_existing=True))


def _version(raw: Any) -> int | None:
    raw = str(raw or "").strip()
    return int(raw) if raw.isdigit() else None


_EPOCH = datetime(1970, 1, 1)


def _micros(moment: datetime) -> int:
    """A moment as whole microseconds since 1970 UTC, as either database gives it back (SQLite: naive
    UTC; PostgreSQL: aware)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def entry_stamp(entry: IndicatorEntry | None) -> str:
    """What names an entry in a form (``entry``, next to its ``version``): its id and the moment it
    was entered, ``id-micros``. The id alone is not enough: SQLite gives a new row the id of the
    last one deleted, and a new entry starts again at version 1; its entering moment differs."""
    return "" if entry is None else f"{entry.id}-{_micros(entry.entered_at)}"


def _expected(stamp: Any, version: Any) -> tuple[int, int, int | None] | None:
    """The entry the form was read at: (its id, its entering moment, its version), or None when the
    form had no entry (no stamp: a version alone names no entry, since a new entry starts again at 1)."""
    match = re.fullmatch(r"(\d+)-(\d+)", str(stamp or "").strip())
    return None if match is None else (int(match.group(1)), int(match.group(2)), _version(version))


def _who(actor: str | None) -> str:
    from core.web import actor_name

    return actor_name(actor) or _("someone else")


def _check_version(leaf_label: str, entry: IndicatorEntry | None,
                   expected: tuple[int, int, int | None] | None) -> None:
    """The entry is still the one the form was read at (``expected``, see :func:`_expected`): none,
    or the same entry (its id and entering moment) at the same version. A form read before the
    entry was cleared and entered anew names the old entry: refused, though the new entry's version
    (and, on SQLite, its id) may be the same."""
    if entry is None and expected is not None:
        raise PointsError(_("The points of %(indicator)s were removed by someone else meanwhile; nothing was saved. "
                            "The row shows what is stored now: check it, then save again.",
                            indicator=leaf_label), status=409)
    if entry is not None and (expected is None or expected[0] != entry.id):
        raise PointsError(_("%(who)s entered %(points)s points on %(indicator)s meanwhile; nothing was saved. "
                            "The row shows what is stored now next to your input: check it, then save again.",
                            who=_who(entry.entered_by), points=entry.points, indicator=leaf_label), status=409)
    if entry is not None and entry.version != expected[2]:
        raise PointsError(_("%(who)s changed %(indicator)s meanwhile (now %(points)s points); nothing was saved. "
                            "The row shows what is stored now next to your input: check it, then save again.",
                            who=_who(entry.entered_by), indicator=leaf_label, points=entry.points), status=409)
    if entry is not None and _micros(entry.entered_at) != expected[1]:  # the same id and version: another entry
        raise PointsError(_("%(who)s entered %(points)s points on %(indicator)s meanwhile; nothing was saved. "
                            "The row shows what is stored now next to your input: check it, then save again.",
                            who=_who(entry.entered_by), points=entry.points, indicator=leaf_label), status=409)


def _refresh(cycle: Cycle, subject: CycleSubject, actor: str) -> None:
    try:
        derived.refresh_units([subject.unit_id], actor, cycle=cycle)
    except CycleError as exc:
        raise PointsError(_("Not saved: %(reason)s", reason=str(exc)), status=409) from None


def _flush() -> None:
    """Flush, turning a concurrent write (the same row inserted, updated or deleted meanwhile) into a 409."""
    try:
        db_session.flush()
    except (IntegrityError, StaleDataError):
        raise PointsError(_("Someone else saved this row at the same moment; nothing was saved. Reload the page "
                            "to see what is stored."), status=409) from None


@dataclass
class Saved:
    """What a save did: ``created``, ``updated``, ``cleared``, ``unchanged`` or ``confirm`` (a clear
    waiting for its confirmation), and the entry as it is now."""

    action: str
    entry: IndicatorEntry | None


def save(cycle: Cycle, subject: CycleSubject, leaf: Leaf, points: str, evidence: str, version: Any, actor: str,
         confirm: bool = False, stamp: Any = None) -> Saved:
    """Enter, change or clear the unit's points on one indicator.

    ``stamp`` (:func:`entry_stamp`) and ``version``: the entry the form was read at (both empty:
    there was none).
    Empty points clear the entry (the unit earns 0 on it): refused until ``confirm``. Points need an
    evidence note. Changing the points clears the verification mark.
    :raises PointsError: 422 (a value), 409 (the version, the cycle's state), 404 (not the unit's indicator).
    """
    lock_cycle(cycle)
    _taking_points(cycle)
    entry = _locked_entry(cycle, subject.unit_id, leaf.code)
    _check_version(leaf.label, entry, _expected(stamp, version))
    fits = applies(leaf.units, subject.code, subject.unit_kind or "")
    points, evidence = (points or "").strip(), (evidence or "").strip()
    if not points:
        if entry is None:
            if evidence:
                raise PointsError(_("Not saved."), {"points": _(
                    "Points of %(indicator)s: empty; enter the points (0 to %(max)s) the evidence note is for, or "
                    "leave both empty.", indicator=leaf.label, max=leaf.max_text)})
            return Saved("unchanged", None)
        if not confirm:
            return Saved("confirm", entry)
        record("township.points.clear", entry, before=snapshot(entry, AUDITED), actor=actor)
        db_session.delete(entry)
        _flush()
        _refresh(cycle, subject, actor)
        return Saved("cleared", None)
    if not fits:
        raise PointsError(_("Not saved."), {"points": _(
            "Points of %(indicator)s: it does not apply to %(unit)s (%(kind)s); clear this entry.",
            indicator=leaf.label, unit=subject.name, kind=kind_name(subject.unit_kind))})
    errors: dict[str, str] = {}
    normal = None
    try:
        normal = points_text(points, leaf)
    except PointsError as exc:
        errors.update(exc.errors)
    if not evidence:
        errors["evidence"] = _("Evidence note of %(indicator)s: required when points are entered; name the data they "
                               "were entered from (a statistic, a report, a document).", indicator=leaf.label)
    elif len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = _("Evidence note of %(indicator)s: %(length)s characters; allowed: at most %(max)s.",
                               indicator=leaf.label, length=len(evidence), max=EVIDENCE_MAX)
    if errors:
        raise PointsError(_("Not saved: correct the fields marked in the row."), errors)
    if entry is None:
        entry = IndicatorEntry(cycle_id=cycle.id, unit_id=subject.unit_id, code=leaf.code, points=normal,
                               evidence=evidence, entered_by=actor, entered_at=utcnow())
        db_session.add(entry)
        _flush()
        record("township.points.enter", entry, after=snapshot(entry, AUDITED), actor=actor)
        _refresh(cycle, subject, actor)
        return Saved("created", entry)
    changed_points = Fraction(entry.points) != Fraction(normal)
    if not changed_points and entry.points == normal and entry.evidence == evidence:
        return Saved("unchanged", entry)
    before = snapshot(entry, AUDITED)
    entry.points, entry.evidence, entry.entered_by, entry.entered_at = normal, evidence, actor, utcnow()
    if changed_points and entry.verified_at is not None:  # the verified value is no longer the one stored
        entry.verified_at, entry.verified_by, entry.verification_note = None, None, ""
    _flush()
    record("township.points.change", entry, before=before, after=snapshot(entry, AUDITED), actor=actor)
    if changed_points:
        _refresh(cycle, subject, actor)
    return Saved("updated", entry)


def _verifiable(cycle: Cycle) -> None:
    lock_cycle(cycle)
    if not is_annual(cycle):
        raise PointsError(_("Year-end verification (年终核查) is for annual cycles; %(period)s is a quarter.",
                            period=cycle.period), status=409)
    _taking_points(cycle)


def verify(cycle: Cycle, subject: CycleSubject, leaf: Leaf, version: Any, note: str, actor: str,
           mark: bool = True, stamp: Any = None) -> IndicatorEntry:
    """Mark the unit's entry on one indicator verified (with an optional note), or unmark it.
    ``stamp`` and ``version``: the entry the page showed. Only an entry on an indicator that
    applies to the unit is marked (the scoring refuses the others: they are cleared, not verified).
    :raises PointsError: 409 (no entry, a changed entry, an indicator that does not apply, not an
        annual cycle, the cycle's state), 422 (the note)."""
    _verifiable(cycle)
    entry = _locked_entry(cycle, subject.unit_id, leaf.code)
    if entry is None:
        raise PointsError(_("%(indicator)s has no points entered: there is nothing to verify.",
                            indicator=leaf.label), status=409)
    _check_version(leaf.label, entry, _expected(stamp, version))
    if mark and not applies(leaf.units, subject.code, subject.unit_kind or ""):
        raise PointsError(_("%(indicator)s does not apply to %(unit)s (%(kind)s): the scoring refuses its entry; "
                            "clear it instead of verifying it.", indicator=leaf.label, unit=subject.name,
                            kind=kind_name(subject.unit_kind)), status=409)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise PointsError(_("Not saved."), {"note": _(
            "Verification note of %(indicator)s: %(length)s characters; allowed: at most %(max)s.",
            indicator=leaf.label, length=len(note), max=NOTE_MAX)})
    before = snapshot(entry, AUDITED)
    if mark:
        entry.verified_at, entry.verified_by, entry.verification_note = utcnow(), actor, note
    elif entry.verified_at is None:
        return entry
    else:
        entry.verified_at, entry.verified_by, entry.verification_note = None, None, ""
    _flush()
    record("township.points.verify" if mark else "township.points.unverify", entry, before=before,
           after=snapshot(entry, AUDITED), actor=actor)
    return entry


def seen_text(entries: dict[str, IndicatorEntry]) -> str:
    """The entries a page shows, as its verify-all form carries them: ``code:stamp:version`` (the
    stamp, :func:`entry_stamp`: an entry cleared and entered anew is another entry, though its
    version may be the same)."""
    return " ".join(f"{code}:{entry_stamp(e)}:{e.version}" for code, e in sorted(entries.items()))


def verify_all(cycle: Cycle, subject: CycleSubject, groups: tuple[Group, ...], seen: str, note: str,
               actor: str) -> int:
    """Mark every unverified entry of the unit verified at once, when the entries are still those the
    page showed (``seen``: :func:`seen_text`); all or nothing. :return: how many were marked."""
    _verifiable(cycle)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise PointsError(_("Not saved."), {"note": _("Verification note: %(length)s characters; allowed: at most "
                                                      "%(max)s.", length=len(note), max=NOTE_MAX)})
    entries = {e.code: e for e in db_session.scalars(
        select(IndicatorEntry).where(IndicatorEntry.cycle_id == cycle.id, IndicatorEntry.unit_id == subject.unit_id)
        .with_for_update().execution_options(populate_existing=True))}
    if seen_text(entries) != " ".join(sorted((seen or "").split())):
        raise PointsError(_("The points of %(unit)s changed since the page was opened; nothing was marked. Check the "
                            "entries shown now, then verify them again.", unit=subject.name), status=409)
    leaves = leaves_of(groups)
    fits = {leaf.code for _g, ls in applicable(groups, subject.code, subject.unit_kind) for leaf in ls}
    marked = 0
    stamp = utcnow()
    for code, entry in sorted(entries.items()):
        if entry.verified_at is not None or code not in fits or code not in leaves:
            continue
        before = snapshot(entry, AUDITED)
        entry.verified_at, entry.verified_by, entry.verification_note = stamp, actor, note
        marked += 1
        record("township.points.verify", entry, before=before, after=snapshot(entry, AUDITED), actor=actor)
    _flush()
    return marked


def stale_entries(groups: tuple[Group, ...], subject: CycleSubject,
                  entries: dict[str, IndicatorEntry]) -> list[IndicatorEntry]:
    """Entries of the unit on indicators that do not apply to it (or are not in the cycle's tree):
    the scoring refuses them; the page lets the office clear them."""
    fits = {leaf.code for _g, ls in applicable(groups, subject.code, subject.unit_kind) for leaf in ls}
    return [e for code, e in sorted(entries.items()) if code not in fits]


def kind_name(kind: str | None) -> str:
    """A unit kind as the reader names it (村, 部门), not its key."""
    from core.org.forms import UNIT_KIND_LABELS

    return str(UNIT_KIND_LABELS.get(kind or "", kind or ""))


def leaf_for(groups: tuple[Group, ...], code: str) -> Leaf | None:
    """The cycle's second-level indicator ``code``, or None."""
    return leaves_of(groups).get(code)


def stray_leaf(code: str) -> Leaf:
    """Stands for a stored entry's code the cycle's tree does not have (only clearing it is possible)."""
    return Leaf(code, code, Fraction(0), ("-",), "", "")

