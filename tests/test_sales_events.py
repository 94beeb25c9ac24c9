"""The sales scheme's event log (issue 6, item 1): recording one event (duplicates refused, also under
a race), deleting, who may record and see what, importing an attendance export (.csv / .xlsx, all or
nothing, duplicates skipped and reported), final months, the derived cycle inputs and the scores
they make, the result panel, and other tenants. After the review: no future dates, leave within its
month and never overlapping, undoing an import, events named (not numbered) in messages, "Save and
record another", "My events" for sales staff only, the unit filter, the menu order and the kind labels."""
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
    assert "李志鹏 (X011) already has this event: 2026-09-03, Late arrival × 1, entered by 黄秀英" in page
    assert "Late arrival is recorded at most once a day." in page and "#" not in page[page.index("already has"):][:200]

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
    assert "杨晓帆 (X012) already has this event: 2026-09-05, Early leave × 1, entered by" in text_of(response)
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
    assert "Row 2: X011 already has this event: 2026-09-03, Late arrival × 1, entered by" in page
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
    assert f'href="{BASE}"' in home and "My events" not in home  # HR (X003) is not sales staff


# ----------------------------------------------------------------------------------- other tenants

def test_another_tenant_gets_404_on_the_sales_pages(app, client, auth):
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    event_id = _ids(app)[0]
    assert upload(client, "x.csv", b"number,date,kind\nX014,2026-09-03,late\n").status_code == 200
    with tenant(app, "xiaoshou") as db:
        import_id = db.scalar(select(EventImport.id))
    sales_person = person_id(app, "X011")
    auth.logout("xiaoshou")
    login(client, auth, "hr", "jituan")
    with tenant(app, "jituan") as db:
        own = db.scalar(select(Person.id).limit(1))
    for url in ("/t/jituan/sales/events", "/t/jituan/sales/events/new", "/t/jituan/sales/events/import",
                "/t/jituan/sales/events/template.csv", f"/t/jituan/sales/events/people/{own}",
                f"/t/jituan/sales/events/people/{sales_person}", f"/t/jituan/sales/events/{event_id}/delete",
                f"/t/jituan/sales/events/imports/{import_id}/undo"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/jituan/sales/events/{event_id}/delete").status_code == 404
    assert client.post(f"/t/jituan/sales/events/imports/{import_id}/undo").status_code == 404
    assert client.post("/t/jituan/sales/events/new", data={"number": "X011", "day": "2026-09-04",
                                                            "kind": "late"}).status_code == 404
    assert "/sales/events" not in client.get("/t/jituan/").get_data(as_text=True)  # no menu entry
    assert client.get(f"{BASE}/people/{sales_person}").status_code == 302  # a jituan account is not signed in there
    assert client.post(f"{BASE}/imports/{import_id}/undo").status_code == 302
    assert len(events(app)) == 2


# ----------------------------------------------------------------------------------- review fixes

@pytest.fixture
def today(monkeypatch):
    """Fix the service's today (events are dated today or earlier)."""
    def fix(day: date):
        monkeypatch.setattr(service, "today", lambda: day)
    fix(date(2026, 12, 15))
    return fix


def test_a_future_date_is_refused_on_the_form_and_in_the_import(app, client, auth, today):
    today(date(2026, 11, 21))
    login(client, auth)
    response = client.post(f"{BASE}/new", data={"number": "X011", "day": "2027-07-20", "kind": "late"},
                           headers={"HX-Request": "true", "HX-Target": "event-form"})
    page = text_of(response)
    assert response.status_code == 422
    assert "Date: 2027-07-20 is after today (2026-11-21); an event is dated today or earlier." in page
    assert 'id="ev-day-errors"' in page
    assert add(client, "X011", "2026-11-22", "late").status_code == 422  # tomorrow
    assert events(app) == []
    assert add(client, "X011", "2026-11-21", "late").status_code == 302  # today is fine
    assert "2026-11-21" in text_of(client.get(f"{BASE}/new"))  # the form's default date is today

    body = b"number,date,kind\nX011,2026-11-20,late\nX014,2026-11-22,late\nX014,2027-07-20,praise\n"
    refused = upload(client, "future.csv", body)
    page = text_of(refused)
    assert refused.status_code == 422 and "Nothing was imported: 3 problem(s)." in page
    assert "Row 3, column date: 2026-11-22 is after today (2026-11-21); an event is dated today or earlier." in page
    assert "Row 4, column date: 2027-07-20 is after today (2026-11-21)" in page
    assert "Row 4, column note: a note is required for Customer praise" in page
    assert [e[1] for e in events(app)] == ["2026-11-21"]


def test_a_leave_stays_within_its_month_and_does_not_overlap_another(app, client, auth, today):
    cycle_id = make_cycle(app, "2026-11")
    login(client, auth)
    response = client.post(f"{BASE}/new", data={"number": "X011", "day": "2026-11-28", "kind": "personal_leave_days",
                                                 "quantity": "10"}, headers={"HX-Request": "true",
                                                                             "HX-Target": "event-form"})
    page = text_of(response)
    assert response.status_code == 422 and 'id="ev-quantity-errors"' in page
    assert ("Quantity: 10 days from 2026-11-28 run to 2026-12-07, past the end of 2026-11: record the days of each "
            "month separately; from 2026-11-28 at most 3 days, up to 2026-11-30.") in page
    assert add(client, "X011", "2026-11-28", "personal_leave_days", "3.5").status_code == 422  # 4 calendar days
    assert events(app) == []

    assert add(client, "X011", "2026-11-28", "personal_leave_days", "3").status_code == 302  # 28, 29, 30
    sick = client.post(f"{BASE}/new", data={"number": "X011", "day": "2026-11-29", "kind": "sick_leave_days",
                                            "quantity": "1"}, headers={"HX-Request": "true", "HX-Target": "event-form"})
    page = text_of(sick)
    assert sick.status_code == 409 and 'id="ev-day-errors"' in page
    assert ("Date: Sick leave (days) from 2026-11-29 to 2026-11-29 overlaps the leave 李志鹏 (X011) already has from "
            "2026-11-28 to 2026-11-30: 2026-11-28, Personal leave (days) × 3, entered by 黄秀英") in page
    before = add(client, "X011", "2026-11-26", "personal_leave_days", "2.5")  # 26, 27, 28
    assert before.status_code == 409 and "from 2026-11-26 to 2026-11-28 overlaps the leave" in text_of(before)
    assert add(client, "X011", "2026-11-27", "sick_leave_days", "0.5").status_code == 302  # the 27th alone
    assert add(client, "X011", "2026-11-26", "personal_leave_days", "1").status_code == 302
    assert add(client, "X014", "2026-11-29", "sick_leave_days", "1").status_code == 302  # another person
    assert add(client, "X011", "2026-11-29", "late").status_code == 302  # other kinds are not leave
    assert subject_of(app, cycle_id, "X011").inputs == {
        "events": {"personal_leave_days": "4", "sick_leave_days": "0.5", "late": "1"}}
    assert len(events(app)) == 5


def test_the_import_refuses_leave_past_the_month_or_overlapping_the_log_or_the_file(app, client, auth, today):
    login(client, auth)
    assert add(client, "X011", "2026-11-28", "personal_leave_days", "3").status_code == 302
    body = ("number,date,kind,quantity\n"
            "X011,2026-11-29,病假,1\n"        # row 2: overlaps the log
            "X014,2026-11-10,事假,3\n"        # row 3: the 10th to the 12th
            "X014,2026-11-12,病假,1\n"        # row 4: overlaps row 3
            "X014,2026-11-25,事假,10\n"       # row 5: past the month's end
            "X011,2026-11-28,事假,3\n"        # row 6: the log's event again: skipped, not an overlap
            "X014,2026-11-20,事假,1\n"        # row 7
            "X014,2026-11-20,事假,1\n"        # row 8: row 7 again: skipped
            "X022,2026-11-10,事假,3\n").encode()  # row 9: another person, the same days as row 3
    refused = upload(client, "leave.csv", body)
    page = text_of(refused)
    assert refused.status_code == 422 and "Nothing was imported: 3 problem(s)." in page
    assert ("Row 2, column date: Sick leave (days) from 2026-11-29 to 2026-11-29 overlaps the leave X011 already has "
            "from 2026-11-28 to 2026-11-30 (2026-11-28, Personal leave (days) × 3, entered by 黄秀英") in page
    assert ("Row 4, column date: Sick leave (days) from 2026-11-12 to 2026-11-12 overlaps row 3 (Personal leave (days) "
            "from 2026-11-10 to 2026-11-12) of the same person X014; leave events do not overlap.") in page
    assert ("Row 5, column quantity: 10 days from 2026-11-25 run to 2026-12-04, past the end of 2026-11: record the "
            "days of each month separately; from 2026-11-25 at most 6 days, up to 2026-11-30.") in page
    assert len(events(app)) == 1
    fixed = body.decode().replace("X011,2026-11-29,病假,1\n", "").replace("X014,2026-11-12,病假,1\n", "") \
        .replace("X014,2026-11-25,事假,10\n", "X014,2026-11-25,事假,6\n")
    response = upload(client, "leave.csv", fixed.encode())
    assert response.status_code == 200 and "4 event(s) imported, 2 duplicate(s) skipped." in text_of(response)


def _import_september(client):
    body = ("number,date,kind,quantity,note\n"
            "X011,2026-09-04,late,,\n"
            "X014,2026-09-04,personal_leave_days,1.5,\n"
            "X014,2026-10-02,praise,,客户张先生\n").encode()
    response = upload(client, "九月考勤.csv", body)
    assert response.status_code == 200 and "3 event(s) imported" in text_of(response)


def test_hr_undoes_an_import_after_a_confirmation_step(app, client, auth, today):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302  # entered: not part of the import
    _import_september(client)
    with tenant(app, "xiaoshou") as db:
        batch_id = db.scalar(select(EventImport.id))
    assert subject_of(app, cycle_id, "X014").inputs == {"events": {"personal_leave_days": "1.5"}}
    page = text_of(client.get(f"{BASE}/import"))
    undo = f"{BASE}/imports/{batch_id}/undo"
    assert f'href="{undo}"' in page and "2026-09, 2026-10" in re.sub(r"<[^>]+>", "", page)

    confirm = client.get(undo)
    page = text_of(confirm)
    assert confirm.status_code == 200
    assert ("Undo the import of 九月考勤.csv? Its 3 event(s) in 2026-09, 2026-10 are deleted, and the months' counts "
            "follow at once.") in page
    assert 'name="events" value="3"' in page
    done = client.post(undo, data={"events": "3"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{BASE}/import")
    flashed = text_of(client.get(f"{BASE}/import"))
    assert "Import undone: 九月考勤.csv, 3 event(s) deleted (2026-09, 2026-10)." in flashed and undo not in flashed
    assert events(app) == [("X011", "2026-09-03", "late", "1", "", "entered", None)]
    assert subject_of(app, cycle_id, "X014").inputs == {}
    assert subject_of(app, cycle_id, "X011").inputs == {"events": {"late": "1"}}
    with tenant(app, "xiaoshou") as db:
        assert db.scalar(select(func.count()).select_from(EventImport)) == 0
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "sales_event.import_undo"))
        assert audit.actor == "user:admin" and audit.object_id == str(batch_id)
        assert audit.before == {"filename": "九月考勤.csv", "imported": 3, "duplicates": 0, "events": 3,
                                "months": ["2026-09", "2026-10"], "people": 2}
    assert client.get(undo).status_code == 404
    assert client.post(undo, data={"events": "3"}).status_code == 404


def test_undoing_an_import_is_refused_for_a_published_month_a_stale_count_and_others_than_hr(app, client, auth, today):
    cycle_id = make_cycle(app)
    login(client, auth)
    _import_september(client)
    with tenant(app, "xiaoshou") as db:
        batch_id = db.scalar(select(EventImport.id))
        leave_id = db.scalar(select(SalesEvent.id).where(SalesEvent.kind == "personal_leave_days"))
    undo = f"{BASE}/imports/{batch_id}/undo"
    # the count shown is checked: an event deleted meanwhile makes the confirmation stale
    assert client.post(f"{BASE}/{leave_id}/delete").status_code == 302
    stale = client.post(undo, data={"events": "3"})
    page = text_of(stale)
    assert stale.status_code == 409
    assert ("The events of the import of 九月考勤.csv changed meanwhile: it now holds 2 event(s) (2026-09, 2026-10). "
            "Check them, then confirm again.") in page and 'name="events" value="2"' in page
    assert len(events(app)) == 2

    auth.logout("xiaoshou")
    login(client, auth, "wanghaijun")
    assert client.get(undo).status_code == 403 and client.post(undo, data={"events": "2"}).status_code == 403
    auth.logout("xiaoshou")
    login(client, auth)
    publish(app, cycle_id)
    refused = client.get(undo)
    final = ("The import of 九月考勤.csv cannot be undone: the results of 2026-09 are final (cycle 九月: Published), "
             "and that month's events no longer change.")
    assert refused.status_code == 409 and final in text_of(refused) and "Undo the import</button>" not in text_of(refused)
    posted = client.post(undo, data={"events": "2"})
    assert posted.status_code == 409 and final in text_of(posted)
    assert len(events(app)) == 2
    page = text_of(client.get(f"{BASE}/import"))
    assert f'href="{undo}"' not in page and '<span class="tag">final</span>' in page
    assert client.get(f"{BASE}/imports/999999/undo").status_code == 404


def test_messages_name_the_event_not_its_id(app, client, auth, today):
    login(client, auth)
    recorded = text_of(client.post(f"{BASE}/new", data={"number": "X011", "day": "2026-09-03", "kind": "late"},
                                   follow_redirects=True))
    assert "Recorded: 李志鹏 (X011), 2026-09-03, Late arrival." in recorded
    assert add(client, "X011", "2026-09-04", "personal_leave_days", "1.5").status_code == 302
    leave = text_of(client.get(f"{BASE}/import"))  # the next page shows the flashed message
    assert "Recorded: 李志鹏 (X011), 2026-09-04, Personal leave (days): 1.5." in leave
    event_id = _ids(app)[0]
    assert "Deleted: 李志鹏 (X011), 2026-09-03, Late arrival." in text_of(
        client.post(f"{BASE}/{event_id}/delete", follow_redirects=True))
    for page in (recorded, leave):
        assert f"#{event_id}" not in page
    _import_september(client)
    with tenant(app, "xiaoshou") as db:
        batch = db.scalar(select(EventImport))
    filtered = text_of(client.get(f"{BASE}?month=2026-09&import_id={batch.id}"))
    assert "Only the events imported from 九月考勤.csv on" in filtered and f"import #{batch.id}" not in filtered


def test_save_and_record_another_comes_back_with_the_same_person_and_date(app, client, auth, today):
    login(client, auth)
    person = person_id(app, "X014")
    back = f"{BASE}/people/{person}"
    response = client.post(f"{BASE}/new", data={"number": "X014", "day": "2026-09-07", "kind": "praise",
                                                "note": "客户张先生", "next": back, "another": "1"})
    assert response.status_code == 302
    again = response.headers["Location"]
    assert again.startswith(f"{BASE}/new?") and f"person_id={person}" in again and "day=2026-09-07" in again
    form = text_of(client.get(again))
    assert "Recorded: 陈晓红 (X014), 2026-09-07, Customer praise." in form
    assert 'name="number" value="X014"' in form and 'name="day" value="2026-09-07"' in form
    assert "客户张先生</textarea>" not in form and f'name="next" value="{back}"' in form
    htmx = client.post(f"{BASE}/new", data={"number": "X014", "day": "2026-09-07", "kind": "late", "another": "1"},
                       headers={"HX-Request": "true", "HX-Target": "event-form"})
    assert htmx.status_code == 204 and "day=2026-09-07" in htmx.headers["HX-Redirect"]
    plain = add(client, "X014", "2026-09-08", "late")  # the plain button: to the person's log
    assert plain.headers["Location"].endswith(back)
    assert "Save and record another" in text_of(client.get(f"{BASE}/new"))
    assert len(events(app)) == 3


def test_my_events_is_for_sales_staff_and_an_empty_log_says_so_once(app, client, auth):
    for username, shown in (("admin", False), ("manager", False), ("employee", True), ("wanghaijun", True)):
        login(client, auth, username)
        assert ("My events" in text_of(client.get("/t/xiaoshou/"))) is shown, username
        auth.logout("xiaoshou")
    login(client, auth)
    own = text_of(client.get(f"{BASE}/people/{person_id(app, 'X003')}"))  # HR's own (empty) log
    assert own.count("No events recorded for 黄秀英.") == 1


def test_the_unit_filter_lists_only_units_with_sales_staff(app, client, auth):
    login(client, auth)
    page = text_of(client.get(f"{BASE}?month=2026-09"))
    options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page)
    assert options == ["销售一部 (S1)", "销售二部 (S2)"]
    auth.logout("xiaoshou")
    login(client, auth, "wanghaijun")
    page = text_of(client.get(f"{BASE}?month=2026-09"))
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page) == ["销售一部 (S1)"]


def test_menu_order_and_kind_labels(app):
    from types import SimpleNamespace

    from flask import g

    from plugins.sales_attitude.events import views

    hr = SimpleNamespace(roles=["tenant_admin"], person_id=None, username="hr")
    with app.test_request_context():
        g.tenant = SimpleNamespace(slug="xiaoshou", locale="en")
        items = views.menu_items(g.tenant, hr)  # after the core menu (10–50)
        assert [(i.endpoint, i.order) for i in items] == [("sales_events.index", 61)]
        links = views.cycle_links(SimpleNamespace(period="2026-09", id=1), hr)
        assert [(i.endpoint, i.order) for i in links] == [("sales_events.index", 10)]
    assert service.KIND_ZH == {
        "late": "迟到", "early_leave": "早退", "personal_leave_days": "事假（天）", "sick_leave_days": "病假（天）",
        "overtime": "主动加班", "extra_work": "服从计划外工作安排", "proactive": "主动承担临时任务",
        "shirking": "无故推卸", "praise": "顾客表扬", "complaint": "顾客投诉"}
    assert service.parse_kind("无故推卸") == service.parse_kind("无故推诿") == "shirking"
    assert "shirking (无故推卸)" in service.kinds_text(["shirking"])


# ----------------------------------------------------------------------------------- security review

CRAFTED_NEXT = [
    "/\\evil.example/phish",      # browsers read /\host as //host
    "/\\/evil.example",
    "//evil.example/phish",
    "/\t/evil.example",           # browsers drop the tab: //evil.example
    "/\n/evil.example",
    "/\x00/evil.example",
    "/\u3000evil.example",
    "\\\\evil.example",
    "https://evil.example/t/xiaoshou/",
    "javascript:alert(1)//",
    "evil.example/t/xiaoshou/",
    "/",
    "/t/xiaoshou",                # not inside the tenant's prefix
    "/t/jituan/sales/events",     # another tenant's pages
    "/t/xiaoshou/sales\\..\\..\\evil",
]


def main_of(response) -> str:
    """The page's own content (the header's language form carries the page's address, a path of this site)."""
    page = text_of(response)
    return page[page.index('<main id="content">'):]


@pytest.mark.parametrize("crafted", CRAFTED_NEXT)
def test_next_is_only_a_path_of_the_tenants_own_pages(app, client, auth, today, crafted):
    login(client, auth)
    form = main_of(client.get(f"{BASE}/new", query_string={"next": crafted}))
    assert 'name="next"' not in form and "evil" not in form and f'<a href="{BASE}">Back</a>' in form
    response = client.post(f"{BASE}/new", data={"number": "X011", "day": "2026-09-03", "kind": "late", "next": crafted},
                           headers={"HX-Request": "true", "HX-Target": "event-form"})
    own_log = f"{BASE}/people/{person_id(app, 'X011')}"
    assert response.status_code == 204 and response.headers["HX-Redirect"] == own_log  # the default page
    event_id = _ids(app)[0]
    confirm = main_of(client.get(f"{BASE}/{event_id}/delete", query_string={"next": crafted}))
    assert f'name="next" value="{own_log}"' in confirm and "evil" not in confirm
    deleted = client.post(f"{BASE}/{event_id}/delete", data={"next": crafted}, headers={"HX-Request": "true"})
    assert deleted.status_code == 204 and deleted.headers["HX-Redirect"] == own_log
    assert events(app) == []


def test_the_reported_redirect_is_refused_and_a_tenant_path_is_kept(app, client, auth, today):
    login(client, auth)
    form = main_of(client.get(f"{BASE}/new?next=/%5Cevil.example/phish"))  # the reproduction of the review
    assert "evil.example" not in form
    saved = client.post(f"{BASE}/new?next=/%5Cevil.example/phish",
                        data={"number": "X011", "day": "2026-09-03", "kind": "late", "next": "/\\evil.example/phish"},
                        headers={"HX-Request": "true"})
    assert saved.status_code == 204 and saved.headers["HX-Redirect"] == f"{BASE}/people/{person_id(app, 'X011')}"
    back = f"{BASE}?month=2026-09&kind=late"
    kept = client.post(f"{BASE}/new", data={"number": "X014", "day": "2026-09-03", "kind": "late", "next": back},
                       headers={"HX-Request": "true"})
    assert kept.status_code == 204 and kept.headers["HX-Redirect"] == back
    plain = client.post(f"{BASE}/new", data={"number": "X012", "day": "2026-09-03", "kind": "late",
                                             "next": "//evil.example"})
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"{BASE}/people/{person_id(app, 'X012')}")
    assert "evil" not in plain.headers["Location"]


def test_hr_cannot_import_their_own_events(app, client, auth, today):
    login(client, auth)  # admin is X003
    body = "number,date,kind,note\nX011,2026-09-03,late,\nX003,2026-09-04,late,\nX003,2026-09-05,praise,客户表扬\n"
    refused = upload(client, "own.csv", body.encode())
    page = text_of(refused)
    assert refused.status_code == 422
    assert ("Row 3, column number: X003 is your own number; you do not record your own events: another HR "
            "administrator records them.") in page
    assert "Row 4, column number: X003 is your own number" in page and "Row 2" not in page
    assert events(app) == []
    with tenant(app, "xiaoshou") as db:
        assert db.scalar(select(func.count()).select_from(EventImport)) == 0
    fine = upload(client, "others.csv", b"number,date,kind\nX011,2026-09-03,late\n")
    assert fine.status_code == 200 and events(app)[0][:3] == ("X011", "2026-09-03", "late")
    with tenant(app, "xiaoshou") as db:  # the service refuses it for any caller that names its person
        with pytest.raises(service.ImportRefused) as refusal:
            service.import_rows("x.csv", [["number", "date", "kind"], ["X011", "2026-09-04", "late"]], "test",
                                own_person_id=db.scalar(select(Person.id).where(Person.number == "X011")))
        assert refusal.value.problems == ["Row 2, column number: X011 is your own number; you do not record your own "
                                          "events: another HR administrator records them."]


def test_the_form_prefills_only_people_the_user_records_for(app, client, auth):
    login(client, auth, "zhanglijuan")  # head of S2 (X010)
    other_unit = text_of(client.get(f"{BASE}/new?person_id={person_id(app, 'X014')}"))  # X014 is in S1
    assert "X014" not in other_unit and "陈晓红" not in other_unit
    assert 'name="number" value=""' in other_unit
    own_unit = text_of(client.get(f"{BASE}/new?person_id={person_id(app, 'X022')}"))
    assert 'name="number" value="X022"' in own_unit
    herself = text_of(client.get(f"{BASE}/new?person_id={person_id(app, 'X010')}"))
    assert 'name="number" value=""' in herself
    auth.logout("xiaoshou")
    login(client, auth)
    assert 'name="number" value="X014"' in text_of(client.get(f"{BASE}/new?person_id={person_id(app, 'X014')}"))
    assert 'name="number" value=""' in text_of(client.get(f"{BASE}/new?person_id={person_id(app, 'X003')}"))


def review(app, cycle_id):
    """Ratings for everyone, then open, compute, review (not published)."""
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(cycles.Cycle, cycle_id)
        for row in cycles.subjects(cycle):
            if row.kind == "person":
                cycles.set_inputs(row, cycle, {**(row.inputs or {}), **RATINGS}, row.inputs_version, "test")
        cycles.transition(cycle, "open", "test")
        cycles.compute(cycle, "test")
        cycles.transition(cycle, "review", "test")
        db.commit()


def result_id(app, cycle_id, number) -> int:
    with tenant(app, "xiaoshou") as db:
        return db.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                         .join(Person, Person.id == CycleSubject.person_id)
                         .where(CycleResult.cycle_id == cycle_id, Person.number == number))


def panel_of(client, cycle_id, result) -> str:
    page = text_of(client.get(f"/t/xiaoshou/cycles/{cycle_id}/results/{result}"))
    return page[page.index("Events of 2026-09"):page.index("The person's event log")]


def test_the_panel_marks_events_recorded_after_the_result_was_computed(app, client, auth, today):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    review(app, cycle_id)
    result = result_id(app, cycle_id, "X011")
    before = panel_of(client, cycle_id, result)
    assert "not in this result" not in before and "no longer matches" not in before and "inputs changed" not in before
    assert add(client, "X011", "2026-09-04", "late").status_code == 302  # in review: the inputs follow the log
    assert subject_of(app, cycle_id, "X011").inputs["events"] == {"late": "2"}
    panel = panel_of(client, cycle_id, result)
    assert "The inputs changed after this result was computed" in panel
    assert "computed again before it is published" in panel
    rows = re.findall(r"<tr><td>(2026-09-0\d)</td>.*?</tr>", panel, re.S)
    assert rows == ["2026-09-03", "2026-09-04"]
    assert panel.count("Recorded after the result was computed: not in this result.") == 1
    marked = panel[panel.index("2026-09-04"):]
    assert "Recorded after the result was computed: not in this result." in marked[:marked.index("</tr>")]


def test_the_panel_compares_the_log_with_what_the_published_result_counted(app, client, auth, today):
    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    assert add(client, "X011", "2026-09-10", "praise", note="客户王先生").status_code == 302
    results = publish(app, cycle_id)
    panel = panel_of(client, cycle_id, results["X011"])
    assert "no longer matches" not in panel and "This result counted" not in panel
    with tenant(app, "xiaoshou") as db:  # what slipped past a publication before the lock: written, not counted
        person = db.scalar(select(Person.id).where(Person.number == "X011"))
        db.add(SalesEvent(person_id=person, day=date(2026, 9, 4), kind="late", quantity="1", note="", source="entered",
                          dedupe_key=service.dedupe_key(date(2026, 9, 4), "late", ""), created_by="test"))
        db.execute(SalesEvent.__table__.delete().where(SalesEvent.kind == "praise"))
        db.commit()
    panel = panel_of(client, cycle_id, results["X011"])
    assert "The event log no longer matches what this result counted: the differences are marked below." in panel
    assert "This result counted 1; the log now holds 2." in panel  # late
    assert "This result counted 1; the log now holds 0." in panel  # praise, deleted
    assert panel.count("Recorded after the result was computed: not in this result.") == 1
    assert "inputs changed" not in panel


def test_the_panel_reads_the_signs_and_points_of_the_cycles_own_formulas(app, client, auth, today):
    cycle_id = make_cycle(app)
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(cycles.Cycle, cycle_id)
        cycle.settings = {**(cycle.settings or {}),
                          "attitude_formula": "base - 2 * late + sick_leave_days - overtime",
                          "responsibility_formula": "service - praise + 2 * complaint",
                          "points": {"late": 3, "sick_leave_days": 1}}
        db.commit()
    login(client, auth)
    assert add(client, "X011", "2026-09-03", "late").status_code == 302
    assert add(client, "X011", "2026-09-07", "sick_leave_days", "2").status_code == 302
    assert add(client, "X011", "2026-09-09", "overtime").status_code == 302
    assert add(client, "X011", "2026-09-10", "praise", note="客户王先生").status_code == 302
    assert add(client, "X011", "2026-09-11", "personal_leave_days", "1").status_code == 302  # not in this formula
    results = publish(app, cycle_id)
    with tenant(app, "xiaoshou") as db:
        result = db.get(CycleResult, results["X011"])
        dims = {t["label"]: t["value"] for t in result.breakdown["terms"][0]["terms"]}
        assert dims["attitude"] == 95  # 100 − 2 × 3 + 2 × 1 − 1
        assert dims["responsibility"] == 79  # 80 − 1
    panel = panel_of(client, cycle_id, results["X011"])
    points = dict(re.findall(r'<tr><td>2026-09-\d\d</td><td>([^<]+)</td><td class="number">[^<]+</td>\s*'
                             r'<td class="number">([^<]+)</td>', panel))
    assert points == {"Late arrival": "−6", "Sick leave (days)": "+2", "Voluntary overtime": "−1",
                      "Customer praise": "−1", "Personal leave (days)": "0"}
    with tenant(app, "xiaoshou") as db:
        effects = service.event_effects(db.get(cycles.Cycle, cycle_id).settings)
        assert effects["complaint"] == 2 and effects["shirking"] == 0 and effects["late"] == -6
        defaults = service.event_effects({})
        assert defaults == {"late": -1, "early_leave": -1, "personal_leave_days": -1, "sick_leave_days": 0,
                            "overtime": 1, "extra_work": 1, "proactive": 1, "shirking": -1, "praise": 1,
                            "complaint": -1}
        assert service.event_effects({"attitude_formula": "nonsense +"}) == defaults  # invalid: the defaults


def test_the_panel_checks_who_may_see_the_persons_events(app, client, auth, today):
    from flask import g

    from core.models import Tenant, User
    from plugins.sales_attitude.events import views

    cycle_id = make_cycle(app)
    login(client, auth)
    assert add(client, "X014", "2026-09-03", "late").status_code == 302
    results = publish(app, cycle_id)
    with tenant(app, "xiaoshou") as db, app.test_request_context():
        g.tenant = db.scalar(select(Tenant).where(Tenant.slug == "xiaoshou"))
        cycle = db.get(cycles.Cycle, cycle_id)
        result = db.get(CycleResult, results["X014"])
        subject = db.get(CycleSubject, result.subject_id)

        def shown(username):
            user = db.scalar(select(User).where(User.username == username))
            return str(views.result_panel(cycle, subject, user, result))

        for username in ("admin", "manager", "wanghaijun", "chenxiaohong"):  # HR, leader, S1's head, X014 herself
            assert "Events of 2026-09" in shown(username) and "2026-09-03" in shown(username), username
        for username in ("zhanglijuan", "employee", "zengwei"):  # S2's head, other staff
            assert shown(username) == "", username
        assert "2026-09-03" in str(views.result_panel(cycle, subject))  # no user: the caller checked


def test_the_final_month_check_locks_the_months_cycle_rows(app, today):
    """A publication locks its cycle row (core): while an event change is not committed, the month's
    cycle rows are held by it, so the publication waits (PostgreSQL; SQLite writes one at a time)."""
    from sqlalchemy import event as sa_event, text as sql
    from sqlalchemy.exc import OperationalError

    cycle_id = make_cycle(app)
    engine = app.extensions["jixiao.engine"]
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def held() -> bool:
        if engine.dialect.name != "postgresql":
            return True
        with engine.connect() as other:
            try:
                other.execute(sql("SELECT id FROM cycle WHERE id = :id FOR UPDATE NOWAIT"), {"id": cycle_id})
            except OperationalError:
                return True
            finally:
                other.rollback()
        return False

    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        with tenant(app, "xiaoshou") as db:
            person = db.scalar(select(Person).where(Person.number == "X011"))
            assert held() is (engine.dialect.name != "postgresql")  # nothing holds it yet (PostgreSQL)
            event = service.add_event(service.EventForm(person, date(2026, 9, 3), "late", service.Fraction(1), ""),
                                      "test")
            assert held()
            db.commit()
            assert not held() or engine.dialect.name != "postgresql"
            service.delete_event(db.get(SalesEvent, event.id), "test")
            assert held()
            db.rollback()
            report = service.import_rows("x.csv", [["number", "date", "kind"], ["X014", "2026-09-04", "late"]], "test")
            assert held()
            db.commit()
            service.undo_import(db.get(EventImport, report.import_id), "test")
            assert held()
            db.rollback()
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    if engine.dialect.name == "postgresql":
        locking = [s for s in statements if "FOR UPDATE" in s and "FROM cycle" in s and "NOWAIT" not in s]
        # the four final-month checks lock the month's cycles; the refresh of each change then locks the cycle it writes
        assert len([s for s in locking if "cycle.period IN" in s]) == 4
