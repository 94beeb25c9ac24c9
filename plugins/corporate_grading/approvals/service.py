"""Approval chains of the monthly personal scorecards (schemes.md §1, "Approval chains").

- Class A: self-score → assessment specialist (考评专员) checks → president approves.
- Class B: self-score → specialist → supervising leader (分管领导) → president.
- Class C: self-score → unit head approves.

Who acts at a step: the specialist post holders; the president post holder; the accounts of the
supervising leaders of the person's unit (``organisation.service.supervising_leaders``: the leaders
overseeing the unit or its nearest ancestor that has one); the accounts heading the person's unit
(``core.policy.headed_units``: the unit's own head and the heads of the units above it).

Nobody acts on their own scorecard: the person's own accounts are left out of every step. When
nobody is left (the president's own scorecard at the president's step, a lone specialist's at the
specialist's, a unit without a supervising leader or head, a post nobody holds), **HR acts at that
step** (the tenant administrators, again not the person): HR is who runs the scheme, and skipping
the step or handing it to the next step's holder would let a scorecard pass with one check fewer.

The person submits (HR may submit on behalf of someone, recorded as such); the current step's
approver approves (the next step, or the final approval) or returns it with a note (back to the
person, unlocked); HR may return it at any time, an approved one too. While it is in the chain only
the current approver and HR correct the scorecard on the input form (recorded as corrections);
after the final approval only HR changes the subject's inputs. The locking is the
``jixiao_event_inputs_saving`` hook (:func:`inputs_saving`). Every action is an
:class:`ApprovalEvent` and an audit row.

Lookups are set-based: :class:`Directory` loads posts, oversight, the unit tree, unit heads and
accounts in five queries and answers for any number of subjects.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.audit import record
from core.cycles import inputs as forms
from core.cycles.service import EDITABLE_STATES, CycleError, now
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, RoleMembership, User
from core.plugins import get_schemes
from core.scoring.case import Period
# organisation before policy: policy imports organisation, whose package imports policy back
from plugins.corporate_grading.organisation.service import overseers, post_holders
from plugins.corporate_grading import policy  # noqa: I001
from plugins.corporate_grading.approvals.models import CHAINS, ApprovalEvent, CorporateApproval
from plugins.corporate_grading.web import SCHEME_ID, cycle_state_name

STEP_LABELS = {
    "self": _l("Self-score"),
    "specialist": _l("Assessment specialist checks"),
    "supervising_leader": _l("Supervising leader approves"),
    "president": _l("President approves"),
    "unit_head": _l("Unit head approves"),
}
STATE_LABELS = {
    "none": _l("Not submitted"),
    "returned": _l("Returned"),
    "submitted": _l("In the chain"),
    "approved": _l("Approved"),
}
ACTION_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "return": _l("Returned"),
    "correct": _l("Corrected"),
}
SCORECARD = "personal"  # the field the chain governs (with every other field the person enters)
MAX_NOTE = 2000


class ApprovalError(ValueError):
    """An approval action that is not possible now; the message says why."""


def step_label(step: str | None) -> str:
    return str(STEP_LABELS.get(step or "", step or ""))


# ----------------------------------------------------------------------------------- who acts

@dataclass(frozen=True)
class Acting:
    """Who acts at one step of one scorecard: account ids, and whether HR stands in."""

    user_ids: list[int]
    as_hr: bool = False


@dataclass
class Directory:
    """Everything needed to name the approvers of any scorecard, loaded at once (five queries)."""

    posts: dict[str, list[int]]
    parents: dict[int, int | None]
    overseen_by: dict[int, list[int]]  # unit id -> person ids of the leaders overseeing it
    heads: dict[int, list[int]]  # unit id -> account ids of its own heads
    accounts: dict[int, list[int]]  # person id -> active account ids
    hr: list[int]
    names: dict[int, str]  # active account id -> display name
    _cache: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Directory":
        users = db_session.execute(select(User.id, User.person_id, User.display_name, User.username)
                                   .where(User.active.is_(True)).order_by(User.username)).all()
        names = {u.id: u.display_name or u.username for u in users}
        accounts: dict[int, list[int]] = defaultdict(list)
        for u in users:
            if u.person_id is not None:
                accounts[u.person_id].append(u.id)
        heads: dict[int, list[int]] = defaultdict(list)
        hr: list[int] = []
        for user_id, role, unit_id in db_session.execute(
                select(RoleMembership.user_id, RoleMembership.role, RoleMembership.unit_id)
                .where(RoleMembership.role.in_(("unit_head", "tenant_admin"))).order_by(RoleMembership.id)):
            if user_id not in names:
                continue
            if role == "tenant_admin":
                hr.append(user_id)
            elif unit_id is not None:
                heads[unit_id].append(user_id)
        posts = {post: [u for u in ids if u in names] for post, ids in post_holders().items()}
        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        return cls(posts=posts, parents=parents, overseen_by=overseers(), heads=dict(heads), accounts=dict(accounts),
                   hr=list(dict.fromkeys(hr)), names=names)

    def _ancestry(self, unit_id: int | None) -> list[int]:
        """The unit and the units above it, nearest first."""
        chain: list[int] = []
        while unit_id is not None and unit_id not in chain:
            chain.append(unit_id)
            unit_id = self.parents.get(unit_id)
        return chain

    def holders(self, step: str, unit_id: int | None) -> list[int]:
        """The accounts holding ``step`` for a person of ``unit_id`` (before anyone is left out)."""
        key = (step, unit_id)
        if key not in self._cache:
            if step in ("specialist", "president"):
                ids = list(self.posts.get(step, []))
            elif step == "supervising_leader":
                leaders: list[int] = []
                for unit in self._ancestry(unit_id):
                    if unit in self.overseen_by:
                        leaders = self.overseen_by[unit]
                        break
                ids = [a for person in leaders for a in self.accounts.get(person, [])]
            elif step == "unit_head":
                ids = [a for unit in self._ancestry(unit_id) for a in self.heads.get(unit, [])]
            else:
                ids = []
            self._cache[key] = list(dict.fromkeys(ids))
        return self._cache[key]

    def acting(self, step: str | None, subject: CycleSubject) -> Acting:
        """Who acts at ``step`` of ``subject``'s scorecard: the holders but the person; else HR."""
        if step is None:
            return Acting([])
        own = set(self.accounts.get(subject.person_id, [])) if subject.person_id is not None else set()
        ids = [u for u in self.holders(step, subject.unit_id) if u not in own]
        if ids:
            return Acting(ids)
        return Acting([u for u in self.hr if u not in own], as_hr=True)

    def may_act_somewhere(self, user: User) -> bool:
        """Could this account act at any step at all (spares the menu a query when not)?"""
        return (user.id in self.hr or user.id in self.posts.get("specialist", [])
                or user.id in self.posts.get("president", [])
                or any(user.id in ids for ids in self.heads.values())
                or (user.person_id is not None and any(user.person_id in p for p in self.overseen_by.values())))

    def who(self, acting: Acting) -> str:
        """The names of who acts, for messages and lists."""
        names = ", ".join(self.names.get(u, str(u)) for u in acting.user_ids) or _("nobody (set the posts)")
        return _("HR (%(names)s)", names=names) if acting.as_hr else names


def directory() -> Directory:
    """The directory of this request (loaded once per request)."""
    if not has_app_context():
        return Directory.load()
    cache = g.setdefault("_corp_approval_directory", {})
    key = db_session.info.get("tenant_id")
    if key not in cache:
        cache[key] = Directory.load()
    return cache[key]


def _forget() -> None:
    """Drop this request's cached lookups after a change to approvals."""
    if has_app_context():
        for key in ("_corp_approval_states", "_corp_approval_last_events", "_corp_approval_awaiting"):
            g.pop(key, None)


# ----------------------------------------------------------------------------------- reading

def is_monthly(cycle: Cycle) -> bool:
    return cycle.scheme_id == SCHEME_ID and Period.parse(cycle.period).kind == "month"


def in_scope(cycle: Cycle, subject: CycleSubject) -> bool:
    """Does ``subject`` have an approval chain (an eligible person of a monthly corporate cycle)?"""
    return (is_monthly(cycle) and subject.cycle_id == cycle.id and subject.kind == "person" and subject.eligible
            and subject.staff_class in CHAINS)


def self_fields(cycle: Cycle, subject: CycleSubject) -> list:
    """The fields the person enters themselves (the personal scorecard), in declaration order."""
    scheme = get_schemes()[cycle.scheme_id]
    fields = scheme.fields_for(cycle.settings, subject.kind, subject.staff_class, Period.parse(cycle.period).kind)
    return [f for f in fields if "self" in f.roles]


def scorecard_total(cycle: Cycle, subject: CycleSubject, inputs: dict | None = None) -> forms.LiveTotal:
    """The personal scorecard's total as entered (None when empty) and what keeps it from counting."""
    fields = [f for f in self_fields(cycle, subject) if f.path == SCORECARD]
    if not fields:
        return forms.LiveTotal()
    return forms.live_total(fields[0], subject.inputs if inputs is None else inputs)


def approval_of(subject: CycleSubject) -> CorporateApproval | None:
    return db_session.scalar(select(CorporateApproval).where(CorporateApproval.subject_id == subject.id))


def approvals_for(subject_ids: list[int]) -> dict[int, CorporateApproval]:
    """The approvals of these subjects, by subject id (one query)."""
    if not subject_ids:
        return {}
    rows = db_session.scalars(select(CorporateApproval).where(CorporateApproval.subject_id.in_(subject_ids)))
    return {a.subject_id: a for a in rows}


def history(approval: CorporateApproval | None) -> list[ApprovalEvent]:
    if approval is None:
        return []
    return list(db_session.scalars(select(ApprovalEvent).where(ApprovalEvent.approval_id == approval.id)
                                   .order_by(ApprovalEvent.id)))


def awaiting(user: User, where: Directory | None = None) -> list[tuple[CorporateApproval, CycleSubject, Cycle]]:
    """The scorecards waiting for ``user`` at their current step, in cycles still taking inputs
    (one query; who acts is decided in memory)."""
    where = where or directory()
    if user is None or not where.may_act_somewhere(user):
        return []
    rows = db_session.execute(
        select(CorporateApproval, CycleSubject, Cycle)
        .join(CycleSubject, CycleSubject.id == CorporateApproval.subject_id)
        .join(Cycle, Cycle.id == CorporateApproval.cycle_id)
        .where(CorporateApproval.state == "submitted", Cycle.state.in_(EDITABLE_STATES), Cycle.scheme_id == SCHEME_ID)
        .order_by(Cycle.period.desc(), Cycle.id.desc(), CorporateApproval.submitted_at, CycleSubject.code)).all()
    found = [(a, s, c) for a, s, c in rows if policy.may_approve_step(user, s, where.acting(a.current_step, s).user_ids)]
    if has_app_context():
        g.setdefault("_corp_approval_awaiting", {})[user.id] = len(found)  # the menu's count, for free
    return found


def awaiting_count(user: User) -> int:
    """How many scorecards wait for ``user`` (cached for the request: the menu asks on every page)."""
    if not has_app_context():
        return len(awaiting(user))
    cache = g.setdefault("_corp_approval_awaiting", {})
    if user.id not in cache:
        cache[user.id] = len(awaiting(user))
    return cache[user.id]


def my_scorecards(user: User) -> list[tuple[CycleSubject, Cycle, CorporateApproval | None]]:
    """The user's own scorecards in monthly corporate cycles still taking inputs (two queries)."""
    if user is None or user.person_id is None:
        return []
    rows = db_session.execute(
        select(CycleSubject, Cycle).join(Cycle, Cycle.id == CycleSubject.cycle_id)
        .where(CycleSubject.person_id == user.person_id, CycleSubject.kind == "person", CycleSubject.eligible.is_(True),
               Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(EDITABLE_STATES), func.length(Cycle.period) == 7)
        .order_by(Cycle.period.desc(), Cycle.id.desc())).all()
    found = approvals_for([s.id for s, _c in rows])
    return [(s, c, found.get(s.id)) for s, c in rows]


def progress(cycle: Cycle) -> dict[str, dict[str, int]]:
    """Per class: how many scorecards are not submitted, returned, at each step, approved (one query)."""
    rows = db_session.execute(
        select(CycleSubject.staff_class, CorporateApproval.state, CorporateApproval.step, func.count())
        .select_from(CycleSubject)
        .outerjoin(CorporateApproval, CorporateApproval.subject_id == CycleSubject.id)
        .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "person", CycleSubject.eligible.is_(True))
        .group_by(CycleSubject.staff_class, CorporateApproval.state, CorporateApproval.step)).all()
    out: dict[str, dict[str, int]] = {}
    for klass in CHAINS:
        out[klass] = {"total": 0, "none": 0, "returned": 0, **{s: 0 for s in CHAINS[klass]}, "approved": 0}
    for klass, state, step, count in rows:
        if klass not in out:
            continue
        bucket = out[klass]
        bucket["total"] += count
        if state is None:
            bucket["none"] += count
        elif state == "submitted":
            steps = CHAINS[klass]
            bucket[steps[min(step, len(steps) - 1)]] += count
        else:
            bucket[state] += count
    return out


# ----------------------------------------------------------------------------------- acting

def _check_open(cycle: Cycle, subject: CycleSubject) -> None:
    if not in_scope(cycle, subject):
        raise ApprovalError(_("%(name)s has no approval chain in this cycle (only the eligible staff of monthly "
                              "cycles do).", name=subject.name))
    if cycle.state not in EDITABLE_STATES:
        raise ApprovalError(_("This cycle is %(state)s: its approvals can no longer change.",
                              state=cycle_state_name(cycle.state)))


def _check_version(approval: CorporateApproval | None, version: str | int | None) -> None:
    """The page the user acted on showed ``version`` of the approval (0: not submitted yet)."""
    if version is None:
        return
    current = approval.version if approval is not None else 0
    if str(version) != str(current):
        raise ApprovalError(_("Someone else acted on this scorecard since you opened the page; reload it and try again."))


def _note(note: str | None, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ApprovalError(_("Note: write what should change when you return a scorecard."))
    if len(note) > MAX_NOTE:
        raise ApprovalError(_("Note: %(n)s characters; at most %(max)s are allowed.", n=len(note), max=MAX_NOTE))
    return note


def _event(approval: CorporateApproval, action: str, account: User | None, step: str | None, note: str = "",
           as_hr: bool = False, score: str | None = None, score_before: str | None = None) -> ApprovalEvent:
    event = ApprovalEvent(approval_id=approval.id, action=action, step=step, user_id=account.id if account else None,
                          actor_name=(account.display_name or account.username) if account else "system",
                          as_hr=as_hr, note=note, score=score, score_before=score_before, at=now())
    db_session.add(event)
    return event


def _snapshot(approval: CorporateApproval | None) -> dict[str, Any]:
    if approval is None:
        return {"state": "none"}
    return {"state": approval.state, "step": approval.current_step}


def _actor(account: User) -> str:
    return f"user:{account.username}"


def submit(cycle: Cycle, subject: CycleSubject, account: User, version: str | int | None = None) -> CorporateApproval:
    """The person (or HR on their behalf) submits the self-score: the chain starts at its first step."""
    _check_open(cycle, subject)
    approval = approval_of(subject)
    _check_version(approval, version)
    if approval is not None and approval.state == "submitted":
        where = directory()
        raise ApprovalError(_("%(name)s's scorecard is already submitted; it is with %(who)s (%(step)s).",
                              name=subject.name, who=where.who(where.acting(approval.current_step, subject)),
                              step=step_label(approval.current_step)))
    if approval is not None and approval.state == "approved":
        raise ApprovalError(_("%(name)s's scorecard is already approved; only HR can return it.", name=subject.name))
    total = scorecard_total(cycle, subject)
    if total.total is None:
        raise ApprovalError(_("Personal scorecard: nothing is entered yet; enter the self-score before submitting it."))
    if total.problems:
        raise ApprovalError(_("Personal scorecard: %(problems)s Correct it before submitting it.",
                              problems=" ".join(total.problems)))
    before = _snapshot(approval)
    if approval is None:
        approval = CorporateApproval(cycle_id=cycle.id, subject_id=subject.id, chain=subject.staff_class,
                                     state="submitted", step=0)
        db_session.add(approval)
    approval.chain = subject.staff_class
    approval.state, approval.step, approval.submitted_at = "submitted", 0, now()
    db_session.flush()
    on_behalf = not policy.is_own_scorecard(account, subject)
    _event(approval, "submit", account, "self", as_hr=on_behalf, score=total.total)
    record("corp.approval.submit", approval, before=before,
           after={**_snapshot(approval), "score": total.total, "on_behalf": on_behalf}, actor=_actor(account))
    _forget()
    return approval


def approve(cycle: Cycle, subject: CycleSubject, account: User, note: str = "",
            version: str | int | None = None) -> CorporateApproval:
    """The current step's approver approves: the scorecard moves to the next step, or is approved."""
    _check_open(cycle, subject)
    approval = approval_of(subject)
    if approval is None or approval.state != "submitted":
        raise ApprovalError(_("%(name)s's scorecard is not waiting for approval (%(state)s).", name=subject.name,
                              state=STATE_LABELS[approval.state if approval else "none"]))
    _check_version(approval, version)
    where = directory()
    step = approval.current_step
    acting = where.acting(step, subject)
    if not policy.may_approve_step(account, subject, acting.user_ids):
        raise ApprovalError(_("%(name)s's scorecard is at the step %(step)s, for %(who)s to act on.",
                              name=subject.name, step=step_label(step), who=where.who(acting)))
    note = _note(note, required=False)
    before = _snapshot(approval)
    card = scorecard_total(cycle, subject)
    if card.total is None or card.problems:  # corrected into something the scheme refuses: not approvable
        raise ApprovalError(_("Personal scorecard: %(problems)s Correct it, or return it, before approving it.",
                              problems=" ".join(card.problems) or _("nothing is entered.")))
    total = card.total
    _event(approval, "approve", account, step, note, as_hr=acting.as_hr, score=total)
    if approval.step + 1 >= len(approval.steps):
        approval.state = "approved"
    else:
        approval.step += 1
    approval.decided_at = now()
    db_session.flush()
    record("corp.approval.approve", approval, before=before, after={**_snapshot(approval), "note": note, "score": total},
           actor=_actor(account))
    _forget()
    return approval


def return_to_person(cycle: Cycle, subject: CycleSubject, account: User, note: str,
                     version: str | int | None = None) -> CorporateApproval:
    """The current step's approver (or HR, at any time) returns the scorecard to the person, with a
    note: it is unlocked and must be submitted again from the start of the chain."""
    _check_open(cycle, subject)
    approval = approval_of(subject)
    if approval is None or approval.state not in ("submitted", "approved"):
        raise ApprovalError(_("%(name)s's scorecard is not submitted (%(state)s): there is nothing to return.",
                              name=subject.name, state=STATE_LABELS[approval.state if approval else "none"]))
    _check_version(approval, version)
    where = directory()
    step = approval.current_step
    acting = where.acting(step, subject)
    if not policy.may_return_scorecard(account, subject, approval.state, acting.user_ids):
        if approval.state == "approved":
            raise ApprovalError(_("%(name)s's scorecard is approved: only HR can return it.", name=subject.name))
        raise ApprovalError(_("%(name)s's scorecard is at the step %(step)s, for %(who)s to act on.",
                              name=subject.name, step=step_label(step), who=where.who(acting)))
    note = _note(note, required=True)
    before = _snapshot(approval)
    _event(approval, "return", account, step or approval.steps[-1], note,
           as_hr=account.id not in acting.user_ids or acting.as_hr, score=scorecard_total(cycle, subject).total)
    approval.state, approval.step, approval.decided_at = "returned", 0, now()
    db_session.flush()
    record("corp.approval.return", approval, before=before, after={**_snapshot(approval), "note": note},
           actor=_actor(account))
    _forget()
    return approval


# ----------------------------------------------------------------------------------- locking

def _states(cycle: Cycle) -> dict[int, CorporateApproval]:
    """The approvals of a cycle by subject id, once per request (a bulk import asks for every row)."""
    if not has_app_context():
        return {a.subject_id: a for a in db_session.scalars(select(CorporateApproval)
                                                            .where(CorporateApproval.cycle_id == cycle.id))}
    cache = g.setdefault("_corp_approval_states", {})
    key = (db_session.info.get("tenant_id"), cycle.id)
    if key not in cache:
        cache[key] = {a.subject_id: a for a in db_session.scalars(
            select(CorporateApproval).where(CorporateApproval.cycle_id == cycle.id))}
    return cache[key]


def inputs_saving(tenant, cycle: Cycle, subject: CycleSubject, account: User | None, fields: list[str],
                  inputs: dict) -> None:
    """``jixiao_event_inputs_saving`` for the corporate scheme: refuse what the chain locks.

    - the person changing what they enter themselves once submitted (until it is returned);
    - anyone but the current step's approver and HR changing the scorecard while it is in the chain;
    - anyone but HR changing anything of the subject after the final approval.

    A change the chain allows to a scorecard in the chain, or after approval, is recorded in the
    scorecard's history as a correction (in the save's transaction).
    """
    if not fields or not in_scope(cycle, subject):
        return
    approval = _states(cycle).get(subject.id)
    if approval is None or approval.state == "returned":
        return
    own = policy.is_own_scorecard(account, subject)
    governed = {f.path for f in self_fields(cycle, subject)}
    changed = [f for f in fields if f in governed]
    where = directory()
    if approval.state == "approved":
        if not policy.may_change_approved(account, subject):
            raise CycleError(_("%(name)s's scorecard was approved on %(day)s: only HR can change these inputs now "
                               "(HR can also return it).", name=subject.name,
                               day=(approval.decided_at or approval.updated_at).strftime("%Y-%m-%d")))
        acting = Acting([], as_hr=True)
    else:
        acting = where.acting(approval.current_step, subject)
        who = where.who(acting)
        if own and changed:
            raise CycleError(_("You submitted your self-score; it is now with %(who)s (%(step)s) and can no longer be "
                               "changed by you. Ask them to return it if something must change.",
                               who=who, step=step_label(approval.current_step)))
        if changed and not policy.may_change_in_chain(account, subject, acting.user_ids):
            raise CycleError(_("%(name)s's scorecard is in its approval chain, with %(who)s (%(step)s): only they or HR "
                               "can correct it now.", name=subject.name, who=who,
                               step=step_label(approval.current_step)))
    if changed and SCORECARD in changed:
        _correction(cycle, subject, approval, account, inputs,
                    as_hr=acting.as_hr or (account is not None and account.id not in acting.user_ids))


def _correction(cycle: Cycle, subject: CycleSubject, approval: CorporateApproval, account: User | None,
                inputs: dict, as_hr: bool) -> None:
    """Record an approver's correction; successive corrections by one account at one step (the
    form saves each change) make one entry, from the first total to the last."""
    before = scorecard_total(cycle, subject).total
    after = scorecard_total(cycle, subject, inputs).total
    step = approval.current_step or "final"
    last = _last_events(cycle).get(approval.id)
    if (last is not None and last.action == "correct" and last.step == step
            and last.user_id == (account.id if account else None)):
        last.score, last.at = after, now()
        entry = last
    else:
        entry = _event(approval, "correct", account, step, as_hr=as_hr, score=after, score_before=before)
        _last_events(cycle)[approval.id] = entry
    record("corp.approval.correct", approval, before={"score": before}, after={"score": after, "step": step},
           actor=_actor(account) if account else None)
    return entry


def _last_events(cycle: Cycle) -> dict[int, ApprovalEvent]:
    """The latest history entry of each approval of the cycle (two queries, once per request)."""
    cache = g.setdefault("_corp_approval_last_events", {}) if has_app_context() else {}
    key = (db_session.info.get("tenant_id"), cycle.id)
    if key not in cache:
        latest = (select(func.max(ApprovalEvent.id)).join(CorporateApproval, CorporateApproval.id == ApprovalEvent.approval_id)
                  .where(CorporateApproval.cycle_id == cycle.id).group_by(ApprovalEvent.approval_id))
        cache[key] = {e.approval_id: e for e in db_session.scalars(select(ApprovalEvent).where(ApprovalEvent.id.in_(latest)))}
    return cache[key]
