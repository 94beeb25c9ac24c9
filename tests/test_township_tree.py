"""The township's indicator tree admin (issue 7, item 1): who reads and who changes the tree, the
sums per group, tree and unit kind, every validation error next to its field, the version that
refuses a save over a newer tree, adding / editing / moving / removing (confirmed) first- and
second-level indicators, restoring the default tree, the audit trail, and a cycle keeping the tree
it was created with."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, TenantScheme
from plugins.gov_public_evaluation import settings_of
from plugins.gov_public_evaluation.indicators import DEFAULT_INDICATORS
from tests.test_cycles import tenant

BASE = "/t/zhen/township/indicators"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login(client, auth, username="admin"):
    client.post("/lang", data={"locale": "en"})
    assert auth.login("zhen", username).status_code == 302


def version(client, url=BASE) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)


def stored(app) -> dict:
    with tenant(app, "zhen") as db:
        return dict(db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation")).settings)


def tree(app) -> list[dict]:
    """The tree as the tenant's settings give it (defaults filled in)."""
    return settings_of(stored(app)).model_dump(mode="json")["indicators"]


def leaf(app, code) -> dict:
    return next(c for g in tree(app) for c in g["children"] if c["code"] == code)


def codes(app) -> list[tuple[str, list[str]]]:
    return [(g["code"], [c["code"] for c in g["children"]]) for g in tree(app)]


def audit_actions(app) -> list[str]:
    with tenant(app, "zhen") as db:
        return list(db.scalars(select(AuditLog.action).where(AuditLog.object_type == "TenantScheme",
                                                             AuditLog.action.startswith("township.tree."))
                               .order_by(AuditLog.id)))


def edit(client, code, values, ver=None, **kwargs):
    data = {"version": ver if ver is not None else version(client, f"{BASE}/{code}/edit"), **values}
    return client.post(f"{BASE}/{code}/edit", data=data, **kwargs)


S1 = {"code": "S1", "name": "地区生产总值增长", "max": "6", "group": "S"}


# ----------------------------------------------------------------------------------- reading

def test_the_tree_with_its_sums_for_everyone_who_reads_it_and_the_links_to_change_it_for_the_office(app, client, auth):
    login(client, auth)
    page = text_of(client.get(BASE))
    assert "可持续发展" in page and "地区生产总值增长" in page and "绩效管理与信息报送" in page
    assert "Σ 40" in page and "Σ 35" in page and "Σ 25" in page and "Σ 100" in page  # the default tree's sums
    assert "3 first-level, 23 second-level indicators" in page
    assert "A cycle keeps the indicator tree it was created with" in page
    assert re.search(r"12 unit\(s\)", page) and re.search(r"7 unit\(s\)", page)  # villages and departments, out of 100
    assert "Not every unit is scored out of the same maximum" not in page
    assert f'href="{BASE}/S1/edit"' in page and f'href="{BASE}/new"' in page and f'href="{BASE}/S/remove"' in page
    assert "Restore the default tree" not in page  # it is the default tree
    menu = re.search(r'<nav class="menu".*?</nav>', page, re.S).group(0)
    assert f'href="{BASE}"' in menu and "Indicators" in menu

    for reader in ("mayor", "luxiaoyan"):
        auth.logout("zhen")
        login(client, auth, reader)
        page = text_of(client.get(BASE))
        assert "地区生产总值增长" in page and "Σ 100" in page
        assert f"{BASE}/S1/edit" not in page and f"{BASE}/new" not in page
        assert client.get(f"{BASE}/S1/edit").status_code == 403
        assert client.post(f"{BASE}/S1/edit", data={**S1, "max": "9", "version": "x"}).status_code == 403
        assert client.post(f"{BASE}/S1/move", data={"direction": "down", "version": "x"}).status_code == 403
        assert client.get(f"{BASE}/S1/remove").status_code == 403
        assert client.get(f"{BASE}/restore").status_code == 403
    for outsider in ("surveyor1", "employee"):
        auth.logout("zhen")
        login(client, auth, outsider)
        assert client.get(BASE).status_code == 403
        assert f'href="{BASE}"' not in client.get("/t/zhen/").get_data(as_text=True)
    assert leaf(app, "S1")["max"] == "6"


def test_a_tenant_without_the_scheme_has_no_tree_pages(app, client, auth):
    client.post("/lang", data={"locale": "en"})
    assert auth.login("jituan", "hr").status_code == 302
    assert client.get("/t/jituan/township/indicators").status_code == 404
    assert client.get("/t/jituan/township/indicators/S1/edit").status_code == 404


def test_an_unknown_indicator_is_not_found(app, client, auth):
    login(client, auth)
    for url in (f"{BASE}/NOPE/edit", f"{BASE}/NOPE/remove", f"{BASE}/NOPE/new", f"{BASE}/S1/new"):
        assert client.get(url).status_code == 404, url


# ----------------------------------------------------------------------------------- editing

def test_the_office_edits_an_indicator_and_only_the_cycles_created_afterwards_get_it(app, client, auth):
    with tenant(app, "zhen") as db:
        before = cycles.create_cycle("gov-public-evaluation", "2026-Q1", "一季度", {}, "test")
        db.commit()
        before_id = before.id
    login(client, auth)
    form = text_of(client.get(f"{BASE}/S1/edit"))
    assert 'value="地区生产总值增长"' in form and 'value="6"' in form
    group_form = text_of(client.get(f"{BASE}/new"))
    assert "reward:" not in group_form and "accountability:" not in group_form  # no flag syntax: words
    assert "Rewards and accountability are decided per first-level indicator" in group_form
    response = edit(client, "S1", {**S1, "name": "地区生产总值(GDP)增长", "max": "8.50", "unit_kinds": "village",
                                   "unit_codes": "DZB, JFB"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/indicators#ind-S1")
    assert leaf(app, "S1") == {"code": "S1", "name": "地区生产总值(GDP)增长", "max": "8.5",
                               "units": ["village", "DZB", "JFB"]}
    page = text_of(client.get(BASE))
    assert "Saved second-level indicator S1 地区生产总值(GDP)增长." in page
    assert "All villages, 党政办公室 (DZB), 经济发展办公室 (JFB)" in page
    assert "Σ 42.5" in page and "Σ 102.5" in page
    # villages and DZB/JFB out of 102.5, the other departments out of 94: the office is told
    assert "Not every unit is scored out of the same maximum" in page
    assert "102.5" in page and ">94<" in page.replace(" ", "")
    assert "This organisation's own tree." in page and "Restore the default tree" in page
    assert "1 cycle(s) not yet published keep their own tree; 1 of them differ from this one." in page

    with tenant(app, "zhen") as db:
        old = db.get(Cycle, before_id)
        assert next(c for g in settings_of(old.settings).indicators for c in g.children if c.code == "S1").max == 6
        after = cycles.create_cycle("gov-public-evaluation", "2026-Q2", "二季度", {}, "test")
        new_leaf = next(c for g in settings_of(after.settings).indicators for c in g.children if c.code == "S1")
        assert str(new_leaf.max) == "17/2" and new_leaf.units == ["village", "DZB", "JFB"]
        entry = db.scalar(select(AuditLog).where(AuditLog.action == "township.tree.indicator_edit"))
        assert entry.actor == "user:admin"
        assert entry.before["item"]["max"] == "6" and entry.after["item"]["max"] == "8.5"
        assert entry.after["version"] != entry.before["version"]
        assert any(c["code"] == "S1" and c["max"] == "8.5" for g in entry.after["indicators"] for c in g["children"])


def test_a_group_is_renamed_and_an_indicator_moves_to_another_group(app, client, auth):
    login(client, auth)
    assert edit(client, "S", {"code": "SD", "name": "可持续发展(经济)"}).status_code == 302
    assert edit(client, "S9", {"code": "S9", "name": "新农村建设", "max": "3", "group": "H"}).status_code == 302
    groups = dict(codes(app))
    assert "S" not in groups and groups["SD"][-1] == "S8" and groups["H"][-1] == "S9"
    assert tree(app)[0]["name"] == "可持续发展(经济)"
    assert audit_actions(app) == ["township.tree.group_edit", "township.tree.indicator_edit"]


@pytest.mark.parametrize("values, field, message", [
    ({"code": "S 1"}, "code", "Code: “S 1” is not allowed: a code is 1 to 32 letters, digits, “_”, “.” or “-”."),
    ({"code": "S2"}, "code", "Code: “S2” is already the code of second-level indicator S2 财政一般预算收入; codes are "
                             "unique across the tree (first and second level)."),
    ({"code": "H"}, "code", "Code: “H” is already the code of first-level indicator H 和谐社会构建"),
    ({"code": ""}, "code", "Code: required."),
    ({"name": "  "}, "name", "Name: required."),
    ({"name": "长" * 101}, "name", "Name: 101 characters; allowed: at most 100."),
    ({"max": "abc"}, "max",
     "Maximum points: “abc” is not a number; allowed: an exact decimal above 0, such as 5 or 2.5."),
    ({"max": "0"}, "max", "Maximum points: 0 is not allowed: a maximum is above 0."),
    ({"max": "-1.5"}, "max", "Maximum points: -1.5 is not allowed: a maximum is above 0."),
    ({"max": "1e3"}, "max", "Maximum points: “1e3” is not a number"),
    ({"max": "12345678901234567"}, "max",
     "Maximum points: “12345678901234567” is too long; allowed: at most 16 characters."),
    ({"unit_codes": "V01 V99"}, "units", "Applies to: “V99” is not the code of a village or department of this town; "
                                         "allowed: tick “All villages” or “All departments”, or list codes of "
                                         "villages and departments (DZB, JFB,"),
    ({"unit_codes": "TOWN"}, "units", "Applies to: “TOWN” is not the code of a village or department of this town"),
    ({"group": "ZZ"}, "group",
     "First-level indicator: “ZZ” is not a first-level indicator of the tree; allowed: S, H, D."),
])
def test_every_validation_error_is_shown_next_to_its_field_and_nothing_is_saved(app, client, auth, values, field,
                                                                                message):
    login(client, auth)
    settings = stored(app)
    response = edit(client, "S1", {**S1, **values}, headers={"HX-Request": "true", "HX-Target": "tree-form"})
    page = text_of(response)
    assert response.status_code == 422 and "<html" not in page  # the form's block alone
    assert message in page
    errors = re.search(rf'<ul class="errors" id="tf-{field}-errors">(.*?)</ul>', page, re.S)
    assert errors and message in errors.group(1)  # next to its field
    assert "Not saved: correct the fields marked in the form." in page
    assert "the kinds village and department" not in page  # the kinds by their names, not their keys
    assert stored(app) == settings and audit_actions(app) == []


def test_a_new_group_reports_the_errors_of_its_first_indicator_on_that_indicators_fields(app, client, auth):
    login(client, auth)
    ver = version(client, f"{BASE}/new")
    response = client.post(f"{BASE}/new", data={"version": ver, "code": "bad code", "name": "新指标",
                                                 "child_code": "S1", "child_name": "", "child_max": "0"})
    page = text_of(response)
    assert response.status_code == 422
    assert re.search(r'id="tf-code-errors">\s*<li>Code: “bad code” is not allowed', page)
    assert re.search(r'id="tf-child_code-errors">\s*<li>Code: “S1” is already the code of second-level indicator S1',
                     page)
    assert re.search(r'id="tf-child_name-errors">\s*<li>Name: required.', page)
    assert re.search(r'id="tf-child_max-errors">\s*<li>Maximum points: 0 is not allowed', page)
    assert 'value="新指标"' in page  # what was typed is shown again
    assert len(tree(app)) == 3


def test_a_save_over_a_newer_tree_is_refused(app, client, auth):
    login(client, auth)
    old = version(client, f"{BASE}/S1/edit")
    assert edit(client, "S2", {"code": "S2", "name": "财政收入", "max": "5", "group": "S"}).status_code == 302
    response = edit(client, "S1", {**S1, "max": "7"}, ver=old)
    page = text_of(response)
    assert response.status_code == 409
    assert "The indicator tree was changed by someone else since this page was opened (last change: " in page
    assert "Nothing was saved: reload the tree, then make your change again." in page
    assert 'value="7"' in page  # the typed value stays on the form
    assert leaf(app, "S1")["max"] == "6" and leaf(app, "S2")["name"] == "财政收入"
    moved = client.post(f"{BASE}/S1/move", data={"direction": "down", "version": old}, follow_redirects=True)
    assert "The indicator tree was changed by someone else" in text_of(moved)  # flashed on the tree
    for url, data in ((f"{BASE}/S3/remove", {}), (f"{BASE}/restore", {}),
                      (f"{BASE}/new", {"code": "X", "name": "x", "child_code": "X1", "child_name": "x",
                                       "child_max": "1"})):
        refused = client.post(url, data={**data, "version": old})
        assert refused.status_code == 409 and "changed by someone else" in text_of(refused), url
    assert codes(app)[0][1][:3] == ["S1", "S2", "S3"] and len(tree(app)) == 3
    assert audit_actions(app) == ["township.tree.indicator_edit"]


def test_adding_moving_and_removing_with_a_confirmation(app, client, auth):
    login(client, auth)
    added = client.post(f"{BASE}/new", data={"version": version(client, f"{BASE}/new"), "code": "X", "name": "特色工作",
                                             "child_code": "X1", "child_name": "亮点工作", "child_max": "2",
                                             "child_unit_kinds": "village"})
    assert added.status_code == 302
    assert client.post(f"{BASE}/X/new", data={"version": version(client, f"{BASE}/X/new"), "code": "X2",
                                              "name": "创新工作", "max": "1.5"}).status_code == 302
    assert codes(app)[-1] == ("X", ["X1", "X2"])
    assert tree(app)[-1]["children"][0]["units"] == ["village"] and tree(app)[-1]["children"][1]["units"] == []
    assert "Σ 3.5" in text_of(client.get(BASE)) and "Σ 103.5" in text_of(client.get(BASE))

    assert client.post(f"{BASE}/X2/move", data={"direction": "up", "version": version(client)}).status_code == 302
    assert codes(app)[-1] == ("X", ["X2", "X1"])
    assert client.post(f"{BASE}/X/move", data={"direction": "up", "version": version(client)}).status_code == 302
    assert [g for g, _c in codes(app)] == ["S", "H", "X", "D"]
    assert client.post(f"{BASE}/S/move", data={"direction": "up", "version": version(client)}).status_code == 302
    assert [g for g, _c in codes(app)] == ["S", "H", "X", "D"]  # already first: nothing moves

    confirm = text_of(client.get(f"{BASE}/X1/remove"))
    assert "Delete this second-level indicator?" in confirm and "The cycles created before keep their tree" in confirm
    assert re.search(r'<button type="submit" class="danger">Delete</button>', confirm)  # as the link says
    assert codes(app)[2] == ("X", ["X2", "X1"])  # nothing removed by looking
    assert client.post(f"{BASE}/X1/remove", data={"version": version(client, f"{BASE}/X1/remove")}).status_code == 302
    assert codes(app)[2] == ("X", ["X2"])
    page = text_of(client.get(BASE))
    assert f'<a href="{BASE}/X/remove">Delete…</a>' in page  # the link and the button say the same
    assert f"{BASE}/X2/remove" not in page  # the last one of its group: remove the group instead
    last = client.post(f"{BASE}/X2/remove", data={"version": version(client)})
    assert last.status_code == 409 and "Remove X 特色工作 instead" in text_of(last)

    confirm = text_of(client.get(f"{BASE}/X/remove"))
    assert "Delete this first-level indicator and its 1 second-level indicator(s)?" in confirm
    assert "X2 创新工作 (maximum 1.5)" in confirm
    removed = client.post(f"{BASE}/X/remove", data={"version": version(client, f"{BASE}/X/remove")},
                          headers={"HX-Request": "true", "HX-Target": "confirm"})
    assert removed.status_code == 204 and removed.headers["HX-Redirect"].endswith("/indicators")
    assert [g for g, _c in codes(app)] == ["S", "H", "D"]
    assert audit_actions(app) == ["township.tree.group_add", "township.tree.indicator_add", "township.tree.move",
                                  "township.tree.move", "township.tree.indicator_remove", "township.tree.group_remove"]


def test_restoring_the_default_tree(app, client, auth):
    login(client, auth)
    assert edit(client, "S1", {**S1, "max": "9"}).status_code == 302
    confirm = text_of(client.get(f"{BASE}/restore"))
    assert "3 first-level and 23 second-level indicators whose maxima sum to 100" in confirm
    assert client.post(f"{BASE}/restore", data={"version": version(client, f"{BASE}/restore")}).status_code == 302
    assert "indicators" not in stored(app)
    assert [(g["code"], [c["code"] for c in g["children"]]) for g in tree(app)] == \
        [(g["code"], [c["code"] for c in g["children"]]) for g in DEFAULT_INDICATORS]
    assert leaf(app, "S1")["max"] == "6"
    page = text_of(client.get(BASE))
    assert "The default tree (a default" in page and "Restore the default tree" not in page
    assert audit_actions(app)[-1] == "township.tree.restore_default"


def test_a_unit_code_the_organisation_no_longer_has_is_flagged_on_the_tree(app, client, auth):
    with tenant(app, "zhen") as db:
        row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation"))
        groups = settings_of(row.settings).model_dump(mode="json")["indicators"]
        groups[0]["children"][0]["units"] = ["V01", "V77"]
        row.settings = {**row.settings, "indicators": groups}
        db.commit()
    login(client, auth)
    page = text_of(client.get(BASE))
    assert "Some indicators name units this organisation no longer has" in page and "unknown: V77" in page
    # editing another indicator is not blocked by it
    assert edit(client, "S2", {"code": "S2", "name": "财政一般预算收入", "max": "5.5", "group": "S"}).status_code == 302
    assert leaf(app, "S2")["max"] == "5.5"


# ----------------------------------------------------------------------------------- applying to cycles

def cycle_row(app, cycle_id) -> tuple[str, dict, object]:
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        return cycle.state, dict(cycle.settings), cycle.computed_at


def s1_max(settings) -> str:
    """The maximum of S1 in a cycle's tree."""
    return str(next(c.max for g in settings_of(settings).indicators for c in g.children if c.code == "S1"))


def confirmation(client) -> tuple[str, dict]:
    """The confirmation page and its form's fields (version, seen)."""
    page = client.get(f"{BASE}/apply").get_data(as_text=True)
    fields = dict(re.findall(r'name="(version|seen)" value="([^"]*)"', page))
    return html.unescape(page), fields


def test_the_office_applies_the_current_tree_to_the_cycles_without_points(app, client, auth, monkeypatch):
    from core.models import CycleResult, OrgUnit
    from plugins.gov_public_evaluation import derived
    from plugins.gov_public_evaluation.points.models import IndicatorEntry

    with tenant(app, "zhen") as db:
        draft = cycles.create_cycle("gov-public-evaluation", "2026-Q1", "一季度", {}, "test")
        opened = cycles.create_cycle("gov-public-evaluation", "2026-Q2", "二季度", {}, "test")
        entered = cycles.create_cycle("gov-public-evaluation", "2026-Q3", "三季度", {}, "test")
        review = cycles.create_cycle("gov-public-evaluation", "2026-Q4", "四季度", {}, "test")
        published = cycles.create_cycle("gov-public-evaluation", "2025", "上年度", {}, "test")
        db.flush()
        cycles.transition(opened, "open", "test")
        opened.settings = {**opened.settings, "reward_top": 5}  # one of its own settings: it stays
        opened.computed_at = cycles.now()  # results computed from its old tree (a preview)
        subject = db.scalar(select(cycles.CycleSubject).where(cycles.CycleSubject.cycle_id == opened.id).limit(1))
        db.add(CycleResult(cycle_id=opened.id, subject_id=subject.id, score=0, rank=1, flags=[], extra={},
                           computed_at=opened.computed_at))
        review.state, published.state = "review", "published"
        v01 = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V01"))
        db.add(IndicatorEntry(cycle_id=entered.id, unit_id=v01, code="S1", points="3", evidence="年报",
                              entered_by="cli"))
        db.commit()
        ids = {c.name: c.id for c in (draft, opened, entered, review, published)}
    login(client, auth)
    page = text_of(client.get(BASE))
    assert f'href="{BASE}/apply"' not in page  # every cycle has this tree
    assert edit(client, "S1", {**S1, "max": "8.5"}).status_code == 302
    page = text_of(client.get(BASE))
    assert "4 cycle(s) not yet published keep their own tree; 4 of them differ from this one." in page
    assert f'<a href="{BASE}/apply">Apply this tree to the 2 cycle(s) without points…</a>' in page

    page, fields = confirmation(client)
    changing = page[page.index("Cycles that get the current tree"):page.index("Cycles that keep their own tree")]
    kept = page[page.index("Cycles that keep their own tree"):]
    assert "一季度" in changing and "二季度" in changing and "三季度" not in changing and "四季度" not in changing
    assert "3 first-level, 23 second-level indicators" in changing and "Σ 100" in changing  # their tree now
    assert re.search(r"三季度.*?1 points entries were entered on its own tree, which stays", kept, re.S)
    assert re.search(r"四季度.*?It is in review", kept, re.S)
    assert "上年度" not in page  # published: final
    assert "Apply the current tree to these 2 cycle(s)" in page
    assert [seen.split(":")[0] for seen in fields["seen"].split()] == [str(ids["一季度"]), str(ids["二季度"])]
    assert s1_max(cycle_row(app, ids["一季度"])[1]) == "6"  # nothing changed by looking

    refreshed = []
    real = derived.refresh
    monkeypatch.setattr(derived, "refresh", lambda cycle, actor, unit_ids=None: (refreshed.append(cycle.id),
                                                                                  real(cycle, actor, unit_ids))[1])
    done = client.post(f"{BASE}/apply", data=fields, follow_redirects=True)
    assert done.status_code == 200 and "The current indicator tree now applies to 2 cycle(s): 一季度, 二季度." in \
        text_of(done)
    current = stored(app)["indicators"]
    for name in ("一季度", "二季度"):
        _state, settings, computed = cycle_row(app, ids[name])
        assert settings["indicators"] == current and computed is None and s1_max(settings) == "17/2"
    assert cycle_row(app, ids["二季度"])[1]["reward_top"] == 5  # its other settings stay
    assert sorted(refreshed) == sorted([ids["一季度"], ids["二季度"]])
    for name in ("三季度", "四季度", "上年度"):
        assert s1_max(cycle_row(app, ids[name])[1]) == "6"  # the tree they were created with
    with tenant(app, "zhen") as db:
        assert db.scalar(select(func.count()).select_from(CycleResult)
                         .where(CycleResult.cycle_id == ids["二季度"])) == 0
        audit = list(db.scalars(select(AuditLog).where(AuditLog.action == "township.tree.apply")
                                .order_by(AuditLog.object_id)))
        assert {(a.object_type, int(a.object_id)) for a in audit} == {("Cycle", ids["一季度"]), ("Cycle", ids["二季度"])}
        assert all(a.actor == "user:admin" and a.after["indicators"] == current for a in audit)
        assert any(a.before["computed_at"] and a.after["results_removed"] == 1 for a in audit)
        assert all(next(c for g in a.before["indicators"] for c in g["children"] if c["code"] == "S1")["max"] == "6"
                   for a in audit)
    assert audit_actions(app)[-1] == "township.tree.indicator_edit"  # "last changed" stays the tree's change

    page, fields = confirmation(client)
    assert "No cycle to change" in page and "seen" not in fields and "It has the current tree already." in page
    page = text_of(client.get(BASE))
    assert "4 cycle(s) not yet published keep their own tree; 2 of them differ from this one." in page
    assert f'href="{BASE}/apply"' not in page  # the two that differ keep their tree: nothing to apply


def test_applying_is_refused_when_the_cycles_or_the_tree_changed_since_the_confirmation(app, client, auth):
    from core.models import OrgUnit
    from plugins.gov_public_evaluation.points.models import IndicatorEntry

    with tenant(app, "zhen") as db:
        first = cycles.create_cycle("gov-public-evaluation", "2026-Q1", "一季度", {}, "test")
        second = cycles.create_cycle("gov-public-evaluation", "2026-Q2", "二季度", {}, "test")
        db.commit()
        first_id, second_id = first.id, second.id
    login(client, auth)
    assert edit(client, "S1", {**S1, "max": "7"}).status_code == 302
    _page, fields = confirmation(client)
    with tenant(app, "zhen") as db:  # points are entered in one of the listed cycles meanwhile
        db.add(IndicatorEntry(cycle_id=first_id, unit_id=db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V02")),
                              code="S2", points="1", evidence="台账", entered_by="cli"))
        db.commit()
    refused = client.post(f"{BASE}/apply", data=fields)
    page = text_of(refused)
    assert refused.status_code == 409 and "The cycles changed since this page was opened" in page
    assert re.search(r"一季度.*?1 points entries were entered on its own tree", page, re.S)  # the list anew
    assert s1_max(cycle_row(app, first_id)[1]) == s1_max(cycle_row(app, second_id)[1]) == "6"

    _page, fields = confirmation(client)
    assert edit(client, "S2", {"code": "S2", "name": "财政收入", "max": "5", "group": "S"}).status_code == 302
    stale = client.post(f"{BASE}/apply", data=fields, headers={"HX-Request": "true", "HX-Target": "confirm"})
    assert stale.status_code == 409 and "The indicator tree was changed by someone else" in text_of(stale)
    assert "<html" not in text_of(stale)  # the confirmation's block
    assert s1_max(cycle_row(app, second_id)[1]) == "6"
    assert not [a for a in audit_actions(app) if a == "township.tree.apply"]

    auth.logout("zhen")
    login(client, auth, "mayor")  # leaders read the tree; only the office applies it
    assert f"{BASE}/apply" not in text_of(client.get(BASE))
    assert client.get(f"{BASE}/apply").status_code == 403
    assert client.post(f"{BASE}/apply", data=fields).status_code == 403
