"""After publication: interviews and signatures, appeals within the scheme's window, adjusted
scores with their history, inputs corrected for an appeal and the cycle re-scored from them, and
the notifications that tell people what to do.

Works in the caller's transaction; every change is audited; a changed score keeps its history.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from core.audit import record
from core.db import db_session
from core.models import (Acknowledgement, Appeal, AuditLog, Cycle, CycleResult, CycleSubject, Holiday, Notification,
                         RoleMembership, ScoreChange, Tenant, User)
from core.plugins import get_schemes
from core.scoring.blocks import competition_ranks
from core.scoring.numbers import NumberError, exact, round_half_up
from core.tenancy import current_tenant_id


MAX_SCORE = Decimal("1000000")
# How an appeal is decided: the result stands; HR's new score replaces it (when the scheme allows);
# the appealed subject's inputs were corrected and the cycle re-scored from them.
DECISIONS = ("upheld", "adjusted", "corrected")
CORRECTION_ACTION = "correct_inputs"  # the audit action of an input correction made for an appeal
# the audit action of corrections put back as published: the appeal was decided upheld or adjusted
WITHDRAWAL_ACTION = "withdraw_correction"


class AfterError(ValueError):
    """The action is not possible; the message says why."""


class StaleAppeal(AfterError):
    """The appeal changed since the page deciding it was loaded (its inputs were corrected meanwhile)."""


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
    """Tell every assessed person with an account that their result is out (one query, one insert);
    a person the scheme did not score this time is told so, not asked to sign."""
    rows = db_session.execute(
        select(User.id, CycleResult.id, CycleResult.score)
        .join(CycleSubject, CycleSubject.person_id == User.person_id)
        .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
        .where(CycleSubject.cycle_id == cycle.id, User.active.is_(True))).all()
    if rows:
        scored = _("Your result of %(cycle)s is published; please read and sign it.", cycle=cycle.name)
        unscored = _("%(cycle)s is published; you were not scored in it (see why on the result page).", cycle=cycle.name)
        db_session.execute(insert(Notification), [
            dict(tenant_id=cycle.tenant_id, user_id=user_id, link=link_for(result_id),
                 message=scored if score is not None else unscored)
            for user_id, result_id, score in rows])
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
    if result.score is None:
        raise AfterError(_("You were not scored in this cycle: there is no result to sign."))
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


def decision_label(decision: str | None) -> str:
    """A decision as people read it."""
    return {"upheld": _("upheld"), "adjusted": _("adjusted"),
            "corrected": _("corrected: inputs corrected and recomputed")}.get(decision or "", decision or "")


def decide(appeal: Appeal, cycle: Cycle, decision: str, new_score: str | None, note: str, actor: str,
           person_user_ids: list[int], version: int | None = None) -> Appeal:
    """Uphold the result, adjust it, or confirm the corrections of its inputs.

    - upheld, adjusted: inputs corrected for this appeal are put back as they were published
      (:func:`withdraw_corrections`);
    - adjusted: HR's new score is re-graded, the cycle re-ranked, and the change kept in the
      score's history (unless the scheme refuses adjusting this result alone);
    - corrected: the inputs were corrected for this appeal (:func:`correct_inputs`); the cycle is
      re-scored from its stored inputs and every result that changed is updated (:func:`rescore`);
      refused while another appeal of the cycle has corrected inputs not decided yet.
    Both need HR's investigation first. The cycle's row is locked first (as a correction does), so
    that no correction slips in meanwhile; with ``version`` (the appeal's, as the deciding page
    showed it), a decision taken on a page loaded before a correction is refused.
    When results changed (adjusted, or corrected with a change), the plugins are told
    (``jixiao_event_results_changed``).

    :raises StaleAppeal: ``version`` is not the appeal's. :raises AfterError: not possible."""
    lock(cycle, appeal)
    if version is not None and version != appeal.version:
        raise StaleAppeal(_("This appeal changed since you opened it (its inputs were corrected meanwhile): "
                            "check it again before deciding."))
    _published(cycle)
    if appeal.state == "decided":
        raise AfterError(_("This appeal is already decided."))
    if decision not in DECISIONS:
        raise AfterError(_("%(value)s is not a decision; allowed: %(allowed)s.", value=decision,
                           allowed=", ".join(DECISIONS)))
    note = (note or "").strip()
    if not note:
        raise AfterError(_("Give the reasons for the decision."))
    result = db_session.get(CycleResult, appeal.result_id)
    recomputed: list[int] = []
    if decision == "adjusted":
        if appeal.state != "investigating":
            raise AfterError(_("A score is adjusted only after HR's investigation is recorded."))
        try:
            score = round_half_up(exact(str(new_score or "")), 2)
        except NumberError:
            raise AfterError(_("%(value)s is not a score; write it like 4.35.", value=new_score)) from None
        if abs(score) > MAX_SCORE:
            raise AfterError(_("%(value)s is not a plausible score.", value=new_score))
        refused = adjust_refused(cycle, result)
        if refused:
            raise AfterError(refused)
        if score == result.score:
            raise AfterError(_("The adjusted score equals the current one; choose upheld instead."))
        withdraw_corrections(appeal, db_session.get(CycleSubject, result.subject_id), decision, actor)
        adjust_score(cycle, result, score, _("appeal decided: %(note)s", note=note), actor)
        appeal.new_score = score
    elif decision == "corrected":
        if appeal.state != "investigating":
            raise AfterError(_("Inputs are corrected only after HR's investigation is recorded."))
        subject = db_session.get(CycleSubject, result.subject_id)
        pending = pending_corrections(cycle, appeal)
        if pending:
            raise AfterError(pending_message(*pending[0]))
        recomputed = rescore(cycle, appeal, subject, note, actor)
        db_session.refresh(result)
        appeal.new_score = result.score
    else:
        withdraw_corrections(appeal, db_session.get(CycleSubject, result.subject_id), decision, actor)
    appeal.state, appeal.decision, appeal.decision_note = "decided", decision, note[:5000]
    appeal.decided_by, appeal.decided_at = actor, now()
    after = {"decision": decision, "new_score": str(appeal.new_score) if appeal.new_score is not None else None}
    if decision == "corrected":
        after["recomputed_results"] = recomputed
    record("decide", appeal, after=after)
    if decision == "adjusted" or recomputed:
        from core.cycles.service import _hook

        _hook().jixiao_event_results_changed(tenant=db_session.get(Tenant, cycle.tenant_id), cycle=cycle)
    notify(person_user_ids, _("Your appeal on %(cycle)s was decided: %(decision)s.", cycle=cycle.name,
                              decision=decision_label(decision)))
    return appeal


def adjust_refused(cycle: Cycle, result: CycleResult) -> str | None:
    """Why the scheme does not let this result's score be adjusted alone, else None."""
    scheme = get_schemes()[cycle.scheme_id]
    if not scheme.adjust_refusal:
        return None
    subject = db_session.get(CycleSubject, result.subject_id)
    return scheme.adjust_refusal(subject.kind, result.flags, result.extra)


# ----------------------------------------------------------------------------------- corrections

def lock(cycle: Cycle, appeal: Appeal) -> None:
    """Lock the cycle's row (PostgreSQL; as :func:`core.cycles.service.transition` does) and read
    the appeal again: a decision and a correction of the same cycle take their turns, and each sees
    what the other committed."""
    db_session.flush()  # what this transaction changed stays; the lock then re-reads the row
    db_session.refresh(cycle, with_for_update=True)
    db_session.refresh(appeal)


def correction_problem(appeal: Appeal, cycle: Cycle, subject: CycleSubject) -> str | None:
    """Why the inputs of ``subject`` cannot be corrected for ``appeal`` now, else None: only the
    appealed subject's, while the results are published and the appeal is being investigated, and
    not while another appeal of the cycle has corrected inputs not decided yet (one appeal's
    corrections at a time: a cycle is re-scored from all its inputs)."""
    result = db_session.get(CycleResult, appeal.result_id)
    if result is None or result.subject_id != subject.id or result.cycle_id != cycle.id:
        return _("This appeal is not about %(name)s's result.", name=subject.name)
    if cycle.state != "published":
        return _("Inputs are corrected for an appeal while the results are published; this cycle is %(state)s.",
                 state=cycle.state)
    if appeal.state != "investigating":
        return _("Inputs are corrected for an appeal while HR investigates it; record the investigation first "
                 "(this appeal is %(state)s).", state=appeal.state)
    pending = pending_corrections(cycle, appeal)
    return pending_message(*pending[0]) if pending else None


def pending_corrections(cycle: Cycle, appeal: Appeal) -> list[tuple[Appeal, CycleSubject]]:
    """The other appeals of the cycle under investigation whose subject's inputs are corrected (they
    differ from those published), with their subjects: their corrections are not decided yet, and a
    re-scoring of the cycle would count them. Three queries, whatever the size."""
    rows = db_session.execute(
        select(Appeal, CycleSubject).join(CycleResult, CycleResult.id == Appeal.result_id)
        .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
        .where(CycleResult.cycle_id == cycle.id, Appeal.state == "investigating", Appeal.id != appeal.id)
        .order_by(Appeal.id).execution_options(populate_existing=True)).all()  # as they are now, if already read
    if not rows:
        return []
    first: dict[tuple[Any, str], AuditLog] = {}
    for entry in db_session.scalars(select(AuditLog).where(
            AuditLog.action == CORRECTION_ACTION, AuditLog.object_type == "CycleSubject",
            AuditLog.object_id.in_([str(s.id) for _a, s in rows])).order_by(AuditLog.id)):
        first.setdefault(((entry.after or {}).get("appeal_id"), entry.object_id), entry)
    pending = []
    for other, subject in rows:
        entry = first.get((other.id, str(subject.id)))
        if entry is not None and inputs_corrected(other, subject, [entry]):
            pending.append((other, subject))
    return pending


def pending_message(appeal: Appeal, subject: CycleSubject) -> str:
    return _("Appeal #%(id)s of %(name)s has corrected inputs in this cycle that are not decided yet: "
             "decide it first.", id=appeal.id, name=subject.name)


def correct_inputs(appeal: Appeal, cycle: Cycle, subject: CycleSubject, inputs: dict[str, Any], version: int,
                   actor: str) -> int:
    """Correct the appealed subject's inputs in a published cycle (optimistic locking on
    ``version``); audited as a correction naming the appeal, with the inputs before and after (and
    when and by whom they were last changed before, to put them back as they were). The cycle's row
    is locked first (:func:`lock`), and the appeal's version moves on: a decision taken on a page
    loaded before the correction is refused as stale. The results change only when the appeal is
    decided "corrected".

    :return: the new version. :raises AfterError: not allowed now (see :func:`correction_problem`);
        :raises core.cycles.service.CycleError: a stale version."""
    from core.cycles import service

    lock(cycle, appeal)
    problem = correction_problem(appeal, cycle, subject)
    if problem:
        raise AfterError(problem)
    db_session.refresh(subject)
    before = dict(subject.inputs or {})
    updated_at, updated_by = subject.inputs_updated_at, subject.inputs_updated_by
    new_version = service.write_inputs(subject, inputs, version, actor)
    record(CORRECTION_ACTION, subject,
           before={"inputs": before, "inputs_version": version, "inputs_updated_by": updated_by,
                   "inputs_updated_at": updated_at.isoformat() if updated_at is not None else None},
           after={"inputs": inputs, "inputs_version": new_version, "appeal_id": appeal.id, "result_id": appeal.result_id},
           actor=actor)
    appeal.version += 1  # a decision loaded before this correction is stale now
    db_session.flush()
    return new_version


def withdraw_corrections(appeal: Appeal, subject: CycleSubject, decision: str, actor: str) -> bool:
    """The appeal is decided without its corrections (upheld, adjusted): the subject's inputs go
    back to those published (the first correction's "before"), with when and by whom they were
    changed then (nothing changed after the computation), their version moved on; audited.

    :return: whether the inputs were put back (False: nothing was corrected, or it was put back already)."""
    found = corrections(appeal, subject)
    if not found:
        return False
    first = found[0].before or {}
    published = first.get("inputs") or {}
    db_session.refresh(subject)
    current, version = subject.inputs or {}, subject.inputs_version
    if current == published:
        return False
    stamp = first.get("inputs_updated_at")
    cycle = db_session.get(Cycle, subject.cycle_id)
    updated_at = datetime.fromisoformat(stamp) if stamp else cycle.computed_at  # corrections recorded before the stamp
    updated = db_session.execute(
        update(CycleSubject).where(CycleSubject.id == subject.id, CycleSubject.inputs_version == version)
        .values(inputs=published, inputs_version=version + 1, inputs_updated_by=first.get("inputs_updated_by") or actor,
                inputs_updated_at=updated_at)
        .execution_options(synchronize_session=False)).rowcount
    db_session.expire(subject)
    if updated != 1:
        raise AfterError(_("%(name)s's inputs were changed by someone else; reload to see them.", name=subject.name))
    record(WITHDRAWAL_ACTION, subject, before={"inputs": current, "inputs_version": version},
           after={"inputs": published, "inputs_version": version + 1, "appeal_id": appeal.id,
                  "result_id": appeal.result_id, "decision": decision,
                  "reason": _("correction withdrawn: appeal decided %(decision)s", decision=decision_label(decision))},
           actor=actor)
    return True


def corrections(appeal: Appeal, subject: CycleSubject) -> list[AuditLog]:
    """The corrections of the subject's inputs made for this appeal, oldest first (one query)."""
    rows = db_session.scalars(select(AuditLog).where(
        AuditLog.action == CORRECTION_ACTION, AuditLog.object_type == "CycleSubject",
        AuditLog.object_id == str(subject.id)).order_by(AuditLog.id))
    return [row for row in rows if (row.after or {}).get("appeal_id") == appeal.id]


def inputs_corrected(appeal: Appeal, subject: CycleSubject, found: list[AuditLog] | None = None) -> bool:
    """Do the subject's inputs now differ from what they were before this appeal's first correction?"""
    found = corrections(appeal, subject) if found is None else found
    return bool(found) and (found[0].before or {}).get("inputs") != (subject.inputs or {})


def changed_inputs(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """What differs between two inputs, as (dotted path, before, after), sorted by path."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found.extend(changed_inputs(before.get(key), after.get(key), f"{path}.{key}" if path else str(key)))
        return found
    return [] if before == after else [(path, before, after)]


def _plain_json(value: Any) -> Any:
    """A value as a JSON column gives it back (tuples as lists, numbers' text kept)."""
    return json.loads(json.dumps(value, default=str))


RESULT_FIELDS = ("score", "grade", "rank", "flags", "extra", "breakdown")


def rescore(cycle: Cycle, appeal: Appeal, subject: CycleSubject, note: str, actor: str) -> list[int]:
    """Score the published cycle again from its stored inputs, as :func:`core.cycles.service.compute`
    does (the plugins refresh their derived inputs first, for the appealed subject only: a change
    is audited as a correction too), and update every result whose score, grade, rank, flags,
    extra or breakdown changed; the others are untouched. A score another decision adjusted stays
    (its rank follows). Each score or grade change is kept in the score's history naming the
    appeal; the other people whose score changed are told. The cycle's ``computed_at`` becomes the
    re-scoring's time (its results follow its inputs as they are now). A few queries, whatever the size.

    :return: the ids of the results updated. :raises AfterError: the appealed subject's inputs are
        as they were published (nothing was corrected: choose upheld), or the inputs do not score;
        the caller rolls back then (the refresh may have written)."""
    from core.cycles import service
    from core.cycles.service import CycleError

    found = corrections(appeal, subject)
    db_session.refresh(subject)  # as it is now (the caller locked the cycle): it may have been read before
    before, before_version = dict(subject.inputs or {}), subject.inputs_version
    with service.correcting(cycle, subject):
        try:
            rows, _warnings = service.scored_rows(cycle)
        except CycleError as exc:
            raise AfterError("; ".join([str(exc)] + exc.problems[:10])) from None
    db_session.refresh(subject)
    current = subject.inputs or {}
    published = (found[0].before or {}).get("inputs") if found else before
    if published == current:
        raise AfterError(_("The inputs of %(name)s were not changed for this appeal: correct them first, or "
                           "choose upheld.", name=subject.name))
    if current != before:  # the scheme's records of the appealed person, followed
        record(CORRECTION_ACTION, subject, before={"inputs": before, "inputs_version": before_version},
               after={"inputs": current, "inputs_version": subject.inputs_version, "appeal_id": appeal.id,
                      "result_id": appeal.result_id, "derived": True}, actor=actor)
    stored = {r.subject_id: r for r in db_session.scalars(select(CycleResult).where(CycleResult.cycle_id == cycle.id))}
    kept = {sid: r for sid, r in stored.items() if r.adjusted and sid != subject.id}
    if kept:  # ranks over the scores as they stand, adjusted ones included (as rerank does)
        kinds = dict(db_session.execute(select(CycleSubject.id, CycleSubject.kind)
                                        .where(CycleSubject.cycle_id == cycle.id)).all())
        scores = {row["subject_id"]: row["score"] for row in rows}
        scores.update({sid: r.score for sid, r in kept.items()})
        ranks = competition_ranks((sid, kinds.get(sid), score) for sid, score in scores.items())
        for row in rows:
            row["rank"] = ranks.get(row["subject_id"])
    stamp = now()
    cycle.computed_at = stamp  # the results follow the inputs as they are now (the payroll compares)
    changed: list[CycleResult] = []
    score_changed: list[int] = []
    for row in rows:
        result = stored.get(row["subject_id"])
        if result is None:
            continue  # no result was published for it: a correction does not add one
        wanted = {"rank": row["rank"]} if result.subject_id in kept else {k: row[k] for k in RESULT_FIELDS}
        stored_values = {k: getattr(result, k) for k in wanted}
        if all(_same(k, stored_values[k], wanted[k]) for k in wanted):
            continue
        old = {k: _plain_json(v) for k, v in stored_values.items() if k != "breakdown"}
        if "score" in wanted and not (_same("score", result.score, wanted["score"]) and result.grade == wanted["grade"]):
            reason = (_("appeal #%(id)s decided: inputs corrected and recomputed: %(note)s", id=appeal.id, note=note)
                      if result.subject_id == subject.id else
                      _("recomputed after the inputs were corrected for appeal #%(id)s", id=appeal.id))
            db_session.add(ScoreChange(result_id=result.id, actor=actor, score_before=result.score,
                                       score_after=wanted["score"], grade_before=result.grade,
                                       grade_after=wanted["grade"], reason=reason[:2000]))
            if not _same("score", result.score, wanted["score"]) and result.subject_id != subject.id:
                score_changed.append(result.subject_id)
        for key, value in wanted.items():
            setattr(result, key, value)
        if "score" in wanted:
            result.computed_at, result.adjusted = stamp, False
        changed.append(result)
        record("recompute", result, before=old,
               after={**{k: _plain_json(v) for k, v in wanted.items() if k != "breakdown"}, "appeal_id": appeal.id},
               actor=actor)
    db_session.flush()
    if score_changed:
        people = db_session.scalars(select(CycleSubject.person_id).where(
            CycleSubject.id.in_(score_changed), CycleSubject.person_id.is_not(None)))
        users = db_session.scalars(select(User.id).where(User.person_id.in_(list(people)), User.active.is_(True)))
        notify(list(users), _("Your result of %(cycle)s was recomputed after a correction made for an appeal.",
                              cycle=cycle.name))
    return [r.id for r in changed]


def _same(key: str, current: Any, wanted: Any) -> bool:
    if key == "score":
        return (current is None) == (wanted is None) and (current is None or Decimal(str(current)) == Decimal(str(wanted)))
    if key in ("flags", "extra", "breakdown"):
        return _plain_json(current) == _plain_json(wanted)
    return current == wanted


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

