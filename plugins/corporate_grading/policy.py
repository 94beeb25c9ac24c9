"""Who may do what on the corporate scheme's own pages: the scheme's part of the access policy.

Built on :mod:`core.policy` (roles, headed units); views ask these functions and never test roles
themselves. One section per feature.
"""
from __future__ import annotations

from core.models import User
from core.policy import may_see_confidential, tenant_user
from plugins.corporate_grading.organisation.service import holds


def is_hr(user: User | None) -> bool:
    """HR / the administration office (tenant administrators) run the scheme."""
    return user is not None and "tenant_admin" in user.roles


# ----------------------------------------------------------------------------- organisation

def may_manage_organisation(user: User | None) -> bool:
    """Posts and oversight are set by HR."""
    return is_hr(user)


# ----------------------------------------------------------------------------- plans

def is_plan_supervisor(user: User | None) -> bool:
    """The plan supervisor (计划督办) post holder checks plan sheets and proposes unit adjustments."""
    return holds(user, "plan_supervisor")


def heads_unit(user: User | None, unit_id: int | None) -> bool:
    """A unit head answers for the unit (or a unit above it)."""
    from core.policy import headed_units

    return user is not None and unit_id is not None and "unit_head" in user.roles and unit_id in headed_units(user)


def may_view_all_plans(user: User | None) -> bool:
    """HR, the plan supervisor, leaders and committee members see every unit's plan sheet."""
    return user is not None and (is_hr(user) or bool(user.roles & {"leader", "committee"}) or is_plan_supervisor(user))


def may_view_plans(user: User | None) -> bool:
    """The cycle's plan-sheet list: those who see every sheet, and unit heads (their own units)."""
    return may_view_all_plans(user) or (user is not None and "unit_head" in user.roles)


def may_view_sheet(user: User | None, unit_id: int | None) -> bool:
    return may_view_all_plans(user) or heads_unit(user, unit_id)


def may_draft_sheet(user: User | None, unit_id: int | None) -> bool:
    """Plan items are written and the sheet submitted by the unit's head, or by HR."""
    return is_hr(user) or heads_unit(user, unit_id)


def may_check_sheet(user: User | None, unit_id: int | None = None) -> bool:
    """At month end the plan supervisor or HR judges each item and checks the sheet, but never the
    sheet of a unit they head (nobody judges their own plan)."""
    return (is_hr(user) or is_plan_supervisor(user)) and not heads_unit(user, unit_id)


def may_return_sheet(user: User | None) -> bool:
    """HR returns a submitted sheet to draft, with a reason."""
    return is_hr(user)


def may_adjust(user: User | None, subject=None) -> bool:
    """Bonuses and penalties (加减分) with their reasons: HR and the plan supervisor; with a subject,
    never their own, nor a unit they head."""
    if not (is_hr(user) or is_plan_supervisor(user)):
        return False
    if subject is None:
        return True
    if subject.kind == "person":
        return not (user.person_id is not None and user.person_id == subject.person_id)
    return not heads_unit(user, subject.unit_id)



# ----------------------------------------------------------------------------- letters
# Responsibility letters (目标责任书). HR drafts, edits and reopens them. Two sides sign (签订):
# - the assessed side: a unit letter is signed by the unit's head (an account whose headed units,
#   core.policy.headed_units, include the unit); a personal letter by the person's own account;
# - the superior side: a unit letter by a supervising leader of the unit (organisation.service.
#   supervising_leaders) or the president post holder; a class A person's letter by the president
#   post holder (the president's own letter by HR, for the board); class B by a supervising leader of the person's unit; class C by the unit head of
#   the person's unit (an account whose headed units include it).
# Nobody is the superior of their own letter, and nobody signs both sides. At year end the superior
# side or HR scores the goals (never the assessed party). Everyone sees the letters they are party
# to (their own, their headed units' and their staff's, the ones they sign); HR and leaders see all.

def may_manage_letters(user: User | None, letter=None) -> bool:
    """HR drafts the letters of the year, edits their goals and reopens signed letters, except
    their own personal letter (nobody sets their own targets)."""
    if letter is not None and user is not None and letter.person_id is not None and letter.person_id == user.person_id:
        return False
    return is_hr(user)


def _leads(user: User, unit_id: int | None) -> bool:
    """Is the account's person a supervising leader (分管领导) of the unit?"""
    from plugins.corporate_grading.organisation.service import supervising_leaders

    return unit_id is not None and user.person_id is not None and user.person_id in supervising_leaders(unit_id)


def is_letter_assessed_party(user: User | None, letter) -> bool:
    """The assessed side of ``letter``: the head of its unit, or the person themselves."""
    from core.policy import headed_units

    if user is None:
        return False
    if letter.unit_id is not None:
        return letter.unit_id in headed_units(user)
    return user.person_id is not None and user.person_id == letter.person_id


def is_letter_superior(user: User | None, letter) -> bool:
    """The superior side of ``letter`` (see the rules above); never the assessed party."""
    from core.policy import headed_units

    if user is None or is_letter_assessed_party(user, letter):
        return False
    if letter.unit_id is not None:
        return _leads(user, letter.unit_id) or holds(user, "president")
    person = letter.person
    if person is None:
        return False
    if person.staff_class == "A":
        if _is_president(person.id):  # the president's own letter is signed by HR for the board
            return is_hr(user)
        return holds(user, "president")
    if person.staff_class == "B":
        return _leads(user, person.unit_id)
    if person.staff_class == "C":
        return person.unit_id in headed_units(user)
    return False


def _is_president(person_id: int) -> bool:
    """Does the person hold the president post (through one of their accounts)?"""
    from sqlalchemy import select

    from core.db import db_session
    from plugins.corporate_grading.organisation.service import post_holders

    holders = post_holders()["president"]
    return bool(holders) and db_session.scalar(select(User.id).where(User.id.in_(holders), User.person_id == person_id)) is not None


def may_sign_letter(user: User | None, letter, side: str) -> bool:
    """May ``user`` sign ``side`` ("assessed" or "superior") of ``letter``? Not both sides."""
    if user is None:
        return False
    if side == "assessed":
        return is_letter_assessed_party(user, letter) and letter.superior_signed_by != user.id
    if side == "superior":
        return is_letter_superior(user, letter) and letter.assessed_signed_by != user.id
    return False


def may_score_letter(user: User | None, letter) -> bool:
    """The year-end actuals and levels: the superior side or HR, never the assessed party."""
    if user is None or is_letter_assessed_party(user, letter):
        return False
    return is_hr(user) or is_letter_superior(user, letter)


class LetterScope:
    """Which letters an account sees, as sets the letters index turns into one query.

    ``everything``: HR and leaders. Otherwise: ``person_id`` (their own letter), ``unit_ids``
    (unit letters: headed and supervised units), ``staff_unit_ids`` (personal letters of the staff of
    headed units), ``class_b_unit_ids`` (class B letters of supervised units), ``president``
    (every unit letter and every class A letter).
    """

    def __init__(self, everything: bool = False, person_id: int | None = None, unit_ids=(), staff_unit_ids=(),
                 class_b_unit_ids=(), president: bool = False):
        self.everything = everything
        self.person_id = person_id
        self.unit_ids = frozenset(unit_ids)
        self.staff_unit_ids = frozenset(staff_unit_ids)
        self.class_b_unit_ids = frozenset(class_b_unit_ids)
        self.president = president

    def covers(self, letter) -> bool:
        if self.everything:
            return True
        if letter.unit_id is not None:
            return self.president or letter.unit_id in self.unit_ids
        if self.person_id is not None and letter.person_id == self.person_id:
            return True
        person = letter.person
        if person is None:
            return False
        return (person.unit_id in self.staff_unit_ids
                or (person.staff_class == "B" and person.unit_id in self.class_b_unit_ids)
                or (person.staff_class == "A" and self.president))


def letter_scope(user: User | None) -> LetterScope:
    """The letters ``user`` sees (an empty scope for no account)."""
    if user is None:
        return LetterScope()
    if is_hr(user) or "leader" in user.roles:
        return LetterScope(everything=True)
    from sqlalchemy import select

    from core.db import db_session
    from core.models import OrgUnit
    from core.policy import headed_units
    from plugins.corporate_grading.organisation.service import overseers

    supervised: set[int] = set()
    if user.person_id is not None:
        # supervising_leaders of every unit at once: a unit's own overseers, else its nearest ancestor's
        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        by_unit = overseers()
        for unit_id in parents:
            current, seen = unit_id, set()
            while current is not None and current not in seen and current not in by_unit:
                seen.add(current)
                current = parents.get(current)
            if current in by_unit and user.person_id in by_unit[current]:
                supervised.add(unit_id)
    headed = headed_units(user)
    return LetterScope(person_id=user.person_id, unit_ids=headed | supervised, staff_unit_ids=headed,
                       class_b_unit_ids=supervised, president=holds(user, "president"))


def may_view_letter(user: User | None, letter) -> bool:
    """Who opens a letter: its parties and HR and leaders (see ``letter_scope``)."""
    return user is not None and letter_scope(user).covers(letter)


# ----------------------------------------------------------------------------- committee

def may_see_committee(user: User | None, meeting=None) -> bool:
    """HR (the committee's secretary), leaders and committee members follow the committee meeting;
    someone seated at a meeting keeps seeing it after losing the role."""
    if user is None:
        return False
    if is_hr(user) or user.roles & {"leader", "committee"}:
        return True
    if meeting is not None:
        from plugins.corporate_grading.committee.service import member_of

        return member_of(meeting, user) is not None
    return False


def may_create_meeting(user: User | None) -> bool:
    """HR sets up the meeting of a cycle (date; members from the roles and posts)."""
    return is_hr(user)


def is_acting_chair(user: User | None, meeting) -> bool:
    """The chair, or the vice-chair when the chair is absent."""
    from plugins.corporate_grading.committee.service import acting_chair

    chair = acting_chair(meeting)
    return user is not None and chair is not None and chair.user_id == user.id


def may_conduct_meeting(user: User | None, meeting) -> bool:
    """HR (secretary) or the acting chair record attendance, notes and proposals and close votes."""
    return is_hr(user) or is_acting_chair(user, meeting)


def may_cast_casting_vote(user: User | None, meeting) -> bool:
    """On a tie the chair (or the vice-chair acting for an absent chair) decides."""
    return is_acting_chair(user, meeting)


def may_reopen_vote(user: User | None) -> bool:
    """Re-voting a closed item is HR's explicit, audited decision."""
    return is_hr(user)


def vote_refusal(user: User | None, meeting, subject) -> str | None:
    """Why ``user`` may not vote on ``subject``'s item of ``meeting``, or None when they may: only
    voting members who are present vote, and the unit's own head has left the room."""
    from flask_babel import gettext as _

    from core.policy import headed_units
    from plugins.corporate_grading.committee.service import member_of

    member = member_of(meeting, user) if user is not None else None
    if member is None or not member.voting:
        return _("You are not a voting member of this committee meeting: only the accounts with the committee "
                 "role when the meeting was set up vote.")
    if not member.present:
        return _("You are recorded as absent from this meeting: only members present vote.")
    if subject.unit_id is not None and subject.unit_id in headed_units(user):
        return _("You head %(unit)s: the unit's head leaves the meeting before its discussion and vote.",
                 unit=subject.name)
    return None


# ----------------------------------------------------------------------------- reviews (360)

def may_manage_reviews(user: User | None) -> bool:
    """HR assigns raters, adjusts assignments and follows the progress of a cycle's 360 reviews."""
    return is_hr(user)


def may_see_review_answers(user: User | None) -> bool:
    """Who rated whom, and each rater's rating and comment, are confidential: HR alone sees them
    (not leaders, not the ratee, not other raters; a rater sees only their own, see below)."""
    return is_hr(user)


def may_manage_ratee(user: User | None, subject) -> bool:
    """HR manages a ratee's raters and sees their answers, but never their own (who rated them)."""
    return may_manage_reviews(user) and not (user.person_id is not None and user.person_id == subject.person_id)


def is_rater(user: User | None, rater_person_id: int) -> bool:
    """A rater opens and answers only their own assignments (the account's person is the rater)."""
    return user is not None and user.person_id is not None and user.person_id == rater_person_id



# ----------------------------------------------------------------------------- approvals
# Approval chains of monthly personal scorecards (approvals/service.py computes who acts at each
# step: ``acting`` is the list of account ids that hold the current step, the person's own accounts
# left out, and HR when nobody else holds it). Nobody acts on their own scorecard, HR included.

def is_own_scorecard(user: User | None, subject) -> bool:
    """Is ``subject`` (a cycle subject) the account's own person?"""
    return user is not None and user.person_id is not None and user.person_id == subject.person_id


def may_follow_approvals(user: User | None) -> bool:
    """A cycle's approvals page (progress of every chain): HR and company leaders."""
    return is_hr(user) or (user is not None and "leader" in user.roles)


def may_see_approval(user: User | None, subject, approver_ids: set[int]) -> bool:
    """One scorecard's chain and history: the person, whoever acts at any of its steps, the head
    of the person's unit, HR and leaders."""
    from core.policy import headed_units

    if user is None:
        return False
    return (may_follow_approvals(user) or is_own_scorecard(user, subject) or user.id in approver_ids
            or (subject.unit_id is not None and subject.unit_id in headed_units(user)))


def may_submit_scorecard(user: User | None, subject) -> bool:
    """The person submits their own self-score; HR may submit it on behalf of a person (one
    without an account, say); the submission records that HR did."""
    return is_own_scorecard(user, subject) or is_hr(user)


def may_approve_step(user: User | None, subject, acting: list[int]) -> bool:
    """Only an account acting at the current step approves it (never the person themselves)."""
    return user is not None and not is_own_scorecard(user, subject) and user.id in acting


def may_return_scorecard(user: User | None, subject, state: str, acting: list[int]) -> bool:
    """The current step's approver returns a scorecard in the chain; HR returns one at any time,
    approved ones too (the only way to reopen an approved scorecard)."""
    if user is None or is_own_scorecard(user, subject):
        return False
    if state == "submitted" and user.id in acting:
        return True
    return is_hr(user) and state in ("submitted", "approved")


def may_change_in_chain(user: User | None, subject, acting: list[int]) -> bool:
    """While a scorecard is in the chain, only the current step's approver and HR correct it (the
    person no longer can)."""
    return user is not None and not is_own_scorecard(user, subject) and (is_hr(user) or user.id in acting)


def may_change_approved(user: User | None, subject) -> bool:
    """After the final approval only HR changes the subject's inputs (and never their own)."""
    return is_hr(user) and not is_own_scorecard(user, subject)


# ----------------------------------------------------------------------------- annual results

def may_collect_annual(user: User | None) -> bool:
    """HR collects an annual cycle's inputs from the year's records and sees what is still missing."""
    return is_hr(tenant_user(user))


def may_see_rankings(user: User | None) -> bool:
    """The outputs of a computed cycle (rankings, best, promotion candidates): like
    :func:`core.policy.can_see_result` for every result before publication, HR and company leaders."""
    account = tenant_user(user)
    return account is not None and bool(account.roles & {"tenant_admin", "leader"})


def may_see_bonus(user: User | None) -> bool:
    """The bonus distribution table and the bonus bases are confidential like pay: HR only."""
    return may_see_confidential(user)


def may_record_confidence(user: User | None) -> bool:
    """HR records the counted ballots of the confidence vote on class A leaders."""
    return is_hr(user)


def may_see_confidence(user: User | None) -> bool:
    """The confidence vote's counts: HR and leaders, like the rankings."""
    return may_see_rankings(user)


def may_set_bonus_base(user: User | None, person_id: int) -> bool:
    """HR sets the bonus bases, but not their own."""
    return may_see_bonus(user) and not (user.person_id is not None and user.person_id == person_id)
