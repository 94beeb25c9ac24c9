"""The township's results pages (issue 7, item 5): a cycle's rankings on the total and per
first-level indicator, the reward and accountability lists, a year's quarterly progress and the
half-year and annual bulletins. Cycles are built from real records (indicator entries, survey
responses through the survey service, inspection findings, information reports) and computed by
the core; the pages must show the ranks and flags the scoring produced, which are also checked
against ``jixiao score``'s computation of the same case."""
from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from core.cycles import service as cycles
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, Person, RoleMembership, User
from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import build_case
from plugins.gov_public_evaluation import derived
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from plugins.gov_public_evaluation.labels import LABELS, formula_text
from plugins.gov_public_evaluation.points.models import IndicatorEntry
from plugins.gov_public_evaluation.reports.models import InfoReport
from plugins.gov_public_evaluation.results import service
from plugins.gov_public_evaluation.survey import service as survey
from tests.test_browser import live_server, page  # noqa: F401 (fixtures of the print test)
from tests.test_browser import login as browser_login
from tests.test_cycles import tenant

BASE = "/t/zhen/township"
SCHEME = "gov-public-evaluation"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login(client, auth, username="admin"):
    client.post("/lang", data={"locale": "en"})
    assert auth.login("zhen", username).status_code == 302


def build(app, period="2026", name=None, publish=False, variant=0, compute=True) -> int:
    """A township cycle of ``period`` made from records: each unit's points on S1, H1 and D2, one or
    two interviews, findings for V01 and DZB dated in the period, information items for V01 and DZB
    (annual cycles count them); opened and computed (and published). :return: the cycle's id."""
    with tenant(app, "zhen") as db:
        cycle = cycles.create_cycle(SCHEME, period, name or f"{period} 考评", {}, "test")
        cycles.transition(cycle, "open", "test")
        first, _following = derived.period_bounds(period)
        rows = cycles.subjects(cycle)
        questions = [q.id for q in survey.questions(cycle.id)]
        for i, row in enumerate(rows):
            k = i + variant
            points = {"S1": str(k % 7), "H1": str((k * 3) % 6), "D2": str((18 - k) % 6)}
            for code, value in points.items():
                db.add(IndicatorEntry(cycle_id=cycle.id, unit_id=row.unit_id, code=code, points=value, evidence="台账",
                                      entered_by="test"))
            category = "rural" if row.unit_kind == "village" else "business"
            answer = "satisfied" if k % 2 == 0 else "basically_satisfied"
            survey.record_response(cycle, row.unit_id, category, "household", f"t:{cycle.id}:{row.id}:1",
                                   {str(q): answer for q in questions}, "user:surveyor1")
            if k % 3 == 0:
                survey.record_response(cycle, row.unit_id, "urban", "phone", f"t:{cycle.id}:{row.id}:2",
                                       {str(q): "dissatisfied" for q in questions}, "user:surveyor1")
        if not db.scalar(select(InspectionFinding.id).where(InspectionFinding.day >= first,
                                                            InspectionFinding.day < _following).limit(1)):
            units = dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())
            day = first.replace(day=5)
            db.add_all([
                InspectionFinding(day=day, unit_id=units["V01"], item="窗口效率", points="1.5", evidence="照片",
                                  recorded_by="test"),
                InspectionFinding(day=day.replace(day=20), unit_id=units["V01"], item="工作作风", points="0.5",
                                  evidence="记录", recorded_by="test"),
                InspectionFinding(day=day, unit_id=units["DZB"], item="上班迟到", points="1", evidence="记录",
                                  recorded_by="test")])
            for n in range(5):
                db.add(InfoReport(day=day.replace(day=1 + n), unit_id=units["V01"], title=f"信息{n}", recorded_by="test"))
            for n in range(2):
                db.add(InfoReport(day=day.replace(day=1 + n), unit_id=units["DZB"], title=f"信息{n}", recorded_by="test"))
        db.flush()
        if compute:
            cycles.compute(cycle, "test")
        if publish:
            cycles.transition(cycle, "review", "test")
            cycles.transition(cycle, "published", "test")
        db.commit()
        return cycle.id


def stored(app, cycle_id) -> dict[str, tuple]:
    """{unit code: (score, rank, flags, extra, result id)} as the core stored them."""
    with tenant(app, "zhen") as db:
        return {code: (score, rank, list(flags), extra, rid) for code, score, rank, flags, extra, rid in db.execute(
            select(CycleSubject.code, CycleResult.score, CycleResult.rank, CycleResult.flags, CycleResult.extra,
                   CycleResult.id)
            .join(CycleSubject, CycleSubject.id == CycleResult.subject_id).where(CycleResult.cycle_id == cycle_id))}


def scored(app, cycle_id) -> dict:
    """The same cycle scored the way ``jixiao score`` scores its case file."""
    with tenant(app, "zhen") as db:
        case = cycles.case_of(db.get(Cycle, cycle_id))
        scheme, built = build_case(case, get_schemes())
        return {u.id: u for u in score_case(scheme, built).units}


def ranks_on_page(body: str, table_id: str) -> dict[str, str]:
    """{unit code: the first cell} of a table's rows ``<tr id="unit-CODE">``."""
    section = body[body.index(f'id="{table_id}"'):]
    section = section[:section.index("</table>")]
    return {code: rank for code, rank in re.findall(r'<tr id="unit-([A-Z0-9]+)"[^>]*>\s*<td>(\d+|—)</td>', section)}


def list_codes(body: str, code: str, kind: str) -> list[str]:
    """The unit codes of one list (``reward-list`` / ``accountability-list``) of one first-level indicator."""
    section = body[body.index(f'id="lists-{code}"'):]
    section = section[:section.index("</section>")]
    if f'class="table compact {kind}"' not in section:
        return []
    table = section[section.index(f'class="table compact {kind}"'):]
    table = table[:table.index("</table>")]
    return re.findall(r"<code>([A-Z0-9]+)</code>", table)


# ----------------------------------------------------------------------------------- rankings

def test_rankings_show_the_ranks_the_scoring_produced(app, client, auth):
    cycle_id = build(app)
    results, expected = stored(app, cycle_id), scored(app, cycle_id)
    assert len(results) == 19
    for code, (score, rank, flags, _extra, _rid) in results.items():  # the stored results are jixiao score's
        assert (score, rank, flags) == (expected[code].score, expected[code].rank, list(expected[code].flags))
    login(client, auth)
    response = client.get(f"{BASE}/cycles/{cycle_id}/rankings")
    body = text_of(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert ranks_on_page(body, "total") == {code: str(r[1]) for code, r in results.items()}
    # totals as stored, in rank order
    order = re.findall(r'<tr id="unit-([A-Z0-9]+)"', body)
    assert order == sorted(results, key=lambda c: (results[c][1], c))
    v01 = body[body.index('id="unit-V01"'):]
    v01 = v01[:v01.index("</tr>")]
    assert f"{results['V01'][0]:.2f}" in v01 and "−2 " in v01 and "(2)" in v01  # 1.5 + 0.5, two findings
    assert "(5/5)" in v01  # five items of the village's five: no shortfall
    dzb = body[body.index('id="unit-DZB"'):]
    dzb = dzb[:dzb.index("</tr>")]
    assert "−4 " in dzb and "(2/6)" in dzb  # a department reports 6: 4 missing, 1 point each
    assert f"{Decimal(results['DZB'][3]['public']):.2f}" in dzb
    assert "not computed" not in body and 'id="inputs-changed"' not in body and 'id="records-changed"' not in body
    assert 'id="not-published"' in body
    # the formula and the columns in words, no setting key or raw flag
    assert ("Total score = Indicator points × 70% + Public score × 30% − Inspection deductions − Reporting shortfall"
            in body)
    assert "total_formula" not in body and "indicator_points" not in body and 'title="reward:' not in body
    head = body[body.index('id="head-S"'):]
    assert "可持续发展" in head[:head.index("</th>")]
    assert 'title="Reward on the first-level indicator 可持续发展"' in body
    assert re.search(r"<th class=\"nowrap\">Rank</th>", body)

    # one first-level indicator: its competition ranks, reward and accountability as flagged
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings?view=S"))
    shown = ranks_on_page(page, "group-S")
    subtotals = {code: Decimal(r[3]["indicators"]["S"]) for code, r in results.items()}
    for code, rank in shown.items():
        assert int(rank) == 1 + sum(1 for v in subtotals.values() if v > subtotals[code])
    for code, r in results.items():
        row = page[page.index(f'id="unit-{code}"'):]
        row = row[:row.index("</tr>")]
        assert ("Reward" in row) == ("reward:S" in r[2])
        assert ("Accountability of the head" in row) == ("accountability:S" in r[2])
    assert any("reward:S" in r[2] for r in results.values()) and any("accountability:S" in r[2] for r in results.values())
    # each unit opens the core's result page (down to its inputs)
    assert f'/t/zhen/cycles/{cycle_id}/results/{results["V01"][4]}' in page


def test_rankings_are_paginated_and_answer_htmx_with_the_block(app, client, auth):
    app.config["PAGE_SIZE"] = 10
    cycle_id = build(app)
    login(client, auth)
    first = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings"))
    second = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings?page=2"))
    assert len(re.findall(r'<tr id="unit-', first)) == 10 and len(re.findall(r'<tr id="unit-', second)) == 9
    partial = client.get(f"{BASE}/cycles/{cycle_id}/rankings?view=H",
                         headers={"HX-Request": "true", "HX-Target": "rankings"})
    body = text_of(partial)
    assert partial.status_code == 200 and "<html" not in body and 'id="group-H"' in body
    assert "HX-Request" in partial.headers.get("Vary", "")


def test_rewards_list_the_flagged_units_with_the_rule(app, client, auth):
    cycle_id = build(app, publish=True)
    results = stored(app, cycle_id)
    login(client, auth, "mayor")
    response = client.get(f"{BASE}/cycles/{cycle_id}/rewards")
    body = text_of(response)
    assert response.status_code == 200
    assert "reward_top" not in body and "accountability_bottom" not in body
    assert "the top 3 units on its subtotal are rewarded" in body and "The bottom 3 units" in body
    for code in ("S", "H", "D"):
        rewarded = sorted(c for c, r in results.items() if f"reward:{code}" in r[2])
        accountable = sorted(c for c, r in results.items() if f"accountability:{code}" in r[2])
        assert sorted(list_codes(body, code, "reward-list")) == rewarded
        assert sorted(list_codes(body, code, "accountability-list")) == accountable
        assert rewarded and accountable and not set(rewarded) & set(accountable)
    assert 'id="not-published"' not in body


def heads_cells(body: str, code: str) -> dict[str, str]:
    """{unit code: the head cell} of one indicator's accountability list."""
    section = body[body.index(f'id="lists-{code}"'):]
    section = section[:section.index("</section>")]
    table = section[section.index('class="table compact accountability-list"'):]
    return dict(re.findall(r'<code>([A-Z0-9]+)</code></td>\s*<td class="head">([^<]*)</td>', table))


def test_the_heads_held_accountable_are_named(app, client, auth):
    cycle_id = build(app, publish=True)
    results = stored(app, cycle_id)
    accountable = sorted({c for c, r in results.items() for f in r[2] if f.startswith("accountability:")})
    with tenant(app, "zhen") as db:  # one accountable unit gets a head (the employee's person record)
        units = dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())
        employee = db.scalar(select(User).where(User.username == "employee"))
        headed = next(c for c in accountable if not db.scalar(
            select(RoleMembership.id).where(RoleMembership.unit_id == units[c], RoleMembership.role == "unit_head")))
        db.add(RoleMembership(tenant_id=employee.tenant_id, user_id=employee.id, role="unit_head",
                              unit_id=units[headed]))
        person = db.get(Person, employee.person_id).name
        heads = {}
        for code, name in db.execute(select(OrgUnit.code, Person.name)
                                     .join(RoleMembership, RoleMembership.unit_id == OrgUnit.id)
                                     .join(User, User.id == RoleMembership.user_id)
                                     .join(Person, Person.id == User.person_id)
                                     .where(RoleMembership.role == "unit_head")):
            heads[code] = name
        db.commit()
    login(client, auth, "mayor")
    for page in (f"{BASE}/cycles/{cycle_id}/rewards", f"{BASE}/summary/2026/annual"):
        body = text_of(client.get(page))
        for code in ("S", "H", "D"):
            cells = heads_cells(body, code)
            assert sorted(cells) == sorted(c for c, r in results.items() if f"accountability:{code}" in r[2])
            for unit, cell in cells.items():
                assert cell == heads.get(unit, "—"), (page, unit)
        assert person in body and any(heads_cells(body, c).get(headed) == person for c in ("S", "H", "D"))


def test_a_cycle_not_computed_and_inputs_changed_after_computing(app, client, auth):
    login(client, auth)
    fresh = build(app, "2026-Q3", compute=False)
    for page in ("rankings", "rewards"):
        body = text_of(client.get(f"{BASE}/cycles/{fresh}/{page}"))
        assert 'id="not-computed"' in body and "not computed yet" in body and 'id="total"' not in body

    cycle_id = build(app, "2026-Q1")
    with tenant(app, "zhen") as db:  # a later answer is counted only when computed: the records changed
        cycle = db.get(Cycle, cycle_id)
        v02 = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V02"))
        survey.record_response(cycle, v02, "rural", "link", "late-answer",
                               {str(q.id): "dissatisfied" for q in survey.questions(cycle.id)}, None)
        db.commit()
    body = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings"))
    assert 'id="records-changed"' in body and "of 1 unit(s) changed" in body and 'id="inputs-changed"' not in body
    with tenant(app, "zhen") as db:  # a finding follows at once: the inputs changed
        cycle = db.get(Cycle, cycle_id)
        v03 = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V03"))
        db.add(InspectionFinding(day=date(2026, 2, 1), unit_id=v03, item="窗口效率", points="2", evidence="照片",
                                 recorded_by="test"))
        db.flush()
        derived.refresh_units([v03], "test", day=date(2026, 2, 1))
        db.commit()
    body = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings"))
    assert 'id="inputs-changed"' in body and "The inputs of 1 unit(s) changed" in body
    row = body[body.index('id="unit-V03"'):]
    assert "changed" in row[:row.index("</tr>")]
    with tenant(app, "zhen") as db:
        cycles.compute(db.get(Cycle, cycle_id), "test")
        db.commit()
    body = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings"))
    assert 'id="inputs-changed"' not in body and 'id="records-changed"' not in body


# ----------------------------------------------------------------------------------- access

def test_who_sees_the_rankings(app, client, auth):
    cycle_id = build(app)
    results = stored(app, cycle_id)
    for username, status in (("surveyor1", 403), ("employee", 403), ("qichanglin", 403), ("mayor", 200)):
        client.post("/t/zhen/logout")
        login(client, auth, username)
        for page in ("rankings", "rewards"):
            assert client.get(f"{BASE}/cycles/{cycle_id}/{page}").status_code == status, (username, page)
    client.post("/t/zhen/logout")
    login(client, auth, "qichanglin")
    before = text_of(client.get(f"{BASE}/progress/2026"))
    assert 'id="no-progress"' in before and f'id="cycle-{cycle_id}"' not in before  # not published: not theirs yet
    assert client.get(f"{BASE}/summary/2026/annual").status_code == 200
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        cycles.transition(cycle, "review", "test")
        cycles.transition(cycle, "published", "test")
        db.commit()
    body = text_of(client.get(f"{BASE}/cycles/{cycle_id}/rankings"))
    assert ranks_on_page(body, "total")["V01"] == str(results["V01"][1])
    assert re.search(r'<tr id="unit-V01" class="own', body) and not re.search(r'<tr id="unit-V02" class="own', body)
    assert f'/t/zhen/results/{results["V01"][4]}"' in body  # their own unit's result page
    assert f'/results/{results["V02"][4]}"' not in body  # no link they could not open
    assert client.get(f"/t/zhen/results/{results['V01'][4]}").status_code == 200
    assert client.get(f"{BASE}/cycles/{cycle_id}/rewards").status_code == 200
    after = text_of(client.get(f"{BASE}/progress/2026"))
    assert f'id="cycle-{cycle_id}"' in after and 'id="progress-V01" class="own"' in after
    for username in ("surveyor1", "employee"):
        client.post("/t/zhen/logout")
        login(client, auth, username)
        for url in ("/progress", "/progress/2026", "/summary/2026/half", "/summary/2026/annual"):
            assert client.get(BASE + url).status_code == 403, (username, url)


def test_other_tenants_cycles_and_tenants_without_the_scheme(app, client, auth):
    with tenant(app, "xiaoshou") as db:
        other = cycles.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        db.commit()
        other_id = other.id
    login(client, auth)
    for page in ("rankings", "rewards"):
        assert client.get(f"{BASE}/cycles/{other_id}/{page}").status_code == 404
        assert client.get(f"{BASE}/cycles/999999/{page}").status_code == 404
    assert client.get(f"{BASE}/progress/1999").status_code == 404
    client.post("/t/zhen/logout")
    client.post("/lang", data={"locale": "en"})
    assert auth.login("jituan", "hr").status_code == 302
    for url in ("/progress", "/progress/2026", "/summary/2026/half", "/summary/2026/annual", "/results.css"):
        assert client.get(f"/t/jituan/township{url}").status_code == 404, url


# ----------------------------------------------------------------------------------- a year

def test_progress_per_quarter_with_movement_published_first_and_one_query(app, client, auth):
    q1 = build(app, "2026-Q1", publish=True)
    later = build(app, "2026-Q1", name="Q1 重算", variant=5)  # computed later, not published: not shown
    q2 = build(app, "2026-Q2", variant=3)
    annual = build(app, "2026", variant=1)
    r1, r2, ra = stored(app, q1), stored(app, q2), stored(app, annual)
    login(client, auth)
    statements = []

    def count(conn, cursor, statement, *args):
        if "cycle_result" in statement:
            statements.append(statement)

    with tenant(app, "zhen") as db:
        engine = db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            table = service.progress(2026, lambda state: True)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1  # every result of the year's cycles in one query
    assert [c.cycle.id if c.cycle else None for c in table.columns] == [q1, q2, None, None, annual]

    body = text_of(client.get(f"{BASE}/progress/2026"))
    assert f'id="cycle-{later}"' in body and f'id="cycle-{q1}"' in body
    for code in ("V01", "DZB", "V07"):
        row = body[body.index(f'id="progress-{code}"'):]
        row = row[:row.index("</tr>")]
        cells = re.findall(r'data-period="([^"]+)">\s*(\d+|—)', row)
        assert dict(cells) == {"2026-Q1": str(r1[code][1]), "2026-Q2": str(r2[code][1]), "2026-Q3": "—",
                               "2026-Q4": "—", "2026": str(ra[code][1])}
        moved = r1[code][1] - r2[code][1]
        if moved > 0:
            assert f"↑{moved}" in row
        elif moved < 0:
            assert f"↓{-moved}" in row
        else:
            assert ">=</span>" in row
    # ordered on the annual rank
    order = re.findall(r'id="progress-([A-Z0-9]+)"', body)
    assert order == sorted(ra, key=lambda c: (ra[c][1], c))[:len(order)]
    assert client.get(f"{BASE}/progress").headers["Location"].endswith("/township/progress/2026")


def test_bulletins_print_and_show_empty_states(app, client, auth, monkeypatch):
    login(client, auth)
    for part in ("half", "annual"):
        response = client.get(f"{BASE}/summary/2030/{part}")
        body = text_of(response)
        assert response.status_code == 200 and 'id="no-bulletin"' in body and "Qingshan Town People's Government" in body
        assert "township/results.css" in body
    css = client.get(f"{BASE}/results.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    sheet = css.get_data(as_text=True)
    assert "@page { size: A4" in sheet and ".topbar" in sheet and "break-before: page" not in sheet
    assert "display: table-header-group" in sheet and "break-inside: avoid" in sheet
    assert "@page wide { size: A4 landscape" in sheet and ".township-results.landscape { page: wide; }" in sheet
    assert re.search(r"\.township-note \{[^}]*margin: \.\d+rem 0", sheet)  # its own, positive margin

    q1 = build(app, "2026-Q1", publish=True)
    q2 = build(app, "2026-Q2", variant=2)
    monkeypatch.setattr(service, "today", lambda: date(2026, 6, 28))
    half = text_of(client.get(f"{BASE}/summary/2026/half"))
    assert "Issued 2026-06-28" in half and "Analysis bulletin: first half of 2026" in half
    for part in ("part-rankings", "part-groups", "part-lists", "part-survey", "part-inspections", "part-reports"):
        assert f'id="{part}"' in half
    assert 'class="part first"' in half
    for part in ("part-groups", "part-lists"):  # the first-level rankings and lists name their cycle
        section = half[half.index(f'id="{part}"'):]
        assert "From the results of Q2 2026 (2026-Q2 考评, Open)" in section[:section.index("</section>")]
    r2 = stored(app, q2)
    main = half[half.index('id="main-results"'):half.index("</table>", half.index('id="main-results"'))]
    assert re.findall(r"<code>([A-Z0-9]+)</code>", main) == sorted(r2, key=lambda c: (r2[c][1], c))
    assert "reward_top" not in half and "total_formula" not in half and "the top 3 units" in half
    # the survey: each quarter's responses per category, the latest per unit
    with tenant(app, "zhen") as db:
        from plugins.gov_public_evaluation.survey.models import SurveyResponse
        rural = len(list(db.scalars(select(SurveyResponse.id).where(SurveyResponse.cycle_id == q2,
                                                                    SurveyResponse.category == "rural"))))
    assert f'id="survey-{q1}"' in half and f'id="survey-{q2}"' in half and 'id="survey-units"' in half
    table = half[half.index(f'id="survey-{q2}"'):]
    table = table[:table.index("</table>")]
    assert re.search(rf"农村居民</td><td class=\"number\">{rural}</td>", table)
    assert "npc_deputy" not in half and "<code>rural</code>" not in half  # categories by name only
    # findings of both quarters: V01's in each (2 + 2 findings, 4 points), reports recorded before July
    inspections = half[half.index('id="inspections"'):]
    v01 = inspections[inspections.index("<code>V01</code>"):]
    v01 = v01[:v01.index("</tr>")]
    assert '<td class="number">4</td>' in v01 and "−4" in v01 and "窗口效率" in v01
    reports = half[half.index('id="reports"'):]
    reports = reports[:reports.index("</table>")]

    def cells(code):
        row = reports[reports.index(f"<code>{code}</code>"):]
        return re.findall(r'<td class="number[^"]*">(\d+)</td>', row[:row.index("</tr>")])

    # recorded by 30 June against the pace ⌈minimum × 2 ÷ 4⌉: DZB 2+2 of 6 (due 3), V02 none of 5 (due 3)
    assert cells("DZB") == ["4", "6", "3", "0"] and cells("V01") == ["10", "5", "3", "0"]
    assert cells("V02") == ["0", "5", "3", "3"]
    assert "Due by 2026-06-30" in reports and "Deducted" not in reports[:reports.index("</thead>")]
    assert "⌈minimum × 2 ÷ 4⌉" in half and 'id="reports-own"' not in half

    annual = build(app, "2026", variant=1)
    ra = stored(app, annual)
    body = text_of(client.get(f"{BASE}/summary/2026/annual"))
    assert "Analysis bulletin: the year 2026" in body and 'id="no-bulletin"' not in body
    main = body[body.index('id="main-results"'):body.index("</table>", body.index('id="main-results"'))]
    assert re.findall(r"<code>([A-Z0-9]+)</code>", main) == sorted(ra, key=lambda c: (ra[c][1], c))
    reports = body[body.index('id="reports"'):]
    dzb = reports[reports.index("<code>DZB</code>"):]
    dzb = dzb[:dzb.index("</tr>")]
    assert "−2" in dzb  # the annual cycle counted 4 items of 6: 2 points deducted
    for code in ("S", "H", "D"):
        rewarded = sorted(c for c, r in ra.items() if f"reward:{code}" in r[2])
        assert sorted(list_codes(body, code, "reward-list")) == rewarded


# ----------------------------------------------------------------------------------- slots and labels

def test_menu_and_cycle_links(app, client, auth):
    cycle_id = build(app)
    login(client, auth)
    home = text_of(client.get("/t/zhen/"))
    assert f'href="{BASE}/progress"' in home
    page = text_of(client.get(f"/t/zhen/cycles/{cycle_id}"))
    assert f"{BASE}/cycles/{cycle_id}/rankings" in page and f"{BASE}/cycles/{cycle_id}/rewards" in page
    fresh = build(app, "2026-Q4", compute=False)
    assert f"/cycles/{fresh}/rankings" not in text_of(client.get(f"/t/zhen/cycles/{fresh}"))
    client.post("/t/zhen/logout")
    login(client, auth, "surveyor1")
    assert f'href="{BASE}/progress"' not in text_of(client.get("/t/zhen/"))
    client.post("/t/zhen/logout")
    login(client, auth, "luxiaoyan")
    assert f'href="{BASE}/progress"' in text_of(client.get("/t/zhen/"))


def test_labels_name_every_flag_term_and_answer_in_both_languages():
    for term in ("indicators", "survey", "inspection", "info_reports", "public_score", "indicator_points",
                 "reporting_shortfall", "satisfied", "basically_satisfied", "dissatisfied", "dont_know",
                 "npc_deputy", "business", "urban", "rural", "reward", "accountability", "public",
                 "reward:S", "reward:H", "reward:D", "accountability:S", "accountability:H", "accountability:D",
                 "total 总分", "inspection 察访核验"):
        assert set(LABELS[term]) == {"zh", "en"} and all(LABELS[term].values()), term
    assert LABELS["accountability:H"]["zh"] == "追究主要领导责任 (H)"


def test_bulletin_reports_count_to_the_main_quarter_and_a_unit_head_sees_only_theirs(app, client, auth, monkeypatch):
    q1 = build(app, "2026-Q1", publish=True)
    with tenant(app, "zhen") as db:  # items after the first quarter: not counted while it is the main cycle
        units = dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())
        db.add_all([InfoReport(day=date(2026, 4, 2), unit_id=units["DZB"], title="四月", recorded_by="test"),
                    InfoReport(day=date(2026, 3, 31), unit_id=units["V02"], title="三月", recorded_by="test")])
        db.commit()
        cycle = db.get(Cycle, q1)
        table = service.rankings(cycle, check_records=False)
        everyone = service.report_rows(table)
        theirs = service.report_rows(table, {units["V01"]})
    assert everyone.until == date(2026, 4, 1) and everyone.quarters == 1 and everyone.last_day == date(2026, 3, 31)
    rows = {r.code: r for r in everyone.rows}
    assert (rows["DZB"].reported, rows["DZB"].minimum, rows["DZB"].due, rows["DZB"].missing) == (2, 6, 2, 0)
    assert (rows["V02"].reported, rows["V02"].due, rows["V02"].missing) == (1, 2, 1)  # ⌈5 × 1 ÷ 4⌉ = 2
    assert [r.code for r in theirs.rows] == ["V01"] and theirs.limited and not everyone.limited
    assert service.due_by(6, 2) == 3 and service.due_by(5, 3) == 4 and service.due_by(None, 2) is None

    monkeypatch.setattr(service, "today", lambda: date(2026, 6, 28))
    login(client, auth, "qichanglin")  # the head of V01 opens the published bulletin
    half = text_of(client.get(f"{BASE}/summary/2026/half"))
    reports = half[half.index('id="part-reports"'):]
    reports = reports[:reports.index("</section>")]
    assert 'id="reports-own"' in reports and "<code>V01</code>" in reports
    assert "<code>DZB</code>" not in reports and "<code>V02</code>" not in reports
    assert "Due by 2026-03-31" in reports
    ranks = half[half.index('id="main-results"'):]
    assert "<code>DZB</code>" in ranks[:ranks.index("</table>")]  # the published results stay whole


def test_participation_counts_in_one_pass_per_unit_for_the_main_cycle(app):
    q1 = build(app, "2026-Q1")
    q2 = build(app, "2026-Q2", variant=1)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with tenant(app, "zhen") as db:
        from plugins.gov_public_evaluation.survey.models import SurveyResponse

        cycles_ = [db.get(Cycle, q1), db.get(Cycle, q2)]
        engine = db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = service.participation(cycles_, detail=q2)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 3
        expected = {}
        for cycle_id, unit_id, category in db.execute(select(SurveyResponse.cycle_id, SurveyResponse.unit_id,
                                                             SurveyResponse.category)):
            expected.setdefault(cycle_id, {}).setdefault(unit_id, {}).setdefault(category, 0)
            expected[cycle_id][unit_id][category] += 1
        codes = dict(db.execute(select(OrgUnit.code, OrgUnit.id)).all())
    first, second = found
    assert first.per_unit == [] and len(second.per_unit) == 19  # the table per unit: the main cycle only
    for p in found:
        totals = {}
        for per_unit in expected[p.cycle.id].values():
            for category, n in per_unit.items():
                totals[category] = totals.get(category, 0) + n
        assert {c.code: c.responses for c in p.categories} == {c.code: totals.get(c.code, 0) for c in p.categories}
        assert p.units == 19 and all(c.target and c.target % 19 == 0 for c in p.categories)
        quota = {c.code: c.target // 19 for c in p.categories}
        subjects = [u for u in codes.values() if u in expected[p.cycle.id]] + \
            [None] * (19 - len(expected[p.cycle.id]))  # units without a response fall short everywhere
        assert p.short_units == sum(1 for u in subjects if any(
            expected[p.cycle.id].get(u, {}).get(c, 0) < q for c, q in quota.items()))
    for u in second.per_unit:
        counts = expected[q2].get(codes[u.code], {})
        assert u.counts == counts
        assert u.below == {c for c, q in quota.items() if counts.get(c, 0) < q}
    assert second.short_units == sum(1 for u in second.per_unit if u.below)


def test_scores_are_shown_exactly_with_two_decimals():
    assert service.score(Decimal("85.5")) == "85.50" and service.score(Decimal("-1.25")) == "-1.25"
    assert service.score(None) == "—" and service.score("7") == "7.00"
    # exact, half up; through a float ("%.2f" | format) 2.675 and 0.125 would print 2.67 and 0.12
    assert service.score(Decimal("2.675")) == "2.68" and service.score(Decimal("0.125")) == "0.13"
    assert service.score(Decimal("12345678901234.005")) == "12345678901234.01"
    assert "%.2f" % Decimal("2.675") == "2.67"
    assert service.percent(1, 3) == 33 and service.percent(2, 3) == 67 and service.percent(1, 0) is None


def test_the_formula_reads_in_words():
    default = "indicator_points * 0.7 + public_score * 0.3 - inspection - reporting_shortfall"
    assert formula_text(default, "zh") == "指标考核得分 × 70% + 公众评议得分 × 30% − 察访核验扣分 − 信息报送扣分"
    assert formula_text(default, "en") == ("Indicator points × 70% + Public score × 30% − Inspection deductions − "
                                           "Reporting shortfall")
    assert formula_text("max(0, indicator_points * 0.65 + public_score / 2) - inspection", "zh") == \
        "max(0, 指标考核得分 × 65% + 公众评议得分 ÷ 2) − 察访核验扣分"
    assert formula_text("-inspection + indicator_points * 1.5", "en") == "−Inspection deductions + Indicator points × 1.5"
    assert formula_text("not a $ formula", "zh") == "not a $ formula"


# ----------------------------------------------------------------------------------- a unit head's own page

def test_my_units_page_for_unit_heads(app, client, auth):
    published = build(app, "2026-Q1", publish=True)
    under_way = build(app, "2026-Q2", variant=2)
    results = stored(app, published)
    with tenant(app, "zhen") as db:
        v01 = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V01"))
    login(client, auth, "qichanglin")
    assert f'href="{BASE}/my-units"' in text_of(client.get("/t/zhen/"))
    response = client.get(f"{BASE}/my-units")
    body = text_of(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert 'id="unit-V01"' in body and 'id="unit-V02"' not in body
    row = body[body.index(f'id="cycle-V01-{published}"'):]
    row = row[:row.index("</tr>")]
    score, rank, flags, _extra, rid = results["V01"]
    assert f"{score:.2f}" in row and f"{rank} of 19" in row
    assert f'href="/t/zhen/results/{rid}"' in row  # the core's page explaining the result
    assert f'href="{BASE}/cycles/{published}/points/{v01}"' in row
    assert f"{BASE}/inspections?year=2026&amp;quarter=1&amp;unit_id={v01}" in response.get_data(as_text=True)
    assert f"{BASE}/reports?year=2026&amp;quarter=1&amp;unit_id={v01}" in response.get_data(as_text=True)
    for flag in flags:
        kind, _sep, code = flag.partition(":")
        assert {"reward": "Reward", "accountability": "Accountability of the head"}[kind] in row
    pending = body[body.index(f'id="cycle-V01-{under_way}"'):]
    pending = pending[:pending.index("</tr>")]
    assert "Results once the cycle is published." in pending
    assert f"{stored(app, under_way)['V01'][0]:.2f}" not in pending and "/results/" not in pending
    # the links lead to pages the head may open, filtered to the unit
    assert client.get(f"{BASE}/cycles/{published}/points/{v01}").status_code == 200
    findings = text_of(client.get(f"{BASE}/inspections?year=2026&quarter=1&unit_id={v01}"))
    assert "窗口效率" in findings
    assert client.get(f"{BASE}/reports?year=2026&quarter=1&unit_id={v01}").status_code == 200
    assert client.get(f"/t/zhen/results/{rid}").status_code == 200
    for username in ("admin", "mayor", "surveyor1", "employee"):
        client.post("/t/zhen/logout")
        login(client, auth, username)
        assert client.get(f"{BASE}/my-units").status_code == 403, username
        assert f'href="{BASE}/my-units"' not in text_of(client.get("/t/zhen/"))


# ----------------------------------------------------------------------------------- on paper

def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


@pytest.mark.browser
def test_bulletins_and_rankings_print_on_a4(app, page, monkeypatch):  # noqa: F811 (the fixture imported above)
    """Printed from headless Chromium: the half-year bulletin on few portrait A4 pages (no forced
    break between sections), no note printed over a table, the rankings on landscape pages."""
    monkeypatch.setattr(service, "today", lambda: date(2026, 6, 28))
    build(app, "2026-Q1", publish=True)
    q2 = build(app, "2026-Q2", variant=2)
    browser_login(page, "zhen", "admin")
    page.goto(f"{page.base}{BASE}/summary/2026/half")
    page.emulate_media(media="print")
    overlaps = page.evaluate("""() => [...document.querySelectorAll('.township-note')].filter(note => {
        const table = note.previousElementSibling;
        return table && table.tagName === 'TABLE'
            && note.getBoundingClientRect().top < table.getBoundingClientRect().bottom;
    }).map(note => note.textContent)""")
    assert overlaps == []
    assert page.evaluate("getComputedStyle(document.querySelector('#part-groups')).breakBefore") != "page"
    half = page.pdf(prefer_css_page_size=True)
    size = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", half)
    assert size and float(size.group(1)) < float(size.group(2))  # portrait
    assert 3 <= pdf_pages(half) <= 6  # was 8, three of them nearly empty
    page.goto(f"{page.base}{BASE}/cycles/{q2}/rankings")
    wide = page.pdf(prefer_css_page_size=True)
    size = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", wide)
    assert size and float(size.group(1)) > float(size.group(2))  # landscape
    nowrap = page.evaluate("""() => [...document.querySelectorAll('#total td.unit, #total th.nowrap')]
        .every(cell => getComputedStyle(cell).whiteSpace === 'nowrap')""")
    assert nowrap
