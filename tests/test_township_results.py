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

from sqlalchemy import event, select

from core.cycles import service as cycles
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit
from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import build_case
from plugins.gov_public_evaluation import derived
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from plugins.gov_public_evaluation.labels import LABELS
from plugins.gov_public_evaluation.points.models import IndicatorEntry
from plugins.gov_public_evaluation.reports.models import InfoReport
from plugins.gov_public_evaluation.results import service
from plugins.gov_public_evaluation.survey import service as survey
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
    assert "reward_top = 3" in body and "accountability_bottom = 3" in body
    for code in ("S", "H", "D"):
        rewarded = sorted(c for c, r in results.items() if f"reward:{code}" in r[2])
        accountable = sorted(c for c, r in results.items() if f"accountability:{code}" in r[2])
        assert sorted(list_codes(body, code, "reward-list")) == rewarded
        assert sorted(list_codes(body, code, "accountability-list")) == accountable
        assert rewarded and accountable and not set(rewarded) & set(accountable)
    assert 'id="not-published"' not in body


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
    assert "@page { size: A4" in sheet and "break-before: page" in sheet and ".topbar" in sheet
    assert "display: table-header-group" in sheet and "break-inside: avoid" in sheet

    q1 = build(app, "2026-Q1", publish=True)
    q2 = build(app, "2026-Q2", variant=2)
    monkeypatch.setattr(service, "today", lambda: date(2026, 6, 28))
    half = text_of(client.get(f"{BASE}/summary/2026/half"))
    assert "Issued 2026-06-28" in half and "Analysis bulletin: first half of 2026" in half
    for part in ("part-rankings", "part-groups", "part-lists", "part-survey", "part-inspections", "part-reports"):
        assert f'id="{part}"' in half
    assert 'class="part first"' in half
    r2 = stored(app, q2)
    main = half[half.index('id="main-results"'):half.index("</table>", half.index('id="main-results"'))]
    assert re.findall(r"<code>([A-Z0-9]+)</code>", main) == sorted(r2, key=lambda c: (r2[c][1], c))
    assert "reward_top = 3" in half
    # the survey: each quarter's responses per category, the latest per unit
    with tenant(app, "zhen") as db:
        from plugins.gov_public_evaluation.survey.models import SurveyResponse
        rural = len(list(db.scalars(select(SurveyResponse.id).where(SurveyResponse.cycle_id == q2,
                                                                    SurveyResponse.category == "rural"))))
    assert f'id="survey-{q1}"' in half and f'id="survey-{q2}"' in half and 'id="survey-units"' in half
    table = half[half.index(f'id="survey-{q2}"'):]
    table = table[:table.index("</table>")]
    assert re.search(rf"<code>rural</code></td><td class=\"number\">{rural}</td>", table)
    # findings of both quarters: V01's in each (2 + 2 findings, 4 points), reports recorded before July
    inspections = half[half.index('id="inspections"'):]
    v01 = inspections[inspections.index("<code>V01</code>"):]
    v01 = v01[:v01.index("</tr>")]
    assert '<td class="number">4</td>' in v01 and "−4" in v01 and "窗口效率" in v01
    reports = half[half.index('id="reports"'):]
    dzb = reports[reports.index("<code>DZB</code>"):]
    dzb = dzb[:dzb.index("</tr>")]
    assert re.findall(r'<td class="number[^"]*">(\d+)</td>', dzb) == ["4", "6", "2"]  # 2+2 recorded, 6, 2 missing
    assert "Deducted" not in reports[:reports.index("</thead>")]

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
