"""An appeal decided "corrected" (更正输入后重新计算): while HR investigates, HR corrects the appealed
person's inputs of the published cycle through the cycle's own input form (?appeal=<id>), each save
audited as a correction naming the appeal; deciding "corrected" scores the whole cycle again from
its stored inputs and updates every result that changed (score, grade, rank, flags, extra), each
score change kept in the score history. On the sales tenant: a rating typed wrong in March lists
the person for training and cuts their pay; the correction gives them back their total, their pay,
takes them off the list and moves a colleague one rank down.

Refusals: not while the appeal is filed or decided, only the appealed subject, only HR, nothing
corrected ("choose upheld"), a stale version; a published cycle without an appeal still refuses edits;
one appeal's corrections at a time in a cycle; a decision on a page loaded before a correction.
An appeal decided upheld or adjusted puts its corrections back as published: they never count."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from core.cycles import after
from core.cycles import service as cycles
from core.audit import record
from core.models import Appeal, AuditLog, Cycle, CycleResult, CycleSubject, Notification, Person, ScoreChange, User
from tests.conftest import AuthActions
from tests.test_cycles import tenant

SLUG = "xiaoshou"
MONTHS = ("2026-01", "2026-02", "2026-03")
# January and February: 李志鹏 (X011, employee) 74.50 (all four ratings 70); everyone else 91.50 (90),
# 陈晓红 (X014) 83.00 (80). March: X011's basic ability typed 37 instead of 87 (80 for the rest):
# 15 + 37 × 0.15 + 80 × 0.20 + 80 × 0.25 + 80 × 0.25 = 76.55 — a third month below 80: training.
# Corrected to 87: 84.05, above X014's 83.00. Pay: 5000 × 1.2 × total / 100.
TYPO = {"basic_ability": "37", "proficiency": "80", "coordination": "80", "service": "80"}
ALL = ("basic_ability", "proficiency", "coordination", "service")


def ratings(value: str) -> dict:
    return {key: value for key in ALL}


def month_ratings(period: str, code: str) -> dict:
    if code == "X011":
        return dict(TYPO) if period == "2026-03" else ratings("70")
    return ratings("80" if code == "X014" else "90")


@pytest.fixture
def march(app) -> dict:
    """January to March published (March just now); X011 has a pay record. Ids of interest."""
    from plugins.sales_attitude.pay.models import PayRecord

    with tenant(app, SLUG) as db:
        x011 = db.scalar(select(Person.id).where(Person.number == "X011"))
        db.add(PayRecord(person_id=x011, base="5000", coefficient="1.2", updated_by="test"))
        db.flush()
        for period in MONTHS:
            cycle = cycles.create_cycle("sales-attitude", period, f"{period} 考评", {}, "test")
            for row in cycles.subjects(cycle):
                if row.kind == "person":
                    cycles.set_inputs(row, cycle, {**(row.inputs or {}), "ratings": month_ratings(period, row.code)},
                                      row.inputs_version, "test")
            cycles.transition(cycle, "open", "test")
            cycles.transition(cycle, "review", "test")
            cycles.compute(cycle, "test")
            cycles.transition(cycle, "published", "test")
        db.commit()
        results = {code: (rid, sid) for code, rid, sid in db.execute(
            select(CycleSubject.code, CycleResult.id, CycleSubject.id)
            .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
            .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == "person"))}
        return {"cycle": cycle.id, "results": {c: r for c, (r, _s) in results.items()},
                "subjects": {c: s for c, (_r, s) in results.items()}}


def as_user(client, username: str | None):
    AuthActions(client).logout(SLUG)
    client.post("/lang", data={"locale": "en"})
    if username:
        assert AuthActions(client).login(SLUG, username).status_code == 302, username
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def result_of(app, march, code: str) -> CycleResult:
    with tenant(app, SLUG) as db:
        row = db.get(CycleResult, march["results"][code])
        db.expunge(row)
        return row


def file_appeal(client, march) -> int:
    as_user(client, "employee")
    response = client.post(f"/t/{SLUG}/results/{march['results']['X011']}/appeal",
                           data={"reason": "三月基础能力评分应为87分,被误录为37分。"})
    assert response.status_code == 302
    return appeal_id(client.application, march)


def appeal_id(app, march) -> int:
    with tenant(app, SLUG) as db:
        return db.scalar(select(Appeal.id).where(Appeal.result_id == march["results"]["X011"]))


def investigate(client, appeal: int) -> None:
    as_user(client, "admin")
    client.post(f"/t/{SLUG}/appeals/{appeal}", data={"action": "investigate", "investigation": "主管确认录入错误。"})


def payroll_url(march) -> str:
    return f"/t/{SLUG}/sales/cycles/{march['cycle']}/payroll"


def decide_form(decision: str, note: str = "按主管更正后的评分重新计算。", **extra) -> dict:
    return {"action": "decide", "decision": decision, "note": note, **extra}


def correction_url(march, appeal: int, code: str = "X011") -> str:
    return f"/t/{SLUG}/cycles/{march['cycle']}/inputs/{march['subjects'][code]}?appeal={appeal}"


def version_of(page: str) -> str:
    return re.search(r'name="inputs_version" value="(\d+)"', page).group(1)


def correction_form(version: str, basic: str = "87") -> dict:
    return {"ratings__basic_ability": basic, "ratings__proficiency": "80", "ratings__coordination": "80",
            "ratings__service": "80", "inputs_version": version}


# ----------------------------------------------------------------------------------- the whole story

def test_a_wrong_rating_is_corrected_and_the_cycle_recomputed(app, client, march):
    before = {code: result_of(app, march, code) for code in ("X011", "X014", "X012")}
    assert str(before["X011"].score) == "76.55" and before["X011"].extra["pay"] == "4593.00"
    assert "training" in before["X011"].flags
    assert str(before["X014"].score) == "83.00" and before["X014"].rank == before["X011"].rank - 1

    appeal = file_appeal(client, march)
    investigate(client, appeal)
    page = text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))
    assert "Correct the inputs" in page and correction_url(march, appeal) in html.unescape(page)
    assert "No input is corrected yet." in page

    form = client.get(correction_url(march, appeal))
    assert form.status_code == 200
    page = text_of(form)
    assert "Correcting the inputs for appeal #%d" % appeal in page
    assert f"?appeal={appeal}" in page  # the form's autosave keeps the correction mode
    saved = client.post(correction_url(march, appeal), data=correction_form(version_of(page)),
                        headers={"HX-Request": "true", "HX-Target": "inputs-form"})
    assert saved.status_code == 200 and "Correction saved" in text_of(saved)
    # nothing changes in the results before the decision
    assert str(result_of(app, march, "X011").score) == "76.55"
    page = text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))
    assert "Inputs corrected for this appeal" in page and "37" in page and "87" in page
    # the payroll says the correction is not in the pay (yet)
    assert 'id="changed-after"' in client.get(payroll_url(march)).get_data(as_text=True)

    as_user(client, "manager")  # a company leader decides
    decided = client.post(f"/t/{SLUG}/appeals/{appeal}", data={"action": "decide", "decision": "corrected",
                                                               "note": "按主管更正后的评分重新计算。"},
                          follow_redirects=True)
    assert "Saved." in text_of(decided)

    now = {code: result_of(app, march, code) for code in ("X011", "X014", "X012")}
    x011 = now["X011"]
    assert str(x011.score) == "84.05" and x011.extra["pay"] == "5043.00" and "training" not in x011.flags
    assert not x011.adjusted  # recomputed from its inputs, not a score typed by hand
    assert now["X014"].rank == before["X014"].rank + 1 and now["X014"].score == before["X014"].score
    assert x011.rank == before["X014"].rank
    # a result that did not change is untouched
    assert now["X012"].computed_at == before["X012"].computed_at and now["X012"].rank == before["X012"].rank

    with tenant(app, SLUG) as db:
        decided = db.get(Appeal, appeal)
        assert (decided.state, decided.decision, str(decided.new_score)) == ("decided", "corrected", "84.05")
        changes = list(db.scalars(select(ScoreChange).where(ScoreChange.result_id == march["results"]["X011"])))
        assert [(str(c.score_before), str(c.score_after)) for c in changes] == [("76.55", "84.05")]
        assert f"appeal #{appeal}" in changes[0].reason and changes[0].actor == "user:manager"
        # X014's score did not change: no score history, but the rank change is audited
        assert db.scalar(select(ScoreChange).where(ScoreChange.result_id == march["results"]["X014"])) is None
        recomputed = db.scalar(select(AuditLog).where(AuditLog.action == "recompute", AuditLog.object_type == "CycleResult",
                                                      AuditLog.object_id == str(march["results"]["X014"])))
        assert recomputed.before["rank"] == before["X014"].rank and recomputed.after["appeal_id"] == appeal
        # the inputs as published are kept in the audit of the correction
        correction = db.scalar(select(AuditLog).where(AuditLog.action == "correct_inputs"))
        assert correction.before["inputs"]["ratings"]["basic_ability"] == "37"
        assert correction.after["inputs"]["ratings"]["basic_ability"] == "87"
        assert correction.after["appeal_id"] == appeal and correction.actor == "user:admin"
        subject = db.get(CycleSubject, march["subjects"]["X011"])
        assert subject.inputs["ratings"]["basic_ability"] == "87" and subject.inputs["pay"]["base"] == "5000"
        employee = db.scalar(select(User.id).where(User.username == "employee"))
        note = db.scalar(select(Notification.message).where(Notification.user_id == employee)
                         .order_by(Notification.id.desc()))
        assert "was decided" in note and "corrected" in note
        cycle = db.get(Cycle, march["cycle"])
        assert cycle.state == "published"
        assert cycle.computed_at == x011.computed_at  # the re-scoring's time: the inputs are in the results

    as_user(client, "employee")
    page = text_of(client.get(f"/t/{SLUG}/results/{march['results']['X011']}"))
    assert "Score history" in page and "76.55 → 84.05" in page and "5043.00" in page
    assert "corrected: inputs corrected and recomputed" in page
    # once decided, the correction mode is closed; the payroll is the corrected one
    as_user(client, "admin")
    assert client.get(correction_url(march, appeal)).status_code == 409
    payroll = client.get(payroll_url(march)).get_data(as_text=True)
    assert 'id="changed-after"' not in payroll and re.search(r"5,?043\.00", payroll)


# ----------------------------------------------------------------------------------- refusals

def test_the_correction_mode_is_refused_outside_its_appeal(app, client, march):
    appeal = file_appeal(client, march)
    as_user(client, "admin")
    filed = client.get(correction_url(march, appeal))  # the appeal is filed, not investigated yet
    assert filed.status_code == 409 and "record the investigation first" in text_of(filed)
    investigate(client, appeal)
    assert client.get(correction_url(march, appeal, "X014")).status_code == 404  # another subject
    assert client.get(f"/t/{SLUG}/cycles/{march['cycle']}/inputs/{march['subjects']['X011']}?appeal=999999").status_code == 404
    assert client.get(f"/t/{SLUG}/cycles/{march['cycle']}/inputs/{march['subjects']['X011']}?appeal=x").status_code == 404
    # "²".isdigit() is true, int("²") fails: an unknown appeal, not a crash
    assert client.get(f"/t/{SLUG}/cycles/{march['cycle']}/inputs/{march['subjects']['X011']}?appeal=²").status_code == 404
    assert client.get(f"/t/{SLUG}/cycles/{march['cycle']}/inputs/{march['subjects']['X011']}?appeal=99999999999999999999").status_code == 404
    superscript = client.post(correction_url(march, appeal), data=correction_form("²"), headers={"HX-Request": "true"})
    assert superscript.status_code == 409 and "did not say which version" in text_of(superscript)
    for username in ("manager", "wanghaijun", "employee"):  # not HR
        as_user(client, username)
        assert client.get(correction_url(march, appeal)).status_code == 403, username
        assert client.post(correction_url(march, appeal), data=correction_form("1")).status_code == 403, username
    # without an appeal, a published cycle's inputs are read-only, as before
    as_user(client, "admin")
    plain = f"/t/{SLUG}/cycles/{march['cycle']}/inputs/{march['subjects']['X011']}"
    version = version_of(text_of(client.get(plain)))
    refused = client.post(plain, data=correction_form(version))
    assert refused.status_code == 409 and "can no longer be changed" in text_of(refused)
    other = client.post(correction_url(march, appeal, "X014"), data=correction_form(version))
    assert other.status_code == 404
    with tenant(app, SLUG) as db:
        assert db.get(CycleSubject, march["subjects"]["X011"]).inputs["ratings"]["basic_ability"] == "37"
        assert db.get(CycleSubject, march["subjects"]["X014"]).inputs["ratings"]["basic_ability"] == "80"
        assert db.scalar(select(AuditLog).where(AuditLog.action == "correct_inputs")) is None


def test_corrected_needs_an_investigation_and_a_real_correction(app, client, march):
    appeal = file_appeal(client, march)
    as_user(client, "admin")
    early = client.post(f"/t/{SLUG}/appeals/{appeal}", data={"action": "decide", "decision": "corrected", "note": "x"},
                        follow_redirects=True)
    assert "only after HR's investigation" in text_of(early)
    investigate(client, appeal)
    nothing = client.post(f"/t/{SLUG}/appeals/{appeal}", data={"action": "decide", "decision": "corrected",
                                                              "note": "无"}, follow_redirects=True)
    assert "were not changed for this appeal" in text_of(nothing) and "choose upheld" in text_of(nothing)
    # a correction put back as published is no correction either
    page = text_of(client.get(correction_url(march, appeal)))
    client.post(correction_url(march, appeal), data=correction_form(version_of(page)))
    page = text_of(client.get(correction_url(march, appeal)))
    stale = client.post(correction_url(march, appeal), data=correction_form(str(int(version_of(page)) - 1), "88"),
                        headers={"HX-Request": "true"})
    assert stale.status_code == 409 and "changed by someone else" in text_of(stale)
    client.post(correction_url(march, appeal), data=correction_form(version_of(page), "37"))
    back = client.post(f"/t/{SLUG}/appeals/{appeal}", data={"action": "decide", "decision": "corrected",
                                                           "note": "无"}, follow_redirects=True)
    assert "were not changed for this appeal" in text_of(back)
    with tenant(app, SLUG) as db:
        assert db.get(Appeal, appeal).state == "investigating"
        assert len(list(db.scalars(select(AuditLog).where(AuditLog.action == "correct_inputs")))) == 2
    assert str(result_of(app, march, "X011").score) == "76.55"
    # adjusting a total with pay stays refused for this scheme; the page says why
    page = text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))
    assert "correct the inputs" in page and 'value="adjusted" disabled' in page


def test_the_service_refuses_corrections_outside_the_appeal(app, march):
    """after.correct_inputs: only while the appeal is investigated, only the appealed subject; and
    derived inputs of a published cycle still do not change outside a correction."""
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, march["cycle"])
        result = db.get(CycleResult, march["results"]["X011"])
        appeal = Appeal(result_id=result.id, filed_by="user:employee", reason="三月基础能力评分有误。", state="filed")
        db.add(appeal)
        db.flush()
        subject = db.get(CycleSubject, result.subject_id)
        with pytest.raises(after.AfterError, match="record the investigation first"):
            after.correct_inputs(appeal, cycle, subject, {"ratings": ratings("90")}, subject.inputs_version, "user:admin")
        appeal.state = "investigating"
        other = db.get(CycleSubject, march["subjects"]["X014"])
        with pytest.raises(after.AfterError, match="not about"):
            after.correct_inputs(appeal, cycle, other, {"ratings": ratings("90")}, other.inputs_version, "user:admin")
        with pytest.raises(cycles.CycleError, match="no longer change"):  # derived inputs outside a correction
            cycles.set_many_inputs(cycle, [(subject, {"ratings": ratings("90")})], "test")
        db.rollback()


def test_derived_inputs_follow_their_records_only_for_the_subject_corrected(app, march):
    """While an appeal re-scores a published cycle, the scheme's refresh may write the appealed
    subject's derived inputs; every other subject keeps its inputs as published."""
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, march["cycle"])
        mine = db.get(CycleSubject, march["subjects"]["X011"])
        other = db.get(CycleSubject, march["subjects"]["X014"])
        changes = [(mine, {**mine.inputs, "note": "x"}), (other, {**other.inputs, "note": "y"})]
        with cycles.correcting(cycle, mine):
            assert cycles.set_many_inputs(cycle, changes, "system:compute") == 1
        db.refresh(mine)
        db.refresh(other)
        assert mine.inputs.get("note") == "x" and "note" not in other.inputs
        db.rollback()


def test_the_appeal_page_explains_the_three_decisions(app, client, march):
    appeal = file_appeal(client, march)
    as_user(client, "manager")
    page = text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))
    assert "Uphold the result" in page and "Adjust the score to" in page and "Corrected: recompute" in page
    assert "Record the investigation first." in page
    assert "Correct the inputs</a>" not in page  # the leader decides; HR corrects
    investigate(client, appeal)
    page = text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))
    assert "Correct the inputs</a>" in page and "No input is corrected yet." in page
    assert 'value="corrected" >' in page and 'value="upheld" required' in page



def test_a_correction_of_the_schemes_own_records_is_followed_for_the_appealed_person(app, client, march):
    """The scheme's records of the appealed person (here a customer praise missing from March) are
    followed when the cycle is re-scored for the appeal: audited as a correction, the total and pay
    follow; other people's inputs stay as published."""
    from datetime import date

    from plugins.sales_attitude.events.models import SalesEvent

    appeal = file_appeal(client, march)
    investigate(client, appeal)
    with tenant(app, SLUG) as db:
        for number in ("X011", "X014"):  # X014's praise is not part of this appeal: not followed
            db.add(SalesEvent(person_id=db.scalar(select(Person.id).where(Person.number == number)),
                              day=date(2026, 3, 9), kind="praise", quantity="1", dedupe_key="2026-03-09|praise",
                              created_by="test"))
        db.commit()
    as_user(client, "admin")
    client.post(f"/t/{SLUG}/appeals/{appeal}", data={"action": "decide", "decision": "corrected",
                                                    "note": "补记三月的顾客表扬。"})
    x011 = result_of(app, march, "X011")
    # 76.55 + 1 point of responsibility × 0.25; pay 5000 × 1.2 × 76.80 / 100
    assert str(x011.score) == "76.80" and x011.extra["pay"] == "4608.00"
    assert str(result_of(app, march, "X014").score) == "83.00"
    with tenant(app, SLUG) as db:
        assert db.get(Appeal, appeal).decision == "corrected"
        entry = db.scalar(select(AuditLog).where(AuditLog.action == "correct_inputs"))
        assert entry.after["derived"] is True and entry.after["inputs"]["events"] == {"praise": "1"}
        assert "events" not in entry.before["inputs"]
        # a derived write does not move the form's version: before and after name the same one
        version = db.get(CycleSubject, march["subjects"]["X011"]).inputs_version
        assert entry.before["inputs_version"] == entry.after["inputs_version"] == version
        assert "events" not in db.get(CycleSubject, march["subjects"]["X014"]).inputs


# ----------------------------------------------------------------------------------- corrections never leak

def test_corrections_of_an_appeal_decided_upheld_are_withdrawn_and_never_counted(app, client, march):
    """A corrects X011's rating (37 → 87) and is then upheld: the inputs go back as published (with
    the time they had, so the payroll does not say they changed), audited; while A's corrections are
    not decided, nobody corrects another appeal of the cycle; B's "corrected" decision later re-scores
    the cycle with X011's inputs as published: X011 keeps 76.55."""
    with tenant(app, SLUG) as db:
        published = db.get(CycleSubject, march["subjects"]["X011"])
        published_at, published_version = published.inputs_updated_at, published.inputs_version
    appeal = file_appeal(client, march)
    investigate(client, appeal)
    page = text_of(client.get(correction_url(march, appeal)))
    assert client.post(correction_url(march, appeal), data=correction_form(version_of(page))).status_code == 302
    as_user(client, "chenxiaohong")
    assert client.post(f"/t/{SLUG}/results/{march['results']['X014']}/appeal",
                       data={"reason": "三月基础能力应为90分,请复核。"}).status_code == 302
    with tenant(app, SLUG) as db:
        other = db.scalar(select(Appeal.id).where(Appeal.result_id == march["results"]["X014"]))
    investigate(client, other)
    blocked = client.get(correction_url(march, other, "X014"))
    assert blocked.status_code == 409
    assert f"Appeal #{appeal} of 李志鹏 has corrected inputs in this cycle that are not decided yet: decide it first." \
        in text_of(blocked)
    page = text_of(client.get(f"/t/{SLUG}/appeals/{other}"))
    assert f"Appeal #{appeal} of 李志鹏" in page and "Correct the inputs</a>" not in page
    page = text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))
    assert "the inputs corrected for this appeal are put back as they were published" in page

    as_user(client, "manager")
    upheld = client.post(f"/t/{SLUG}/appeals/{appeal}", data=decide_form("upheld", "评分无误,维持原结果。"),
                         follow_redirects=True)
    assert "Saved." in text_of(upheld)
    with tenant(app, SLUG) as db:
        subject = db.get(CycleSubject, march["subjects"]["X011"])
        assert subject.inputs["ratings"]["basic_ability"] == "37" and subject.inputs["pay"]["base"] == "5000"
        assert subject.inputs_version == published_version + 2  # corrected, then put back: open forms are stale
        assert subject.inputs_updated_at == published_at
        withdrawn = db.scalar(select(AuditLog).where(AuditLog.action == after.WITHDRAWAL_ACTION))
        assert withdrawn.before["inputs"]["ratings"]["basic_ability"] == "87"
        assert withdrawn.after["inputs"]["ratings"]["basic_ability"] == "37"
        assert withdrawn.after["reason"] == "correction withdrawn: appeal decided upheld"
        assert withdrawn.after["appeal_id"] == appeal and withdrawn.actor == "user:manager"
        assert db.get(Appeal, appeal).decision == "upheld"
    assert str(result_of(app, march, "X011").score) == "76.55"
    as_user(client, "admin")
    assert 'id="changed-after"' not in client.get(payroll_url(march)).get_data(as_text=True)

    # now B's corrections may start; its decision re-scores the cycle with X011's inputs as published
    page = text_of(client.get(correction_url(march, other, "X014")))
    assert client.post(correction_url(march, other, "X014"),
                       data=correction_form(version_of(page), "90")).status_code == 302
    as_user(client, "manager")
    client.post(f"/t/{SLUG}/appeals/{other}", data=decide_form("corrected"))
    # 15 + 90 × 0.15 + 80 × 0.20 + 80 × 0.25 + 80 × 0.25
    assert str(result_of(app, march, "X014").score) == "84.50"
    x011 = result_of(app, march, "X011")
    assert str(x011.score) == "76.55" and x011.extra["pay"] == "4593.00" and "training" in x011.flags
    with tenant(app, SLUG) as db:
        assert db.get(Appeal, other).decision == "corrected"
        assert db.scalar(select(ScoreChange).where(ScoreChange.result_id == march["results"]["X011"])) is None


def test_an_adjusted_decision_withdraws_the_corrections_too(app, march, monkeypatch):
    monkeypatch.setattr(after, "adjust_refused", lambda cycle, result: None)  # the sales scheme refuses it
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, march["cycle"])
        result = db.get(CycleResult, march["results"]["X011"])
        subject = db.get(CycleSubject, result.subject_id)
        appeal = Appeal(result_id=result.id, filed_by="user:employee", reason="三月基础能力评分有误。",
                        state="investigating")
        db.add(appeal)
        db.flush()
        after.correct_inputs(appeal, cycle, subject, {**subject.inputs, "ratings": ratings("90")},
                             subject.inputs_version, "user:admin")
        after.decide(appeal, cycle, "adjusted", "80", "酌情调整。", "user:manager", [])
        db.refresh(subject)
        assert subject.inputs["ratings"] == TYPO
        assert str(result.score) == "80.00" and result.adjusted
        withdrawn = db.scalar(select(AuditLog).where(AuditLog.action == after.WITHDRAWAL_ACTION))
        assert withdrawn.after["decision"] == "adjusted" and withdrawn.after["inputs"]["ratings"] == TYPO
        db.rollback()


def test_corrected_is_refused_while_another_appeal_has_corrections_not_decided(app, march):
    """One appeal's corrections at a time in a cycle (a re-scoring reads all its inputs): B's
    correction first refuses A's; corrections made before that rule (written here as the old code
    did) refuse B's "corrected" decision until A is decided — upheld, its corrections withdrawn."""
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, march["cycle"])
        x011 = db.get(CycleSubject, march["subjects"]["X011"])
        x014 = db.get(CycleSubject, march["subjects"]["X014"])
        a, b = (Appeal(result_id=march["results"][code], filed_by="test", reason="三月评分有误,请复核。",
                       state="investigating") for code in ("X011", "X014"))
        db.add_all([a, b])
        db.flush()
        after.correct_inputs(b, cycle, x014, {**x014.inputs, "ratings": {**ratings("80"), "basic_ability": "90"}},
                             x014.inputs_version, "user:admin")
        with pytest.raises(after.AfterError, match=f"Appeal #{b.id} of 陈晓红 .*decide it first"):
            after.correct_inputs(a, cycle, x011, {**x011.inputs, "ratings": ratings("80")}, x011.inputs_version,
                                 "user:admin")
        published = dict(x011.inputs)
        corrected = {**published, "ratings": {**TYPO, "basic_ability": "87"}}
        version = cycles.write_inputs(x011, corrected, x011.inputs_version, "user:admin")
        record(after.CORRECTION_ACTION, x011, before={"inputs": published, "inputs_version": version - 1},
               after={"inputs": corrected, "inputs_version": version, "appeal_id": a.id, "result_id": a.result_id},
               actor="user:admin")
        with pytest.raises(after.AfterError, match=f"Appeal #{a.id} of 李志鹏 .*decide it first"):
            after.decide(b, cycle, "corrected", None, "更正。", "user:manager", [])
        after.decide(a, cycle, "upheld", None, "维持。", "user:manager", [])
        after.decide(b, cycle, "corrected", None, "更正。", "user:manager", [])
        assert str(db.get(CycleResult, march["results"]["X014"]).score) == "84.50"
        assert str(db.get(CycleResult, march["results"]["X011"]).score) == "76.55"
        db.refresh(x011)
        assert x011.inputs["ratings"] == TYPO
        db.rollback()


# ----------------------------------------------------------------------------------- one at a time

def test_a_decision_on_a_page_loaded_before_a_correction_is_refused(app, client, march, monkeypatch):
    """A correction moves the appeal's version on: the leader's page, loaded before it, shows other
    inputs than those the decision would count, so its decision is refused (409) until reloaded."""
    from sqlalchemy.orm.exc import StaleDataError

    appeal = file_appeal(client, march)
    investigate(client, appeal)
    as_user(client, "manager")
    loaded = re.search(r'name="version" value="(\d+)"', text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))).group(1)
    as_user(client, "admin")
    page = text_of(client.get(correction_url(march, appeal)))

    def raced(*args, **kwargs):
        raise StaleDataError("appeal")
    with monkeypatch.context() as patch:  # saved at the same moment as someone else's change of the appeal
        patch.setattr(after, "correct_inputs", raced)
        refused = client.post(correction_url(march, appeal), data=correction_form(version_of(page)),
                              headers={"HX-Request": "true"})
        assert refused.status_code == 409 and "changed this appeal at the same moment" in text_of(refused)
    assert client.post(correction_url(march, appeal), data=correction_form(version_of(page))).status_code == 302

    as_user(client, "manager")
    for version in (loaded, "²"):
        stale = client.post(f"/t/{SLUG}/appeals/{appeal}", data=decide_form("corrected", version=version))
        assert stale.status_code == 409, version
        assert "This appeal changed since you opened it" in text_of(stale)
    assert str(result_of(app, march, "X011").score) == "76.55"
    with tenant(app, SLUG) as db:
        assert db.get(Appeal, appeal).state == "investigating"
        assert db.get(Appeal, appeal).version == int(loaded) + 1
    fresh = re.search(r'name="version" value="(\d+)"', text_of(client.get(f"/t/{SLUG}/appeals/{appeal}"))).group(1)
    assert client.post(f"/t/{SLUG}/appeals/{appeal}", data=decide_form("corrected", version=fresh)).status_code == 302
    assert str(result_of(app, march, "X011").score) == "84.05"


def test_a_correction_and_a_decision_hold_the_cycles_row(app, march):
    """A correction and a decision lock the cycle's row first (PostgreSQL; SQLite writes one at a
    time): the one waits for the other, and then sees what it committed."""
    from sqlalchemy import text as sql
    from sqlalchemy.exc import OperationalError

    engine = app.extensions["jixiao.engine"]
    postgresql = engine.dialect.name == "postgresql"

    def held() -> bool:
        with engine.connect() as other:
            try:
                other.execute(sql("SELECT id FROM cycle WHERE id = :id FOR UPDATE NOWAIT"), {"id": march["cycle"]})
            except OperationalError:
                return True
            finally:
                other.rollback()
        return False

    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, march["cycle"])
        result = db.get(CycleResult, march["results"]["X011"])
        subject = db.get(CycleSubject, result.subject_id)
        appeal = Appeal(result_id=result.id, filed_by="user:employee", reason="三月基础能力评分有误。",
                        state="investigating")
        db.add(appeal)
        db.commit()
        version = appeal.version
        if postgresql:
            assert not held()
        after.correct_inputs(appeal, cycle, subject, {**subject.inputs, "ratings": {**TYPO, "basic_ability": "87"}},
                             subject.inputs_version, "user:admin")
        if postgresql:
            assert held()
        db.commit()
        assert db.get(Appeal, appeal.id).version == version + 1
        if postgresql:
            assert not held()
        with pytest.raises(after.StaleAppeal):  # decided on what was shown before the correction
            after.decide(appeal, cycle, "corrected", None, "更正。", "user:manager", [], version=version)
        if postgresql:
            assert held()
        db.rollback()
        after.decide(appeal, cycle, "upheld", None, "维持。", "user:manager", [], version=version + 1)
        if postgresql:
            assert held()
        db.rollback()
