"""Org unit and people pages of a tenant admin (``hr`` of jituan): lists with search, filters and
pagination (htmx fragments), create, inline edit with optimistic locking, deactivate."""
from __future__ import annotations

import html
import json
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from core.db import db_session
from core.models import AuditLog, OrgUnit, Person, Tenant, User
from core.tenancy import all_tenants, set_tenant
from core.yamlio import load_strict
from tests.conftest import ROOT, AuthActions, make_test_app

UNITS = "/t/jituan/org/units"
PEOPLE = "/t/jituan/org/people"
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "results"}
HTMX_ROW = {"HX-Request": "true"}


# ------------------------------------------------------------------------------------- helpers

def login(client, locale: str = "en", tenant: str = "jituan", username: str = "hr"):
    """Log in, in English unless told otherwise (the messages asserted are the English ones)."""
    client.post("/lang", data={"locale": locale})
    response = AuthActions(client).login(tenant, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def hr(client):
    return login(client)


@pytest.fixture
def small_pages(database_url):
    """hr's client on an app showing 5 rows per page."""
    app = make_test_app(database_url, PAGE_SIZE=5)
    yield login(app.test_client())
    app.extensions["jixiao.engine"].dispose()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def row_codes(response) -> list[str]:
    """Codes (units) or numbers (people) of the table rows, in order."""
    return re.findall(r'<tr id="(?:unit|person)-\d+"[^>]*>\s*<td><code>([^<]+)</code>', response.get_data(as_text=True))


@contextmanager
def tenant_db(app, slug: str = "jituan"):
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == slug)))
        yield db_session


def get_unit(app, code: str, slug: str = "jituan") -> OrgUnit:
    with tenant_db(app, slug) as session:
        return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def get_person(app, number: str) -> Person:
    with tenant_db(app) as session:
        return session.scalar(select(Person).where(Person.number == number))


def count(app, model, *where) -> int:
    with app.app_context(), all_tenants(db_session):
        return db_session.scalar(select(func.count()).select_from(model).where(*where))


def audit_actions(app, obj) -> list[tuple[str, str]]:
    with tenant_db(app) as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.object_type == type(obj).__name__,
                                                      AuditLog.object_id == str(obj.id)).order_by(AuditLog.id))
        return [(a.actor, a.action) for a in rows]


def unit_names(slug: str) -> set[str]:
    data = load_strict((ROOT / "tenants" / slug / "tenant.yaml").read_text(encoding="utf-8"))
    return {u["name"] for u in data["units"]}


def unit_form(unit: OrgUnit | None = None, **changes) -> dict:
    values = {"code": unit.code, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id or "",
              "version": unit.version} if unit else {}
    return {**values, **changes}


def person_form(person: Person, **changes) -> dict:
    return {"number": person.number, "name": person.name, "unit_id": person.unit_id,
            "position": person.position or "", "staff_class": person.staff_class or "",
            "status": person.status, "version": person.version, **changes}


def create_unit(app, client, code: str, name: str) -> OrgUnit:
    response = client.post(f"{UNITS}/new", data={"code": code, "name": name, "kind": "team",
                                                 "parent_id": get_unit(app, "HQ").id})
    assert response.status_code == 302, page_text(response)
    return get_unit(app, code)


# ------------------------------------------------------------------------------------- unit list

def test_units_list_shows_only_the_tenants_units(hr):
    page = page_text(hr.get(UNITS))
    for name in unit_names("jituan"):
        assert name in page
    for name in (unit_names("xiaoshou") | unit_names("zhen")) - unit_names("jituan"):
        assert name not in page


@pytest.mark.parametrize("query, codes", [
    ({"q": "sub1"}, ["SUB1", "SUB1-ENG", "SUB1-SAL", "SUB1-ADM"]),
    ({"q": "财务"}, ["FIN"]),
    ({"kind": "subsidiary"}, ["SUB1", "SUB2"]),
    ({"q": "SUB2", "kind": "department"}, ["SUB2-TEC", "SUB2-SQ", "SUB2-MAT"]),
])
def test_units_search_and_kind_filter(hr, query, codes):
    assert row_codes(hr.get(UNITS, query_string=query)) == codes


def test_units_pagination(small_pages):
    first = small_pages.get(UNITS)
    assert f'href="{UNITS}?page=2"' in first.get_data(as_text=True)
    second = small_pages.get(UNITS, query_string={"page": 2})
    links = second.get_data(as_text=True)
    assert f'href="{UNITS}?page=1"' in links and f'href="{UNITS}?page=3"' in links
    assert len(row_codes(first)) == len(row_codes(second)) == 5
    assert not set(row_codes(first)) & set(row_codes(second))
    # filters survive in the page links
    filtered = small_pages.get(UNITS, query_string={"kind": "department"}).get_data(as_text=True)
    assert "kind=department&amp;page=2" in filtered


def test_htmx_request_gets_only_the_results(hr, small_pages):
    fragment = hr.get(UNITS, query_string={"q": "SUB2"}, headers=HTMX_RESULTS)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body and "<form" not in body and "<table" in body
    assert row_codes(fragment) == ["SUB2", "SUB2-TEC", "SUB2-SQ", "SUB2-MAT"]
    page_two = small_pages.get(UNITS, query_string={"page": 2}, headers=HTMX_RESULTS)
    assert "<html" not in page_two.get_data(as_text=True) and len(row_codes(page_two)) == 5

    full = hr.get(UNITS)
    assert "<html" in full.get_data(as_text=True)
    for response in (fragment, full):
        assert "HX-Request" in response.headers["Vary"]


# ------------------------------------------------------------------------------------- create and edit units

def test_create_unit(app, hr):
    hq = get_unit(app, "HQ")
    response = hr.post(f"{UNITS}/new", data={"code": "OFFICE", "name": "档案室", "kind": "office", "parent_id": hq.id})
    assert response.status_code == 302
    created = get_unit(app, "OFFICE")  # xiaoshou uses this code too: codes are unique per tenant
    assert response.headers["Location"] == f"{UNITS}/{created.id}"
    assert (created.name, created.kind, created.parent_id) == ("档案室", "office", hq.id)
    assert "OFFICE" in row_codes(hr.get(UNITS))
    assert audit_actions(app, created) == [("user:hr", "create")]


@pytest.mark.parametrize("changes, message", [
    ({"code": "a b"}, "a b is not allowed: use 1-32 letters, digits, '-' or '_'."),
    ({"code": "FIN"}, "Unit code FIN is already used in this organisation; choose another."),
    ({"kind": "castle"},
     "castle is not allowed; choose one of: Group, Company, Subsidiary, Department, Office, Village, Team."),
], ids=["bad-code", "duplicate-code", "unknown-kind"])
def test_create_unit_refused(app, hr, changes, message):
    before = count(app, OrgUnit)
    response = hr.post(f"{UNITS}/new", data={"code": "QA", "name": "质量部", "kind": "department",
                                             "parent_id": get_unit(app, "HQ").id, **changes})
    assert response.status_code == 422
    assert message in page_text(response)
    assert count(app, OrgUnit) == before


@pytest.mark.parametrize("new_parent", ["SUB1", "SUB1-ENG"], ids=["itself", "own-sub-unit"])
def test_unit_cannot_move_under_itself(app, hr, new_parent):
    sub1, parent = get_unit(app, "SUB1"), get_unit(app, new_parent)
    response = hr.post(f"{UNITS}/{sub1.id}/edit", data=unit_form(sub1, parent_id=parent.id))
    assert response.status_code == 422
    assert f"{parent.id} is not allowed; choose one of:" in page_text(response)
    after = get_unit(app, "SUB1")
    assert (after.parent_id, after.version) == (sub1.parent_id, sub1.version)


def test_inline_edit_form_is_a_table_row(app, hr):
    fin = get_unit(app, "FIN")
    response = hr.get(f"{UNITS}/{fin.id}/edit", query_string={"inline": 1}, headers=HTMX_ROW)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="unit-{fin.id}" class="editing">') and "<html" not in body
    assert 'name="code"' in body and 'name="name"' in body and "<select" in body
    assert f'name="version" type="hidden" value="{fin.version}"' in body


@pytest.mark.parametrize("locale, toast", [("en", "Saved."), ("zh", "已保存。")])
def test_inline_save_returns_the_row_and_a_toast(app, client, locale, toast):
    login(client, locale)
    fin = get_unit(app, "FIN")
    response = client.post(f"{UNITS}/{fin.id}/edit?inline=1", data=unit_form(fin, name="财务管理部"), headers=HTMX_ROW)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="unit-{fin.id}"') and "财务管理部" in body and "<input" not in body
    trigger = response.headers["HX-Trigger"]
    trigger.encode("latin-1")  # a header value must be latin-1: the Chinese text travels JSON-escaped
    assert json.loads(trigger) == {"jixiao:saved": toast}
    assert get_unit(app, "FIN").name == "财务管理部"


def test_inline_save_with_a_stale_version_is_refused(app, hr):
    fin = get_unit(app, "FIN")
    url = f"{UNITS}/{fin.id}/edit?inline=1"
    assert hr.post(url, data=unit_form(fin, name="财务中心"), headers=HTMX_ROW).status_code == 200  # the other editor
    response = hr.post(url, data=unit_form(fin, name="资金部"), headers=HTMX_ROW)  # still the old version
    assert response.status_code == 409
    body = page_text(response)
    assert body.lstrip().startswith(f'<tr id="unit-{fin.id}" class="editing">')
    assert "财务中心 was changed by someone else" in body  # named as it is now
    assert "Now: Name: 财务中心" in body  # what the other editor saved
    assert 'value="资金部"' in body  # the user's input is kept
    assert get_unit(app, "FIN").name == "财务中心"
    # the returned row carries the current version: saving again is a deliberate overwrite
    version = re.search(r'name="version" type="hidden" value="(\d+)"', body).group(1)
    again = hr.post(url, data=unit_form(fin, name="资金部", version=version), headers=HTMX_ROW)
    assert again.status_code == 200
    assert get_unit(app, "FIN").name == "资金部"


def test_a_form_without_its_version_is_refused(app, hr):
    fin = get_unit(app, "FIN")
    data = unit_form(fin, name="无版本")
    del data["version"]
    response = hr.post(f"{UNITS}/{fin.id}/edit", data=data)
    assert response.status_code == 409 and "did not say which version" in page_text(response)
    assert get_unit(app, "FIN").name == fin.name


# ------------------------------------------------------------------------------------- deactivate units

def test_unit_with_active_people_cannot_be_deactivated(app, hr):
    fin = get_unit(app, "FIN")
    response = hr.post(f"{UNITS}/{fin.id}/deactivate", data={"version": fin.version}, follow_redirects=True)
    assert "财务部 still has 0 active sub-unit(s) and 5 active person(s); move or deactivate them first." in page_text(response)
    assert get_unit(app, "FIN").active is True
    assert ("user:hr", "deactivate") not in audit_actions(app, fin)


def test_empty_unit_is_deactivated_after_confirmation_and_reactivated(app, hr):
    unit = create_unit(app, hr, "TMP", "临时组")
    confirm = hr.get(f"{UNITS}/{unit.id}/deactivate")
    assert confirm.status_code == 200
    assert "Deactivate 临时组?" in page_text(confirm) and f'name="version" value="{unit.version}"' in page_text(confirm)
    assert get_unit(app, "TMP").active is True  # GET changes nothing

    response = hr.post(f"{UNITS}/{unit.id}/deactivate", data={"version": unit.version})
    assert response.status_code == 302 and response.headers["Location"] == f"{UNITS}/{unit.id}"
    unit = get_unit(app, "TMP")
    assert unit.active is False
    assert "TMP" not in row_codes(hr.get(UNITS)) and "TMP" in row_codes(hr.get(UNITS, query_string={"inactive": 1}))

    assert hr.post(f"{UNITS}/{unit.id}/activate", data={"version": unit.version}).status_code == 302
    assert get_unit(app, "TMP").active is True
    assert audit_actions(app, unit) == [("user:hr", "create"), ("user:hr", "deactivate"), ("user:hr", "activate")]


# ------------------------------------------------------------------------------------- people

@pytest.mark.parametrize("query, numbers", [
    ({"q": "陈志远"}, ["J0001"]),
    ({"q": "j0043"}, ["J0043"]),
    ({"q": "出纳"}, ["J0031"]),  # position
    ({"status": "probation"}, ["J0033", "J0047", "J0057"]),
    ({"class": "A"}, [f"J{n:04d}" for n in range(1, 9)]),
    ({"class": "C", "status": "intern"}, ["J0039", "J0050"]),
    ({"q": "nobody"}, []),
])
def test_people_search_and_filters(hr, query, numbers):
    assert row_codes(hr.get(PEOPLE, query_string=query)) == numbers


def test_people_pagination(hr, small_pages):
    assert row_codes(hr.get(PEOPLE, query_string={"page": 2})) == [f"J{n:04d}" for n in range(26, 51)]
    class_c = small_pages.get(PEOPLE, query_string={"class": "C"})
    assert row_codes(class_c) == [f"J{n:04d}" for n in range(24, 29)]
    assert f'href="{PEOPLE}?class=C&amp;page=2"' in class_c.get_data(as_text=True)  # the filter is kept
    assert row_codes(small_pages.get(PEOPLE, query_string={"class": "C", "page": 2})) == [
        f"J{n:04d}" for n in range(29, 34)]


def test_create_person(app, hr):
    unit = get_unit(app, "HR")
    response = hr.post(f"{PEOPLE}/new", data={"number": "J0061", "name": "新同事", "unit_id": unit.id,
                                              "position": "招聘专员", "staff_class": "C", "status": "probation"})
    assert response.status_code == 302
    person = get_person(app, "J0061")
    assert response.headers["Location"] == f"{PEOPLE}/{person.id}"
    assert (person.name, person.unit_id, person.staff_class, person.status) == ("新同事", unit.id, "C", "probation")
    assert audit_actions(app, person) == [("user:hr", "create")]


@pytest.mark.parametrize("number, unit, message", [
    ("J0001", ("jituan", "HR"), "Employee number J0001 is already used in this organisation; choose another."),
    ("J0099", ("xiaoshou", "S1"), "{unit_id} is not allowed; choose one of:"),
], ids=["duplicate-number", "unit-of-another-tenant"])
def test_create_person_refused(app, hr, number, unit, message):
    unit_id = get_unit(app, unit[1], slug=unit[0]).id
    before = count(app, Person)
    response = hr.post(f"{PEOPLE}/new", data={"number": number, "name": "新同事", "unit_id": unit_id,
                                              "staff_class": "C", "status": "regular"})
    assert response.status_code == 422
    assert message.format(unit_id=unit_id) in page_text(response)
    assert count(app, Person) == before
    assert count(app, Person, Person.unit_id == unit_id, Person.name == "新同事") == 0


def test_edit_person(app, hr):
    person = get_person(app, "J0043")
    response = hr.post(f"{PEOPLE}/{person.id}/edit",
                       data=person_form(person, position="营销主管", status="promotion", staff_class="B"))
    assert response.status_code == 302 and response.headers["Location"] == f"{PEOPLE}/{person.id}"
    after = get_person(app, "J0043")
    assert (after.position, after.status, after.staff_class) == ("营销主管", "promotion", "B")
    assert after.version == person.version + 1
    assert audit_actions(app, person)[-1] == ("user:hr", "update")

    stale = hr.post(f"{PEOPLE}/{person.id}/edit", data=person_form(person, position="营销专员"))
    assert stale.status_code == 409 and "changed by someone else" in page_text(stale)
    assert get_person(app, "J0043").position == "营销主管"


def test_deactivating_a_person_switches_off_their_login(app, client, hr):
    person = get_person(app, "J0043")  # the person of the account `employee`
    response = hr.post(f"{PEOPLE}/{person.id}/deactivate", data={"version": person.version}, follow_redirects=True)
    assert "叶思琪 deactivated." in page_text(response)
    assert get_person(app, "J0043").active is False
    with tenant_db(app) as session:
        account = session.scalar(select(User).where(User.username == "employee"))
    assert account.active is False
    assert audit_actions(app, person)[-1] == audit_actions(app, account)[-1] == ("user:hr", "deactivate")
    assert row_codes(hr.get(PEOPLE, query_string={"q": "J0043"})) == []
    assert row_codes(hr.get(PEOPLE, query_string={"q": "J0043", "inactive": 1})) == ["J0043"]

    AuthActions(client).logout()
    client.post("/lang", data={"locale": "en"})
    refused = AuthActions(client).login(username="employee")
    assert refused.status_code == 200
    assert "Wrong username or password." in page_text(refused)


def test_person_page_is_not_stored_by_caches(app, hr):
    response = hr.get(f"{PEOPLE}/{get_person(app, 'J0043').id}")
    assert response.status_code == 200
    assert "叶思琪" in page_text(response)
    assert response.headers["Cache-Control"] == "no-store"



def test_nobody_deactivates_themselves(app, hr):
    with tenant_db(app) as session:
        me = session.get(Person, session.scalar(select(User.person_id).where(User.username == "hr")))
    response = hr.post(f"{PEOPLE}/{me.id}/deactivate", data={"version": me.version}, follow_redirects=True)
    assert "You cannot deactivate yourself" in page_text(response)
    assert get_person(app, me.number).active


def test_the_last_tenant_administrator_stays(app):
    from core.models import RoleMembership
    from core.org import service

    with tenant_db(app, "xiaoshou") as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        with pytest.raises(service.RuleError, match="最后一个在用的管理员账号"):  # outside a request: the tenant's language
            service.set_person_active(admin.person, False, admin.person.version)
        session.rollback()
        manager = session.scalar(select(User).where(User.username == "manager"))
        manager.memberships.append(RoleMembership(role="tenant_admin"))
        session.flush()
        service.set_person_active(admin.person, False, admin.person.version)  # now another admin remains
        assert not admin.active
        session.rollback()
