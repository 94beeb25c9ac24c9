"""Responsibility letters (目标责任书) of the corporate scheme: drafting, the goal rules and the
guidance (warn / enforce), signing by both sides and who may sign, the lock, reopening, year-end
scoring with the scheme's scale, ``letter_target_items`` for the annual cycle, concurrent edits,
the pages and tenant isolation."""
from __future__ import annotations

import re
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.models import AuditLog, OrgUnit, Person, Tenant, TenantScheme, User
from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import build_case
from plugins.corporate_grading.organisation.service import set_oversight, set_post
from plugins.corporate_grading.letters import service
from plugins.corporate_grading.letters.models import LetterGoal, ResponsibilityLetter
from plugins.corporate_grading.letters.service import LetterError
from plugins.corporate_grading.policy import (may_score_letter, may_sign_letter, may_view_letter)
from tests.test_cycles import tenant

YEAR = "2026"
HTMX = {"HX-Request": "true", "HX-Target": "letter"}


def q(name, weight, threshold="80", target="100", challenge=None, better=None, goal=None, **extra):
    form = {"name": name, "weight": weight, "kind": "quantitative", "threshold": threshold, "target": target}
    if challenge is not None:
        form["challenge"] = challenge
    if better is not None:
        form["better"] = better
    if goal is not None:
        form["goal"] = goal
    return {**form, **extra}


def ql(name, weight, goal=None):
    form = {"name": name, "weight": weight, "kind": "qualitative"}
    if goal is not None:
        form["goal"] = goal
    return form


FIVE_GOALS = [q("营业收入", "20", "80", "100", "120"), q("回款率", "20", "0.85", "0.95"),
              q("管理费用", "20", "110", "100", better="lower"), q("安全事故", "20", "2", "0", "-1", better="lower"),
              ql("团队建设", "20")]


def user(db, username) -> User:
    return db.scalar(select(User).where(User.username == username))


def unit_id(db, code) -> int:
    return db.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def person_id(db, number) -> int:
    return db.scalar(select(Person.id).where(Person.number == number))


def letter_of(db, *, unit=None, person=None) -> ResponsibilityLetter:
    stmt = select(ResponsibilityLetter).where(ResponsibilityLetter.year == YEAR)
    if unit:
        stmt = stmt.where(ResponsibilityLetter.unit_id == unit_id(db, unit))
    else:
        stmt = stmt.where(ResponsibilityLetter.person_id == person_id(db, person))
    return db.scalar(stmt)


def with_goals(db, goals, **subject) -> ResponsibilityLetter:
    """The subject's 2026 letter (all letters of the year drafted first) with these goals."""
    if db.scalar(select(ResponsibilityLetter.id).limit(1)) is None:
        service.draft_all(YEAR, "test")
    letter = letter_of(db, **subject)
    for form in goals:
        service.add_goal(letter, form, letter.version, "test")
        db.flush()
    return letter


def organise(db):
    """The president post and J0004 (孙丽华, sunlihua) overseeing FIN."""
    set_post("president", [user(db, "president").id], "test")
    set_oversight(person_id(db, "J0004"), [unit_id(db, "FIN")], "test")


def set_rules(db, rules):
    row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "corporate-grading"))
    row.settings = {**row.settings, "letter_rules": rules}
    db.flush()


def signed_fin_letter(db) -> ResponsibilityLetter:
    organise(db)
    letter = with_goals(db, FIVE_GOALS, unit="FIN")
    service.sign(letter, "assessed", user(db, "fengzhiqiang"), letter.version, "test")
    db.flush()
    service.sign(letter, "superior", user(db, "sunlihua"), letter.version, "test")
    db.flush()
    return letter


# ----------------------------------------------------------------------------------- drafting

def test_draft_letters_for_every_unit_and_person_once(app):
    with tenant(app) as db:
        units, people = service.draft_all(YEAR, "test")
        assert (units, people) == (17, 60)  # departments and subsidiaries; every class A/B/C person
        assert service.draft_all(YEAR, "test") == (0, 0)  # idempotent
        assert service.draft_all("2027", "test") == (17, 60)  # a letter per year
        assert letter_of(db, unit="FIN").state == "draft" and letter_of(db, unit="FIN").kind == "unit"
        assert db.scalar(select(ResponsibilityLetter).where(ResponsibilityLetter.unit_id == unit_id(db, "HQ"))) is None
        with pytest.raises(LetterError, match="'20x6' is not a year"):
            service.draft_all("20x6", "test")
        db.commit()
        db.add(ResponsibilityLetter(year=YEAR, unit_id=unit_id(db, "FIN"), created_by="test"))
        with pytest.raises(IntegrityError):  # unique per (year, subject)
            db.flush()
        db.rollback()


# ----------------------------------------------------------------------------------- rules and guidance

def test_weights_must_sum_to_exactly_100_percent_before_signing(app):
    with tenant(app) as db:
        organise(db)
        letter = with_goals(db, [q("营业收入", "30"), q("利润", "30"), q("回款", "20"), ql("团队", "15")], unit="FIN")
        checks = service.check(letter, service.goals_of(letter))
        assert checks.total == 95 and not checks.signable
        assert "The weights sum to 95%; they must sum to exactly 100% before the letter is signed." in checks.blocking
        with pytest.raises(LetterError) as refused:
            service.sign(letter, "assessed", user(db, "fengzhiqiang"), letter.version, "test")
        assert any("95%" in p for p in refused.value.problems)
        assert letter.assessed_signed_by is None
        # exact: 33.3333 + 33.3333 + 33.3334 is 100
        other = with_goals(db, [q("a", "33.3333"), q("b", "33.3333"), q("c", "33.3334")], unit="HR")
        assert service.check(other, service.goals_of(other)).total == 100


def test_a_31_percent_goal_warns_or_blocks_as_the_tenant_says(app):
    with tenant(app) as db:
        organise(db)
        letter = with_goals(db, [q("营业收入", "31"), q("利润", "29"), q("回款", "20"), ql("团队", "20")], unit="FIN")
        goals = service.goals_of(letter)
        checks = service.check(letter, goals)
        [(level, message)] = checks.goal_notes[goals[0].id]
        assert level == "warning" and checks.signable
        assert message == "Goal “营业收入”: weight 31% is outside the guidance of 5%–30% per goal."
        assert goals[1].id not in checks.goal_notes
        set_rules(db, "enforce")
        checks = service.check(letter, goals)
        assert checks.goal_notes[goals[0].id] == [("error", message)] and checks.blocking == [message]
        with pytest.raises(LetterError) as refused:
            service.sign(letter, "assessed", user(db, "fengzhiqiang"), letter.version, "test")
        assert refused.value.problems == [message]
        set_rules(db, "warn")
        service.sign(letter, "assessed", user(db, "fengzhiqiang"), letter.version, "test")
        assert letter.assessed_signed_by == user(db, "fengzhiqiang").id


def test_the_31_percent_warning_is_shown_next_to_the_goal(client, auth, app):
    with tenant(app) as db:
        organise(db)
        letter = with_goals(db, [q("营业收入", "31"), q("利润", "29"), q("回款", "20"), ql("团队", "20")], unit="FIN")
        set_rules(db, "enforce")
        db.commit()
        letter_id = letter.id
    auth.login("jituan", "fengzhiqiang")
    page = client.get(f"/t/jituan/corporate/letters/{letter_id}").get_data(as_text=True)
    row = re.search(r'<tr id="goal-\d+">.*?</tr>', page, re.S).group(0)
    assert "营业收入" in row and "31%" in row and "5%–30%" in row and 'class="error"' in row
    assert re.search(r"<button type=\"submit\" disabled>\s*\S", page)  # cannot sign while enforced


def test_a_personal_letter_has_5_to_7_performance_and_2_to_3_development_goals(app):
    with tenant(app) as db:
        goals = [q(f"业绩{i}", "25", goal="performance") for i in range(3)] + [ql("学习", "25", goal="development")]
        letter = with_goals(db, goals, person="J0030")
        checks = service.check(letter, service.goals_of(letter))
        assert checks.signable and [level for level, _m in checks.letter_notes] == ["warning", "warning"]
        assert checks.letter_notes[0][1] == ("3 performance goal(s) (业绩目标); the guidance for a personal letter "
                                             "is 5 to 7.")
        assert checks.letter_notes[1][1].startswith("1 development goal(s) (发展目标)")
        set_rules(db, "enforce")
        assert len(service.check(letter, service.goals_of(letter)).blocking) == 2
        # 5 performance + 2 development goals, each within 5–30%: nothing to say
        right = [q(f"业绩{i}", "15", goal="performance") for i in range(5)] + \
                [ql("学习", "15", goal="development"), ql("带教", "10", goal="development")]
        letter = with_goals(db, right, person="J0029")
        checks = service.check(letter, service.goals_of(letter))
        assert checks.signable and not checks.letter_notes and not checks.goal_notes


@pytest.mark.parametrize("form, personal, field, message", [
    (q("收入", "20", "100", "90"), False, "target", "Target: 90 must be above the threshold 100 (better: higher is better)."),
    (q("费用", "20", "10", "20", better="lower"), False, "target", "Target: 20 must be below the threshold 10"),
    (q("收入", "20", "80", "100", "95"), False, "challenge", "Challenge: 95 must be above the target 100"),
    (q("收入", "20", "80", ""), False, "target", "Target: required for a quantitative goal"),
    (q("收入", "20", "abc", "100"), False, "threshold", "Threshold: 'abc' is not a number"),
    (q("收入", "abc"), False, "weight", "Weight: 'abc' is not a percent; allowed: a number above 0 and at most 100"),
    (q("收入", "0"), False, "weight", "Weight: 0% is outside what is allowed"),
    (q("收入", "101"), False, "weight", "Weight: 101% is outside what is allowed"),
    (q("收入", "12.34567"), False, "weight", "Weight: 12.34567% has more than 4 decimals"),
    (q("", "20"), False, "name", "Goal: required"),
    ({**ql("团队", "20"), "threshold": "3"}, False, "threshold", "Threshold: not used by a qualitative goal"),
    ({**ql("团队", "20"), "kind": "other"}, False, "kind", "Kind: 'other' is not allowed; allowed: quantitative"),
    (q("收入", "20"), True, "goal", "Goal type: '' is not allowed; allowed: performance (业绩目标), development"),
    (q("收入", "20", goal="performance"), False, "goal", "Goal type: a unit letter's goals have no type"),
])
def test_a_bad_goal_is_refused_field_by_field_and_nothing_is_saved(app, form, personal, field, message):
    with tenant(app) as db:
        letter = with_goals(db, [], **({"person": "J0030"} if personal else {"unit": "FIN"}))
        with pytest.raises(LetterError) as refused:
            service.add_goal(letter, form, letter.version, "test")
        assert message in refused.value.errors[field]
        assert service.goals_of(letter) == []


# ----------------------------------------------------------------------------------- signing

def test_who_signs_which_side(app):
    with tenant(app) as db:
        organise(db)
        set_oversight(person_id(db, "J0005"), [unit_id(db, "SUB1")], "test")
        service.draft_all(YEAR, "test")
        fin = letter_of(db, unit="FIN")
        sub1_eng = letter_of(db, unit="SUB1-ENG")
        class_a, class_b, class_c = (letter_of(db, person=n) for n in ("J0004", "J0011", "J0030"))
        u = {name: user(db, name) for name in ("hr", "president", "sunlihua", "zhenghaiyan", "fengzhiqiang",
                                                "tangweimin", "yuanweidong", "employee", "liaosiyuan")}
        expected = {
            (fin, "assessed"): {"fengzhiqiang"},
            (fin, "superior"): {"sunlihua", "president"},
            (sub1_eng, "assessed"): {"yuanweidong"},          # the subsidiary's head answers for its departments
            (sub1_eng, "superior"): {"zhenghaiyan", "president"},  # the subsidiary's leader supervises them
            (class_a, "assessed"): {"sunlihua"},
            (class_a, "superior"): {"president"},
            (class_b, "assessed"): {"fengzhiqiang"},
            (class_b, "superior"): {"sunlihua"},
            (class_c, "assessed"): {"liaosiyuan"},
            (class_c, "superior"): {"fengzhiqiang"},
        }
        for (letter, side), names in expected.items():
            allowed = {name for name, account in u.items() if may_sign_letter(account, letter, side)}
            assert allowed == names, (letter, side)
        # the parties see the letter; others do not (HR and leaders see every letter)
        assert may_view_letter(u["liaosiyuan"], class_c) and may_view_letter(u["fengzhiqiang"], class_c)
        assert not may_view_letter(u["employee"], class_c) and not may_view_letter(u["tangweimin"], fin)
        assert may_view_letter(u["hr"], fin) and may_view_letter(u["zhenghaiyan"], class_c)
        # the year-end scores: the superior side or HR, never the assessed party
        assert may_score_letter(u["sunlihua"], fin) and may_score_letter(u["hr"], fin)
        assert not may_score_letter(u["fengzhiqiang"], fin) and not may_score_letter(u["hr"], letter_of(db, person="J0010"))


def test_signing_on_the_pages_and_a_wrong_signer_gets_403(client, auth, app):
    with tenant(app) as db:
        organise(db)
        letter = with_goals(db, FIVE_GOALS, unit="FIN")
        db.commit()
        letter_id, version = letter.id, letter.version
    url = f"/t/jituan/corporate/letters/{letter_id}/sign"
    auth.login("jituan", "tangweimin")  # heads ENG: not a party of FIN's letter
    assert client.get(f"/t/jituan/corporate/letters/{letter_id}").status_code == 403
    assert client.post(url, data={"side": "assessed", "version": version}).status_code == 403
    auth.logout()
    auth.login("jituan", "fengzhiqiang")
    page = client.get(f"/t/jituan/corporate/letters/{letter_id}").get_data(as_text=True)
    assert 'value="assessed"' in page and 'value="superior"' not in page
    assert client.post(url, data={"side": "superior", "version": version}).status_code == 403
    response = client.post(url, data={"side": "assessed", "version": version}, headers=HTMX)
    assert response.status_code == 200 and "✓" in response.get_data(as_text=True)
    auth.logout()
    auth.login("jituan", "hr")  # HR drafts and edits, but is not a side of the letter
    assert client.post(url, data={"side": "superior", "version": version + 1}).status_code == 403
    auth.logout()
    auth.login("jituan", "sunlihua")
    response = client.post(url, data={"side": "superior", "version": version + 1})
    assert response.status_code == 302
    with tenant(app) as db:
        letter = db.get(ResponsibilityLetter, letter_id)
        assert letter.signed and letter.state == "signed"
        assert letter.assessed_signed_by == user(db, "fengzhiqiang").id and letter.superior_signed_by == user(db, "sunlihua").id
        sides = [row.after["side"] for row in db.scalars(select(AuditLog).where(AuditLog.action == "corp.letter.sign"))]
        assert sides == ["assessed", "superior"]


def test_a_signed_letter_is_locked_and_hr_reopens_it_with_a_reason(client, auth, app):
    with tenant(app) as db:
        letter = signed_fin_letter(db)
        goal = service.goals_of(letter)[0]
        for change in (lambda: service.add_goal(letter, q("新目标", "10"), letter.version, "t"),
                       lambda: service.update_goal(letter, goal, q("改", "20"), letter.version, "t"),
                       lambda: service.delete_goal(letter, goal, letter.version, "t")):
            with pytest.raises(LetterError, match="its goals are locked"):
                change()
        db.commit()
        letter_id, goal_id, version = letter.id, goal.id, letter.version
    auth.login("jituan", "hr")
    response = client.post(f"/t/jituan/corporate/letters/{letter_id}/goals/{goal_id}",
                           data={**q("改", "20"), "version": version}, headers=HTMX)
    assert response.status_code == 422 and "营业收入" in response.get_data(as_text=True)
    page = client.get(f"/t/jituan/corporate/letters/{letter_id}").get_data(as_text=True)
    assert "/reopen" in page and "/delete" not in page
    assert client.post(f"/t/jituan/corporate/letters/{letter_id}/reopen",
                       data={"reason": " ", "version": version}).status_code == 422
    response = client.post(f"/t/jituan/corporate/letters/{letter_id}/reopen",
                           data={"reason": "目标值调整（季度调整已审批）", "version": version})
    assert response.status_code == 302
    with tenant(app) as db:
        letter = db.get(ResponsibilityLetter, letter_id)
        assert letter.state == "draft" and letter.assessed_signed_by is None and letter.superior_signed_by is None
        entry = db.scalar(select(AuditLog).where(AuditLog.action == "corp.letter.reopen"))
        assert entry.after["reason"] == "目标值调整（季度调整已审批）" and entry.before["superior_signed_by"] == user(db, "sunlihua").id
        service.update_goal(letter, db.get(LetterGoal, goal_id), q("营业收入", "20", "90", "100"), letter.version, "t")
        db.commit()
    auth.logout()
    auth.login("jituan", "sunlihua")  # only HR reopens
    with tenant(app) as db:
        letter = db.get(ResponsibilityLetter, letter_id)
        service.sign(letter, "assessed", user(db, "fengzhiqiang"), letter.version, "t")
        service.sign(letter, "superior", user(db, "sunlihua"), letter.version, "t")
        db.commit()
        version = letter.version
    assert client.post(f"/t/jituan/corporate/letters/{letter_id}/reopen",
                       data={"reason": "x", "version": version}).status_code == 403


def test_changing_a_goal_withdraws_a_lone_signature(app):
    with tenant(app) as db:
        organise(db)
        letter = with_goals(db, FIVE_GOALS, unit="FIN")
        service.sign(letter, "assessed", user(db, "fengzhiqiang"), letter.version, "t")
        db.flush()
        service.update_goal(letter, service.goals_of(letter)[0], q("营业收入", "20", "90", "100"), letter.version, "t")
        db.flush()
        assert letter.assessed_signed_by is None and letter.state == "draft"
        assert db.scalar(select(AuditLog.id).where(AuditLog.action == "corp.letter.unsign")) is not None


# ----------------------------------------------------------------------------------- scoring

def test_year_end_scoring_and_the_items_for_the_annual_cycle(app):
    with tenant(app) as db:
        letter = signed_fin_letter(db)
        goals = service.goals_of(letter)
        form = {f"actual-{goals[0].id}": "125", f"actual-{goals[1].id}": "0.9", f"actual-{goals[2].id}": "100",
                f"actual-{goals[3].id}": "0", f"level-{goals[4].id}": "satisfied"}
        with pytest.raises(LetterError) as refused:
            service.set_scores(letter, {**form, f"actual-{goals[1].id}": "九成"}, letter.version, "t")
        assert "Actual of “回款率”: '九成' is not a number" in refused.value.errors[f"actual-{goals[1].id}"]
        with pytest.raises(LetterError) as refused:
            service.set_scores(letter, {**form, f"level-{goals[4].id}": "great"}, letter.version, "t")
        assert "allowed: very_satisfied" in refused.value.errors[f"level-{goals[4].id}"]
        assert all(g.actual is None and g.level is None for g in service.goals_of(letter))  # nothing saved

        partial = {k: v for k, v in form.items() if not k.startswith("level")}
        assert service.set_scores(letter, partial, letter.version, "t") == 4
        db.flush()
        assert letter.state == "signed" and service.letter_target_items(YEAR) == {}  # not every goal scored
        live = service.live_score(service.goals_of(letter))
        assert live.items == {goals[0].id: 5, goals[1].id: 3, goals[2].id: 4, goals[3].id: 4} and live.total is None

        service.set_scores(letter, form, letter.version, "t")
        db.flush()
        assert letter.state == "scored"
        live = service.live_score(service.goals_of(letter))
        # 0.2 × (5 + 3 + 4 + 4 + 4) = 4
        assert live.total == Fraction(4) and live.total_text == "4"

        items = service.letter_target_items(YEAR)
        assert list(items) == [("unit", unit_id(db, "FIN"))]
        assert items[("unit", unit_id(db, "FIN"))] == [
            {"name": "营业收入", "weight": "0.2", "kind": "quantitative", "actual": "125", "threshold": "80",
             "target": "100", "challenge": "120", "better": "higher"},
            {"name": "回款率", "weight": "0.2", "kind": "quantitative", "actual": "0.9", "threshold": "0.85",
             "target": "0.95", "better": "higher"},
            {"name": "管理费用", "weight": "0.2", "kind": "quantitative", "actual": "100", "threshold": "110",
             "target": "100", "better": "lower"},
            {"name": "安全事故", "weight": "0.2", "kind": "quantitative", "actual": "0", "threshold": "2",
             "target": "0", "challenge": "-1", "better": "lower"},
            {"name": "团队建设", "weight": "0.2", "kind": "qualitative", "level": "satisfied"},
        ]
        # the scheme scores these items to the same target score
        scheme, case = build_case({"scheme": "corporate-grading", "period": YEAR, "settings": {}, "units": [
            {"id": "FIN", "kind": "department", "inputs": {"monthly_scores": ["4"],
                                                           "target_items": items[("unit", unit_id(db, "FIN"))]}}]},
                                  get_schemes())
        result = score_case(scheme, case)
        target = next(t for t in result.units[0].breakdown.terms if t.label == "target")
        assert Fraction(target.value) == live.total

        # a personal letter: items carry their goal type; weights stay exact
        personal = [q(f"业绩{i}", "14.2857", goal="performance") for i in range(4)] + \
                   [q("业绩4", "14.2858", goal="performance"), ql("学习", "14.2857", goal="development"),
                    ql("带教", "14.2857", goal="development")]
        person_letter = with_goals(db, personal, person="J0030")
        service.sign(person_letter, "assessed", user(db, "liaosiyuan"), person_letter.version, "t")
        service.sign(person_letter, "superior", user(db, "fengzhiqiang"), person_letter.version, "t")
        db.flush()
        pgoals = service.goals_of(person_letter)
        service.set_scores(person_letter, {**{f"actual-{g.id}": "100" for g in pgoals if g.kind == "quantitative"},
                                           **{f"level-{g.id}": "very_satisfied" for g in pgoals if g.kind == "qualitative"}},
                           person_letter.version, "t")
        db.flush()
        person_items = service.letter_target_items(YEAR)[("person", person_id(db, "J0030"))]
        assert person_items[0]["weight"] == "0.142857" and person_items[4]["weight"] == "0.142858"
        assert [i["goal"] for i in person_items] == ["performance"] * 5 + ["development"] * 2


def test_scoring_on_the_page_shows_the_live_scores(client, auth, app):
    with tenant(app) as db:
        letter = signed_fin_letter(db)
        db.commit()
        letter_id, version = letter.id, letter.version
        goals = service.goals_of(letter)
    url = f"/t/jituan/corporate/letters/{letter_id}/scores"
    auth.login("jituan", "fengzhiqiang")  # the assessed side does not score its own letter
    assert client.post(url, data={f"actual-{goals[0].id}": "125", "version": version}).status_code == 403
    auth.logout()
    auth.login("jituan", "sunlihua")
    response = client.post(url, data={f"actual-{goals[0].id}": "125", "version": version}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'<output id="score-{goals[0].id}">5</output>', body)
    data = {f"actual-{goals[1].id}": "0.9", f"actual-{goals[2].id}": "100", f"actual-{goals[3].id}": "0",
            f"level-{goals[4].id}": "satisfied", "version": version + 1}
    body = client.post(url, data=data, headers=HTMX).get_data(as_text=True)
    assert '<output id="letter-score"><strong>4</strong></output>' in body
    bad = client.post(url, data={f"actual-{goals[1].id}": "x", "version": version + 2}, headers=HTMX)
    assert bad.status_code == 422 and "&#39;x&#39;" in bad.get_data(as_text=True)


# ----------------------------------------------------------------------------------- concurrency

def test_a_concurrent_edit_is_detected(client, auth, app):
    with tenant(app) as db:
        letter = with_goals(db, FIVE_GOALS, unit="FIN")
        db.commit()
        letter_id, version = letter.id, letter.version
        first, second = (g.id for g in service.goals_of(letter)[:2])
        with pytest.raises(LetterError) as stale:
            service.update_goal(letter, db.get(LetterGoal, first), q("营业收入", "20"), version - 1, "t")
        assert stale.value.stale
    auth.login("jituan", "hr")
    base = f"/t/jituan/corporate/letters/{letter_id}/goals"
    ok = client.post(f"{base}/{first}", data={**q("营业收入（含税）", "20"), "version": version}, headers=HTMX)
    assert ok.status_code == 200 and "营业收入（含税）" in ok.get_data(as_text=True)
    # a second editor whose page was loaded before that change
    late = client.post(f"{base}/{second}", data={**q("回款率（年度）", "20", "0.85", "0.95"), "version": version},
                       headers=HTMX)
    assert late.status_code == 409
    for stale_post in (client.post(base, data={**q("新", "5"), "version": version}),
                       client.post(f"{base}/{second}/delete", data={"version": version})):
        assert stale_post.status_code == 409
    with tenant(app) as db:
        names = [g.name for g in service.goals_of(db.get(ResponsibilityLetter, letter_id))]
        assert names == ["营业收入（含税）", "回款率", "管理费用", "安全事故", "团队建设"]


# ----------------------------------------------------------------------------------- pages

def test_hr_drafts_edits_inline_and_sees_every_letter(client, auth, app):
    auth.login("jituan", "hr")
    page = client.get("/t/jituan/corporate/letters?year=2026").get_data(as_text=True)
    assert "/corporate/letters/draft" in page and '<tr id="letter-' not in page
    assert client.post("/t/jituan/corporate/letters/draft", data={"year": "2026"}).status_code == 302
    assert client.post("/t/jituan/corporate/letters/draft", data={"year": "2026"}).status_code == 302  # idempotent
    page = client.get("/t/jituan/corporate/letters?year=2026").get_data(as_text=True)
    assert "77" in page and page.count('<tr id="letter-') == 25  # paginated
    units = client.get("/t/jituan/corporate/letters?year=2026&kind=unit", headers={"HX-Request": "true", "HX-Target": "results"})
    body = units.get_data(as_text=True)
    assert "<html" not in body and body.count('<tr id="letter-') == 17
    found = client.get("/t/jituan/corporate/letters?year=2026&q=J0030").get_data(as_text=True)
    assert found.count('<tr id="letter-') == 1 and "廖思远" in found
    with tenant(app) as db:
        letter = letter_of(db, unit="FIN")
        letter_id, version = letter.id, letter.version
        fin = unit_id(db, "FIN")
    in_fin = client.get(f"/t/jituan/corporate/letters?year=2026&unit_id={fin}").get_data(as_text=True)
    assert in_fin.count('<tr id="letter-') == 6  # the unit's letter and its five people's
    added = client.post(f"/t/jituan/corporate/letters/{letter_id}/goals", data={**q("营业收入", "31"), "version": version},
                        headers=HTMX)
    body = added.get_data(as_text=True)
    assert added.status_code == 200 and "<html" not in body and 'id="weight-total"' in body and "31%" in body
    with tenant(app) as db:
        goal_id = service.goals_of(db.get(ResponsibilityLetter, letter_id))[0].id
    row = client.get(f"/t/jituan/corporate/letters/{letter_id}/goals/{goal_id}/edit",
                     headers={"HX-Request": "true", "HX-Target": f"goal-{goal_id}"}).get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="goal-{goal_id}" class="editing">') and "<html" not in row
    assert f'form="edit-goal-{goal_id}"' in row and 'name="version"' in row
    bad = client.post(f"/t/jituan/corporate/letters/{letter_id}/goals/{goal_id}",
                      data={**q("营业收入", "30", "100", "90"), "version": version + 1}, headers=HTMX)
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'class="editing"' in body and re.search(r'class="error">[^<]*90[^<]*100', body)
    deleted = client.post(f"/t/jituan/corporate/letters/{letter_id}/goals/{goal_id}/delete",
                          data={"version": version + 1}, headers=HTMX)
    assert deleted.status_code == 200 and f'id="goal-{goal_id}"' not in deleted.get_data(as_text=True)


def test_everyone_sees_the_letters_they_are_party_to(client, auth, app):
    with tenant(app) as db:
        service.draft_all(YEAR, "test")
        db.commit()
        own = letter_of(db, person="J0043").id
        fin = letter_of(db, unit="FIN").id
    auth.login("jituan", "employee")
    home = client.get("/t/jituan/").get_data(as_text=True)
    assert "/t/jituan/corporate/letters" in home  # the menu entry for every user
    page = client.get("/t/jituan/corporate/letters?year=2026").get_data(as_text=True)
    assert page.count('<tr id="letter-') == 1 and f"/letters/{own}" in page and "/letters/draft" not in page
    assert client.get(f"/t/jituan/corporate/letters/{own}").status_code == 200
    assert client.get(f"/t/jituan/corporate/letters/{fin}").status_code == 403
    assert client.post("/t/jituan/corporate/letters/draft", data={"year": "2026"}).status_code == 403
    auth.logout()
    auth.login("jituan", "fengzhiqiang")
    page = client.get("/t/jituan/corporate/letters?year=2026").get_data(as_text=True)
    assert page.count('<tr id="letter-') == 6  # FIN's letter and its staff's (his own among them)


def test_an_annual_cycle_links_to_its_letters(client, auth, app):
    from core.cycles import service as cycles

    with tenant(app) as db:
        annual = cycles.create_cycle("corporate-grading", YEAR, "2026年度", {}, "test")
        monthly = cycles.create_cycle("corporate-grading", "2026-09", "九月", {}, "test")
        db.commit()
        annual_id, monthly_id = annual.id, monthly.id
    auth.login("jituan", "hr")
    assert "/corporate/letters?year=2026" in client.get(f"/t/jituan/cycles/{annual_id}").get_data(as_text=True)
    assert "/corporate/letters?year=" not in client.get(f"/t/jituan/cycles/{monthly_id}").get_data(as_text=True)


def test_another_tenants_letters_are_not_found(client, auth, app):
    with tenant(app) as db:
        letter = with_goals(db, FIVE_GOALS, unit="FIN")
        db.commit()
        letter_id, goal_id, version = letter.id, service.goals_of(letter)[0].id, letter.version
    with tenant(app, "xiaoshou") as db:  # give the other tenant the scheme too: 404 comes from tenant scoping
        db.add(TenantScheme(scheme_id="corporate-grading", enabled=True, settings={}))
        db.commit()
    auth.login("xiaoshou", "admin")
    base = f"/t/xiaoshou/corporate/letters/{letter_id}"
    assert client.get("/t/xiaoshou/corporate/letters").status_code == 200
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/goals/{goal_id}/edit").status_code == 404
    for path, data in ((f"{base}/goals", q("x", "10")), (f"{base}/goals/{goal_id}", q("x", "10")),
                       (f"{base}/goals/{goal_id}/delete", {}), (f"{base}/sign", {"side": "assessed"}),
                       (f"{base}/reopen", {"reason": "x"}), (f"{base}/scores", {})):
        assert client.post(path, data={**data, "version": version}).status_code == 404, path
    with tenant(app) as db:
        assert db.get(ResponsibilityLetter, letter_id).version == version
    auth.logout()
    auth.login("zhen", "admin")
    assert client.get("/t/zhen/corporate/letters").status_code == 404  # a tenant without the scheme
