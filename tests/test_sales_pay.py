"""sales-attitude, pay (绩效工资): the sales staff's pay bases and coefficients (HR only; never one's
own), stored as normalised exact text, edited per row with optimistic locking or imported all or
nothing; the months not yet published follow a change, a published month keeps its pay; the
payroll of a computed month and its .xlsx export, checked to the cent against an independent
Decimal computation of base × coefficient × rounded total / 100 (× 0.8 in training); who may see
what, and tenant isolation."""
from __future__ import annotations

import csv
import html
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from core.cycles import service
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, Person
from plugins.sales_attitude import derived
from plugins.sales_attitude.competence.models import ImprovementPlan
from plugins.sales_attitude.pay import service as pay
from plugins.sales_attitude.pay.models import PayRecord
from tests.test_cycles import tenant

PASSWORD = "jixiao-demo"
CENT = Decimal("0.01")

# number -> (basic ability, proficiency, coordination, service): varied, so totals have cents
RATINGS = {
    "X009": ("88", "92", "79", "85"), "X010": ("91", "87", "83", "90"), "X011": ("90", "85", "70", "75"),
    "X012": ("66", "73", "61", "58"), "X013": ("77", "81", "69", "72"), "X014": ("95", "93", "97", "99"),
    "X015": ("55", "62", "48", "51"), "X016": ("83", "79", "88", "81"), "X017": ("72", "68", "74", "77"),
    "X018": ("99", "100", "98", "97"), "X019": ("70", "70", "70", "70"), "X020": ("81", "84", "86", "79"),
    "X021": ("63", "67", "71", "65"), "X022": ("89", "91", "86", "88"), "X023": ("74", "76", "73", "78"),
    "X024": ("85", "82", "80", "84"), "X025": ("60", "60", "60", "60"), "X026": ("92", "88", "90", "93"),
    "X027": ("65", "65", "65", "65"), "X028": ("78", "80", "77", "82"),
}
# pay records: bases and coefficients that make half-cent cases likely; X012 has none
PAY = {
    "X009": ("8000", "1.5"), "X010": ("8000", "1.375"), "X011": ("6543.21", "1.125"), "X013": ("5999.99", "1.2"),
    "X014": ("7200.5", "0.875"), "X015": ("4800", "1"), "X016": ("6100.05", "1.333"), "X017": ("5555.55", "1.111"),
    "X018": ("9999.99", "2.5"), "X019": ("3000", "1"), "X020": ("6000", "1.05"), "X021": ("5000.01", "0.999"),
    "X022": ("6250", "1.2"), "X023": ("5800", "1.15"), "X024": ("6400.4", "1.07"), "X025": ("3500", "1"),
    "X026": ("7000", "1.3"), "X027": ("5200", "1"), "X028": ("6300.3", "1.01"),
}
HTMX = {"HX-Request": "true", "HX-Target": "pay-table"}
TRAINING = "X013"  # in a training period this month: pay × 0.8
EXCLUDED = {"X019": "Intern", "X025": "Probation", "X027": "Transfer period"}


def login(client, username, tenant_slug="xiaoshou"):
    client.post("/lang", data={"locale": "en"})
    response = client.post(f"/t/{tenant_slug}/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username


def person(db, number) -> Person:
    return db.scalar(select(Person).where(Person.number == number))


def expected_total(basic, proficiency, coordination, service_) -> Decimal:
    """Σ weight × dimension with the default weights (attitude 100: no events), half up: not the engine."""
    exact = (Decimal("0.15") * 100 + Decimal("0.15") * Decimal(basic) + Decimal("0.20") * Decimal(proficiency)
             + Decimal("0.25") * Decimal(service_) + Decimal("0.25") * Decimal(coordination))
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def expected_pay(base, coefficient, total, training) -> Decimal:
    value = Decimal(base) * Decimal(coefficient) * total / 100
    if training:
        value = value * Decimal("0.8")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rated_month(db, period="2026-09", name="九月考评") -> Cycle:
    cycle = service.create_cycle("sales-attitude", period, name, {}, "test")
    service.transition(cycle, "open", "test")
    for row in service.subjects(cycle):
        if row.kind == "person":
            b, p, c, s = RATINGS[row.code]
            ratings = {"basic_ability": b, "proficiency": p, "coordination": c, "service": s}
            service.set_inputs(row, cycle, {**row.inputs, "ratings": ratings}, row.inputs_version, "test")
    return cycle


@pytest.fixture
def computed(app) -> dict:
    """September: pay records set, X013 in training, every rating in, computed (open, not published)."""
    with tenant(app, "xiaoshou") as db:
        for number, (base, coefficient) in PAY.items():
            db.add(PayRecord(person_id=person(db, number).id, base=pay.parse_base(base),
                             coefficient=pay.parse_coefficient(coefficient), updated_by="test"))
        db.add(ImprovementPlan(person_id=person(db, TRAINING).id, kind="training", period="2026-08",
                               listed_months=["2026-06", "2026-07", "2026-08"], goals="goals", actions="actions",
                               start_month="2026-09", end_month="2026-11", created_by="test"))
        db.flush()
        cycle = rated_month(db)
        service.compute(cycle, "test")
        db.commit()
        return {"id": cycle.id}


def payroll_url(month) -> str:
    return f"/t/xiaoshou/sales/cycles/{month['id']}/payroll"


# ----------------------------------------------------------------------------------- values

@pytest.mark.parametrize("value, text", [("6500", "6500.00"), ("6500.5", "6500.50"), (" 0.01 ", "0.01"),
                                         ("10000000", "10000000.00"), (6500.0, "6500.00"), ("6500.50", "6500.50")])
def test_a_pay_base_is_stored_as_normalised_exact_text(value, text):
    assert pay.parse_base(value) == text


@pytest.mark.parametrize("value, text", [("1.2", "1.2"), ("1.20", "1.2"), ("1", "1"), ("0.875", "0.875"),
                                         ("10", "10"), (1.125, "1.125")])
def test_a_pay_coefficient_is_stored_as_normalised_exact_text(value, text):
    assert pay.parse_coefficient(value) == text


@pytest.mark.parametrize("value", ["0", "-5", "abc", "6500.123", "10000000.01", "", "1e3", "6,500"])
def test_a_bad_pay_base_is_refused_naming_the_value_and_what_is_allowed(app, value):
    with app.test_request_context(), force_locale("en"), pytest.raises(pay.PayError) as refused:
        pay.parse_base(value)
    assert "Pay base" in str(refused.value) and repr(value.strip()) in str(refused.value)
    assert "above 0 and at most 10000000 with at most 2 decimals" in str(refused.value)


@pytest.mark.parametrize("value", ["0", "-1", "1.2345", "10.5", "x"])
def test_a_bad_pay_coefficient_is_refused_naming_the_value_and_what_is_allowed(app, value):
    with app.test_request_context(), force_locale("en"), pytest.raises(pay.PayError) as refused:
        pay.parse_coefficient(value)
    assert "Pay coefficient" in str(refused.value) and repr(value) in str(refused.value)
    assert "above 0 and at most 10 with at most 3 decimals" in str(refused.value)


# ----------------------------------------------------------------------------------- access

@pytest.mark.parametrize("username, status", [("admin", 200), ("manager", 403), ("wanghaijun", 403),
                                              ("zhanglijuan", 403), ("employee", 403), ("zengwei", 403)])
def test_only_hr_opens_the_pay_pages(app, client, computed, username, status):
    with tenant(app, "xiaoshou") as db:
        x011 = person(db, "X011").id
        version = db.scalar(select(PayRecord.version).where(PayRecord.person_id == x011))
    login(client, username)
    assert client.get("/t/xiaoshou/sales/pay").status_code == status
    assert client.get("/t/xiaoshou/sales/pay/template").status_code == status
    assert client.get(payroll_url(computed)).status_code == status
    assert client.get(payroll_url(computed) + ".xlsx").status_code == status
    if status == 403:
        response = client.post(f"/t/xiaoshou/sales/pay/{x011}", data={"base": "1", "coefficient": "1",
                                                                       "version": str(version)})
        assert response.status_code == 403
        body = client.get("/t/xiaoshou/").get_data(as_text=True)
        assert 'href="/t/xiaoshou/sales/pay"' not in body


def test_another_tenant_gets_404(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        x011 = person(db, "X011").id
    login(client, "hr", "jituan")
    for url in ("/t/jituan/sales/pay", f"/t/jituan/sales/cycles/{computed['id']}/payroll",
                f"/t/jituan/sales/cycles/{computed['id']}/payroll.xlsx", "/t/jituan/sales/pay/template"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/jituan/sales/pay/{x011}", data={"base": "1", "coefficient": "1"}).status_code == 404
    client.post("/t/jituan/logout")
    with tenant(app, "jituan") as db:  # a jituan person's id on xiaoshou's pages
        jituan_person = db.scalar(select(Person.id).where(Person.staff_class.is_not(None)).limit(1))
    login(client, "admin")
    assert client.post(f"/t/xiaoshou/sales/pay/{jituan_person}", data={"base": "1", "coefficient": "1"}).status_code == 404
    assert client.get("/t/xiaoshou/sales/cycles/999999/payroll").status_code == 404


def test_menu_and_cycle_links(client, computed):
    login(client, "admin")
    assert 'href="/t/xiaoshou/sales/pay"' in client.get("/t/xiaoshou/").get_data(as_text=True)
    page = client.get(f"/t/xiaoshou/cycles/{computed['id']}").get_data(as_text=True)
    assert f'href="{payroll_url(computed)}"' in page
    client.post("/t/xiaoshou/logout")
    login(client, "manager")  # a leader sees the cycle page, not the payroll link
    page = client.get(f"/t/xiaoshou/cycles/{computed['id']}").get_data(as_text=True)
    assert "payroll" not in page


# ----------------------------------------------------------------------------------- editing

def test_hr_sets_pay_and_the_open_months_follow(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        x012 = person(db, "X012").id
    login(client, "admin")
    page = client.get("/t/xiaoshou/sales/pay?missing=1").get_data(as_text=True)
    assert "<code>X012</code>" in page and "<code>X011</code>" not in page
    response = client.post(f"/t/xiaoshou/sales/pay/{x012}", data={"base": "6100.5", "coefficient": "1.250",
                                                                   "version": ""}, headers=HTMX)
    assert response.status_code == 200 and "Pay of 杨晓帆 saved." in response.get_data(as_text=True)
    with tenant(app, "xiaoshou") as db:
        row = db.scalar(select(PayRecord).where(PayRecord.person_id == x012))
        assert (row.base, row.coefficient, row.version, row.updated_by) == ("6100.50", "1.25", 1, "user:admin")
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == computed["id"],
                                                       CycleSubject.person_id == x012))
        assert subject.inputs["pay"] == {"base": "6100.50", "coefficient": "1.25"}
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "sales.pay", AuditLog.object_id == str(row.id)))
        assert audit.before == {"base": None, "coefficient": None}
        assert audit.after == {"base": "6100.50", "coefficient": "1.25", "person": "X012"}
        assert audit.actor == "user:admin"
    # a change: audited with before and after
    client.post(f"/t/xiaoshou/sales/pay/{x012}", data={"base": "6200", "coefficient": "1.25", "version": "1"})
    with tenant(app, "xiaoshou") as db:
        audits = list(db.scalars(select(AuditLog).where(AuditLog.action == "sales.pay").order_by(AuditLog.id)))
        assert audits[-1].before == {"base": "6100.50", "coefficient": "1.25"}
        assert audits[-1].after["base"] == "6200.00"


@pytest.mark.parametrize("field, value, message", [
    ("base", "0", "Pay base: '0' is not allowed"), ("base", "6500.123", "Pay base: '6500.123' is not allowed"),
    ("base", "10000001", "at most 10000000"), ("coefficient", "1.2345", "Pay coefficient: '1.2345' is not allowed"),
    ("coefficient", "11", "at most 10 with at most 3 decimals"), ("coefficient", "abc", "'abc' is not allowed")])
def test_bad_pay_is_refused_with_422_and_nothing_written(app, client, computed, field, value, message):
    with tenant(app, "xiaoshou") as db:
        x011 = person(db, "X011").id
        before = db.scalar(select(PayRecord).where(PayRecord.person_id == x011))
        version, base, coefficient = before.version, before.base, before.coefficient
    login(client, "admin")
    data = {"base": "7000", "coefficient": "1.1", "version": str(version), field: value}
    response = client.post(f"/t/xiaoshou/sales/pay/{x011}", data=data, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in html.unescape(body) and f'value="{value}"' in body
    with tenant(app, "xiaoshou") as db:
        after = db.scalar(select(PayRecord).where(PayRecord.person_id == x011))
        assert (after.version, after.base, after.coefficient) == (version, base, coefficient)


def test_a_stale_pay_version_is_refused_with_409(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        x011 = person(db, "X011").id
    login(client, "admin")
    assert client.post(f"/t/xiaoshou/sales/pay/{x011}", data={"base": "7000", "coefficient": "1.1",
                                                               "version": "1"}).status_code == 302
    response = client.post(f"/t/xiaoshou/sales/pay/{x011}", data={"base": "7100", "coefficient": "1.1", "version": "1"},
                           headers=HTMX)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "changed by someone else" in body and 'value="7100"' in body
    # a new record for someone who has one already: stale too
    response = client.post(f"/t/xiaoshou/sales/pay/{x011}", data={"base": "7100", "coefficient": "1.1", "version": ""})
    assert response.status_code == 409
    with tenant(app, "xiaoshou") as db:
        row = db.scalar(select(PayRecord).where(PayRecord.person_id == x011))
        assert (row.base, row.version) == ("7000.00", 2)


def test_hr_never_sets_their_own_pay(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        own = person(db, "X003")  # admin's person, made a sales staff member for the test
        own.staff_class = "staff"
        db.commit()
        own_id = own.id
    login(client, "admin")
    assert client.post(f"/t/xiaoshou/sales/pay/{own_id}", data={"base": "9000", "coefficient": "2",
                                                                 "version": ""}).status_code == 403
    page = client.get("/t/xiaoshou/sales/pay?q=X003").get_data(as_text=True)
    assert "Your own pay is set by another HR administrator." in page
    response = client.post("/t/xiaoshou/sales/pay/import", data={"file": (io.BytesIO(
        "number,base,coefficient\nX003,9000,2\n".encode()), "pay.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422 and "X003 is your own record" in response.get_data(as_text=True)
    with tenant(app, "xiaoshou") as db:
        assert db.scalar(select(PayRecord).where(PayRecord.person_id == own_id)) is None


def test_people_outside_the_sales_staff_have_no_pay(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        x001 = person(db, "X001").id  # the general manager: no staff class
    login(client, "admin")
    assert client.post(f"/t/xiaoshou/sales/pay/{x001}", data={"base": "1", "coefficient": "1"}).status_code == 404
    assert "<code>X001</code>" not in client.get("/t/xiaoshou/sales/pay").get_data(as_text=True)


def test_removing_pay_is_confirmed_and_the_open_month_follows(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        x011 = person(db, "X011").id
    login(client, "admin")
    page = client.get("/t/xiaoshou/sales/pay?q=X011").get_data(as_text=True)
    assert "hx-confirm" in page and f"/t/xiaoshou/sales/pay/{x011}/remove" in page
    assert client.post(f"/t/xiaoshou/sales/pay/{x011}/remove", data={"version": "9"}).status_code == 409
    assert client.post(f"/t/xiaoshou/sales/pay/{x011}/remove", data={"version": "1"}).status_code == 302
    with tenant(app, "xiaoshou") as db:
        assert db.scalar(select(PayRecord).where(PayRecord.person_id == x011)) is None
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == computed["id"],
                                                       CycleSubject.person_id == x011))
        assert "pay" not in subject.inputs


def test_a_published_month_keeps_the_pay_it_was_computed_with(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, computed["id"])
        service.transition(cycle, "review", "test")
        service.transition(cycle, "published", "test")
        db.commit()
        x011 = person(db, "X011").id
    login(client, "admin")
    assert client.post(f"/t/xiaoshou/sales/pay/{x011}", data={"base": "9000", "coefficient": "2",
                                                               "version": "1"}).status_code == 302
    with tenant(app, "xiaoshou") as db:
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == computed["id"],
                                                       CycleSubject.person_id == x011))
        assert subject.inputs["pay"] == {"base": "6543.21", "coefficient": "1.125"}


# ----------------------------------------------------------------------------------- import

def upload(client, text: str, name="pay.csv"):
    return client.post("/t/xiaoshou/sales/pay/import", data={"file": (io.BytesIO(text.encode("utf-8")), name)},
                       content_type="multipart/form-data")


def test_import_with_chinese_headers_and_the_readable_row(app, client, computed):
    login(client, "admin")
    text = ("\ufeff工号,姓名,绩效工资基数,绩效工资系数,版本\n工号,姓名,绩效工资基数,绩效工资系数,版本\nX012,杨晓帆,5800.8,1.05,\n"
            "X011,,7000,,1\n\n")
    response = upload(client, text)
    assert response.status_code == 302
    assert "2 pay record(s) changed from pay.csv." in client.get(response.headers["Location"]).get_data(as_text=True)
    with tenant(app, "xiaoshou") as db:
        records = {r.person_id: r for r in db.scalars(select(PayRecord))}
        x011, x012 = person(db, "X011").id, person(db, "X012").id
        assert (records[x012].base, records[x012].coefficient) == ("5800.80", "1.05")
        assert (records[x011].base, records[x011].coefficient) == ("7000.00", "1.125")  # empty cell: kept
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == computed["id"],
                                                       CycleSubject.person_id == x012))
        assert subject.inputs["pay"] == {"base": "5800.80", "coefficient": "1.05"}
        assert db.scalar(select(AuditLog).where(AuditLog.action == "sales.pay",
                                                AuditLog.object_id == str(records[x012].id))) is not None


def test_an_xlsx_import_with_numbers_as_cells(app, client, computed):
    book = Workbook()
    sheet = book.active
    sheet.append(["number", "name", "unit", "base", "coefficient", "version"])
    sheet.append(["X012", "杨晓帆", "销售一部", 5800, 1.125, None])
    sheet.append(["X011", "李志鹏", "销售一部", 6543.21, 1.125, 1])  # unchanged; the version a number cell
    out = io.BytesIO()
    book.save(out)
    login(client, "admin")
    response = client.post("/t/xiaoshou/sales/pay/import", data={"file": (io.BytesIO(out.getvalue()), "pay.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "1 pay record(s) changed" in client.get(response.headers["Location"]).get_data(as_text=True)
    with tenant(app, "xiaoshou") as db:
        row = db.scalar(select(PayRecord).where(PayRecord.person_id == person(db, "X012").id))
        assert (row.base, row.coefficient) == ("5800.00", "1.125")


def test_import_is_all_or_nothing_with_problems_by_row_and_column(app, client, computed):
    login(client, "admin")
    text = ("number,base,coefficient,bonus\n")
    response = upload(client, text)
    assert response.status_code == 422 and "Row 1: unknown column(s) bonus" in response.get_data(as_text=True)
    text = ("number,base,coefficient,version\nX012,5800,1.05,\nX011,0,1,1\nX999,5000,1,\nX012,5000,1,\n"
            "X001,5000,1,\nX014,7000,1.2345,1\nX028,,,\n")
    response = upload(client, text)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for problem in ("Nothing was imported: 5 problem(s).", "Row 3, column base: &#39;0&#39; is not allowed",
                    "Row 4, column number: X999 is not a sales staff member",
                    "Row 5, column number: X012 already appears in row 2",
                    "Row 6, column number: X001 is not a sales staff member",
                    "Row 7, column coefficient: &#39;1.2345&#39; is not allowed"):
        assert problem in body, problem
    with tenant(app, "xiaoshou") as db:
        assert db.scalar(select(PayRecord).where(PayRecord.person_id == person(db, "X012").id)) is None
    response = upload(client, "number,base\nX012,5800\n")  # no record yet: both are needed
    assert response.status_code == 422 and "Row 2, column coefficient: empty" in response.get_data(as_text=True)
    response = upload(client, "name,base\nx,1\n")
    assert response.status_code == 422 and "the column number (工号) is missing" in response.get_data(as_text=True)
    assert upload(client, "whatever", name="pay.txt").status_code == 422


def test_the_import_template_lists_the_sales_staff_with_their_pay(client, computed):
    login(client, "admin")
    response = client.get("/t/xiaoshou/sales/pay/template?format=csv")
    template_text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(template_text.lstrip("\ufeff"))))
    assert rows[0] == ["number", "name", "unit", "base", "coefficient", "version"]
    assert rows[1] == ["工号", "姓名", "单位", "绩效工资基数", "绩效工资系数", "版本"]
    by_number = {r[0]: r for r in rows[2:]}
    assert len(by_number) == 20 and by_number["X011"][3:] == ["6543.21", "1.125", "1"]
    assert by_number["X012"][3:] == ["", "", ""]  # no pay record: no version
    response = client.get("/t/xiaoshou/sales/pay/template")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == ["number", "name", "unit", "base", "coefficient", "version"]
    assert response.headers["Cache-Control"] == "no-store"
    # the template as downloaded imports again, changing nothing
    response = upload(client, template_text)
    assert response.status_code == 302
    assert "0 pay record(s) changed" in client.get(response.headers["Location"]).get_data(as_text=True)


def pay_of(app, number) -> tuple:
    with tenant(app, "xiaoshou") as db:
        row = db.scalar(select(PayRecord).where(PayRecord.person_id == person(db, number).id))
        return (row.base, row.coefficient, row.version) if row else None


def test_an_old_template_never_undoes_a_newer_change(app, client, computed):
    """The lost update: HR A downloads the template, HR B saves X011's base, A imports the old sheet:
    refused, the row named with the version it carries and the one allowed; nothing written."""
    login(client, "admin")
    sheet = client.get("/t/xiaoshou/sales/pay/template?format=csv").get_data(as_text=True)  # A's download
    with tenant(app, "xiaoshou") as db:
        x011 = person(db, "X011").id
    assert client.post(f"/t/xiaoshou/sales/pay/{x011}", data={"base": "9999.00", "coefficient": "1.125",
                                                               "version": "1"}).status_code == 302  # B's save
    assert pay_of(app, "X011") == ("9999.00", "1.125", 2)
    rows = list(csv.reader(io.StringIO(sheet.lstrip("\ufeff"))))
    line = next(i for i, r in enumerate(rows, start=1) if r[0] == "X011")
    x012 = next(r for r in rows if r[0] == "X012")
    x012[3:5] = ["5800", "1.05"]  # A also sets a new record, which would be fine on its own
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    response = upload(client, out.getvalue())
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert (f"Row {line}, column version: '1' is not the current version of the pay of X011: it was changed by "
            "someone else since the template was downloaded; allowed: 2. Download the template again.") in body
    assert "Nothing was imported: 1 problem(s)." in body
    assert pay_of(app, "X011") == ("9999.00", "1.125", 2) and pay_of(app, "X012") is None  # all or nothing
    # the template downloaded again carries the new version, and imports
    fresh = client.get("/t/xiaoshou/sales/pay/template?format=csv").get_data(as_text=True)
    assert next(r for r in csv.reader(io.StringIO(fresh.lstrip("\ufeff"))) if r[0] == "X011")[3:] == \
        ["9999.00", "1.125", "2"]
    assert upload(client, "number,base,coefficient,version\nX011,9000,1.125,2\nX012,5800,1.05,\n").status_code == 302
    assert pay_of(app, "X011") == ("9000.00", "1.125", 3) and pay_of(app, "X012") == ("5800.00", "1.05", 1)


@pytest.mark.parametrize("sheet, problem", [
    # no version column at all: every row of a person with a record is refused
    ("number,base,coefficient\nX011,7000,1.1\n",
     "Row 2, column version: empty, but X011 has a pay record: without the version of the template its pay may have "
     "been changed by someone else since the template was downloaded; allowed: 1 (the current version)."),
    ("number,base,version\nX011,7000,\n", "Row 2, column version: empty, but X011 has a pay record"),
    ("number,base,version\nX011,7000,2\n", "Row 2, column version: '2' is not the current version of the pay of "
                                              "X011"),
    ("number,base,version\nX011,7000,abc\n", "Row 2, column version: 'abc' is not the current version"),
    # a version for a person without a record: the record was removed since the template was made
    ("number,base,coefficient,version\nX012,5800,1.05,1\n",
     "Row 2, column version: '1', but X012 has no pay record now (it may have been removed by someone else since "
     "the template was downloaded); allowed: empty. Download the template again."),
])
def test_an_import_row_without_the_current_version_is_refused(app, client, computed, sheet, problem):
    login(client, "admin")
    response = upload(client, sheet)
    assert response.status_code == 422 and problem in html.unescape(response.get_data(as_text=True))
    assert pay_of(app, "X011") == ("6543.21", "1.125", 1) and pay_of(app, "X012") is None


def test_new_pay_records_need_no_version(app, client, computed):
    login(client, "admin")
    response = upload(client, "number,base,coefficient\nX012,5800,1.05\n")
    assert response.status_code == 302 and pay_of(app, "X012") == ("5800.00", "1.05", 1)


# ----------------------------------------------------------------------------------- payroll

def test_the_payroll_export_is_exact_to_the_cent(app, client, computed):
    with tenant(app, "xiaoshou") as db:  # the engine's view of training: from the plan
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == computed["id"],
                                                       CycleSubject.code == TRAINING))
        assert subject.inputs["training"] is True
    login(client, "admin")
    response = client.get(payroll_url(computed) + ".xlsx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert header == ["Number", "Name of person", "Unit", "Class", "Status", "Total", "Pay base", "Pay coefficient",
                      "In training (80%)", "Performance pay", "Notes"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    totals = rows.pop()
    people = {r[0]: r for r in rows}
    assert set(people) == set(RATINGS)
    total_pay = Decimal("0.00")
    for number, row in people.items():
        _n, _name, _unit, staff_class, status, total, base, coefficient, training, amount, note = row
        assert staff_class == ("Sales supervisor" if number in ("X009", "X010") else "Salesperson"), number
        if number in EXCLUDED:
            assert status == EXCLUDED[number] and amount is None and total is None
            assert note == f"excluded: {EXCLUDED[number]}"
            continue
        expected = expected_total(*RATINGS[number])
        assert Decimal(str(total)) == expected, number
        if number not in PAY:
            assert amount is None and base is None and note == "no pay base"
            continue
        wanted = expected_pay(*PAY[number], expected, number == TRAINING)
        assert Decimal(str(amount)) == wanted, (number, amount, wanted)
        assert Decimal(str(base)) == Decimal(PAY[number][0]) and Decimal(str(coefficient)) == Decimal(PAY[number][1])
        assert (training == "yes") == (number == TRAINING) and note in ("", None)
        total_pay += wanted
    assert Decimal(str(totals[9])) == total_pay and totals[1] == "Total"
    assert totals[10] == f"{len(PAY) - 3} paid"  # X019, X025 and X027 excluded; X012 has no record
    # the cells are numbers with 2 decimals, written exactly (no binary float drift in the file)
    raw = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == TRAINING)
    assert raw[9].data_type == "n" and raw[9].number_format == "#,##0.00"
    assert raw[7].number_format == "0.0##"  # the coefficient as stored: 1.2, 1.125 (1 shows as 1.0)
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(response.data)).read("xl/worksheets/sheet1.xml").decode()
    training_pay = expected_pay(*PAY[TRAINING], expected_total(*RATINGS[TRAINING]), True)
    assert f"<v>{training_pay}</v>" in xml


def test_the_payroll_equals_the_engines_pay(app, computed):
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, computed["id"])
        table = pay.payroll(cycle)
        results = {r.subject_id: r for r in db.scalars(select(CycleResult).where(CycleResult.cycle_id == cycle.id))}
        for row in table.rows:
            engine = results[row.subject.id].extra.get("pay")
            assert (row.pay is None and engine is None) or str(row.pay) == engine
        assert table.excluded == 3 and table.without_base == 1 and table.paid == len(PAY) - 3
        assert table.total_pay == sum(r.pay for r in table.rows if r.pay is not None)
        assert [r.subject.code for r in table.rows if r.training] == [TRAINING]


def test_the_payroll_reads_neither_breakdowns_nor_whole_inputs(app, computed):
    """At 10,000 people the breakdowns and the inputs (events, history) are most of the data: the
    payroll reads the results' score, flags and extra and the inputs' pay and training only."""
    from sqlalchemy import event

    with tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, computed["id"])
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.get_bind(), "before_cursor_execute", listen)
        try:
            table = pay.payroll(cycle)
        finally:
            event.remove(db.get_bind(), "before_cursor_execute", listen)
        assert len(table.rows) == 20 and len(statements) <= 4, statements
        for statement in statements:
            assert "breakdown" not in statement, statement
            assert not re.search(r"(?<!\()cycle_subject\.inputs(\s*,|\s+AS\b|\s+FROM\b)", statement), statement


def test_the_payroll_page_says_whether_the_results_are_published(app, client, computed):
    login(client, "admin")
    page = client.get(payroll_url(computed)).get_data(as_text=True)
    assert "Computed, not yet published" in page and "excluded: Intern" in page and "no pay base" in page
    assert "Inputs changed after" not in page
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, computed["id"])
        service.transition(cycle, "review", "test")
        service.transition(cycle, "published", "test")
        db.commit()
    page = client.get(payroll_url(computed)).get_data(as_text=True)
    assert "Published results" in page


def test_a_month_not_computed_has_no_payroll(app, client):
    with tenant(app, "xiaoshou") as db:
        cycle = service.create_cycle("sales-attitude", "2026-10", "十月", {}, "test")
        db.commit()
        month = {"id": cycle.id}
    login(client, "admin")
    page = client.get(payroll_url(month)).get_data(as_text=True)
    assert "not computed yet" in page and "Export to Excel" not in page
    assert client.get(payroll_url(month) + ".xlsx").status_code == 409
    assert f'href="{payroll_url(month)}"' not in client.get(f"/t/xiaoshou/cycles/{month['id']}").get_data(as_text=True)


def test_a_pay_change_after_computing_is_flagged_on_the_payroll(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        x012 = person(db, "X012")
        db.add(PayRecord(person_id=x012.id, base="5000.00", coefficient="1", updated_by="test"))
        db.flush()
        derived.refresh_people([x012.id], "test")
        db.commit()
    login(client, "admin")
    page = client.get(payroll_url(computed)).get_data(as_text=True)
    assert "Inputs changed after the results were computed" in page
    assert "compute again" in page


def test_leaders_and_unit_heads_do_not_see_pay_on_result_pages(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        result_id = db.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                              .where(CycleResult.cycle_id == computed["id"], CycleSubject.code == "X011"))
    login(client, "manager")
    page = client.get(f"/t/xiaoshou/cycles/{computed['id']}/results/{result_id}").get_data(as_text=True)
    assert "6543.21" not in page and "6,543.21" not in page


def publish(app, month) -> None:
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, month["id"])
        service.transition(cycle, "review", "test")
        service.transition(cycle, "published", "test")
        db.commit()


def test_a_published_month_never_asks_to_compute_again(app, client, computed):
    publish(app, computed)
    login(client, "admin")
    page = client.get(payroll_url(computed)).get_data(as_text=True)
    assert "Published results" in page and "compute the results again" not in page and 'id="changed-after"' not in page
    with tenant(app, "xiaoshou") as db:  # an input of the published month changed after its results
        cycle = db.get(Cycle, computed["id"])
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id, CycleSubject.code == "X011"))
        from datetime import timedelta

        subject.inputs_updated_at = cycle.computed_at + timedelta(hours=1)
        db.commit()
        table = pay.payroll(db.get(Cycle, computed["id"]))
        assert table.published and table.changed_after and not table.stale
    for state in ("published", "closed"):
        if state == "closed":
            with tenant(app, "xiaoshou") as db:
                service.transition(db.get(Cycle, computed["id"]), "closed", "test")
                db.commit()
        page = html.unescape(client.get(payroll_url(computed)).get_data(as_text=True))
        assert "compute the results again" not in page and "compute again" not in page, state
        assert ("Some of this month's inputs changed after its results were computed: those changes are not in this "
                "pay, which stays as published. A correction goes through an appeal.") in page, state


def test_the_unpublished_month_asks_to_compute_again_only_when_inputs_changed(app, client, computed):
    login(client, "admin")
    page = client.get(payroll_url(computed)).get_data(as_text=True)
    assert "Computed, not yet published" in page and 'id="stale"' not in page
    with tenant(app, "xiaoshou") as db:
        x012 = person(db, "X012")
        db.add(PayRecord(person_id=x012.id, base="5000.00", coefficient="1", updated_by="test"))
        db.flush()
        derived.refresh_people([x012.id], "test")
        db.commit()
        table = pay.payroll(db.get(Cycle, computed["id"]))
        assert table.stale and not table.changed_after and not table.published
    page = client.get(payroll_url(computed)).get_data(as_text=True)
    assert 'id="stale"' in page and "Published results" not in page


def test_the_pay_page_lists_the_months_with_their_payroll(app, client, computed):
    with tenant(app, "xiaoshou") as db:
        october = service.create_cycle("sales-attitude", "2026-10", "十月考评", {}, "test")
        earlier = service.create_cycle("sales-attitude", "2025-12", "十二月考评", {}, "test")
        db.commit()
        october_id, earlier_id = october.id, earlier.id
    login(client, "admin")
    page = html.unescape(client.get("/t/xiaoshou/sales/pay").get_data(as_text=True))
    months = page[page.index('id="payroll-months"'):page.index("</table>", page.index('id="payroll-months"'))]
    assert months.index(f'id="month-{october_id}"') < months.index(f'id="month-{computed["id"]}"')  # newest first
    september = re.search(rf'<tr id="month-{computed["id"]}">.*?</tr>', months, re.S).group(0)
    assert f'href="{payroll_url(computed)}"' in september and f'href="{payroll_url(computed)}.xlsx"' in september
    october_row = re.search(rf'<tr id="month-{october_id}">.*?</tr>', months, re.S).group(0)
    assert "Not computed yet." in october_row and "payroll" not in october_row
    assert f'id="month-{earlier_id}"' not in months  # another year: chosen in the year list
    assert '<option value="2025"' in page
    older = html.unescape(client.get("/t/xiaoshou/sales/pay?year=2025").get_data(as_text=True))
    assert f'id="month-{earlier_id}"' in older and f'id="month-{october_id}"' not in older
    assert "2026-10" in html.unescape(client.get("/t/xiaoshou/sales/pay?year=1999").get_data(as_text=True))
    # the payroll leads back to the months
    assert 'href="/t/xiaoshou/sales/pay?year=2026"' in client.get(payroll_url(computed)).get_data(as_text=True)


def test_the_pay_pages_name_the_staff_classes_and_show_coefficients_as_stored(app, client, computed):
    login(client, "admin")
    page = client.get("/t/xiaoshou/sales/pay").get_data(as_text=True)
    assert "绩效工资基数、系数" not in page and "<h1>Pay</h1>" in page
    x011 = re.search(r'<tr id="pay-\d+" >\s*<td><code>X011</code>.*?</tr>', page, re.S).group(0)
    assert "<td>Salesperson</td>" in x011 and 'value="1.125"' in x011
    payroll = client.get(payroll_url(computed)).get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><code>X009</code>.*?</tr>", payroll, re.S).group(0)
    assert "<td>Sales supervisor</td>" in row and '<td class="number">1.5</td>' in row
    assert "<th>Notes</th>" in payroll and "<th>Name of person</th>" in payroll
    for raw in ("<td>staff</td>", "<td>supervisor</td>"):
        assert raw not in page and raw not in payroll
    client.post("/lang", data={"locale": "zh"})
    page = client.get("/t/xiaoshou/sales/pay").get_data(as_text=True)
    payroll = client.get(payroll_url(computed)).get_data(as_text=True)
    assert "<td>销售业务员</td>" in page and "<td>销售主管</td>" in payroll
    assert "意见" not in payroll
    sheet = load_workbook(io.BytesIO(client.get(payroll_url(computed) + ".xlsx").data)).active
    assert {sheet.cell(row=r, column=4).value for r in range(2, sheet.max_row)} == {"销售主管", "销售业务员"}
    assert "意见" not in [c.value for c in sheet[1]]


def test_import_problems_are_shown_above_the_table(client, computed):
    login(client, "admin")
    response = upload(client, "number,base,coefficient,version\nX011,abc,1,1\n")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert 'id="import-problems"' in page and page.index('id="import-problems"') < page.index('id="pay-table"')
    assert "Row 2, column base: 'abc' is not allowed" in page


def test_the_menu_follows_the_workflow(client, computed):
    login(client, "admin")
    home = client.get("/t/xiaoshou/").get_data(as_text=True)
    menu = home[home.index('<nav class="menu"'):home.index("</nav>")]
    where = [menu.index(f'href="/t/xiaoshou/sales/{path}"') for path in ("ratings", "pay", "competence", "plans")]
    assert where == sorted(where)  # ratings 62, pay 63, competence lists 64, improvement plans 65


def test_the_sales_menu_entries_follow_the_core_ones(app, computed):
    """The core's entries use 10–50, the events 61: ratings 62, pay 63, competence lists 64, plans 65."""
    from flask import g

    from core.models import Tenant, User
    from plugins.sales_attitude.competence import views as competence
    from plugins.sales_attitude.pay import views as pay_views
    from plugins.sales_attitude.ratings import views as ratings

    with app.test_request_context(), tenant(app, "xiaoshou") as db:
        g.tenant = db.scalar(select(Tenant).where(Tenant.slug == "xiaoshou"))
        admin = db.scalar(select(User).where(User.username == "admin"))
        items = [*ratings.menu_items(g.tenant, admin), *pay_views.menu_items(g.tenant, admin),
                 *competence.menu_items(g.tenant, admin)]
        assert [(i.endpoint, i.order) for i in items] == [
            ("sales_ratings.index", 62), ("sales_pay.index", 63), ("sales_competence.overview", 64),
            ("sales_competence.plans", 65)]
