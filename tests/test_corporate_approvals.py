"""Approval chains of the corporate monthly personal scorecards: each class's chain walked by the
right accounts, wrong approvers refused, the scorecard locked through jixiao_event_inputs_saving
(the generic input form and the bulk import), returns unlocking it, HR standing in where nobody
else holds a step, the pages, and other tenants' objects hidden."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select

import plugins.corporate_grading as corporate
from core.models import AuditLog, CycleSubject, OrgUnit, Person, User
from core.cycles import service as cycles
from plugins.corporate_grading.approvals import hooks
from plugins.corporate_grading.approvals import service as approvals
from plugins.corporate_grading.approvals.models import ApprovalEvent, CorporateApproval
from plugins.corporate_grading.organisation.service import set_oversight, set_post
from tests.conftest import make_test_app
from tests.test_cycles import tenant

BASE = "/t/jituan/corporate"


@pytest.fixture
def app(database_url):
    """The app, with the approvals hook registered even before the scheme's module re-exports it."""
    extra = [] if hasattr(corporate, "jixiao_event_inputs_saving") else [hooks]
    app = make_test_app(database_url, PLUGINS_EXTRA=extra)
    yield app
    app.extensions["jixiao.engine"].dispose()


@dataclass
class Setup:
    cycle: int
    sub: dict[str, int] = field(default_factory=dict)  # person number -> subject id
    uid: dict[str, int] = field(default_factory=dict)  # username -> account id


def prepare(app, state="open") -> Setup:
    """A monthly cycle of jituan; specialist fangyu, president president; zhenghaiyan (J0005)
    oversees FIN, sunlihua (J0004) oversees HR."""
    with tenant(app) as db:
        uid = dict(db.execute(select(User.username, User.id)).all())
        person = dict(db.execute(select(Person.number, Person.id)).all())
        unit = dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())
        set_post("specialist", [uid["fangyu"]], "test")
        set_post("president", [uid["president"]], "test")
        set_oversight(person["J0005"], [unit["FIN"]], "test")
        set_oversight(person["J0004"], [unit["HR"]], "test")
        cycle = cycles.create_cycle("corporate-grading", "2026-09", "九月", {}, "test")
        if state == "open":
            cycles.transition(cycle, "open", "test")
        sub = {s.code: s.id for s in cycles.subjects(cycle) if s.kind == "person"}
        db.commit()
        return Setup(cycle.id, sub, uid)


def login(client, username):
    client.post("/t/jituan/logout")
    response = client.post("/t/jituan/login", data={"username": username, "password": "jixiao-demo"})
    client.post("/lang", data={"locale": "en"})  # the messages asserted are the English ones
    return response


def form_url(s: Setup, number: str) -> str:
    return f"/t/jituan/cycles/{s.cycle}/inputs/{s.sub[number]}"


def save_personal(client, s: Setup, number: str, score: str):
    """Save a personal score through the generic input form (htmx autosave): (status, message)."""
    page = client.get(form_url(s, number))
    assert page.status_code == 200, page.status_code
    version = re.search(r'name="inputs_version" value="(\d+)"', page.get_data(as_text=True)).group(1)
    response = client.post(form_url(s, number), headers={"HX-Request": "true"},
                           data={"inputs_version": version, "personal__mode": "score", "personal_score": score})
    message = re.search(r'id="save-status"[^>]*>([^<]*)<', response.get_data(as_text=True))
    return response.status_code, message.group(1) if message else ""


def act(client, s: Setup, number: str, action: str, note: str = "", htmx=False, version=None):
    """Submit, approve or return a scorecard as the page would (with the version it shows)."""
    if version is None:
        with tenant(client.application) as db:
            approval = db.scalar(select(CorporateApproval).where(CorporateApproval.subject_id == s.sub[number]))
            version = approval.version if approval else 0
    url = f"{BASE}/cycles/{s.cycle}/approvals/{s.sub[number]}/{action}"
    headers = {"HX-Request": "true", "HX-Target": "approval-panel"} if htmx else {}
    return client.post(url, data={"note": note, "version": str(version)}, headers=headers)


def state_of(app, s: Setup, number: str):
    with tenant(app) as db:
        approval = db.scalar(select(CorporateApproval).where(CorporateApproval.subject_id == s.sub[number]))
        return (approval.state, approval.current_step) if approval else ("none", None)


def history(app, s: Setup, number: str):
    with tenant(app) as db:
        approval = db.scalar(select(CorporateApproval).where(CorporateApproval.subject_id == s.sub[number]))
        return [(e.action, e.step, e.actor_name, e.as_hr, e.note) for e in approvals.history(approval)]


# ----------------------------------------------------------------------------------- the chains

def test_class_a_specialist_then_president(app, client):
    s = prepare(app)
    login(client, "sunlihua")  # J0004, class A
    assert save_personal(client, s, "J0004", "4.6") == (200, "Saved.")
    page = client.get(f"{BASE}/cycles/{s.cycle}/approvals/{s.sub['J0004']}").get_data(as_text=True)
    assert "Submit my self-score" in page
    assert act(client, s, "J0004", "submit").status_code == 302
    assert state_of(app, s, "J0004") == ("submitted", "specialist")
    assert act(client, s, "J0004", "approve").status_code == 403  # nobody approves their own
    login(client, "president")
    assert act(client, s, "J0004", "approve").status_code == 403  # not the president's step yet
    login(client, "fangyu")
    assert "My approvals (1)" in client.get("/t/jituan/").get_data(as_text=True)
    assert act(client, s, "J0004", "approve", "checked").status_code == 302
    assert state_of(app, s, "J0004") == ("submitted", "president")
    assert act(client, s, "J0004", "approve").status_code == 403  # the specialist's step is done
    login(client, "president")
    mine = client.get(f"{BASE}/approvals").get_data(as_text=True)
    assert "孙丽华" in mine
    response = act(client, s, "J0004", "approve", htmx=True)
    assert response.status_code == 200 and 'class="flash success"' in response.get_data(as_text=True)
    assert state_of(app, s, "J0004") == ("approved", None)
    assert [(a, st) for a, st, *_rest in history(app, s, "J0004")] == [
        ("submit", "self"), ("approve", "specialist"), ("approve", "president")]
    with tenant(app) as db:
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.object_type == "CorporateApproval")))
        assert actions == {"corp.approval.submit", "corp.approval.approve"}


def test_class_b_specialist_supervising_leader_president(app, client):
    s = prepare(app)
    login(client, "fengzhiqiang")  # J0011, class B, head of FIN (overseen by zhenghaiyan)
    assert save_personal(client, s, "J0011", "4.2")[0] == 200
    assert act(client, s, "J0011", "submit").status_code == 302
    for wrong, right, after in (("zhenghaiyan", "fangyu", ("submitted", "supervising_leader")),
                                ("president", "zhenghaiyan", ("submitted", "president")),
                                ("hr", "president", ("approved", None))):
        login(client, wrong)
        assert act(client, s, "J0011", "approve").status_code == 403, wrong
        login(client, right)
        assert act(client, s, "J0011", "approve").status_code == 302, right
        assert state_of(app, s, "J0011") == after
    assert [(a, st, who) for a, st, who, *_r in history(app, s, "J0011")] == [
        ("submit", "self", "冯志强"), ("approve", "specialist", "方宇"), ("approve", "supervising_leader", "郑海燕"),
        ("approve", "president", "陈志远")]


def test_class_c_unit_head_and_return_unlocks(app, client):
    s = prepare(app)
    login(client, "liaosiyuan")  # J0030, class C, FIN
    assert save_personal(client, s, "J0030", "3.8")[0] == 200
    assert act(client, s, "J0030", "submit").status_code == 302
    status, message = save_personal(client, s, "J0030", "4.9")
    assert status == 409 and "can no longer be changed by you" in message and "冯志强" in message
    login(client, "tangweimin")  # the head of ENG: not this chain
    assert act(client, s, "J0030", "approve").status_code == 403
    assert client.get(f"{BASE}/cycles/{s.cycle}/approvals/{s.sub['J0030']}").status_code == 403
    login(client, "fengzhiqiang")
    refused = act(client, s, "J0030", "return", "", htmx=True)  # a return needs a note
    assert refused.status_code == 422 and "Note" in refused.get_data(as_text=True)
    assert state_of(app, s, "J0030") == ("submitted", "unit_head")
    assert act(client, s, "J0030", "return", "Attach the plan sheet.").status_code == 302
    assert state_of(app, s, "J0030") == ("returned", None)
    login(client, "liaosiyuan")
    assert save_personal(client, s, "J0030", "4.0")[0] == 200  # unlocked again
    assert "Attach the plan sheet." in client.get(f"{BASE}/cycles/{s.cycle}/approvals/{s.sub['J0030']}").get_data(as_text=True)
    assert act(client, s, "J0030", "submit").status_code == 302
    login(client, "fengzhiqiang")
    assert save_personal(client, s, "J0030", "4.1")[0] == 200  # the current approver corrects
    assert save_personal(client, s, "J0030", "4.2")[0] == 200  # ... one history entry for both saves
    assert act(client, s, "J0030", "approve").status_code == 302
    assert state_of(app, s, "J0030") == ("approved", None)
    steps = history(app, s, "J0030")
    assert [a for a, *_r in steps] == ["submit", "return", "submit", "correct", "approve"]
    with tenant(app) as db:
        correction = db.scalar(select(ApprovalEvent).where(ApprovalEvent.action == "correct"))
        assert (correction.score_before, correction.score) == ("4", "4.2")


def test_final_approval_locks_for_everyone_but_hr(app, client):
    s = prepare(app)
    login(client, "liaosiyuan")
    save_personal(client, s, "J0030", "3.8")
    act(client, s, "J0030", "submit")
    login(client, "fengzhiqiang")
    act(client, s, "J0030", "approve")
    assert state_of(app, s, "J0030") == ("approved", None)
    status, message = save_personal(client, s, "J0030", "4.5")
    assert status == 409 and "only HR can change" in message
    login(client, "liaosiyuan")
    assert save_personal(client, s, "J0030", "4.5")[0] == 409
    assert act(client, s, "J0030", "submit").status_code == 302  # refused with a reason
    assert state_of(app, s, "J0030") == ("approved", None)
    login(client, "fengzhiqiang")
    assert act(client, s, "J0030", "return", "again").status_code == 403  # only HR reopens
    login(client, "hr")
    assert save_personal(client, s, "J0030", "4.5")[0] == 200
    with tenant(app) as db:
        subject = db.get(CycleSubject, s.sub["J0030"])
        assert subject.inputs["personal_score"] == "4.5"
    assert act(client, s, "J0030", "return", "Recheck item 2.").status_code == 302
    assert state_of(app, s, "J0030") == ("returned", None)


def test_only_the_current_approver_or_hr_corrects_in_the_chain(app, client):
    s = prepare(app)
    login(client, "hr")  # J0012 (FIN, class B) has no account: HR submits on their behalf
    assert save_personal(client, s, "J0012", "4.0")[0] == 200
    assert act(client, s, "J0012", "submit").status_code == 302
    login(client, "fengzhiqiang")  # FIN's head may enter `personal`, but the specialist has it now
    status, message = save_personal(client, s, "J0012", "3.0")
    assert status == 409 and "方宇" in message and "only they or HR" in message
    login(client, "hr")
    assert save_personal(client, s, "J0012", "3.9")[0] == 200
    submitted = history(app, s, "J0012")[0]
    assert submitted[0] == "submit" and submitted[3] is True  # recorded as done by HR


def test_hr_stands_in_where_nobody_else_holds_the_step(app, client):
    s = prepare(app)
    # the president's own scorecard: the president's step falls to HR
    login(client, "president")
    save_personal(client, s, "J0001", "4.8")
    act(client, s, "J0001", "submit")
    login(client, "fangyu")
    act(client, s, "J0001", "approve")
    login(client, "president")
    assert act(client, s, "J0001", "approve").status_code == 403
    login(client, "hr")
    page = client.get(f"{BASE}/approvals").get_data(as_text=True)
    assert "陈志远" in page
    assert act(client, s, "J0001", "approve").status_code == 302
    assert state_of(app, s, "J0001") == ("approved", None)
    assert history(app, s, "J0001")[-1][3] is True
    # MKT has no head account: HR approves employee's (J0043, class C) scorecard
    login(client, "employee")
    save_personal(client, s, "J0043", "3.9")
    act(client, s, "J0043", "submit")
    login(client, "hr")
    assert act(client, s, "J0043", "approve").status_code == 302
    assert state_of(app, s, "J0043") == ("approved", None)


def test_nothing_to_submit_and_stale_pages_are_refused(app, client):
    s = prepare(app)
    login(client, "liaosiyuan")
    response = act(client, s, "J0030", "submit", htmx=True)
    assert response.status_code == 422 and "nothing is entered yet" in response.get_data(as_text=True)
    client.post(form_url(s, "J0030"), headers={"HX-Request": "true"},
                data={"inputs_version": "0", "personal__mode": "items", "personal_items-0-name": "Plan",
                      "personal_items-0-weight": "0.5", "personal_items-0-kind": "qualitative",
                      "personal_items-0-level": "satisfied"})
    response = act(client, s, "J0030", "submit", htmx=True)
    assert response.status_code == 422 and "Personal scorecard" in response.get_data(as_text=True)
    save_personal(client, s, "J0030", "3.8")
    stale = act(client, s, "J0030", "submit", htmx=True, version=3)
    assert stale.status_code == 422 and "Someone else acted" in stale.get_data(as_text=True)
    assert state_of(app, s, "J0030") == ("none", None)
    with tenant(app) as db:  # a cycle that is no longer open takes no decisions
        cycle = db.get(cycles.Cycle, s.cycle)
        cycle.state = "review"
        db.commit()
    response = act(client, s, "J0030", "submit", htmx=True)
    assert response.status_code == 422 and "no longer change" in response.get_data(as_text=True)


def test_the_bulk_import_is_locked_too(app, client):
    s = prepare(app)
    login(client, "hr")  # J0010: HR's own scorecard
    assert save_personal(client, s, "J0010", "4.1")[0] == 200
    assert act(client, s, "J0010", "submit").status_code == 302
    csv = "code,name,class,personal_score\nJ0010,,B,4.9\nJ0043,,C,3.7\n".encode()
    response = client.post(f"/t/jituan/cycles/{s.cycle}/inputs/import",
                           data={"kind": "person", "file": (__import__("io").BytesIO(csv), "people.csv")},
                           content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "J0010" in text and "can no longer be changed by you" in text
    with tenant(app) as db:
        assert db.get(CycleSubject, s.sub["J0043"]).inputs.get("personal_score") is None  # nothing imported


def test_pages_filters_and_links(app, client):
    s = prepare(app)
    login(client, "liaosiyuan")
    save_personal(client, s, "J0030", "3.8")
    act(client, s, "J0030", "submit")
    login(client, "hr")
    cycle_page = client.get(f"/t/jituan/cycles/{s.cycle}").get_data(as_text=True)
    assert f'href="{BASE}/cycles/{s.cycle}/approvals"' in cycle_page
    page = client.get(f"{BASE}/cycles/{s.cycle}/approvals").get_data(as_text=True)
    assert "Assessment specialist checks" in page and "Page 1 of 3" in page  # 60 people, 25 a page
    assert "廖思远" in client.get(f"{BASE}/cycles/{s.cycle}/approvals?state=submitted").get_data(as_text=True)
    only = client.get(f"{BASE}/cycles/{s.cycle}/approvals?step=unit_head&class=C",
                      headers={"HX-Request": "true", "HX-Target": "results"}).get_data(as_text=True)
    assert "J0030" in only and "J0043" not in only
    none = client.get(f"{BASE}/cycles/{s.cycle}/approvals?state=none&q=J004").get_data(as_text=True)
    assert "J0043" in none and "J0030" not in none
    bad = client.get(f"{BASE}/cycles/{s.cycle}/approvals?state=lost").get_data(as_text=True)
    assert "&#39;lost&#39;" in bad
    login(client, "employee")
    assert client.get(f"{BASE}/cycles/{s.cycle}/approvals").status_code == 403
    assert client.get(f"{BASE}/cycles/{s.cycle}/approvals/{s.sub['J0030']}").status_code == 403
    mine = client.get(f"{BASE}/approvals").get_data(as_text=True)
    assert "九月" in mine  # employee's own scorecard of the open cycle
    login(client, "fengzhiqiang")
    home = client.get("/t/jituan/").get_data(as_text=True)
    assert "My approvals (1)" in home


def test_the_waiting_list_takes_a_few_queries(app):
    s = prepare(app)
    with tenant(app) as db:
        hr = db.get(User, s.uid["hr"])
        for number in ("J0043", "J0044", "J0042", "J0040", "J0041"):
            subject = db.get(CycleSubject, s.sub[number])
            cycles.set_inputs(subject, db.get(cycles.Cycle, s.cycle), {"personal_score": "4"}, subject.inputs_version, "t")
            approvals.submit(db.get(cycles.Cycle, s.cycle), subject, hr)
        db.commit()
        head = db.get(User, s.uid["tangweimin"])
        statements = []
        engine = db.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            waiting = approvals.awaiting(head, approvals.Directory.load())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert {sub.code for _a, sub, _c in waiting} == {"J0040", "J0041"}  # ENG's staff
        queries = [q for q in statements if "set_config" not in q]  # PostgreSQL's tenant setting
        assert len(queries) <= 6, queries  # the directory's five, the waiting scorecards


def test_other_tenants_and_annual_cycles_are_not_found(app, client):
    s = prepare(app)
    with tenant(app) as db:
        annual = cycles.create_cycle("corporate-grading", "2026", "年度", {}, "test")
        db.commit()
        annual_id = annual.id
    login(client, "hr")
    assert client.get(f"{BASE}/cycles/{annual_id}/approvals").status_code == 404
    unit_subject = None
    with tenant(app) as db:
        unit_subject = db.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == s.cycle,
                                                               CycleSubject.kind == "unit"))
    assert client.get(f"{BASE}/cycles/{s.cycle}/approvals/{unit_subject}").status_code == 404
    client.post("/t/jituan/logout")
    client.post("/t/xiaoshou/login", data={"username": "admin", "password": "jixiao-demo"})
    assert client.get(f"/t/xiaoshou/corporate/cycles/{s.cycle}/approvals").status_code == 404
    assert client.get("/t/xiaoshou/corporate/approvals").status_code == 404
    assert client.post(f"/t/xiaoshou/corporate/cycles/{s.cycle}/approvals/{s.sub['J0030']}/approve").status_code == 404
