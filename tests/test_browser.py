"""In a real browser (Debian's headless Chromium driven by Playwright): live search, inline edit
with its toast, and no content-security-policy violation on the way."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(live_server, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("JIXIAO_REQUIRE_BROWSER"):
            pytest.fail("JIXIAO_REQUIRE_BROWSER is set but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.problems = []
        page.on("console", lambda msg: msg.type == "error" and page.problems.append(msg.text))
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.base = live_server
        yield page
        browser.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def login(page, tenant="jituan", username="hr"):
    page.goto(f"{page.base}/t/{tenant}/login")
    page.fill("#username", username)
    page.fill("#password", "jixiao-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{page.base}/t/{tenant}/")


def test_live_search_and_inline_edit(page):
    login(page)
    page.goto(f"{page.base}/t/jituan/org/people")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 25  # first page
    page.evaluate("window.__marker = 'same page'")  # survives only if no full reload happens
    first = rows.first.locator("td").nth(1).inner_text()
    page.fill("input[name=q]", first)
    expect(rows).to_have_count(1)
    assert page.evaluate("window.__marker") == "same page"
    assert f"q={first}" in page.url or "q=" in page.url  # the search is in the address bar

    row = page.locator("#results tbody tr").first
    row.get_by_role("link", name="编辑").click()
    position = page.locator("#results tbody tr input[name=position]")
    position.wait_for()
    position.fill("浏览器里改的岗位")
    page.locator("#results tbody tr").get_by_role("button", name="保存").click()
    page.wait_for_selector("#results tbody tr:not(.editing)")
    assert "浏览器里改的岗位" in page.locator("#results tbody tr").first.inner_text()
    page.wait_for_selector("#toast .flash.success")
    assert page.problems == [], page.problems

    page.reload()
    assert "浏览器里改的岗位" in page.locator("#results").inner_text()


def test_conflicting_inline_edit_is_shown_not_overwritten(page):
    login(page)
    page.goto(f"{page.base}/t/jituan/org/units?q=FIN")
    page.locator("#results tbody tr").first.get_by_role("link", name="编辑").click()
    name = page.locator("#results tbody tr input[name=name]")
    name.wait_for()
    # someone else saves the same unit in another tab meanwhile
    other = page.context.new_page()
    other.goto(f"{page.base}/t/jituan/org/units?q=FIN")
    other.locator("#results tbody tr").first.get_by_role("link", name="编辑").click()
    other.locator("#results tbody tr input[name=name]").fill("财务中心")
    other.locator("#results tbody tr").get_by_role("button", name="保存").click()
    other.wait_for_selector("#results tbody tr:not(.editing)")
    name.fill("财务部(我的修改)")
    page.locator("#results tbody tr").get_by_role("button", name="保存").click()
    page.wait_for_selector("#results tbody tr.editing .flash.error")
    assert "他人" in page.locator("#results tbody tr.editing").inner_text() or \
           "someone else" in page.locator("#results tbody tr.editing").inner_text()
    other.reload()
    assert "财务中心" in other.locator("#results").inner_text()


def test_fill_a_scorecard_see_autosave_and_live_total_then_publish(app, page):
    """The cycle workflow in a real browser: HR fills a unit's scorecard item by item, sees each
    change saved and the total follow, then sends the cycle to review, computes and publishes."""
    from sqlalchemy import select

    from core.cycles import service
    from core.db import db_session
    from core.models import Tenant
    from core.tenancy import set_tenant
    from tests.test_cycles import fill_corporate_inputs

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        cycle = service.create_cycle("corporate-grading", "2026-09", "浏览器周期", {}, "test")
        service.transition(cycle, "open", "test")
        fill_corporate_inputs(cycle)
        fin = next(s for s in service.subjects(cycle) if s.code == "FIN")
        # FIN's scorecard is left for the browser; its plan counts come from its checked plan sheet
        service.set_inputs(fin, cycle, {"plan": {"planned": 3, "completed": 2}}, fin.inputs_version, "test")
        db_session.commit()
        cycle_id, fin_id = cycle.id, fin.id

    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm before publishing
    login(page)
    page.goto(f"{page.base}/t/jituan/cycles/{cycle_id}/inputs/{fin_id}")
    page.check("input[name=form__mode][value=items]")
    add = page.locator("button[hx-get*='item-row']")
    add.click()
    page.locator("input[name='form_items-0-name']").wait_for()
    page.fill("input[name='form_items-0-name']", "营业收入")
    page.fill("input[name='form_items-0-weight']", "0.6")
    page.fill("input[name='form_items-0-actual']", "105")
    page.fill("input[name='form_items-0-threshold']", "90")
    page.fill("input[name='form_items-0-target']", "100")
    add.click()  # the button now asks for row 1
    page.locator("input[name='form_items-1-name']").wait_for()
    page.fill("input[name='form_items-1-name']", "服务满意度")
    page.fill("input[name='form_items-1-weight']", "0.4")
    page.select_option("select[name='form_items-1-kind']", "qualitative")
    page.select_option("select[name='form_items-1-level']", "satisfied")
    # each change is saved as it happens; the total follows: 0.6 × 5 + 0.4 × 4 = 4.60
    expect(page.locator("#total-form")).to_contain_text("4.60", timeout=10_000)
    expect(page.locator("#save-status")).to_contain_text("已保存")
    page.reload()
    expect(page.locator("input[name='form_items-0-name']")).to_have_value("营业收入")
    expect(page.locator("input[name='form_items-1-name']")).to_have_value("服务满意度")

    page.goto(f"{page.base}/t/jituan/cycles/{cycle_id}")
    page.locator("form:has(input[name=target][value=review]) button").click()
    page.wait_for_selector("form:has(input[name=target][value=published])")
    page.locator("form[action$='/compute'] button").click()
    page.wait_for_url(f"**/cycles/{cycle_id}/results**")
    page.goto(f"{page.base}/t/jituan/cycles/{cycle_id}")
    page.locator("form:has(input[name=target][value=published]) button").click()
    page.wait_for_selector("form:has(input[name=target][value=closed])")
    page.goto(f"{page.base}/t/jituan/cycles/{cycle_id}/results?kind=unit")
    expect(page.locator("svg")).to_have_count(1)  # the grade distribution
    assert "FIN" in page.locator("table").first.inner_text()
    assert page.problems == [], page.problems


def test_a_responsibility_letter_is_written_goal_by_goal_with_its_checks(app, page):
    """HR writes a unit's letter in the browser: each goal is added in place, the weight total
    follows, a 31% goal is flagged against the 5–30% guidance, and signing waits for 100%."""
    from sqlalchemy import select

    from core.db import db_session
    from core.models import OrgUnit, Tenant
    from core.tenancy import set_tenant
    from plugins.corporate_grading.letters.models import ResponsibilityLetter

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        fin = db_session.scalar(select(OrgUnit.id).where(OrgUnit.code == "FIN"))
        letter = ResponsibilityLetter(year="2026", unit_id=fin, created_by="test")
        db_session.add(letter)
        db_session.commit()
        letter_id = letter.id

    login(page)
    page.goto(f"{page.base}/t/jituan/corporate/letters/{letter_id}")
    page.evaluate("window.__marker = 'same page'")
    for name, weight in (("营业收入完成率", "31"), ("成本费用控制率", "30"), ("安全质量事故", "20")):
        page.fill("#new-name", name)
        page.fill("#new-weight", weight)
        page.select_option("#new-kind", "qualitative")
        page.locator("form[hx-post$='/goals'] button[type=submit]").click()
        expect(page.locator("#goals-table")).to_contain_text(name)
    expect(page.locator("#weight-total")).to_have_text("81%")
    expect(page.locator("#goals-table")).to_contain_text("31")
    assert "30%" in page.locator("#goals-table tbody tr").first.inner_text()  # the guidance named on the 31% goal
    assert page.evaluate("window.__marker") == "same page"  # every step was an htmx swap, no reload
    assert page.problems == [], page.problems


def test_a_unit_head_rates_a_row_and_sees_it_saved_with_its_total(app, page):
    """The sales ratings grid: each row saves on its own as it changes; the total follows; a rating
    out of range is refused beside the field and nothing else is lost."""
    from sqlalchemy import select

    from core.cycles import service
    from core.db import db_session
    from core.models import CycleSubject, Tenant
    from core.tenancy import set_tenant

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "xiaoshou")))
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        service.transition(cycle, "open", "test")
        db_session.commit()
        cycle_id = cycle.id
        subject_id = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle_id,
                                                                     CycleSubject.code == "X011"))

    login(page, "xiaoshou", "wanghaijun")
    page.goto(f"{page.base}/t/xiaoshou/sales/cycles/{cycle_id}/ratings")
    row = page.locator(f"#rate-row-{subject_id}")
    for name, value in (("basic_ability", "84"), ("proficiency", "80"), ("coordination", "76"), ("service", "90")):
        row.locator(f"input[name=ratings__{name}]").fill(value)
    row.locator("input[name=ratings__service]").dispatch_event("change")
    # 100 × 0.15 + 84 × 0.15 + 80 × 0.20 + 90 × 0.25 + 76 × 0.25 = 85.10
    expect(page.locator(f"#rate-total-{subject_id}")).to_contain_text("85.10", timeout=10_000)
    expect(page.locator("#ratings-progress")).to_contain_text("1")
    row.locator("input[name=ratings__coordination]").fill("101")
    row.locator("input[name=ratings__coordination]").dispatch_event("change")
    expect(page.locator(f"#rate-status-{subject_id}")).to_contain_text("101", timeout=10_000)
    page.reload()
    expect(page.locator(f"#rate-row-{subject_id} input[name=ratings__coordination]")).to_have_value("76")
    expect(page.locator(f"#rate-row-{subject_id} input[name=ratings__basic_ability]")).to_have_value("84")
    refused = [p for p in page.problems if "status of 422" in p]  # the refused 101, answered as it should be
    assert len(refused) == 1 and [p for p in page.problems if p not in refused] == [], page.problems
