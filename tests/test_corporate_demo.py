"""The demo tenant's corporate year (`jixiao corporate demo-year`): made through the scheme's own
services, it gives every corporate page real content, and its annual ranking is exactly what
`jixiao score` computes from the same data.

The year is made once per database into a template of its own; each test gets a copy."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core.models import Cycle, CycleResult, CycleSubject, Tenant
from core.plugins import get_schemes
from core.scoring.cli import score_file
from tests.conftest import BACKENDS, copied_app
from tests.test_cycles import tenant

YEAR = 2025


YEAR_COMMAND = ("corporate", "demo-year", "jituan", "--year", str(YEAR), "--current", f"{YEAR + 1}-02")


@pytest.fixture(params=BACKENDS)
def year_app(request, tmp_path, command_templates):
    """A fresh copy of the demo year for one test (the year is made once per database)."""
    with copied_app(request.param, command_templates(request.param, YEAR_COMMAND), tmp_path) as app:
        yield app


def stored_results(db, cycle):
    return {(s.kind, s.code): (r.score, r.grade, r.rank)
            for r, s in db.execute(select(CycleResult, CycleSubject)
                                   .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                   .where(CycleResult.cycle_id == cycle.id)).all()}


def scored_by_the_command(tmp_path, cycle):
    from core.cycles import service

    path = tmp_path / f"{cycle.period}.json"
    path.write_text(json.dumps(service.case_of(cycle), ensure_ascii=False))
    result = score_file(str(path), get_schemes())
    return {(kind, s.id): (s.score, s.grade, s.rank)
            for kind, section in (("unit", result.units), ("person", result.people)) for s in section}


def test_the_annual_ranking_equals_jixiao_score_on_the_same_data(year_app, tmp_path):
    with tenant(year_app) as db:
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        assert annual.state == "published"
        stored = stored_results(db, annual)
        assert stored == scored_by_the_command(tmp_path, annual)
        assert len([k for k in stored if k[0] == "person"]) == 60 and len([k for k in stored if k[0] == "unit"]) == 17
        # the annual inputs are what the year made: twelve monthly scores, the scored letter, the 360 ratings
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == annual.id, CycleSubject.code == "J0043"))
        monthly = [db.scalar(select(CycleResult.score).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                             .join(Cycle, Cycle.id == CycleResult.cycle_id)
                             .where(Cycle.period == f"{YEAR}-{m:02d}", CycleSubject.code == "J0043")) for m in range(1, 13)]
        from decimal import Decimal
        assert [Decimal(s) for s in subject.inputs["monthly_scores"]] == monthly
        assert len(subject.inputs["target_items"]) == 7 and subject.inputs["quality"]


def test_every_month_of_the_year_is_published_as_jixiao_score_computes_it(year_app, tmp_path):
    with tenant(year_app) as db:
        months = list(db.scalars(select(Cycle).where(Cycle.period.like(f"{YEAR}-%")).order_by(Cycle.period)))
        assert [c.state for c in months] == ["closed"] * 12
        for cycle in months:
            assert stored_results(db, cycle) == scored_by_the_command(tmp_path, cycle), cycle.period
        # the next year is under way: January published, February open
        assert [c.state for c in db.scalars(select(Cycle).where(Cycle.period.like(f"{YEAR + 1}-%"))
                                            .order_by(Cycle.period))] == ["published", "open"]


def test_the_year_has_its_records(year_app):
    from plugins.corporate_grading.committee.models import CommitteeMeeting, CommitteeVote
    from plugins.corporate_grading.letters.models import ResponsibilityLetter
    from plugins.corporate_grading.plans.models import PlanItem
    from plugins.corporate_grading.reviews.models import ReviewAssignment
    from plugins.corporate_grading.approvals.models import CorporateApproval

    with tenant(year_app) as db:
        count = lambda model, *where: db.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        assert count(ResponsibilityLetter, ResponsibilityLetter.year == str(YEAR), ResponsibilityLetter.state == "scored") == 77
        assert count(CommitteeMeeting) == 13 and count(CommitteeVote) >= 13 * 4
        assert count(PlanItem) >= 13 * 17 * 4
        assert count(ReviewAssignment, ReviewAssignment.answered_at.is_not(None)) > 60 * 3
        assert count(CorporateApproval, CorporateApproval.state == "approved") == 13 * 60


def test_the_corporate_pages_show_the_year(year_app):
    """Every corporate page of a cycle (annual, a closed month, the open month) opens for HR and
    shows the year's units or people; the pages without a cycle show them too."""
    from flask import url_for

    from core.models import OrgUnit, Person
    from tests.test_isolation import tenant_rules

    client = year_app.test_client()
    assert client.post("/t/jituan/login", data={"username": "hr", "password": "jixiao-demo"}).status_code == 302
    with tenant(year_app) as db:
        cycles = {c.period: c.id for c in db.scalars(select(Cycle))}
        names = set(db.scalars(select(OrgUnit.name))) | set(db.scalars(select(Person.name)))
    opened = []
    for rule in tenant_rules(year_app):
        if not rule.endpoint.startswith("corporate_") or "GET" not in rule.methods or rule.arguments - {"tenant", "cycle_id"}:
            continue
        periods = ("2025", "2025-06", "2026-02") if "cycle_id" in rule.arguments else (None,)
        for period in periods:
            with year_app.test_request_context():
                url = url_for(rule.endpoint, tenant="jituan", **({"cycle_id": cycles[period]} if period else {}))
            response = client.get(url + ("?year=2025" if "letters" in rule.endpoint else ""))
            # 404: a page of the other period kind (plan sheets of an annual cycle ...)
            assert response.status_code in (200, 404), f"{url}: {response.status_code}"
            if response.status_code == 200 and response.mimetype == "text/html":  # not the .xlsx downloads
                body = response.get_data(as_text=True)
                assert any(name in body for name in names), f"{url} shows none of the year's units or people"
                opened.append(rule.endpoint)
    assert {"corporate_plans.index", "corporate_letters.index", "corporate_committee.meeting", "corporate_reviews.manage",
            "corporate_approvals.cycle_index", "corporate_annual.rankings", "corporate_plans.adjustments", "corporate_committee.minutes", "corporate_annual.bonus",
            "corporate_organisation.index"} <= set(opened), sorted(set(opened))


def test_who_rated_what_in_the_360_reviews_is_hrs_alone(year_app):
    """The person rated, their unit head and leaders see each rater group's value, never the single
    ratings (a group of one would name its rater's answer); HR sees every rating."""
    from core.models import User
    from core.policy import redact

    with tenant(year_app) as db:
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        result, subject = db.execute(select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                     .where(CycleResult.cycle_id == annual.id, CycleSubject.code == "J0043")).one()
        scheme = get_schemes()["corporate-grading"]

        def labels(node):
            yield node["label"]
            for term in node.get("terms") or []:
                yield from labels(term)

        from flask import g
        for username, sees_ratings in (("hr", True), ("employee", False), ("president", False)):
            g.pop("tenant", None)
            g.tenant = db.get(Tenant, annual.tenant_id)
            account = db.scalar(select(User).where(User.username == username))
            _extra, breakdown, inputs = redact(account, scheme, subject.person_id, result.extra, result.breakdown,
                                               subject.inputs)
            found = list(labels(breakdown))
            assert ("superior" in found) and ("peer" in found)  # the group values are always there
            assert any("rater" in label for label in found) is sees_ratings, username
            assert (inputs.get("quality") is not None) is sees_ratings, username


def test_hr_does_not_act_on_their_own_records(year_app):
    """HR (吴静怡, J0010) manages everyone's letters, raters and bonus bases but her own."""
    from plugins.corporate_grading.letters.models import ResponsibilityLetter
    from core.models import Person

    with tenant(year_app) as db:
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        own = db.scalar(select(Person).where(Person.number == "J0010"))
        other = db.scalar(select(Person).where(Person.number == "J0043"))
        subjects = {s.person_id: s.id for s in db.scalars(select(CycleSubject).where(CycleSubject.cycle_id == annual.id))}
        letter = db.scalar(select(ResponsibilityLetter).where(ResponsibilityLetter.year == str(YEAR + 1),
                                                             ResponsibilityLetter.person_id == own.id))
        cycle_id, own_id, other_id, letter_id = annual.id, own.id, other.id, letter.id
    client = year_app.test_client()
    client.post("/t/jituan/login", data={"username": "hr", "password": "jixiao-demo"})
    base = f"/t/jituan/corporate/reviews/cycles/{cycle_id}/subjects"
    assert client.get(f"{base}/{subjects[other_id]}").status_code == 200
    assert client.get(f"{base}/{subjects[own_id]}").status_code == 403  # who rated her
    bonus = f"/t/jituan/corporate/annual/{cycle_id}/bonus"
    assert client.post(f"{bonus}/{own_id}", data={"base": "999999"}).status_code == 403
    reopen = client.post(f"/t/jituan/corporate/letters/{letter_id}/reopen", data={"reason": "我想改目标"})
    assert reopen.status_code == 403


def test_a_letter_is_final_once_its_annual_cycle_is_published(year_app):
    from plugins.corporate_grading.letters import service as letters
    from plugins.corporate_grading.letters.models import ResponsibilityLetter

    with tenant(year_app) as db:
        last_year = db.scalar(select(ResponsibilityLetter).where(ResponsibilityLetter.year == str(YEAR))
                              .order_by(ResponsibilityLetter.id).limit(1))
        goal = letters.goals_of(last_year)[0]
        key = f"actual-{goal.id}" if goal.kind == "quantitative" else f"level-{goal.id}"
        for change in (lambda: letters.set_scores(last_year, {key: "satisfied"}, last_year.version, "test"),
                       lambda: letters.reopen(last_year, "目标调整", last_year.version, "test")):
            with pytest.raises(letters.LetterError, match="annual cycle of 2025 is past its inputs"):
                change()
        # this year's letters are signed and still open to change: reopening clears their year-end values
        this_year = db.scalar(select(ResponsibilityLetter).where(ResponsibilityLetter.year == str(YEAR + 1),
                                                                ResponsibilityLetter.state == "signed")
                              .order_by(ResponsibilityLetter.id).limit(1))
        letters.reopen(this_year, "目标调整", this_year.version, "test")
        assert this_year.state == "draft" and all(g.actual is None and g.level is None for g in letters.goals_of(this_year))


def test_the_home_page_lists_what_the_scheme_asks_of_me(year_app):
    """The current month is open with the self-scores entered but not submitted: each person's home
    page says so; once submitted, the unit head's home page lists it to approve."""
    from plugins.corporate_grading.approvals import service as approvals
    from core.models import User

    client = year_app.test_client()
    client.post("/t/jituan/login", data={"username": "j0044", "password": "jixiao-demo"})
    client.post("/lang", data={"locale": "en"})
    assert "Your self-score to submit" in client.get("/t/jituan/").get_data(as_text=True)
    with tenant(year_app) as db:
        cycle = db.scalar(select(Cycle).where(Cycle.state == "open"))
        person = db.scalar(select(User).where(User.username == "j0044"))
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id,
                                                       CycleSubject.person_id == person.person_id))
        approvals.submit(cycle, subject, person)
        acting = approvals.directory().acting(approvals.approval_of(subject).current_step, subject)
        approver = db.get(User, acting.user_ids[0]).username
        db.commit()
    assert "Your self-score to submit" not in client.get("/t/jituan/").get_data(as_text=True)
    other = year_app.test_client()
    other.post("/t/jituan/login", data={"username": approver, "password": "jixiao-demo"})
    other.post("/lang", data={"locale": "en"})
    assert "Scorecards awaiting your approval" in other.get("/t/jituan/").get_data(as_text=True)


def test_nobody_judges_or_adjusts_their_own_case_and_unit_heads_find_their_plan_sheets(year_app):
    with tenant(year_app) as db:
        cycle = db.scalar(select(Cycle).where(Cycle.state == "open"))
        rows = {s.code: s.id for s in db.scalars(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id))}
        cycle_id = cycle.id
    hr = year_app.test_client()
    hr.post("/t/jituan/login", data={"username": "hr", "password": "jixiao-demo"})
    adjust = f"/t/jituan/corporate/cycles/{cycle_id}/adjustments"
    for own in ("J0010", "HR"):  # HR's manager: herself, and the unit she heads
        refused = hr.post(f"{adjust}/{rows[own]}", data={"value": "1", "kind": "honour", "reason": "自评",
                                                        "inputs_version": "99"})
        assert refused.status_code == 403, own
    assert hr.post(f"/t/jituan/corporate/cycles/{cycle_id}/plans/{rows['HR']}/check", data={"version": "1"}).status_code == 403
    # a unit head cannot open the cycle's page; the menu takes them to the month's plan sheets
    head = year_app.test_client()
    head.post("/t/jituan/login", data={"username": "fengzhiqiang", "password": "jixiao-demo"})
    home = head.get("/t/jituan/").get_data(as_text=True)
    assert f'/t/jituan/corporate/cycles/{cycle_id}/plans"' in home
    assert head.get(f"/t/jituan/corporate/cycles/{cycle_id}/plans/{rows['FIN']}").status_code == 200


def test_a_scorecard_the_scheme_refuses_is_not_approved(year_app):
    from core.cycles import service as cycles
    from core.models import User
    from plugins.corporate_grading.approvals import service as approvals

    with tenant(year_app) as db:
        cycle = db.scalar(select(Cycle).where(Cycle.state == "open"))
        person = db.scalar(select(User).where(User.username == "employee"))
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id,
                                                       CycleSubject.person_id == person.person_id))
        approvals.submit(cycle, subject, person)
        approver = db.get(User, approvals.directory().acting(approvals.approval_of(subject).current_step,
                                                             subject).user_ids[0])
        items = [{**item, "weight": "0.3"} if i == 0 else item for i, item in enumerate(subject.inputs["personal_items"])]
        cycles.set_inputs(subject, cycle, {**subject.inputs, "personal_items": items}, subject.inputs_version, "test")
        db.refresh(subject)
        with pytest.raises(approvals.ApprovalError, match="weights sum to 0.8"):
            approvals.approve(cycle, subject, approver, "", approvals.approval_of(subject).version)


def test_the_confidence_vote_on_class_a_leaders_is_recorded_beside_the_result(year_app):
    """民主信任投票: HR records the counted ballots per class A leader; leaders read them; the
    annual score does not move; bad counts are refused naming the field and what is allowed."""
    with tenant(year_app) as db:
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        leader = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == annual.id, CycleSubject.code == "J0002"))
        staff = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == annual.id, CycleSubject.code == "J0043"))
        score = db.scalar(select(CycleResult.score).where(CycleResult.subject_id == leader.id))
        from plugins.corporate_grading.annual.models import ConfidenceVote
        version = db.scalar(select(ConfidenceVote.version).where(ConfidenceVote.subject_id == leader.id))
        cycle_id, leader_id, staff_id = annual.id, leader.id, staff.id
    page = f"/t/jituan/corporate/annual/{cycle_id}/confidence"
    hr = year_app.test_client()
    hr.post("/t/jituan/login", data={"username": "hr", "password": "jixiao-demo"})
    hr.post("/lang", data={"locale": "en"})
    assert "J0002" in hr.get(page).get_data(as_text=True)
    bad = hr.post(f"{page}/{leader_id}", data={"trust": "forty", "basic_trust": "10", "distrust": "2", "version": str(version)})
    assert bad.status_code == 422 and "Trust: &#39;forty&#39; is not allowed; allowed: a whole number" in bad.get_data(as_text=True)
    stale = hr.post(f"{page}/{leader_id}", data={"trust": "40", "basic_trust": "15", "distrust": "5", "version": "0"})
    assert stale.status_code == 422 and "Someone else recorded this vote" in stale.get_data(as_text=True)
    saved = hr.post(f"{page}/{leader_id}", data={"trust": "40", "basic_trust": "15", "distrust": "5", "abstain": "0",
                                                 "version": str(version)})
    assert saved.status_code == 200 and "91.7%" in saved.get_data(as_text=True)  # (40 + 15) / 60
    assert hr.post(f"{page}/{staff_id}", data={"trust": "1", "basic_trust": "0", "distrust": "0", "version": ""}).status_code == 422
    with tenant(year_app) as db:
        assert db.scalar(select(CycleResult.score).where(CycleResult.subject_id == leader_id)) == score
    employee = year_app.test_client()
    employee.post("/t/jituan/login", data={"username": "employee", "password": "jixiao-demo"})
    assert employee.get(page).status_code == 403
    president = year_app.test_client()
    president.post("/t/jituan/login", data={"username": "president", "password": "jixiao-demo"})
    assert "91.7%" in president.get(page).get_data(as_text=True)
    assert president.post(f"{page}/{leader_id}", data={"trust": "1"}).status_code == 403


def test_the_home_page_lists_letters_waiting_for_my_signature(year_app):
    from plugins.corporate_grading.letters import service as letters
    from plugins.corporate_grading.letters.models import ResponsibilityLetter
    from core.models import Person

    with tenant(year_app) as db:
        person = db.scalar(select(Person).where(Person.number == "J0043"))
        letter = db.scalar(select(ResponsibilityLetter).where(ResponsibilityLetter.year == str(YEAR + 1),
                                                             ResponsibilityLetter.person_id == person.id))
        letters.reopen(letter, "目标调整", letter.version, "test")
        db.commit()
    client = year_app.test_client()
    client.post("/t/jituan/login", data={"username": "employee", "password": "jixiao-demo"})
    client.post("/lang", data={"locale": "en"})
    assert "Your responsibility letter to sign" in client.get("/t/jituan/").get_data(as_text=True)
    head = year_app.test_client()  # J0043 is class C in MKT, whose head signs the superior side
    head.post("/t/jituan/login", data={"username": "j0019", "password": "jixiao-demo"})
    head.post("/lang", data={"locale": "en"})
    assert "Your staff&#39;s responsibility letters to sign" in head.get("/t/jituan/").get_data(as_text=True)
