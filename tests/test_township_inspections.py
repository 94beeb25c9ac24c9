"""The township's inspection findings (issue 7, item 3: 察访核验): recording, correcting and deleting a
finding (validated, deductions only, no future date, concurrent edits detected, audited), final once
every cycle covering its date is published, the cycles' derived ``inspection`` inputs following the
records, the year's totals per unit and the inspection-rounds notice, who may do what, the menu and
cycle links, and other tenants' findings."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select, update

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleSubject, OrgUnit, TenantScheme, User
from plugins.gov_public_evaluation.inspections import service
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from tests.test_cycles import tenant

SLUG = "zhen"
BASE = f"/t/{SLUG}/township/inspections"
TODAY = date(2026, 11, 21)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def plain(fragment: str) -> str:
    """The text of an HTML fragment: tags dropped, spacing tidied."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split()).replace(" :", ":")


def change_log(page: str) -> list[str]:
    """The change log's rows as text (when, who, what, changes)."""
    table = re.search(r'<table class="table compact" id="change-log">.*?</table>', page, re.S).group(0)
    return [plain(row) for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """Records are dated today or earlier: today is fixed."""
    monkeypatch.setattr(service, "today", lambda: TODAY)


def login(client, auth, username="admin", slug=SLUG):
    client.post("/lang", data={"locale": "en"})
    assert auth.login(slug, username).status_code == 302


def unit_ids(app) -> dict[str, int]:
    with tenant(app, SLUG) as db:
        return dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())


def add(client, unit_id, day="2026-05-12", item="窗口服务效率", points="2", evidence="窗口无人值守 15 分钟，照片 05-12-03"):
    return client.post(f"{BASE}/new", data={"day": day, "unit_id": str(unit_id), "item": item, "points": points,
                                             "evidence": evidence})


def findings(app) -> list[tuple]:
    with tenant(app, SLUG) as db:
        return [(f.day.isoformat(), f.unit_id, f.item, f.points, f.evidence, f.version)
                for f in db.scalars(select(InspectionFinding).order_by(InspectionFinding.id))]


def finding_ids(app) -> list[int]:
    with tenant(app, SLUG) as db:
        return list(db.scalars(select(InspectionFinding.id).order_by(InspectionFinding.id)))


def make_cycle(app, period, name=None) -> int:
    with tenant(app, SLUG) as db:
        cycle = cycles.create_cycle("gov-public-evaluation", period, name or f"考核 {period}", {}, "test")
        db.commit()
        return cycle.id


def set_state(app, cycle_id, state):
    """Publishing for real needs every unit's survey answers and points (other features' records);
    the state is what these pages read."""
    with tenant(app, SLUG) as db:
        db.execute(update(Cycle).where(Cycle.id == cycle_id).values(state=state))
        db.commit()


def inputs_of(app, cycle_id, code) -> dict:
    with tenant(app, SLUG) as db:
        return db.scalar(select(CycleSubject.inputs).where(CycleSubject.cycle_id == cycle_id,
                                                           CycleSubject.code == code))


# ----------------------------------------------------------------------------------- one finding

def test_the_office_records_corrects_and_deletes_a_finding_audited(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    form = text_of(client.get(f"{BASE}/new"))
    assert "Deductions only (倒扣分)" in form and "There is no bonus." in form and 'list="fi-items"' in form
    assert "工作作风" in form and 'max="2026-11-21"' in form and "东岭村 (V01)" in form
    assert "青山镇人民政府 (TOWN)" not in form  # the office is not a unit the scheme scores
    response = add(client, units["V01"], points=" 2.5 ")
    assert response.status_code == 302
    assert findings(app) == [("2026-05-12", units["V01"], "窗口服务效率", "2.5", "窗口无人值守 15 分钟，照片 05-12-03", 1)]
    finding_id = finding_ids(app)[0]

    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "Finding recorded: 2026-05-12, 东岭村 (V01), 窗口服务效率: −2.5." in page
    assert "−2.5" in page and f'href="{BASE}/{finding_id}/edit"' in page

    edit = text_of(client.get(f"{BASE}/{finding_id}/edit"))
    assert 'name="version" value="1"' in edit and "窗口无人值守" in edit
    saved = client.post(f"{BASE}/{finding_id}/edit", data={
        "day": "2026-06-03", "unit_id": str(units["V02"]), "item": "工作作风", "points": "3",
        "evidence": "上班时间玩手机\n照片 06-03-01", "version": "1"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"{BASE}/{finding_id}")
    assert findings(app) == [("2026-06-03", units["V02"], "工作作风", "3", "上班时间玩手机\n照片 06-03-01", 2)]

    stale = client.post(f"{BASE}/{finding_id}/edit", data={
        "day": "2026-06-03", "unit_id": str(units["V02"]), "item": "工作作风", "points": "4",
        "evidence": "上班时间玩手机", "version": "1"})  # the form of before the change
    assert stale.status_code == 409 and "changed by someone else since this page was loaded" in text_of(stale)
    assert "The finding as it is now" in text_of(stale) and 'name="version" value="2"' in text_of(stale)
    assert 'value="4"' in text_of(stale)  # the entries are kept
    assert findings(app)[0][3] == "3"

    detail = text_of(client.get(f"{BASE}/{finding_id}"))
    assert "上班时间玩手机" in detail
    with tenant(app, SLUG) as db:
        name = db.scalar(select(User.display_name).where(User.username == "admin"))
    assert name and name != "admin"
    changed, recorded = change_log(detail)  # newest first: who by name, what in words, fields by name
    assert "user:admin" not in detail and "gov_inspection" not in detail and '"unit_id"' not in detail
    assert f" {name} Record changed " in changed and f" {name} Record added " in recorded
    for change in ("Date: 2026-05-12 → 2026-06-03", "Unit: 东岭村 (V01) → 西溪村 (V02)", "Item: 窗口服务效率 → 工作作风",
                   "Points deducted: −2.5 → −3", "Evidence of the finding: 窗口无人值守 15 分钟，照片 05-12-03 → 上班时间玩手机"):
        assert change in changed
    for value in ("Date: 2026-05-12", "Unit: 东岭村 (V01)", "Points deducted: −2.5", "Item: 窗口服务效率"):
        assert value in recorded
    confirm = client.get(f"{BASE}/{finding_id}/delete")
    assert confirm.status_code == 200 and "Delete this finding?" in text_of(confirm)
    assert 'name="version" value="2"' in text_of(confirm)
    assert client.post(f"{BASE}/{finding_id}/delete", data={"version": "1"}).status_code == 409  # stale confirmation
    assert client.post(f"{BASE}/{finding_id}/delete", data={"version": "2"}).status_code == 302
    assert findings(app) == []
    assert client.post(f"{BASE}/{finding_id}/delete", data={"version": "2"}).status_code == 404
    with tenant(app, SLUG) as db:
        audit = list(db.execute(select(AuditLog.action, AuditLog.before, AuditLog.after)
                                .where(AuditLog.object_type == "InspectionFinding").order_by(AuditLog.id)))
    assert [a[0] for a in audit] == ["gov_inspection.add", "gov_inspection.edit", "gov_inspection.delete"]
    assert audit[1][1]["points"] == "2.5" and audit[1][2]["points"] == "3" and "item" in audit[1][2]
    assert audit[2][1]["unit_id"] == units["V02"]


@pytest.mark.parametrize("changes, field, message", [
    ({"points": "-2"}, "points", "Deduction: “-2” has a sign: a finding only deducts points (倒扣分), there is no bonus"),
    ({"points": "+2"}, "points", "has a sign"),
    ({"points": "0"}, "points", "Deduction: “0” deducts nothing; allowed: a deduction above 0 and at most 100"),
    ({"points": "abc"}, "points", "Deduction: “abc” is not a number; allowed: a deduction above 0 and at most 100"),
    ({"points": "100.5"}, "points", "Deduction: “100.5” is more than 100; allowed"),
    ({"points": "1.255"}, "points", "Deduction: “1.255” has more than 2 decimals"),
    ({"points": "1e1"}, "points", "is not a number"),
    ({"points": ""}, "points", "Deduction: enter the points deducted; allowed"),
    ({"day": "2026-11-22"}, "day", "Date: 2026-11-22 is after today (2026-11-21); a record is dated today or earlier."),
    ({"day": "2026-02-30"}, "day", "Date: “2026-02-30” is not a date; write it as YYYY-MM-DD"),
    ({"unit_id": ""}, "unit_id", "Unit: choose the village or department."),
    ({"unit_id": "TOWN"}, "unit_id", "Unit: “TOWN” is not an active village or department of this township"),
    ({"unit_id": "999999"}, "unit_id", "Unit: “999999” is not an active village or department"),
    ({"item": "  "}, "item", "Item: name what was found lacking"),
    ({"item": "x" * 201}, "item", "Item: 201 characters; at most 200 are allowed."),
    ({"evidence": " "}, "evidence", "Evidence: required; describe what was found, where, and the photo or document"),
])
def test_a_bad_input_is_named_next_to_its_field_and_nothing_is_written(app, client, auth, changes, field, message):
    units = unit_ids(app)
    login(client, auth)
    form = {"day": "2026-05-12", "unit_id": str(units["V01"]), "item": "窗口服务效率", "points": "2",
            "evidence": "照片 05-12-03", **changes}
    if changes.get("unit_id") == "TOWN":
        form["unit_id"] = str(units["TOWN"])
        message = message.replace("TOWN", str(units["TOWN"]))
    response = client.post(f"{BASE}/new", data=form, headers={"HX-Request": "true", "HX-Target": "finding-form"})
    page = text_of(response)
    assert response.status_code == 422 and message in page
    assert f'id="fi-{field}-errors"' in page and "<html" not in page  # the form block alone, the error by its field
    assert findings(app) == []


def test_the_service_refuses_a_negative_deduction_whatever_the_form(app):
    with pytest.raises(ValueError, match="a finding only deducts points"):
        service.parse_points("-0.5")
    assert service.parse_points("0.25") == service.exact("0.25")
    assert service.parse_points("100") == 100


# ----------------------------------------------------------------------------------- final dates

def test_a_finding_is_final_once_every_cycle_covering_its_date_is_published(app, client, auth):
    units = unit_ids(app)
    year_id, q1_id = make_cycle(app, "2026", "2026 年度"), make_cycle(app, "2026-Q1", "2026 一季度")
    login(client, auth)
    assert add(client, units["DZB"], day="2026-02-10", points="1").status_code == 302
    assert add(client, units["DZB"], day="2026-05-10", points="2").status_code == 302
    q1_finding, q2_finding = finding_ids(app)

    set_state(app, q1_id, "published")
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert ("Q1 2026 is published (2026 一季度 (Q1 2026, Published)); its findings still count in "
            "2026 年度 (Year 2026, Draft), which is not published yet: they may still be corrected") in page
    edit = client.post(f"{BASE}/{q1_finding}/edit", data={"day": "2026-02-10", "unit_id": str(units["DZB"]),
                                                          "item": "工作作风", "points": "1.5", "evidence": "e",
                                                          "version": "1"})
    assert edit.status_code == 302  # the annual cycle still follows: a correction reaches it
    assert inputs_of(app, year_id, "DZB")["inspection"][0] == {"item": "2026-02-10 工作作风", "points": "1.5"}
    assert inputs_of(app, q1_id, "DZB")["inspection"] == [{"item": "2026-02-10 窗口服务效率", "points": "1"}]  # as published

    set_state(app, year_id, "published")
    message = "The findings dated 2026-02-10 are final: every cycle covering that date is published or closed"
    refused = client.post(f"{BASE}/{q1_finding}/edit", data={"day": "2026-02-10", "unit_id": str(units["DZB"]),
                                                             "item": "工作作风", "points": "9", "evidence": "e",
                                                             "version": "2"})
    assert refused.status_code == 409 and message in text_of(refused)
    assert "2026 年度 (Year 2026, Published)" in text_of(refused)
    assert "a correction goes through an appeal" in text_of(refused)
    confirm = client.get(f"{BASE}/{q1_finding}/delete")
    assert confirm.status_code == 409 and message in text_of(confirm) and "Delete this finding?" not in text_of(confirm)
    assert client.post(f"{BASE}/{q1_finding}/delete", data={"version": "2"}).status_code == 409
    late = add(client, units["DZB"], day="2026-08-01")  # Q3 has no cycle of its own: the annual one is published
    assert late.status_code == 409 and "The findings dated 2026-08-01 are final" in text_of(late)
    moved = client.post(f"{BASE}/{q2_finding}/edit", data={"day": "2026-05-10", "unit_id": str(units["DZB"]),
                                                           "item": "x", "points": "2", "evidence": "e", "version": "1"})
    assert moved.status_code == 409
    assert [f[3] for f in findings(app)] == ["1.5", "2"]
    listing = text_of(client.get(f"{BASE}?year=2026"))
    assert "Findings dated in Q1 2026 are final" in listing and f"{BASE}/{q1_finding}/edit" not in listing
    assert add(client, units["DZB"], day="2025-12-30").status_code == 302  # another year: no cycle, not final


def test_correction_hints_are_for_the_office_only(app, client, auth):
    units = unit_ids(app)
    year_id, q1_id = make_cycle(app, "2026", "2026 年度"), make_cycle(app, "2026-Q1", "2026 一季度")
    login(client, auth)
    assert add(client, units["DZB"], day="2026-02-10", points="1").status_code == 302
    finding_id = finding_ids(app)[0]
    set_state(app, q1_id, "published")
    hint = "a correction reaches only that cycle"
    assert hint in text_of(client.get(f"{BASE}/{finding_id}"))
    assert "they may still be corrected" in text_of(client.get(f"{BASE}?year=2026"))
    auth.logout(SLUG)

    login(client, auth, "mayor")  # reads everything, corrects nothing: the facts without the hints
    detail = text_of(client.get(f"{BASE}/{finding_id}"))
    assert hint not in detail and "corrected" not in detail
    assert "This finding also counts in 2026 年度 (Year 2026, Draft), which is not published yet." in detail
    listing = text_of(client.get(f"{BASE}?year=2026"))
    assert "corrected" not in listing and "its findings also count in 2026 年度 (Year 2026, Draft)" in listing
    set_state(app, year_id, "published")
    detail = text_of(client.get(f"{BASE}/{finding_id}"))
    assert "The findings dated 2026-02-10 are final: every cycle covering that date is published or closed" in detail
    assert "a correction goes through an appeal" not in detail and "can no longer be" not in detail
    auth.logout(SLUG)

    login(client, auth)
    assert "a correction goes through an appeal" in text_of(client.get(f"{BASE}/{finding_id}"))


# ----------------------------------------------------------------------------------- derived inputs

def test_the_cycles_inspection_inputs_follow_the_findings(app, client, auth):
    units = unit_ids(app)
    year_id, q2_id = make_cycle(app, "2026"), make_cycle(app, "2026-Q2")
    login(client, auth)
    assert add(client, units["V03"], day="2026-04-02", item="窗口服务效率", points="2").status_code == 302
    assert add(client, units["V03"], day="2026-05-20", item="工作作风", points="0.5").status_code == 302
    assert add(client, units["V03"], day="2026-08-20", item="工作纪律", points="1").status_code == 302
    assert add(client, units["JFB"], day="2026-06-30", item="在岗在位", points="3").status_code == 302
    assert inputs_of(app, year_id, "V03")["inspection"] == [
        {"item": "2026-04-02 窗口服务效率", "points": "2"}, {"item": "2026-05-20 工作作风", "points": "0.5"},
        {"item": "2026-08-20 工作纪律", "points": "1"}]
    assert inputs_of(app, q2_id, "V03")["inspection"] == [
        {"item": "2026-04-02 窗口服务效率", "points": "2"}, {"item": "2026-05-20 工作作风", "points": "0.5"}]
    assert inputs_of(app, q2_id, "JFB")["inspection"] == [{"item": "2026-06-30 在岗在位", "points": "3"}]
    assert "inspection" not in inputs_of(app, q2_id, "V04")

    moved = finding_ids(app)[1]  # to another unit and out of the quarter: both old and new follow
    assert client.post(f"{BASE}/{moved}/edit", data={"day": "2026-07-01", "unit_id": str(units["V04"]),
                                                     "item": "工作作风", "points": "0.5", "evidence": "e",
                                                     "version": "1"}).status_code == 302
    assert inputs_of(app, q2_id, "V03")["inspection"] == [{"item": "2026-04-02 窗口服务效率", "points": "2"}]
    assert "inspection" not in inputs_of(app, q2_id, "V04")
    assert inputs_of(app, year_id, "V04")["inspection"] == [{"item": "2026-07-01 工作作风", "points": "0.5"}]
    assert len(inputs_of(app, year_id, "V03")["inspection"]) == 2

    assert client.post(f"{BASE}/{finding_ids(app)[3]}/delete", data={"version": "1"}).status_code == 302
    assert "inspection" not in inputs_of(app, q2_id, "JFB") and "inspection" not in inputs_of(app, year_id, "JFB")
    assert inputs_of(app, year_id, "JFB")["info_reports"] == 0  # the other derived inputs stay


# ----------------------------------------------------------------------------------- the year's page

def test_the_year_shows_totals_per_unit_and_the_rounds_notice(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    empty = text_of(client.get(f"{BASE}?year=2026"))
    assert "No findings recorded for 2026." in empty and "Only 0 inspection round(s) in 2026" in empty
    assert add(client, units["V05"], day="2026-03-03", points="1.25").status_code == 302
    assert add(client, units["V05"], day="2026-03-05", points="0.75").status_code == 302
    assert add(client, units["SWB"], day="2026-03-05", points="2").status_code == 302
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "Only 1 inspection round(s) in 2026 so far" in page and "a month with at least one finding: March." in page
    totals = re.search(r'<table class="table compact" id="unit-totals">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<strong>(.*?)</strong>", totals) == ["−2", "−2", "3", "−4"]  # 社会事务办 SWB before 柳林村 V05
    assert totals.index("SWB") < totals.index("V05")
    assert plain(totals.split("<tfoot>")[1]) == "All units (2) 3 −4"
    assert [plain(th) for th in re.findall(r'<th class="number">(.*?)</th>', totals)] == [
        "Findings", "Q1", "Q2", "Q3", "Q4", "Deduction in the year"]

    assert add(client, units["V05"], day="2026-09-15", points="1").status_code == 302
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "2 inspection rounds in 2026 (at least 2 a year are required)." in page and "Only" not in page
    assert "a month with at least one finding: March, September." in page
    client.post("/lang", data={"locale": "zh"})
    assert "3月、9月" in text_of(client.get(f"{BASE}?year=2026"))  # months as Chinese readers write them
    client.post("/lang", data={"locale": "en"})

    q3 = client.get(f"{BASE}?year=2026&quarter=3", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in text_of(q3) and "1–1 of 1" in text_of(q3) and "Findings of Q3 2026" in text_of(q3)
    only = text_of(client.get(f"{BASE}?year=2026&unit_id={units['SWB']}"))
    assert "1–1 of 1" in only
    assert "No finding matches these filters." in text_of(client.get(f"{BASE}?year=2026&quarter=2"))
    assert "No findings recorded for 2025." in text_of(client.get(f"{BASE}?year=2025"))


def test_the_list_is_paginated(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    for day in range(1, 28):
        assert add(client, units["V06"], day=f"2026-10-{day:02d}", points="1").status_code == 302
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "1–25 of 27" in page and "−27" in page
    assert "26–27 of 27" in text_of(client.get(f"{BASE}?year=2026&list_page=2"))
    assert f'href="{BASE}?year=2026&list_page=2"' in page.replace("&amp;", "&")


def test_the_units_table_is_paginated_with_totals_over_all_units(app, client, auth):
    app.config["PAGE_SIZE"] = 10
    units = unit_ids(app)
    login(client, auth)
    codes = [f"V{n:02d}" for n in range(1, 13)]  # 12 units with findings: 10 on the first page, 2 on the second
    for n, code in enumerate(codes, start=1):
        assert add(client, units[code], day=f"2026-03-{n:02d}", points=str(n)).status_code == 302

    def table(page):
        found = re.search(r'<table class="table compact" id="unit-totals">.*?</table>', page, re.S).group(0)
        return re.findall(r"<code>(\w+)</code>", found), plain(found.split("<tfoot>")[1])

    first = text_of(client.get(f"{BASE}?year=2026"))
    shown, footer = table(first)
    assert shown == codes[:10] and footer == "All units (12) 12 −78"  # 1 + 2 + … + 12, over all the units
    assert "1–10 of 12" in first and "1–10 of 12" in first.split('id="findings"')[1]  # each list its own pages
    second = text_of(client.get(f"{BASE}?year=2026&page=2", headers={"HX-Request": "true", "HX-Target": "results"}))
    shown, footer = table(second)
    assert shown == codes[10:] and footer == "All units (12) 12 −78" and "<html" not in second
    assert "1–10 of 12" in second.split('id="findings"')[1]  # the findings stay on their first page
    both = text_of(client.get(f"{BASE}?year=2026&page=2&list_page=2"))
    assert table(both)[0] == codes[10:] and "11–12 of 12" in both.split('id="findings"')[1]


# ----------------------------------------------------------------------------------- who may do what

def test_access_per_role(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    assert add(client, units["DZB"], item="工作作风").status_code == 302
    assert add(client, units["V01"], item="窗口服务效率").status_code == 302
    dzb, v01 = finding_ids(app)
    assert f'href="{BASE}"' in text_of(client.get(f"/t/{SLUG}/"))  # the menu
    auth.logout(SLUG)

    login(client, auth, "mayor")  # a leader reads everything, records nothing
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "党政办公室" in page and "东岭村" in page and "Record a finding" not in page and "Delete…" not in page
    assert client.get(f"{BASE}/{v01}").status_code == 200
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.get(f"{BASE}/{v01}/edit").status_code == 403
    assert client.post(f"{BASE}/{v01}/delete", data={"version": "1"}).status_code == 403
    auth.logout(SLUG)

    login(client, auth, "luxiaoyan")  # head of DZB: DZB's findings only
    page = text_of(client.get(f"{BASE}?year=2026"))
    assert "党政办公室" in page and "东岭村" not in page and "1–1 of 1" in page
    assert client.get(f"{BASE}/{dzb}").status_code == 200
    assert client.get(f"{BASE}/{v01}").status_code == 403
    assert client.get(f"{BASE}/{dzb}/edit").status_code == 403
    assert client.post(f"{BASE}/new", data={"day": "2026-05-12", "unit_id": str(units["V01"]), "item": "x",
                                            "points": "1", "evidence": "e"}).status_code == 403
    auth.logout(SLUG)

    for username in ("surveyor1", "employee"):
        login(client, auth, username)
        assert client.get(f"{BASE}?year=2026").status_code == 403
        assert client.get(f"{BASE}/{dzb}").status_code == 403
        assert f'href="{BASE}"' not in text_of(client.get(f"/t/{SLUG}/"))
        auth.logout(SLUG)
    assert len(findings(app)) == 2


def test_a_cycle_links_to_the_findings_of_its_period(app, client, auth):
    q3_id = make_cycle(app, "2026-Q3")
    login(client, auth)
    page = text_of(client.get(f"/t/{SLUG}/cycles/{q3_id}"))
    assert f'href="{BASE}?year=2026&quarter=3"' in page.replace("&amp;", "&")


def test_another_tenants_finding_is_not_found(app, client, auth):
    units = unit_ids(app)
    login(client, auth)
    assert add(client, units["V01"]).status_code == 302
    finding_id = finding_ids(app)[0]
    auth.logout(SLUG)
    with tenant(app, "jituan") as db:  # jituan uses the township scheme too, for this test
        db.add(TenantScheme(scheme_id="gov-public-evaluation", enabled=True, settings={}))
        db.commit()
    login(client, auth, "hr", "jituan")
    other = "/t/jituan/township/inspections"
    assert client.get(f"{other}?year=2026").status_code == 200
    assert "No findings recorded for 2026." in text_of(client.get(f"{other}?year=2026"))
    for url in (f"{other}/{finding_id}", f"{other}/{finding_id}/edit", f"{other}/{finding_id}/delete"):
        assert client.get(url).status_code == 404
    assert client.post(f"{other}/{finding_id}/delete", data={"version": "1"}).status_code == 404
    assert client.post(f"{other}/{finding_id}/edit", data={"version": "1"}).status_code == 404
    assert len(findings(app)) == 1
    auth.logout("jituan")
    login(client, auth, "admin", "xiaoshou")  # a tenant without the scheme: no such pages
    assert client.get(f"/t/xiaoshou/township/inspections/{finding_id}").status_code == 404
