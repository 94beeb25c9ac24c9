"""The home page's to-dos on the sales tenant: the core's inputs to-do counts the people still
missing a rating the unit head enters (not "not started": derived inputs such as the month's events
are there from the start), and the scheme's own (plugins/sales_attitude/todo.py): a unit head's
people to rate per open month, HR's people no unit head rates, sales staff without a pay base,
people listed without a plan, the payroll of the latest computed month, a salesperson's open
improvement plan."""
from __future__ import annotations

import html
from contextlib import contextmanager
from datetime import date

import pytest
from flask import g
from flask_babel import force_locale
from sqlalchemy import select

from core.cycles import service as cycles
from core.db import db_session
from core.models import Cycle, Person, Tenant, User
from core.tenancy import set_tenant
from plugins.sales_attitude.todo import todo
from tests.conftest import AuthActions
from tests.test_cycles import tenant

SLUG = "xiaoshou"
ALL = ("basic_ability", "proficiency", "coordination", "service")


def ratings(value: str) -> dict:
    return {key: value for key in ALL}


@contextmanager
def signed_in(app, username: str):
    """A request of ``username`` on the sales tenant, in English: what the home page calls todo() with."""
    with app.test_request_context("/"), force_locale("en"):
        row = db_session.scalar(select(Tenant).where(Tenant.slug == SLUG))
        g.tenant = row
        set_tenant(db_session, row.id)
        yield db_session.scalar(select(User).where(User.username == username))


def todos(app, username: str) -> list[tuple[str, str]]:
    with signed_in(app, username) as user:
        return [(item.label, item.url) for item in todo(user)]


def person_id(db, number: str) -> int:
    return db.scalar(select(Person.id).where(Person.number == number))


def as_user(client, username: str):
    AuthActions(client).logout(SLUG)
    client.post("/lang", data={"locale": "en"})
    assert AuthActions(client).login(SLUG, username).status_code == 302
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def september(app) -> int:
    """An open September with a late arrival of 杨晓帆 (X012): a derived input from the start."""
    from plugins.sales_attitude.events.models import SalesEvent

    with tenant(app, SLUG) as db:
        db.add(SalesEvent(person_id=person_id(db, "X012"), day=date(2026, 9, 3), kind="late", quantity="1",
                          dedupe_key="2026-09-03|late", created_by="test"))
        db.flush()
        cycle = cycles.create_cycle("sales-attitude", "2026-09", "九月考评", {}, "test")
        cycles.transition(cycle, "open", "test")
        db.commit()
        return cycle.id


def rate(app, cycle_id: int, number: str, value: str = "90", keys=ALL) -> None:
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, cycle_id)
        row = next(s for s in cycles.subjects(cycle) if s.code == number)
        cycles.set_inputs(row, cycle, {**(row.inputs or {}), "ratings": {k: value for k in keys}},
                          row.inputs_version, "test")
        db.commit()


# ----------------------------------------------------------------------------------- the core's inputs to-do

def test_the_inputs_todo_counts_people_missing_a_rating_not_empty_inputs(app, client, september):
    with tenant(app, SLUG) as db:
        x012 = next(s for s in cycles.subjects(db.get(Cycle, september)) if s.code == "X012")
        assert x012.inputs["events"] == {"late": "1"}  # not empty: "started" by its events, yet unrated
    as_user(client, "wanghaijun")  # heads S1: X011 … X019 (and himself, whom he does not rate)
    assert "Enter inputs in 九月考评: 9 subject(s) still missing a required input you enter" in text_of(client.get(f"/t/{SLUG}/"))
    rate(app, september, "X011")
    rate(app, september, "X013", keys=ALL[:3])  # three of the four: still missing one
    assert "Enter inputs in 九月考评: 8 subject(s) still missing" in text_of(client.get(f"/t/{SLUG}/"))
    as_user(client, "employee")  # enters nothing
    assert "Enter inputs in" not in text_of(client.get(f"/t/{SLUG}/"))


# ----------------------------------------------------------------------------------- the scheme's to-dos

def test_a_unit_head_is_asked_to_rate_the_people_of_his_units(app, client, september):
    grid = f"/t/{SLUG}/sales/cycles/{september}/ratings?todo=1"
    assert todos(app, "wanghaijun") == [("Rate 9 person(s) for 2026-09", grid)]
    assert todos(app, "zhanglijuan") == [("Rate 9 person(s) for 2026-09", grid)]  # S2: X020 … X028
    rate(app, september, "X011")
    rate(app, september, "X013", keys=ALL[:3])
    assert todos(app, "wanghaijun") == [("Rate 8 person(s) for 2026-09", grid)]
    as_user(client, "wanghaijun")
    page = text_of(client.get(grid))  # the link shows only the rows still to rate
    assert "<code>X011</code>" not in page and "<code>X013</code>" in page
    for number in ("X012", "X013", "X014", "X015", "X016", "X017", "X018", "X019"):
        rate(app, september, number)
    assert todos(app, "wanghaijun") == []
    assert todos(app, "employee") == [] and todos(app, "manager") == []
    # HR rates whom no unit head rates: the two supervisors, heads of their own units
    assert ("Rate 2 person(s) for 2026-09", grid) in todos(app, "admin")
    rate(app, september, "X009")
    assert ("Rate 1 person(s) for 2026-09", grid) in todos(app, "admin")
    rate(app, september, "X010")
    assert not [label for label, _url in todos(app, "admin") if label.startswith("Rate ")]


def test_hr_is_asked_for_pay_bases_plans_and_the_payroll(app, client):
    from plugins.sales_attitude.competence.models import ImprovementPlan
    from plugins.sales_attitude.pay.models import PayRecord
    from plugins.sales_attitude.pay.service import counts

    with signed_in(app, "admin"):
        staff, missing = counts()
    assert missing == staff > 0
    assert todos(app, "admin") == [(f"{missing} sales staff without a pay base", f"/t/{SLUG}/sales/pay?missing=1")]
    # three months: 李志鹏 (X011) below 80 each time (74.50) → listed for training in March; pay for him
    with tenant(app, SLUG) as db:
        x011 = person_id(db, "X011")
        db.add(PayRecord(person_id=x011, base="5000", coefficient="1.2", updated_by="test"))
        db.flush()
        for period in ("2026-01", "2026-02", "2026-03"):
            cycle = cycles.create_cycle("sales-attitude", period, f"{period} 考评", {}, "test")
            for row in cycles.subjects(cycle):
                if row.kind == "person":
                    cycles.set_inputs(row, cycle, {**row.inputs, "ratings": ratings("70" if row.code == "X011" else "90")},
                                      row.inputs_version, "test")
            cycles.transition(cycle, "open", "test")
            cycles.transition(cycle, "review", "test")
            cycles.compute(cycle, "test")
            if period != "2026-03":
                cycles.transition(cycle, "published", "test")
        march = cycle.id
        db.commit()
    payroll = f"/t/{SLUG}/sales/cycles/{march}/payroll"
    found = todos(app, "admin")
    assert (f"{missing - 1} sales staff without a pay base", f"/t/{SLUG}/sales/pay?missing=1") in found
    assert ("Payroll of 2026-03 computed (provisional until published)", payroll) in found
    assert not [label for label, _url in found if "without an improvement plan" in label]  # March is not published
    with tenant(app, SLUG) as db:
        cycles.transition(db.get(Cycle, march), "published", "test")
        db.commit()
    found = todos(app, "admin")
    lists = f"/t/{SLUG}/sales/cycles/{march}/competence"
    assert ("1 person(s) listed in 2026-03 without an improvement plan", lists) in found
    assert ("Payroll of 2026-03 is ready", payroll) in found
    as_user(client, "admin")
    assert client.get(lists).status_code == 200 and client.get(payroll).status_code == 200
    assert client.get(f"/t/{SLUG}/sales/pay?missing=1").status_code == 200
    # a plan answering the listing takes it off HR's list, and becomes the person's own to-do
    with tenant(app, SLUG) as db:
        plan = ImprovementPlan(person_id=person_id(db, "X011"), kind="training", period="2026-03",
                               listed_months=["2026-01", "2026-02", "2026-03"], goals="提升业务熟练程度",
                               actions="每周带教", start_month="2026-04", end_month="2026-06", created_by="test")
        db.add(plan)
        db.commit()
        plan_id = plan.id
    assert not [label for label, _url in todos(app, "admin") if "without an improvement plan" in label]
    assert todos(app, "employee") == [("Your improvement plan: training (培训对象), 2026-04 to 2026-06",
                                       f"/t/{SLUG}/sales/plans/{plan_id}")]
    as_user(client, "employee")
    assert client.get(f"/t/{SLUG}/sales/plans/{plan_id}").status_code == 200
    assert todos(app, "chenxiaohong") == [] and todos(app, "manager") == []


def test_the_home_page_shows_the_sales_todos_only_on_the_sales_tenant(app, client, september):
    """Needs the scheme's home-panel hook to pass the to-dos (plugins/sales_attitude/__init__.py:
    ``scheme_home_panel(SCHEME, tenant, "sales_attitude/home_panel.html", todo=lambda: todo(user))``)."""
    as_user(client, "wanghaijun")
    page = text_of(client.get(f"/t/{SLUG}/"))
    assert "Your sales assessment to-dos" in page
    assert f'href="/t/{SLUG}/sales/cycles/{september}/ratings?todo=1">Rate 9 person(s) for 2026-09</a>' in page
    AuthActions(client).logout(SLUG)
    client.post("/lang", data={"locale": "en"})
    AuthActions(client).login("jituan", "hr")
    assert "Your sales assessment to-dos" not in text_of(client.get("/t/jituan/"))
