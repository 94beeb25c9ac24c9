"""After publication: interviews and signatures, appeals within the scheme's window, adjusted
scores with their history, and the notifications that tell people what to do.

Works in the caller's transaction; every change is audited; a changed score keeps its history.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from core.audit import record
from core.db import db_session
from core.models import (Acknowledgement, Appeal, Cycle, CycleResult, CycleSubject, Holiday, Notification,
                         RoleMembership, ScoreChange, User)
from core.plugins import get_schemes
from core.scoring.blocks import competition_ranks
from core.scoring.numbers import NumberError, exact, round_half_up
from core.tenancy import current_tenant_id


MAX_SCORE = Decimal("1000000")


class AfterError(ValueError):
    """The action is not possible; the message says why."""


def now() -> datetime:
    return datetime.now(timezone.utc)


# ----------------------------------------------------------------------------------- the window

def holidays() -> set[date]:
    return set(db_session.scalars(select(Holiday.day)))


def add_days(start: date, days: int, kind: str, off: set[date]) -> date:
    """The last day of a window of ``days`` days after ``start``: working days skip weekends and
    the tenant's holidays; calendar days do not."""
    if kind == "calendar":
        return start + timedelta(days=days)
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            counted += 1
    return current


def appeal_deadline(cycle: Cycle) -> date | None:
    if cycle.published_at is None:
        return None
    scheme = get_schemes()[cycle.scheme_id]
    return add_days(cycle.published_at.date(), scheme.appeal_days, scheme.appeal_day_kind, holidays())


# ----------------------------------------------------------------------------------- notifications

def notify(user_ids: list[int], message: str, link: str | None = None) -> None:
    """One message to each account, in one insert."""
    ids = sorted(set(user_ids))
    if ids:
        tenant_id = current_tenant_id(db_session)
        db_session.execute(insert(Notification), [dict(tenant_id=tenant_id, user_id=i, message=message[:300], link=link)
                                                  for i in ids])


def admins() -> list[int]:
    return list(db_session.scalars(select(RoleMembership.user_id).where(RoleMembership.role == "tenant_admin")))


def notify_published(cycle: Cycle, link_for) -> int:
    """Tell every assessed person with an account that their result is out (one query, one insert)."""
    rows = db_session.execute(
        select(User.id, CycleResult.id)
        .join(CycleSubject, CycleSubject.person_id == User.person_id)
        .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
        .where(CycleSubject.cycle_id == cycle.id, User.active.is_(True))).all()
    if rows:
        db_session.execute(insert(Notification), [
            dict(tenant_id=cycle.tenant_id, user_id=user_id, link=link_for(result_id),
                 message=_("Your result of %(cycle)s is published; please read and sign it.", cycle=cycle.name))
            for user_id, result_id in rows])
    return len(rows)


# ----------------------------------------------------------------------------------- signing

def acknowledgement(result: CycleResult) -> Acknowledgement:
    ack = db_session.scalar(select(Acknowledgement).where(Acknowledgement.result_id == result.id))
    if ack is None:
        ack = Acknowledgement(result_id=result.id)
        db_session.add(ack)
        db_session.flush()
    return ack


def record_interview(result: CycleResult, text: str, actor: str) -> Acknowledgement:
    """The assessor writes the interview record and signs it."""
    text = (text or "").strip()
    if not text:
        raise AfterError(_("Write what was discussed in the interview before signing."))
    ack = acknowledgement(result)
    if ack.assessor_signed_at is not None:
        raise AfterError(_("The assessor has already signed this interview record."))
    ack.interview_record, ack.interview_by, ack.interview_at = text[:5000], actor, now()
    ack.assessor_signed_at, ack.assessor_signed_by = now(), actor
    record("interview", ack, after={"result_id": result.id, "by": actor})
    return ack


def person_signs(result: CycleResult, actor: str) -> Acknowledgement:
    """The person confirms they have read the result (and the interview record, when there is one)."""
    ack = acknowledgement(result)
    if ack.person_signed_at is not None:
        raise AfterError(_("You have already signed this result."))
    ack.person_signed_at = now()
    record("sign", ack, after={"result_id": result.id, "by": actor})
    return ack


# ----------------------------------------------------------------------------------- appeals

def open_appeal(result: CycleResult) -> Appeal | None:
    return db_session.scalar(select(Appeal).where(Appeal.result_id == result.id, Appeal.state != "decided"))


def file_appeal(cycle: Cycle, result: CycleResult, reason: str, actor: str, today: date | None = None) -> Appeal:
    if cycle.state != "published":
        raise AfterError(_("Appeals are possible while the results are published; this cycle is %(state)s.", state=cycle.state))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise AfterError(_("Say what you disagree with and why (at least 10 characters)."))
    deadline = appeal_deadline(cycle)
    today = today or now().date()  # the same clock as published_at (UTC)
    if deadline is not None and today > deadline:
        raise AfterError(_("The appeal window closed on %(day)s.", day=deadline.isoformat()))
    if open_appeal(result) is not None:
        raise AfterError(_("An appeal against this result is already under way."))
    appeal = Appeal(result_id=result.id, filed_by=actor, reason=reason[:5000], state="filed")
    db_session.add(appeal)
    db_session.flush()
    record("file", appeal, after={"result_id": result.id, "reason": appeal.reason})
    notify(admins(), _("A new appeal against a result of %(cycle)s.", cycle=cycle.name))
    return appeal


def _published(cycle: Cycle) -> None:
    if cycle.state != "published":
        raise AfterError(_("Appeals are handled while the results are published; this cycle is %(state)s.", state=cycle.state))


def investigate(appeal: Appeal, cycle: Cycle, note: str, actor: str) -> Appeal:
    _published(cycle)
    if appeal.state == "decided":
        raise AfterError(_("This appeal is already decided."))
    note = (note or "").strip()
    if not note:
        raise AfterError(_("Write down what the investigation found."))
    before = {"state": appeal.state, "investigation": appeal.investigation}
    appeal.state, appeal.investigation = "investigating", note[:5000]
    record("investigate", appeal, before=before, after={"state": appeal.state, "investigation": appeal.investigation})
    return appeal


def decide(appeal: Appeal, cycle: Cycle, decision: str, new_score: str | None, note: str, actor: str,
           person_user_ids: list[int]) -> Appeal:
    """Uphold the result or adjust it; an adjusted score is re-graded, the cycle re-ranked, and the
    change kept in the score's history."""
    _published(cycle)
    if appeal.state == "decided":
        raise AfterError(_("This appeal is already decided."))
    if decision not in ("upheld", "adjusted"):
        raise AfterError(_("%(value)s is not a decision; allowed: upheld, adjusted.", value=decision))
    note = (note or "").strip()
    if not note:
        raise AfterError(_("Give the reasons for the decision."))
    result = db_session.get(CycleResult, appeal.result_id)
    if decision == "adjusted":
        if appeal.state != "investigating":
            raise AfterError(_("A score is adjusted only after HR's investigation is recorded."))
        try:
            score = round_half_up(exact(str(new_score or "")), 2)
        except NumberError:
            raise AfterError(_("%(value)s is not a score; write it like 4.35.", value=new_score)) from None
        if abs(score) > MAX_SCORE:
            raise AfterError(_("%(value)s is not a plausible score.", value=new_score))
        scheme = get_schemes()[cycle.scheme_id]
        subject = db_session.get(CycleSubject, result.subject_id)
        refused = scheme.adjust_refusal(subject.kind, result.flags, result.extra) if scheme.adjust_refusal else None
        if refused:
            raise AfterError(refused)
        if score == result.score:
            raise AfterError(_("The adjusted score equals the current one; choose upheld instead."))
        adjust_score(cycle, result, score, _("appeal decided: %(note)s", note=note), actor)
        appeal.new_score = score
    appeal.state, appeal.decision, appeal.decision_note = "decided", decision, note[:5000]
    appeal.decided_by, appeal.decided_at = actor, now()
    record("decide", appeal, after={"decision": decision, "new_score": str(appeal.new_score) if appeal.new_score else None})
    notify(person_user_ids, _("Your appeal on %(cycle)s was decided: %(decision)s.", cycle=cycle.name,
                              decision=_("upheld") if decision == "upheld" else _("adjusted")))
    return appeal


def adjust_score(cycle: Cycle, result: CycleResult, score: Decimal, reason: str, actor: str) -> None:
    scheme = get_schemes()[cycle.scheme_id]
    grade = scheme.grade_of(cycle.settings, score) if scheme.grade_of else result.grade
    db_session.add(ScoreChange(result_id=result.id, actor=actor, score_before=result.score, score_after=score,
                               grade_before=result.grade, grade_after=grade, reason=reason[:2000]))
    before = {"score": str(result.score), "grade": result.grade, "rank": result.rank}
    result.score, result.grade, result.adjusted = score, grade, True
    db_session.flush()
    rerank(cycle)
    record("adjust", result, before=before, after={"score": str(score), "grade": grade, "rank": result.rank})


def rerank(cycle: Cycle) -> None:
    """Competition ranks again within each kind of subject: one read, one bulk update."""
    rows = db_session.execute(select(CycleResult.id, CycleSubject.kind, CycleResult.score)
                              .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                              .where(CycleResult.cycle_id == cycle.id)).all()
    ranks = competition_ranks((rid, kind, score) for rid, kind, score in rows)
    changed = [{"id": rid, "rank": ranks.get(rid)} for rid, _k, _s in rows]
    if changed:
        db_session.execute(update(CycleResult), changed)  # bulk UPDATE by primary key


def history(result: CycleResult) -> list[ScoreChange]:
    return list(db_session.scalars(select(ScoreChange).where(ScoreChange.result_id == result.id).order_by(ScoreChange.id)))


def unread_count(user_id: int) -> int:
    return db_session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def person_accounts(subject: CycleSubject) -> list[int]:
    if subject.person_id is None:
        return []
    return list(db_session.scalars(select(User.id).where(User.person_id == subject.person_id, User.active.is_(True))))

