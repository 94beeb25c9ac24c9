"""The sales scheme's competence lists and improvement plans (plugins/sales_attitude/competence/):
real listings from successive published months (training at 3 months below 80, transfer at 3 below
70, a month below 80 only because of personal leave not counted), the lists and the year's overview
as the results computed them (equal to `jixiao score` on the exported case), plans opened from a
listing with their validation, optimistic locking, notes and the final evaluation with each HR
decision, a training plan putting the month's pay at 80%, and who may see what."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, Person, User
from plugins.sales_attitude import derived
from plugins.sales_attitude.competence import service
from plugins.sales_attitude.competence.models import ImprovementPlan, PlanNote
from plugins.sales_attitude.competence.service import PlanError
from tests.conftest import AuthActions
from tests.test_cycles import tenant

SLUG = "xiaoshou"
BASE = f"/t/{SLUG}/sales"
MONTHS = ("2026-01", "2026-02", "2026-03")
HTMX = {"HX-Request": "true", "HX-Target": "plan"}
# No events: total = 100 × 0.15 + rating × 0.85 (the four ratings alike).
RATING = "90"            # 91.50 for everyone else
LOW = ("X011", "70")     # 李志鹏 (employee, S1): 74.50 → training at the third month
LOWER = ("X022", "60")   # 曾伟 (zengwei, S2): 66.00 → training and transfer (3 below 70)
LEAVE = ("X014", "78")   # 陈晓红 (chenxiaohong, S1): 81.30, with 10 days of personal leave 79.80: not counted


def ratings(value: str) -> dict:
    return {key: value for key in ("basic_ability", "proficiency", "coordination", "service")}


def person_id(db, number: str) -> int:
    return db.scalar(select(Person.id).where(Person.number == number))


def add_leave(db, number: str, period: str, days: str = "10") -> None:
    from plugins.sales_attitude.events.models import SalesEvent

    day = date(int(period[:4]), int(period[5:]), 5)
    db.add(SalesEvent(person_id=person_id(db, number), day=day, kind="personal_leave_days", quantity=days,
                      dedupe_key=f"{day}|personal_leave_days", created_by="test"))
    db.flush()
    derived.refresh_people([person_id(db, number)], "test")


def open_month(db, period: str) -> Cycle:
    """A month's cycle, open, with every person's ratings (the three people's low ones) and the
    leave of LEAVE's person."""
    add_leave(db, LEAVE[0], period)
    cycle = cycles.create_cycle("sales-attitude", period, f"{period} 考评", {}, "test")
    special = dict((LOW, LOWER, LEAVE))
    for row in cycles.subjects(cycle):
        if row.kind == "person":
            cycles.set_inputs(row, cycle, {**(row.inputs or {}), "ratings": ratings(special.get(row.code, RATING))},
                              row.inputs_version, "test")
    cycles.transition(cycle, "open", "test")
    return cycle


def publish(db, cycle: Cycle) -> None:
    cycles.transition(cycle, "review", "test")
    cycles.compute(cycle, "test")
    cycles.transition(cycle, "published", "test")


def listed_months(app) -> dict[str, int]:
    """January to March published; the ids of the months' cycles."""
    ids = {}
    with tenant(app, SLUG) as db:
        for period in MONTHS:
            cycle = open_month(db, period)
            publish(db, cycle)
            ids[period] = cycle.id
        db.commit()
    return ids


def as_user(client, username: str | None):
    AuthActions(client).logout(SLUG)
    client.post("/lang", data={"locale": "en"})  # the English messages are asserted
    if username:
        AuthActions(client).login(SLUG, username)
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flags_of(db, cycle_id: int) -> dict[str, list[str]]:
    return {code: flags for code, flags in db.execute(
        select(CycleSubject.code, CycleResult.flags).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
        .where(CycleResult.cycle_id == cycle_id, CycleSubject.kind == "person"))}


# ----------------------------------------------------------------------------------- the lists

def test_the_lists_are_the_computed_listings(app, client):
    ids = listed_months(app)
    with tenant(app, SLUG) as db:
        march = db.get(Cycle, ids["2026-03"])
        found = service.listings(march)
        assert [r.number for r in found.training] == ["X011", "X022"]
        assert [r.number for r in found.transfer] == ["X022"]
        training = found.training[0]
        assert training.score == "74.50" and training.unit_name == "销售一部"
        assert [(m.period, m.score) for m in training.months] == [("2026-01", "74.50"), ("2026-02", "74.50"),
                                                                 ("2026-03", "74.50")]
        transfer = found.transfer[0]
        assert {r.key: (len(r.months), r.needed, r.met) for r in transfer.rules} == {
            "below 80": (3, 5, False), "below 70": (3, 3, True)}
        assert [m.period for m in transfer.months] == list(MONTHS)
        # the leave months are not counted, and shown as such
        assert [(r.number, r.kinds) for r in found.leave_only] == [("X014", ["training", "transfer"])]
        leave = found.leave_only[0].leave
        assert [(m.period, m.score, m.without) for m in leave] == [(p, "79.80", "81.30") for p in MONTHS]
        # earlier months list nobody yet: the rules need three months
        assert service.listings(db.get(Cycle, ids["2026-02"])).people == 0
        # the page's lists are the flags `jixiao score` gives on the exported case
        from core.plugins import get_schemes
        from core.scoring import score_case
        from core.scoring.case import build_case

        result = score_case(*build_case(cycles.case_of(march), get_schemes()))
        cli = {p.id: sorted(f for f in p.flags if f in ("training", "transfer")) for p in result.people}
        stored = {code: sorted(f for f in flags if f in ("training", "transfer"))
                  for code, flags in flags_of(db, march.id).items()}
        assert cli == stored
        assert {code for code, f in cli.items() if "training" in f} == {r.number for r in found.training}
        assert {code for code, f in cli.items() if "transfer" in f} == {r.number for r in found.transfer}

    as_user(client, "admin")
    page = text_of(client.get(f"{BASE}/cycles/{ids['2026-03']}/competence"))
    training = page[page.index('id="table-training"'):page.index('id="list-transfer"')]
    assert "X011" in training and "X022" in training and "X014" not in training
    assert "below 70: 3 of 3 month(s)" in page and "2026-03 <span class=\"muted\">74.50</span>" in page
    leave = page[page.index('id="table-leave"'):]
    assert "X014" in leave and "2026-02: 79.80, 81.30 without personal leave — not counted" in leave
    assert "Open an improvement plan" in page and "Provisional" not in page
    assert f"/sales/plans/new?person=" in page
    cycle_page = text_of(client.get(f"/t/{SLUG}/cycles/{ids['2026-03']}"))
    assert "Competence lists (2)" in cycle_page
    assert "Competence lists (0)" in text_of(client.get(f"/t/{SLUG}/cycles/{ids['2026-01']}"))


def test_the_overview_shows_the_latest_lists_and_the_year(app, client):
    ids = listed_months(app)
    with tenant(app, SLUG) as db:
        april = open_month(db, "2026-04")
        publish(db, april)
        db.commit()
        cycles_, people = service.year_history("2026")
        assert [c.period for c in cycles_] == ["2026-01", "2026-02", "2026-03", "2026-04"]
        by_number = {p.number: p for p in people}
        assert set(by_number) == {"X011", "X022"}
        assert {m: kinds for m, (kinds, _r) in by_number["X022"].months.items()} == {
            "2026-03": ["training", "transfer"], "2026-04": ["training", "transfer"]}
        assert by_number["X011"].count == {"training": 2, "transfer": 0}
        s2 = {db.scalar(select(Person.unit_id).where(Person.number == "X022"))}
        assert [p.number for p in service.year_history("2026", s2)[1]] == ["X022"]
    as_user(client, "manager")
    page = text_of(client.get(f"{BASE}/competence"))
    assert "Latest published month: 2026-04" in page and "Listings of 2026" in page
    assert 'id="person-' in page and "Open an improvement plan" not in page  # leaders read, HR opens plans
    assert "No month of 2025 is published yet." in text_of(client.get(f"{BASE}/competence?year=2025"))
    as_user(client, "zhanglijuan")  # S2's head: her people only
    page = text_of(client.get(f"{BASE}/competence"))
    assert "X022" in page and "X011" not in page and "X014" not in page


# ----------------------------------------------------------------------------------- opening a plan

def new_url(db, number: str, kind: str, cycle_id: int) -> str:
    return f"{BASE}/plans/new?person={person_id(db, number)}&kind={kind}&cycle={cycle_id}"


def plan_form(db, number: str, kind: str, cycle_id: int, **changes) -> dict:
    owner = db.scalar(select(User.id).where(User.username == ("wanghaijun" if number != "X022" else "zhanglijuan")))
    form = {"person": str(person_id(db, number)), "cycle": str(cycle_id), "kind": kind,
            "goals": "三个月内客户投诉为零；服务规范评分达到85分以上", "actions": "每周跟岗辅导一次；参加服务规范培训",
            "owner_id": str(owner), "start_month": "2026-04", "end_month": "2026-05"}
    form.update(changes)
    return form


def plans_count(app) -> int:
    with tenant(app, SLUG) as db:
        return len(db.scalars(select(ImprovementPlan.id)).all())


def test_hr_opens_a_plan_from_a_listing_with_every_field_checked(app, client):
    ids = listed_months(app)
    march = ids["2026-03"]
    with tenant(app, SLUG) as db:
        url = new_url(db, "X011", "training", march)
        good = plan_form(db, "X011", "training", march)
        employee = db.scalar(select(User.id).where(User.username == "employee"))
        wang = db.scalar(select(User.id).where(User.username == "wanghaijun"))
        leave_url = new_url(db, "X014", "training", march)
        february_url = new_url(db, "X011", "training", ids["2026-02"])
    as_user(client, "admin")
    page = text_of(client.get(url))
    assert "the listing of 2026-03" in page and "2026-01, 2026-02, 2026-03" in page
    assert f'<option value="{wang}" selected>' in page  # the person's unit head by default
    assert 'name="start_month" type="month" value="2026-04"' in page and 'value="2026-06"' in page

    refusals = [
        ({"goals": " "}, "goals", "Goals: required; allowed: 1 to 4000 characters."),
        ({"start_month": "2026-02"}, "start_month",
         "Start month: 2026-02 is before 2026-03, the month of the listing; allowed: 2026-03 or later."),
        ({"start_month": "April"}, "start_month", "Start month: 'April' is not a month; allowed: YYYY-MM"),
        ({"end_month": "2026-09"}, "end_month", "End month: 2026-09 makes a training period of 6 months; allowed: "
                                                "1 to 3 months (schemes.md: training of 1–3 months), so from 2026-04 "
                                                "to 2026-06 at the latest."),
        ({"end_month": "2026-03"}, "end_month", "End month: 2026-03 is before the start month 2026-04"),
        ({"owner_id": str(employee)}, "owner_id", "Owner: 李志鹏 is the person the plan is for"),
        ({"owner_id": "99999"}, "owner_id", "Owner: '99999' is not an active account of this organisation"),
        ({"owner_id": "99999999999"}, "owner_id", "Owner: '99999999999' is not an active account"),
        ({"kind": "transfer"}, "kind", "Kind: 'transfer' is not allowed; allowed: training (培训对象) (what the "
                                       "listing of 2026-03 names)."),
        ({"start_month": "2026-03"}, "start_month", "this would change the training period in 2026-03, which is "
                                                    "published: its pay no longer changes"),
    ]
    for change, field, message in refusals:
        response = client.post(f"{BASE}/plans/new", data={**good, **change})
        body = text_of(response)
        assert response.status_code == 422, (change, body[:300])
        assert message in body, (change, re.findall(r'<ul class="errors"><li>(.*?)</li>', body))
        assert "Not saved: correct the fields marked below." in body
    assert plans_count(app) == 0  # nothing written on a bad input

    response = client.post(f"{BASE}/plans/new", data=good)
    assert response.status_code == 302
    plan_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, plan_id)
        assert (plan.kind, plan.period, plan.listed_months, plan.owner_id, plan.start_month, plan.end_month,
                plan.state) == ("training", "2026-03", list(MONTHS), wang, "2026-04", "2026-05", "open")
        audit = db.scalar(select(AuditLog).where(AuditLog.object_type == "ImprovementPlan"))
        assert audit.action == "sales.plan.create" and audit.actor == "user:admin" and audit.after["cycle_id"] == march
    again = client.post(f"{BASE}/plans/new", data=good)
    assert again.status_code == 409 and f"already has an open training (培训对象) plan (#{plan_id})" in text_of(again)
    assert plans_count(app) == 1
    lists = text_of(client.get(f"{BASE}/cycles/{march}/competence"))
    assert f"Plan #{plan_id} (open)" in lists
    not_listed = client.get(leave_url)
    assert not_listed.status_code == 422 and "陈晓红 (X014) is not listed for training or transfer in 2026-03." in text_of(not_listed)
    assert client.get(february_url).status_code == 422  # February listed nobody
    assert client.get(f"{BASE}/plans/new?person=99999&kind=training&cycle={march}").status_code == 404
    assert client.get(f"{BASE}/plans/new?person=99999999999&kind=training&cycle={march}").status_code == 404
    assert client.get(f"{BASE}/plans/new?person={good['person']}&kind=training&cycle=99999").status_code == 404


def open_plan(app, number: str = "X011", kind: str = "training", cycle_id: int | None = None, **changes) -> int:
    """A plan opened by HR through the service (the web form is tested above)."""
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, cycle_id) if cycle_id else service.latest_published_cycle()
        person = db.get(Person, person_id(db, number))
        source = service.source_from_listing(cycle, person)
        plan = service.create_plan(person, source, plan_form(db, number, kind, cycle.id, **changes), "user:admin")
        db.commit()
        return plan.id


def pay_of(db, cycle: Cycle, number: str) -> str:
    return db.scalar(select(CycleResult.extra).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                     .where(CycleResult.cycle_id == cycle.id, CycleSubject.code == number))["pay"]


def test_a_training_plan_is_the_training_period_at_80_percent_pay(app, client):
    from plugins.sales_attitude.pay.models import PayRecord

    listed_months(app)
    with tenant(app, SLUG) as db:
        april = open_month(db, "2026-04")
        for number in ("X011", "X022"):
            db.add(PayRecord(person_id=person_id(db, number), base="5000", coefficient="1.2", updated_by="test"))
        db.flush()
        derived.refresh_people([person_id(db, "X011"), person_id(db, "X022")], "test")
        cycles.compute(april, "test")
        assert pay_of(db, april, "X011") == "4470.00"  # 5000 × 1.2 × 74.50 / 100
        db.commit()
        april_id = april.id
    plan_id = open_plan(app)  # 2026-04 to 2026-05
    with tenant(app, SLUG) as db:
        april = db.get(Cycle, april_id)
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == april_id, CycleSubject.code == "X011"))
        assert subject.inputs["training"] is True  # the open month follows the plan at once
        cycles.compute(april, "test")
        assert pay_of(db, april, "X011") == "3576.00"  # × 80%
        assert pay_of(db, april, "X022") == "3960.00"  # no plan: 5000 × 1.2 × 66.00 / 100
        db.commit()

    as_user(client, "admin")
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    pay = page[page.index('id="pay-months"'):]
    assert "Pay at 80%" in page and "2026-04" in pay[:200] and "2026-05" in pay[:300]
    as_user(client, "wanghaijun")  # the unit head sees the dates, not the pay
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    assert "2026-04 – 2026-05" in page and "Pay at" not in page and "80%" not in page

    # moved to start in May: April's pay is whole again
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, plan_id)
        service.update_plan(plan, {**plan_form(db, "X011", "training", 0), "start_month": "2026-05",
                                   "end_month": "2026-06"}, plan.version, "user:admin")
        april = db.get(Cycle, april_id)
        cycles.compute(april, "test")
        assert pay_of(db, april, "X011") == "4470.00"
        service.update_plan(plan, plan_form(db, "X011", "training", 0), plan.version, "user:admin")  # back to April
        cycles.compute(april, "test")
        assert pay_of(db, april, "X011") == "3576.00"
        cycles.transition(april, "review", "test")
        cycles.compute(april, "test")
        cycles.transition(april, "published", "test")
        db.commit()
        # April is published: its pay no longer changes
        with pytest.raises(PlanError) as info:
            service.update_plan(plan, {**plan_form(db, "X011", "training", 0), "start_month": "2026-05"},
                                plan.version, "user:admin")
        assert "this would change the training period in 2026-04, which is published" in info.value.errors["start_month"]
        db.rollback()
        plan = db.get(ImprovementPlan, plan_id)
        with pytest.raises(PlanError) as info:  # an evaluation in March would take April out
            service.close_plan(plan, {"outcome": "passed", "decision": "return_to_post", "evaluation": "合格",
                                      "evaluated_on": "2026-03-20"}, plan.version, "user:admin")
        assert "2026-04, which is published" in info.value.errors["evaluated_on"]
        db.rollback()
        plan = db.get(ImprovementPlan, plan_id)
        # evaluated in April: the training period ends with April, May is paid in full
        service.close_plan(plan, {"outcome": "passed", "decision": "return_to_post", "evaluation": "合格",
                                  "evaluated_on": "2026-04-28"}, plan.version, "user:admin")
        db.commit()
        assert service.plan_training_months(plan) == ["2026-04"]
        may = open_month(db, "2026-05")
        assert "training" not in db.scalar(select(CycleSubject.inputs).where(
            CycleSubject.cycle_id == may.id, CycleSubject.code == "X011"))
        db.rollback()


# ----------------------------------------------------------------------------------- editing, notes

def test_editing_a_plan_with_optimistic_locking(app, client):
    listed_months(app)
    plan_id = open_plan(app)
    with tenant(app, SLUG) as db:
        form = plan_form(db, "X011", "training", 0)
        version = db.get(ImprovementPlan, plan_id).version
    as_user(client, "admin")
    page = text_of(client.get(f"{BASE}/plans/{plan_id}/edit"))
    assert f'name="version" value="{version}"' in page and "三个月内客户投诉为零" in page
    saved = client.post(f"{BASE}/plans/{plan_id}/edit", data={**form, "goals": "投诉为零", "version": str(version)})
    assert saved.status_code == 302
    # a second editor still holds the old version: 409, the entries kept, nothing saved
    stale = client.post(f"{BASE}/plans/{plan_id}/edit", data={**form, "goals": "另一个目标", "version": str(version)})
    body = text_of(stale)
    assert stale.status_code == 409 and "The plan was changed by someone else since this page was loaded" in body
    assert "另一个目标" in body
    bad = client.post(f"{BASE}/plans/{plan_id}/edit", data={**form, "end_month": "2026-12", "version": str(version + 1)})
    assert bad.status_code == 422 and "End month: 2026-12 makes a training period of 9 months" in text_of(bad)
    htmx = client.post(f"{BASE}/plans/{plan_id}/edit", headers={"HX-Request": "true", "HX-Target": "plan-form"},
                       data={**form, "goals": "", "version": str(version + 1)})
    assert htmx.status_code == 422 and "<html" not in htmx.get_data(as_text=True)
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, plan_id)
        assert plan.goals == "投诉为零" and plan.version == version + 1 and plan.end_month == "2026-05"
        edits = db.scalars(select(AuditLog).where(AuditLog.action == "sales.plan.edit")).all()
        assert [(e.before, e.after) for e in edits] == [({"goals": form["goals"]}, {"goals": "投诉为零"})]
    with tenant(app, SLUG) as db:  # the service refuses a stale version too
        plan = db.get(ImprovementPlan, plan_id)
        with pytest.raises(PlanError, match="changed by someone else") as info:
            service.update_plan(plan, form, version, "user:admin")
        assert info.value.stale and info.value.status == 409


def test_progress_notes_by_hr_the_owner_and_the_unit_head(app, client):
    listed_months(app)
    plan_id = open_plan(app)
    with tenant(app, SLUG) as db:
        zhang = db.scalar(select(User.id).where(User.username == "zhanglijuan"))
    url = f"{BASE}/plans/{plan_id}/notes"
    as_user(client, "wanghaijun")  # S1's head and the owner
    added = client.post(url, headers=HTMX, data={"day": "2026-04-10", "note": "第一周跟岗：服务用语已规范"})
    body = text_of(added)
    assert added.status_code == 200 and "<html" not in body and "Progress note added." in body
    assert "2026-04-10" in body and "第一周跟岗：服务用语已规范" in body
    bad = client.post(url, headers=HTMX, data={"day": "2026-13-01", "note": ""})
    body = text_of(bad)
    assert bad.status_code == 422 and "Date: '2026-13-01' is not a date; allowed: YYYY-MM-DD." in body
    assert "Progress note: required; allowed: 1 to 2000 characters." in body
    future = client.post(url, data={"day": "2999-01-01", "note": "x"})
    assert future.status_code == 422 and "is after today" in text_of(future)
    as_user(client, "admin")
    assert client.post(url, data={"day": "2026-04-20", "note": "HR 复核"}).status_code == 302
    for username in ("employee", "zhanglijuan", "zengwei", "manager"):  # the person reads, never writes
        as_user(client, username)
        assert client.post(url, data={"day": "2026-04-21", "note": "x"}).status_code == 403, username
    with tenant(app, SLUG) as db:  # an owner outside the circle (set behind the portal's back) gains nothing
        plan = db.get(ImprovementPlan, plan_id)
        plan.owner_id = zhang
        manager = db.scalar(select(User.id).where(User.username == "manager"))
        db.commit()
    as_user(client, "zhanglijuan")
    assert client.get(f"{BASE}/plans/{plan_id}").status_code == 403
    assert client.post(url, data={"day": "2026-04-22", "note": "跨部门辅导"}).status_code == 403
    assert f'id="plan-{plan_id}"' not in text_of(client.get(f"{BASE}/plans"))
    with tenant(app, SLUG) as db:  # a company leader as the owner notes too
        plan = db.get(ImprovementPlan, plan_id)
        plan.owner_id = manager
        db.commit()
    as_user(client, "manager")
    assert client.post(url, data={"day": "2026-04-22", "note": "领导跟进"}).status_code == 302
    with tenant(app, SLUG) as db:
        notes = db.scalars(select(PlanNote).where(PlanNote.plan_id == plan_id).order_by(PlanNote.id)).all()
        assert [(n.day.isoformat(), n.created_by) for n in notes] == [
            ("2026-04-10", "user:wanghaijun"), ("2026-04-20", "user:admin"), ("2026-04-22", "user:manager")]
        assert len(db.scalars(select(AuditLog).where(AuditLog.action == "sales.plan.note")).all()) == 3


# ----------------------------------------------------------------------------------- the final evaluation

def close(client, plan_id: int, version: int, confirmed: bool = True, **fields):
    data = {"outcome": "passed", "decision": "return_to_post", "evaluation": "目标全部达成", "evaluated_on": "2026-05-30",
            "version": str(version), **fields}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(f"{BASE}/plans/{plan_id}/close", headers=HTMX, data=data)


def version_of(app, plan_id: int) -> int:
    with tenant(app, SLUG) as db:
        return db.get(ImprovementPlan, plan_id).version


def state_of(app, plan_id: int) -> tuple:
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, plan_id)
        return plan.state, plan.outcome, plan.decision


def test_the_final_evaluation_records_the_decision_that_follows_the_outcome(app, client):
    listed_months(app)
    training = open_plan(app, "X011")
    failed_training = open_plan(app, "X022", "training")
    transfer = open_plan(app, "X022", "transfer", start_month="2026-04", end_month="2026-09")
    as_user(client, "admin")

    refusals = [
        ({"decision": "transfer_list"}, "Decision: transfer_list does not follow a training (培训对象) plan with the "
                                        "outcome passed; allowed: return_to_post – return to the post (回到原岗位)."),
        ({"outcome": "refused", "decision": "terminate_contract"},
         "Outcome: 'refused' is not allowed for a training (培训对象) plan; allowed: passed, failed."),
        ({"decision": "promotion"}, "Decision: 'promotion' is not a decision; allowed: return_to_post"),
        ({"evaluation": ""}, "Final evaluation: required"),
        ({"evaluated_on": "2026-02-27"}, "Evaluated on: 2026-02-27 is outside what is allowed: from 2026-03-01 (the "
                                         "listing month) to today"),
    ]
    for change, message in refusals:
        response = close(client, training, version_of(app, training), **change)
        assert response.status_code == 422 and message in text_of(response), (change, text_of(response)[:2000])
    assert state_of(app, training) == ("open", None, None)

    # a confirmation step first: nothing is recorded until confirmed
    step = close(client, training, version_of(app, training), confirmed=False)
    body = text_of(step)
    assert step.status_code == 200 and "This records the decision; it does not send anything." in body
    assert 'name="confirmed" value="1"' in body and state_of(app, training) == ("open", None, None)
    stale = close(client, training, version_of(app, training) - 1)
    assert stale.status_code == 409 and "changed by someone else" in text_of(stale)
    done = close(client, training, version_of(app, training))
    assert done.status_code == 200 and "the plan is closed: return to the post (回到原岗位)" in text_of(done)
    assert state_of(app, training) == ("closed", "passed", "return_to_post")

    # closed: read-only
    assert close(client, training, version_of(app, training)).status_code == 409
    assert "read-only" in text_of(client.get(f"{BASE}/plans/{training}/edit"))
    assert client.get(f"{BASE}/plans/{training}/edit").status_code == 409
    note = client.post(f"{BASE}/plans/{training}/notes", data={"day": "2026-06-01", "note": "x"})
    assert note.status_code == 409 and "This plan is closed" in text_of(note)
    page = text_of(client.get(f"{BASE}/plans/{training}"))
    assert "Add the note" not in page and "Edit the plan" not in page and "Continue: check the decision" not in page

    # training failed → the transfer list, and a transfer plan after it
    assert close(client, failed_training, version_of(app, failed_training), outcome="failed",
                 decision="transfer_list").status_code == 200
    assert state_of(app, failed_training) == ("closed", "failed", "transfer_list")
    # a transfer refused → termination of the labour contract, an HR decision (recorded, nothing sent)
    assert close(client, transfer, version_of(app, transfer), outcome="refused", decision="new_post").status_code == 422
    assert close(client, transfer, version_of(app, transfer), outcome="refused",
                 decision="terminate_contract").status_code == 200
    assert state_of(app, transfer) == ("closed", "refused", "terminate_contract")

    page = text_of(client.get(f"{BASE}/plans/{failed_training}"))
    assert "Open a transfer plan" in page
    with tenant(app, SLUG) as db:
        x022 = person_id(db, "X022")
        form = plan_form(db, "X022", "transfer", 0, start_month="2026-06", end_month="2026-08")
    form.pop("cycle")
    new = client.get(f"{BASE}/plans/new?person={x022}&kind=transfer&after={failed_training}")
    assert new.status_code == 200 and f"plan #{failed_training}, ended “placed on the transfer list”" in text_of(new)
    assert client.get(f"{BASE}/plans/new?person={x022}&kind=transfer&after={transfer}").status_code == 422
    created = client.post(f"{BASE}/plans/new", data={**form, "after": str(failed_training)})
    assert created.status_code == 302
    after = int(created.headers["Location"].rsplit("/", 1)[1])
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, after)
        assert (plan.kind, plan.listed_months) == ("transfer", list(MONTHS))
    assert close(client, after, version_of(app, after), outcome="passed", decision="new_post",
                 evaluated_on="2026-08-31").status_code == 200
    assert state_of(app, after) == ("closed", "passed", "new_post")
    with tenant(app, SLUG) as db:
        closes = db.scalars(select(AuditLog).where(AuditLog.action == "sales.plan.close")).all()
        assert sorted(c.after["decision"] for c in closes) == ["new_post", "return_to_post", "terminate_contract",
                                                               "transfer_list"]


@pytest.mark.parametrize("kind, outcome, decision", sorted((k, o, d) for (k, o), d in service.FOLLOWS.items()))
def test_each_outcome_has_its_one_decision(app, kind, outcome, decision):
    listed_months(app)
    plan_id = open_plan(app, "X022", kind)
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, plan_id)
        for other in set(service.FOLLOWS.values()) - {decision}:
            with pytest.raises(PlanError) as info:
                service.close_plan(plan, {"outcome": outcome, "decision": other, "evaluation": "x",
                                          "evaluated_on": "2026-05-01"}, plan.version, "user:admin")
            assert "decision" in info.value.errors
        service.close_plan(plan, {"outcome": outcome, "decision": decision, "evaluation": "x",
                                  "evaluated_on": "2026-05-01"}, plan.version, "user:admin")
        assert (plan.state, plan.decision, plan.evaluated_by) == ("closed", decision, "user:admin")


# ----------------------------------------------------------------------------------- who sees what

def test_who_may_see_the_lists_and_the_plans(app, client):
    ids = listed_months(app)
    march = ids["2026-03"]
    plan_id = open_plan(app, "X011")  # S1; owner: wanghaijun
    other_id = open_plan(app, "X022", "transfer")  # S2; owner: zhanglijuan
    with tenant(app, SLUG) as db:
        april = open_month(db, "2026-04")
        cycles.compute(april, "test")  # computed, not published: provisional
        db.commit()
        april_id = april.id
        x011 = person_id(db, "X011")
    lists = f"{BASE}/cycles/{march}/competence"
    plan = f"{BASE}/plans/{plan_id}"
    new = f"{BASE}/plans/new?person={x011}&kind=training&cycle={march}"
    close_url = f"{plan}/close"

    as_user(client, "admin")
    assert "Provisional — not yet published." in text_of(client.get(f"{BASE}/cycles/{april_id}/competence"))
    assert "Competence lists (provisional, 2)" in text_of(client.get(f"/t/{SLUG}/cycles/{april_id}"))
    home = text_of(client.get(f"/t/{SLUG}/"))
    assert "Competence lists" in home and "Improvement plans" in home
    listing = text_of(client.get(f"{BASE}/plans"))
    assert f'id="plan-{plan_id}"' in listing and f'id="plan-{other_id}"' in listing
    filtered = text_of(client.get(f"{BASE}/plans?kind=transfer&state=open"))
    assert f'id="plan-{plan_id}"' not in filtered and f'id="plan-{other_id}"' in filtered
    assert "No plan matches these filters." in text_of(client.get(f"{BASE}/plans?state=closed"))

    as_user(client, "manager")  # a leader reads everything, changes nothing
    page = text_of(client.get(lists))
    assert "X011" in page and "X022" in page and "Open an improvement plan" not in page
    assert f"Plan #{plan_id} (open)" in page
    provisional = text_of(client.get(f"{BASE}/cycles/{april_id}/competence"))
    assert "are shown once the month is published" in provisional and "X011" not in provisional
    page = text_of(client.get(plan))
    assert "三个月内客户投诉为零" in page and "Pay at" not in page and "Edit the plan" not in page
    assert "Add the note" not in page and "Change history" not in page
    assert client.get(new).status_code == 403 and client.post(close_url, data={}).status_code == 403
    assert client.get(f"{plan}/edit").status_code == 403

    as_user(client, "wanghaijun")  # S1's head: S1's people
    page = text_of(client.get(lists))
    assert "X011" in page and "X022" not in page and "X014" in page
    assert client.get(plan).status_code == 200 and client.get(f"{BASE}/plans/{other_id}").status_code == 403
    listing = text_of(client.get(f"{BASE}/plans"))
    assert f'id="plan-{plan_id}"' in listing and f'id="plan-{other_id}"' not in listing
    assert client.get(new).status_code == 403

    as_user(client, "zhanglijuan")  # S2's head: S2's people
    page = text_of(client.get(lists))
    assert "X022" in page and "X011" not in page and "X014" not in page
    assert client.get(plan).status_code == 403 and client.get(f"{BASE}/plans/{other_id}").status_code == 200

    as_user(client, "employee")  # the person: their own plan, read-only
    page = text_of(client.get(plan))
    assert client.get(plan).status_code == 200 and "三个月内客户投诉为零" in page and "2026-04 – 2026-05" in page
    assert "Pay at" not in page and "Add the note" not in page and "Edit the plan" not in page
    assert "Continue: check the decision" not in page
    assert client.get(lists).status_code == 403 and client.get(f"{BASE}/competence").status_code == 403
    listing = text_of(client.get(f"{BASE}/plans"))
    assert f'id="plan-{plan_id}"' in listing and f'id="plan-{other_id}"' not in listing
    home = text_of(client.get(f"/t/{SLUG}/"))
    assert "Improvement plans" in home and "Competence lists" not in home
    assert client.get(f"{BASE}/plans/{other_id}").status_code == 403

    for username in ("zengwei", "chenxiaohong"):  # other employees
        as_user(client, username)
        assert client.get(plan).status_code == 403, username
        assert client.get(lists).status_code == 403
        assert f'id="plan-{plan_id}"' not in text_of(client.get(f"{BASE}/plans"))
    as_user(client, "chenxiaohong")
    assert "Improvement plans" not in text_of(client.get(f"/t/{SLUG}/"))

    as_user(client, None)
    assert client.get(plan).status_code == 302  # to the login

    AuthActions(client).login("jituan", "hr")  # another tenant: nothing of xiaoshou, no sales pages at all
    for url in (f"/t/jituan/sales/plans/{plan_id}", f"/t/jituan/sales/cycles/{march}/competence",
                "/t/jituan/sales/competence", "/t/jituan/sales/plans", f"/t/jituan/sales/plans/{plan_id}/edit",
                f"/t/jituan/sales/plans/new?person={x011}&kind=training&cycle={march}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/jituan/sales/plans/{plan_id}/notes", data={"day": "2026-04-01", "note": "x"}).status_code == 404
    assert client.post(f"/t/jituan/sales/plans/{plan_id}/close", data={}).status_code == 404


def test_a_plan_of_another_tenant_is_not_found(app, client):
    """A xiaoshou plan id under xiaoshou's own pages, opened by a xiaoshou account, is found; any id
    that is not the tenant's is 404."""
    listed_months(app)
    plan_id = open_plan(app)
    as_user(client, "admin")
    assert client.get(f"{BASE}/plans/{plan_id}").status_code == 200
    assert client.get(f"{BASE}/plans/{plan_id + 1000}").status_code == 404
    assert client.get(f"{BASE}/cycles/999999/competence").status_code == 404


# ----------------------------------------------------------------------------------- listing ↔ plan

def lists_row(page: str, kind: str, pid: int) -> str:
    return re.search(rf'<tr id="{kind}-{pid}">.*?</tr>', page, re.S).group(0)


def test_the_listing_and_its_plan_link_to_each_other_and_no_second_plan_is_made(app, client):
    ids = listed_months(app)
    march = ids["2026-03"]
    plan_id = open_plan(app, "X011")
    with tenant(app, SLUG) as db:
        x011 = person_id(db, "X011")
        good = plan_form(db, "X011", "training", march)
    lists = f"{BASE}/cycles/{march}/competence"
    as_user(client, "admin")
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))  # the listing month links to that month's lists
    listing = re.search(r'<dd id="plan-listing">.*?</dd>', page, re.S).group(0)
    assert f'href="{lists}">2026-03</a>' in listing
    as_user(client, "employee")  # the person reads their plan, not the lists: no link
    listing = re.search(r'<dd id="plan-listing">.*?</dd>', text_of(client.get(f"{BASE}/plans/{plan_id}")), re.S).group(0)
    assert "2026-03" in listing and "href" not in listing

    # closed, the plan still answers the listing it came from: no second plan from it
    with tenant(app, SLUG) as db:
        plan = db.get(ImprovementPlan, plan_id)
        service.close_plan(plan, {"outcome": "passed", "decision": "return_to_post", "evaluation": "合格",
                                  "evaluated_on": "2026-04-15"}, plan.version, "user:admin")
        db.commit()
    as_user(client, "admin")
    row = lists_row(text_of(client.get(lists)), "training", x011)
    assert f'href="/t/{SLUG}/sales/plans/{plan_id}"' in row and f"Plan #{plan_id} (closed)" in row
    assert "return to the post (回到原岗位)" in row and "Open an improvement plan" not in row
    other = lists_row(text_of(client.get(lists)), "training", _pid(app, "X022"))
    assert "Open an improvement plan" in other  # 曾伟 has no plan yet
    page = text_of(client.get(new_url_of(app, "X011", "training", march)))
    duplicate = f"Plan #{plan_id} (closed) was already made from the training (培训对象) listing of 2026-03 for 李志鹏"
    assert duplicate in page
    refused = client.post(f"{BASE}/plans/new", data=good)
    assert refused.status_code == 409 and duplicate in text_of(refused)
    assert plans_count(app) == 1
    # leaders see the plan's state too
    as_user(client, "manager")
    assert f"Plan #{plan_id} (closed)" in lists_row(text_of(client.get(lists)), "training", x011)

    # a later month's listing calls for a plan of its own
    with tenant(app, SLUG) as db:
        april = open_month(db, "2026-04")
        publish(db, april)
        db.commit()
        april_id = april.id
    as_user(client, "admin")
    row = lists_row(text_of(client.get(f"{BASE}/cycles/{april_id}/competence")), "training", x011)
    assert "Open an improvement plan" in row and f"cycle={april_id}" in row


def test_an_open_plan_of_an_earlier_listing_shows_on_the_later_lists(app, client):
    ids = listed_months(app)
    plan_id = open_plan(app, "X011")  # from March
    with tenant(app, SLUG) as db:
        april = open_month(db, "2026-04")
        publish(db, april)
        db.commit()
        april_id, x011 = april.id, person_id(db, "X011")
    as_user(client, "admin")
    row = lists_row(text_of(client.get(f"{BASE}/cycles/{april_id}/competence")), "training", x011)
    assert f"Plan #{plan_id} (open)" in row and "from the listing of 2026-03" in row
    assert "Open an improvement plan" not in row
    with tenant(app, SLUG) as db:
        assert service.plans_by_person_kind([x011], "2026-03")[(x011, "training")].id == plan_id
        assert service.plans_by_person_kind([x011])[(x011, "training")].id == plan_id
    assert ids


def _pid(app, number: str) -> int:
    with tenant(app, SLUG) as db:
        return person_id(db, number)


def new_url_of(app, number: str, kind: str, cycle_id: int) -> str:
    with tenant(app, SLUG) as db:
        return new_url(db, number, kind, cycle_id)


def test_the_plan_pages_name_things_plainly(app, client):
    ids = listed_months(app)
    plan_id = open_plan(app, "X011")
    as_user(client, "admin")
    client.post(f"{BASE}/plans/{plan_id}/notes", data={"day": "2026-04-10", "note": "第一周跟岗"})
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    for words in ("<dt>Made on</dt>", "<dt>Plan period</dt>", "<th>Notes</th>", ">Progress note *</label>",
                  '<span class="tag state-open">Open</span>', "<dt>Listing of</dt>"):
        assert words in page, words
    plans = text_of(client.get(f"{BASE}/plans"))
    assert "<th>Name of person</th>" in plans and "<th>Plan period</th>" in plans
    assert '<span class="tag state-open">Open</span>' in plans and '<option value="closed" >Closed</option>' in plans
    lists = text_of(client.get(f"{BASE}/cycles/{ids['2026-03']}/competence"))
    assert "<th>Name of person</th>" in lists
    # in Chinese: no reused words of other pages (开始考评, 月数, 意见, 名称), kinds joined with 、
    client.post("/lang", data={"locale": "zh"})
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    for wrong in ("开始考评", "月数", "意见", "名称"):
        assert wrong not in page, wrong
    assert "进行中" in page
    leave = text_of(client.get(f"{BASE}/cycles/{ids['2026-03']}/competence"))
    leave = leave[leave.index('id="table-leave"'):]
    assert "未列入培训对象、转岗对象" in leave
    with app.test_request_context(), __import__("flask_babel").force_locale("en"):
        assert service.kinds_label(["training", "transfer"]) == "training (培训对象), transfer (转岗对象)"


@pytest.mark.parametrize("kind, outcome, decision, link", [
    ("training", "failed", "transfer_list", "edit"),
    ("transfer", "passed", "new_post", "edit"),
    ("transfer", "refused", "terminate_contract", "record"),
])
def test_a_closed_plan_says_what_to_do_next_in_the_persons_record(app, client, kind, outcome, decision, link):
    listed_months(app)
    plan_id = open_plan(app, "X022", kind)
    with tenant(app, SLUG) as db:
        x022 = person_id(db, "X022")
        before = db.scalar(select(Person).where(Person.id == x022))
        before = (before.unit_id, before.status, before.active)
    as_user(client, "admin")
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    assert 'id="next-step"' not in page  # open: nothing to do yet
    assert close(client, plan_id, version_of(app, plan_id), outcome=outcome, decision=decision).status_code == 200
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    step = re.search(r'<div class="flash info" role="status" id="next-step">.*?</div>', page, re.S).group(0)
    assert "Next step" in step and "Recording the decision changed nothing in the person's record" in step
    assert "Now in the record: 销售二部, Regular." in step
    target = f"/t/{SLUG}/org/people/{x022}/edit" if link == "edit" else f"/t/{SLUG}/org/people/{x022}\""
    assert target in step
    assert client.get(f"/t/{SLUG}/org/people/{x022}" + ("/edit" if link == "edit" else "")).status_code == 200
    with tenant(app, SLUG) as db:  # nothing changed automatically
        person = db.get(Person, x022)
        assert (person.unit_id, person.status, person.active) == before
    as_user(client, "manager")  # leaders read the decision; HR carries it out
    page = text_of(client.get(f"{BASE}/plans/{plan_id}"))
    assert 'id="next-step"' not in page and "/org/people/" not in page


# ----------------------------------------------------------------------------------- owners, races, reading less

def owner_options(page: str) -> list[str]:
    select_ = page[page.index('id="plan-owner"'):]
    select_ = select_[:select_.index("</select>")]
    return re.findall(r'<option value="\d+"[^>]*>[^<]*\((\w+)\)</option>', select_)


def test_a_plan_owner_is_one_who_sees_the_persons_results(app, client):
    """The owner sees the plan (the listed months, the notes): only the person's unit heads (of their
    unit or a unit above it), HR and company leaders may own it; anyone else is refused by name."""
    ids = listed_months(app)
    march = ids["2026-03"]
    with tenant(app, SLUG) as db:
        url = new_url(db, "X011", "training", march)
        good = plan_form(db, "X011", "training", march)
        accounts = dict(db.execute(select(User.username, User.id)).all())
    as_user(client, "admin")
    page = text_of(client.get(url))
    # X011 is in S1: its head, HR and the leader; never S2's head, the person, other employees
    assert sorted(owner_options(page)) == ["admin", "manager", "wanghaijun"]
    assert "the owner sees the plan, so only those who see the person's results" in page
    for username in ("zhanglijuan", "chenxiaohong", "zengwei"):
        response = client.post(f"{BASE}/plans/new", data={**good, "owner_id": str(accounts[username])})
        body = text_of(response)
        assert response.status_code == 422, username
        assert f"({username}) does not see the results of 李志鹏; allowed: the person's unit heads (of their unit " \
               "or a unit above it), HR or a company leader: " in body, username
        allowed = body[body.index(f"({username}) does not see"):]
        assert "(wanghaijun)" in allowed and "(admin)" in allowed and "(manager)" in allowed
    assert plans_count(app) == 0
    response = client.post(f"{BASE}/plans/new", data={**good, "owner_id": ""})
    assert response.status_code == 422 and "Owner: required; allowed: the person's unit heads" in text_of(response)
    # the leader may own it
    assert client.post(f"{BASE}/plans/new", data={**good, "owner_id": str(accounts["manager"])}).status_code == 302
    with tenant(app, SLUG) as db:
        plan = db.scalar(select(ImprovementPlan))
        assert plan.owner_id == accounts["manager"]
        plan_id, version = plan.id, plan.version
    # editing is checked the same way
    edit = {**good, "owner_id": str(accounts["zhanglijuan"]), "version": str(version)}
    response = client.post(f"{BASE}/plans/{plan_id}/edit", data=edit)
    assert response.status_code == 422 and "(zhanglijuan) does not see the results of 李志鹏" in text_of(response)
    assert sorted(owner_options(text_of(client.get(f"{BASE}/plans/{plan_id}/edit")))) == \
        ["admin", "manager", "wanghaijun"]
    with tenant(app, SLUG) as db:
        assert db.get(ImprovementPlan, plan_id).owner_id == accounts["manager"]
        # S2's head made head of the company too (a unit above S1): now she may own it
        from core.models import OrgUnit, RoleMembership

        company = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "CO"))
        db.add(RoleMembership(user_id=accounts["zhanglijuan"], role="unit_head", unit_id=company))
        db.commit()
    assert "zhanglijuan" in owner_options(text_of(client.get(f"{BASE}/plans/{plan_id}/edit")))
    response = client.post(f"{BASE}/plans/{plan_id}/edit", data=edit)
    assert response.status_code == 302
    with tenant(app, SLUG) as db:
        assert db.get(ImprovementPlan, plan_id).owner_id == accounts["zhanglijuan"]


def test_a_former_owner_outside_the_circle_no_longer_sees_the_plan(app, client):
    listed_months(app)
    plan_id = open_plan(app, "X011")  # owner: wanghaijun, S1's head
    as_user(client, "wanghaijun")
    assert client.get(f"{BASE}/plans/{plan_id}").status_code == 200
    with tenant(app, SLUG) as db:  # he moves to head S2
        from core.models import OrgUnit, RoleMembership

        wang = db.scalar(select(User).where(User.username == "wanghaijun"))
        membership = db.scalar(select(RoleMembership).where(RoleMembership.user_id == wang.id,
                                                            RoleMembership.role == "unit_head"))
        membership.unit_id = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "S2"))
        db.commit()
    as_user(client, "wanghaijun")
    assert client.get(f"{BASE}/plans/{plan_id}").status_code == 403
    assert client.post(f"{BASE}/plans/{plan_id}/notes", data={"day": "2026-04-01", "note": "x"}).status_code == 403
    assert f'id="plan-{plan_id}"' not in text_of(client.get(f"{BASE}/plans"))


def test_the_database_keeps_one_open_plan_per_person_and_kind(app):
    from sqlalchemy.exc import IntegrityError

    listed_months(app)
    first = open_plan(app, "X022", "training")
    with tenant(app, SLUG) as db:
        x022 = person_id(db, "X022")

        def plan(kind, state="open"):
            return ImprovementPlan(person_id=x022, kind=kind, period="2026-03", listed_months=[], goals="g",
                                   actions="a", start_month="2026-04", end_month="2026-05", state=state,
                                   created_by="test")

        db.add(plan("training"))
        with pytest.raises(IntegrityError):
            db.flush()
        db.rollback()
        db.add_all([plan("training", "closed"), plan("training", "closed"), plan("transfer")])  # allowed
        db.flush()
        db.rollback()
        db.get(ImprovementPlan, first).state = "closed"
        db.add(plan("training"))  # the earlier one closed: a new open one may follow
        db.flush()
        db.rollback()


def racing(monkeypatch, misses: int) -> None:
    """Another save opens the same plan between the check and the insert: ``open_plan`` finds
    nothing for its first ``misses`` calls, and the listing's plan is not looked at."""
    real = service.open_plan
    calls = []

    def open_plan_(person_id, kind):
        calls.append(kind)
        return None if len(calls) <= misses else real(person_id, kind)

    monkeypatch.setattr(service, "open_plan", open_plan_)
    monkeypatch.setattr(service, "listing_plan", lambda *args: None)


def test_a_second_open_plan_saved_at_the_same_moment_is_refused_with_409(app, client, monkeypatch):
    listed_months(app)
    first = open_plan(app, "X022", "transfer")
    message = f"曾伟 already has an open transfer (转岗对象) plan (#{first}): add to it, or close it first."
    with tenant(app, SLUG) as db:  # the service: the check passes, the insert hits the index
        racing(monkeypatch, 1)
        march = service.latest_published_cycle()
        person = db.get(Person, person_id(db, "X022"))
        with pytest.raises(PlanError) as info:
            service.create_plan(person, service.source_from_listing(march, person),
                                plan_form(db, "X022", "transfer", march.id), "user:admin")
        assert info.value.status == 409 and str(info.value) == message
        db.rollback()
        good = plan_form(db, "X022", "transfer", march.id)
    monkeypatch.undo()
    as_user(client, "admin")
    racing(monkeypatch, 2)  # the page: the view's check and the service's pass
    response = client.post(f"{BASE}/plans/new", data=good)
    body = text_of(response)
    assert response.status_code == 409 and message in body
    assert f'href="{BASE}/plans/{first}"' in body and good["goals"] in body  # the entries are kept
    assert plans_count(app) == 1


def test_the_lists_read_only_the_results_that_may_hold_a_leave_month(app):
    """Listed people and those below the highest line with personal leave (this month, or an earlier
    month's total without leave in the inputs) are read; a person with leave well above the lines is not."""
    listed_months(app)
    with tenant(app, SLUG) as db:
        add_leave(db, "X018", "2026-04", days="1")  # 91.50 with 1 day of leave: above every line
        add_leave(db, "X016", "2026-04", days="1")
        april = open_month(db, "2026-04")
        cycles.compute(april, "test")
        cycle = db.get(Cycle, april.id)
        settings = service.settings_of(cycle)
        top = service.top_line(settings)
        read = {row[5] for row in service._result_rows([cycle.id], None, top)}
        assert "X018" not in read and "X016" not in read  # leave, but above the lines: not parsed
        assert {"X011", "X022", "X014"} <= read  # listed, listed, below 80 with leave
        assert {row[5] for row in service._result_rows([cycle.id], None, None)} == {"X011", "X022"}
        found = service.listings(cycle)
        assert [r.number for r in found.leave_only] == ["X014"]
        db.rollback()


def test_a_leave_month_of_an_earlier_month_still_shows(app):
    """X014's leave only in January: in March the January total (below 80 only because of leave) is
    read from the history in the inputs, and still shown as not counted."""
    with tenant(app, SLUG) as db:
        ids = {}
        for period in MONTHS:
            cycle = cycles.create_cycle("sales-attitude", period, f"{period} 考评", {}, "test")
            if period == "2026-01":
                add_leave(db, LEAVE[0], period)
            special = dict((LOW, LOWER, LEAVE))
            for row in cycles.subjects(cycle):
                if row.kind == "person":
                    value = special.get(row.code, RATING) if (row.code != LEAVE[0] or period == "2026-01") else RATING
                    cycles.set_inputs(row, cycle, {**(row.inputs or {}), "ratings": ratings(value)},
                                      row.inputs_version, "test")
            cycles.transition(cycle, "open", "test")
            publish(db, cycle)
            ids[period] = cycle.id
        db.commit()
        march = db.get(Cycle, ids["2026-03"])
        x014 = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == march.id, CycleSubject.code == "X014"))
        assert "personal_leave_days" not in (x014.inputs.get("events") or {})  # no leave in March
        found = service.listings(march)
        assert [(r.number, [(m.period, m.score, m.without) for m in r.leave]) for r in found.leave_only] == [
            ("X014", [("2026-01", "79.80", "81.30")])]
