"""What the corporate scheme asks of the signed-in user now, for the home page: scorecards to
approve, their own self-score to submit, 360 reviews to answer. A few counting queries."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.db import db_session
from core.models import Cycle, User
from core.policy import tenant_user


@dataclass(frozen=True)
class Todo:
    label: str
    url: str
    count: int


def todo(user) -> list[Todo]:
    from plugins.corporate_grading.approvals import service as approvals
    from plugins.corporate_grading.reviews.models import ReviewAssignment

    account: User | None = tenant_user(user)
    if account is None:
        return []
    found = []
    waiting = approvals.awaiting_count(account)
    if waiting:
        found.append(Todo(_("Scorecards awaiting your approval"), url_for("corporate_approvals.mine"), waiting))
    unsubmitted = sum(1 for _s, _c, a in approvals.my_scorecards(account) if a is None or a.state == "returned")
    if unsubmitted:
        found.append(Todo(_("Your self-score to submit"), url_for("corporate_approvals.mine"), unsubmitted))
    if account.person_id is not None:
        unanswered = db_session.scalar(
            select(func.count()).select_from(ReviewAssignment).join(Cycle, Cycle.id == ReviewAssignment.cycle_id)
            .where(ReviewAssignment.rater_id == account.person_id, ReviewAssignment.rating.is_(None),
                   Cycle.state == "open"))  # raters are asked once HR opens the cycle, as the menu does
        if unanswered:
            found.append(Todo(_("360 reviews to answer"), url_for("corporate_reviews.mine"), unanswered))
    found.extend(_letters_to_sign(account))
    return found


def _letters_to_sign(account: User) -> list[Todo]:
    """Draft letters waiting for this account's signature: their own (the assessed side), and, for
    a unit head, their class C staff's (the superior side). Two counting queries."""
    from core.models import Person
    from core.policy import headed_units
    from plugins.corporate_grading.letters.models import ResponsibilityLetter as Letter

    found = []
    if account.person_id is not None:
        own = db_session.scalar(select(func.count()).select_from(Letter).where(
            Letter.person_id == account.person_id, Letter.state == "draft", Letter.assessed_signed_by.is_(None)))
        if own:
            found.append(Todo(_("Your responsibility letter to sign"), url_for("corporate_letters.index"), own))
    headed = headed_units(account)
    if headed:
        staff = db_session.scalar(select(func.count()).select_from(Letter).join(Person, Person.id == Letter.person_id).where(
            Person.unit_id.in_(headed), Person.staff_class == "C", Person.id != (account.person_id or -1),
            Letter.state == "draft", Letter.superior_signed_by.is_(None)))
        if staff:
            found.append(Todo(_("Your staff's responsibility letters to sign"), url_for("corporate_letters.index"), staff))
    return found
