"""Entering a cycle's inputs through the declared forms: autosave, checks, locking, who may edit."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from core.cycles import service
from core.db import db_session
from core.models import CycleSubject, Person, Tenant, User
from core.tenancy import set_tenant
from tests.conftest import AuthActions

HTMX = {"HX-Request": "true"}


def make_cycle(app, slug="jituan", scheme="corporate-grading", period="2026-09", state="open"):
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == slug)))
        cycle = service.create_cycle(scheme, period, "测试周期", {}, "test")
        if state != "draft":
            service.transition(cycle, "open", "test")
        db_session.commit()
        units = {s.code: s.id for s in service.subjects(cycle) if s.kind == "unit"}
        people = {s.code: s.id for s in service.subjects(cycle) if s.kind == "person"}
        return cycle.id, units, people


def url(cycle_id, subject_id=""):
    return f"/t/jituan/cycles/{cycle_id}/inputs/{subject_id}"


def stored(app, subject_id):
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        row = db_session.get(CycleSubject, subject_id)
        return row.inputs, row.inputs_version


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def hr(client):
    client.post("/lang", data={"locale": "en"})  # the messages asserted are the English ones
    AuthActions(client).login("jituan", "hr")
    return client


def test_the_form_shows_the_fields_the_scheme_declares(app, hr):
    cycle_id, units, people = make_cycle(app)
    page = text_of(hr.get(url(cycle_id, units["FIN"])))
    assert "Unit scorecard" in page
    # the plan completion and the bonus/penalty are entered on the scheme's own pages, with reasons
    assert "Plan completion rate" not in page and "Bonus / penalty" not in page
    page = text_of(hr.get(url(cycle_id, people["J0001"])))  # class A: overseen units
    assert "Units overseen" in page and "Personal scorecard" in page
    hr.post("/lang", data={"locale": "zh"})
    assert "单位考评表" in text_of(hr.get(url(cycle_id, units["FIN"])))  # the scheme's Chinese labels


def give_plan(app, subject_id):
    """The plan counts a checked plan sheet writes (plugins/corporate_grading/plans)."""
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        row = db_session.get(CycleSubject, subject_id)
        from core.models import Cycle
        service.set_inputs(row, db_session.get(Cycle, row.cycle_id), {"plan": {"planned": 3, "completed": 2}},
                           row.inputs_version, "test")
        db_session.commit()


def test_autosave_saves_and_answers_with_the_new_version_and_checks(app, hr):
    cycle_id, units, _people = make_cycle(app)
    fin = units["FIN"]
    give_plan(app, fin)
    response = hr.post(url(cycle_id, fin), headers=HTMX, data={
        "inputs_version": "1", "form__mode": "score", "form_score": "4.2", "adjust": "0.5"})
    body = text_of(response)
    assert response.status_code == 200 and "Saved." in body
    assert 'id="inputs_version" name="inputs_version" value="2" hx-swap-oob="true"' in body
    # the plan written by the plan sheet is kept; an adjust is not the generic form's to set
    assert stored(app, fin) == ({"plan": {"planned": 3, "completed": 2}, "form_score": "4.2"}, 2)
    assert "Complete: the scheme accepts these inputs." in body


def test_a_value_out_of_range_is_not_saved_and_is_named(app, hr):
    cycle_id, units, _people = make_cycle(app)
    response = hr.post(url(cycle_id, units["FIN"]), headers=HTMX, data={
        "inputs_version": "0", "form__mode": "score", "form_score": "5.5"})
    assert response.status_code == 422
    assert "5.5" in text_of(response) and "[2, 5]" in text_of(response)
    assert stored(app, units["FIN"]) == ({}, 0)


def test_a_stale_version_is_refused(app, hr):
    cycle_id, units, _people = make_cycle(app)
    data = {"inputs_version": "0", "form__mode": "score", "form_score": "4"}
    assert hr.post(url(cycle_id, units["FIN"]), headers=HTMX, data=data).status_code == 200
    response = hr.post(url(cycle_id, units["FIN"]), headers=HTMX, data={**data, "form_score": "3"})
    assert response.status_code == 409
    assert stored(app, units["FIN"])[0]["form_score"] == "4"


def test_scorecard_items_give_a_live_total_and_weight_checks(app, hr):
    cycle_id, units, _people = make_cycle(app)
    items = {"form__mode": "items",
             "form_items-0-name": "营收", "form_items-0-weight": "0.6", "form_items-0-kind": "quantitative",
             "form_items-0-actual": "105", "form_items-0-threshold": "90", "form_items-0-target": "100",
             "form_items-1-name": "服务", "form_items-1-weight": "0.4", "form_items-1-kind": "qualitative",
             "form_items-1-level": "satisfied"}
    response = hr.post(url(cycle_id, units["FIN"]), headers=HTMX, data={"inputs_version": "0", **items})
    body = text_of(response)
    assert response.status_code == 200
    assert re.search(r'<output id="total-form" hx-swap-oob="true">\s*<strong>4\.60</strong>', body)  # 0.6×5 + 0.4×4
    assert "营收 5 × 0.6 + 服务 4 × 0.4" in body  # how the total is made up
    saved, _version = stored(app, units["FIN"])
    assert [i["name"] for i in saved["form_items"]] == ["营收", "服务"]
    response = hr.post(url(cycle_id, units["FIN"]), headers=HTMX,
                       data={"inputs_version": "1", **items, "form_items-1-weight": "0.3"})
    assert "weights sum to 0.9" in text_of(response)


def test_a_unit_head_enters_only_their_units_fields(app, client):
    cycle_id, units, people = make_cycle(app)
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        head = db_session.scalar(select(User).where(User.username == "fengzhiqiang"))
        assert head is not None, "the demo tenant has a unit head of FIN"
        fin_unit_id = next(iter(head.headed_unit_ids()))
        own_person = db_session.scalar(select(CycleSubject.id).where(
            CycleSubject.cycle_id == cycle_id, CycleSubject.kind == "person", CycleSubject.unit_id == fin_unit_id,
            CycleSubject.staff_class != "A"))
        other_person = db_session.scalar(select(CycleSubject.id).where(
            CycleSubject.cycle_id == cycle_id, CycleSubject.kind == "person", CycleSubject.unit_id != fin_unit_id))
    AuthActions(client).login("jituan", "fengzhiqiang")
    assert client.get(url(cycle_id, other_person)).status_code == 403
    page = text_of(client.get(url(cycle_id, own_person)))
    assert "个人考评表" in page and 'name="adjust"' not in page  # adjustments have their own page
    response = client.post(url(cycle_id, own_person), headers=HTMX, data={
        "inputs_version": "0", "personal__mode": "score", "personal_score": "4.1", "adjust": "0.5"})
    assert response.status_code == 200
    assert stored(app, own_person)[0] == {"personal_score": "4.1"}  # the adjust was not theirs to set


def test_inputs_are_read_only_once_the_cycle_is_in_review(app, hr):
    cycle_id, units, _people = make_cycle(app)
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        from core.models import Cycle
        db_session.get(Cycle, cycle_id).state = "review"
        db_session.commit()
    response = hr.post(url(cycle_id, units["FIN"]), headers=HTMX, data={"inputs_version": "0", "form__mode": "score", "form_score": "4"})
    assert response.status_code == 409


def test_an_employee_self_scores_and_sees_nothing_else(app, client):
    cycle_id, units, people = make_cycle(app)
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        me = db_session.scalar(select(User).where(User.username == "employee"))
        mine = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle_id,
                                                               CycleSubject.person_id == me.person_id))
    client.post("/lang", data={"locale": "en"})
    AuthActions(client).login("jituan", "employee")
    assert client.get(url(cycle_id, units["FIN"])).status_code == 403
    assert client.get(url(cycle_id, people["J0001"])).status_code == 403  # someone else's form
    index = text_of(client.get(url(cycle_id)))
    assert index.count("/inputs/") - index.count("/inputs/import") >= 1 and f"/inputs/{mine}" in index
    form = text_of(client.get(url(cycle_id, mine)))
    assert "Personal scorecard" in form and "Bonus / penalty" not in form  # HR's adjust is not shown
    response = client.post(url(cycle_id, mine), headers=HTMX, data={
        "inputs_version": "0", "personal__mode": "score", "personal_score": "4.2", "adjust": "1"})
    assert response.status_code == 200
    assert stored(app, mine)[0] == {"personal_score": "4.2"}
    assert upload(client, cycle_id, "code,form_score\nFIN,4\n").status_code == 403


# ------------------------------------------------------------------------------------- bulk entry

def test_the_template_lists_every_subject_and_declared_input(app, hr):
    import io

    from openpyxl import load_workbook

    cycle_id, units, people = make_cycle(app)
    response = hr.get(f"/t/jituan/cycles/{cycle_id}/inputs/template.xlsx?kind=unit")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("code", "name", "class", "form_score")
    assert "plan_rate" not in rows[0] and "adjust" not in rows[0]  # entered on the scheme's own pages
    assert len(rows) == 2 + len(units)
    csv_text = hr.get(f"/t/jituan/cycles/{cycle_id}/inputs/template.csv?kind=person").get_data(as_text=True)
    assert csv_text.startswith("\ufeffcode,name,class,personal_score")


def upload(client, cycle_id, text, name="inputs.csv", kind="unit"):
    import io

    return client.post(f"/t/jituan/cycles/{cycle_id}/inputs/import",
                       data={"kind": kind, "file": (io.BytesIO(text.encode("utf-8")), name)},
                       content_type="multipart/form-data")


def test_a_good_file_is_imported(app, hr):
    cycle_id, units, _people = make_cycle(app)
    response = upload(hr, cycle_id, "code,form_score\nFIN,4.3\nHR,3.8\n")
    assert response.status_code == 302
    assert stored(app, units["FIN"]) == ({"form_score": "4.3"}, 1)
    assert stored(app, units["HR"])[0] == {"form_score": "3.8"}


def test_a_file_with_any_problem_changes_nothing_and_names_row_and_column(app, hr):
    cycle_id, units, _people = make_cycle(app)
    response = upload(hr, cycle_id, "code,form_score\nFIN,4.3\nHR,7\nNOPE,4\nFIN,2\n")
    body = text_of(response)
    assert response.status_code == 422
    assert "Row 3, column form_score" in body and "7 is outside [2, 5]" in body
    assert "Row 4, column code: NOPE is not a subject of this cycle" in body
    assert "Row 5, column code: FIN already appears in row 2" in body
    assert stored(app, units["FIN"]) == ({}, 0)  # the good first row was not written either


@pytest.mark.parametrize("text, name, message", [
    ("code,colour\nFIN,red\n", "x.csv", "unknown column(s) colour"),
    ("form_score\n4\n", "x.csv", "the column code is missing"),
    ("code,plan_rate,adjust\nFIN,0.5,0.1\n", "x.csv", "unknown column(s) plan_rate, adjust"),
    ("not a workbook", "x.xlsx", "is not an .xlsx workbook"),
    ("code\nFIN\n", "x.txt", "upload an .xlsx or .csv file"),
])
def test_files_that_cannot_be_read_are_refused(app, hr, text, name, message):
    cycle_id, _units, _people = make_cycle(app)
    response = upload(hr, cycle_id, text, name)
    assert response.status_code == 422 and message in text_of(response)


def test_only_administrators_import(app, client):
    cycle_id, _units, _people = make_cycle(app)
    AuthActions(client).login("jituan", "fengzhiqiang")
    assert upload(client, cycle_id, "code,form_score\nFIN,4\n").status_code == 403


def test_overseen_units_come_in_as_comma_separated_codes(app, hr):
    cycle_id, _units, people = make_cycle(app)
    response = upload(hr, cycle_id, "code,personal_score,oversees\nJ0001,4.5,\"FIN, HR\"\nJ0002,4.4,FIN，NOPE\n",
                      kind="person")
    assert response.status_code == 422 and "NOPE are not units of this cycle" in text_of(response)
    response = upload(hr, cycle_id, "code,personal_score,oversees\nJ0001,4.5,\"FIN, HR\"\n", kind="person")
    assert response.status_code == 302
    assert stored(app, people["J0001"])[0] == {"personal_score": "4.5", "oversees": ["FIN", "HR"]}


def test_pay_is_for_hr_only_and_a_supervisor_does_not_rate_himself(app, client):
    from core.models import Tenant as TenantModel

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(TenantModel.id).where(TenantModel.slug == "xiaoshou")))
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        service.transition(cycle, "open", "test")
        db_session.commit()
        supervisor = db_session.scalar(select(User).where(User.username == "wanghaijun"))
        mine = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle.id,
                                                               CycleSubject.person_id == supervisor.person_id))
        staff = db_session.scalar(select(CycleSubject.id).where(
            CycleSubject.cycle_id == cycle.id, CycleSubject.unit_id.in_(supervisor.headed_unit_ids()),
            CycleSubject.person_id != supervisor.person_id, CycleSubject.eligible.is_(True)))
        cycle_id = cycle.id
    client.post("/lang", data={"locale": "en"})
    AuthActions(client).login("xiaoshou", "wanghaijun")
    form = text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/inputs/{staff}"))
    assert "Basic ability" in form and "Pay base" not in form and "In training" not in form
    client.post(f"/t/xiaoshou/cycles/{cycle_id}/inputs/{mine}", headers=HTMX, data={
        "inputs_version": "0", "ratings__basic_ability": "100"})  # his own ratings are not his to give
    client.post(f"/t/xiaoshou/cycles/{cycle_id}/inputs/{staff}", headers=HTMX, data={
        "inputs_version": "0", "ratings__basic_ability": "90", "pay__base": "99999"})
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(TenantModel.id).where(TenantModel.slug == "xiaoshou")))
        assert db_session.get(CycleSubject, staff).inputs == {"ratings": {"basic_ability": "90"}}
        assert db_session.get(CycleSubject, mine).inputs == {}


def test_an_empty_score_cell_keeps_a_scorecard_entered_by_items(app, hr):
    cycle_id, units, _people = make_cycle(app)
    items = {"form__mode": "items", "form_items-0-name": "服务", "form_items-0-weight": "1",
             "form_items-0-kind": "qualitative", "form_items-0-level": "satisfied"}
    give_plan(app, units["FIN"])
    hr.post(url(cycle_id, units["FIN"]), headers=HTMX, data={"inputs_version": "1", **items})
    assert upload(hr, cycle_id, "code,form_score\nFIN,\n").status_code == 302
    saved = stored(app, units["FIN"])[0]
    assert saved["plan"] == {"planned": 3, "completed": 2} and saved["form_items"][0]["name"] == "服务"


def test_leaders_see_results_without_the_pay_inputs(app, client):
    from core.models import CycleResult, Tenant as TenantModel

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(TenantModel.id).where(TenantModel.slug == "xiaoshou")))
        from plugins.sales_attitude.pay.models import PayRecord

        people = db_session.scalars(select(Person.id).where(Person.staff_class.is_not(None))).all()
        db_session.add_all(PayRecord(person_id=p, base="7654.32", coefficient="1.1", updated_by="test") for p in people)
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")  # pay comes from the records
        service.transition(cycle, "open", "test")
        for row in service.subjects(cycle):
            if row.kind == "person":
                service.set_inputs(row, cycle, {**row.inputs, "ratings": {k: "85" for k in (
                    "basic_ability", "proficiency", "coordination", "service")}}, row.inputs_version, "test")
        service.compute(cycle, "test")
        db_session.commit()
        result_id = db_session.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                      .where(CycleSubject.status == "regular"))
        cycle_id = cycle.id
    AuthActions(client).login("xiaoshou", "manager")
    page = text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/results/{result_id}"))
    assert "7654.32" not in page and "ratings" in page
    AuthActions(client).logout("xiaoshou")
    AuthActions(client).login("xiaoshou", "admin")
    assert "7654.32" in text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/results/{result_id}"))


def test_roles_a_scheme_does_not_ask_and_ones_own_record_do_not_open_the_form(app, client):
    """A committee member opens no sales form (the sales scheme asks the committee nothing), and a
    unit head cannot read their own record's ratings on it (only what is asked of the person)."""
    from core.models import RoleMembership, Tenant as TenantModel

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(TenantModel.id).where(TenantModel.slug == "xiaoshou")))
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        service.transition(cycle, "open", "test")
        member = db_session.scalar(select(User).where(User.username == "zengwei"))
        db_session.add(RoleMembership(user_id=member.id, role="committee"))
        head = db_session.scalar(select(User).where(User.username == "wanghaijun"))
        own = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle.id,
                                                              CycleSubject.person_id == head.person_id))
        other = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle.id,
                                                                CycleSubject.code == "X011"))
        db_session.commit()
        cycle_id = cycle.id
    AuthActions(client).login("xiaoshou", "zengwei")
    assert client.get(f"/t/xiaoshou/cycles/{cycle_id}/inputs/{other}").status_code == 403
    assert "X011" not in text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/inputs/"))
    AuthActions(client).logout("xiaoshou")
    AuthActions(client).login("xiaoshou", "wanghaijun")
    assert client.get(f"/t/xiaoshou/cycles/{cycle_id}/inputs/{own}").status_code == 403
    assert client.get(f"/t/xiaoshou/cycles/{cycle_id}/inputs/{other}").status_code == 200
