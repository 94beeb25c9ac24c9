"""360 quality reviews of an annual corporate cycle (schemes.md §1, annual formulas).

Who rates whom comes from the org structure (:func:`bulk_assign`, set-based: a few queries for the
whole cycle), HR adjusts it (:func:`add_rater`, :func:`remove_rater`), raters answer
(:func:`answer`), and the answered ratings become each ratee's ``quality`` input
(:func:`quality_inputs`). Everything here works in the caller's transaction, audits every change and
never commits.

Rater groups per class (the scheme's ``QUALITY_GROUPS``):

- class A, leadership quality L: ``president`` (the president post holder's person), ``peer`` (the
  other class A people), ``unit_head`` (people whose accounts head the units the ratee oversees);
- class B, management quality M: ``leader`` (the leaders overseeing the ratee's unit or its nearest
  ancestor that has one), ``peer`` (other class B people whose unit has the same parent unit),
  ``subordinate`` (class C people of the ratee's unit and the units below it);
- class C, professional quality Q: ``superior`` (the person of an account heading the ratee's unit,
  or the nearest ancestor unit's head), ``peer`` (at most 4 other class C people of the same unit,
  the nearest in the order of staff numbers).

Nobody rates themselves; a person rates a ratee in one group only.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, insert, select

from core.audit import record
from core.cycles.service import EDITABLE_STATES, now
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, Person, RoleMembership, User
from core.org.service import descendants
from core.scoring.numbers import NumberError, exact
from plugins.corporate_grading.organisation.models import CorporatePost
from plugins.corporate_grading.organisation.service import oversight
from plugins.corporate_grading.reviews.models import ReviewAssignment
from plugins.corporate_grading.scoring import QUALITY_GROUPS

GROUPS: dict[str, tuple[str, ...]] = dict(QUALITY_GROUPS)
GROUP_LABELS = {
    "president": _l("President"),
    "peer": _l("Peers"),
    "unit_head": _l("Heads of overseen units"),
    "leader": _l("Supervising leaders"),
    "subordinate": _l("Subordinates"),
    "superior": _l("Superior"),
}
RATING_LOW, RATING_HIGH = Fraction(2), Fraction(5)
MAX_C_PEERS = 4
COMMENT_MAX = 2000


class ReviewError(ValueError):
    """A 360 review change that is not allowed; the message says why (and names the field)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleReview(ReviewError):
    """Someone else changed the assignment since the form was shown."""


def group_label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


def editable(cycle: Cycle) -> bool:
    """Assignments and ratings change while the cycle is a draft or open."""
    return cycle.state in EDITABLE_STATES


def _require_editable(cycle: Cycle) -> None:
    if not is_annual(cycle):
        raise ReviewError(_("360 reviews belong to annual cycles; %(period)s is a month.", period=cycle.period))
    if not editable(cycle):
        raise ReviewError(_("360 reviews can be changed while the cycle is a draft or open; it is %(state)s.",
                            state=cycle.state))


def is_annual(cycle: Cycle) -> bool:
    return len(cycle.period) == 4


# ----------------------------------------------------------------------------------- ratees

def ratees_stmt(cycle: Cycle):
    """The cycle's ratees: its eligible person subjects of a class with rater groups."""
    return (select(CycleSubject)
            .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "person",
                   CycleSubject.eligible.is_(True), CycleSubject.staff_class.in_(tuple(GROUPS)))
            .order_by(CycleSubject.code))


def is_ratee(cycle: Cycle, subject: CycleSubject | None) -> bool:
    return (subject is not None and subject.cycle_id == cycle.id and subject.kind == "person" and subject.eligible
            and subject.staff_class in GROUPS)


# ----------------------------------------------------------------------------------- the org's plan

def _nearest(unit_id: int | None, mapping: dict[int, list[int]], parents: dict[int, int | None],
             exclude: int | None = None) -> list[int]:
    """The people ``mapping`` gives for ``unit_id`` or, failing that, its nearest ancestor that has
    any (``exclude`` left out)."""
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        found = [p for p in mapping.get(unit_id, []) if p != exclude]
        if found:
            return found
        seen.add(unit_id)
        unit_id = parents.get(unit_id)
    return []


def planned(cycle: Cycle) -> dict[int, dict[str, list[int]]]:
    """Rater person ids per group for every ratee of the cycle, from the org structure.

    Six queries whatever the size: ratees, people, units, unit heads, the president, oversight.
    """
    ratees = list(db_session.scalars(ratees_stmt(cycle)))
    people = db_session.execute(select(Person.id, Person.number, Person.unit_id, Person.staff_class)
                                .where(Person.active.is_(True)).order_by(Person.number)).all()
    parents: dict[int, int | None] = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    heads: dict[int, list[int]] = defaultdict(list)
    for unit_id, person_id in db_session.execute(
            select(RoleMembership.unit_id, User.person_id).join(User, User.id == RoleMembership.user_id)
            .where(RoleMembership.role == "unit_head", RoleMembership.unit_id.is_not(None), User.active.is_(True),
                   User.person_id.is_not(None)).order_by(User.id)):
        if person_id not in heads[unit_id]:
            heads[unit_id].append(person_id)
    presidents = list(dict.fromkeys(db_session.scalars(
        select(User.person_id).join(CorporatePost, CorporatePost.user_id == User.id)
        .where(CorporatePost.post == "president", User.active.is_(True), User.person_id.is_not(None))
        .order_by(User.id))))
    overseen = oversight()
    overseers: dict[int, list[int]] = defaultdict(list)
    for person_id, units in overseen.items():
        for unit_id in units:
            overseers[unit_id].append(person_id)

    by_class: dict[str, list] = defaultdict(list)
    c_by_unit: dict[int, list[int]] = defaultdict(list)  # class C people per unit, in number order
    for person in people:
        by_class[person.staff_class].append(person)
        if person.staff_class == "C":
            c_by_unit[person.unit_id].append(person.id)
    below: dict[int, set[int]] = {}

    plan: dict[int, dict[str, list[int]]] = {}
    for subject in ratees:
        me, unit = subject.person_id, subject.unit_id
        groups: dict[str, list[int]] = {}
        if subject.staff_class == "A":
            groups["president"] = [p for p in presidents if p != me]
            groups["peer"] = [p.id for p in by_class["A"] if p.id != me and p.id not in presidents]
            groups["unit_head"] = [h for u in overseen.get(me, []) for h in heads.get(u, []) if h != me]
        elif subject.staff_class == "B":
            groups["leader"] = _nearest(unit, overseers, parents, exclude=me)
            parent = parents.get(unit)
            groups["peer"] = [p.id for p in by_class["B"] if p.id != me and p.unit_id in parents
                              and parents.get(p.unit_id) == parent]
            if unit not in below:
                below[unit] = descendants({unit}, parents)
            groups["subordinate"] = [p.id for p in by_class["C"] if p.unit_id in below[unit] and p.id != me]
        else:
            groups["superior"] = _nearest(unit, heads, parents, exclude=me)
            same = c_by_unit.get(unit, [])
            mine = same.index(me) if me in same else len(same)
            others = sorted((abs(i - mine), i) for i, p in enumerate(same) if p != me)
            groups["peer"] = [same[i] for _distance, i in others[:MAX_C_PEERS]]
        # a person rates a ratee once: the first group of the class that names them keeps them
        taken: set[int] = set()
        for group in GROUPS[subject.staff_class]:
            groups[group] = [p for p in dict.fromkeys(groups.get(group, [])) if p not in taken]
            taken.update(groups[group])
        plan[subject.id] = groups
    return plan


def bulk_assign(cycle: Cycle, actor: str) -> dict[str, int]:
    """Assign raters to every ratee of the cycle from the org structure (idempotent).

    Adds what the org structure asks for and is missing; drops unanswered assignments an earlier run
    made that the org structure no longer asks for; keeps every answered assignment and every rater
    HR added by hand. A few queries for the whole cycle, one bulk delete, one bulk insert.
    """
    _require_editable(cycle)
    plan = planned(cycle)
    existing = db_session.execute(select(ReviewAssignment.id, ReviewAssignment.subject_id, ReviewAssignment.rater_id,
                                         ReviewAssignment.group, ReviewAssignment.source, ReviewAssignment.rating)
                                  .where(ReviewAssignment.cycle_id == cycle.id)).all()
    wanted = {(subject_id, rater): group for subject_id, groups in plan.items()
              for group, raters in groups.items() for rater in raters}
    stale = [row.id for row in existing if row.source == "org" and row.rating is None
             and wanted.get((row.subject_id, row.rater_id)) != row.group]
    stale_ids = set(stale)
    kept = {(row.subject_id, row.rater_id) for row in existing if row.id not in stale_ids}
    stamp = now()
    rows = [dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, subject_id=subject_id, rater_id=rater, group=group,
                 source="org", version=1, created_at=stamp, updated_at=stamp)
            for (subject_id, rater), group in wanted.items() if (subject_id, rater) not in kept]
    if stale:
        # never an answer given meanwhile: only rows still unanswered go
        db_session.execute(delete(ReviewAssignment).where(ReviewAssignment.id.in_(stale), ReviewAssignment.rating.is_(None))
                           .execution_options(synchronize_session=False))
    if rows:
        db_session.execute(insert(ReviewAssignment), rows)
    counts = {"added": len(rows), "removed": len(stale), "total": len(kept) + len(rows)}
    record("corp.reviews.assign", cycle, before={"assignments": len(existing)}, after=counts, actor=actor)
    return counts


# ----------------------------------------------------------------------------------- adjusting

def _person_name(person_id: int) -> str:
    person = db_session.get(Person, person_id)
    return person.name if person else str(person_id)


def add_rater(cycle: Cycle, subject: CycleSubject, person_id: int | None, group: str, actor: str) -> ReviewAssignment:
    """HR adds a rater to one of the ratee's groups."""
    _require_editable(cycle)
    allowed = GROUPS[subject.staff_class]
    if group not in allowed:
        raise ReviewError(_("Group: %(value)s is not a rater group of class %(cls)s; allowed: %(allowed)s.",
                            value=repr(group), cls=subject.staff_class, allowed=", ".join(allowed)), "group")
    person = db_session.get(Person, person_id) if person_id is not None else None
    if person is None or not person.active:
        raise ReviewError(_("Rater: %(value)s is not an active person; choose one from the search results.",
                            value=repr(person_id if person_id is not None else "")), "person_id")
    if person.id == subject.person_id:
        raise ReviewError(_("Rater: %(name)s is the person reviewed; nobody rates themselves.", name=person.name),
                          "person_id")
    taken = db_session.scalar(select(ReviewAssignment).where(ReviewAssignment.subject_id == subject.id,
                                                             ReviewAssignment.rater_id == person.id))
    if taken is not None:
        raise ReviewError(_("Rater: %(rater)s already rates %(ratee)s (group %(group)s).", rater=person.name,
                            ratee=subject.name, group=group_label(taken.group)), "person_id")
    assignment = ReviewAssignment(cycle_id=cycle.id, subject_id=subject.id, rater_id=person.id, group=group,
                                  source="manual")
    db_session.add(assignment)
    db_session.flush()
    record("corp.reviews.add", assignment, after={"subject": subject.code, "rater": person.number, "group": group},
           actor=actor)
    return assignment


def _check_version(assignment: ReviewAssignment, version: int | None) -> None:
    if version is None or version != assignment.version:
        raise StaleReview(_("This assignment was changed by someone else; reload the page to see it."))


def remove_rater(cycle: Cycle, assignment: ReviewAssignment, version: int | None, actor: str) -> None:
    """HR removes an unanswered assignment."""
    _require_editable(cycle)
    _check_version(assignment, version)
    if assignment.rating is not None:
        raise ReviewError(_("%(rater)s has already answered; an answered assignment is kept.",
                            rater=_person_name(assignment.rater_id)))
    record("corp.reviews.remove", assignment, before={"subject_id": assignment.subject_id, "rater_id": assignment.rater_id,
                                                      "group": assignment.group, "source": assignment.source},
           actor=actor)
    db_session.delete(assignment)
    db_session.flush()


# ----------------------------------------------------------------------------------- answering

def parse_rating(raw: str | None) -> Decimal:
    """A rating as typed: a number from 2 to 5 with at most 2 decimals."""
    value = (raw or "").strip()
    allowed = dict(low=2, high=5)
    if not value:
        raise ReviewError(_("Rating: a number from %(low)s to %(high)s is required.", **allowed), "rating")
    try:
        number = exact(value)
    except NumberError:
        raise ReviewError(_("Rating: %(value)s is not a number; enter a number from %(low)s to %(high)s.",
                            value=repr(value), **allowed), "rating") from None
    if (number * 100).denominator != 1:
        raise ReviewError(_("Rating: %(value)s has more than 2 decimals; at most 2 are allowed (e.g. 4.25).",
                            value=value), "rating")
    if not RATING_LOW <= number <= RATING_HIGH:
        raise ReviewError(_("Rating: %(value)s is outside the range %(low)s to %(high)s.", value=value, **allowed),
                          "rating")
    return (Decimal(number.numerator) / Decimal(number.denominator)).quantize(Decimal("0.01"))


def answer(cycle: Cycle, assignment: ReviewAssignment, rating: str | None, comment: str | None, version: int | None,
           actor: str) -> None:
    """The rater saves (or changes) their rating and comment while the cycle is a draft or open."""
    _require_editable(cycle)
    value = parse_rating(rating)
    note = (comment or "").strip()
    if len(note) > COMMENT_MAX:
        raise ReviewError(_("Comment: %(count)s characters; at most %(max)s are allowed.", count=len(note),
                            max=COMMENT_MAX), "comment")
    _check_version(assignment, version)
    before = {"rating": plain(assignment.rating), "comment": assignment.comment}
    assignment.rating = value
    assignment.comment = note or None
    assignment.answered_at = now()
    db_session.flush()  # a concurrent save raises StaleDataError here
    record("corp.reviews.answer", assignment, before=before,
           after={"rating": plain(value), "comment": assignment.comment}, actor=actor)


def plain(value: Decimal | None) -> str | None:
    """A rating as exact decimal text without trailing zeros: ``4.50`` → ``"4.5"``, ``5.00`` → ``"5"``."""
    if value is None:
        return None
    text = format(Decimal(value).quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ----------------------------------------------------------------------------------- reading

def quality_inputs(cycle: Cycle) -> dict[int, list[dict]]:
    """The answered ratings of the cycle as each ratee's case-file ``quality`` input, by subject id:
    ``{subject_id: [{"group": "peer", "score": "4.5"}, ...]}`` (exact decimal strings). One query.

    Within a group the ratings are ordered by value, so their order says nothing about who gave them.
    """
    out: dict[int, list[dict]] = defaultdict(list)
    rows = db_session.execute(select(ReviewAssignment.subject_id, ReviewAssignment.group, ReviewAssignment.rating)
                              .where(ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.rating.is_not(None))
                              .order_by(ReviewAssignment.subject_id, ReviewAssignment.group, ReviewAssignment.rating,
                                        ReviewAssignment.id))
    for subject_id, group, rating in rows:
        out[subject_id].append({"group": group, "score": plain(rating)})
    return dict(out)


@dataclass
class Progress:
    """A ratee's answered / assigned counts per group of their class, and what is wrong."""

    staff_class: str
    groups: dict[str, tuple[int, int]] = field(default_factory=dict)  # group -> (answered, assigned)

    @property
    def answered(self) -> int:
        return sum(a for a, _n in self.groups.values())

    @property
    def assigned(self) -> int:
        return sum(n for _a, n in self.groups.values())

    @property
    def empty_groups(self) -> list[str]:
        """Groups with no answered rating (no raters, or none has answered yet): they drop out of the
        quality score and the others' weights scale up."""
        return [g for g, (a, _n) in self.groups.items() if a == 0]

    @property
    def redistributed(self) -> bool:
        return bool(self.empty_groups)

    @property
    def no_answers(self) -> bool:
        """No answered rating at all: the quality score cannot be formed."""
        return self.answered == 0

    @property
    def complete(self) -> bool:
        return self.assigned > 0 and self.answered == self.assigned


def progress(cycle: Cycle, subjects: list[CycleSubject]) -> dict[int, Progress]:
    """Progress of each given ratee: one grouped query for the whole cycle."""
    counts = {(s, g): (a, n) for s, g, a, n in db_session.execute(
        select(ReviewAssignment.subject_id, ReviewAssignment.group,
               func.sum(case((ReviewAssignment.rating.is_not(None), 1), else_=0)), func.count())
        .where(ReviewAssignment.cycle_id == cycle.id)
        .group_by(ReviewAssignment.subject_id, ReviewAssignment.group))}
    out = {}
    for subject in subjects:
        p = Progress(subject.staff_class)
        for group in GROUPS[subject.staff_class]:
            answered, assigned = counts.get((subject.id, group), (0, 0))
            p.groups[group] = (int(answered or 0), int(assigned))
        out[subject.id] = p
    return out


def group_totals(progress_by_subject: dict[int, Progress]) -> dict[tuple[str, str], tuple[int, int]]:
    """(class, group) -> (answered, assigned) over the given ratees."""
    totals: dict[tuple[str, str], list[int]] = {}
    for p in progress_by_subject.values():
        for group, (answered, assigned) in p.groups.items():
            t = totals.setdefault((p.staff_class, group), [0, 0])
            t[0] += answered
            t[1] += assigned
    return {k: (a, n) for k, (a, n) in totals.items()}


def assignments_of(subject: CycleSubject) -> list[tuple[ReviewAssignment, Person]]:
    """A ratee's assignments with their raters, by group then staff number (HR only)."""
    rows = db_session.execute(select(ReviewAssignment, Person).join(Person, Person.id == ReviewAssignment.rater_id)
                              .where(ReviewAssignment.subject_id == subject.id)
                              .order_by(ReviewAssignment.group, Person.number)).all()
    return [(a, p) for a, p in rows]


def with_accounts(person_ids) -> set[int]:
    """Which of these people have an active account (and so can answer in the portal). One query."""
    ids = set(person_ids)
    if not ids:
        return set()
    return set(db_session.scalars(select(User.person_id).where(User.person_id.in_(ids), User.active.is_(True))))


def candidates(subject: CycleSubject, query: str, limit: int = 20) -> list[Person]:
    """Active people matching ``query`` (name or number) who could be added as the ratee's raters."""
    query = query.strip()
    if not query:
        return []
    pattern = f"%{query.replace('%', '').replace('_', '')}%"
    assigned = select(ReviewAssignment.rater_id).where(ReviewAssignment.subject_id == subject.id)
    stmt = (select(Person).where(Person.active.is_(True), Person.id != subject.person_id, Person.id.not_in(assigned),
                                 (Person.name.ilike(pattern)) | (Person.number.ilike(pattern)))
            .order_by(Person.number).limit(limit))
    return list(db_session.scalars(stmt))


def rater_assignment(subject: CycleSubject, person_id: int | None) -> ReviewAssignment | None:
    if person_id is None:
        return None
    return db_session.scalar(select(ReviewAssignment).where(ReviewAssignment.subject_id == subject.id,
                                                            ReviewAssignment.rater_id == person_id))


def has_open_assignments(person_id: int | None) -> bool:
    """Does the person rate someone in an open cycle? One query."""
    if person_id is None:
        return False
    return db_session.scalar(select(ReviewAssignment.id).join(Cycle, Cycle.id == ReviewAssignment.cycle_id)
                             .where(ReviewAssignment.rater_id == person_id, Cycle.state == "open").limit(1)) is not None


def my_assignments_stmt(person_id: int, unanswered_only: bool = False):
    """The person's assignments, newest cycle first, then by ratee."""
    stmt = (select(ReviewAssignment).join(Cycle, Cycle.id == ReviewAssignment.cycle_id)
            .join(CycleSubject, CycleSubject.id == ReviewAssignment.subject_id)
            .where(ReviewAssignment.rater_id == person_id)
            .order_by(Cycle.id.desc(), CycleSubject.code))
    if unanswered_only:
        stmt = stmt.where(ReviewAssignment.rating.is_(None))
    return stmt
