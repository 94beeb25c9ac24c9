"""360 quality reviews of annual corporate cycles: raters assigned from the org structure per class,
HR's adjustments, raters' answers with bounds and locking, confidentiality, progress, and the
answered ratings feeding the annual formula exactly as `jixiao score` computes it."""
from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, OrgUnit, Person, User
from core.plugins import get_schemes
from core.scoring.cli import score_file
from plugins.corporate_grading.organisation.service import set_oversight, set_post
from plugins.corporate_grading.reviews import service as reviews
from plugins.corporate_grading.reviews.models import ReviewAssignment
from tests.test_cycles import tenant

BASE = "/t/jituan/corporate/reviews"


def prepare(app, period="2026", state="open", extra_c=False, assign=True, selection=None):
    """The demo org with a president and some oversight, an annual cycle, raters assigned."""
    with tenant(app) as db:
        pid = {p.number: p.id for p in db.scalars(select(Person))}
        uid = {u.username: u.id for u in db.scalars(select(User))}
        unit = {u.code: u.id for u in db.scalars(select(OrgUnit))}
        set_post("president", [uid["president"]], "test")
        set_oversight(pid["J0002"], [unit["FIN"], unit["ENG"]], "test")  # 林国栋
        set_oversight(pid["J0003"], [unit["MKT"], unit["SUB1"]], "test")  # 赵文博
        if extra_c:  # ENG then has 6 class C people: J0040 J0041 J0090 J0091 J0092 J0093
            for n in range(90, 94):
                db.add(Person(number=f"J00{n}", name=f"测试{n}", unit_id=unit["ENG"], staff_class="C", status="regular"))
            db.flush()
            pid = {p.number: p.id for p in db.scalars(select(Person))}
        cycle = cycles.create_cycle("corporate-grading", period, f"{period}年度", selection or {}, "test")
        if state == "open":
            cycles.transition(cycle, "open", "test")
        if assign:
            reviews.bulk_assign(cycle, "test")
        sub = {s.code: s.id for s in cycles.subjects(cycle, eligible_only=False) if s.kind == "person"}
        db.commit()
        return SimpleNamespace(cycle=cycle.id, pid=pid, uid=uid, unit=unit, sub=sub)


def raters(db, cycle_id: int, code: str) -> dict[str, list[str]]:
    """The raters' staff numbers per group of the ratee ``code``."""
    rows = db.execute(select(ReviewAssignment.group, Person.number)
                      .join(Person, Person.id == ReviewAssignment.rater_id)
                      .join(CycleSubject, CycleSubject.id == ReviewAssignment.subject_id)
                      .where(ReviewAssignment.cycle_id == cycle_id, CycleSubject.code == code)).all()
    out: dict[str, list[str]] = {}
    for group, number in rows:
        out.setdefault(group, []).append(number)
    return {g: sorted(v) for g, v in out.items()}


def assignment(db, s, ratee: str, rater: str) -> ReviewAssignment:
    return db.scalar(select(ReviewAssignment).where(ReviewAssignment.subject_id == s.sub[ratee],
                                                    ReviewAssignment.rater_id == s.pid[rater]))


def answer(app, s, ratee: str, rater: str, rating: str, comment: str = "") -> None:
    with tenant(app) as db:
        a = assignment(db, s, ratee, rater)
        reviews.answer(db.get(Cycle, s.cycle), a, rating, comment, a.version, "test")
        db.commit()


def login(client, username: str):
    """Sign in to jituan as ``username``, with the pages in English."""
    client.post("/t/jituan/logout")
    response = client.post("/t/jituan/login", data={"username": username, "password": "jixiao-demo"})
    assert response.status_code in (302, 303), username
    client.post("/lang", data={"locale": "en"})  # the messages asserted are the English ones


def nums(first: int, last: int) -> list[str]:
    return [f"J{n:04d}" for n in range(first, last + 1)]


# ----------------------------------------------------------------------------------- assignment

def test_bulk_assignment_follows_the_org_structure_per_class(app):
    s = prepare(app, extra_c=True)
    with tenant(app) as db:
        # class A: the president, the other class A leaders, the heads of the units overseen (FIN, ENG)
        assert raters(db, s.cycle, "J0002") == {"president": ["J0001"], "peer": nums(3, 8),
                                                "unit_head": ["J0011", "J0017"]}
        # the president does not rate himself: his president group is empty, his peers are all of class A
        assert raters(db, s.cycle, "J0001") == {"peer": nums(2, 8)}
        # class B: supervising leader of FIN, class B peers under HQ, class C of FIN
        b_peers = [n for n in nums(9, 23) if n != "J0011"]
        assert raters(db, s.cycle, "J0011") == {"leader": ["J0002"], "peer": b_peers,
                                                "subordinate": ["J0029", "J0030", "J0031"]}
        # a subsidiary's head: its leader, and the class C staff of all its departments
        assert raters(db, s.cycle, "J0020") == {"leader": ["J0003"], "peer": sorted(n for n in b_peers + ["J0011"] if n != "J0020"),
                                                "subordinate": nums(45, 52)}
        # nobody oversees ADM nor HQ: no leader group
        assert "leader" not in raters(db, s.cycle, "J0013")
        # class C: the unit's head; a department without one takes the nearest unit above that has one
        assert raters(db, s.cycle, "J0030") == {"superior": ["J0011"], "peer": ["J0029", "J0031"]}
        assert raters(db, s.cycle, "J0046") == {"superior": ["J0020"], "peer": ["J0045", "J0047"]}
        assert raters(db, s.cycle, "J0043") == {"peer": ["J0042", "J0044"]}  # no head above MKT
        # at most 4 peers, the nearest by staff number
        assert raters(db, s.cycle, "J0040")["peer"] == ["J0041", "J0090", "J0091", "J0092"]
        assert raters(db, s.cycle, "J0091")["peer"] == ["J0041", "J0090", "J0092", "J0093"]
        assert raters(db, s.cycle, "J0017") == {"leader": ["J0002"], "peer": sorted(n for n in b_peers + ["J0011"] if n != "J0017"),
                                                "subordinate": ["J0040", "J0041", "J0090", "J0091", "J0092", "J0093"]}
        # nobody rates themselves; every group belongs to the ratee's class
        rows = db.execute(select(ReviewAssignment.group, ReviewAssignment.rater_id, CycleSubject.person_id,
                                 CycleSubject.staff_class)
                          .join(CycleSubject, CycleSubject.id == ReviewAssignment.subject_id)).all()
        assert rows and all(rater != ratee for _g, rater, ratee, _c in rows)
        assert all(group in reviews.GROUPS[klass] for group, _r, _p, klass in rows)
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "corp.reviews.assign")) == 1


def test_only_eligible_subjects_are_reviewed(app):
    s = prepare(app, selection={"statuses": ["regular"]})
    with tenant(app) as db:
        ratees = {c for (c,) in db.execute(select(CycleSubject.code).join(
            ReviewAssignment, ReviewAssignment.subject_id == CycleSubject.id))}
        assert "J0033" not in ratees and "J0030" in ratees  # J0033 is on probation: not assessed
        assert "J0033" in raters(db, s.cycle, "J0032")["peer"]  # ... but still a colleague who rates


def test_bulk_assignment_takes_a_few_queries_for_the_whole_cycle(app):
    s = prepare(app, assign=False)
    with tenant(app) as db:
        cycle = db.get(Cycle, s.cycle)
        statements = []
        engine = db.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            counts = reviews.bulk_assign(cycle, "test")
            db.flush()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert counts["added"] > 300
        assert len(statements) <= 12, statements


def test_bulk_assignment_is_idempotent_and_keeps_answers_and_raters_added_by_hand(app):
    s = prepare(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, s.cycle)
        before = db.scalar(select(func.count()).select_from(ReviewAssignment))
        assert reviews.bulk_assign(cycle, "test") == {"added": 0, "removed": 0, "total": before}
        a = assignment(db, s, "J0002", "J0011")  # FIN's head rates J0002 as a unit head
        reviews.answer(cycle, a, "4.5", "", a.version, "test")
        reviews.add_rater(cycle, db.get(CycleSubject, s.sub["J0002"]), s.pid["J0043"], "unit_head", "test")
        # J0002 no longer oversees FIN nor ENG: the answered FIN head stays, ENG's head goes
        set_oversight(s.pid["J0002"], [], "test")
        counts = reviews.bulk_assign(cycle, "test")
        # ENG's head as J0002's unit head; J0002 as the leader of FIN's and ENG's heads and deputies
        assert counts == {"added": 0, "removed": 1 + 4, "total": before + 1 - 5}
        db.commit()
    with tenant(app) as db:
        assert raters(db, s.cycle, "J0002")["unit_head"] == ["J0011", "J0043"]
        assert "leader" not in raters(db, s.cycle, "J0011")
        assert reviews.bulk_assign(db.get(Cycle, s.cycle), "test")["added"] == 0


# ----------------------------------------------------------------------------------- adjusting (web)

def test_hr_adds_a_rater_found_by_search_and_removes_an_unanswered_one(app, client):
    s = prepare(app)
    login(client, "hr")
    page = f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}"
    found = client.get(page, query_string={"q": "J0043"}, headers={"HX-Request": "true", "HX-Target": "candidates"})
    assert found.status_code == 200 and "叶思琪" in found.text and "<html" not in found.text
    added = client.post(f"{page}/raters", data={"person_id": s.pid["J0043"], "group": "peer"})
    assert added.status_code == 302
    with tenant(app) as db:
        assert "J0043" in raters(db, s.cycle, "J0030")["peer"]
        assert assignment(db, s, "J0030", "J0043").source == "manual"
    # refused with a reason, nothing added
    for data, message in [
        ({"person_id": s.pid["J0030"], "group": "peer"}, "nobody rates themselves"),
        ({"person_id": s.pid["J0043"], "group": "peer"}, "already rates"),
        ({"person_id": s.pid["J0044"], "group": "leader"}, "&#39;leader&#39; is not a rater group of class C; allowed: superior, peer"),
        ({"person_id": "999999", "group": "peer"}, "999999"),
        ({"person_id": "", "group": "peer"}, "Rater:"),
    ]:
        refused = client.post(f"{page}/raters", data=data)
        assert refused.status_code == 422 and message in refused.text, (data, refused.text[-2000:])
    with tenant(app) as db:
        assert len(raters(db, s.cycle, "J0030")["peer"]) == 3
        version = assignment(db, s, "J0030", "J0043").version
    remove = f"{page}/raters/{s.pid['J0043']}/remove"
    assert client.post(remove, data={"version": version + 1}).status_code == 409  # stale form
    gone = client.post(remove, data={"version": version}, headers={"HX-Request": "true"})
    assert gone.status_code == 204 and gone.headers["HX-Redirect"].endswith(page)
    with tenant(app) as db:
        assert "J0043" not in raters(db, s.cycle, "J0030")["peer"]
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action.in_(
            ("corp.reviews.add", "corp.reviews.remove")))) == 2
    # an answered assignment is kept
    answer(app, s, "J0030", "J0011", "4")
    with tenant(app) as db:
        version = assignment(db, s, "J0030", "J0011").version
    kept = client.post(f"{page}/raters/{s.pid['J0011']}/remove", data={"version": version})
    assert kept.status_code == 422 and "already answered" in kept.text
    assert client.post(f"{page}/raters/{s.pid['J0043']}/remove", data={"version": 1}).status_code == 404


def test_hr_pages_confirm_destructive_actions_and_refuse_changes_once_in_review(app, client):
    s = prepare(app)
    login(client, "hr")
    page = client.get(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}")
    assert page.status_code == 200 and page.text.count("hx-confirm") >= 2  # each remove button
    assert page.text.count("tag no-account") == 2  # J0029 and J0031 cannot answer in the portal; J0011 (fengzhiqiang) can
    with tenant(app) as db:
        db.get(Cycle, s.cycle).state = "review"
        db.commit()
    refused = client.post(f"{BASE}/cycles/{s.cycle}/assign", follow_redirects=True)
    assert "can be changed while the cycle is a draft or open; it is review" in refused.text
    added = client.post(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/raters",
                        data={"person_id": s.pid["J0043"], "group": "peer"})
    assert added.status_code == 422


# ----------------------------------------------------------------------------------- answering

@pytest.mark.parametrize("value, message", [
    ("1.99", "Rating: 1.99 is outside the range 2 to 5."),
    ("5.01", "Rating: 5.01 is outside the range 2 to 5."),
    ("4.333", "Rating: 4.333 has more than 2 decimals"),
    ("abc", "Rating: &#39;abc&#39; is not a number; enter a number from 2 to 5."),
    ("1e0", "is not a number"),
    ("", "Rating: a number from 2 to 5 is required."),
])
def test_a_rating_outside_the_scale_is_refused_naming_the_field_value_and_range(app, client, value, message):
    s = prepare(app)
    login(client, "fengzhiqiang")  # J0011 rates J0030 as superior
    url = f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/rate"
    response = client.post(url, data={"rating": value, "comment": "好", "version": 1})
    assert response.status_code == 422 and message in response.text
    with tenant(app) as db:
        a = assignment(db, s, "J0030", "J0011")
        assert a.rating is None and a.comment is None and a.version == 1


def test_a_rater_answers_changes_the_answer_and_a_concurrent_edit_is_detected(app, client):
    s = prepare(app)
    login(client, "fengzhiqiang")
    url = f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/rate"
    assert client.get(url).status_code == 200
    saved = client.post(url, data={"rating": "4.25", "comment": " 认真负责 ", "version": 1})
    assert saved.status_code == 302
    with tenant(app) as db:
        a = assignment(db, s, "J0030", "J0011")
        assert (a.rating, a.comment, a.version) == (Decimal("4.25"), "认真负责", 2) and a.answered_at
        assert reviews.quality_inputs(db.get(Cycle, s.cycle))[s.sub["J0030"]] == [{"group": "superior", "score": "4.25"}]
    stale = client.post(url, data={"rating": "3", "version": 1})  # a form shown before the save
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    assert client.post(url, data={"rating": "5", "comment": "x" * 2001, "version": 2}).status_code == 422
    assert client.post(url, data={"rating": "5.0", "version": 2}).status_code == 302
    with tenant(app) as db:
        a = assignment(db, s, "J0030", "J0011")
        assert (a.rating, a.comment) == (Decimal("5"), None)
        assert reviews.quality_inputs(db.get(Cycle, s.cycle))[s.sub["J0030"]] == [{"group": "superior", "score": "5"}]
        db.get(Cycle, s.cycle).state = "review"
        db.commit()
    closed = client.post(url, data={"rating": "4", "version": 3})
    assert closed.status_code == 422 and "it is review" in closed.text
    assert "认真负责" not in client.get(url).text and 'name="rating"' not in client.get(url).text


def test_a_rater_cannot_open_or_answer_another_raters_assignment(app, client):
    s = prepare(app)
    answer(app, s, "J0001", "J0005", "3.5", "郑的意见")
    login(client, "sunlihua")  # J0004 rates J0001 as a peer, not J0030
    assert client.get(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/rate").status_code == 403
    assert client.post(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/rate",
                       data={"rating": "2", "version": 1}).status_code == 403
    own = client.get(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0001']}/rate")
    assert own.status_code == 200 and "郑的意见" not in own.text and "3.5" not in own.text
    mine = client.get(f"{BASE}/mine")
    assert mine.status_code == 200 and "陈志远" in mine.text and "3.5" not in mine.text
    with tenant(app) as db:
        assert assignment(db, s, "J0030", "J0011").rating is None
    login(client, "employee")  # J0043 rates colleagues of MKT, not J0001
    assert client.get(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0001']}/rate").status_code == 403
    others = client.get(f"{BASE}/mine")
    assert others.status_code == 200 and "蔡雨桐" in others.text and "陈志远" not in others.text


# ----------------------------------------------------------------------------------- confidentiality, progress

def test_only_hr_sees_who_rated_whom_and_the_answers(app, client):
    s = prepare(app)
    answer(app, s, "J0001", "J0005", "3.5", "郑的意见")
    answer(app, s, "J0001", "J0004", "4.75", "孙的意见")
    manage = f"{BASE}/cycles/{s.cycle}"
    detail = f"{manage}/subjects/{s.sub['J0001']}"
    others = {"sunlihua": ("郑的意见", "3.5"), "zhenghaiyan": ("孙的意见", "4.75")}
    for username in ("president", "sunlihua", "zhenghaiyan", "fengzhiqiang", "employee"):
        login(client, username)  # the ratee, leaders who rated him, a unit head, an employee
        assert client.get(manage).status_code == 403, username
        assert client.get(detail).status_code == 403, username
        assert client.post(f"{manage}/assign").status_code == 403, username
        own_pages = client.get(f"{BASE}/mine").text + client.get(f"{detail}/rate").text
        for text in others.get(username, ("郑的意见", "孙的意见", "4.75")):
            assert text not in own_pages, (username, text)
    login(client, "sunlihua")
    assert "4.75" in client.get(f"{BASE}/mine").text and "孙的意见" in client.get(f"{detail}/rate").text
    login(client, "hr")
    page = client.get(detail)
    assert page.status_code == 200
    assert all(t in page.text for t in ("郑的意见", "孙的意见", "4.75", "3.50", "郑海燕", "孙丽华"))


def test_progress_per_ratee_and_group_and_the_flags(app, client):
    s = prepare(app)
    answer(app, s, "J0002", "J0001", "5")
    answer(app, s, "J0002", "J0003", "4")
    with tenant(app) as db:
        cycle = db.get(Cycle, s.cycle)
        ratees = list(db.scalars(reviews.ratees_stmt(cycle)))
        progress = reviews.progress(cycle, ratees)
        p = progress[s.sub["J0002"]]
        assert p.groups == {"president": (1, 1), "peer": (1, 6), "unit_head": (0, 2)}
        # the unit heads have not answered: their group drops out of the score, and is flagged so
        assert (p.answered, p.assigned, p.redistributed, p.no_answers) == (2, 9, True, False)
        assert p.empty_groups == ["unit_head"]
        president = progress[s.sub["J0001"]]
        assert president.empty_groups == ["president", "peer", "unit_head"] and president.no_answers
        assert progress[s.sub["J0043"]].empty_groups == ["superior", "peer"]  # no superior; peers not answered yet
        totals = reviews.group_totals(progress)
        assert totals[("A", "president")] == (1, 7)
    login(client, "hr")
    page = client.get(f"{BASE}/cycles/{s.cycle}", query_string={"q": "J0002"})
    assert page.status_code == 200 and "1/6" in page.text and "0/2" in page.text and "J0003" not in page.text
    assert ">Search <" in page.text  # English pages (a message the core already translates)
    flagged = client.get(f"{BASE}/cycles/{s.cycle}", query_string={"flag": "redistributed", "class": "A"},
                         headers={"HX-Request": "true", "HX-Target": "ratees"})
    assert "<html" not in flagged.text and "J0001" in flagged.text and "J0002" in flagged.text
    flagged = client.get(f"{BASE}/cycles/{s.cycle}", query_string={"flag": "redistributed", "q": "J004"})
    assert "J0043" in flagged.text and "J0042" in flagged.text
    nothing = client.get(f"{BASE}/cycles/{s.cycle}", query_string={"flag": "no_answers", "class": "A"})
    assert "J0001" in nothing.text and "J0002" not in nothing.text
    paged = client.get(f"{BASE}/cycles/{s.cycle}", query_string={"page": "2"})
    assert paged.status_code == 200 and "pagination" in paged.text


# ----------------------------------------------------------------------------------- the annual formula

def test_a_group_without_raters_drops_out_and_the_cycle_agrees_with_jixiao_score(app, tmp_path):
    s = prepare(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, s.cycle)
        for rater in ("J0011", "J0017"):  # J0002's unit heads are removed: the group has no raters
            a = assignment(db, s, "J0002", rater)
            reviews.remove_rater(cycle, a, a.version, "test")
        db.commit()
    answer(app, s, "J0002", "J0001", "5")
    answer(app, s, "J0002", "J0003", "4")
    answer(app, s, "J0002", "J0004", "4.5")
    with tenant(app) as db:
        cycle = db.get(Cycle, s.cycle)
        quality = reviews.quality_inputs(cycle)
        assert quality[s.sub["J0002"]] == [{"group": "peer", "score": "4"}, {"group": "peer", "score": "4.5"},
                                           {"group": "president", "score": "5"}]
        for row in cycles.subjects(cycle):
            inputs = {**row.inputs, "monthly_scores": ["4", "4"], "target_score": "4"}
            if row.kind == "person":
                inputs["quality"] = quality.get(row.id) or [{"group": reviews.GROUPS[row.staff_class][-1], "score": "4"}]
            cycles.set_inputs(row, cycle, inputs, row.inputs_version, "test")
        cycles.compute(cycle, "test")
        db.commit()
        result = db.scalar(select(CycleResult).where(CycleResult.subject_id == s.sub["J0002"]))
        # L = (5 × 0.5 + 4.25 × 0.3) / 0.8 = 4.71875; 4 × 0.2 + 4 × 0.6 + L × 0.2 = 4.14375 → 4.14
        assert result.score == Decimal("4.14")
        node = _find(result.breakdown, "quality (leadership L)")
        assert node is not None and abs(node["value"] - 4.71875) < 1e-6, result.breakdown
        unit_heads = next(t for t in node["terms"] if t["label"] == "unit_head")
        assert unit_heads["weight"] == 0 and "redistributed" in unit_heads["note"]
        stored = {s_.code: r.score for r, s_ in db.execute(
            select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)).all()
            if s_.kind == "person"}
        path = tmp_path / "case.json"
        path.write_text(json.dumps(cycles.case_of(cycle), ensure_ascii=False))
        from_file = {p.id: p.score for p in score_file(str(path), get_schemes()).people}
    assert stored == from_file and from_file["J0002"] == Decimal("4.14")


def _find(node: dict, label: str) -> dict | None:
    if node.get("label") == label:
        return node
    for term in node.get("terms") or []:
        found = _find(term, label)
        if found is not None:
            return found
    return None


# ----------------------------------------------------------------------------------- links, menu, isolation

def test_the_menu_and_the_cycle_page_lead_to_the_reviews(app, client):
    s = prepare(app, state="draft", selection={"classes": ["A"]})  # J0043 then rates nobody
    login(client, "sunlihua")
    assert f"{BASE}/mine" not in client.get("/t/jituan/").text  # only open cycles put it in the menu
    with tenant(app) as db:
        cycles.transition(db.get(Cycle, s.cycle), "open", "test")
        db.commit()
    home = client.get("/t/jituan/")
    assert f"{BASE}/mine" in home.text
    login(client, "employee")
    assert f"{BASE}/mine" not in client.get("/t/jituan/").text
    login(client, "hr")
    assert f"{BASE}/cycles/{s.cycle}" in client.get(f"/t/jituan/cycles/{s.cycle}").text
    with tenant(app) as db:
        monthly = cycles.create_cycle("corporate-grading", "2026-09", "9月", {}, "test")
        with pytest.raises(reviews.ReviewError, match="belong to annual cycles"):
            reviews.bulk_assign(monthly, "test")
        db.commit()
        monthly_id = monthly.id
    assert f"{BASE}/cycles/{monthly_id}" not in client.get(f"/t/jituan/cycles/{monthly_id}").text
    assert client.get(f"{BASE}/cycles/{monthly_id}").status_code == 404  # 360 reviews are annual


def test_another_tenants_objects_are_not_found(app, client):
    s = prepare(app)
    with tenant(app, "xiaoshou") as db:
        other_cycle = cycles.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        other_subject = db.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == other_cycle.id))
        other_person = db.scalar(select(Person.id))
        db.commit()
        other_cycle = other_cycle.id
    login(client, "hr")
    assert client.get(f"{BASE}/cycles/{other_cycle}").status_code == 404
    assert client.post(f"{BASE}/cycles/{other_cycle}/assign").status_code == 404
    assert client.get(f"{BASE}/cycles/{s.cycle}/subjects/{other_subject}").status_code == 404
    assert client.get(f"{BASE}/cycles/{s.cycle}/subjects/{other_subject}/rate").status_code == 404
    assert client.post(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/raters/{other_person}/remove",
                       data={"version": 1}).status_code == 404
    added = client.post(f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/raters",
                        data={"person_id": other_person, "group": "peer"})
    assert added.status_code == 422
    # a unit subject or another cycle's subject is not a ratee of this cycle
    with tenant(app) as db:
        unit_subject = db.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == s.cycle, CycleSubject.kind == "unit"))
    assert client.get(f"{BASE}/cycles/{s.cycle}/subjects/{unit_subject}").status_code == 404
    # the xiaoshou administrator does not reach jituan's reviews (and xiaoshou has no corporate scheme)
    client.post("/t/jituan/logout")
    client.post("/t/xiaoshou/login", data={"username": "admin", "password": "jixiao-demo"})
    assert client.get(f"/t/xiaoshou/corporate/reviews/cycles/{s.cycle}").status_code == 404
    assert client.get("/t/xiaoshou/corporate/reviews/mine").status_code == 404


def test_the_reviews_pages_use_no_inline_script_style_or_handler(app, client):
    import re

    s = prepare(app)
    answer(app, s, "J0030", "J0011", "4", "好")
    pages = {"hr": [f"{BASE}/cycles/{s.cycle}", f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}?q=J00"],
             "fengzhiqiang": [f"{BASE}/mine", f"{BASE}/cycles/{s.cycle}/subjects/{s.sub['J0030']}/rate"]}
    for username, urls in pages.items():
        login(client, username)
        for url in urls:
            response = client.get(url)
            html = response.get_data(as_text=True)
            assert response.status_code == 200, url
            assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), url
            assert not re.search(r"\sstyle=\"", html) and not re.search(r"\son[a-z]+=\"", html), url
