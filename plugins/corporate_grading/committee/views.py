"""corporate-grading: the committee meeting's pages (考评小组会议): the meeting (members, attendance,
agenda), each agenda item (the unit's report, the supervisor's note, comments, the proposal and the
vote), and the printable minutes."""
from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from core.cycles.views import state_label
from core.db import db_session
from core.models import CycleSubject
from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import render_page
from plugins.corporate_grading.committee import models  # noqa: F401  (registers the tables)
from plugins.corporate_grading.committee import service
from plugins.corporate_grading.committee.service import CommitteeError
from plugins.corporate_grading.policy import (may_cast_casting_vote, may_conduct_meeting, may_create_meeting,
                                              may_reopen_vote, may_see_committee, vote_refusal)
from plugins.corporate_grading.web import account, actor, get_corporate_cycle, require_scheme

bp = Blueprint("corporate_committee", __name__, url_prefix="/t/<tenant>/corporate")

POLL_SECONDS = 4
VOTE_RETRIES = 3
SEAT_LABELS = {"chair": _l("Chair"), "vice_chair": _l("Vice-chair"), "member": _l("Member")}


# ------------------------------------------------------------------------------------- loaders

def _cycle(cycle_id: int):
    """The corporate cycle (404 otherwise), for someone who may follow the committee (403)."""
    require_scheme()
    cycle = get_corporate_cycle(cycle_id)
    if not may_see_committee(account(), service.meeting_of(cycle)):
        abort(403)
    return cycle


def _meeting(cycle):
    meeting = service.meeting_of(cycle)
    if meeting is None:
        abort(404)
    return meeting


def _entry(cycle, meeting, subject_id: int):
    """The agenda entry of a unit subject of this meeting, or 404."""
    subject = db_session.get(CycleSubject, subject_id)
    item = service.item_of(meeting, subject_id) if subject is not None and subject.cycle_id == cycle.id else None
    if item is None:
        abort(404)
    return service.AgendaEntry(item, subject)


def _form_version(name: str = "version") -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() else None


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _toast(message: str) -> dict[str, str]:
    """The HX-Trigger header for the toast (JSON with ASCII escapes: headers are latin-1)."""
    return {"HX-Trigger": json.dumps({"jixiao:saved": message})}


def _refused(message: str):
    """403 with the reason (a non-member or absent member voting, ...)."""
    if _is_htmx():
        return render_template("_error_fragment.html", title=_("Not allowed"), message=message), 403
    return render_template("error.html", status=403, title=_("Not allowed"), message=message), 403


# ------------------------------------------------------------------------------------- meeting page

def _meeting_context(cycle, meeting):
    user = account()
    entries = service.agenda(meeting) if meeting else []
    seats = service.members(meeting) if meeting else []
    return dict(cycle=cycle, meeting=meeting, entries=entries, seats=seats, seat_labels=SEAT_LABELS,
                seat_count=sum(1 for m in seats if m.voting), chair=service.acting_chair(meeting) if meeting else None,
                may_create=may_create_meeting(user), may_conduct=bool(meeting) and may_conduct_meeting(user, meeting),
                status_of=service.status_of, default_date=service.default_date(cycle),
                editable=cycle.state in ("draft", "open"), state_label=state_label)


@bp.get("/cycles/<int:cycle_id>/committee")
@permission_required("tenant.home")
def meeting(cycle_id: int):
    """The cycle's committee meeting: date, chair, members and attendance, and the agenda with each
    unit's status; HR sets the meeting up from here."""
    cycle = _cycle(cycle_id)
    return render_page("corporate_grading/committee/meeting.html", **_meeting_context(cycle, service.meeting_of(cycle)))


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise CommitteeError(_("Meeting date: %(value)s is not a date; write it as YYYY-MM-DD.", value=repr(raw)),
                             field="meeting_date") from None


def _meeting_action(cycle, action, done: str):
    """Run a meeting-level action; a refusal re-shows the meeting page with the reason."""
    try:
        action()
        db_session.commit()
    except CommitteeError as exc:
        db_session.rollback()
        return render_page("corporate_grading/committee/meeting.html", error=str(exc),
                           **_meeting_context(cycle, service.meeting_of(cycle))), exc.status
    except StaleDataError:
        db_session.rollback()
        return render_page("corporate_grading/committee/meeting.html",
                           error=_("The meeting was changed by someone else; reload the page and try again."),
                           **_meeting_context(cycle, service.meeting_of(cycle))), 409
    flash(done, "success")
    return redirect(url_for(".meeting", cycle_id=cycle.id))


@bp.post("/cycles/<int:cycle_id>/committee")
@permission_required("tenant.home")
def create(cycle_id: int):
    """HR sets up the cycle's meeting on a date (chair, vice-chair and members from the posts and roles)."""
    cycle = _cycle(cycle_id)
    if not may_create_meeting(account()):
        abort(403)
    return _meeting_action(cycle, lambda: service.create_meeting(cycle, _parse_date(request.form.get("meeting_date", "")),
                                                                 actor()),
                           _("The committee meeting is set up."))


@bp.post("/cycles/<int:cycle_id>/committee/date")
@permission_required("tenant.home")
def save_date(cycle_id: int):
    """HR moves the meeting to another date."""
    cycle = _cycle(cycle_id)
    meeting = _meeting(cycle)
    if not may_create_meeting(account()):
        abort(403)
    return _meeting_action(cycle, lambda: service.set_date(meeting, _parse_date(request.form.get("meeting_date", "")),
                                                           _form_version(), actor()),
                           _("The meeting date is saved."))


@bp.post("/cycles/<int:cycle_id>/committee/attendance")
@permission_required("tenant.home")
def attendance(cycle_id: int):
    """HR (secretary) or the acting chair records who is present; the others are absent."""
    cycle = _cycle(cycle_id)
    meeting = _meeting(cycle)
    if not may_conduct_meeting(account(), meeting):
        abort(403)

    def action():
        raw = request.form.getlist("present")
        bad = [v for v in raw if not v.isdigit()]
        if bad:
            raise CommitteeError(_("Present: %(value)s is not a seat of this meeting.", value=repr(bad[0])), field="present")
        service.set_attendance(meeting, {int(v) for v in raw}, _form_version(), actor())

    return _meeting_action(cycle, action, _("Attendance is saved."))


# ------------------------------------------------------------------------------------- agenda item

def _item_context(cycle, meeting, entry, **extra):
    user = account()
    entries = service.agenda(meeting)
    index = next(i for i, e in enumerate(entries) if e.item.id == entry.item.id)
    seats = service.seat_count(meeting)
    results = service.results(cycle)
    me = service.member_of(meeting, user)
    my_vote = next((v.choice for v, m in service.votes(entry.item) if me is not None and m.id == me.id), None)
    return dict(cycle=cycle, meeting=meeting, entry=entry, item=entry.item, subject=entry.subject,
                position=index + 1, total=len(entries),
                previous=entries[index - 1] if index > 0 else None,
                next=entries[index + 1] if index + 1 < len(entries) else None,
                adjustment=entry.item.adjustment if entry.item.state == "closed" else
                service.adjustments(cycle).get(entry.subject.id),
                result=results.get(entry.subject.id), seats=seats, votes=service.votes(entry.item),
                tie=service.is_tie(entry.item, seats), chair=service.acting_chair(meeting),
                may_conduct=may_conduct_meeting(user, meeting), may_cast=may_cast_casting_vote(user, meeting),
                may_reopen=may_reopen_vote(user), refusal=vote_refusal(user, meeting, entry.subject),
                my_vote=my_vote, status_of=service.status_of, decision_text=service.decision_text,
                kind_label=service.kind_label,
                proposal_range=service.proposal_range(cycle), editable=cycle.state in ("draft", "open"),
                poll_seconds=POLL_SECONDS, me=me, **{"error": None, "error_place": "item", "field": None, "form": None,
                                                     **extra})


@bp.get("/cycles/<int:cycle_id>/committee/units/<int:subject_id>")
@permission_required("tenant.home")
def item(cycle_id: int, subject_id: int):
    """One unit on the agenda, walked in order: its report, the supervisor's note and ±1 proposal,
    comments, the head leaving, the proposal and the vote (the vote panel polls this page)."""
    cycle = _cycle(cycle_id)
    meeting = _meeting(cycle)
    entry = _entry(cycle, meeting, subject_id)
    context = _item_context(cycle, meeting, entry)
    body = render_page("corporate_grading/committee/item.html", **context)
    polling = _is_htmx() and request.headers.get("HX-Target") == "vote-panel"
    # 286 stops the poll once the vote is closed
    return body, 286 if polling and entry.item.state == "closed" else 200


def _item_action(cycle_id: int, subject_id: int, allowed, action, done: str, place: str = "item"):
    """Run an action on one agenda item and answer: htmx gets the re-rendered block (and a toast),
    a plain form a redirect; a refusal is shown next to the form (422/409) or as a 403."""
    cycle = _cycle(cycle_id)
    meeting = _meeting(cycle)
    entry = _entry(cycle, meeting, subject_id)
    user = account()
    if not allowed(user, meeting):
        abort(403)
    try:
        action(cycle, meeting, entry, user)
        db_session.commit()
    except service.NotAllowed as exc:
        db_session.rollback()
        return _refused(str(exc))
    except CommitteeError as exc:
        db_session.rollback()
        db_session.refresh(entry.item)
        context = _item_context(cycle, meeting, entry, error=str(exc), error_place=place, field=exc.field,
                                form=request.form)
        return render_page("corporate_grading/committee/item.html", **context), exc.status
    except StaleDataError:
        db_session.rollback()
        db_session.refresh(entry.item)
        context = _item_context(cycle, meeting, entry, error_place=place,
                                error=_("This agenda item was changed by someone else; look again and retry."))
        return render_page("corporate_grading/committee/item.html", **context), 409
    if _is_htmx():
        db_session.refresh(entry.item)
        return render_page("corporate_grading/committee/item.html", **_item_context(cycle, meeting, entry)), 200, _toast(done)
    flash(done, "success")
    return redirect(url_for(".item", cycle_id=cycle.id, subject_id=entry.subject.id))


def _conducts(user, meeting) -> bool:
    return may_conduct_meeting(user, meeting)


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/notes")
@permission_required("tenant.home")
def notes(cycle_id: int, subject_id: int):
    """HR (secretary) or the acting chair records the report, the comments and that the head has left."""
    form = request.form
    return _item_action(cycle_id, subject_id, _conducts, lambda c, m, e, u: service.save_notes(
        e.item, form.get("report_notes", "").strip(), form.get("comments", "").strip(), form.get("head_left") == "1",
        _form_version(), actor()), _("The notes are saved."))


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/proposal")
@permission_required("tenant.home")
def proposal(cycle_id: int, subject_id: int):
    """Put a changed unit score (after adj) with its reason to the vote, or change it."""
    form = request.form
    return _item_action(cycle_id, subject_id, _conducts, lambda c, m, e, u: service.propose(
        e.item, c, form.get("proposed", ""), form.get("reason", ""), _form_version(), actor()),
        _("The proposal is put to the vote."))


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/withdraw")
@permission_required("tenant.home")
def withdraw(cycle_id: int, subject_id: int):
    """Withdraw the proposal: no vote on this unit (votes cast are dropped)."""
    return _item_action(cycle_id, subject_id, _conducts, lambda c, m, e, u: service.withdraw(
        e.item, _form_version(), actor()), _("The proposal is withdrawn."))


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/vote")
@permission_required("tenant.home")
def vote(cycle_id: int, subject_id: int):
    """A present voting member votes for or against the proposal themselves (changeable until the
    vote is closed); anyone else is refused with the reason (403)."""
    cycle = _cycle(cycle_id)
    meeting = _meeting(cycle)
    entry = _entry(cycle, meeting, subject_id)
    user = account()
    choice = request.form.get("choice", "")
    for attempt in range(VOTE_RETRIES):  # members vote at once: a concurrent vote is retried
        try:
            service.cast_vote(meeting, entry.item, entry.subject, user, choice, actor())
            db_session.commit()
            break
        except service.NotAllowed as exc:
            db_session.rollback()
            return _refused(str(exc))
        except CommitteeError as exc:
            db_session.rollback()
            db_session.refresh(entry.item)
            context = _item_context(cycle, meeting, entry, error=str(exc), error_place="vote", field=exc.field)
            return render_page("corporate_grading/committee/item.html", **context), exc.status
        except StaleDataError:
            db_session.rollback()
            db_session.refresh(entry.item)
            if attempt + 1 == VOTE_RETRIES:
                context = _item_context(cycle, meeting, entry, error_place="vote",
                                        error=_("Your vote was not saved: the vote changed meanwhile; vote again."))
                return render_page("corporate_grading/committee/item.html", **context), 409
    done = _("Your vote is recorded: %(choice)s.", choice=_("for") if choice == "for" else _("against"))
    if _is_htmx():
        db_session.refresh(entry.item)
        return render_page("corporate_grading/committee/item.html", **_item_context(cycle, meeting, entry)), 200, _toast(done)
    flash(done, "success")
    return redirect(url_for(".item", cycle_id=cycle.id, subject_id=entry.subject.id))


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/casting")
@permission_required("tenant.home")
def casting(cycle_id: int, subject_id: int):
    """The acting chair records the casting vote on a tie, before the vote is closed."""
    return _item_action(cycle_id, subject_id, may_cast_casting_vote, lambda c, m, e, u: service.cast_casting_vote(
        m, e.item, u, request.form.get("chair_vote", ""), _form_version(), actor()), _("The casting vote is recorded."),
        place="vote")


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/close")
@permission_required("tenant.home")
def close(cycle_id: int, subject_id: int):
    """HR (secretary) or the acting chair closes the vote: the scheme's rule decides, and the
    review is written into the unit's inputs."""
    return _item_action(cycle_id, subject_id, _conducts, lambda c, m, e, u: service.close_vote(
        m, e.item, c, e.subject, _form_version(), actor()), _("The vote is closed and the decision applied."),
        place="vote")


@bp.post("/cycles/<int:cycle_id>/committee/units/<int:subject_id>/reopen")
@permission_required("tenant.home")
def reopen(cycle_id: int, subject_id: int):
    """HR reopens a closed vote for a re-vote (audited; the review leaves the inputs meanwhile)."""
    return _item_action(cycle_id, subject_id, lambda u, m: may_reopen_vote(u), lambda c, m, e, u: service.reopen(
        e.item, c, e.subject, _form_version(), actor()), _("The vote is reopened."), place="vote")


# ------------------------------------------------------------------------------------- minutes

@bp.get("/cycles/<int:cycle_id>/committee/minutes")
@permission_required("tenant.home")
def minutes(cycle_id: int):
    """The minutes, printable: who sat and attended, and per unit the notes, the proposal, the
    decision, the tallies, who voted how and the casting vote."""
    cycle = _cycle(cycle_id)
    meeting = _meeting(cycle)
    adjustments = service.adjustments(cycle)
    return render_page("corporate_grading/committee/minutes.html", cycle=cycle, meeting=meeting,
                       seats=service.members(meeting), seat_labels=SEAT_LABELS, entries=service.agenda(meeting),
                       votes=service.votes_by_item(meeting), chair=service.acting_chair(meeting),
                       adjustments=adjustments, decision_text=service.decision_text, status_of=service.status_of,
                       kind_label=service.kind_label,
                       seat_count=service.seat_count(meeting))


# ------------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """HR, committee members and leaders reach the cycle's committee meeting from the cycle page."""
    account_ = tenant_user(user)
    if account_ is None or not may_see_committee(account_):
        return []
    return [MenuItem(_("Committee meeting"), url_for("corporate_committee.meeting", tenant=g.tenant.slug, cycle_id=cycle.id),
                     "corporate_committee.meeting")]


def menu_items(tenant, user) -> list:
    """The meeting is reached from its cycle: no menu entry."""
    return []
