"""The committee meeting (考评小组会议, schemes.md §1 "Committee review"): set up, attendance, the
agenda walked unit by unit, proposals, votes, the decision and its application to the cycle.

The decision is the scheme's own rule (:func:`core.scoring.blocks.committee_decision`), and what a
closed vote writes into the unit's inputs is the case-file ``review`` the scheme applies in
``compute``: the portal and ``jixiao score`` agree. Everything works in the caller's transaction,
is audited and never commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from core.audit import record
from core.cycles import service as cycles
from core.cycles.service import CycleError
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, RoleMembership, User
from core.scoring.blocks import Vote, committee_decision, vote_problems
from core.scoring.case import Period
from core.scoring.numbers import NumberError, exact, text
from plugins.corporate_grading.web import cycle_state_name
from plugins.corporate_grading.committee.models import (CHOICES, CommitteeItem, CommitteeMeeting, CommitteeMember,
                                                       CommitteeVote)

NOTES_MAX = 10000
REASON_MAX = 2000
SEAT_ORDER = {"chair": 0, "vice_chair": 1, "member": 2}


class CommitteeError(ValueError):
    """An action on the meeting that is not possible; the message says why. ``status`` is the HTTP
    status a page answers with (422 bad input, 409 state or concurrent change, 403 not allowed);
    ``field`` names the form field the message is about, when there is one."""

    status = 422

    def __init__(self, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.field = field
        if status is not None:
            self.status = status


class NotAllowed(CommitteeError):
    """The user may not do this (a non-member or an absent member voting, ...)."""

    status = 403


def now() -> datetime:
    return datetime.now(timezone.utc)


# ----------------------------------------------------------------------------------- reading

def meeting_of(cycle: Cycle) -> CommitteeMeeting | None:
    return db_session.scalar(select(CommitteeMeeting).where(CommitteeMeeting.cycle_id == cycle.id))


def members(meeting: CommitteeMeeting) -> list[CommitteeMember]:
    """The seats: chair, vice-chair, then the members by name."""
    rows = db_session.scalars(select(CommitteeMember).where(CommitteeMember.meeting_id == meeting.id))
    return sorted(rows, key=lambda m: (SEAT_ORDER.get(m.seat, 9), m.name, m.id))


def member_of(meeting: CommitteeMeeting, user: User | None) -> CommitteeMember | None:
    if user is None:
        return None
    return db_session.scalar(select(CommitteeMember).where(CommitteeMember.meeting_id == meeting.id,
                                                           CommitteeMember.user_id == user.id))


def acting_chair(meeting: CommitteeMeeting) -> CommitteeMember | None:
    """The chair when present, else the vice-chair when present (schemes.md), else nobody."""
    seats = {m.seat: m for m in members(meeting) if m.seat in ("chair", "vice_chair")}
    for seat in ("chair", "vice_chair"):
        if seat in seats and seats[seat].present:
            return seats[seat]
    return None


def seat_count(meeting: CommitteeMeeting) -> int:
    """The full number of voting seats (absent members included): the rule's ``members``."""
    return db_session.scalar(select(func.count()).select_from(CommitteeMember).where(
        CommitteeMember.meeting_id == meeting.id, CommitteeMember.voting.is_(True))) or 0


@dataclass
class AgendaEntry:
    item: CommitteeItem
    subject: CycleSubject


def agenda(meeting: CommitteeMeeting) -> list[AgendaEntry]:
    """The items in agenda order, each with its unit subject. One query."""
    rows = db_session.execute(select(CommitteeItem, CycleSubject)
                              .join(CycleSubject, CycleSubject.id == CommitteeItem.subject_id)
                              .where(CommitteeItem.meeting_id == meeting.id)
                              .order_by(CommitteeItem.position, CommitteeItem.id)).all()
    return [AgendaEntry(item, subject) for item, subject in rows]


def item_of(meeting: CommitteeMeeting, subject_id: int) -> CommitteeItem | None:
    return db_session.scalar(select(CommitteeItem).where(CommitteeItem.meeting_id == meeting.id,
                                                         CommitteeItem.subject_id == subject_id))


def votes(item: CommitteeItem) -> list[tuple[CommitteeVote, CommitteeMember]]:
    """Who voted how on the item, by name."""
    rows = db_session.execute(select(CommitteeVote, CommitteeMember)
                              .join(CommitteeMember, CommitteeMember.id == CommitteeVote.member_id)
                              .where(CommitteeVote.item_id == item.id)
                              .order_by(CommitteeMember.name, CommitteeMember.id)).all()
    return [(v, m) for v, m in rows]


def votes_by_item(meeting: CommitteeMeeting) -> dict[int, list[tuple[CommitteeVote, CommitteeMember]]]:
    """Who voted how, per item of the meeting (for the minutes). One query."""
    rows = db_session.execute(select(CommitteeVote, CommitteeMember)
                              .join(CommitteeMember, CommitteeMember.id == CommitteeVote.member_id)
                              .where(CommitteeMember.meeting_id == meeting.id)
                              .order_by(CommitteeMember.name, CommitteeMember.id)).all()
    found: dict[int, list] = {}
    for vote, member in rows:
        found.setdefault(vote.item_id, []).append((vote, member))
    return found


def adjustments(cycle: Cycle) -> dict[int, dict[str, Any]]:
    """The plan supervisor's ±1 proposals with their reasons, by subject id (the plans feature), as
    plain JSON values: ``{"value": "+0.5", "kind", "reason", "by"}``; empty while that feature does
    not provide them."""
    try:
        from plugins.corporate_grading.plans.service import adjustment_reasons
    except (ImportError, AttributeError):
        return {}
    found = {}
    for subject_id, adj in (adjustment_reasons(cycle) or {}).items():
        value = adj.get("value")
        if value is not None:
            number = exact(value)
            value = ("+" if number > 0 else "") + text(number)
        found[subject_id] = {"value": value, "kind": adj.get("kind"), "reason": adj.get("reason") or "",
                             "by": adj.get("by")}
    return found


def kind_label(kind: str | None) -> str:
    """A bonus/penalty reason category in words (the plans feature's labels), else as stored."""
    if not kind:
        return ""
    try:
        from plugins.corporate_grading.plans.service import kind_labels
    except (ImportError, AttributeError):
        return kind
    return kind_labels().get(kind, kind)


def results(cycle: Cycle) -> dict[int, CycleResult]:
    """The cycle's computed unit results by subject id (empty before the first compute)."""
    rows = db_session.scalars(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                              .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == "unit"))
    return {r.subject_id: r for r in rows}


def is_tie(item: CommitteeItem, seats: int) -> bool:
    """A tie the chair decides: votes cast, as many for as against, and no majority of the seats for."""
    return item.votes_for > 0 and item.votes_for == item.votes_against and not 2 * item.votes_for > seats


def proposal_range(cycle: Cycle) -> tuple[Fraction, Fraction]:
    """What the scheme accepts as a unit's score after adj: a scorecard score in [2, 5] plus the
    allowed adjust (by default [−1, +1]), i.e. [1, 6]."""
    from plugins.corporate_grading import CorporateGradingSettings
    from plugins.corporate_grading.scoring import SCORE_HIGH, SCORE_LOW

    bounds = CorporateGradingSettings.model_validate(cycle.settings or {}).unit_adjust_bounds
    return SCORE_LOW + bounds.low, SCORE_HIGH + bounds.high


def decision_text(item: CommitteeItem) -> str:
    """The decision of a closed item, in words."""
    values = {"for": item.votes_for, "against": item.votes_against, "members": item.members}
    if item.adopted is None:
        return ""
    majority = 2 * item.votes_for > (item.members or 0)
    if item.adopted and majority:
        return _("Adopted: %(for)s of %(members)s members for (more than half).", **values)
    if item.chair_vote == "for":
        return _("Adopted on a tie %(for)s:%(against)s by the chair's casting vote.", **values)
    if item.chair_vote == "against":
        return _("Rejected on a tie %(for)s:%(against)s by the chair's casting vote: the score stands.", **values)
    if item.votes_for == item.votes_against:
        return _("Tie %(for)s:%(against)s without a casting vote: the score stands.", **values)
    return _("Not adopted: %(for)s of %(members)s members for (not more than half): the score stands.", **values)


def status_of(item: CommitteeItem) -> str:
    """One word or two for the agenda list."""
    if item.state == "closed":
        return _("Adopted") if item.adopted else _("Score stands")
    if item.state == "voting":
        return _("Voting")
    if item.head_left:
        return _("Discussed, no proposal")
    if item.report_notes or item.comments:
        return _("Under discussion")
    return _("Not discussed yet")


# ----------------------------------------------------------------------------------- setting up

def default_date(cycle: Cycle) -> date:
    """The committee meets on the 3rd of the month after the period (schemes.md)."""
    period = Period.parse(cycle.period)
    if period.kind == "year":
        return date(period.year + 1, 1, 3)
    return date(period.year + (period.index == 12), period.index % 12 + 1, 3)


def _require_editable(cycle: Cycle) -> None:
    if cycle.state not in cycles.EDITABLE_STATES:
        raise CommitteeError(_("The committee's decisions are written into the cycle's inputs, which change only while "
                               "the cycle is a draft or open; it is %(state)s.", state=cycle_state_name(cycle.state)), status=409)


def _check_version(obj: Any, version: int | None, what: str) -> None:
    if version is None or version != obj.version:
        raise CommitteeError(_("%(what)s was changed by someone else; reload the page and try again.", what=what),
                             status=409)


def create_meeting(cycle: Cycle, meeting_date: date, actor: str) -> CommitteeMeeting:
    """The cycle's meeting: chair and vice-chair from the posts, the voting members (the active
    accounts with the committee role) and the agenda (the cycle's units in org order)."""
    from plugins.corporate_grading.organisation.service import post_holders

    if meeting_of(cycle) is not None:
        raise CommitteeError(_("%(cycle)s already has its committee meeting.", cycle=cycle.name), status=409)
    _require_editable(cycle)
    if not isinstance(meeting_date, date):
        raise CommitteeError(_("Meeting date: a date is required (YYYY-MM-DD)."), field="meeting_date")
    voters = list(db_session.scalars(
        select(User).join(RoleMembership, RoleMembership.user_id == User.id)
        .where(RoleMembership.role == "committee", User.active.is_(True)).distinct()))
    if not voters:
        raise CommitteeError(_("No active account has the committee role: give the committee's members that role first."))
    units = list(db_session.execute(
        select(CycleSubject).outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
        .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit", CycleSubject.eligible.is_(True))
        .order_by(OrgUnit.sort_order, OrgUnit.code, CycleSubject.code)).scalars())
    if not units:
        raise CommitteeError(_("%(cycle)s assesses no unit: the committee has nothing to review.", cycle=cycle.name))
    holders = post_holders()
    active = {u.id: u for u in db_session.scalars(select(User).where(User.active.is_(True)))}
    seats: dict[int, str] = {}
    for post, seat in (("committee_chair", "chair"), ("committee_vice_chair", "vice_chair")):
        for user_id in holders.get(post, [])[:1]:
            if user_id in active:
                seats.setdefault(user_id, seat)
    voting_ids = {u.id for u in voters}
    meeting = CommitteeMeeting(cycle_id=cycle.id, meeting_date=meeting_date, created_by=actor)
    db_session.add(meeting)
    db_session.flush()
    for user_id in list(seats) + sorted(voting_ids - set(seats)):
        user = active[user_id]
        db_session.add(CommitteeMember(meeting_id=meeting.id, user_id=user_id, name=user.display_name or user.username,
                                       seat=seats.get(user_id, "member"), voting=user_id in voting_ids, present=True))
    for position, subject in enumerate(units, start=1):
        db_session.add(CommitteeItem(meeting_id=meeting.id, subject_id=subject.id, position=position))
    db_session.flush()
    record("corp.committee.create", meeting, actor=actor, after={
        "cycle": cycle.id, "meeting_date": meeting_date.isoformat(),
        "chair": next((active[u].username for u, s in seats.items() if s == "chair"), None),
        "vice_chair": next((active[u].username for u, s in seats.items() if s == "vice_chair"), None),
        "voting_members": sorted(active[u].username for u in voting_ids), "units": [s.code for s in units]})
    return meeting


def set_date(meeting: CommitteeMeeting, meeting_date: date, version: int | None, actor: str) -> None:
    _check_version(meeting, version, _("The meeting"))
    before = meeting.meeting_date.isoformat()
    meeting.meeting_date = meeting_date
    db_session.flush()
    record("corp.committee.date", meeting, before={"meeting_date": before},
           after={"meeting_date": meeting_date.isoformat()}, actor=actor)


def set_attendance(meeting: CommitteeMeeting, present_ids: set[int], version: int | None, actor: str) -> None:
    """Mark who is present (the others absent). An absent member's votes on open items are dropped."""
    _require_editable(db_session.get(Cycle, meeting.cycle_id))
    _check_version(meeting, version, _("The meeting"))
    seats = members(meeting)
    unknown = present_ids - {m.id for m in seats}
    if unknown:
        raise CommitteeError(_("Present: %(ids)s is not a seat of this meeting.", ids=", ".join(map(str, sorted(unknown)))),
                             field="present")
    before = sorted(m.name for m in seats if not m.present)
    for member in seats:
        member.present = member.id in present_ids
    absent = [m.id for m in seats if not m.present]
    open_items = list(db_session.scalars(select(CommitteeItem).where(CommitteeItem.meeting_id == meeting.id,
                                                                     CommitteeItem.state == "voting")))
    dropped = 0
    if absent and open_items:
        dropped = db_session.execute(delete(CommitteeVote).where(
            CommitteeVote.member_id.in_(absent), CommitteeVote.item_id.in_([i.id for i in open_items]))
            .execution_options(synchronize_session=False)).rowcount
    for item in open_items:
        _retally(item)
    meeting.updated_at = now()  # a new version: the attendance is part of the meeting
    db_session.flush()
    record("corp.committee.attendance", meeting, before={"absent": before},
           after={"absent": sorted(m.name for m in seats if not m.present), "votes_dropped": dropped}, actor=actor)


# ----------------------------------------------------------------------------------- the agenda

def save_notes(item: CommitteeItem, report_notes: str, comments: str, head_left: bool, version: int | None,
               actor: str) -> None:
    """The secretary's notes on the unit's report and the comments, and whether its head has left."""
    if item.state == "closed":
        raise CommitteeError(_("The vote on this unit is closed: its record can no longer change."), status=409)
    for field, value, label in (("report_notes", report_notes, _("Report")), ("comments", comments, _("Comments"))):
        if len(value) > NOTES_MAX:
            raise CommitteeError(_("%(field)s: %(count)s characters; allowed: at most %(max)s.", field=label,
                                   count=len(value), max=NOTES_MAX), field=field)
    if item.state == "voting" and not head_left:
        raise CommitteeError(_("The unit's head has left: a proposal is being voted on; withdraw it first."),
                             field="head_left")
    _check_version(item, version, _("This agenda item"))
    before = {"report_notes": item.report_notes, "comments": item.comments, "head_left": item.head_left}
    item.report_notes, item.comments, item.head_left = report_notes, comments, head_left
    db_session.flush()
    record("corp.committee.notes", item, before=before,
           after={"report_notes": report_notes, "comments": comments, "head_left": head_left}, actor=actor)


def parse_proposal(cycle: Cycle, raw: str) -> Decimal:
    """A proposed unit score: a decimal with at most 2 places within what the scheme accepts."""
    raw = (raw or "").strip()
    if not raw:
        raise CommitteeError(_("Proposed score: required; a number such as 4.20."), field="proposed")
    try:
        value = exact(raw)
    except NumberError:
        raise CommitteeError(_("Proposed score: %(value)s is not a number; write it like 4.20.", value=repr(raw)),
                             field="proposed") from None
    low, high = proposal_range(cycle)
    if not low <= value <= high:
        raise CommitteeError(_("Proposed score: %(value)s is outside [%(low)s, %(high)s] (a unit's score after the "
                               "bonus/penalty).", value=raw, low=text(low), high=text(high)), field="proposed")
    if (value * 100).denominator != 1:
        raise CommitteeError(_("Proposed score: %(value)s has more than 2 decimals; scores are given to 2 decimals.",
                               value=raw), field="proposed")
    return Decimal(value.numerator * 100 // value.denominator).scaleb(-2)


def propose(item: CommitteeItem, cycle: Cycle, raw: str, reason: str, version: int | None, actor: str) -> None:
    """Put a changed unit score to the vote (or change the proposal: the votes cast so far are dropped)."""
    if item.state == "closed":
        raise CommitteeError(_("The vote on this unit is closed: its record can no longer change."), status=409)
    _require_editable(cycle)
    if not item.head_left:
        raise CommitteeError(_("The unit's head leaves before the discussion and the vote: mark that the head has "
                               "left first."), field="head_left")
    value = parse_proposal(cycle, raw)
    reason = (reason or "").strip()
    if not reason:
        raise CommitteeError(_("Reason: required; say why the committee is asked to change the score."), field="reason")
    if len(reason) > REASON_MAX:
        raise CommitteeError(_("%(field)s: %(count)s characters; allowed: at most %(max)s.", field=_("Reason"),
                               count=len(reason), max=REASON_MAX), field="reason")
    _check_version(item, version, _("This agenda item"))
    before = {"proposed": _text(item.proposed), "reason": item.reason, "state": item.state}
    dropped = 0
    if item.state == "voting" and item.proposed is not None and Decimal(item.proposed) != value:
        dropped = _drop_votes(item)
    item.proposed, item.reason, item.state = value, reason, "voting"
    _retally(item)
    db_session.flush()
    record("corp.committee.proposal", item, before=before,
           after={"proposed": _text(value), "reason": reason, "state": "voting", "votes_dropped": dropped}, actor=actor)


def withdraw(item: CommitteeItem, version: int | None, actor: str) -> None:
    """Take the proposal back: no vote on this unit (the votes cast are dropped)."""
    if item.state != "voting":
        raise CommitteeError(_("There is no proposal being voted on to withdraw."), status=409)
    _check_version(item, version, _("This agenda item"))
    before = {"proposed": _text(item.proposed), "reason": item.reason, "votes": _who_voted(item)}
    _drop_votes(item)
    item.proposed, item.reason, item.state = None, "", "open"
    _retally(item)
    db_session.flush()
    record("corp.committee.withdraw", item, before=before, after={"state": "open"}, actor=actor)


# ----------------------------------------------------------------------------------- votes

def cast_vote(meeting: CommitteeMeeting, item: CommitteeItem, subject: CycleSubject, user: User, choice: str,
              actor: str) -> None:
    """A present voting member votes for or against the proposal (or changes their vote) until the
    vote is closed. :raises NotAllowed: for anyone else."""
    from plugins.corporate_grading.policy import vote_refusal

    refusal = vote_refusal(user, meeting, subject)
    if refusal:
        raise NotAllowed(refusal)
    _require_editable(db_session.get(Cycle, meeting.cycle_id))
    if item.state == "closed":
        raise CommitteeError(_("The vote on %(unit)s is closed: votes can no longer change.", unit=subject.name), status=409)
    if item.state != "voting":
        raise CommitteeError(_("Nothing is put to the vote on %(unit)s yet.", unit=subject.name), status=409)
    if choice not in CHOICES:
        raise CommitteeError(_("Vote: %(value)s is not allowed; allowed: for, against.", value=repr(choice)), field="choice")
    member = member_of(meeting, user)
    vote = db_session.scalar(select(CommitteeVote).where(CommitteeVote.item_id == item.id,
                                                         CommitteeVote.member_id == member.id))
    before = vote.choice if vote else None
    if vote is None:
        db_session.add(CommitteeVote(item_id=item.id, member_id=member.id, choice=choice, cast_at=now()))
    else:
        vote.choice, vote.cast_at = choice, now()
    db_session.flush()
    _retally(item)
    item.updated_at = now()  # always a new version: a close decided on older tallies fails
    db_session.flush()
    record("corp.committee.vote", item, before={"member": member.name, "choice": before},
           after={"member": member.name, "choice": choice}, actor=actor)


def cast_casting_vote(meeting: CommitteeMeeting, item: CommitteeItem, user: User, choice: str,
                      version: int | None, actor: str) -> None:
    """The acting chair's casting vote, recorded on a tie before the vote is closed."""
    from plugins.corporate_grading.policy import may_cast_casting_vote

    if not may_cast_casting_vote(user, meeting):
        raise NotAllowed(_("Only the chair, or the vice-chair acting for an absent chair, gives the casting vote."))
    _require_editable(db_session.get(Cycle, meeting.cycle_id))
    if item.state != "voting":
        raise CommitteeError(_("There is no open vote on this unit."), status=409)
    if choice not in CHOICES:
        raise CommitteeError(_("Casting vote: %(value)s is not allowed; allowed: for, against.", value=repr(choice)),
                             field="chair_vote")
    _check_version(item, version, _("This agenda item"))
    _retally(item)
    if not is_tie(item, seat_count(meeting)):
        raise CommitteeError(_("There is no tie (for %(for)s, against %(against)s): the chair's casting vote decides "
                               "only a tie.", **{"for": item.votes_for, "against": item.votes_against}), status=409)
    before = item.chair_vote
    item.chair_vote, item.chair_vote_by = choice, actor
    db_session.flush()
    record("corp.committee.casting", item, before={"chair_vote": before}, after={"chair_vote": choice}, actor=actor)


def close_vote(meeting: CommitteeMeeting, item: CommitteeItem, cycle: Cycle, subject: CycleSubject,
               version: int | None, actor: str) -> bool:
    """Decide by the scheme's rule and write the review into the unit's inputs; returns adopted.

    ``version`` is the item's version the closer saw: a vote cast since makes the close fail.
    """
    if item.state == "closed":
        raise CommitteeError(_("The vote on %(unit)s is already closed.", unit=subject.name), status=409)
    if item.state != "voting":
        raise CommitteeError(_("Nothing is put to the vote on %(unit)s yet.", unit=subject.name), status=409)
    _require_editable(cycle)
    _check_version(item, version, _("The vote"))
    _retally(item)
    if item.votes_for + item.votes_against == 0:
        raise CommitteeError(_("Nobody has voted yet: the vote cannot be closed."), status=409)
    seats = seat_count(meeting)
    tie = is_tie(item, seats)
    chair = item.chair_vote if tie else None
    vote = Vote(proposed=Fraction(item.proposed), members=seats, votes_for=item.votes_for,
                votes_against=item.votes_against, chair=chair)
    problems = vote_problems(vote)
    if problems:
        raise CommitteeError("; ".join(problems), status=409)
    adopted, note = committee_decision(vote)
    review: dict[str, Any] = {"proposed": _text(item.proposed), "members": seats, "votes_for": item.votes_for,
                              "votes_against": item.votes_against}
    if chair:
        review["chair"] = chair
    _write_review(cycle, subject, review, actor)
    if not tie:
        item.chair_vote = item.chair_vote_by = None
    item.members, item.adopted, item.decision_note = seats, adopted, note
    item.adjustment = adjustments(cycle).get(subject.id)
    item.state, item.closed_by, item.closed_at = "closed", actor, now()
    db_session.flush()
    record("corp.committee.close", item, actor=actor, after={
        "unit": subject.code, "review": review, "adopted": adopted, "decision": note, "votes": _who_voted(item)})
    return adopted


def reopen(item: CommitteeItem, cycle: Cycle, subject: CycleSubject, version: int | None, actor: str) -> None:
    """HR reopens a closed vote for a re-vote: the review leaves the unit's inputs until the new vote
    is closed; the old decision and votes stay in the audit trail."""
    if item.state != "closed":
        raise CommitteeError(_("The vote on %(unit)s is not closed.", unit=subject.name), status=409)
    _require_editable(cycle)
    _check_version(item, version, _("The vote"))
    before = {"adopted": item.adopted, "decision": item.decision_note, "members": item.members,
              "votes_for": item.votes_for, "votes_against": item.votes_against, "chair_vote": item.chair_vote,
              "votes": _who_voted(item), "closed_by": item.closed_by}
    _write_review(cycle, subject, None, actor)
    _drop_votes(item)
    item.state, item.members, item.adopted, item.decision_note = "voting", None, None, None
    item.closed_by = item.closed_at = None
    _retally(item)
    db_session.flush()
    record("corp.committee.reopen", item, before=before, after={"state": "voting"}, actor=actor)


# ----------------------------------------------------------------------------------- helpers

def _text(value: Decimal | None) -> str | None:
    return None if value is None else text(Fraction(Decimal(value)))


def _who_voted(item: CommitteeItem) -> dict[str, str]:
    return {member.name: vote.choice for vote, member in votes(item)}


def _drop_votes(item: CommitteeItem) -> int:
    dropped = db_session.execute(delete(CommitteeVote).where(CommitteeVote.item_id == item.id)
                                 .execution_options(synchronize_session=False)).rowcount
    item.chair_vote = item.chair_vote_by = None
    return dropped


def _retally(item: CommitteeItem) -> None:
    """Count the votes of the voting members present (the live tallies on the item)."""
    counts = dict(db_session.execute(
        select(CommitteeVote.choice, func.count()).join(CommitteeMember, CommitteeMember.id == CommitteeVote.member_id)
        .where(CommitteeVote.item_id == item.id, CommitteeMember.voting.is_(True), CommitteeMember.present.is_(True))
        .group_by(CommitteeVote.choice)).all())
    tallies = (counts.get("for", 0), counts.get("against", 0))
    if tallies != (item.votes_for, item.votes_against):
        item.chair_vote = item.chair_vote_by = None  # a casting vote decides the tie it was given on, no later one
    item.votes_for, item.votes_against = tallies


def _write_review(cycle: Cycle, subject: CycleSubject, review: dict[str, Any] | None, actor: str) -> None:
    """Set (or remove) the unit's ``review`` input, keeping its other inputs."""
    db_session.refresh(subject)
    inputs = dict(subject.inputs or {})
    if review is None:
        inputs.pop("review", None)
    else:
        inputs["review"] = review
    try:
        cycles.set_inputs(subject, cycle, inputs, subject.inputs_version, actor)
    except CycleError as exc:
        raise CommitteeError(str(exc), status=409) from None
