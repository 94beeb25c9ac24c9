"""After publication: who sees which result, interviews and signatures, appeals in their window,
adjusted scores with their history, and notifications (jixiao_event_cycle_published)."""
from __future__ import annotations

import html
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core.cycles import after, service
from core.db import db_session
from core.models import (Appeal, Cycle, CycleResult, CycleSubject, Holiday, Notification, ScoreChange, Tenant,
                         User)
from core.tenancy import set_tenant
from tests.conftest import AuthActions
from tests.test_appeal_corrections import march  # noqa: F401 (a fixture: three published sales months)
from tests.test_cycles import fill_corporate_inputs, tenant


@contextmanager
def in_jituan(app):
    """An app context scoped to jituan, in English (messages asserted are the English ones)."""
    with app.app_context(), force_locale("en"):
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        yield db_session


@pytest.fixture
def published(app):
    """A published jituan monthly cycle; returns ids of interest."""
    with in_jituan(app):
        cycle = service.create_cycle("corporate-grading", "2026-09", "2026年9月", {}, "hr")
        service.transition(cycle, "open", "hr")
        fill_corporate_inputs(cycle)
        service.transition(cycle, "review", "hr")
        service.compute(cycle, "hr")
        service.transition(cycle, "published", "hr")
        db_session.commit()
        employee = db_session.scalar(select(User).where(User.username == "employee"))
        own = db_session.scalar(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                .where(CycleSubject.person_id == employee.person_id))
        other = db_session.scalar(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                  .where(CycleSubject.kind == "person", CycleSubject.person_id != employee.person_id))
        ids = {"cycle": cycle.id, "own": own.id, "other": other.id, "employee": employee.id}
    return ids


def page(response):
    return html.unescape(response.get_data(as_text=True))


def login(client, username):
    client.post("/lang", data={"locale": "en"})
    assert AuthActions(client).login("jituan", username).status_code == 302
    return client


def test_jixiao_event_cycle_published_notifies_the_assessed(app, published, client):
    with in_jituan(app):
        count = db_session.scalar(select(func.count()).select_from(Notification))
        mine = db_session.scalar(select(Notification).where(Notification.user_id == published["employee"]))
    assert count >= 10 and mine is not None and mine.link == f"/t/jituan/results/{published['own']}"
    login(client, "employee")
    # stored in the language it was published in (the tenant's: Chinese), with the link to the result
    assert f"/t/jituan/results/{published['own']}" in page(client.get("/t/jituan/notifications"))


def test_a_person_sees_their_own_result_and_nobody_elses(published, client):
    login(client, "employee")
    own = client.get(f"/t/jituan/results/{published['own']}")
    assert own.status_code == 200 and "How the score was computed" in page(own)
    assert own.headers["Cache-Control"] == "no-store"
    assert client.get(f"/t/jituan/results/{published['other']}").status_code == 403
    assert f"/t/jituan/results/{published['own']}" in page(client.get("/t/jituan/my/results"))


def test_results_stay_hidden_from_the_person_until_published(app, client):
    with in_jituan(app):
        cycle = service.create_cycle("corporate-grading", "2026-10", "十月", {}, "hr")
        service.transition(cycle, "open", "hr")
        fill_corporate_inputs(cycle)
        service.compute(cycle, "hr")
        db_session.commit()
        employee = db_session.scalar(select(User).where(User.username == "employee"))
        own = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                .where(CycleSubject.person_id == employee.person_id))
    login(client, "employee")
    assert client.get(f"/t/jituan/results/{own}").status_code == 403
    AuthActions(client).logout()
    login(client, "hr")
    assert client.get(f"/t/jituan/results/{own}").status_code == 200  # HR sees computed results


def test_a_unit_head_sees_their_units_results_only(app, published, client):
    with in_jituan(app):
        head = db_session.scalar(select(User).where(User.username == "fengzhiqiang"))
        unit_ids = head.headed_unit_ids()
        inside = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                   .where(CycleSubject.kind == "person", CycleSubject.unit_id.in_(unit_ids),
                                          CycleSubject.person_id != head.person_id))
        outside = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                    .where(CycleSubject.kind == "person", CycleSubject.unit_id.not_in(unit_ids)))
    login(client, "fengzhiqiang")
    assert client.get(f"/t/jituan/results/{inside}").status_code == 200
    assert client.get(f"/t/jituan/results/{outside}").status_code == 403


def test_interview_and_signatures(app, published, client):
    login(client, "employee")
    assert client.post(f"/t/jituan/results/{published['own']}/interview", data={"record": "x"}).status_code == 403
    client.post(f"/t/jituan/results/{published['own']}/sign")
    again = client.post(f"/t/jituan/results/{published['own']}/sign", follow_redirects=True)
    assert "already signed" in page(again)
    AuthActions(client).logout()
    login(client, "hr")
    empty = client.post(f"/t/jituan/results/{published['own']}/interview", data={"record": " "}, follow_redirects=True)
    assert "Write what was discussed" in page(empty)
    done = client.post(f"/t/jituan/results/{published['own']}/interview",
                       data={"record": "谈了计划完成情况与改进方向"}, follow_redirects=True)
    assert "谈了计划完成情况与改进方向" in page(done) and "Signed by the person" in page(done)


def test_an_appeal_from_filing_to_an_adjusted_score(app, published, client):
    own = published["own"]
    login(client, "employee")
    short = client.post(f"/t/jituan/results/{own}/appeal", data={"reason": "不同意"}, follow_redirects=True)
    assert "at least 10 characters" in page(short)
    client.post(f"/t/jituan/results/{own}/appeal", data={"reason": "我的个人考评表漏算了一项已完成的计划工作。"})
    twice = client.post(f"/t/jituan/results/{own}/appeal", data={"reason": "再次申诉,理由同上,请复核。"}, follow_redirects=True)
    assert "already under way" in page(twice)
    AuthActions(client).logout()

    with in_jituan(app):
        appeal_id = db_session.scalar(select(Appeal.id).where(Appeal.result_id == own))
        before = db_session.get(CycleResult, own)
        old_score, old_grade = before.score, before.grade
    login(client, "hr")
    client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "investigate", "investigation": "核实:确有一项漏计。"})
    bad = client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "decide", "decision": "adjusted",
                                                             "new_score": "abc", "note": "补计"}, follow_redirects=True)
    assert "abc is not a score" in page(bad)
    AuthActions(client).logout()
    login(client, "president")  # leadership decides
    client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "decide", "decision": "adjusted",
                                                       "new_score": "4.85", "note": "补计漏算的计划项"})
    with in_jituan(app):
        result = db_session.get(CycleResult, own)
        assert str(result.score) == "4.85" and result.grade == "A" and result.adjusted
        change = db_session.scalar(select(ScoreChange).where(ScoreChange.result_id == own))
        assert (change.score_before, change.grade_before) == (old_score, old_grade) and change.actor == "user:president"
        ranks = [r for (r,) in db_session.execute(select(CycleResult.rank).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                                 .where(CycleSubject.kind == "person", CycleResult.score > result.score))]
        assert result.rank == len(ranks) + 1  # re-ranked among the people
        note = db_session.scalar(select(Notification.message).where(Notification.user_id == published["employee"])
                                 .order_by(Notification.id.desc()))
    assert "decided" in note
    AuthActions(client).logout()
    login(client, "employee")
    assert "Score history" in page(client.get(f"/t/jituan/results/{own}"))


def test_an_employee_cannot_open_the_appeals_pages(published, client):
    login(client, "employee")
    assert client.get("/t/jituan/appeals/").status_code == 403


def test_working_days_skip_weekends_and_the_tenants_holidays(app):
    friday = date(2026, 10, 2)
    assert after.add_days(friday, 3, "working", set()) == date(2026, 10, 7)
    assert after.add_days(friday, 3, "working", {date(2026, 10, 5)}) == date(2026, 10, 8)
    assert after.add_days(friday, 7, "calendar", {date(2026, 10, 5)}) == date(2026, 10, 9)


def test_an_appeal_after_the_window_is_refused(app, published):
    with in_jituan(app):
        cycle = db_session.get(Cycle, published["cycle"])
        cycle.published_at = datetime(2026, 10, 2, 9, tzinfo=timezone.utc)  # a Friday
        db_session.add(Holiday(day=date(2026, 10, 5), name="国庆"))
        db_session.flush()
        result = db_session.get(CycleResult, published["own"])
        assert after.appeal_deadline(cycle) == date(2026, 10, 8)
        with pytest.raises(after.AfterError, match="closed on 2026-10-08"):
            after.file_appeal(cycle, result, "晚了但仍想申诉这一结果。", "user:employee", today=date(2026, 10, 9))
        after.file_appeal(cycle, result, "在期限内申诉这一结果。", "user:employee", today=date(2026, 10, 8))
        db_session.rollback()


def test_the_dashboard_shows_tasks_and_cycle_progress(app, published, client):
    with in_jituan(app):
        cycle = service.create_cycle("corporate-grading", "2026-11", "十一月", {}, "hr", inputs_due=date(2020, 1, 6))
        service.transition(cycle, "open", "hr")
        db_session.commit()
    login(client, "employee")
    home = page(client.get("/t/jituan/"))
    assert "Read and sign your result of 2026年9月" in home and "unread notification" in home
    assert "Score yourself in 十一月" in home
    assert "Open cycles" not in home
    AuthActions(client).logout()
    login(client, "hr")
    home = page(client.get("/t/jituan/"))
    assert "Enter inputs in 十一月" in home and "Open cycles" in home
    assert '<span class="error">due 2020-01-06</span>' in home  # overdue
    assert "0 (0.0%)" in home  # nothing entered yet in the new cycle


def test_a_subsidiary_head_answers_for_its_departments_too(app, published, client):
    with in_jituan(app):
        from core.models import OrgUnit

        head = db_session.scalar(select(User).where(User.username == "yuanweidong"))  # heads SUB1
        sub1 = next(iter(head.headed_unit_ids()))
        department = db_session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == sub1))
        below = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                  .where(CycleSubject.kind == "person", CycleSubject.unit_id == department))
    assert below is not None
    login(client, "yuanweidong")
    assert client.get(f"/t/jituan/results/{below}").status_code == 200


# ------------------------------------------------------------------------------------- review findings

def test_nobody_decides_their_own_appeal_and_adjusting_needs_an_investigation(app, published, client):
    with in_jituan(app):
        president = db_session.scalar(select(User).where(User.username == "president"))
        own = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                .where(CycleSubject.person_id == president.person_id))
    login(client, "president")
    client.post(f"/t/jituan/results/{own}/appeal", data={"reason": "请复核我的月度得分,分管单位有误。"})
    with in_jituan(app):
        appeal_id = db_session.scalar(select(Appeal.id).where(Appeal.result_id == own))
        before = db_session.get(CycleResult, own).score
    refused = client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "decide", "decision": "adjusted",
                                                                 "new_score": "5", "note": "自己改"}, follow_redirects=True)
    assert "Nobody decides an appeal against their own result" in page(refused)
    AuthActions(client).logout()
    login(client, "hr")
    early = client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "decide", "decision": "adjusted",
                                                               "new_score": "4.9", "note": "未经调查"}, follow_redirects=True)
    assert "only after HR's investigation" in page(early)
    client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "investigate", "investigation": "已核实。"})
    nan = client.post(f"/t/jituan/appeals/{appeal_id}", data={"action": "decide", "decision": "adjusted",
                                                             "new_score": "NaN", "note": "x"}, follow_redirects=True)
    assert "NaN is not a score" in page(nan)
    with in_jituan(app):
        assert db_session.get(CycleResult, own).score == before


def test_a_units_score_is_not_adjusted_on_its_own(app, published):
    with in_jituan(app):
        cycle = db_session.get(Cycle, published["cycle"])
        unit_result = db_session.scalar(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                        .where(CycleSubject.kind == "unit"))
        appeal = Appeal(result_id=unit_result.id, filed_by="user:hr", reason="单位得分复核申请", state="investigating")
        db_session.add(appeal)
        db_session.flush()
        with pytest.raises(after.AfterError, match="feeds its staff's scores"):
            after.decide(appeal, cycle, "adjusted", "4.9", "复核", "user:president", [])
        db_session.rollback()


def test_appeals_are_closed_with_the_cycle(app, published, client):
    login(client, "employee")
    client.post(f"/t/jituan/results/{published['own']}/appeal", data={"reason": "我对本月得分有异议,请复核。"})
    with in_jituan(app):
        cycle = db_session.get(Cycle, published["cycle"])
        with pytest.raises(service.CycleError) as info:
            service.transition(cycle, "closed", "hr")
        assert "not decided yet" in info.value.problems[0]
        cycle.state = "closed"  # even if it were closed, a decision would not change it
        appeal = db_session.scalar(select(Appeal).where(Appeal.result_id == published["own"]))
        with pytest.raises(after.AfterError, match="while the results are published"):
            after.decide(appeal, cycle, "upheld", None, "维持", "user:president", [])
        db_session.rollback()


def test_a_unit_head_cannot_rate_or_interview_themselves(app, published, client):
    with in_jituan(app):
        head = db_session.scalar(select(User).where(User.username == "fengzhiqiang"))
        own = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                .where(CycleSubject.person_id == head.person_id))
    login(client, "fengzhiqiang")
    assert client.post(f"/t/jituan/results/{own}/interview", data={"record": "自己面谈自己"}).status_code == 403


# ------------------------------------------------------------------------------------- the scheme's words

def sales_login(client, username):
    AuthActions(client).logout("xiaoshou")
    client.post("/lang", data={"locale": "en"})
    assert AuthActions(client).login("xiaoshou", username).status_code == 302
    return client


def test_flags_extra_and_inputs_read_in_the_schemes_words(march, client):  # noqa: F811
    own = march["results"]["X011"]  # March: 76.55, listed for training, pay 4593.00
    sales_login(client, "employee")
    mine = page(client.get(f"/t/xiaoshou/results/{own}"))
    facts = mine[mine.index('<dl class="facts">'):mine.index("</dl>")]
    assert "Listed for training</span>" in facts and "Performance pay</dt><dd>4593.00</dd>" in facts
    assert ">training<" not in facts and ">pay<" not in facts
    sales_login(client, "admin")
    breakdown = page(client.get(f"/t/xiaoshou/cycles/{march['cycle']}/results/{own}"))
    assert "Listed for training</span>" in breakdown and "Performance pay</dt><dd>4593.00</dd>" in breakdown
    inputs = breakdown[breakdown.index("Inputs as entered"):]
    assert "Manager ratings</dt>" in inputs and "Basic ability</code> 37" in inputs
    assert "Earlier months' totals</dt>" in inputs and "<code>history</code>" not in inputs
    assert "<code>basic_ability</code>" not in inputs


def test_a_person_not_scored_is_told_why_and_not_asked_to_sign(app, client):
    """陈晓红 (X014) in her internship: listed, not scored, nothing to sign."""
    from core.models import Person

    with tenant(app, "xiaoshou") as db:
        db.scalar(select(Person).where(Person.number == "X014")).status = "intern"
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月考评", {}, "test")
        for row in service.subjects(cycle):
            if row.kind == "person":
                service.set_inputs(row, cycle, {**row.inputs, "ratings": {k: "90" for k in (
                    "basic_ability", "proficiency", "coordination", "service")}}, row.inputs_version, "test")
        service.transition(cycle, "open", "test")
        service.transition(cycle, "review", "test")
        service.compute(cycle, "test")
        service.transition(cycle, "published", "test")
        db.commit()
        own = db.scalar(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                        .where(CycleResult.cycle_id == cycle.id, CycleSubject.code == "X014"))
        assert own.score is None and own.flags == ["excluded:intern"]
        account = db.scalar(select(User.id).where(User.username == "chenxiaohong"))
        told = db.scalar(select(Notification.message).where(Notification.user_id == account))
        assert "you were not scored" in told
        own_id = own.id
    sales_login(client, "chenxiaohong")
    result = page(client.get(f"/t/xiaoshou/results/{own_id}"))
    assert "Not scored in this cycle: Intern." in result and "sign</button>" not in result
    assert "Excluded: internship</span>" in result and "excluded:intern</span>" not in result
    assert "Read and sign your result" not in page(client.get("/t/xiaoshou/"))
    refused = client.post(f"/t/xiaoshou/results/{own_id}/sign", follow_redirects=True)
    assert "You were not scored in this cycle" in page(refused)
    sales_login(client, "employee")  # a colleague scored in the same month is asked to sign
    assert "Read and sign your result of 九月考评" in page(client.get("/t/xiaoshou/"))


# ------------------------------------------------------------------------------------- htmx targets

def test_an_htmx_request_without_a_known_target_gets_the_whole_page(client):
    """render_page: a block named by HX-Target (its own or inherited, such as base.html's
    ``content``), else the full page — never a 500 for a page without the fallback block."""
    sales_login(client, "admin")
    for headers in ({"HX-Request": "true"}, {"HX-Request": "true", "HX-Target": "no-such-block"}):
        response = client.get("/t/xiaoshou/sales/events", headers=headers)
        assert response.status_code == 200 and page(response).startswith("<!doctype html>"), headers
    content = client.get("/t/xiaoshou/sales/events", headers={"HX-Request": "true", "HX-Target": "content"})
    body = page(content)
    assert content.status_code == 200 and "<html" not in body and "<main" not in body
    assert "Events" in body and 'class="topbar"' not in body  # base.html's content block, with the page's main
    sales_login(client, "employee")
    own = client.get("/t/xiaoshou/my/results", headers={"HX-Request": "true", "HX-Target": "results"})
    assert own.status_code == 200 and "<html" not in page(own) and "No published results yet." in page(own)
    restore = client.get("/t/xiaoshou/my/results", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert page(restore).startswith("<!doctype html>")


def test_another_tenants_appeal_opens_no_correction(app, published, march, client):  # noqa: F811
    """?appeal= names an appeal of the tenant only: jituan's appeal id on xiaoshou's form is a 404."""
    with in_jituan(app):
        appeal = Appeal(result_id=published["own"], filed_by="user:employee", reason="跨租户的申诉编号测试。",
                        state="investigating")
        db_session.add(appeal)
        db_session.commit()
        appeal_id = appeal.id
    sales_login(client, "admin")
    url = f"/t/xiaoshou/cycles/{march['cycle']}/inputs/{march['subjects']['X011']}?appeal={appeal_id}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"inputs_version": "1"}).status_code == 404
    assert client.get(f"/t/xiaoshou/appeals/{appeal_id}").status_code == 404
