"""The township's information reports (issue 7, item 4: 信息报送): recording an item (validated, no
future date, a duplicate refused, also under a race), deleting it after a confirmation, the year's
overview per unit (per quarter, the minimum for its kind, shortfall and deduction, the quarterly
supervision's pace), the annual cycle's derived ``info_reports`` input, final once the year's annual
cycle is published, importing a spreadsheet all or nothing, who may do what, and other tenants."""
from __future__ import annotations

import html
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleSubject, OrgUnit, TenantScheme
from plugins.gov_public_evaluation.inspections import service as inspections
from plugins.gov_public_evaluation.reports import service
from plugins.gov_public_evaluation.reports.models import InfoReport
from tests.test_cycles import tenant

SLUG = "zhen"
BASE = f"/t/{SLUG}/township/reports"
TODAY = date(2026, 8, 20)  # in Q3


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(inspections, "today", lambda: TODAY)  # the reports' today too


def login(client, auth, username="admin", slug=SLUG):
    client.post("/lang", data={"locale": "en"})
    assert auth.login(slug, username).status_code == 302


def unit_ids(app) -> dict[str, int]:
    with tenant(app, SLUG) as db:
        return dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())


def add(client, unit_id, day="2026-03-02", title="东岭村春耕备耕进展", adopted_by=""):
    return client.post(f"{BASE}/new", data={"day": day, "unit_id": str(unit_id), "title": title,
                                             "adopted_by": adopted_by})


def reports(app) -> list[tuple]:
    with tenant(app, SLUG) as db:
        return [(r.day.isoformat(), r.unit_id, r.title, r.adopted_by, r.recorded_by)
                for r in db.scalars(select(InfoReport).order_by(InfoReport.id))]


def report_ids(app) -> list[int]:
    with tenant(app, SLUG) as db:
        return list(db.scalars(select(InfoReport.id).order_by(InfoReport.id)))


def make_cycle(app, period, name=None) -> int:
    with tenant(app, SLUG) as db:
        cycle = cycles.create_cycle("gov-public-evaluation", period, name or f"考核 {period}", {}, "test")
        db.commit()
        return cycle.id


def set_state(app, cycle_id, state):
    """Publishing for real needs every unit's survey answers and points (other features' records)."""
    with tenant(app, SLUG) as db:
        db.execute(update(Cycle).where(Cycle.id == cycle_id).values(state=state))
        db.commit()


def inputs_of(app, cycle_id, code) -> dict:
    with tenant(app, SLUG) as db:
        return db.scalar(select(CycleSubject.inputs).where(CycleSubject.cycle_id == cycle_id,
                                                           CycleSubject.code == code))


def plain(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split()).replace(" :", ":")


def overview_codes(page: str) -> list[str]:
    table = re.search(r'<table class="table compact" id="overview">.*?</table>', page, re.S).group(0)
    return re.findall(r'<tr id="unit-(\w+)"', table)


def overview_footer(page: str) -> str:
    table = re.search(r'<table class="table compact" id="overview">.*?</table>', page, re.S).group(0)
    return plain(table.split("<tfoot>")[1])


def versions(app) -> list[int]:
    with tenant(app, SLUG) as db:
        return list(db.scalars(select(InfoReport.version).order_by(InfoReport.id)))


def overview_row(page: str, code: str) -> list[str]:
    row = re.search(rf'<tr id="unit-{code}".*?</tr>', page, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


# ----------------------------------------------------------------------------------- one item

def test_the_office_records_an_item_refuses_a_duplicate_and_deletes_it(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    form = text_of(client.get(f"{BASE}/new"))
    assert 'max="2026-08-20"' in form and "东岭村 (V01)" in form and "(TOWN)" not in form
    assert add(client, units["V01"], adopted_by="县政务信息 第12期").status_code == 302
    assert reports(app) == [("2026-03-02", units["V01"], "东岭村春耕备耕进展", "县政务信息 第12期", "user:admin")]
    assert "Item recorded: 2026-03-02, 东岭村 (V01): “东岭村春耕备耕进展”." in text_of(client.get(f"{BASE}?year=2026"))

    again = add(client, units["V01"], title="  东岭村春耕备耕进展 ")  # spacing is not a difference
    page = text_of(again)
    assert again.status_code == 409
    assert ("东岭村 (V01) already has the item “东岭村春耕备耕进展” of 2026-03-02, recorded by" in page
            and "the same unit, date and title) is recorded once." in page)
    assert add(client, units["V01"], day="2026-03-03").status_code == 302  # another day: another item
    assert add(client, units["V02"]).status_code == 302  # another unit: another item
    assert len(reports(app)) == 3

    first = report_ids(app)[0]
    confirm = client.get(f"{BASE}/{first}/delete")
    assert confirm.status_code == 200 and "Delete this item?" in text_of(confirm) and "县政务信息 第12期" in text_of(confirm)
    assert 'name="version" value="1"' in text_of(confirm)
    stale = client.post(f"{BASE}/{first}/delete", data={"version": "0"})  # a confirmation out of date
    assert stale.status_code == 409 and "changed by someone else since this page was loaded" in text_of(stale)
    assert len(reports(app)) == 3
    assert client.post(f"{BASE}/{first}/delete", data={"version": "1"}).status_code == 302
    assert len(reports(app)) == 2
    assert client.post(f"{BASE}/{first}/delete", data={"version": "1"}).status_code == 404
    with tenant(app, SLUG) as db:
        actions = list(db.scalars(select(AuditLog.action).where(AuditLog.object_type == "InfoReport")
                                  .order_by(AuditLog.id)))
    assert actions == ["gov_info_report.add"] * 3 + ["gov_info_report.delete"]


def test_the_office_corrects_an_item_under_the_rules_of_a_new_one(app, client, auth):
    units = unit_ids(app)
    year_id, last_year = make_cycle(app, "2026", "2026 年度"), make_cycle(app, "2025", "2025 年度")
    login(client, auth)
    assert add(client, units["V01"], day="2026-03-02", title="春耕").status_code == 302
    assert add(client, units["V02"], day="2026-03-05", title="防汛").status_code == 302
    item, other = report_ids(app)
    assert f'href="{BASE}/{item}/edit"' in text_of(client.get(f"{BASE}?year=2026"))
    form = text_of(client.get(f"{BASE}/{item}/edit"))
    assert 'name="version" value="1"' in form and 'value="春耕"' in form and 'value="2026-03-02"' in form

    saved = client.post(f"{BASE}/{item}/edit", data={"day": "2026-04-01", "unit_id": str(units["V03"]),
                                                     "title": " 春耕 备耕 ", "adopted_by": "县政务信息", "version": "1"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"{BASE}?year=2026")
    assert reports(app)[0] == ("2026-04-01", units["V03"], "春耕 备耕", "县政务信息", "user:admin")
    assert versions(app) == [2, 1]
    assert "Item saved: 2026-04-01, 南塘村 (V03): “春耕 备耕”." in text_of(client.get(f"{BASE}?year=2026"))
    # the old and the new unit follow in the open annual cycle
    assert inputs_of(app, year_id, "V01")["info_reports"] == 0 and inputs_of(app, year_id, "V03")["info_reports"] == 1

    duplicate = client.post(f"{BASE}/{other}/edit", data={"day": "2026-04-01", "unit_id": str(units["V03"]),
                                                          "title": "春耕 备耕", "version": "1"},
                            headers={"HX-Request": "true", "HX-Target": "report-form"})
    page = text_of(duplicate)
    assert duplicate.status_code == 409 and "<html" not in page
    assert "南塘村 (V03) already has the item “春耕 备耕” of 2026-04-01, recorded by" in page
    assert reports(app)[1][:3] == ("2026-03-05", units["V02"], "防汛")

    stale = client.post(f"{BASE}/{item}/edit", data={"day": "2026-04-01", "unit_id": str(units["V03"]),
                                                     "title": "春耕 备耕", "adopted_by": "市简报", "version": "1"})
    page = text_of(stale)
    assert stale.status_code == 409 and "The item was changed by someone else since this page was loaded" in page
    assert "The item as it is now" in page and 'name="version" value="2"' in page and 'value="市简报"' in page
    assert reports(app)[0][3] == "县政务信息"
    bad = client.post(f"{BASE}/{item}/edit", data={"day": "2026-08-21", "unit_id": str(units["V03"]), "title": "",
                                                   "version": "2"})
    assert bad.status_code == 422 and "Date: 2026-08-21 is after today" in text_of(bad)
    assert "Title: required" in text_of(bad)
    unchanged = client.post(f"{BASE}/{item}/edit", data={"day": "2026-04-01", "unit_id": str(units["V03"]),
                                                         "title": "春耕 备耕", "adopted_by": "县政务信息",
                                                         "version": "2"})
    assert unchanged.status_code == 302 and versions(app) == [2, 1]

    set_state(app, last_year, "published")  # moving an item into a final year is refused, naming the cycle
    refused = client.post(f"{BASE}/{item}/edit", data={"day": "2025-12-01", "unit_id": str(units["V03"]),
                                                       "title": "春耕 备耕", "version": "2"})
    assert refused.status_code == 409
    assert "The information reports of 2025 are final" in text_of(refused) and "2025 年度 (Year 2025, Published)" \
        in text_of(refused)
    assert reports(app)[0][0] == "2026-04-01"

    with tenant(app, SLUG) as db:
        audit = list(db.execute(select(AuditLog.action, AuditLog.before, AuditLog.after)
                                .where(AuditLog.object_type == "InfoReport", AuditLog.object_id == str(item))
                                .order_by(AuditLog.id)))
    assert [a[0] for a in audit] == ["gov_info_report.add", "gov_info_report.edit"]
    assert audit[1][1] == {"day": "2026-03-02", "unit_id": units["V01"], "title": "春耕", "adopted_by": ""}
    assert audit[1][2] == {"day": "2026-04-01", "unit_id": units["V03"], "title": "春耕 备耕", "adopted_by": "县政务信息"}
    log = text_of(client.get(f"{BASE}/{item}/edit"))  # the change log, in words
    changes = plain(re.search(r'<table class="table compact" id="change-log">.*?</table>', log, re.S).group(0))
    assert "Record changed" in changes and "Unit: 东岭村 (V01) → 南塘村 (V03)" in changes and "Record added" in changes
    assert "gov_info_report" not in changes and "user:admin" not in changes
    client.post("/lang", data={"locale": "zh"})
    assert "</strong>：<del>东岭村 (V01)</del>" in text_of(client.get(f"{BASE}/{item}/edit"))  # full-width colon


def test_a_move_to_another_year_refreshes_both_annual_cycles(app, client, auth):
    units = unit_ids(app)
    year_id, last_year = make_cycle(app, "2026"), make_cycle(app, "2025")
    login(client, auth)
    assert add(client, units["V05"], day="2026-01-02", title="x").status_code == 302
    assert inputs_of(app, year_id, "V05")["info_reports"] == 1
    assert client.post(f"{BASE}/{report_ids(app)[0]}/edit", data={
        "day": "2025-12-30", "unit_id": str(units["V05"]), "title": "x", "version": "1"}).status_code == 302
    assert inputs_of(app, year_id, "V05")["info_reports"] == 0 and inputs_of(app, last_year, "V05")["info_reports"] == 1


def test_the_unique_key_backs_the_duplicate_check_under_a_race(app, client, auth, monkeypatch):
    units = unit_ids(app)
    login(client, auth)
    assert add(client, units["V03"]).status_code == 302
    real = service._existing
    calls = []

    def racing(unit_id, day, title):  # the other request's insert is not seen by the check, only by the key
        calls.append(title)
        return None if len(calls) == 1 else real(unit_id, day, title)

    monkeypatch.setattr(service, "_existing", racing)
    response = add(client, units["V03"])
    assert response.status_code == 409 and len(calls) == 2
    assert "南塘村 (V03) already has the item “东岭村春耕备耕进展” of 2026-03-02, recorded by" in text_of(response)
    assert len(reports(app)) == 1

    monkeypatch.setattr(service, "_existing", real)  # a correction into a duplicate: the key holds too
    assert add(client, units["V03"], title="another").status_code == 302
    calls.clear()
    monkeypatch.setattr(service, "_existing", racing)
    corrected = client.post(f"{BASE}/{report_ids(app)[1]}/edit", data={
        "day": "2026-03-02", "unit_id": str(units["V03"]), "title": "东岭村春耕备耕进展", "version": "1"})
    assert corrected.status_code == 409 and len(calls) == 2
    assert "南塘村 (V03) already has the item “东岭村春耕备耕进展” of 2026-03-02, recorded by" in text_of(corrected)
    assert [r[2] for r in reports(app)] == ["东岭村春耕备耕进展", "another"] and versions(app) == [1, 1]


@pytest.mark.parametrize("changes, field, message", [
    ({"day": "2026-08-21"}, "day", "Date: 2026-08-21 is after today (2026-08-20); a record is dated today or earlier."),
    ({"day": "03/02/2026"}, "day", "Date: “03/02/2026” is not a date; write it as YYYY-MM-DD"),
    ({"unit_id": ""}, "unit_id", "Unit: choose the village or department."),
    ({"unit_id": "nope"}, "unit_id", "Unit: “nope” is not an active village or department of this township"),
    ({"title": " "}, "title", "Title: required; the title of the item the unit reported."),
    ({"title": "x" * 201}, "title", "Title: 201 characters; at most 200 are allowed."),
    ({"adopted_by": "y" * 121}, "adopted_by", "Taken up by: 121 characters; at most 120 are allowed."),
])
def test_a_bad_input_is_named_next_to_its_field_and_nothing_is_written(app, client, auth, changes, field, message):
    units = unit_ids(app)
    login(client, auth)
    form = {"day": "2026-03-02", "unit_id": str(units["V01"]), "title": "t", "adopted_by": "", **changes}
    response = client.post(f"{BASE}/new", data=form, headers={"HX-Request": "true", "HX-Target": "report-form"})
    page = text_of(response)
    assert response.status_code == 422 and message in page
    assert f'id="ir-{field}-errors"' in page and "<html" not in page
    assert reports(app) == []


# ----------------------------------------------------------------------------------- the overview

def test_the_overview_counts_per_quarter_against_the_minimum_by_kind(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    for i, day in enumerate(("2026-01-05", "2026-02-05", "2026-04-05", "2026-07-01", "2026-07-02", "2026-08-01")):
        assert add(client, units["V01"], day=day, title=f"V01 item {i}").status_code == 302
    for i, day in enumerate(("2026-03-31", "2026-04-01")):
        assert add(client, units["DZB"], day=day, title=f"DZB item {i}").status_code == 302
    assert add(client, units["DZB"], day="2025-12-31", title="last year").status_code == 302
    page = text_of(client.get(f"{BASE}?year=2026"))
    # Q1 Q2 Q3 Q4, reported, minimum, shortfall, deduction, pace (Q3: 5 × 3/4 → 4 due; 6 × 3/4 → 5 due)
    assert overview_row(page, "V01")[1:] == ["Village", "2", "1", "3", "0", "6", "5", "0", "0", "on pace"]
    assert overview_row(page, "DZB")[1:] == ["Department", "1", "1", "0", "0", "2", "6", "4", "−4",
                                             "behind: 5 due by now"]
    assert overview_row(page, "V12")[1:] == ["Village", "0", "0", "0", "0", "0", "5", "5", "−5", "behind: 4 due by now"]
    assert "Minimum a year: villages 5, departments 6; each missing item deducts 1 point(s)" in page
    assert "No annual cycle for 2026 yet: the township's current settings." in page
    assert "unit-TOWN" not in page
    assert "18 unit(s) are behind" in page  # everyone but V01
    last = text_of(client.get(f"{BASE}?year=2025"))
    assert overview_row(last, "DZB")[1:] == ["Department", "0", "0", "0", "1", "1", "6", "5", "−5"]  # no pace: past
    q2 = client.get(f"{BASE}?year=2026&quarter=2", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in text_of(q2) and "1–2 of 2" in text_of(q2) and "Items of Q2 2026" in text_of(q2)


def test_the_overview_is_paginated_with_totals_over_all_units(app, client, auth):
    app.config["PAGE_SIZE"] = 10
    units = unit_ids(app)
    login(client, auth)
    for n in range(12):  # 12 items of V01: the items' list pages too, by its own page number
        assert add(client, units["V01"], day=f"2026-02-{n + 1:02d}", title=f"item {n}").status_code == 302
    first = text_of(client.get(f"{BASE}?year=2026"))
    codes = overview_codes(first)
    assert len(codes) == 10 and "1–10 of 19" in first
    # 19 units, 12 items reported; the shortfall of the 18 others: 11 villages × 5 + 7 departments × 6
    footer = "All units (19) 12 0 0 0 12 97 −97"
    assert overview_footer(first) == footer and "18 unit(s) are behind" in first
    second = text_of(client.get(f"{BASE}?year=2026&page=2", headers={"HX-Request": "true", "HX-Target": "results"}))
    assert "<html" not in second and "11–19 of 19" in second and overview_footer(second) == footer
    assert set(overview_codes(second)).isdisjoint(codes) and len(overview_codes(second)) == 9
    items = second.split('id="items"')[1]
    assert "1–10 of 12" in items and f'{BASE}?year=2026&page=2&list_page=2' in items.replace("&amp;", "&")
    both = text_of(client.get(f"{BASE}?year=2026&page=2&list_page=2"))
    assert "11–19 of 19" in both and "11–12 of 12" in both.split('id="items"')[1]


def test_the_rules_come_from_the_annual_cycle_else_the_tenants_settings(app, client, auth):
    units = unit_ids(app)
    with tenant(app, SLUG) as db:
        row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation"))
        row.settings = {"info_report_minimum": {"village": 3, "department": 4}, "info_report_points_per_missing": "0.5"}
        db.commit()
    login(client, auth)
    assert add(client, units["V02"], title="a").status_code == 302
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert overview_row(page, "V02")[7:10] == ["3", "2", "−1"]
    assert overview_row(page, "JFB")[7:10] == ["4", "4", "−2"]
    year_id = make_cycle(app, "2026", "2026 年度")
    with tenant(app, SLUG) as db:  # the tenant changes its settings later: the cycle keeps its own
        row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation"))
        row.settings = {}
        db.commit()
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert overview_row(page, "V02")[7:10] == ["3", "2", "−1"]
    assert "Rules of the cycle 2026 年度 (Year 2026, Draft)." in page
    assert inputs_of(app, year_id, "V02")["info_reports"] == 1
    other = text_of(client.get(f"{BASE}?year=2027"))  # no cycle for 2027: the settings as they are now
    assert overview_row(other, "V02")[7:10] == ["5", "5", "−5"]


# ----------------------------------------------------------------------------------- the cycles

def test_the_annual_cycles_info_reports_input_follows_the_items(app, client, auth):
    units = unit_ids(app)
    year_id, q1_id = make_cycle(app, "2026"), make_cycle(app, "2026-Q1")
    last_year = make_cycle(app, "2025")
    assert inputs_of(app, year_id, "V04")["info_reports"] == 0
    login(client, auth)
    for i in range(3):
        assert add(client, units["V04"], day=f"2026-02-0{i + 1}", title=f"item {i}").status_code == 302
    assert add(client, units["V04"], day="2025-12-01", title="item").status_code == 302
    assert add(client, units["NFZX"], day="2026-06-01", title="item").status_code == 302
    assert inputs_of(app, year_id, "V04")["info_reports"] == 3
    assert inputs_of(app, year_id, "NFZX")["info_reports"] == 1
    assert inputs_of(app, year_id, "V05")["info_reports"] == 0
    assert inputs_of(app, last_year, "V04")["info_reports"] == 1
    assert "info_reports" not in inputs_of(app, q1_id, "V04")  # quarter cycles do not count reports
    assert client.post(f"{BASE}/{report_ids(app)[0]}/delete", data={"version": "1"}).status_code == 302
    assert inputs_of(app, year_id, "V04")["info_reports"] == 2


def test_the_items_are_final_once_the_years_annual_cycle_is_published(app, client, auth):
    units = unit_ids(app)
    year_id, q1_id = make_cycle(app, "2026", "2026 年度"), make_cycle(app, "2026-Q1")
    login(client, auth)
    assert add(client, units["V06"]).status_code == 302
    item = report_ids(app)[0]
    set_state(app, q1_id, "published")  # a quarter does not count the reports: nothing is final
    assert add(client, units["V06"], title="another").status_code == 302
    set_state(app, year_id, "published")
    message = ("The information reports of 2026 are final: the year's annual cycle is published or closed "
               "(2026 年度 (Year 2026, Published))")
    refused = add(client, units["V06"], title="late")
    assert refused.status_code == 409 and message in text_of(refused)
    confirm = client.get(f"{BASE}/{item}/delete")
    assert confirm.status_code == 409 and message in text_of(confirm)
    assert client.post(f"{BASE}/{item}/delete", data={"version": "1"}).status_code == 409
    edit = client.get(f"{BASE}/{item}/edit")
    assert edit.status_code == 409 and message in text_of(edit) and 'name="title"' not in text_of(edit)
    assert client.post(f"{BASE}/{item}/edit", data={"day": "2026-03-02", "unit_id": str(units["V06"]),
                                                    "title": "changed", "version": "1"}).status_code == 409
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert message in page and "Delete…" not in page and f"{BASE}/{item}/edit" not in page
    assert "can no longer be added, changed or deleted; a correction goes through an appeal" in page
    assert len(reports(app)) == 2 and reports(app)[0][2] == "东岭村春耕备耕进展"
    assert inputs_of(app, year_id, "V06")["info_reports"] == 2  # as published
    auth.logout(SLUG)
    login(client, auth, "mayor")  # a read-only viewer: the fact, not what the office could do
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert message in page and "a correction goes through an appeal" not in page and "can no longer be" not in page


# ----------------------------------------------------------------------------------- import

def import_problems(page: str) -> list[str]:
    """The problems an import lists, as text."""
    alert = re.search(r'<div class="flash error" role="alert">(.*?)</div>', page, re.S).group(1)
    return [plain(item) for item in re.findall(r"<li>(.*?)</li>", alert, re.S)]


def upload(client, name, body: bytes):
    return client.post(f"{BASE}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(body), name)})


def test_import_csv_skips_duplicates_and_follows_the_cycle(app, client, auth):
    units = unit_ids(app)
    year_id = make_cycle(app, "2026")
    login(client, auth)
    assert add(client, units["V01"], day="2026-03-02", title="春耕").status_code == 302
    body = ("日期,单位代码,标题,采用情况,备注\n"
            "2026-03-02,V01,春耕,,\n"              # already recorded
            "2026-03-05,V01,防汛准备,县政务信息,\n"
            "2026/4/1,DZB,党建工作简报,,\n"
            "2026-04-01,DZB,党建工作简报,,\n"      # repeats row 4
            ",,,,\n").encode("utf-8-sig")
    response = upload(client, "信息.csv", body)
    page = text_of(response)
    assert response.status_code == 200 and "信息.csv: 2 item(s) imported, 2 duplicate(s) skipped." in page
    assert "Row 2: 东岭村 (V01) already has the item “春耕” of 2026-03-02" in page
    assert "Row 5: the same item as row 4 (DZB, 2026-04-01, “党建工作简报”); skipped." in page
    assert "Columns ignored: 备注." in page
    assert reports(app)[1:] == [("2026-03-05", units["V01"], "防汛准备", "县政务信息", "user:admin"),
                                ("2026-04-01", units["DZB"], "党建工作简报", "", "user:admin")]
    assert inputs_of(app, year_id, "V01")["info_reports"] == 2 and inputs_of(app, year_id, "DZB")["info_reports"] == 1
    with tenant(app, SLUG) as db:
        assert db.scalar(select(func.count()).select_from(AuditLog)
                         .where(AuditLog.action == "gov_info_report.import")) == 2


def test_import_xlsx_with_date_cells(app, client, auth):
    book = Workbook()
    sheet = book.active
    sheet.append(["date", "unit", "title", "adopted_by"])
    sheet.append([datetime(2026, 5, 7), "V07", "杨庄村 环境整治", None])
    sheet.append([date(2026, 5, 8), "CZS", "财政所 惠农资金发放", "市简报"])
    buffer = io.BytesIO()
    book.save(buffer)
    login(client, auth)
    response = upload(client, "items.xlsx", buffer.getvalue())
    assert response.status_code == 200 and "2 item(s) imported, 0 duplicate(s) skipped." in text_of(response)
    assert [r[0] for r in reports(app)] == ["2026-05-07", "2026-05-08"]


def test_a_bad_row_rejects_the_whole_file_with_every_problem_named(app, client, auth):
    year_id = make_cycle(app, "2025")
    set_state(app, year_id, "closed")
    login(client, auth)
    body = ("date,unit,title,adopted_by\n"
            "2026-03-02,V01,ok,\n"
            "2026-13-02,V01,bad date,\n"
            "2026-08-21,V01,future,\n"
            "2026-03-02,TOWN,office,\n"
            "2026-03-02,XXX,unknown,\n"
            "2026-03-02,V01,,\n"
            "2025-06-01,V02,final year,\n"
            f"2026-03-02,V01,{service.EXAMPLE_TITLES['zh']},\n").encode()
    response = upload(client, "bad.csv", body)
    page = text_of(response)
    assert response.status_code == 422 and "Nothing was imported: 7 problem(s) found." in page
    for message in ("Row 3, column date: “2026-13-02” is not a date",
                    "Row 4, column date: 2026-08-21 is after today (2026-08-20)",
                    "Row 5, column unit: “TOWN” is not the code of an active village or department of this township",
                    "Row 6, column unit: “XXX” is not the code",
                    "Row 7, column title: required: the title of the item the unit reported.",
                    "Row 9, column title: this is the template's example row; delete it",
                    "Row 8, column date: 2025-06-01: The information reports of 2025 are final"):
        assert message in page
    assert reports(app) == []
    header = upload(client, "header.csv", b"when,who\n2026-01-01,V01\n")
    assert header.status_code == 422
    assert "Row 1: the header row lacks the column(s) date, unit, title" in text_of(header)
    assert upload(client, "items.txt", b"date,unit,title\n").status_code == 422
    assert upload(client, "not.xlsx", b"PK nonsense").status_code == 422
    lacking = upload(client, "header.csv", "日期,标题\n2026-01-01,x\n".encode())
    assert "Row 1: the header row lacks the column(s) unit; the template's columns are date, unit, title, adopted_by" \
        in text_of(lacking)


def test_the_templates_hold_an_example_row_which_an_import_refuses(app, client, auth):
    login(client, auth)
    csv_template = client.get(f"{BASE}/template.csv")
    assert csv_template.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset named once
    lines = csv_template.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines == ["date,unit,title,adopted_by",
                     f"2026-08-20,V01,{service.EXAMPLE_TITLES['en']},{service.EXAMPLE_ADOPTED['en']}"]
    assert "Example" in lines[1] and "delete this row" in lines[1]
    refused = upload(client, "template.csv", csv_template.data)
    assert refused.status_code == 422
    assert "Row 2, column title: this is the template's example row" in text_of(refused) and reports(app) == []

    xlsx_template = client.get(f"{BASE}/template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx_template.data)).active
    assert [c.value for c in sheet[1]] == ["date", "unit", "title", "adopted_by"]
    assert [c.value for c in sheet[2]] == [datetime(2026, 8, 20), "V01", service.EXAMPLE_TITLES["en"],
                                           service.EXAMPLE_ADOPTED["en"]]
    client.post("/lang", data={"locale": "zh"})
    zh = client.get(f"{BASE}/template.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert zh[0] == "日期,单位代码,标题,采用情况" and zh[1].startswith("2026-08-20,V01,示例：")


def test_import_problems_name_the_columns_as_the_header_does(app, client, auth):
    login(client, auth)
    body = "日期,单位代码,标题,采用情况\n2026-03-02,XXX,t,\n2026-03-02,V01,,\n".encode()
    english = text_of(upload(client, "zh.csv", body))  # English pages: the template's name, the file's added
    assert "Row 2, column unit (单位代码): “XXX” is not the code" in english
    assert "Row 3, column title (标题): required" in english
    client.post("/lang", data={"locale": "zh"})
    problems = import_problems(text_of(upload(client, "zh.csv", body)))  # Chinese pages: as the file names them
    assert len(problems) == 2 and "单位代码" in problems[0] and "XXX" in problems[0] and "标题" in problems[1]
    assert not any(re.search(r"column (unit|title)", p) for p in problems)  # not the English keys
    header = import_problems(text_of(upload(client, "header.csv", b"when,who\n2026-01-01,V01\n")))
    assert "日期、单位代码、标题" in header[0] and "date" not in header[0]
    assert reports(app) == []


# ----------------------------------------------------------------------------------- who may do what

def test_access_per_role(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    assert add(client, units["DZB"], title="d").status_code == 302
    assert add(client, units["V01"], title="v").status_code == 302
    dzb, v01 = report_ids(app)
    home = text_of(client.get(f"/t/{SLUG}/"))
    assert f'href="{BASE}"' in home  # the menu: inspections (74) before information reports (75)
    assert home.index(f'href="/t/{SLUG}/township/inspections"') < home.index(f'href="{BASE}"')
    auth.logout(SLUG)

    login(client, auth, "mayor")
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "unit-DZB" in page and "unit-V01" in page and "Record an item" not in page and "Delete…" not in page
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.get(f"{BASE}/import").status_code == 403
    assert client.post(f"{BASE}/{v01}/delete", data={"version": "1"}).status_code == 403
    assert client.get(f"{BASE}/{v01}/edit").status_code == 403
    assert client.post(f"{BASE}/{v01}/edit", data={"day": "2026-03-02", "unit_id": str(units["V01"]),
                                                   "title": "x", "version": "1"}).status_code == 403
    assert f"{BASE}/{v01}/edit" not in page
    auth.logout(SLUG)

    login(client, auth, "qichanglin")  # head of V01
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "unit-V01" in page and "unit-DZB" not in page and "1–1 of 1" in page
    assert client.get(f"{BASE}/{dzb}/delete").status_code == 403
    assert client.get(f"{BASE}/{v01}/edit").status_code == 403  # their own unit's item: still the office's to correct
    assert client.get(f"{BASE}/new").status_code == 403
    auth.logout(SLUG)

    for username in ("surveyor2", "employee"):
        login(client, auth, username)
        assert client.get(f"{BASE}?year=2026").status_code == 403
        assert f'href="{BASE}"' not in text_of(client.get(f"/t/{SLUG}/"))
        auth.logout(SLUG)
    assert len(reports(app)) == 2


def test_another_tenants_item_is_not_found(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    assert add(client, units["V01"]).status_code == 302
    item = report_ids(app)[0]
    auth.logout(SLUG)
    with tenant(app, "jituan") as db:
        db.add(TenantScheme(scheme_id="gov-public-evaluation", enabled=True, settings={}))
        db.commit()
    login(client, auth, "hr", "jituan")
    other = "/t/jituan/township/reports"
    assert "No items recorded for 2026." in text_of(client.get(f"{other}?year=2026"))
    assert client.get(f"{other}/{item}/delete").status_code == 404
    assert client.post(f"{other}/{item}/delete", data={"version": "1"}).status_code == 404
    assert client.get(f"{other}/{item}/edit").status_code == 404
    assert client.post(f"{other}/{item}/edit", data={"day": "2026-03-02", "unit_id": str(units["V01"]),
                                                     "title": "x", "version": "1"}).status_code == 404
    assert len(reports(app)) == 1


def test_a_cycle_links_to_the_reports_of_its_year(app, client, auth):
    year_id = make_cycle(app, "2026")
    login(client, auth)
    page = text_of(client.get(f"/t/{SLUG}/cycles/{year_id}"))
    assert f'href="{BASE}?year=2026"' in page and "Information reports of this period" in page


def test_commands_record_through_the_same_checks(app):
    units = unit_ids(app)
    with tenant(app, SLUG) as db:
        service.record_report({"day": "2026-02-01", "unit_id": units["V08"], "title": "枣园村 信息"}, "cli")
        inspections.record_finding({"day": "2026-02-01", "unit_id": units["V08"], "item": "工作作风",
                                    "points": "1", "evidence": "照片"}, "cli")
        with pytest.raises(service.ReportError, match="already has the item"):
            service.record_report({"day": "2026-02-01", "unit_id": units["V08"], "title": "枣园村 信息"}, "cli")
        with pytest.raises(inspections.FindingError) as refused:
            inspections.record_finding({"day": "2026-02-01", "unit_id": units["V08"], "item": "x",
                                        "points": "-1", "evidence": "e"}, "cli")
        assert "only deducts points" in refused.value.errors["points"]
        db.commit()
    assert [r[2] for r in reports(app)] == ["枣园村 信息"]
