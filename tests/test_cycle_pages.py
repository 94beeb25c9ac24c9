"""Cycle pages: the list, creating a cycle through the form, the cycle page with its subjects and
state buttons, compute, the results with their chart, breakdowns and the .xlsx export, and who may
see and do what."""
from __future__ import annotations

import html
import io
import re
from contextlib import contextmanager

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.cycles import service
from core.db import db_session
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, Tenant
from core.tenancy import set_tenant
from tests.conftest import AuthActions
from tests.test_cycles import fill_corporate_inputs
from tests.test_isolation import computed_cycle

BASE = "/t/jituan/cycles"
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "results"}


# ------------------------------------------------------------------------------------- helpers

def login(client, username: str = "hr", tenant: str = "jituan", locale: str = "en"):
    """Log in, in English unless told otherwise (the messages asserted are the English ones)."""
    client.post("/lang", data={"locale": locale})
    response = AuthActions(client).login(tenant, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@contextmanager
def tenant_db(app, slug: str = "jituan"):
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == slug)))
        yield db_session


def make_cycle(app, state: str = "draft", slug: str = "jituan", period: str = "2026-09") -> int:
    """A jituan monthly cycle brought to ``state`` through the service (inputs filled from open on)."""
    with tenant_db(app, slug) as db:
        if state == "draft":
            cycle = service.create_cycle("corporate-grading", period, "九月考评", {}, "test")
        else:
            cycle = computed_cycle(slug)
            for target in {"open": (), "review": ("review",), "published": ("review", "published"),
                           "closed": ("review", "published", "closed")}[state]:
                service.transition(cycle, target, "test")
        db.commit()
        return cycle.id


def state_of(app, cycle_id: int) -> str:
    with tenant_db(app) as db:
        return db.get(Cycle, cycle_id).state


def version_of(app, cycle_id: int) -> int:
    with tenant_db(app) as db:
        return db.get(Cycle, cycle_id).version


def errors_of(page: str, field: str) -> str:
    """The error list rendered next to a form field."""
    match = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


def move(client, cycle_id: int, target: str, version: int, **kwargs):
    return client.post(f"{BASE}/{cycle_id}/transition", data={"target": target, "version": str(version)}, **kwargs)


@pytest.fixture
def hr(client):
    return login(client)


# ------------------------------------------------------------------------------------- list and create

def test_the_list_is_empty_at_first_and_offers_a_new_cycle(hr):
    page = text(hr.get(f"{BASE}/"))
    assert "No cycles yet." in page and f'href="{BASE}/new"' in page
    assert f'href="{BASE}/"' in text(hr.get("/t/jituan/"))  # the menu entry


def test_creating_a_cycle_through_the_form(app, hr):
    form = hr.get(f"{BASE}/new")
    assert form.status_code == 200
    page = text(form)
    assert "Allowed forms: YYYY-MM, YYYY" in page and 'name="units"' in page and "multiple" in page
    response = hr.post(f"{BASE}/new", data={"scheme": "corporate-grading", "period": "2026-09", "name": "九月考评",
                                            "classes": ["B", "C"]})
    assert response.status_code == 302
    cycle_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = text(hr.get(response.headers["Location"]))
    assert "Cycle 九月考评 created as a draft." in page and "Draft" in page and "Open the cycle" in page
    with tenant_db(app) as db:
        cycle = db.get(Cycle, cycle_id)
        assert (cycle.scheme_id, cycle.period, cycle.created_by) == ("corporate-grading", "2026-09", "user:hr")
        assert cycle.selection == {"units": None, "classes": ["B", "C"], "statuses": None}
        excluded = db.scalars(select(CycleSubject.excluded_reason).where(
            CycleSubject.cycle_id == cycle_id, CycleSubject.eligible.is_(False))).all()
        assert excluded and all("class A not selected" in r for r in excluded)
    listing = text(hr.get(f"{BASE}/"))
    assert "九月考评" in listing and "Corporate A/B/C/D grading" in listing and "2026-09" in listing


def test_the_period_help_follows_the_scheme_chosen(hr):
    response = hr.get(f"{BASE}/new?scheme=corporate-grading", headers={"HX-Request": "true", "HX-Target": "period-help"})
    assert response.status_code == 200
    assert text(response).strip() == "Allowed forms: YYYY-MM, YYYY"


@pytest.mark.parametrize("data, field, message", [
    ({"period": "2026-13"}, "period", "'2026-13' is not a period; allowed: YYYY-MM"),
    ({"period": "2026-Q3"}, "period", "does not score a quarter; it scores: month, year"),
    ({"name": "已有的考评"}, "name", "A cycle named 已有的考评 for 2026-09 already exists."),
    ({"scheme": "sales-attitude"}, "scheme", "sales-attitude is not allowed; choose one of"),
    ({"name": ""}, "name", "This field is required."),
])
def test_a_refused_cycle_shows_why_next_to_the_field_and_writes_nothing(app, hr, data, field, message):
    with tenant_db(app) as db:
        service.create_cycle("corporate-grading", "2026-09", "已有的考评", {}, "test")
        db.commit()
    response = hr.post(f"{BASE}/new", data={"scheme": "corporate-grading", "period": "2026-09", "name": "九月", **data})
    assert response.status_code == 422
    assert message in errors_of(text(response), field)
    with tenant_db(app) as db:
        assert db.scalar(select(func.count()).select_from(Cycle)) == 1
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.object_type == "Cycle")) == 1


def test_the_form_in_chinese(client):
    login(client, locale="zh")
    page = text(client.get(f"{BASE}/new"))
    assert "新建考评周期" in page and "考评方案" in page


# ------------------------------------------------------------------------------------- the cycle page

def test_the_subjects_list_shows_who_is_excluded_and_why(client):
    login(client, "admin", "xiaoshou")
    response = client.post("/t/xiaoshou/cycles/new", data={"scheme": "sales-attitude", "period": "2026-09", "name": "九月"})
    assert response.status_code == 302
    url = response.headers["Location"]
    page = text(client.get(url))
    assert re.search(r"20 assessed, \d+ excluded", page) and "Excluded" in page
    fragment = client.get(f"{url}?show=excluded", headers=HTMX_RESULTS)
    rows = text(fragment)
    assert "<html" not in rows and "<table" in rows
    assert rows.count('class="inactive"') >= 3 and "no staff class of this scheme (supervisor, staff)" in rows
    assert "刘振华" in rows  # the general manager: no staff class
    eligible = text(client.get(f"{url}?show=eligible", headers=HTMX_RESULTS))
    assert "no staff class" not in eligible and 'class="inactive"' not in eligible


def test_the_subjects_search_and_pagination(app, client, database_url):
    from tests.conftest import make_test_app

    small = make_test_app(database_url, PAGE_SIZE=5)
    hr = login(small.test_client())
    cycle_id = make_cycle(small)
    page = text(hr.get(f"{BASE}/{cycle_id}"))
    assert f'href="{BASE}/{cycle_id}?page=2"' in page
    second = text(hr.get(f"{BASE}/{cycle_id}?page=2", headers=HTMX_RESULTS))
    assert "Page 2 of" in second
    with tenant_db(small) as db:
        some = db.scalars(select(CycleSubject).where(CycleSubject.cycle_id == cycle_id, CycleSubject.kind == "person")).first()
        code, name = some.code, some.name
    found = text(hr.get(f"{BASE}/{cycle_id}?q={code}", headers=HTMX_RESULTS))
    assert name in found and found.count("<tr id=\"subject-") == 1
    small.extensions["jixiao.engine"].dispose()


def test_a_cycle_moves_through_its_states_on_the_page(app, hr):
    cycle_id = make_cycle(app)
    url = f"{BASE}/{cycle_id}"
    response = move(hr, cycle_id, "open", version_of(app, cycle_id))
    assert response.status_code == 302 and response.headers["Location"] == url
    page = text(hr.get(url))
    assert "The cycle is now: Open." in page and "Send to review" in page and "Compute the results" in page

    # nothing entered: refused, every problem listed (the first 20, then a count)
    refused = move(hr, cycle_id, "review", version_of(app, cycle_id))
    assert refused.status_code == 422
    page = text(refused)
    assert "The cycle cannot move to in review yet." in page
    problems = re.search(r'<div class="flash error problems" role="alert">(.*?)</div>', page, re.S).group(1)
    assert problems.count("<li>") == 20 and "is required; neither was given" in problems
    assert re.search(r"… and \d+ more\.", problems)
    assert state_of(app, cycle_id) == "open"
    assert f'href="{BASE}/{cycle_id}?page=2"' in page or "Page 1 of 1" in page  # the table's links stay on the cycle page

    with tenant_db(app) as db:
        fill_corporate_inputs(db.get(Cycle, cycle_id))
        db.commit()
    assert move(hr, cycle_id, "review", version_of(app, cycle_id)).status_code == 302
    refused = move(hr, cycle_id, "published", version_of(app, cycle_id))
    assert refused.status_code == 422 and "compute the results after the last change of the inputs" in text(refused)

    computed = hr.post(f"{url}/compute")
    assert computed.status_code == 302 and computed.headers["Location"] == f"{url}/results"
    assert "The results were computed." in text(hr.get(computed.headers["Location"]))
    assert move(hr, cycle_id, "published", version_of(app, cycle_id)).status_code == 302
    assert move(hr, cycle_id, "closed", version_of(app, cycle_id)).status_code == 302
    page = text(hr.get(url))
    assert "This cycle is closed" in page and "/transition" not in page and "/compute" not in page
    assert f'href="{url}/results"' in page
    assert "Change history" in page and page.count("<code>state</code>") == 4  # open, review, published, closed
    with tenant_db(app) as db:
        actions = db.scalars(select(AuditLog.action).where(AuditLog.object_type == "Cycle", AuditLog.object_id == str(cycle_id))
                             .order_by(AuditLog.id)).all()
    assert actions == ["create", "transition", "transition", "compute", "transition", "transition"]


def test_a_stale_version_is_refused(app, hr):
    cycle_id = make_cycle(app)
    stale = version_of(app, cycle_id)
    assert move(hr, cycle_id, "open", stale).status_code == 302
    response = move(hr, cycle_id, "review", stale)
    assert response.status_code == 422 and "changed by someone else" in text(response)
    assert move(hr, cycle_id, "review", None).status_code == 422  # no version at all
    assert state_of(app, cycle_id) == "open"


def test_htmx_actions_answer_with_the_alerts_or_a_redirect(app, hr):
    cycle_id = make_cycle(app)
    headers = {"HX-Request": "true", "HX-Target": "cycle-alerts"}
    refused = move(hr, cycle_id, "published", version_of(app, cycle_id), headers=headers)
    assert refused.status_code == 422
    fragment = text(refused)
    assert "<html" not in fragment and "A draft cycle cannot move to published." in fragment
    done = move(hr, cycle_id, "open", version_of(app, cycle_id), headers=headers)
    assert done.status_code == 204 and done.headers["HX-Redirect"] == f"{BASE}/{cycle_id}"


def test_a_closed_cycle_shows_no_actions_and_refuses_them(app, hr):
    cycle_id = make_cycle(app, "closed")
    page = text(hr.get(f"{BASE}/{cycle_id}"))
    assert "This cycle is closed" in page and 'name="target"' not in page and "Compute the results" not in page
    for target in ("open", "review", "published", "closed"):
        assert move(hr, cycle_id, target, version_of(app, cycle_id)).status_code == 422
    response = hr.post(f"{BASE}/{cycle_id}/compute")
    assert response.status_code == 422 and "it is closed" in text(response)
    assert state_of(app, cycle_id) == "closed"


# ------------------------------------------------------------------------------------- results

def test_the_results_rank_grade_and_chart(app, hr):
    cycle_id = make_cycle(app, "review")
    response = hr.get(f"{BASE}/{cycle_id}/results")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert 'hx-history="false"' in page
    assert "<svg" in page and "<rect" in page and "Grade distribution" in page and "style=" not in page
    with tenant_db(app) as db:
        units = db.execute(select(CycleResult.rank, CycleSubject.code, CycleResult.grade)
                           .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                           .where(CycleSubject.kind == "unit").order_by(CycleResult.rank, CycleSubject.code)).all()
    table = page.split('<table class="table ranking">', 1)[1]
    shown = re.findall(r'<tr id="result-\d+">\s*<td>(\d+)</td>\s*<td><code>([^<]+)</code>', table)
    assert [(int(r), c) for r, c in shown] == [(r, c) for r, c, _g in units][:len(shown)] and shown
    ranks = [int(r) for r, _c in shown]
    assert ranks == sorted(ranks)
    grades = {g for _r, _c, g in units}
    assert grades <= {"A", "B", "C", "D"} and len(grades) >= 1
    # the people's tab, filtered by class and grade (htmx)
    people = text(hr.get(f"{BASE}/{cycle_id}/results?kind=person"))
    assert 'aria-current="page">People' in people
    with tenant_db(app) as db:
        some_grade = db.scalar(select(CycleResult.grade).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                               .where(CycleSubject.kind == "person", CycleSubject.staff_class == "B").limit(1))
    fragment = text(hr.get(f"{BASE}/{cycle_id}/results?kind=person&class=B&grade={some_grade}", headers=HTMX_RESULTS))
    assert "<html" not in fragment
    rows = re.findall(r'<tr id="result-\d+">(.*?)</tr>', fragment, re.S)
    assert rows
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert cells[3] == "B" and cells[5] == some_grade
    assert f"results.xlsx?kind=person&class=B&grade={some_grade}" in fragment  # the export keeps the filters


def test_no_chart_without_grades(client):
    login(client, "admin", "xiaoshou")
    with tenant_db(client.application, "xiaoshou") as db:
        cycle = computed_cycle("xiaoshou")
        db.commit()
        cycle_id = cycle.id
    page = text(client.get(f"/t/xiaoshou/cycles/{cycle_id}/results"))
    assert "<svg" not in page and '<table class="table ranking">' in page


def test_no_results_before_compute(app, hr):
    cycle_id = make_cycle(app)
    page = text(hr.get(f"{BASE}/{cycle_id}/results"))
    assert "the cycle has not been computed" in page
    assert "Not computed yet." in text(hr.get(f"{BASE}/{cycle_id}"))


def test_the_breakdown_shows_the_formula_and_the_raw_inputs(app, hr):
    cycle_id = make_cycle(app, "review")
    with tenant_db(app) as db:
        result, subject = db.execute(select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                     .where(CycleSubject.kind == "unit").order_by(CycleResult.rank)).first()
        result_id, plan_rate = result.id, subject.inputs["plan_rate"]
    ranking = text(hr.get(f"{BASE}/{cycle_id}/results"))
    assert f'href="{BASE}/{cycle_id}/results/{result_id}"' in ranking
    response = hr.get(f"{BASE}/{cycle_id}/results/{result_id}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert "plan_score * 0.6 + form_score * 0.4 + adjust" in page  # the formula
    assert "plan_rate" in page and plan_rate in page  # the raw input
    assert "How the score was computed" in page and "Inputs as entered" in page


def test_a_result_of_another_cycle_is_not_found(app, hr):
    first = make_cycle(app, "review")
    with tenant_db(app) as db:
        other = service.create_cycle("corporate-grading", "2026-10", "十月", {}, "test")
        db.commit()
        result_id = db.scalar(select(CycleResult.id).where(CycleResult.cycle_id == first))
    assert hr.get(f"{BASE}/{first}/results/{result_id}").status_code == 200
    assert hr.get(f"{BASE}/{other.id}/results/{result_id}").status_code == 404


def test_the_ranking_exports_to_xlsx(app, hr):
    cycle_id = make_cycle(app, "review")
    response = hr.get(f"{BASE}/{cycle_id}/results.xlsx?kind=person&class=B")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Rank", "Code", "Name", "Class", "Score", "Grade", "Flags")
    with tenant_db(app) as db:
        expected = db.execute(select(CycleSubject.code, CycleResult.score, CycleResult.grade)
                              .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                              .where(CycleSubject.kind == "person", CycleSubject.staff_class == "B")).all()
    assert len(rows) - 1 == len(expected) > 0
    assert {(r[1], round(r[4], 2), r[5]) for r in rows[1:]} == {(c, float(s), g) for c, s, g in expected}
    assert all(r[3] == "B" for r in rows[1:])
    assert sheet.cell(row=2, column=5).number_format == "0.00"
    ranks = [r[0] for r in rows[1:]]
    assert ranks == sorted(ranks)


def test_the_export_speaks_chinese_too(app, client):
    login(client, locale="zh")
    cycle_id = make_cycle(app, "review")
    sheet = load_workbook(io.BytesIO(client.get(f"{BASE}/{cycle_id}/results.xlsx").data)).active
    header = next(sheet.iter_rows(values_only=True))
    assert header[0] == "排名" and "等级" in header and "得分" in header


# ------------------------------------------------------------------------------------- who may

def test_a_leader_follows_cycles_but_cannot_act(app, client):
    cycle_id = make_cycle(app, "review")
    login(client, "president")
    assert f'href="{BASE}/"' in text(client.get("/t/jituan/"))
    for url in (f"{BASE}/", f"{BASE}/{cycle_id}", f"{BASE}/{cycle_id}/results", f"{BASE}/{cycle_id}/results.xlsx"):
        assert client.get(url).status_code == 200, url
    page = text(client.get(f"{BASE}/{cycle_id}"))
    assert 'name="target"' not in page and "Compute the results" not in page
    assert "New cycle" not in text(client.get(f"{BASE}/"))
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.post(f"{BASE}/new", data={"scheme": "corporate-grading", "period": "2026-11", "name": "x"}).status_code == 403
    assert move(client, cycle_id, "published", version_of(app, cycle_id)).status_code == 403
    assert client.post(f"{BASE}/{cycle_id}/compute").status_code == 403
    assert state_of(app, cycle_id) == "review"


def test_an_employee_opens_no_cycle_page(app, client):
    cycle_id = make_cycle(app, "published")
    with tenant_db(app) as db:
        result_id = db.scalar(select(CycleResult.id).where(CycleResult.cycle_id == cycle_id))
    login(client, "employee")
    assert f'href="{BASE}/"' not in text(client.get("/t/jituan/"))
    for url in (f"{BASE}/", f"{BASE}/new", f"{BASE}/{cycle_id}", f"{BASE}/{cycle_id}/results",
                f"{BASE}/{cycle_id}/results/{result_id}", f"{BASE}/{cycle_id}/results.xlsx"):
        assert client.get(url).status_code == 403, url
    for url in (f"{BASE}/new", f"{BASE}/{cycle_id}/transition", f"{BASE}/{cycle_id}/compute"):
        assert client.post(url).status_code == 403, url


def test_an_inputs_due_date_is_kept_and_a_bad_one_named(app, client):
    login(client)
    bad = client.post(f"{BASE}/new", data={"scheme": "corporate-grading", "period": "2026-09", "name": "九月",
                                         "inputs_due": "2026-13-45"})
    assert bad.status_code == 422 and "2026-13-45 is not a date; write it as YYYY-MM-DD." in text(bad)
    good = client.post(f"{BASE}/new", data={"scheme": "corporate-grading", "period": "2026-09", "name": "九月",
                                          "inputs_due": "2026-10-04"})
    assert good.status_code == 302
    from core.db import db_session
    from core.models import Cycle

    with app.app_context():
        from core.tenancy import all_tenants

        with all_tenants(db_session):
            assert str(db_session.scalar(select(Cycle.inputs_due).where(Cycle.name == "九月"))) == "2026-10-04"
