"""The corporate scheme's monthly plan sheets and adjustments (plugins/corporate_grading/plans/):
the sheet's states and who moves it, the exact plan rate it writes into the inputs (2 of 3 stays
2/3 all the way to the published score), adjustments within the cycle's bounds with their reasons,
concurrent changes, wrong users and the audit trail."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import event, select

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, User
from plugins.corporate_grading.organisation import service as organisation
from plugins.corporate_grading.plans import service
from plugins.corporate_grading.plans.models import Adjustment, PlanItem, PlanSheet
from plugins.corporate_grading.plans.service import PlanError
from tests.conftest import AuthActions
from tests.test_cycles import fill_corporate_inputs, tenant

HTMX = {"HX-Request": "true", "HX-Target": "sheet"}  # as the sheet page's forms send them
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "results"}
SUPERVISOR = "zhenghaiyan"  # a leader and committee member, made plan supervisor in these tests


def make_cycle(app, period="2026-09", fill=True, state="open"):
    """A corporate cycle of jituan with the plan supervisor post held; its id and subject ids by code."""
    with tenant(app) as db:
        cycle = cycles.create_cycle("corporate-grading", period, "计划测试", {}, "test")
        if state == "open":
            cycles.transition(cycle, "open", "test")
        if fill:
            fill_corporate_inputs(cycle)
        supervisor = db.scalar(select(User.id).where(User.username == SUPERVISOR))
        organisation.set_post("plan_supervisor", [supervisor], "test")
        db.commit()
        return cycle.id, {s.code: s.id for s in cycles.subjects(cycle)}


def as_user(client, username):
    auth = AuthActions(client)
    auth.logout()
    client.post("/lang", data={"locale": "en"})  # the messages asserted are the English ones
    auth.login("jituan", username)
    return client


def base(cycle_id, subject_id=None):
    url = f"/t/jituan/corporate/cycles/{cycle_id}/plans"
    return url if subject_id is None else f"{url}/{subject_id}"


def sheet_row(app, subject_id):
    with tenant(app) as db:
        sheet = db.scalar(select(PlanSheet).where(PlanSheet.subject_id == subject_id))
        if sheet is None:
            return None, []
        items = list(db.scalars(select(PlanItem).where(PlanItem.sheet_id == sheet.id).order_by(PlanItem.id)))
        db.expunge_all()
        return sheet, items


def inputs_of(app, subject_id):
    with tenant(app) as db:
        row = db.get(CycleSubject, subject_id)
        return dict(row.inputs), row.inputs_version


def page_text(response):
    import html

    return html.unescape(response.get_data(as_text=True))


# ----------------------------------------------------------------------------------- end to end

def test_two_of_three_is_exact_from_the_sheet_to_the_published_score(app, client, tmp_path):
    """The FIN head plans 3 items and submits; the plan supervisor judges 2 done and checks; the
    unit's inputs get plan {3, 2} (its plan_rate removed) and the computed score equals what
    ``jixiao score`` gives for the same case: 3 × 2/3 + 3.9875 × 0.4 = 3.595 → 3.60 (C), where a
    rate of 0.6666 or float arithmetic would give 3.59 (D)."""
    cycle_id, ids = make_cycle(app)
    fin = ids["FIN"]
    with tenant(app) as db:  # the unit's scorecard, entered elsewhere; kept by the check
        row = db.get(CycleSubject, fin)
        cycles.set_inputs(row, db.get(Cycle, cycle_id), {**row.inputs, "form_score": "3.9875"}, row.inputs_version, "test")
        db.commit()
    assert "plan_rate" in inputs_of(app, fin)[0]

    as_user(client, "fengzhiqiang")  # FIN's head
    for title in ("资金计划", "成本分析", "审计整改"):
        response = client.post(f"{base(cycle_id, fin)}/items", headers=HTMX,
                               data={"title": title, "standard": "按时提交", "owner": "冯志强", "due": "2026-09-25"})
        assert response.status_code == 200
    body = page_text(response)
    assert "<html" not in body and "Item added." in body  # the #sheet block only
    assert re.search(r"<dt>Planned</dt><dd>3</dd>", body)
    sheet, items = sheet_row(app, fin)
    response = client.post(f"{base(cycle_id, fin)}/submit", data={"version": sheet.version})
    assert response.status_code == 302
    assert sheet_row(app, fin)[0].state == "submitted"
    # the head judges nothing: that is the plan supervisor's (or HR's) at month end
    assert client.post(f"{base(cycle_id, fin)}/items/{items[0].id}", data={
        "completion": "done", "version": items[0].version}).status_code == 403

    as_user(client, SUPERVISOR)
    for item, completion in zip(items, ("done", "done", "not_done")):
        response = client.post(f"{base(cycle_id, fin)}/items/{item.id}", headers=HTMX, data={
            "completion": completion, "evidence": f"{item.title}: 见附件", "version": item.version})
        assert response.status_code == 200, page_text(response)
    body = page_text(response)
    assert re.search(r"<dt>Completed</dt><dd>2</dd>", body) and "2/3 (66.67%)" in body
    sheet = sheet_row(app, fin)[0]
    response = client.post(f"{base(cycle_id, fin)}/check", data={"version": sheet.version})
    assert response.status_code == 302
    inputs, _version = inputs_of(app, fin)
    assert inputs["plan"] == {"planned": 3, "completed": 2} and "plan_rate" not in inputs
    assert inputs["form_score"] == "3.9875"

    listing = page_text(client.get(base(cycle_id)))
    assert "Checked" in listing and "2/3 (66.67%)" in listing

    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        cycles.compute(cycle, "test")
        db.commit()
        scores = {s.code: r.score for r, s in db.execute(
            select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .where(CycleResult.cycle_id == cycle_id))}
        breakdown = db.scalar(select(CycleResult.breakdown).where(CycleResult.subject_id == fin))
        case = cycles.case_of(cycle)
    assert scores["FIN"] == Decimal("3.60")
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["score", str(path)])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout, parse_float=Decimal)
    cli = {s["id"]: s["score"] for s in output["units"] + output["people"]}
    assert cli == scores  # the portal and the command line agree on every subject

    def find(node, label):
        if node["label"] == label:
            return node
        return next((found for t in node["terms"] if (found := find(t, label))), None)

    rate = find(breakdown, "plan_rate")
    assert rate["formula"] == "completed ÷ planned" and rate["weight"] == 5
    assert [(t["label"], t["input"]) for t in rate["terms"]] == [("completed", 2), ("planned", 3)]


# ----------------------------------------------------------------------------------- state rules

def test_a_sheet_moves_draft_submitted_checked_and_each_step_is_guarded(app):
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["HR"])
        with pytest.raises(PlanError, match="has no items"):
            service.submit(cycle, None, 0, "t")
        with pytest.raises(PlanError) as info:
            service.add_item(cycle, subject, {"title": " ", "due": "25.9.2026", "owner": "x" * 101}, "t")
        assert info.value.errors == {
            "title": ["Title is required."],
            "owner": ["Owner has 101 characters; at most 100 are allowed."],
            "due": ["Due date: '25.9.2026' is not a date; write it like 2026-09-25."]}
        first = service.add_item(cycle, subject, {"title": "招聘计划", "standard": "到岗3人"}, "t")
        second = service.add_item(cycle, subject, {"title": "培训"}, "t")
        sheet = service.sheet_of(subject)
        with pytest.raises(PlanError, match="items are judged while it is submitted"):
            service.judge_item(cycle, sheet, first, {"completion": "done", "version": first.version}, "t")
        with pytest.raises(PlanError, match="only a submitted sheet is checked"):
            service.check(cycle, subject, sheet, sheet.version, "t")
        with pytest.raises(PlanError, match="only a submitted sheet is returned"):
            service.return_to_draft(cycle, sheet, "why", sheet.version, "t")
        service.submit(cycle, sheet, sheet.version, "t")
        with pytest.raises(PlanError, match="items are added while it is a draft"):
            service.add_item(cycle, subject, {"title": "late idea"}, "t")
        with pytest.raises(PlanError, match="changed while it is a draft"):
            service.edit_item(cycle, sheet, first, {"title": "x", "version": first.version}, "t")
        with pytest.raises(PlanError, match="removed while it is a draft"):
            service.delete_item(cycle, sheet, first, first.version, "t")
        with pytest.raises(PlanError, match="only a draft is submitted"):
            service.submit(cycle, sheet, sheet.version, "t")
        # HR returns it with a reason (required), the head adds an item and submits again
        with pytest.raises(PlanError) as info:
            service.return_to_draft(cycle, sheet, "  ", sheet.version, "t")
        assert info.value.errors == {"reason": ["Reason is required."]}
        service.return_to_draft(cycle, sheet, "缺少质量目标", sheet.version, "t")
        assert sheet.state == "draft" and sheet.returned_reason == "缺少质量目标"
        third = service.add_item(cycle, subject, {"title": "质量目标"}, "t")
        service.submit(cycle, sheet, sheet.version, "t")
        # unjudged items block checking, naming them
        service.judge_item(cycle, sheet, first, {"completion": "done", "evidence": "3人到岗", "version": first.version}, "t")
        with pytest.raises(PlanError, match=r"2 item\(s\) are not judged yet: 培训, 质量目标"):
            service.check(cycle, subject, sheet, sheet.version, "t")
        with pytest.raises(PlanError) as info:
            service.judge_item(cycle, sheet, second, {"completion": "maybe", "version": second.version}, "t")
        assert info.value.errors == {"completion": ["Completion: 'maybe' is not allowed; allowed: pending, done, not_done."]}
        service.judge_item(cycle, sheet, second, {"completion": "not_done", "version": second.version}, "t")
        service.judge_item(cycle, sheet, third, {"completion": "not_done", "version": third.version}, "t")
        assert service.check(cycle, subject, sheet, sheet.version, "t") == (3, 1)
        assert subject.inputs["plan"] == {"planned": 3, "completed": 1}
        with pytest.raises(PlanError, match="only a submitted sheet is checked"):
            service.check(cycle, subject, sheet, sheet.version, "t")
        with pytest.raises(PlanError, match="only a submitted sheet is returned"):
            service.return_to_draft(cycle, sheet, "again", sheet.version, "t")


def test_nothing_changes_once_the_cycle_is_in_review(app):
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["HR"])
        item = service.add_item(cycle, subject, {"title": "招聘"}, "t")
        sheet = service.sheet_of(subject)
        service.submit(cycle, sheet, sheet.version, "t")
        service.judge_item(cycle, sheet, item, {"completion": "done", "version": item.version}, "t")
        cycles.transition(cycle, "review", "test")
        with pytest.raises(PlanError, match="The cycle is In review: its plan sheets and adjustments can no longer be changed."):
            service.check(cycle, subject, sheet, sheet.version, "t")
        with pytest.raises(PlanError, match="can no longer be changed"):
            service.set_adjustment(cycle, subject, {"value": "0.5", "kind": "honour", "reason": "r",
                                                    "inputs_version": subject.inputs_version}, "t")


# ----------------------------------------------------------------------------------- concurrency

def test_concurrent_changes_are_detected(app, client):
    cycle_id, ids = make_cycle(app)
    fin = ids["FIN"]
    as_user(client, "fengzhiqiang")
    client.post(f"{base(cycle_id, fin)}/items", data={"title": "资金计划"})
    sheet, (item,) = sheet_row(app, fin)
    # two tabs: one saves the item, the other saves with the version it was opened at
    assert client.post(f"{base(cycle_id, fin)}/items/{item.id}", data={"title": "资金计划(改)", "version": item.version}).status_code == 302
    response = client.post(f"{base(cycle_id, fin)}/items/{item.id}", headers=HTMX,
                           data={"title": "资金计划(另一处)", "version": item.version})
    assert response.status_code == 409 and "changed by someone else" in page_text(response)
    assert sheet_row(app, fin)[1][0].title == "资金计划(改)"
    # the sheet changed (an item was saved) since this page was opened: submitting it is refused
    response = client.post(f"{base(cycle_id, fin)}/submit", headers=HTMX, data={"version": sheet.version})
    assert response.status_code == 409 and sheet_row(app, fin)[0].state == "draft"
    # deleting with a stale version is refused too; with the current one it goes
    current = sheet_row(app, fin)[1][0]
    assert client.post(f"{base(cycle_id, fin)}/items/{item.id}/delete", data={"version": item.version}).status_code == 409
    assert sheet_row(app, fin)[1] != []
    assert client.post(f"{base(cycle_id, fin)}/items/{item.id}/delete", data={"version": current.version}).status_code == 302
    assert sheet_row(app, fin)[1] == []

    # adjustments are locked on the subject's inputs version
    as_user(client, "hr")
    version = inputs_of(app, ids["HR"])[1]
    url = f"/t/jituan/corporate/cycles/{cycle_id}/adjustments/{ids['HR']}"
    good = {"value": "0.5", "kind": "honour", "reason": "获省级表彰", "inputs_version": version}
    assert client.post(url, data=good).status_code == 302
    response = client.post(url, headers=HTMX_RESULTS, data={**good, "value": "-0.5", "kind": "loss", "reason": "x"})
    assert response.status_code == 409 and "changed by someone else" in page_text(response)
    assert inputs_of(app, ids["HR"])[0]["adjust"] == "0.5"


# ----------------------------------------------------------------------------------- access

def test_wrong_users_are_refused(app, client):
    cycle_id, ids = make_cycle(app)
    fin, eng = ids["FIN"], ids["ENG"]
    adjustments = f"/t/jituan/corporate/cycles/{cycle_id}/adjustments"

    as_user(client, "employee")
    assert client.get(base(cycle_id)).status_code == 403
    assert client.get(base(cycle_id, fin)).status_code == 403
    assert client.get(adjustments).status_code == 403

    as_user(client, "tangweimin")  # ENG's head: sees ENG only, never touches FIN
    listing = page_text(client.get(base(cycle_id)))
    assert "/plans/%d\"" % eng in listing and "/plans/%d\"" % fin not in listing
    assert client.get(base(cycle_id, fin)).status_code == 403
    assert client.post(f"{base(cycle_id, fin)}/items", data={"title": "x"}).status_code == 403
    assert client.post(f"{base(cycle_id, eng)}/items", data={"title": "工程进度"}).status_code == 302
    assert client.get(adjustments).status_code == 403
    assert client.post(f"{adjustments}/{eng}", data={"value": "1", "kind": "honour", "reason": "r",
                                                     "inputs_version": "0"}).status_code == 403
    sheet, (item,) = sheet_row(app, eng)
    client.post(f"{base(cycle_id, eng)}/submit", data={"version": sheet.version})
    assert client.post(f"{base(cycle_id, eng)}/check", data={"version": sheet.version + 1}).status_code == 403
    assert client.post(f"{base(cycle_id, eng)}/return", data={"version": sheet.version + 1, "reason": "r"}).status_code == 403

    as_user(client, "president")  # a leader and committee member: views, changes nothing
    assert client.get(base(cycle_id)).status_code == 200
    page = page_text(client.get(base(cycle_id, eng)))
    assert "工程进度" in page and "Check the sheet" not in page and "Add the item" not in page
    assert client.post(f"{base(cycle_id, fin)}/items", data={"title": "x"}).status_code == 403
    assert client.post(f"{base(cycle_id, eng)}/items/{item.id}", data={"completion": "done", "version": item.version}).status_code == 403
    assert client.get(adjustments).status_code == 403

    as_user(client, SUPERVISOR)  # judges and checks, proposes adjustments; does not plan or return
    assert client.post(f"{base(cycle_id, fin)}/items", data={"title": "x"}).status_code == 403
    sheet = sheet_row(app, eng)[0]
    assert client.post(f"{base(cycle_id, eng)}/return", data={"version": sheet.version, "reason": "r"}).status_code == 403
    assert client.get(adjustments).status_code == 200
    assert "Check the sheet" in page_text(client.get(base(cycle_id, eng)))

    # ids of another cycle's subjects, annual cycles for plan sheets, unknown items: not found
    assert client.get(base(cycle_id, 999999)).status_code == 404
    assert client.post(f"{base(cycle_id, eng)}/items/999999", data={"completion": "done"}).status_code == 404
    with tenant(app) as db:
        person = db.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle_id, CycleSubject.kind == "person"))
    assert client.get(base(cycle_id, person)).status_code == 404  # people have no plan sheet


def test_a_tenant_without_the_scheme_has_no_plan_pages(client):
    AuthActions(client).login("xiaoshou", "admin")
    assert client.get("/t/xiaoshou/corporate/cycles/1/plans").status_code == 404
    assert client.get("/t/xiaoshou/corporate/cycles/1/adjustments").status_code == 404


# ----------------------------------------------------------------------------------- the pages

def test_the_list_filters_by_state_and_the_cycle_page_links_here(app, client):
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["FIN"])
        service.add_item(cycle, subject, {"title": "资金计划"}, "t")
        sheet = service.sheet_of(subject)
        service.submit(cycle, sheet, sheet.version, "t")
        db.commit()
    as_user(client, "hr")
    page = page_text(client.get(base(cycle_id)))
    assert "财务" in page or "FIN" in page
    submitted = page_text(client.get(f"{base(cycle_id)}?state=submitted", headers=HTMX_RESULTS))
    assert "<html" not in submitted and "<code>FIN</code>" in submitted and "<code>HR</code>" not in submitted
    assert "No plan sheet is in this state." in page_text(client.get(f"{base(cycle_id)}?state=checked"))
    cycle_page = page_text(client.get(f"/t/jituan/cycles/{cycle_id}"))
    assert f"/corporate/cycles/{cycle_id}/plans" in cycle_page and f"/corporate/cycles/{cycle_id}/adjustments" in cycle_page
    sheet_page = page_text(client.get(base(cycle_id, ids["FIN"])))
    assert "Return to draft" in sheet_page and "Check the sheet" in sheet_page and "Submitted" in sheet_page
    assert "Due by 2026-08-27, at the administration office by 2026-08-30" in sheet_page


def test_item_errors_name_the_field_and_keep_what_was_typed(app, client):
    cycle_id, ids = make_cycle(app)
    as_user(client, "hr")
    response = client.post(f"{base(cycle_id, ids['HR'])}/items", headers=HTMX,
                           data={"title": "", "standard": "按时", "due": "2026-02-30"})
    body = page_text(response)
    assert response.status_code == 422
    assert "Title is required." in body and "Due date: '2026-02-30' is not a date" in body
    assert 'value="按时"' in body  # kept
    assert sheet_row(app, ids["HR"]) == (None, [])  # nothing saved, not even the sheet
    client.post(f"{base(cycle_id, ids['HR'])}/items", data={"title": "招聘"})
    item = sheet_row(app, ids["HR"])[1][0]
    editing = page_text(client.get(f"{base(cycle_id, ids['HR'])}?edit={item.id}", headers=HTMX))
    assert f'form="edit-{item.id}"' in editing and 'value="招聘"' in editing


# ----------------------------------------------------------------------------------- adjustments

@pytest.mark.parametrize("form, field, message", [
    ({"value": "1.5", "kind": "honour", "reason": "r"}, "value", "Value: 1.5 is outside [-1, 1] for class C."),
    ({"value": "abc", "kind": "honour", "reason": "r"}, "value", "Value: 'abc' is not a number; write it like 0.5 or -1."),
    ({"value": "", "kind": "", "reason": ""}, "value", "Value is required; write 0 to remove the adjustment."),
    ({"value": "0.1234567", "kind": "honour", "reason": "r"}, "value", "Value: 0.1234567 has more than 6 decimal places."),
    ({"value": "0.5", "kind": "loss", "reason": "r"}, "kind",
     "Reason category: 'loss' does not fit a bonus of 0.5; allowed: beyond_standard (Beyond the highest standard); "
     "unplanned_key_work (Key work outside the plan); honour (Honour won for the group)."),
    ({"value": "-0.5", "kind": "", "reason": "r"}, "kind",
     "Reason category: none does not fit a penalty of -0.5; allowed: loss (Economic loss or bad consequences); "
     "fraud (Fraud in the assessment)."),
    ({"value": "-0.5", "kind": "fraud", "reason": " "}, "reason",
     "Reason: required for a value other than 0; write why the score is changed."),
])
def test_adjustment_errors_name_the_field_and_the_value(app, form, field, message):
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["J0043"])  # class C
        before = dict(subject.inputs)
        with pytest.raises(PlanError) as info:
            service.set_adjustment(cycle, subject, {**form, "inputs_version": subject.inputs_version}, "t")
        assert info.value.errors[field] == [message]
        assert subject.inputs == before and not db.scalars(select(Adjustment)).all()


def test_adjustments_follow_the_cycles_bounds_and_are_mirrored_into_the_inputs(app, client):
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        unit = db.get(CycleSubject, ids["FIN"])
        service.set_adjustment(cycle, unit, {"value": "+1.0", "kind": "unplanned_key_work", "reason": "完成并购尽调",
                                             "inputs_version": unit.inputs_version}, "user:hr", by="人力资源部")
        assert unit.inputs["adjust"] == "1" and "plan_rate" in unit.inputs  # other keys kept
        db.commit()
        queries = []
        listen = lambda *args: queries.append(args[2])  # noqa: E731
        event.listen(db.get_bind(), "before_cursor_execute", listen)
        try:
            reasons = service.adjustment_reasons(cycle)
        finally:
            event.remove(db.get_bind(), "before_cursor_execute", listen)
        assert len([q for q in queries if "set_config" not in q]) == 1  # (PostgreSQL: + the tenant setting)
        assert reasons == {unit.id: {"value": Fraction(1), "kind": "unplanned_key_work", "reason": "完成并购尽调",
                                     "by": "人力资源部"}}
        assert isinstance(reasons[unit.id]["value"], Fraction)
        # 0 removes both the row and the key
        service.set_adjustment(cycle, unit, {"value": "0", "inputs_version": unit.inputs_version}, "user:hr")
        assert "adjust" not in unit.inputs and service.adjustment_reasons(cycle) == {}
        db.commit()

    # the page: HR sets a class C person's penalty; errors come back in the row (422)
    as_user(client, "hr")
    url = f"/t/jituan/corporate/cycles/{cycle_id}/adjustments"
    person = ids["J0043"]
    version = inputs_of(app, person)[1]
    response = client.post(f"{url}/{person}?q=J0043", headers=HTMX_RESULTS,
                           data={"value": "-2", "kind": "loss", "reason": "x", "inputs_version": version})
    assert response.status_code == 422 and "Value: -2 is outside [-1, 1] for class C." in page_text(response)
    response = client.post(f"{url}/{person}?q=J0043", headers=HTMX_RESULTS,
                           data={"value": "-0.25", "kind": "loss", "reason": "造成返工损失", "inputs_version": version})
    assert response.status_code == 200 and "造成返工损失" in page_text(response)
    assert inputs_of(app, person)[0]["adjust"] == "-0.25"
    only = page_text(client.get(f"{url}?only=1"))
    assert "造成返工损失" in only and "J0001" not in only


def test_annual_cycles_take_adjustments_with_their_own_bounds(app, client):
    cycle_id, ids = make_cycle(app, period="2026", fill=False)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        b_class = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle_id, CycleSubject.staff_class == "B"))
        c_class = db.get(CycleSubject, ids["J0043"])
        service.set_adjustment(cycle, b_class, {"value": "2", "kind": "honour", "reason": "年度特别贡献",
                                                "inputs_version": b_class.inputs_version}, "t")
        assert b_class.inputs["adjust"] == "2"
        with pytest.raises(PlanError) as info:
            service.set_adjustment(cycle, c_class, {"value": "2", "kind": "honour", "reason": "r",
                                                    "inputs_version": c_class.inputs_version}, "t")
        assert info.value.errors["value"] == ["Value: 2 is outside [-1, 1] for class C."]
        db.commit()
    as_user(client, "hr")
    assert client.get(f"/t/jituan/corporate/cycles/{cycle_id}/plans").status_code == 404  # monthly only
    assert client.get(f"/t/jituan/corporate/cycles/{cycle_id}/adjustments").status_code == 200
    cycle_page = page_text(client.get(f"/t/jituan/cycles/{cycle_id}"))
    assert f"/corporate/cycles/{cycle_id}/adjustments" in cycle_page and f"/corporate/cycles/{cycle_id}/plans" not in cycle_page


def test_a_cycles_settings_set_the_bounds(app):
    with tenant(app) as db:
        cycle = cycles.create_cycle("corporate-grading", "2026-10", "十月", {}, "test")
        cycle.settings = {**cycle.settings, "unit_adjust_bounds": {"low": "-0.5", "high": "0.5"}}
        db.flush()
        unit = next(s for s in cycles.subjects(cycle) if s.kind == "unit")
        with pytest.raises(PlanError) as info:
            service.set_adjustment(cycle, unit, {"value": "0.6", "kind": "honour", "reason": "r",
                                                 "inputs_version": unit.inputs_version}, "t")
        assert info.value.errors["value"] == ["Value: 0.6 is outside [-0.5, 0.5] for units."]


# ----------------------------------------------------------------------------------- audit

def test_every_change_is_audited(app):
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["FIN"])
        item = service.add_item(cycle, subject, {"title": "资金计划"}, "user:fengzhiqiang")
        extra = service.add_item(cycle, subject, {"title": "多余"}, "user:fengzhiqiang")
        service.edit_item(cycle, service.sheet_of(subject), item, {"title": "资金计划(改)", "version": item.version},
                          "user:fengzhiqiang")
        sheet = service.sheet_of(subject)
        service.delete_item(cycle, sheet, extra, extra.version, "user:fengzhiqiang")
        service.submit(cycle, sheet, sheet.version, "user:fengzhiqiang")
        service.return_to_draft(cycle, sheet, "请细化", sheet.version, "user:hr")
        service.submit(cycle, sheet, sheet.version, "user:fengzhiqiang")
        service.judge_item(cycle, sheet, item, {"completion": "done", "version": item.version}, "user:zhenghaiyan")
        service.check(cycle, subject, sheet, sheet.version, "user:zhenghaiyan")
        service.set_adjustment(cycle, subject, {"value": "0.5", "kind": "honour", "reason": "获奖",
                                                "inputs_version": subject.inputs_version}, "user:zhenghaiyan")
        db.commit()
        rows = db.execute(select(AuditLog.action, AuditLog.actor, AuditLog.after)
                          .where(AuditLog.action.like("corp.%"), AuditLog.action != "corp.post")
                          .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == [
        "corp.plan.create", "corp.plan.item.add", "corp.plan.item.add", "corp.plan.item.edit", "corp.plan.item.delete",
        "corp.plan.submit", "corp.plan.return", "corp.plan.submit", "corp.plan.item.judge", "corp.plan.check",
        "corp.adjust"]
    assert rows[6].actor == "user:hr" and rows[6].after == {"state": "draft", "reason": "请细化"}
    assert rows[9].after == {"state": "checked", "planned": 1, "completed": 1}
    assert rows[10].after == {"value": "0.5", "kind": "honour", "reason": "获奖"}


def test_hr_reopens_a_checked_sheet_to_correct_a_judgement(app, client):
    """A wrong judgement is corrected: HR reopens the checked sheet with a reason, its counts leave
    the unit's inputs, the item is judged again and the sheet checked again."""
    cycle_id, ids = make_cycle(app)
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["FIN"])
        item = service.add_item(cycle, subject, {"title": "预算分析"}, "t")
        sheet = service.sheet_of(subject)
        service.submit(cycle, sheet, sheet.version, "t")
        service.judge_item(cycle, sheet, item, {"completion": "not_done", "version": item.version}, "t")
        service.check(cycle, subject, sheet, sheet.version, "t")
        with pytest.raises(PlanError) as info:
            service.reopen_checked(cycle, subject, sheet, " ", sheet.version, "t")
        assert info.value.errors == {"reason": ["Reason is required."]}
        db.commit()
    as_user(client, "fengzhiqiang")  # FIN's head: not theirs to reopen
    assert client.post(f"{base(cycle_id, ids['FIN'])}/reopen", data={"reason": "判错了", "version": "1"}).status_code == 403
    as_user(client, "hr")
    sheet, _items = sheet_row(app, ids["FIN"])
    page = client.post(f"{base(cycle_id, ids['FIN'])}/reopen", data={"reason": "预算分析已于月底完成,判定有误",
                                                                     "version": str(sheet.version)},
                       headers={"HX-Request": "true", "HX-Target": "sheet"})
    assert page.status_code == 200 and "reopened" in page.get_data(as_text=True)
    inputs, _version = inputs_of(app, ids["FIN"])
    assert "plan" not in inputs
    with tenant(app) as db:
        cycle = db.get(Cycle, cycle_id)
        subject = db.get(CycleSubject, ids["FIN"])
        sheet = service.sheet_of(subject)
        item = service.items_of(sheet)[0]
        assert sheet.state == "submitted"
        service.judge_item(cycle, sheet, item, {"completion": "done", "version": item.version}, "t")
        assert service.check(cycle, subject, sheet, sheet.version, "t") == (1, 1)
        assert db.scalar(select(AuditLog.after).where(AuditLog.action == "corp.plan.reopen"))["reason"].startswith("预算分析")
