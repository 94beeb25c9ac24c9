"""sales-attitude, the monthly manager ratings (主管评分): the grid per cycle, who rates whom (unit
heads their units, HR every unit, nobody themselves), each row saved through the core's input-form
path (declared fields, the saving hook, optimistic locking), 422 on a bad value naming the field,
the value and 0 to 100, 409 on a stale version, read-only after the cycle is open, the progress and
the live total, excluded-status people rated for reference, links and tenant isolation."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from core import hookimpl
from core.cycles import service
from core.cycles.service import CycleError
from core.models import Cycle, CycleSubject, OrgUnit
from tests.test_cycles import tenant

PASSWORD = "jixiao-demo"
FIELDS = ("basic_ability", "proficiency", "coordination", "service")


def form(version, basic="90", proficiency="85", coordination="70", service_="75") -> dict:
    return {"ratings__basic_ability": basic, "ratings__proficiency": proficiency,
            "ratings__coordination": coordination, "ratings__service": service_, "inputs_version": str(version)}


@pytest.fixture
def month(app) -> dict:
    """An open sales cycle of xiaoshou and its person subjects by number."""
    with tenant(app, "xiaoshou") as db:
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月考评", {}, "test")
        service.transition(cycle, "open", "test")
        db.commit()
        subjects = {s.code: s.id for s in service.subjects(cycle, eligible_only=False) if s.kind == "person"}
        units = dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())
        return {"id": cycle.id, "subjects": subjects, "units": units}


def login(client, username, tenant_slug="xiaoshou"):
    client.post("/lang", data={"locale": "en"})
    response = client.post(f"/t/{tenant_slug}/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username


def grid_url(month) -> str:
    return f"/t/xiaoshou/sales/cycles/{month['id']}/ratings"


def save_url(month, number) -> str:
    return f"{grid_url(month)}/{month['subjects'][number]}"


def subject(app, month, number) -> CycleSubject:
    with tenant(app, "xiaoshou") as db:
        row = db.get(CycleSubject, month["subjects"][number])
        db.expunge(row)
        return row


def expected_total(basic, proficiency, coordination, service_, attitude=100) -> Decimal:
    """Σ weight × dimension (schemes.md §2 default weights), rounded half up: independent of the engine."""
    exact = (Decimal("0.15") * attitude + Decimal("0.15") * Decimal(basic) + Decimal("0.20") * Decimal(proficiency)
             + Decimal("0.25") * Decimal(service_) + Decimal("0.25") * Decimal(coordination))
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ----------------------------------------------------------------------------------- who sees what

@pytest.mark.parametrize("username, status", [("admin", 200), ("wanghaijun", 200), ("zhanglijuan", 200),
                                              ("manager", 403), ("employee", 403), ("zengwei", 403)])
def test_who_may_open_the_ratings_grid(client, month, username, status):
    login(client, username)
    assert client.get(grid_url(month)).status_code == status
    assert client.get("/t/xiaoshou/sales/ratings").status_code == status


def test_a_unit_head_sees_the_people_of_their_unit_but_not_themselves(client, month):
    login(client, "wanghaijun")  # X009, head of S1
    page = client.get(grid_url(month)).get_data(as_text=True)
    for number in ("X011", "X012", "X014", "X018", "X019"):
        assert f"<code>{number}</code>" in page
    assert "<code>X009</code>" not in page  # himself
    assert "<code>X022</code>" not in page and "<code>X010</code>" not in page  # S2
    assert "<code>X001</code>" not in page  # not assessed (no staff class)
    assert "0 of 9 rated" in page  # X011..X019


def test_hr_sees_every_unit_and_filters_by_unit(client, month):
    login(client, "admin")
    page = client.get(grid_url(month)).get_data(as_text=True)
    assert "0 of 20 rated" in page
    assert "<code>X009</code>" in page and "<code>X010</code>" in page  # the supervisors: rated by HR
    page = client.get(grid_url(month) + f"?unit_id={month['units']['S2']}").get_data(as_text=True)
    assert "<code>X022</code>" in page and "<code>X011</code>" not in page
    assert "0 of 10 rated" in page


def test_excluded_status_people_are_rated_for_reference(client, month):
    login(client, "zhanglijuan")
    page = client.get(grid_url(month)).get_data(as_text=True)
    for number, label in (("X025", "Probation"), ("X027", "Transfer period")):
        row = re.search(rf'<tr id="rate-row-{month["subjects"][number]}".*?</tr>', page, re.S).group(0)
        assert f"Excluded: {label}" in row and 'name="ratings__basic_ability"' in row


def test_menu_and_cycle_links(client, month):
    login(client, "admin")
    home = client.get("/t/xiaoshou/").get_data(as_text=True)
    assert 'href="/t/xiaoshou/sales/ratings"' in home
    cycle_page = client.get(f"/t/xiaoshou/cycles/{month['id']}").get_data(as_text=True)
    assert f'href="{grid_url(month)}"' in cycle_page
    client.post("/t/xiaoshou/logout")
    login(client, "wanghaijun")
    assert 'href="/t/xiaoshou/sales/ratings"' in client.get("/t/xiaoshou/").get_data(as_text=True)
    index = client.get("/t/xiaoshou/sales/ratings").get_data(as_text=True)
    assert f'href="{grid_url(month)}"' in index and "0 of 9 rated" in index
    client.post("/t/xiaoshou/logout")
    login(client, "employee")
    assert 'href="/t/xiaoshou/sales/ratings"' not in client.get("/t/xiaoshou/").get_data(as_text=True)


def test_another_tenant_gets_404(app, client, month):
    login(client, "hr", "jituan")
    assert client.get(f"/t/jituan/sales/cycles/{month['id']}/ratings").status_code == 404
    assert client.get("/t/jituan/sales/ratings").status_code == 404
    assert client.post(f"/t/jituan/sales/cycles/{month['id']}/ratings/{month['subjects']['X011']}",
                       data=form(0)).status_code == 404
    with tenant(app, "jituan") as db:  # a cycle of another scheme in the other tenant
        corporate = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "test")
        db.commit()
        corporate_id = corporate.id
    client.post("/t/jituan/logout")
    login(client, "admin")
    assert client.get(f"/t/xiaoshou/sales/cycles/{corporate_id}/ratings").status_code == 404
    assert client.get("/t/xiaoshou/sales/cycles/999999/ratings").status_code == 404


# ----------------------------------------------------------------------------------- saving a row

def test_a_unit_head_saves_a_row_and_sees_the_live_total(app, client, month):
    login(client, "wanghaijun")
    response = client.post(save_url(month, "X011"), data=form(0), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    sid = month["subjects"]["X011"]
    # out of band: the version, the total, the status, the progress; never the inputs being typed
    assert "<input type=\"text\"" not in body
    assert re.search(rf'id="rate-version-{sid}" name="inputs_version" value="1" hx-swap-oob="true"', body)
    total = re.search(rf'<span id="rate-total-{sid}" hx-swap-oob="true">(.*?)</span>', body, re.S).group(1)
    assert f"<strong>{expected_total(90, 85, 70, 75)}</strong>" in total  # 81.75
    assert re.search(rf'id="rate-status-{sid}"[^>]*hx-swap-oob="true">Saved\.', body)
    assert re.search(r'id="ratings-progress"[^>]*hx-swap-oob="true">\s*1 of 9 rated', body)
    stored = subject(app, month, "X011")
    assert stored.inputs["ratings"] == {"basic_ability": "90", "proficiency": "85", "coordination": "70", "service": "75"}
    assert stored.inputs_version == 1 and stored.inputs_updated_by == "user:wanghaijun"
    page = client.get(grid_url(month)).get_data(as_text=True)
    assert "1 of 9 rated" in page and "<strong>81.75</strong>" in page


def test_a_partial_row_is_saved_and_shows_no_total(app, client, month):
    login(client, "wanghaijun")
    data = form(0, coordination="", service_="")
    body = client.post(save_url(month, "X012"), data=data, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Saved." in body and "0 of 9 rated" in body and "<strong>" not in body
    assert subject(app, month, "X012").inputs["ratings"] == {"basic_ability": "90", "proficiency": "85"}


def test_the_live_total_counts_the_months_events(app, client, month):
    with tenant(app, "xiaoshou") as db:
        row = db.get(CycleSubject, month["subjects"]["X013"])
        cycle = db.get(Cycle, month["id"])
        service.set_inputs(row, cycle, {"events": {"late": "3", "praise": "2"}}, row.inputs_version, "test")
        db.commit()
    login(client, "admin")
    body = client.post(save_url(month, "X013"), data=form(1), headers={"HX-Request": "true"}).get_data(as_text=True)
    # attitude 100 - 3 = 97; responsibility 75 + 2 = 77
    assert f"<strong>{expected_total(90, 85, 70, 77, attitude=97)}</strong>" in body
    assert subject(app, month, "X013").inputs["events"] == {"late": "3", "praise": "2"}  # derived inputs kept


def test_the_total_of_an_excluded_person_is_for_reference(client, month):
    login(client, "wanghaijun")
    body = client.post(save_url(month, "X019"), data=form(0), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<strong>81.75</strong>" in body and "for reference" in body


@pytest.mark.parametrize("number, username", [("X022", "wanghaijun"), ("X011", "zhanglijuan"),
                                              ("X009", "wanghaijun"), ("X011", "manager"), ("X012", "employee")])
def test_nobody_rates_another_units_people_or_themselves(app, client, month, number, username):
    login(client, username)
    assert client.post(save_url(month, number), data=form(0)).status_code == 403
    assert subject(app, month, number).inputs_version == 0


def test_hr_rates_the_supervisors(app, client, month):
    login(client, "admin")
    response = client.post(save_url(month, "X009"), data=form(0))
    assert response.status_code == 302  # a plain post redirects to the grid
    assert subject(app, month, "X009").inputs["ratings"]["basic_ability"] == "90"
    assert "Ratings of 王海军 saved." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_only_the_cycles_people_are_rated(app, client, month):
    login(client, "admin")
    # X001 is not assessed (no staff class): not a row of the grid
    assert client.post(save_url(month, "X001"), data=form(0)).status_code == 404
    assert client.post(f"{grid_url(month)}/999999", data=form(0)).status_code == 404
    with tenant(app, "xiaoshou") as db:
        unit_subject = db.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == month["id"],
                                                                CycleSubject.kind == "unit"))
    assert client.post(f"{grid_url(month)}/{unit_subject}", data=form(0)).status_code == 404


@pytest.mark.parametrize("field, value", [("basic_ability", "101"), ("proficiency", "-1"), ("coordination", "abc"),
                                          ("service", "100.5")])
def test_a_bad_rating_is_refused_naming_the_field_the_value_and_the_range(app, client, month, field, value):
    login(client, "wanghaijun")
    data = form(0)
    data[f"ratings__{field}"] = value
    labels = {"basic_ability": "Basic ability", "proficiency": "Business proficiency", "coordination": "Coordination",
              "service": "Service norms"}
    response = client.post(save_url(month, "X011"), data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    index = FIELDS.index(field) + 1
    error = re.search(rf'<div class="error" id="rate-err-{month["subjects"]["X011"]}-{index}" hx-swap-oob="true">(.*?)</div>',
                      body, re.S).group(1)
    assert f"{labels[field]}: {value}" in error and "Allowed: 0 to 100." in error
    stored = subject(app, month, "X011")
    assert stored.inputs_version == 0 and not stored.inputs.get("ratings")  # nothing written
    # a plain post gets the whole grid, with the error in the row and what was typed in the field, 422
    response = client.post(save_url(month, "X011"), data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "0 to 100" in body and f'value="{value}"' in body


def test_a_stale_version_is_refused_and_loses_nothing(app, client, month):
    login(client, "admin")
    assert client.post(save_url(month, "X014"), data=form(0)).status_code == 302  # HR saved version 1
    client.post("/t/xiaoshou/logout")
    login(client, "wanghaijun")
    response = client.post(save_url(month, "X014"), data=form(0, basic="60"), headers={"HX-Request": "true"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "changed by someone else" in body and "reload" in body
    assert "Saved now: Basic ability 90" in body  # what the other saved, next to what is typed
    assert 'name="inputs_version" value="1"' in body  # the version now saved, to save again knowingly
    stored = subject(app, month, "X014")
    assert stored.inputs["ratings"]["basic_ability"] == "90" and stored.inputs_version == 1
    response = client.post(save_url(month, "X014"), data=form(0, basic="60"))  # a plain post: the grid
    assert response.status_code == 409
    assert 'value="60"' in response.get_data(as_text=True)  # the typed value is kept in the form
    assert client.post(save_url(month, "X014"), data={**form(0), "inputs_version": ""},
                       headers={"HX-Request": "true"}).status_code == 409


class Refuser:
    """A plugin that refuses to save ratings for X015 (the hook every input form goes through)."""

    @hookimpl
    def jixiao_event_inputs_saving(self, tenant, cycle, subject, account, fields, inputs):
        if subject.code == "X015":
            raise CycleError(f"locked by a plugin ({', '.join(fields)})")


def test_the_saving_hook_is_asked_with_the_fields_changed(app, client, month):
    refuser = Refuser()
    app.extensions["jixiao.plugins"].register(refuser)
    try:
        login(client, "wanghaijun")
        response = client.post(save_url(month, "X015"), data=form(0, coordination=""), headers={"HX-Request": "true"})
        assert response.status_code == 409
        assert "locked by a plugin (ratings.basic_ability, ratings.proficiency, ratings.service)" in response.get_data(as_text=True)
        assert subject(app, month, "X015").inputs_version == 0
        assert client.post(save_url(month, "X016"), data=form(0), headers={"HX-Request": "true"}).status_code == 200
    finally:
        app.extensions["jixiao.plugins"].unregister(refuser)


def test_after_the_cycle_is_open_the_grid_is_read_only(app, client, month):
    with tenant(app, "xiaoshou") as db:  # every rating in, then to review
        cycle = db.get(Cycle, month["id"])
        for row in service.subjects(cycle):
            if row.kind == "person":
                ratings = {name: "80" for name in FIELDS}
                service.set_inputs(row, cycle, {**row.inputs, "ratings": ratings}, row.inputs_version, "test")
        service.transition(cycle, "review", "test")
        db.commit()
    login(client, "admin")
    page = client.get(grid_url(month)).get_data(as_text=True)
    assert "ratings can no longer be changed" in page and "20 of 20 rated" in page
    assert 'name="ratings__basic_ability"' not in page and "hx-post" not in page
    response = client.post(save_url(month, "X011"), data=form(1), headers={"HX-Request": "true"})
    assert response.status_code == 409 and "can no longer be changed" in response.get_data(as_text=True)
    assert subject(app, month, "X011").inputs["ratings"]["basic_ability"] == "80"


def test_todo_filter_lists_only_people_not_fully_rated(client, month):
    login(client, "wanghaijun")
    client.post(save_url(month, "X011"), data=form(0))
    page = client.get(grid_url(month) + "?todo=1").get_data(as_text=True)
    assert "<code>X011</code>" not in page and "<code>X012</code>" in page and "1 of 9 rated" in page


def test_the_grid_page_is_not_cached(client, month):
    login(client, "admin")
    response = client.get(grid_url(month))
    assert response.headers["Cache-Control"] == "no-store"


def test_the_menu_puts_the_ratings_first_of_the_sales_work(client, month):
    login(client, "wanghaijun")  # a unit head: ratings, then the competence lists and the plans
    home = client.get("/t/xiaoshou/").get_data(as_text=True)
    menu = home[home.index('<nav class="menu"'):home.index("</nav>")]
    where = [menu.index(f'href="/t/xiaoshou/sales/{path}"') for path in ("ratings", "competence", "plans")]
    assert where == sorted(where) and 'href="/t/xiaoshou/sales/pay"' not in menu
    grid = client.get(grid_url(month)).get_data(as_text=True)
    assert "<th>Name of person</th>" in grid


def test_the_months_count_the_excluded_staff_by_status(app, client, month):
    login(client, "admin")
    index = client.get("/t/xiaoshou/sales/ratings").get_data(as_text=True)
    assert "Excluded staff (3)" in index  # intern, probation, transfer period; not the 8 head-office people


# ----------------------------------------------------------------------------------- counting at scale

def test_the_progress_is_counted_by_the_database_as_the_rows_read(app, client, month):
    """The progress shown on every autosave is one COUNT query, equal to reading every row; the todo
    filter and the unit filter alike; partial rows, JSON nulls and other inputs are not rated."""
    from flask import g
    from sqlalchemy import event

    from core.models import User
    from plugins.sales_attitude.ratings import service as ratings

    rows = {"X011": {k: "80" for k in FIELDS},                                   # complete
            "X012": {"basic_ability": "80", "proficiency": "70"},                # partial
            "X013": {**{k: "75" for k in FIELDS}, "service": None},              # a JSON null: not rated
            "X022": {k: 90 for k in FIELDS},                                     # numbers: rated
            "X009": {k: "88" for k in FIELDS}}                                   # a supervisor (HR rates)
    with tenant(app, "xiaoshou") as db:
        for number, values in rows.items():
            row = db.get(CycleSubject, month["subjects"][number])
            row.inputs = {**(row.inputs or {}), "ratings": values, "events": {"late": 1}}
        db.commit()
    with app.test_request_context(), tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, month["id"])
        for username in ("admin", "wanghaijun", "zhanglijuan"):
            g.pop("_headed_units", None)
            user = db.scalar(select(User).where(User.username == username))
            for unit in (None, month["units"]["S1"], month["units"]["S2"]):
                everyone = ratings.rateable(cycle, user, unit)
                statements = []
                listen = lambda *args: statements.append(args[2])  # noqa: E731
                event.listen(db.get_bind(), "before_cursor_execute", listen)
                try:
                    counted = ratings.progress_of(cycle, user, unit)
                finally:
                    event.remove(db.get_bind(), "before_cursor_execute", listen)
                assert len(statements) <= 2, statements  # the count (and the units below one, when filtered)
                assert counted == ratings.progress(cycle, everyone), (username, unit)
                todo = list(db.scalars(ratings.rateable_statement(cycle, user, unit, todo=True)))
                fields = ratings.rating_fields(cycle)
                assert [s.code for s in todo] == [s.code for s in everyone if not ratings.is_complete(s, fields)]
                if unit is None:
                    assert sorted(ratings.unrated_people(cycle, user)) == sorted(
                        (s.unit_id, s.person_id) for s in todo)
        admin = db.scalar(select(User).where(User.username == "admin"))
        assert ratings.progress_of(cycle, admin) == ratings.Progress(3, 20)  # X011, X022, X009
        assert ratings.rateable_units(cycle, admin) == [(month["units"]["S1"], "销售一部"),
                                                        (month["units"]["S2"], "销售二部")]
    login(client, "wanghaijun")
    page = client.get(grid_url(month) + "?todo=1").get_data(as_text=True)
    assert "1 of 9 rated" in page and "<code>X011</code>" not in page and "<code>X012</code>" in page
