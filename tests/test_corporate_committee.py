"""The committee meeting of a corporate cycle (schemes.md §1 "Committee review"): members and
attendance, the agenda in org order, votes by the members themselves, the scheme's decision rule
(more than half of the seats; a tie decided by the chair's casting vote; else the score stands), the
review written into the unit's inputs and scored exactly as `jixiao score` scores it, and who may
do what on the pages."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from core.cycles import service as cycles
from core.models import AuditLog, CycleResult, CycleSubject, OrgUnit, RoleMembership, User
from core.plugins import get_schemes
from core.scoring.cli import score_file
from plugins.corporate_grading.organisation.service import set_post  # first: policy.py imports it
from plugins.corporate_grading.committee import service
from plugins.corporate_grading.committee.models import CommitteeVote
from plugins.corporate_grading.committee.service import CommitteeError, NotAllowed
from tests.test_cycles import fill_corporate_inputs, tenant

LEADERS = ["president", "sunlihua", "zhenghaiyan", "helixin"]
MORE = ["employee", "fangyu", "liaosiyuan"]  # given the committee role here: 7 voting seats
SEVEN = LEADERS + MORE


def user(db, username: str) -> User:
    return db.scalar(select(User).where(User.username == username))


def seven_seats(db) -> None:
    """Seven committee members; the president chairs, sunlihua is vice-chair."""
    for name in MORE:
        db.add(RoleMembership(user_id=user(db, name).id, role="committee"))
    db.flush()
    set_post("committee_chair", [user(db, "president").id], "test")
    set_post("committee_vice_chair", [user(db, "sunlihua").id], "test")


def open_cycle(db, period: str = "2026-09"):
    cycle = cycles.create_cycle("corporate-grading", period, f"{period} 考评", {}, "hr")
    cycles.transition(cycle, "open", "hr")
    fill_corporate_inputs(cycle)
    return cycle


def setup_meeting(db):
    """An open, filled cycle with its meeting and the first unit's proposal (4.80) put to the vote."""
    seven_seats(db)
    cycle = open_cycle(db)
    meeting = service.create_meeting(cycle, date(2026, 10, 3), "user:hr")
    entry = service.agenda(meeting)[0]
    service.save_notes(entry.item, "report", "comments", True, entry.item.version, "user:hr")
    service.propose(entry.item, cycle, "4.80", "key work outside the plan", entry.item.version, "user:hr")
    return cycle, meeting, entry


def vote(db, meeting, entry, **choices) -> None:
    for name, choice in choices.items():
        service.cast_vote(meeting, entry.item, entry.subject, user(db, name), choice, f"user:{name}")


def votes_of(db, meeting, entry, yes: list[str], no: list[str]) -> None:
    for name in yes:
        service.cast_vote(meeting, entry.item, entry.subject, user(db, name), "for", f"user:{name}")
    for name in no:
        service.cast_vote(meeting, entry.item, entry.subject, user(db, name), "against", f"user:{name}")


def close(db, cycle, meeting, entry, by="user:hr") -> bool:
    return service.close_vote(meeting, entry.item, cycle, entry.subject, entry.item.version, by)


def review_of(db, subject) -> dict | None:
    db.refresh(subject)
    return (subject.inputs or {}).get("review")


# ----------------------------------------------------------------------------------- setting up

def test_the_meeting_seats_the_committee_and_walks_the_units_in_org_order(app):
    with tenant(app) as db:
        seven_seats(db)
        cycle = open_cycle(db)
        assert service.default_date(cycle) == date(2026, 10, 3)
        meeting = service.create_meeting(cycle, date(2026, 10, 3), "user:hr")
        seats = service.members(meeting)
        assert [(m.name, m.seat) for m in seats[:2]] == [(user(db, "president").display_name, "chair"),
                                                          (user(db, "sunlihua").display_name, "vice_chair")]
        assert service.seat_count(meeting) == 7 and all(m.voting and m.present for m in seats)
        assert service.acting_chair(meeting).user_id == user(db, "president").id
        codes = [e.subject.code for e in service.agenda(meeting)]
        units = db.scalars(select(OrgUnit.code).where(OrgUnit.kind.in_(("department", "subsidiary")))
                           .order_by(OrgUnit.sort_order, OrgUnit.code)).all()
        assert codes == list(units) and len(codes) > 10
        # a second meeting for the cycle is refused; a later change of roles does not change the seats
        with pytest.raises(CommitteeError, match="already has its committee meeting"):
            service.create_meeting(cycle, date(2026, 10, 3), "user:hr")
        db.add(RoleMembership(user_id=user(db, "fengzhiqiang").id, role="committee"))
        db.flush()
        assert service.seat_count(meeting) == 7
        assert db.scalar(select(AuditLog.after).where(AuditLog.action == "corp.committee.create"))["voting_members"] == sorted(SEVEN)


def test_an_annual_meeting_meets_in_january_and_a_meeting_needs_members(app):
    with tenant(app) as db:
        cycle = cycles.create_cycle("corporate-grading", "2026", "2026 年度", {}, "hr")
        assert service.default_date(cycle) == date(2027, 1, 3)
        for row in db.scalars(select(RoleMembership).where(RoleMembership.role == "committee")):
            db.delete(row)
        db.flush()
        with pytest.raises(CommitteeError, match="No active account has the committee role"):
            service.create_meeting(cycle, date(2027, 1, 3), "user:hr")


# ----------------------------------------------------------------------------------- the rule

def test_adopted_by_a_majority_four_of_seven(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:4], no=SEVEN[4:6])
        assert close(db, cycle, meeting, entry) is True
        assert entry.item.state == "closed" and entry.item.adopted and entry.item.members == 7
        assert review_of(db, entry.subject) == {"proposed": "4.8", "members": 7, "votes_for": 4, "votes_against": 2}
        assert "Adopted: 4 of 7" in service.decision_text(entry.item)
        # the other inputs of the unit are kept
        assert set(entry.subject.inputs) == {"plan_rate", "form_score", "review"}


def test_three_of_seven_is_rejected_and_the_score_stands(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:3], no=SEVEN[3:5])
        assert close(db, cycle, meeting, entry) is False
        assert review_of(db, entry.subject) == {"proposed": "4.8", "members": 7, "votes_for": 3, "votes_against": 2}
        assert "Not adopted: 3 of 7" in service.decision_text(entry.item)


def test_a_tie_is_decided_by_the_chairs_casting_vote(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:2], no=SEVEN[2:4])
        # only the acting chair gives it, and only on a tie
        with pytest.raises(NotAllowed, match="Only the chair"):
            service.cast_casting_vote(meeting, entry.item, user(db, "zhenghaiyan"), "for", entry.item.version, "x")
        vote(db, meeting, entry, employee="for")  # 3:2, no tie
        with pytest.raises(CommitteeError, match="There is no tie"):
            service.cast_casting_vote(meeting, entry.item, user(db, "president"), "for", entry.item.version, "user:president")
        vote(db, meeting, entry, fangyu="against")  # 3:3
        with pytest.raises(CommitteeError, match="is not allowed; allowed: for, against"):
            service.cast_casting_vote(meeting, entry.item, user(db, "president"), "maybe", entry.item.version, "user:president")
        service.cast_casting_vote(meeting, entry.item, user(db, "president"), "for", entry.item.version, "user:president")
        assert close(db, cycle, meeting, entry, by="user:president") is True
        assert review_of(db, entry.subject) == {"proposed": "4.8", "members": 7, "votes_for": 3, "votes_against": 3,
                                                "chair": "for"}
        assert "casting vote" in service.decision_text(entry.item) and entry.item.chair_vote_by == "user:president"


def test_a_tie_without_a_casting_vote_stands(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:3], no=SEVEN[3:6])
        assert close(db, cycle, meeting, entry) is False
        assert review_of(db, entry.subject) == {"proposed": "4.8", "members": 7, "votes_for": 3, "votes_against": 3}
        assert "without a casting vote" in service.decision_text(entry.item)


def test_the_vice_chair_acts_for_an_absent_chair(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        seats = service.members(meeting)
        chair = next(m for m in seats if m.seat == "chair")
        service.set_attendance(meeting, {m.id for m in seats if m is not chair}, meeting.version, "user:hr")
        assert service.acting_chair(meeting).seat == "vice_chair"
        votes_of(db, meeting, entry, yes=["sunlihua", "zhenghaiyan"], no=["helixin", "employee"])
        with pytest.raises(NotAllowed):
            service.cast_casting_vote(meeting, entry.item, user(db, "president"), "for", entry.item.version, "x")
        service.cast_casting_vote(meeting, entry.item, user(db, "sunlihua"), "against", entry.item.version, "user:sunlihua")
        assert close(db, cycle, meeting, entry) is False
        # the absent chair still counts as a seat
        assert review_of(db, entry.subject) == {"proposed": "4.8", "members": 7, "votes_for": 2, "votes_against": 2,
                                                "chair": "against"}


# ----------------------------------------------------------------------------------- who votes

def test_a_non_member_cannot_vote(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        for name in ("hr", "fengzhiqiang"):
            with pytest.raises(NotAllowed, match="not a voting member"):
                vote(db, meeting, entry, **{name: "for"})
        assert db.scalars(select(CommitteeVote)).all() == []


def test_an_absent_member_cannot_vote_and_their_votes_drop(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        vote(db, meeting, entry, helixin="for", employee="for")
        absent = next(m for m in service.members(meeting) if m.user_id == user(db, "helixin").id)
        service.set_attendance(meeting, {m.id for m in service.members(meeting) if m is not absent}, meeting.version, "user:hr")
        assert (entry.item.votes_for, entry.item.votes_against) == (1, 0)
        with pytest.raises(NotAllowed, match="recorded as absent"):
            vote(db, meeting, entry, helixin="against")
        with pytest.raises(CommitteeError, match="changed by someone else"):
            service.set_attendance(meeting, set(), meeting.version - 1, "user:hr")


def test_the_head_of_the_unit_does_not_vote_on_it(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        head = user(db, "fangyu")
        db.add(RoleMembership(user_id=head.id, role="unit_head", unit_id=entry.subject.unit_id))
        db.flush()
        db.expire(head)
        with pytest.raises(NotAllowed, match="leaves the meeting before its discussion and vote"):
            vote(db, meeting, entry, fangyu="for")


def test_a_member_may_change_their_vote_until_the_vote_is_closed(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        vote(db, meeting, entry, president="for")
        vote(db, meeting, entry, president="against")
        assert (entry.item.votes_for, entry.item.votes_against) == (0, 1)
        assert [v.choice for v, m in service.votes(entry.item)] == ["against"]
        with pytest.raises(CommitteeError, match="'abstain' is not allowed"):
            vote(db, meeting, entry, president="abstain")
        audited = db.scalars(select(AuditLog.after).where(AuditLog.action == "corp.committee.vote")).all()
        assert [a["choice"] for a in audited] == ["for", "against"]


def test_a_closed_vote_is_immutable_until_hr_reopens_it(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:4], no=[])
        version = entry.item.version
        close(db, cycle, meeting, entry)
        with pytest.raises(CommitteeError, match="is closed: votes can no longer change"):
            vote(db, meeting, entry, helixin="against")
        with pytest.raises(CommitteeError, match="already closed"):
            service.close_vote(meeting, entry.item, cycle, entry.subject, entry.item.version, "user:hr")
        with pytest.raises(CommitteeError, match="is closed"):
            service.propose(entry.item, cycle, "3", "again", entry.item.version, "user:hr")
        with pytest.raises(CommitteeError, match="is closed"):
            service.save_notes(entry.item, "x", "y", True, entry.item.version, "user:hr")
        assert entry.item.version > version
        service.reopen(entry.item, cycle, entry.subject, entry.item.version, "user:hr")
        assert entry.item.state == "voting" and review_of(db, entry.subject) is None
        assert service.votes(entry.item) == []
        reopened = db.scalar(select(AuditLog).where(AuditLog.action == "corp.committee.reopen"))
        assert reopened.before["adopted"] is True and len(reopened.before["votes"]) == 4
        votes_of(db, meeting, entry, yes=SEVEN[:2], no=SEVEN[2:5])
        assert close(db, cycle, meeting, entry) is False
        assert review_of(db, entry.subject)["votes_against"] == 3


def test_closing_needs_votes_the_current_version_and_an_editable_cycle(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        with pytest.raises(CommitteeError, match="Nobody has voted yet"):
            close(db, cycle, meeting, entry)
        seen = entry.item.version
        vote(db, meeting, entry, president="for")
        with pytest.raises(CommitteeError, match="changed by someone else"):
            service.close_vote(meeting, entry.item, cycle, entry.subject, seen, "user:hr")
        fill = [s for s in cycles.subjects(cycle)]
        assert fill
        cycles.transition(cycle, "review", "hr")
        with pytest.raises(CommitteeError, match="while the cycle is a draft or open; it is In review"):
            close(db, cycle, meeting, entry)


@pytest.mark.parametrize("raw, reason, head_left, message", [
    ("abc", "r", True, "Proposed score: 'abc' is not a number"),
    ("7", "r", True, "Proposed score: 7 is outside [1, 6]"),
    ("0.5", "r", True, "Proposed score: 0.5 is outside [1, 6]"),
    ("4.123", "r", True, "Proposed score: 4.123 has more than 2 decimals"),
    ("", "r", True, "Proposed score: required"),
    ("4.5", " ", True, "Reason: required"),
    ("4.5", "r", False, "mark that the head has left first"),
])
def test_a_bad_proposal_is_refused_with_a_reason(app, raw, reason, head_left, message):
    with tenant(app) as db:
        seven_seats(db)
        cycle = open_cycle(db)
        meeting = service.create_meeting(cycle, date(2026, 10, 3), "user:hr")
        entry = service.agenda(meeting)[0]
        service.save_notes(entry.item, "", "", head_left, entry.item.version, "user:hr")
        with pytest.raises(CommitteeError, match=re.escape(message)):
            service.propose(entry.item, cycle, raw, reason, entry.item.version, "user:hr")
        assert entry.item.state == "open" and entry.item.proposed is None


def test_changing_the_proposal_drops_the_votes(app):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        vote(db, meeting, entry, president="for", helixin="for")
        service.propose(entry.item, cycle, "4.8", "same score, better reason", entry.item.version, "user:hr")
        assert entry.item.votes_for == 2
        service.propose(entry.item, cycle, "4.5", "lower", entry.item.version, "user:hr")
        assert entry.item.votes_for == 0 and service.votes(entry.item) == []
        service.withdraw(entry.item, entry.item.version, "user:hr")
        assert entry.item.state == "open" and entry.item.proposed is None


# ----------------------------------------------------------------------------------- applying

def test_the_supervisors_note_is_shown_and_kept_with_the_decision(app, client, auth, monkeypatch):
    from fractions import Fraction

    plans = pytest.importorskip("plugins.corporate_grading.plans.service")
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        note = {entry.subject.id: {"value": Fraction("0.5"), "kind": "honour", "reason": "honours for the group",
                                   "by": "user:planner"}}
        monkeypatch.setattr(plans, "adjustment_reasons", lambda cycle: note, raising=False)
        assert service.adjustments(cycle)[entry.subject.id]["value"] == "+0.5"
        votes_of(db, meeting, entry, yes=SEVEN[:4], no=[])
        close(db, cycle, meeting, entry)
        db.commit()
        assert entry.item.adjustment == {"value": "+0.5", "kind": "honour", "reason": "honours for the group",
                                         "by": "user:planner"}
        cycle_id, subject_id = cycle.id, entry.subject.id
    note.clear()  # the snapshot, not the live value, is what the minutes show for a closed vote
    auth.login("jituan", "hr")
    for url in (f"/t/jituan/corporate/cycles/{cycle_id}/committee/minutes",
                f"/t/jituan/corporate/cycles/{cycle_id}/committee/units/{subject_id}"):
        page = client.get(url).get_data(as_text=True)
        assert "+0.5" in page and "honours for the group" in page


def test_the_review_is_scored_as_jixiao_score_scores_it(app, tmp_path):
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:4], no=SEVEN[4:])
        close(db, cycle, meeting, entry)
        # a second unit: a rejected proposal leaves the computed score
        other = service.agenda(meeting)[1]
        service.save_notes(other.item, "", "", True, other.item.version, "user:hr")
        service.propose(other.item, cycle, "2.00", "penalty", other.item.version, "user:hr")
        votes_of(db, meeting, other, yes=SEVEN[:1], no=SEVEN[1:])
        close(db, cycle, meeting, other)
        cycles.compute(cycle, "hr")
        stored = {(s.kind, s.code): (r.score, r.grade, r.rank, r.breakdown["formula"])
                  for r, s in db.execute(select(CycleResult, CycleSubject)
                                         .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)).all()}
        path = tmp_path / "case.json"
        path.write_text(json.dumps(cycles.case_of(cycle), ensure_ascii=False))
        result = score_file(str(path), get_schemes())
        code, other_code = entry.subject.code, other.subject.code
    from_file = {(kind, s.id): (s.score, s.grade, s.rank, s.breakdown.formula)
                 for kind, section in (("unit", result.units), ("person", result.people)) for s in section}
    assert stored == from_file
    assert str(stored[("unit", code)][0]) == "4.80" and stored[("unit", code)][3] == "committee review"
    assert str(stored[("unit", other_code)][0]) != "2.00" and stored[("unit", other_code)][3] == "committee review"


# ----------------------------------------------------------------------------------- pages

def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1) if 'csrf_token' in html else ""


def web_setup(app):
    with tenant(app) as db:
        seven_seats(db)
        cycle = open_cycle(db)
        db.commit()
        return cycle.id


def test_hr_sets_up_the_meeting_and_members_vote_on_the_pages(app, client, auth):
    cycle_id = web_setup(app)
    base = f"/t/jituan/corporate/cycles/{cycle_id}/committee"
    auth.login("jituan", "hr")
    page = client.get(base).get_data(as_text=True)
    assert 'name="meeting_date"' in page and "2026-10-03" in page
    client.post("/lang", data={"locale": "en"})  # the message asserted is the English one
    bad = client.post(base, data={"meeting_date": "3 Oct"})
    assert bad.status_code == 422 and "is not a date" in bad.get_data(as_text=True)
    assert client.post(base, data={"meeting_date": "2026-10-03"}).status_code == 302
    with tenant(app) as db:
        cycle = db.get(__import__("core.models", fromlist=["Cycle"]).Cycle, cycle_id)
        meeting = service.meeting_of(cycle)
        first = service.agenda(meeting)[0]
        subject_id, item_version = first.subject.id, first.item.version
    page = client.get(base).get_data(as_text=True)
    assert "Minutes" in page or "纪要" in page
    item_url = f"{base}/units/{subject_id}"
    assert client.get(item_url).status_code == 200
    assert client.post(f"{item_url}/notes", data={"report_notes": "r", "comments": "c", "head_left": "1",
                                                  "version": item_version}).status_code == 302
    refused = client.post(f"{item_url}/proposal", data={"proposed": "9", "reason": "x", "version": item_version + 1})
    assert refused.status_code == 422 and "[1, 6]" in refused.get_data(as_text=True)
    assert client.post(f"{item_url}/proposal", data={"proposed": "4.6", "reason": "honours for the group",
                                                     "version": item_version + 1}).status_code == 302
    # HR is the secretary, not a voting member: refused with the reason
    refused = client.post(f"{item_url}/vote", data={"choice": "for"})
    assert refused.status_code == 403
    assert "not a voting member" in refused.get_data(as_text=True) or "不是本次会议的表决成员" in refused.get_data(as_text=True)
    auth.logout()
    for name in SEVEN[:4]:
        auth.login("jituan", name)
        answer = client.post(f"{item_url}/vote", data={"choice": "for"}, headers={"HX-Request": "true", "HX-Target": "vote-panel"})
        assert answer.status_code == 200 and "jixiao:saved" in answer.headers["HX-Trigger"]
        assert "<html" not in answer.get_data(as_text=True)  # the vote panel only
        auth.logout()
    auth.login("jituan", "helixin")  # a member, not the chair: may not close
    with tenant(app) as db:
        version = service.item_of(service.meeting_of(db.get(__import__("core.models", fromlist=["Cycle"]).Cycle, cycle_id)),
                                  subject_id).version
    assert client.post(f"{item_url}/close", data={"version": version}).status_code == 403
    auth.logout()
    auth.login("jituan", "president")  # the chair closes
    poll = client.get(item_url, headers={"HX-Request": "true", "HX-Target": "vote-panel"})
    assert poll.status_code == 200
    closed = client.post(f"{item_url}/close", data={"version": version}, headers={"HX-Request": "true",
                                                                                 "HX-Target": "agenda-item"})
    assert closed.status_code == 200
    assert client.get(item_url, headers={"HX-Request": "true", "HX-Target": "vote-panel"}).status_code == 286
    minutes = client.get(f"{base}/minutes").get_data(as_text=True)
    assert "4.60" in minutes and "honours for the group" in minutes
    auth.logout()
    with tenant(app) as db:
        subject = db.get(CycleSubject, subject_id)
        assert subject.inputs["review"] == {"proposed": "4.6", "members": 7, "votes_for": 4, "votes_against": 0}


def test_wrong_users_are_refused(app, client, auth):
    cycle_id = web_setup(app)
    base = f"/t/jituan/corporate/cycles/{cycle_id}/committee"
    auth.login("jituan", "president")  # a leader and the chair, but not HR: may not set up the meeting
    assert client.get(base).status_code == 200
    assert client.post(base, data={"meeting_date": "2026-10-03"}).status_code == 403
    auth.logout()
    with tenant(app) as db:
        from core.models import Cycle

        meeting = service.create_meeting(db.get(Cycle, cycle_id), date(2026, 10, 3), "user:hr")
        entry = service.agenda(meeting)[0]
        service.save_notes(entry.item, "", "", True, entry.item.version, "user:hr")
        service.propose(entry.item, db.get(Cycle, cycle_id), "4", "r", entry.item.version, "user:hr")
        subject_id, version = entry.subject.id, entry.item.version
        absent = next(m for m in service.members(meeting) if m.user_id == user(db, "employee").id)
        service.set_attendance(meeting, {m.id for m in service.members(meeting) if m is not absent}, meeting.version, "user:hr")
        db.commit()
    item_url = f"{base}/units/{subject_id}"
    for name in ("fengzhiqiang", "fanyonggang"):  # unit heads leave the room: no access at all
        auth.login("jituan", name)
        for url in (base, item_url, f"{base}/minutes"):
            assert client.get(url).status_code == 403, (name, url)
        assert client.post(f"{item_url}/vote", data={"choice": "for"}).status_code == 403
        auth.logout()
    auth.login("jituan", "employee")  # a member marked absent
    refused = client.post(f"{item_url}/vote", data={"choice": "for"})
    assert refused.status_code == 403
    assert "absent" in refused.get_data(as_text=True) or "缺席" in refused.get_data(as_text=True)
    assert client.post(f"{base}/attendance", data={"present": []}).status_code == 403
    assert client.post(f"{item_url}/close", data={"version": version}).status_code == 403
    assert client.post(f"{item_url}/reopen", data={"version": version}).status_code == 403
    auth.logout()
    auth.login("jituan", "hr")
    assert client.get(f"{base}/units/999999").status_code == 404
    assert client.get(f"/t/jituan/corporate/cycles/999999/committee").status_code == 404
    auth.logout()
    auth.login("xiaoshou", "admin")
    assert client.get(f"/t/xiaoshou/corporate/cycles/{cycle_id}/committee").status_code == 404


def test_the_cycle_page_links_to_the_meeting_for_hr_members_and_leaders(app, client, auth):
    cycle_id = web_setup(app)
    auth.login("jituan", "hr")
    page = client.get(f"/t/jituan/cycles/{cycle_id}").get_data(as_text=True)
    assert f"/t/jituan/corporate/cycles/{cycle_id}/committee" in page
    with app.test_request_context(), tenant(app) as db:
        from flask import g

        from core.models import Cycle, Tenant
        from plugins.corporate_grading.committee.views import cycle_links, menu_items

        g.tenant = db.scalar(select(Tenant).where(Tenant.slug == "jituan"))
        cycle = db.get(Cycle, cycle_id)
        assert len(cycle_links(cycle, user(db, "helixin"))) == 1
        assert cycle_links(cycle, user(db, "fengzhiqiang")) == []
        assert menu_items(g.tenant, user(db, "hr")) == []


def test_the_committee_routes_hide_other_tenants_objects(app, client, auth):
    """The isolation crawler of tests/test_isolation.py, on this feature's routes alone."""
    from tests.test_isolation import METHODS, build, other_tenant_ids, tenant_rules

    ids = other_tenant_ids(app)
    auth.login("jituan", "hr")
    rules = [r for r in tenant_rules(app) if r.endpoint.startswith("corporate_committee.")]
    assert len(rules) >= 10
    for rule in rules:
        url = build(app, rule, {"tenant": "jituan", **{a: ids[a] for a in rule.arguments - {"tenant"}}})
        for method in sorted(set(METHODS) & rule.methods):
            assert client.open(url, method=method).status_code == 404, f"{method} {url}"


def test_a_casting_vote_decides_only_the_tie_it_was_given_on(app):
    """No casting vote before anyone has voted (0:0 is no tie); a casting vote given on 2:2 is
    dropped when the tallies change, so it never decides a later tie it was not given on."""
    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        with pytest.raises(CommitteeError, match="There is no tie"):
            service.cast_casting_vote(meeting, entry.item, user(db, "president"), "for", entry.item.version, "user:president")
        votes_of(db, meeting, entry, yes=SEVEN[:2], no=SEVEN[2:4])
        service.cast_casting_vote(meeting, entry.item, user(db, "president"), "for", entry.item.version, "user:president")
        vote(db, meeting, entry, employee="for")  # 3:2
        vote(db, meeting, entry, fangyu="against")  # 3:3: a new tie, not the one the chair decided
        assert entry.item.chair_vote is None
        assert close(db, cycle, meeting, entry) is False


def test_a_unit_adjustment_cannot_change_under_a_closed_vote(app):
    """The vote replaced the unit's score after adjustment: a changed adjustment would not count."""
    from plugins.corporate_grading.plans import service as plans

    with tenant(app) as db:
        cycle, meeting, entry = setup_meeting(db)
        votes_of(db, meeting, entry, yes=SEVEN[:4], no=[])
        assert close(db, cycle, meeting, entry) is True
        db.refresh(entry.subject)
        with pytest.raises(plans.PlanError, match="HR reopens the committee's vote first"):
            plans.set_adjustment(cycle, entry.subject, {"value": "0.5", "kind": "honour", "reason": "集团荣誉",
                                                        "inputs_version": str(entry.subject.inputs_version)}, "user:hr")


def test_the_chair_and_the_vice_chair_are_two_people(app):
    from plugins.corporate_grading.organisation import service as organisation

    with tenant(app) as db:
        president = user(db, "president")
        organisation.set_post("committee_chair", [president.id], "test")
        with pytest.raises(organisation.OrganisationError, match="are two people"):
            organisation.set_post("committee_vice_chair", [president.id], "test")
