"""The township's indicator points (issue 7, item 1): the office enters a unit's points per
second-level indicator with an evidence note (exact decimals, 0 to the maximum, messages naming the
indicator, the value and the range), clears them after a confirmation, a concurrent edit is refused,
only the indicators that apply to the unit are offered, the cycle's derived inputs follow the
entries, the year-end verification marks (cleared by a change of the points), the overview's
subtotals and progress, who may read and write what, and other tenants' cycles."""
from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import event, select

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleSubject, OrgUnit, TenantScheme
from core.models.base import utcnow
from plugins.gov_public_evaluation import settings_of
from plugins.gov_public_evaluation.points.models import IndicatorEntry
from tests.test_cycles import tenant

BASE = "/t/zhen/township/cycles"
HTMX = {"HX-Request": "true"}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login(client, auth, username="admin"):
    client.post("/lang", data={"locale": "en"})
    assert auth.login("zhen", username).status_code == 302


def make_cycle(app, period="2026", name="年度考核", tree_change=None) -> int:
    """A township cycle; ``tree_change(groups)`` edits the tenant's tree first (applicability)."""
    with tenant(app, "zhen") as db:
        if tree_change is not None:
            row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation"))
            groups = settings_of(row.settings).model_dump(mode="json")["indicators"]
            tree_change(groups)
            row.settings = {**row.settings, "indicators": groups}
            db.flush()
        cycle = cycles.create_cycle("gov-public-evaluation", period, name, {}, "test")
        db.commit()
        return cycle.id


def unit_id(app, code) -> int:
    with tenant(app, "zhen") as db:
        return db.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def stored(app, cycle_id) -> dict[tuple[str, str], tuple]:
    """(unit code, indicator code) -> (points, evidence, verified_by, verification_note)."""
    with tenant(app, "zhen") as db:
        rows = db.execute(select(OrgUnit.code, IndicatorEntry).join(OrgUnit, OrgUnit.id == IndicatorEntry.unit_id)
                          .where(IndicatorEntry.cycle_id == cycle_id)).all()
        return {(u, e.code): (e.points, e.evidence, e.verified_by, e.verification_note) for u, e in rows}


def inputs(app, cycle_id, code) -> dict:
    with tenant(app, "zhen") as db:
        return dict(db.scalar(select(CycleSubject.inputs).where(CycleSubject.cycle_id == cycle_id,
                                                                CycleSubject.code == code)) or {})


def actions(app) -> list[str]:
    with tenant(app, "zhen") as db:
        return list(db.scalars(select(AuditLog.action).where(AuditLog.object_type == "IndicatorEntry")
                               .order_by(AuditLog.id)))


def page_of(client, cycle_id, unit) -> str:
    return text_of(client.get(f"{BASE}/{cycle_id}/points/{unit}"))


NONE = {"entry": "", "version": ""}  # a form read when the row had no entry


def row_stamp(client, cycle_id, unit, code) -> dict[str, str]:
    """The entry a row's save form names: its id and its version (both empty: no entry)."""
    page = client.get(f"{BASE}/{cycle_id}/points/{unit}").get_data(as_text=True)
    found = re.search(rf'id="pt-{re.escape(code)}-save".*?name="entry" value="([\d-]*)".*?name="version" value="(\d*)"',
                      page, re.S)
    return {"entry": found.group(1), "version": found.group(2)}


def save(client, cycle_id, unit, code, points, evidence="统计报表", stamp=None, **kwargs):
    data = {"points": points, "evidence": evidence,
            **(stamp if stamp is not None else row_stamp(client, cycle_id, unit, code))}
    data.update(kwargs.pop("extra", {}))
    return client.post(f"{BASE}/{cycle_id}/points/{unit}/indicators/{code}", data=data, **kwargs)


def toast(response) -> str:
    """The message of the answer's toast (HX-Trigger: JSON with ASCII escapes, as headers must be)."""
    header = response.headers["HX-Trigger"]
    assert header.isascii()
    return json.loads(header)["jixiao:saved"]


def row_html(response) -> str:
    """The (first) table row of an answer."""
    page = text_of(response)
    return page[page.index("<tr"):page.index("</tr>") + 5] if "</tr>" in page else page


# ----------------------------------------------------------------------------------- entering

def test_the_office_enters_changes_and_clears_points_and_the_cycle_inputs_follow(app, client, auth):
    cycle_id = make_cycle(app)
    v01 = unit_id(app, "V01")
    login(client, auth)
    assert inputs(app, cycle_id, "V01").get("indicators") is None
    response = save(client, cycle_id, v01, "S1", "4.50", "2026年统计年报第3页")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/points/{v01}#pt-S1")
    assert stored(app, cycle_id) == {("V01", "S1"): ("4.5", "2026年统计年报第3页", None, "")}
    assert inputs(app, cycle_id, "V01")["indicators"] == {"S1": "4.5"}
    page = page_of(client, cycle_id, v01)
    assert "S1 地区生产总值增长: 4.5 points entered." in page
    assert "4.5 / 40" in page.replace('<small class="muted">', "").replace("</small>", "")
    assert "1 of 23 indicators entered" in page

    assert save(client, cycle_id, v01, "H2", "5", "综治考评结果").status_code == 302
    assert save(client, cycle_id, v01, "S1", "6", "统计年报修订").status_code == 302
    assert inputs(app, cycle_id, "V01")["indicators"] == {"S1": "6", "H2": "5"}
    with tenant(app, "zhen") as db:  # the inputs are exactly the entries
        rows = db.execute(select(IndicatorEntry.code, IndicatorEntry.points)
                          .where(IndicatorEntry.cycle_id == cycle_id, IndicatorEntry.unit_id == v01)).all()
        assert dict(rows) == inputs(app, cycle_id, "V01")["indicators"]

    # clearing asks first (the entry stays), then removes it: the unit earns 0 on it
    ask = save(client, cycle_id, v01, "H2", "", "", headers=HTMX)
    assert ask.status_code == 200 and "Clear the 5 points of H2 社会治安综合治理? The unit then earns 0 on it." in text_of(ask)
    assert 'name="confirm" value="1"' in ask.get_data(as_text=True)
    assert ("V01", "H2") in stored(app, cycle_id)
    ask = save(client, cycle_id, v01, "H2", "5", "x", extra={"clear": "1"}, headers=HTMX)  # the Clear… button
    assert "Clear the 5 points of H2" in text_of(ask) and ("V01", "H2") in stored(app, cycle_id)
    cleared = save(client, cycle_id, v01, "H2", "", "", extra={"confirm": "1"}, headers=HTMX)
    assert cleared.status_code == 200 and re.search(r'name="points" value=""', row_html(cleared))
    assert 'name="clear"' not in row_html(cleared)  # nothing left to clear
    assert 'id="pt-summary"' in text_of(cleared) and 'hx-swap-oob="true"' in text_of(cleared)
    assert "H2 社会治安综合治理 cleared: the unit earns 0 on it." in toast(cleared)
    assert ("V01", "H2") not in stored(app, cycle_id)
    assert inputs(app, cycle_id, "V01")["indicators"] == {"S1": "6"}
    assert actions(app) == ["township.points.enter", "township.points.enter", "township.points.change",
                            "township.points.clear"]
    with tenant(app, "zhen") as db:
        change = db.scalar(select(AuditLog).where(AuditLog.action == "township.points.change"))
        assert change.before["points"] == "4.5" and change.after["points"] == "6" and change.actor == "user:admin"


def test_a_row_saved_with_htmx_comes_back_with_the_subtotals_out_of_band(app, client, auth):
    cycle_id = make_cycle(app)
    v02 = unit_id(app, "V02")
    login(client, auth)
    response = save(client, cycle_id, v02, "D4", "4.25", "纪检通报", headers=HTMX)
    body = text_of(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.startswith('<template><tr id="pt-D4" class="" hx-swap-oob="true">')  # a row cannot stand alone
    assert "<strong>4.25</strong>" in body or 'value="4.25"' in body
    summary = body[body.index('id="pt-summary"'):]
    assert "4.25" in summary and "1 of 23 indicators entered" in summary
    assert "D4 廉洁从政: 4.25 points entered." in toast(response)
    again = save(client, cycle_id, v02, "D4", "4.250", "纪检通报", headers=HTMX)
    assert "nothing changed" in toast(again)
    assert actions(app) == ["township.points.enter"]


@pytest.mark.parametrize("points, evidence, field, message", [
    ("7", "报表", "points", "Points of S1 地区生产总值增长: 7 is outside the allowed range 0 to 6."),
    ("6.01", "报表", "points", "Points of S1 地区生产总值增长: 6.01 is outside the allowed range 0 to 6."),
    ("-0.5", "报表", "points", "Points of S1 地区生产总值增长: -0.5 is outside the allowed range 0 to 6."),
    ("abc", "报表", "points", "Points of S1 地区生产总值增长: “abc” is not a number; allowed: an exact decimal from 0 to "
                              "6, such as 3 or 2.5."),
    ("1e0", "报表", "points", "Points of S1 地区生产总值增长: “1e0” is not a number"),
    ("NaN", "报表", "points", "Points of S1 地区生产总值增长: “NaN” is not a number"),
    ("1.1234567", "报表", "points", "Points of S1 地区生产总值增长: “1.1234567” has more than 6 decimal places"),
    ("5", "", "evidence", "Evidence note of S1 地区生产总值增长: required when points are entered; name the data they "
                          "were entered from"),
    ("5", "长" * 2001, "evidence", "Evidence note of S1 地区生产总值增长: 2001 characters; allowed: at most 2000."),
    ("", "只有说明", "points", "Points of S1 地区生产总值增长: empty; enter the points (0 to 6) the evidence note is for"),
])
def test_a_bad_value_is_refused_with_a_message_naming_the_indicator_the_value_and_the_range(
        app, client, auth, points, evidence, field, message):
    cycle_id = make_cycle(app)
    v01 = unit_id(app, "V01")
    login(client, auth)
    response = save(client, cycle_id, v01, "S1", points, evidence, headers=HTMX)
    row = row_html(response)
    assert response.status_code == 422
    assert re.search(rf'id="pt-S1-err-{field}">[^<]*{re.escape(message)}', row)  # next to its field
    assert f'value="{points}"' in row  # what was typed stays
    assert stored(app, cycle_id) == {} and actions(app) == []
    plain = save(client, cycle_id, v01, "S1", points, evidence)  # without htmx: the whole page, the row marked
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True) and message in text_of(plain)


def test_a_concurrent_edit_is_refused_and_the_stored_value_shown(app, client, auth):
    cycle_id = make_cycle(app)
    v03 = unit_id(app, "V03")
    login(client, auth)
    assert save(client, cycle_id, v03, "H1", "4", "安监台账", stamp=NONE).status_code == 302
    second = save(client, cycle_id, v03, "H1", "3", "另一份台账", stamp=NONE, headers=HTMX)  # read before the first save
    row = row_html(second)
    assert second.status_code == 409
    assert "傅雅琳 entered 4 points on H1 安全生产 meanwhile; nothing was saved." in row
    assert "Stored now: 4 points; evidence: 安监台账" in row and 'value="3"' in row
    assert stored(app, cycle_id)[("V03", "H1")][0] == "4"

    seen = row_stamp(client, cycle_id, v03, "H1")
    assert save(client, cycle_id, v03, "H1", "4.5", "安监台账(修订)", stamp=seen).status_code == 302
    stale = save(client, cycle_id, v03, "H1", "2", "旧页面", stamp=seen, headers=HTMX)
    assert stale.status_code == 409 and "changed H1 安全生产 meanwhile (now 4.5 points)" in text_of(stale)
    assert stored(app, cycle_id)[("V03", "H1")][:2] == ("4.5", "安监台账(修订)")

    newest = row_stamp(client, cycle_id, v03, "H1")
    assert save(client, cycle_id, v03, "H1", "", "", stamp=newest, extra={"confirm": "1"}).status_code == 302
    gone = save(client, cycle_id, v03, "H1", "1", "旧页面", stamp=newest, headers=HTMX)
    assert gone.status_code == 409 and "were removed by someone else meanwhile" in text_of(gone)
    assert ("V03", "H1") not in stored(app, cycle_id)


def test_a_row_read_before_a_clear_cannot_overwrite_the_entry_entered_after_it(app, client, auth):
    """A new entry starts again at version 1: the form names the entry by its id too, so a row read
    before the clear (entry 1, version 1) is refused on the new entry (another id, version 1)."""
    cycle_id = make_cycle(app)
    v07 = unit_id(app, "V07")
    login(client, auth)
    assert save(client, cycle_id, v07, "S2", "3", "旧报表", stamp=NONE).status_code == 302
    old = row_stamp(client, cycle_id, v07, "S2")  # another editor's page, read now
    assert old["entry"] and old["version"] == "1"
    assert save(client, cycle_id, v07, "S2", "", "", extra={"confirm": "1"}).status_code == 302
    assert save(client, cycle_id, v07, "S2", "5", "新报表").status_code == 302
    new = row_stamp(client, cycle_id, v07, "S2")
    assert new["version"] == "1" and new["entry"] != old["entry"]  # the same version, another entry

    stale = save(client, cycle_id, v07, "S2", "1", "旧页面", stamp=old, headers=HTMX)
    assert stale.status_code == 409 and "entered 5 points on S2 财政一般预算收入 meanwhile; nothing was saved" \
        in text_of(stale)
    assert "Stored now: 5 points; evidence: 新报表" in row_html(stale)
    assert f'name="entry" value="{new["entry"]}"' in row_html(stale)  # the row now names the new entry
    clear = save(client, cycle_id, v07, "S2", "", "", stamp=old, extra={"confirm": "1"}, headers=HTMX)
    assert clear.status_code == 409
    verify = client.post(f"{BASE}/{cycle_id}/points/{v07}/indicators/S2/verify", data={**old, "note": ""})
    assert verify.status_code == 409
    assert stored(app, cycle_id)[("V07", "S2")] == ("5", "新报表", None, "")
    assert inputs(app, cycle_id, "V07")["indicators"] == {"S2": "5"}

    # the form had an entry and the row is gone: refused, nothing is created
    assert save(client, cycle_id, v07, "S2", "", "", stamp=new, extra={"confirm": "1"}).status_code == 302
    gone = save(client, cycle_id, v07, "S2", "2", "旧页面", stamp=new, headers=HTMX)
    assert gone.status_code == 409 and "were removed by someone else meanwhile" in text_of(gone)
    # a version without the entry's id names no entry: refused on an entry entered meanwhile
    assert save(client, cycle_id, v07, "S2", "4", "年报", stamp=NONE).status_code == 302
    bare = save(client, cycle_id, v07, "S2", "1", "x", stamp={"version": "1"}, headers=HTMX)
    assert bare.status_code == 409 and stored(app, cycle_id)[("V07", "S2")][0] == "4"


def test_verifying_all_is_refused_when_an_entry_was_cleared_and_entered_anew(app, client, auth):
    cycle_id = make_cycle(app)
    v08 = unit_id(app, "V08")
    login(client, auth)
    assert save(client, cycle_id, v08, "S3", "2", "年报", stamp=NONE).status_code == 302
    seen = re.search(r'name="seen" value="([^"]*)"', client.get(f"{BASE}/{cycle_id}/points/{v08}")
                     .get_data(as_text=True)).group(1)
    assert save(client, cycle_id, v08, "S3", "", "", extra={"confirm": "1"}).status_code == 302
    assert save(client, cycle_id, v08, "S3", "6", "另一份年报").status_code == 302  # version 1 again
    refused = client.post(f"{BASE}/{cycle_id}/points/{v08}/verify", data={"seen": seen, "note": ""})
    assert refused.status_code == 409 and "nothing was marked" in text_of(refused)
    assert stored(app, cycle_id)[("V08", "S3")][2] is None


def test_the_unique_constraint_backs_the_version_check_under_a_race(app, client, auth, monkeypatch):
    from plugins.gov_public_evaluation.points import service

    cycle_id = make_cycle(app)
    v05 = unit_id(app, "V05")
    login(client, auth)
    assert save(client, cycle_id, v05, "S4", "2", "招商台账", stamp=NONE).status_code == 302
    real = service._locked_entry
    calls = []

    def racing(*args):  # the other request's entry is not seen by the check, only by the constraint
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(service, "_locked_entry", racing)
    response = save(client, cycle_id, v05, "S4", "3", "另一份台账", stamp=NONE, headers=HTMX)
    assert response.status_code == 409 and "Someone else saved this row at the same moment" in text_of(response)
    assert stored(app, cycle_id)[("V05", "S4")][:2] == ("2", "招商台账")
    assert inputs(app, cycle_id, "V05")["indicators"] == {"S4": "2"}


def test_a_code_with_a_dot_gets_a_row_id_htmx_can_find(app, client, auth):
    cycle_id = make_cycle(app, tree_change=lambda groups: groups[2]["children"].append(
        {"code": "D.7_a", "name": "特色工作", "max": "2"}))
    v06 = unit_id(app, "V06")
    login(client, auth)
    page = page_of(client, cycle_id, v06)
    assert '<tr id="pt-D_2e7_5fa"' in page and 'id="pt-D_2e7_5fa-save"' in page
    response = client.post(f"{BASE}/{cycle_id}/points/{v06}/indicators/D.7_a",
                           data={"points": "1.5", "evidence": "特色工作台账", **NONE}, headers=HTMX)
    assert response.status_code == 200 and '<tr id="pt-D_2e7_5fa" class="" hx-swap-oob="true">' in text_of(response)
    assert inputs(app, cycle_id, "V06")["indicators"] == {"D.7_a": "1.5"}
    plain = client.post(f"{BASE}/{cycle_id}/points/{v06}/indicators/D.7_a",
                        data={"points": "2", "evidence": "特色工作台账",
                              **row_stamp(client, cycle_id, v06, "D_2e7_5fa")})
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"/points/{v06}#pt-D_2e7_5fa")


# ----------------------------------------------------------------------------------- applicability

def village_and_dzb_only(groups):
    groups[0]["children"][0]["units"] = ["village"]  # S1: villages only
    groups[2]["children"][0]["units"] = ["DZB"]  # D1: the party office only


def test_only_the_indicators_that_apply_to_the_unit_are_offered(app, client, auth):
    cycle_id = make_cycle(app, tree_change=village_and_dzb_only)
    v01, dzb, jfb = unit_id(app, "V01"), unit_id(app, "DZB"), unit_id(app, "JFB")
    login(client, auth)
    village = page_of(client, cycle_id, v01)
    assert 'id="pt-S1"' in village and 'id="pt-D1"' not in village
    assert "Not applicable to this unit: D1 政务公开" in village and "of 22 indicators entered" in village
    party = page_of(client, cycle_id, dzb)
    assert 'id="pt-S1"' not in party and 'id="pt-D1"' in party and "Not applicable to this unit: S1 地区生产总值增长" in party
    other = page_of(client, cycle_id, jfb)
    assert 'id="pt-S1"' not in other and 'id="pt-D1"' not in other and "of 21 indicators entered" in other

    assert save(client, cycle_id, dzb, "S1", "3", "报表", stamp=NONE, headers=HTMX).status_code == 404
    assert save(client, cycle_id, v01, "NOPE", "1", "x", stamp=NONE).status_code == 404
    assert stored(app, cycle_id) == {}

    # a changed tree does not change the cycle: it keeps the tree it was created with
    with tenant(app, "zhen") as db:
        row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation"))
        row.settings = {k: v for k, v in row.settings.items() if k != "indicators"}
        db.commit()
    assert 'id="pt-D1"' not in page_of(client, cycle_id, v01)

    overview = text_of(client.get(f"{BASE}/{cycle_id}/points"))
    assert "0 of 392" not in overview  # 12 villages × 22 + DZB 22 + 6 departments × 21 = 412
    assert "0 of 412" in overview


def test_an_entry_on_an_indicator_that_does_not_apply_can_only_be_cleared(app, client, auth):
    cycle_id = make_cycle(app, tree_change=village_and_dzb_only)
    jfb = unit_id(app, "JFB")
    with tenant(app, "zhen") as db:  # written behind the portal's back (an import, a changed unit kind)
        db.add(IndicatorEntry(cycle_id=cycle_id, unit_id=jfb, code="S1", points="2", evidence="旧数据",
                              entered_by="cli"))
        db.commit()
    login(client, auth)
    page = page_of(client, cycle_id, jfb)
    assert "Entries on indicators that do not apply to this unit" in page and 'id="pt-S1"' in page
    refused = save(client, cycle_id, jfb, "S1", "3", "x", headers=HTMX)
    assert refused.status_code == 422 and "it does not apply to 经济发展办公室 (Department)" in text_of(refused)
    assert save(client, cycle_id, jfb, "S1", "", "", extra={"confirm": "1"}).status_code == 302
    assert stored(app, cycle_id) == {}


def test_the_progress_counts_only_the_entries_on_indicators_that_apply(app, client, auth):
    """An entry on an indicator that does not apply to the unit makes neither the unit complete nor
    counts as entered or verified."""
    cycle_id = make_cycle(app, tree_change=village_and_dzb_only)
    jfb = unit_id(app, "JFB")  # a department: neither S1 (villages) nor D1 (DZB) applies: 21 indicators
    with tenant(app, "zhen") as db:
        tree = settings_of(db.get(Cycle, cycle_id).settings).indicators
    fitting = [c.code for g in tree for c in g.children if c.code not in ("S1", "D1")]
    assert len(fitting) == 21
    with tenant(app, "zhen") as db:
        for code in fitting[:-1]:  # 20 of the 21
            db.add(IndicatorEntry(cycle_id=cycle_id, unit_id=jfb, code=code, points="1", evidence="台账",
                                  entered_by="cli"))
        db.add(IndicatorEntry(cycle_id=cycle_id, unit_id=jfb, code="S1", points="2", evidence="旧数据",
                              entered_by="cli", verified_by="cli", verified_at=utcnow()))
        db.commit()
    login(client, auth)
    overview = text_of(client.get(f"{BASE}/{cycle_id}/points"))
    facts = re.search(r'<dl class="facts">(.*?)</dl>', overview, re.S).group(1)
    assert re.search(r"Indicators entered</dt><dd>20 of 412<", facts)
    assert re.search(r"Units with every indicator entered</dt><dd>0 of 19<", facts)
    assert re.search(r"Entries verified</dt><dd>0 of 20<", facts)
    row = re.search(r'<tr>\s*<td><a href="[^"]*/points/%d">.*?</tr>' % jfb, overview, re.S).group(0)
    assert "20 / 21" in row and "✓" not in row


def test_an_entry_on_an_indicator_that_does_not_apply_is_not_verified(app, client, auth):
    cycle_id = make_cycle(app, tree_change=village_and_dzb_only)
    jfb = unit_id(app, "JFB")
    with tenant(app, "zhen") as db:
        db.add(IndicatorEntry(cycle_id=cycle_id, unit_id=jfb, code="S1", points="2", evidence="旧数据",
                              entered_by="cli"))
        db.commit()
    login(client, auth)
    stamp = row_stamp(client, cycle_id, jfb, "S1")
    assert stamp["entry"]
    page = page_of(client, cycle_id, jfb)
    assert "Mark verified" not in page  # not offered
    refused = client.post(f"{BASE}/{cycle_id}/points/{jfb}/indicators/S1/verify", data={**stamp, "note": ""},
                          headers=HTMX)
    assert refused.status_code == 409
    assert "S1 地区生产总值增长 does not apply to 经济发展办公室 (Department)" in text_of(refused)
    assert stored(app, cycle_id)[("JFB", "S1")][2] is None and actions(app) == []


# ----------------------------------------------------------------------------------- verification

def test_year_end_verification_marks_are_set_cleared_by_a_change_of_points_and_set_for_a_whole_unit(app, client, auth):
    cycle_id = make_cycle(app)
    v04 = unit_id(app, "V04")
    login(client, auth)
    for code, points in (("S1", "5"), ("S2", "4"), ("H1", "3")):
        assert save(client, cycle_id, v04, code, points, "年报").status_code == 302
    page = page_of(client, cycle_id, v04)
    assert "Year-end verification" in page and "0 of 3 entries verified" in page

    url = f"{BASE}/{cycle_id}/points/{v04}/indicators/S1/verify"
    first_read = row_stamp(client, cycle_id, v04, "S1")
    marked = client.post(url, data={**first_read, "note": "核对原始台账"},
                         headers=HTMX)
    assert marked.status_code == 200 and "✓ Verified" in row_html(marked) and "核对原始台账" in row_html(marked)
    assert stored(app, cycle_id)[("V04", "S1")][2:] == ("user:admin", "核对原始台账")
    assert "1 of 3 entries verified" in text_of(marked)

    # the evidence alone changes: the mark stays; the points change: the mark goes
    assert save(client, cycle_id, v04, "S1", "5", "年报(补充附件)").status_code == 302
    assert stored(app, cycle_id)[("V04", "S1")][2] == "user:admin"
    assert save(client, cycle_id, v04, "S1", "5.5", "年报(补充附件)").status_code == 302
    assert stored(app, cycle_id)[("V04", "S1")][2:] == (None, "")

    stale = client.post(url, data={**first_read, "note": ""}, headers=HTMX)
    assert stale.status_code == 409 and "meanwhile" in text_of(stale)
    long_note = client.post(url, data={**row_stamp(client, cycle_id, v04, "S1"), "note": "长" * 501},
                            headers=HTMX)
    assert long_note.status_code == 422 and "Verification note of S1 地区生产总值增长: 501 characters" in text_of(long_note)
    nothing = client.post(f"{BASE}/{cycle_id}/points/{v04}/indicators/D1/verify", data={**NONE, "note": ""},
                          headers=HTMX)
    assert nothing.status_code == 409 and "has no points entered: there is nothing to verify" in text_of(nothing)

    page = client.get(f"{BASE}/{cycle_id}/points/{v04}").get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]*)"', page).group(1)
    assert "Mark the 3 unverified entries verified" in html.unescape(page)
    assert save(client, cycle_id, v04, "H2", "1", "新录入").status_code == 302  # after the page was read
    refused = client.post(f"{BASE}/{cycle_id}/points/{v04}/verify", data={"seen": seen, "note": ""})
    assert refused.status_code == 409 and "changed since the page was opened; nothing was marked" in text_of(refused)
    assert all(v[2] is None for v in stored(app, cycle_id).values())
    seen = re.search(r'name="seen" value="([^"]*)"', client.get(f"{BASE}/{cycle_id}/points/{v04}")
                     .get_data(as_text=True)).group(1)
    done = client.post(f"{BASE}/{cycle_id}/points/{v04}/verify", data={"seen": seen, "note": "年终核查"},
                       follow_redirects=True)
    assert "4 entries of 北坪村 marked verified." in text_of(done) and "4 of 4 entries verified" in text_of(done)
    assert {v[2:] for v in stored(app, cycle_id).values()} == {("user:admin", "年终核查")}

    unmark = client.post(url, data={**row_stamp(client, cycle_id, v04, "S1"), "mark": "0"})
    assert unmark.status_code == 302 and stored(app, cycle_id)[("V04", "S1")][2] is None
    overview = text_of(client.get(f"{BASE}/{cycle_id}/points"))
    assert "Entries verified" in overview and "3 of 4" in overview
    assert actions(app).count("township.points.verify") == 5 and actions(app).count("township.points.unverify") == 1


def test_a_quarter_has_no_verification(app, client, auth):
    cycle_id = make_cycle(app, "2026-Q1", "一季度")
    v01 = unit_id(app, "V01")
    login(client, auth)
    assert save(client, cycle_id, v01, "S1", "5", "季报").status_code == 302
    page = page_of(client, cycle_id, v01)
    assert "Year-end verification" not in page and "Mark verified" not in page
    refused = client.post(f"{BASE}/{cycle_id}/points/{v01}/indicators/S1/verify",
                          data=row_stamp(client, cycle_id, v01, "S1"), headers=HTMX)
    assert refused.status_code == 409 and "Year-end verification (年终核查) is for annual cycles; 2026-Q1 is a quarter." \
        in text_of(refused)
    assert stored(app, cycle_id)[("V01", "S1")][2] is None


def test_a_published_cycle_keeps_its_points(app, client, auth):
    cycle_id = make_cycle(app)
    v01 = unit_id(app, "V01")
    login(client, auth)
    assert save(client, cycle_id, v01, "S1", "5", "年报").status_code == 302
    stamp = row_stamp(client, cycle_id, v01, "S1")
    with tenant(app, "zhen") as db:
        db.get(Cycle, cycle_id).state = "published"
        db.commit()
    page = page_of(client, cycle_id, v01)
    assert "This cycle is Published: its points no longer change." in page and 'name="points"' not in page
    refused = save(client, cycle_id, v01, "S1", "6", "年报", stamp=stamp, headers=HTMX)
    assert refused.status_code == 409 and "its points no longer change" in text_of(refused)
    verify = client.post(f"{BASE}/{cycle_id}/points/{v01}/indicators/S1/verify", data=stamp)
    assert verify.status_code == 409
    assert stored(app, cycle_id)[("V01", "S1")][:3] == ("5", "年报", None)


# ----------------------------------------------------------------------------------- the overview

def test_the_overview_shows_each_units_subtotals_and_the_progress_in_few_queries(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    for code in ("S1", "S2", "H1"):
        assert save(client, cycle_id, unit_id(app, "V05"), code, "3", "年报").status_code == 302
    assert save(client, cycle_id, unit_id(app, "DZB"), "D1", "2.5", "政务公开检查").status_code == 302
    page = text_of(client.get(f"{BASE}/{cycle_id}/points"))
    assert "Indicators entered" in page and "4 of 437" in page  # 19 units × 23
    assert "Units with every indicator entered" in page and "0 of 19" in page
    row = re.search(r'<tr>\s*<td><a href="[^"]*/points/%d">柳林村</a>.*?</tr>' % unit_id(app, "V05"), page, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", c).split() for c in re.findall(r'<td class="number">(.*?)</td>', row, re.S)]
    assert cells == [["6", "/", "40"], ["3", "/", "35"], ["0", "/", "25"], ["9", "/", "100"], ["3", "/", "23"],
                     ["0", "/", "3"]]
    villages = text_of(client.get(f"{BASE}/{cycle_id}/points?kind=village",
                                  headers={**HTMX, "HX-Target": "points-table"}))
    assert "<html" not in villages and "柳林村" in villages and "党政办公室" not in villages

    engine = app.extensions["jixiao.engine"]
    counted = []

    def count(*_args, **_kwargs):
        counted.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(f"{BASE}/{cycle_id}/points")
        few = len(counted)
        for unit in ("V06", "V07", "V08", "JFB", "SWB"):
            for code in ("S3", "H3", "D2"):
                save(client, cycle_id, unit_id(app, unit), code, "1", "年报")
        counted.clear()
        client.get(f"{BASE}/{cycle_id}/points")
        assert len(counted) == few <= 20  # not one query per unit or entry
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_cycle_links_to_its_points(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    page = client.get(f"/t/zhen/cycles/{cycle_id}").get_data(as_text=True)
    assert f'href="{BASE}/{cycle_id}/points"' in page


# ----------------------------------------------------------------------------------- who may

def test_who_reads_and_who_writes_the_points(app, client, auth):
    cycle_id = make_cycle(app)
    v01, v02, dzb = unit_id(app, "V01"), unit_id(app, "V02"), unit_id(app, "DZB")
    login(client, auth)
    assert save(client, cycle_id, v01, "S1", "5", "年报").status_code == 302
    stamp = row_stamp(client, cycle_id, v01, "S1")
    office = page_of(client, cycle_id, v01)  # the office gets the instructions and the actions column
    assert "Each row is saved on its own. Clearing a row removes its entry" in office
    assert '<td class="actions">' in office and ">Actions</span></th>" in office
    auth.logout("zhen")

    login(client, auth, "mayor")  # a leader reads every unit, writes nothing
    assert client.get(f"{BASE}/{cycle_id}/points").status_code == 200
    page = page_of(client, cycle_id, v01)
    assert "<strong>5</strong>" in page and 'name="points"' not in page and "Mark verified" not in page
    assert "Each row is saved on its own" not in page and "Clearing a row" not in page  # no editing instructions
    assert '<td class="actions">' not in page and ">Actions</span></th>" not in page  # no empty actions column
    assert "One row per second-level indicator that applies to this unit" in page
    assert save(client, cycle_id, v01, "S1", "6", "x", stamp=stamp).status_code == 403
    verify = f"{BASE}/{cycle_id}/points/{v01}/indicators/S1/verify"
    assert client.post(verify, data=stamp).status_code == 403
    assert client.post(f"{BASE}/{cycle_id}/points/{v01}/verify", data={"seen": ""}).status_code == 403
    auth.logout("zhen")

    login(client, auth, "qichanglin")  # the head of V01 reads V01 only
    own = page_of(client, cycle_id, v01)
    assert re.search(r'<tr id="pt-S1".*?<strong>5</strong>.*?</tr>', own, re.S) and 'name="points"' not in own
    assert "Each row is saved on its own" not in own and '<td class="actions">' not in own
    assert client.get(f"{BASE}/{cycle_id}/points/{v02}").status_code == 403
    assert client.get(f"{BASE}/{cycle_id}/points/{dzb}").status_code == 403
    overview = text_of(client.get(f"{BASE}/{cycle_id}/points"))
    assert "东岭村" in overview and "西溪村" not in overview and "党政办公室" not in overview
    assert save(client, cycle_id, v01, "S1", "6", "x", stamp=stamp).status_code == 403
    auth.logout("zhen")

    login(client, auth, "luxiaoyan")  # the head of DZB
    assert client.get(f"{BASE}/{cycle_id}/points/{dzb}").status_code == 200
    assert client.get(f"{BASE}/{cycle_id}/points/{v01}").status_code == 403
    auth.logout("zhen")

    for outsider in ("surveyor1", "employee"):
        login(client, auth, outsider)
        assert client.get(f"{BASE}/{cycle_id}/points").status_code == 403
        assert client.get(f"{BASE}/{cycle_id}/points/{v01}").status_code == 403
        assert f"{BASE}/{cycle_id}/points" not in client.get(f"/t/zhen/cycles/{cycle_id}").get_data(as_text=True)
        auth.logout("zhen")
    assert stored(app, cycle_id)[("V01", "S1")][0] == "5"


def test_other_tenants_cycles_and_units_outside_the_cycle_are_not_found(app, client, auth):
    cycle_id = make_cycle(app)
    town = unit_id(app, "TOWN")  # the office: not a unit the scheme scores
    with tenant(app, "jituan") as db:
        other = cycles.create_cycle("corporate-grading", "2026-09", "9月", {}, "test")
        db.commit()
        other_id = other.id
        other_unit = db.scalar(select(OrgUnit.id).limit(1))
    login(client, auth)
    assert client.get(f"{BASE}/{other_id}/points").status_code == 404
    assert client.get(f"{BASE}/{other_id}/points/{unit_id(app, 'V01')}").status_code == 404
    assert client.post(f"{BASE}/{other_id}/points/{unit_id(app, 'V01')}/indicators/S1",
                       data={"points": "1", "evidence": "x", **NONE}).status_code == 404
    assert client.get(f"{BASE}/{cycle_id}/points/{town}").status_code == 404
    assert client.get(f"{BASE}/{cycle_id}/points/{other_unit}").status_code == 404
    assert client.get(f"{BASE}/{cycle_id}/points/{unit_id(app, 'V01')}/indicators/NOPE").status_code == 404
    assert client.get(f"{BASE}/999999/points").status_code == 404
