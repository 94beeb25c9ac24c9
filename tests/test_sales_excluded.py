"""sales-attitude, excluded staff (issue 6, item 6): the people of a month not assessed, each with the
reason: an excluded status (intern, probation, transfer, promotion, demotion: not ranked, no pay)
and the people the cycle left out (no staff class of the scheme); HR and leaders see everyone, unit
heads their units, employees nothing; the count on the cycle's page; tenant isolation."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cycles import service
from core.models import Cycle, CycleResult, CycleSubject, Person
from plugins.sales_attitude.pay.models import PayRecord
from tests.test_cycles import tenant

PASSWORD = "jixiao-demo"
STATUS_EXCLUDED = {"X019": "Intern", "X025": "Probation", "X027": "Transfer period"}
NOT_IN_CYCLE = ("X001", "X002", "X003", "X004", "X005", "X006", "X007", "X008")


def login(client, username, tenant_slug="xiaoshou"):
    client.post("/lang", data={"locale": "en"})
    response = client.post(f"/t/{tenant_slug}/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username


@pytest.fixture
def month(app) -> dict:
    """A sales cycle of xiaoshou (draft); X024 (S2) moved to a promotion period, X016 (S1) to demotion."""
    with tenant(app, "xiaoshou") as db:
        for number, status in (("X024", "promotion"), ("X016", "demotion")):
            db.scalar(select(Person).where(Person.number == number)).status = status
        db.flush()
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月考评", {}, "test")
        db.commit()
        return {"id": cycle.id}


def url(month) -> str:
    return f"/t/xiaoshou/sales/cycles/{month['id']}/excluded"


def rows(page: str) -> dict[str, str]:
    """Each listed person's table row, by number."""
    import re

    return {m.group(1): m.group(0) for m in re.finditer(r"<tr>\s*<td><code>(X\d+)</code></td>.*?</tr>", page, re.S)}


def test_hr_sees_everyone_excluded_with_the_reason(client, month):
    login(client, "admin")
    page = client.get(url(month)).get_data(as_text=True)
    listed = rows(page)
    assert set(listed) == set(STATUS_EXCLUDED) | {"X016", "X024"} | set(NOT_IN_CYCLE)
    for number, label in {**STATUS_EXCLUDED, "X016": "Demotion period", "X024": "Promotion period"}.items():
        assert f"{label}: not scored, not ranked, no pay computed" in listed[number], number
    assert "no staff class of this scheme (Sales supervisor, Salesperson)" in listed["X001"]  # the reader's language
    # the people outside the scheme's staff classes apart, collapsed; the count is the status exclusions
    main, outside = page.split('<details class="panel" id="outside">')
    assert set(rows(main)) == set(STATUS_EXCLUDED) | {"X016", "X024"} and set(rows(outside)) == set(NOT_IN_CYCLE)
    assert '<dd id="excluded-count">5</dd>' in main
    assert "Not in the cycle (8): people outside the scheme's staff classes" in outside
    assert "<td>Salesperson</td>" in listed["X019"] and '<span class="tag excluded">Excluded: internship</span>' in listed["X019"]
    assert "<code>X011</code>" not in page  # regular staff are assessed
    order = list(listed)
    assert order.index("X027") < order.index("X001")  # status exclusions first


@pytest.mark.parametrize("username, visible, hidden", [
    ("manager", {"X019", "X025", "X027", "X001"}, set()),
    ("wanghaijun", {"X019", "X016"}, {"X025", "X027", "X024", "X001"}),
    ("zhanglijuan", {"X025", "X027", "X024"}, {"X019", "X016", "X001"}),
])
def test_leaders_see_everyone_and_unit_heads_their_units(client, month, username, visible, hidden):
    login(client, username)
    response = client.get(url(month))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    listed = rows(response.get_data(as_text=True))
    assert visible <= set(listed) and not (hidden & set(listed))


@pytest.mark.parametrize("username", ["employee", "chenxiaohong", "zengwei"])
def test_employees_may_not_see_the_excluded_staff(client, month, username):
    login(client, username)
    assert client.get(url(month)).status_code == 403


def test_the_count_is_a_link_on_the_cycle_page_and_the_ratings_months(client, month):
    login(client, "admin")
    page = client.get(f"/t/xiaoshou/cycles/{month['id']}").get_data(as_text=True)
    assert f'href="{url(month)}"' in page and "Excluded staff (5)" in page  # by status (8 more are not in the cycle)
    client.post("/t/xiaoshou/logout")
    login(client, "wanghaijun")  # unit heads reach it from the months of the ratings
    page = client.get("/t/xiaoshou/sales/ratings").get_data(as_text=True)
    assert f'href="{url(month)}"' in page and "Excluded staff (2)" in page


def test_computed_results_flag_the_status_exclusions_without_rank_or_pay(app, client, month):
    with tenant(app, "xiaoshou") as db:
        cycle = db.get(Cycle, month["id"])
        service.transition(cycle, "open", "test")
        for row in service.subjects(cycle):
            if row.kind == "person":
                db.add(PayRecord(person_id=row.person_id, base="5000.00", coefficient="1", updated_by="test"))
                ratings = {k: "80" for k in ("basic_ability", "proficiency", "coordination", "service")}
                service.set_inputs(row, cycle, {**row.inputs, "ratings": ratings}, row.inputs_version, "test")
        service.compute(cycle, "test")
        db.commit()
        results = {s.code: r for r, s in db.execute(
            select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .where(CycleResult.cycle_id == cycle.id))}
        for number, status in {"X019": "intern", "X025": "probation", "X027": "transfer", "X016": "demotion",
                               "X024": "promotion"}.items():
            result = results[number]
            assert f"excluded:{status}" in result.flags and result.rank is None and result.score is None
            assert "pay" not in result.extra
        assert results["X011"].rank is not None and results["X011"].extra["pay"] == "4150.00"
    login(client, "admin")
    assert "Demotion period: not scored" in client.get(url(month)).get_data(as_text=True)
    # the cycle's page: the status exclusions are scored for reference only, from the results' flags
    page = client.get(f"/t/xiaoshou/cycles/{month['id']}").get_data(as_text=True)
    assert reference_rows(page) == {"X016": "Excluded: demotion period", "X019": "Excluded: internship",
                                    "X024": "Excluded: promotion period", "X025": "Excluded: probation",
                                    "X027": "Excluded: transfer period"}


def test_another_tenant_gets_404(app, client, month):
    login(client, "hr", "jituan")
    assert client.get(f"/t/jituan/sales/cycles/{month['id']}/excluded").status_code == 404
    with tenant(app, "jituan") as db:
        corporate = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "test")
        db.commit()
        corporate_id = corporate.id
    client.post("/t/jituan/logout")
    login(client, "admin")
    assert client.get(f"/t/xiaoshou/sales/cycles/{corporate_id}/excluded").status_code == 404
    assert client.get("/t/xiaoshou/sales/cycles/999999/excluded").status_code == 404


def reference_rows(page: str) -> dict[str, str]:
    """The cycle page's subjects marked "scored for reference only", with the reason shown."""
    import re

    found = {}
    for row in re.finditer(r'<tr id="subject-\d+" class="">(.*?)</tr>', page, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
        if "Scored for reference only" in row.group(1):
            found[re.search(r"<code>(.*?)</code>", cells[0]).group(1)] = cells[-1].strip()
    return found


def test_the_cycle_page_marks_the_status_exclusions_before_computing(client, month):
    login(client, "admin")
    page = client.get(f"/t/xiaoshou/cycles/{month['id']}?kind=person").get_data(as_text=True)
    assert reference_rows(page) == {"X016": "Excluded: demotion period", "X019": "Excluded: internship",
                                    "X024": "Excluded: promotion period", "X025": "Excluded: probation",
                                    "X027": "Excluded: transfer period"}
    import re

    regular = re.search(r'<tr id="subject-\d+" class="">\s*<td><code>X011</code>.*?</tr>', page, re.S).group(0)
    assert '<span class="tag">Assessed</span>' in regular
    client.post("/lang", data={"locale": "zh"})
    page = client.get(f"/t/xiaoshou/cycles/{month['id']}?kind=person").get_data(as_text=True)
    assert "不参与考评:实习期" in page and "不参与考评:见习期" in page


def test_the_reasons_are_in_the_readers_language(client, month):
    login(client, "manager")
    client.post("/lang", data={"locale": "zh"})
    page = client.get(url(month)).get_data(as_text=True)
    outside = page[page.index('id="outside"'):]
    assert "不属于本方案的人员类别(销售主管、销售业务员)" in outside
    assert "不参与考评:实习期" in page and "销售业务员" in page and "<td>staff</td>" not in page
    assert "不参与考评人员（5）" in client.get(f"/t/xiaoshou/cycles/{month['id']}").get_data(as_text=True)


def test_a_unit_head_sees_only_their_units_also_apart(client, month):
    login(client, "wanghaijun")
    page = client.get(url(month)).get_data(as_text=True)
    assert '<dd id="excluded-count">2</dd>' in page and 'id="outside"' not in page  # S1 has nobody left out
