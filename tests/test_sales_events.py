"""The sales scheme's event log (issue 6, item 1): recording one event (duplicates refused, also under
a race), deleting, who may record and see what, importing an attendance export (.csv / .xlsx, all or
nothing, duplicates skipped and reported), final months, the derived cycle inputs and the scores
they make, the result panel, and other tenants."""
from __future__ import annotations

import html
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.cycles import service as cycles
from core.models import AuditLog, CycleResult, CycleSubject, Person
from plugins.sales_attitude.events import service
from plugins.sales_attitude.events.models import EventImport, SalesEvent
from tests.test_cycles import tenant

BASE = "/t/xiaoshou/sales/events"
RATINGS = {"ratings": {"basic_ability": "80", "proficiency": "80", "coordination": "80", "service": "80"}}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login(client, auth, username="admin", slug="xiaoshou"):
    client.post("/lang", data={"locale": "en"})
    assert auth.login(slug, username).status_code == 302


def person_id(app, number) -> int:
    with tenant(app, "xiaoshou") as db:
        return db.scalar(select(Person.id).where(Person.number == number))


def events(app, number=None) -> list[tuple]:
    with tenant(app, "xiaoshou") as db:
        statement = select(SalesEvent, Person.number).join(Person, Person.id == SalesEvent.person_id)
        if number:
            statement = statement.where(Person.number == number)
        return [(n, e.day.isoformat(), e.kind, e.quantity, e.note, e.source, e.import_id)
                for e, n in db.execute(statement.order_by(SalesEvent.id))]


def add(client, number, day, kind, quantity="", note=""):
    return client.post(f"{BASE}/new", data={"number": number, "day": day, "kind": kind, "quantity": quantity,
                                             "note": note})


def upload(client, name, body: bytes):
    return client.post(f"{BASE}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(body), name)})


def make_cycle(app, period="2026-09"):
    with tenant(app, "xiaoshou") as db:
        cycle = cycles.create_cycle("sales-attitude", period, "九月", {}, "test")
        db.commit()
        return cycle.id


def subject_of(app, cycle_id, number) -> CycleSubject:
    with tenant(app, "xiaoshou") as db:
        subject = db.scalar(select(CycleSubject).join(Person, Person.id == CycleSubject.person_id)
                            .where(CycleSubject.cycle_id == cycle_id, Person.number == number))
        db.expunge(subject)
        return subject


def publish(app, cycle_id):
    """Ratings for everyone, then open, compute, review, publish. :return: {number: result id}."""
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(cycles.Cycle, cycle_id)
        for row in cycles.subjects(cycle):
            if row.kind == "person":
                cycles.set_inputs(row, cycle, {**(row.inputs or {}), **RATINGS}, row.inputs_version, "test")
        cycles.transition(cycle, "open", "test")
        cycles.compute(cycle, "test")
        cycles.transition(cycle, "review", "test")
        cycles.transition(cycle, "published", "test")
        db.commit()
        return dict(db.execute(select(Person.number, CycleResult.id)
                               .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                               .join(Person, Person.id == CycleSubject.person_id)
                               .where(CycleResult.cycle_id == cycle_id)).all())


# ----------------------------------------------------------------------------------- one event

def test_hr_records_an_event_refuses_a_duplicate_naming_it_and_deletes_it(app, client, auth):
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    assert events(app) == [("X011", "2026-09-03", "late", "1", "", "entered", None)]
    event_id = next(iter(_ids(app)))

    again = add(client, "X011", "2026-09-03", "迟到", note="traffic")  # a daily kind: the note does not matter
    page = text_of(again)
    assert again.status_code == 409
    assert f"李志鹏 (X011) already has this event: event #{event_id} of 2026-09-03: Late arrival × 1" in page
    assert "entered by 黄秀英" in page and "Late arrival is recorded at most once a day." in page

    assert add(client, "X011", "2026-09-03", "praise", note="客户王先生来电表扬").status_code == 302
    twice = add(client, "X011", "2026-09-03", "praise", note="客户王先生来电表扬 ")
    assert twice.status_code == 409 and "describe it in its own note" in text_of(twice)
    assert add(client, "X011", "2026-09-03", "praise", note="客户李女士表扬").status_code == 302
    assert add(client, "X011", "2026-09-04", "personal_leave_days", "1.5").status_code == 302
    assert [e[2:4] for e in events(app)] == [("late", "1"), ("praise", "1"), ("praise", "1"),
                                             ("personal_leave_days", "1.5")]

    month = text_of(client.get(f"{BASE}?month=2026-09"))
    assert "李志鹏" in month and "Personal leave (days)" in month and "客户李女士表扬" in month
    confirm = client.get(f"{BASE}/{event_id}/delete")
    assert confirm.status_code == 200 and "Delete this event?" in text_of(confirm)
    assert client.post(f"{BASE}/{event_id}/delete").status_code == 302
    assert [e[2] for e in events(app)] == ["praise", "praise", "personal_leave_days"]
    assert client.post(f"{BASE}/{event_id}/delete").status_code == 404
    with tenant(app, "xiaoshou") as db:
        actions = list(db.scalars(select(AuditLog.action).where(AuditLog.object_type == "SalesEvent")))
        assert actions.count("sales_event.add") == 4 and actions.count("sales_event.delete") == 1


def _ids(app) -> list[int]:
    with tenant(app, "xiaoshou") as db:
        return list(db.scalars(select(SalesEvent.id).order_by(SalesEvent.id)))


@pytest.mark.parametrize("form, field, message", [
    ({"number": "X999", "day": "2026-09-03", "kind": "late"}, "number",
     "Person number: “X999” is not a person of this organisation."),
    ({"number": "J0001", "day": "2026-09-03", "kind": "late"}, "number",  # a person of jituan is just unknown
     "Person number: “J0001” is not a person of this organisation."),
    ({"number": "X011", "day": "2026-13-03", "kind": "late"}, "day",
     "Date: “2026-13-03” is not a date; write it as YYYY-MM-DD"),
    ({"number": "X011", "day": "2026-09-03", "kind": "nap"}, "kind", "Kind: “nap” is not a kind of event; allowed: late (迟到)"),
    ({"number": "X011", "day": "2026-09-03", "kind": "personal_leave_days", "quantity": "0.3"}, "quantity",
     "Quantity: “0.3” is not allowed for Personal leave (days): days in half-day steps (0.5, 1, 1.5, …), above 0 and at most 31."),
    ({"number": "X011", "day": "2026-09-03", "kind": "sick_leave_days", "quantity": "32"}, "quantity", "at most 31"),
    ({"number": "X011", "day": "2026-09-03", "kind": "late", "quantity": "2"}, "quantity",
     "Quantity: “2” is not allowed for Late arrival: each one is recorded on its own, quantity 1."),
    ({"number": "X011", "day": "2026-09-03", "kind": "complaint"}, "note",
     "Note: a note is required for Customer complaint: name the reason or the customer."),
    ({"number": "X011", "day": "2026-09-03", "kind": "shirking", "note": " "}, "note", "a note is required for Task shirked"),
])
def test_a_bad_input_is_shown_next_to_its_field_and_nothing_is_written(app, client, auth, form, field, message):
    login(client, auth)
    response = client.post(f"{BASE}/new", data=form, headers={"HX-Request": "true", "HX-Target": "event-form"})
    page = text_of(response)
    assert response.status_code == 422 and message in page
    assert f'id="ev-{field}-errors"' in page and "<html" not in page  # the form block alone, errors by the field
    assert events(app) == []


def test_the_unique_constraint_backs_the_duplicate_check_under_a_race(app, client, auth, monkeypatch):
    login(client, auth)
    assert add(client, "X012", "2026-09-05", "early_leave").status_code == 302
    real = service._existing
    calls = []

    def racing(person_id, key):  # the other request's insert is not seen by the check, only by the constraint
        calls.append(key)
        return None if len(calls) == 1 else real(person_id, key)

    monkeypatch.setattr(service, "_existing", racing)
    response = add(client, "X012", "2026-09-05", "early_leave")
    assert response.status_code == 409 and len(calls) == 2
    assert "杨晓帆 (X012) already has this event: event #" in text_of(response)
    assert len(events(app)) == 1


# ----------------------------------------------------------------------------------- who may do what

def test_a_unit_head_records_the_task_and_customer_kinds_of_his_own_people_only(app, client, auth):
    login(client, auth, "wanghaijun")  # head of S1 (X009)
    form = text_of(client.get(f"{BASE}/new"))
    assert "Customer praise" in form and "Late arrival" not in form
    assert add(client, "X014", "2026-09-08", "proactive", note="主动承接展会布置").status_code == 302
    late = add(client, "X014", "2026-09-08", "late")
    assert late.status_code == 422 and "Kind: you do not record Late arrival; you may record overtime (主动加班)" in text_of(late)
    other_unit = add(client, "X022", "2026-09-08", "praise", note="客户表扬")
    assert other_unit.status_code == 422 and "曾伟 (X022) is not in a unit you head" in text_of(other_unit)
    himself = add(client, "X009", "2026-09-08", "overtime")
    assert himself.status_code == 422 and "you do not record your own events" in text_of(himself)
    assert [e[:3] for e in events(app)] == [("X014", "2026-09-08", "proactive")]
    assert client.get(f"{BASE}/import").status_code == 403
    assert client.get(f"{BASE}/people/{person_id(app, 'X022')}").status_code == 403
    listed = text_of(client.get(f"{BASE}?month=2026-09"))
    assert "陈晓红" in listed

    auth.logout("xiaoshou")
    login(client, auth)  # HR's own entry for S1: the unit head may not delete it
    assert add(client, "X014", "2026-09-09", "late").status_code == 302
    hr_event, head_event = _ids(app)[1], _ids(app)[0]
    assert add(client, "X022", "2026-09-09", "late").status_code == 302
    auth.logout("xiaoshou")
    login(client, auth, "wanghaijun")
    assert client.post(f"{BASE}/{hr_event}/delete").status_code == 403
    listed = text_of(client.get(f"{BASE}?month=2026-09"))
    assert "陈晓红" in listed and "曾伟" not in listed  # S2 is not his
    assert client.post(f"{BASE}/{head_event}/delete").status_code == 302
    auth.logout("xiaoshou")
    login(client, auth, "zhanglijuan")
    assert client.get(f"{BASE}/people/{person_id(app, 'X014')}").status_code == 403
    assert client.get(f"{BASE}/{hr_event}/delete").status_code == 403


def test_an_employee_sees_only_his_own_log(app, client, auth):
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    assert add(client, "X014", "2026-09-03", "late").status_code == 302
    auth.logout("xiaoshou")
    login(client, auth, "employee")  # X011
    home = text_of(client.get("/t/xiaoshou/"))
    own = f"{BASE}/people/{person_id(app, 'X011')}"
    assert "My events" in home and f'href="{own}"' in home and f'href="{BASE}"' not in home
    page = text_of(client.get(own))
    assert "Late arrival" in page and "2026-09-03" in page and "Delete…" not in page
    assert client.get(f"{BASE}/people/{person_id(app, 'X014')}").status_code == 403
    assert client.get(f"{BASE}?month=2026-09").status_code == 403
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.post(f"{BASE}/{_ids(app)[1]}/delete").status_code == 403
    assert client.post(f"{BASE}/{_ids(app)[0]}/delete").status_code == 403  # not even his own


def test_a_leader_lists_everyone_but_records_nothing(app, client, auth):
    login(client, auth)
    add(client, "X022", "2026-09-03", "late")
    auth.logout("xiaoshou")
    login(client, auth, "manager")
    assert "曾伟" in text_of(client.get(f"{BASE}?month=2026-09"))
    assert client.get(f"{BASE}/new").status_code == 403


# ----------------------------------------------------------------------------------- the month's log

def test_the_months_log_filters_paginates_and_totals_per_kind(app, client, auth):
    login(client, auth)
    for day in range(1, 29):
        assert add(client, "X011", f"2026-09-{day:02d}", "late").status_code == 302
    add(client, "X014", "2026-09-02", "personal_leave_days", "0.5")
    add(client, "X014", "2026-09-03", "personal_leave_days", "2")
    add(client, "X022", "2026-10-01", "late")
    page = text_of(client.get(f"{BASE}?month=2026-09"))
    assert "1–25 of 30" in page and "<td>2026-10-01</td>" not in page
    totals = re.search(r"<caption>.*?</table>", page, re.S).group(0)
    assert re.findall(r'<td class="number">(?:<span class="muted">)?([\d.]+)', totals)[:3] == ["28", "0", "2.5"]
    only = client.get(f"{BASE}?month=2026-09&kind=personal_leave_days", headers={"HX-Request": "true",
                                                                                  "HX-Target": "results"})
    assert "1–2 of 2" in text_of(only) and "<html" not in text_of(only)  # htmx gets the results block alone
    s2 = person_id(app, "X022")
    with tenant(app, "xiaoshou") as db:
        unit = db.get(Person, s2).unit_id
    october = text_of(client.get(f"{BASE}?month=2026-10&unit_id={unit}"))
    assert "曾伟" in october and "1–1 of 1" in october
    assert "No event matches these filters." in text_of(client.get(f"{BASE}?month=2026-10&number=X011"))
    assert "No events recorded for 2026-08." in text_of(client.get(f"{BASE}?month=2026-08"))
    person = text_of(client.get(f"{BASE}/people/{person_id(app, 'X014')}"))
    assert "2026-09" in person and "2.5" in person


# ----------------------------------------------------------------------------------- import

def test_import_csv_with_a_bom_and_chinese_labels_skips_and_reports_duplicates(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    existing = _ids(app)[0]
    body = ("工号,日期,类型,数量,备注,姓名\n"
            "X011,2026-09-03,迟到,,,李志鹏\n"          # already in the log
            "X011,2026-09-04,迟到,,,李志鹏\n"
            "X014,2026-09-04,事假,1.5,家中有事,陈晓红\n"
            "X014,2026-09-10,顾客表扬,,客户张先生,陈晓红\n"
            "X014,2026-09-10,praise,,客户张先生,陈晓红\n"  # repeats row 5
            "X022,2026-10-02,Early leave,1,,曾伟\n"
            ",,,,,\n").encode("utf-8-sig")
    response = upload(client, "九月考勤.csv", body)
    page = text_of(response)
    assert response.status_code == 200
    assert "九月考勤.csv: 4 event(s) imported, 2 duplicate(s) skipped." in page
    assert f"Row 2: X011 already has this event: event #{existing} of 2026-09-03: Late arrival × 1, entered by" in page
    assert "Row 6: the same event as row 5 (X014, 2026-09-10, Customer praise); skipped." in page
    assert "Columns ignored: 姓名." in page
    with tenant(app, "xiaoshou") as db:
        batch = db.scalar(select(EventImport))
        assert (batch.filename, batch.imported, batch.duplicates, batch.created_by) == ("九月考勤.csv", 4, 2, "user:admin")
    assert events(app)[1:] == [
        ("X011", "2026-09-04", "late", "1", "", "imported", batch.id),
        ("X014", "2026-09-04", "personal_leave_days", "1.5", "家中有事", "imported", batch.id),
        ("X014", "2026-09-10", "praise", "1", "客户张先生", "imported", batch.id),
        ("X022", "2026-10-02", "early_leave", "1", "", "imported", batch.id)]
    assert subject_of(app, cycle_id, "X014").inputs == {"events": {"personal_leave_days": "1.5", "praise": "1"}}
    assert subject_of(app, cycle_id, "X011").inputs == {"events": {"late": "2"}}
    with tenant(app, "xiaoshou") as db:
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "sales_event.import"))
        assert audit.after == {"filename": "九月考勤.csv", "imported": 4, "duplicates": 2,
                               "months": ["2026-09", "2026-10"]}
    again = upload(client, "九月考勤.csv", body)  # the whole file again: everything is a duplicate
    assert again.status_code == 200 and "0 event(s) imported, 6 duplicate(s) skipped." in text_of(again)
    assert len(events(app)) == 5


def test_import_xlsx_with_date_cells_and_english_header(app, client, auth):
    login(client, auth)
    book = Workbook()
    sheet = book.active
    sheet.append(["number", "date", "kind", "quantity", "note"])
    sheet.append(["X012", datetime(2026, 9, 7), "sick_leave_days", 0.5, None])
    sheet.append(["X012", date(2026, 9, 8), "病假", 1, ""])
    sheet.append(["X012", "2026-09-09", "主动加班", None, "周末值守"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, "attendance.xlsx", buffer.getvalue())
    assert response.status_code == 200 and "3 event(s) imported, 0 duplicate(s) skipped." in text_of(response)
    assert [e[1:4] for e in events(app)] == [("2026-09-07", "sick_leave_days", "0.5"),
                                             ("2026-09-08", "sick_leave_days", "1"), ("2026-09-09", "overtime", "1")]


def test_a_bad_row_rejects_the_whole_file_with_every_problem_named(app, client, auth):
    login(client, auth)
    body = ("number,date,kind,quantity,note\n"
            "X011,2026-09-03,late,,\n"
            "X999,2026-09-03,late,,\n"
            "J0001,2026-09-03,late,,\n"      # jituan's person: unknown here
            "X011,2026-09-31,late,,\n"
            "X011,2026-09-05,nap,,\n"
            "X011,2026-09-06,personal_leave_days,0.25,\n"
            "X011,2026-09-07,late,3,\n"
            "X011,2026-09-08,complaint,,\n").encode()
    response = upload(client, "bad.csv", body)
    page = text_of(response)
    assert response.status_code == 422 and "Nothing was imported: 7 problem(s)." in page
    for message in ("Row 3, column number: “X999” is not a person number of this organisation.",
                    "Row 4, column number: “J0001” is not a person number of this organisation.",
                    "Row 5, column date: “2026-09-31” is not a date; write it as YYYY-MM-DD",
                    "Row 6, column kind: “nap” is not a kind of event; allowed: late (迟到), early_leave (早退)",
                    "Row 7, column quantity: “0.25” is not allowed for Personal leave (days)",
                    "Row 8, column quantity: “3” is not allowed for Late arrival",
                    "Row 9, column note: a note is required for Customer complaint"):
        assert message in page
    assert events(app) == []
    with tenant(app, "xiaoshou") as db:
        assert db.scalar(select(func.count()).select_from(EventImport)) == 0
    header = upload(client, "header.csv", b"name,when\nX011,2026-09-03\n")
    assert header.status_code == 422 and "Row 1: the header row lacks the column(s) number, date, kind" in text_of(header)
    other = upload(client, "events.txt", b"number,date,kind\n")
    assert other.status_code == 422 and "upload an .xlsx or .csv file" in text_of(other)
    assert upload(client, "not.xlsx", b"PK nonsense").status_code == 422


def test_import_refuses_files_over_the_size_and_row_limits(app, client, auth):
    login(client, auth)
    big = b"number,date,kind\n" + b"X011,2026-09-03,late," + b"x" * (5 * 1024 * 1024) + b"\n"
    response = upload(client, "big.csv", big)
    assert response.status_code == 422 and "at most 5 MB is imported at once" in text_of(response)
    many = "number,date,kind\n" + "X011,2026-09-03,late\n" * 20_001
    response = upload(client, "many.csv", many.encode())
    assert response.status_code == 422 and "has more than 20,000 rows" in text_of(response)
    assert events(app) == []


def test_the_import_templates_have_the_header_row(app, client, auth):
    login(client, auth)
    csv_file = client.get(f"{BASE}/template.csv")
    assert csv_file.status_code == 200 and csv_file.get_data(as_text=True) == "\ufeffnumber,date,kind,quantity,note\r\n"
    xlsx = client.get(f"{BASE}/template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[1]] == ["number", "date", "kind", "quantity", "note"]
    client.post("/lang", data={"locale": "zh"})
    assert client.get(f"{BASE}/template.csv").get_data(as_text=True).startswith("\ufeff工号,日期,类型,数量,备注")
    auth.logout("xiaoshou")
    auth.login("xiaoshou", "wanghaijun")
    assert client.get(f"{BASE}/template.csv").status_code == 403


# ----------------------------------------------------------------------------------- the cycle

def test_events_make_the_months_inputs_and_scores_and_show_under_the_result(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    assert add(client, "X011", "2026-09-17", "late").status_code == 302
    assert add(client, "X011", "2026-09-21", "personal_leave_days", "1").status_code == 302
    assert add(client, "X011", "2026-09-22", "personal_leave_days", "0.5").status_code == 302
    assert add(client, "X011", "2026-09-23", "sick_leave_days", "2").status_code == 302
    assert add(client, "X011", "2026-10-02", "late").status_code == 302  # another month: not counted
    inputs = subject_of(app, cycle_id, "X011").inputs
    assert inputs["events"] == {"late": "2", "personal_leave_days": "1.5", "sick_leave_days": "2"}
    sick = _ids(app)[4]
    assert client.post(f"{BASE}/{sick}/delete").status_code == 302
    assert subject_of(app, cycle_id, "X011").inputs == {"events": {"late": "2", "personal_leave_days": "1.5"}}

    results = publish(app, cycle_id)
    with tenant(app, "xiaoshou") as db:
        result = db.get(CycleResult, results["X011"])

        def find(node, label):
            if node["label"] == label:
                return node
            return next((f for t in node["terms"] if (f := find(t, label)) is not None), None)

        assert find(result.breakdown, "attitude")["value"] == 96.5
        assert str(result.score) == "82.48"  # 96.5 × 0.15 + 80 × 0.85 = 82.475

    page = text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/results/{results['X011']}"))
    panel = page[page.index("Events of 2026-09"):]
    assert "2026-09-03" in panel and "2026-09-22" in panel and "2026-10-02" not in panel
    assert "−1.5" in panel and "−0.5" in panel and "Personal leave (days)" in panel
    empty = text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/results/{results['X014']}"))
    assert "No events recorded for 2026-09." in empty

    auth.logout("xiaoshou")
    login(client, auth, "employee")
    own = text_of(client.get(f"/t/xiaoshou/results/{results['X011']}"))
    assert "Events of 2026-09" in own and "2026-09-17" in own and "Late arrival" in own


def test_a_published_month_refuses_adding_deleting_and_importing(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    event_id = _ids(app)[0]
    publish(app, cycle_id)
    final = "The results of 2026-09 are final (cycle 九月: Published)"
    refused = add(client, "X011", "2026-09-04", "late")
    assert refused.status_code == 409 and final in text_of(refused) and "goes through an appeal" in text_of(refused)
    deleting = client.post(f"{BASE}/{event_id}/delete")
    assert deleting.status_code == 409 and final in text_of(deleting)
    imported = upload(client, "late.csv", b"number,date,kind\nX011,2026-10-01,late\nX014,2026-09-05,late\n")
    assert imported.status_code == 422
    assert f"Row 3, column date: 2026-09-05 is in 2026-09. {final}" in text_of(imported)
    assert [e[1] for e in events(app)] == ["2026-09-03"]
    assert "Delete…" not in text_of(client.get(f"{BASE}?month=2026-09"))
    assert add(client, "X011", "2026-10-01", "late").status_code == 302  # October is not final


def test_cycle_link_and_menu(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert f'href="{BASE}?month=2026-09"' in text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}"))
    home = text_of(client.get("/t/xiaoshou/"))
    assert f'href="{BASE}"' in home and "My events" in home


# ----------------------------------------------------------------------------------- other tenants

def test_another_tenant_gets_404_on_the_sales_pages(app, client, auth):
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    event_id = _ids(app)[0]
    sales_person = person_id(app, "X011")
    auth.logout("xiaoshou")
    login(client, auth, "hr", "jituan")
    with tenant(app, "jituan") as db:
        own = db.scalar(select(Person.id).limit(1))
    for url in ("/t/jituan/sales/events", "/t/jituan/sales/events/new", "/t/jituan/sales/events/import",
                "/t/jituan/sales/events/template.csv", f"/t/jituan/sales/events/people/{own}",
                f"/t/jituan/sales/events/people/{sales_person}", f"/t/jituan/sales/events/{event_id}/delete"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/jituan/sales/events/{event_id}/delete").status_code == 404
    assert client.post("/t/jituan/sales/events/new", data={"number": "X011", "day": "2026-09-04",
                                                            "kind": "late"}).status_code == 404
    assert "/sales/events" not in client.get("/t/jituan/").get_data(as_text=True)  # no menu entry
    assert client.get(f"{BASE}/people/{sales_person}").status_code == 302  # a jituan account is not signed in there
    assert len(events(app)) == 1
