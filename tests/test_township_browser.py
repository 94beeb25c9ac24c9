"""The township's pages in a real browser (Debian's headless Chromium driven by Playwright, as in
tests/test_browser.py): an anonymous survey link answered on a phone's screen."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS, expect, live_server  # noqa: F401 (live_server: a fixture)
from tests.test_cycles import tenant

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def phone(live_server):  # noqa: F811 (the fixture imported above)
    """A page on a phone-sized screen (375 × 740, touch, mobile viewport rules), in Chinese."""
    if CHROMIUM is None:
        if os.environ.get("JIXIAO_REQUIRE_BROWSER"):
            pytest.fail("JIXIAO_REQUIRE_BROWSER is set but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                      locale="zh-CN")
        page = context.new_page()
        page.problems = []
        page.on("console", lambda msg: msg.type == "error" and page.problems.append(msg.text))
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.base = live_server
        yield page
        browser.close()


def _open_cycle_with_a_link(app) -> tuple[int, str, str]:
    """An open township cycle with one batch of links: (cycle id, a token, its unit's name)."""
    from core.cycles import service as cycles
    from core.models import OrgUnit
    from plugins.gov_public_evaluation.links import service

    with tenant(app, "zhen") as db:
        cycle = cycles.create_cycle("gov-public-evaluation", "2026", "浏览器评议", {}, "test")
        cycles.transition(cycle, "open", "test")
        v01 = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V01"))
        category, per_unit, units = service.check_batch(cycle, "rural", "2", [str(v01)])
        batch = service.issue_batch(cycle, category, per_unit, units, "test")
        db.commit()
        token = db.scalar(select(service.SurveyToken.token).where(service.SurveyToken.batch_id == batch.id)
                          .order_by(service.SurveyToken.id))
        return cycle.id, token, db.get(OrgUnit, v01).name


def test_a_link_is_answered_on_a_phone_once_despite_a_double_tap(app, phone):
    """The page fits a 375-pixel screen (nothing scrolls sideways), every answer is a large target,
    a double tap on "send" sends one response, and opening the link again says it was answered."""
    from plugins.gov_public_evaluation.survey.models import SurveyQuestion, SurveyResponse

    cycle_id, token, unit = _open_cycle_with_a_link(app)
    phone.goto(f"{phone.base}/t/zhen/survey/{token}")
    expect(phone.locator("h1")).to_be_visible()
    assert unit in phone.locator("main").inner_text()
    fits = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert fits[0] <= fits[1] == PHONE["width"], fits
    questions = phone.locator("fieldset.q")
    count = questions.count()
    assert count == 12
    first = questions.first.locator("label.choice").first.bounding_box()
    assert first["height"] >= 44 and first["width"] >= 140  # a thumb's target
    for i in range(count):
        questions.nth(i).locator("label.choice").nth(i % 4).tap()
    assert phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")[0] <= PHONE["width"]
    phone.locator("button.send").dblclick()
    expect(phone.locator(".notice.done h1")).to_be_visible()
    assert unit in phone.locator(".notice.done").inner_text()
    assert phone.problems == [], phone.problems

    with tenant(app, "zhen") as db:
        rows = db.scalars(select(SurveyResponse).where(SurveyResponse.cycle_id == cycle_id)).all()
        order = list(db.scalars(select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle_id)
                                .order_by(SurveyQuestion.position)))
    assert len(rows) == 1
    keys = ("satisfied", "basically_satisfied", "dissatisfied", "dont_know")
    assert rows[0].answers == {str(q): keys[i % 4] for i, q in enumerate(order)}
    assert rows[0].channel == "link" and rows[0].entered_by is None

    phone.goto(f"{phone.base}/t/zhen/survey/{token}")
    expect(phone.locator(".notice.done")).to_be_visible()
    assert phone.locator("fieldset.q").count() == 0
    phone.goto(f"{phone.base}/t/zhen/survey/{token}?lang=en")
    assert phone.evaluate("document.documentElement.lang") == "en"
    assert phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")[0] <= PHONE["width"]
