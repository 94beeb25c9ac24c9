"""The township's anonymous one-time links (issue 7, item 2): the office issues batches of links per
respondent category (limits validated), prints them as sheets of QR codes, and a respondent answers
once on the public page, without an account: repeats write nothing (also at the same moment),
unknown and other tenants' tokens are 404, a closed cycle says so, a question left out keeps the
other answers, nothing about the respondent is stored, and the POST stays a handful of queries."""
from __future__ import annotations

import base64
import hashlib
import html
import re
import threading

import pytest
import segno
from sqlalchemy import event, func, select

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleSubject, OrgUnit, TenantScheme
from plugins.gov_public_evaluation.links import service
from plugins.gov_public_evaluation.links.models import SurveyToken, TokenBatch
from plugins.gov_public_evaluation.survey.models import SurveyQuestion, SurveyResponse
from tests.conftest import make_test_app
from tests.test_cycles import tenant

UNITS = 19  # the zhen cycle assesses 7 departments and 12 villages


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login(client, auth, username="admin"):
    client.post("/lang", data={"locale": "en"})
    assert auth.login("zhen", username).status_code == 302


def make_cycle(app, state="open", period="2026") -> int:
    with tenant(app, "zhen") as db:
        cycle = cycles.create_cycle("gov-public-evaluation", period, f"评议 {period}", {}, "test")
        if state != "draft":
            cycles.transition(cycle, "open", "test")
        if state not in ("draft", "open"):
            cycle.state = state
        db.commit()
        return cycle.id


def set_state(app, cycle_id, state):
    with tenant(app, "zhen") as db:
        db.get(Cycle, cycle_id).state = state
        db.commit()


def links_url(cycle_id) -> str:
    return f"/t/zhen/township/cycles/{cycle_id}/links"


def issue(client, cycle_id, per_unit="2", category="rural", units=None, **headers):
    data = {"category": category, "per_unit": per_unit, "scope": "all" if units is None else "chosen"}
    if units is not None:
        data["units"] = units
    return client.post(links_url(cycle_id), data=data, headers=headers)


def batches(app, cycle_id) -> list[TokenBatch]:
    with tenant(app, "zhen") as db:
        rows = list(db.scalars(select(TokenBatch).where(TokenBatch.cycle_id == cycle_id).order_by(TokenBatch.id)))
        db.expunge_all()
        return rows


def tokens(app, batch_id) -> list[tuple[str, int, str]]:
    with tenant(app, "zhen") as db:
        return [tuple(r) for r in db.execute(select(SurveyToken.token, SurveyToken.unit_id, SurveyToken.category)
                                             .where(SurveyToken.batch_id == batch_id).order_by(SurveyToken.id))]


def unit_ids(app, *codes) -> list[int]:
    with tenant(app, "zhen") as db:
        found = dict(db.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.in_(codes))).all())
        return [found[c] for c in codes]


@pytest.fixture
def english(client):
    """The answer page in English (its default is the tenant's language, Chinese)."""
    client.post("/lang", data={"locale": "en"})


def question_ids(app, cycle_id) -> list[int]:
    with tenant(app, "zhen") as db:
        return list(db.scalars(select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle_id)
                               .order_by(SurveyQuestion.position)))


def responses(app) -> list[SurveyResponse]:
    with tenant(app, "zhen") as db:
        rows = list(db.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))
        db.expunge_all()
        return rows


def full_answers(ids, value="satisfied") -> dict[str, str]:
    return {f"q{i}": value for i in ids}


@pytest.fixture
def issued(app, client, auth):
    """An open cycle with a batch of 2 rural links per unit; the office is logged out again."""
    cycle_id = make_cycle(app)
    login(client, auth)
    assert issue(client, cycle_id).status_code == 302
    client.post("/t/zhen/logout")
    batch = batches(app, cycle_id)[0]
    return cycle_id, batch, tokens(app, batch.id)


# ----------------------------------------------------------------------------------- issuing

def test_the_office_issues_a_batch_for_every_unit_of_the_cycle(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    page = client.get(links_url(cycle_id))
    assert page.status_code == 200
    assert "No batch issued yet" in text_of(page) and f"Every unit the cycle assesses ({UNITS})" in text_of(page)
    response = issue(client, cycle_id, per_unit="3")
    assert response.status_code == 302 and response.headers["Location"].endswith(links_url(cycle_id))
    [batch] = batches(app, cycle_id)
    assert (batch.category, batch.size, batch.created_by) == ("rural", 3 * UNITS, "user:admin")
    rows = tokens(app, batch.id)
    assert len(rows) == 3 * UNITS and len({t for t, _u, _c in rows}) == 3 * UNITS
    per_unit = {}
    for token, unit_id, category in rows:
        assert re.fullmatch(r"[0-9abcdefghjkmnpqrstvwxyz]{20}", token) and category == "rural"
        per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
    with tenant(app, "zhen") as db:
        assessed = set(db.scalars(select(CycleSubject.unit_id).where(CycleSubject.cycle_id == cycle_id,
                                                                     CycleSubject.kind == "unit")))
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "links.issue"))
        assert audit.after == {"cycle_id": cycle_id, "category": "rural", "per_unit": 3, "units": UNITS,
                               "size": 3 * UNITS}
    assert per_unit == {u: 3 for u in assessed}
    listing = text_of(client.get(links_url(cycle_id)))
    assert f"Batch {batch.id} issued: {3 * UNITS} links" in listing
    assert f"/links/{batch.id}/sheet" in listing


def test_a_batch_for_chosen_units_only(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    v01, dzb = unit_ids(app, "V01", "DZB")
    assert issue(client, cycle_id, per_unit="5", category="npc_deputy", units=[str(v01), str(dzb)]).status_code == 302
    [batch] = batches(app, cycle_id)
    rows = tokens(app, batch.id)
    assert batch.size == 10 and sorted({u for _t, u, _c in rows}) == sorted([v01, dzb])
    assert {c for _t, _u, c in rows} == {"npc_deputy"}


@pytest.mark.parametrize("per_unit, expected", [
    ("0", "Links per unit: 0 is not allowed; enter a whole number from 1 to 500."),
    ("501", "Links per unit: 501 is not allowed; enter a whole number from 1 to 500."),
    ("2.5", "Links per unit: 2.5 is not allowed"),
    ("", "Links per unit: — is not allowed"),
    ("３", "Links per unit: ３ is not allowed"),
    ("300", "300 links for each of 19 units make 5700, more than 5,000 in one batch"),
])
def test_batch_limits_are_validated_and_nothing_is_issued(app, client, auth, per_unit, expected):
    cycle_id = make_cycle(app)
    login(client, auth)
    response = issue(client, cycle_id, per_unit=per_unit)
    assert response.status_code == 422
    assert "The links are not issued: correct the fields marked below." in text_of(response)
    assert expected in text_of(response)
    assert batches(app, cycle_id) == []


def test_category_and_units_are_validated(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    moon = text_of(issue(client, cycle_id, category="moon"))
    assert "Category: moon is not a respondent category of this cycle; allowed: npc_deputy" in moon
    assert "rural" in moon
    none = issue(client, cycle_id, units=[])
    assert none.status_code == 422 and "Units: none chosen" in text_of(none)
    [town] = unit_ids(app, "TOWN")  # the office itself is not assessed
    other = issue(client, cycle_id, units=[str(town), "abc"])
    assert other.status_code == 422
    assert f"Units: {town}, abc is not a unit assessed in this cycle" in text_of(other)
    ok_total = issue(client, cycle_id, per_unit="500", units=[str(u) for u in unit_ids(app, *[f"V{i:02d}" for i in range(1, 11)])])
    assert ok_total.status_code == 302  # 10 × 500 = 5,000: the most one batch holds
    assert batches(app, cycle_id)[0].size == 5000


def test_an_htmx_refusal_gets_the_form_block(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    response = issue(client, cycle_id, per_unit="0", **{"HX-Request": "true", "HX-Target": "issue-form"})
    body = text_of(response)
    assert response.status_code == 422 and "<html" not in body and 'name="per_unit" value="0"' in body
    done = issue(client, cycle_id, per_unit="1", **{"HX-Request": "true", "HX-Target": "issue-form"})
    assert done.status_code == 204 and done.headers["HX-Redirect"].endswith(links_url(cycle_id))


def test_links_are_issued_in_draft_and_open_cycles_only(app, client, auth):
    draft = make_cycle(app, state="draft")
    login(client, auth)
    assert issue(client, draft).status_code == 302
    set_state(app, draft, "review")
    refused = issue(client, draft)
    assert refused.status_code == 409
    assert "Links are issued while the cycle is in draft or open" in text_of(refused)
    page = text_of(client.get(links_url(draft)))
    assert "Issue the links" not in page and "The sheets below can still be printed." in page
    assert len(batches(app, draft)) == 1


# ----------------------------------------------------------------------------------- who

@pytest.mark.parametrize("username", ["mayor", "surveyor1", "luxiaoyan", "qichanglin", "employee"])
def test_only_the_office_issues_and_prints_links(app, client, auth, issued, username):
    cycle_id, batch, _rows = issued
    login(client, auth, username)
    assert client.get(links_url(cycle_id)).status_code == 403
    assert issue(client, cycle_id).status_code == 403
    assert client.get(f"{links_url(cycle_id)}/{batch.id}/sheet").status_code == 403
    assert len(batches(app, cycle_id)) == 1


def test_logged_out_office_pages_ask_for_a_login(client, issued):
    cycle_id, batch, _rows = issued
    for url in (links_url(cycle_id), f"{links_url(cycle_id)}/{batch.id}/sheet"):
        response = client.get(url)
        assert response.status_code == 302 and "/t/zhen/login" in response.headers["Location"]


def test_other_cycles_and_batches_are_404(app, client, auth, issued):
    cycle_id, batch, _rows = issued
    other = make_cycle(app, period="2026-Q1")
    with tenant(app, "jituan") as db:
        foreign = cycles.create_cycle("corporate-grading", "2026-09", "别家", {}, "test")
        db.commit()
        foreign_id = foreign.id
    login(client, auth)
    assert client.get(f"{links_url(other)}/{batch.id}/sheet").status_code == 404  # the batch is another cycle's
    assert client.get(f"{links_url(cycle_id)}/{batch.id + 999}/sheet").status_code == 404
    assert client.get(links_url(foreign_id)).status_code == 404
    assert client.get(f"/t/jituan/township/cycles/{cycle_id}/links").status_code in (302, 404)


def test_the_cycle_page_links_to_the_links_for_the_office_only(app, client, auth, issued):
    cycle_id, _batch, _rows = issued
    login(client, auth)
    assert links_url(cycle_id) in text_of(client.get(f"/t/zhen/cycles/{cycle_id}"))
    client.post("/t/zhen/logout")
    login(client, auth, "mayor")
    page = client.get(f"/t/zhen/cycles/{cycle_id}")
    assert page.status_code == 200 and links_url(cycle_id) not in text_of(page)


# ----------------------------------------------------------------------------------- the sheet

def test_the_sheet_has_a_qr_code_per_link_with_its_unit_and_typed_address(app, client, auth, issued):
    cycle_id, batch, rows = issued
    login(client, auth)
    response = client.get(f"{links_url(cycle_id)}/{batch.id}/sheet")
    body = text_of(response)
    assert response.status_code == 200
    assert body.count("<svg") == 2 * UNITS
    token = rows[0][0]
    url = f"http://localhost/t/zhen/survey/{token}"
    assert str(segno.make_qr(url, error="m").svg_inline(border=4, omitsize=True)) in response.get_data(as_text=True)
    assert "localhost/t/zhen/survey/" in body and service.grouped(token) in body
    assert "东岭村" in body and "Rural residents" in body and "<nav class=\"menu\"" not in body
    style = re.search(r"<style>(.*?)</style>", response.get_data(as_text=True), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]
    assert "@media print" in style and "break-before: page" in style
    [v01] = unit_ids(app, "V01")
    one = text_of(client.get(f"{links_url(cycle_id)}/{batch.id}/sheet?unit_id={v01}"))
    assert one.count("<svg") == 2 and "东岭村" in one and "西溪村 · " not in one


def test_the_sheet_can_leave_out_the_answered_links_and_pages_long_batches(app, client, auth, issued):
    cycle_id, batch, rows = issued
    ids = question_ids(app, cycle_id)
    assert client.post(f"/t/zhen/survey/{rows[0][0]}", data=full_answers(ids)).status_code == 200
    login(client, auth)
    unused = text_of(client.get(f"{links_url(cycle_id)}/{batch.id}/sheet?unused=1"))
    assert unused.count("<svg") == 2 * UNITS - 1 and service.grouped(rows[0][0]) not in unused
    everything = text_of(client.get(f"{links_url(cycle_id)}/{batch.id}/sheet"))
    assert service.grouped(rows[0][0]) in everything and "answered" in everything
    assert issue(client, cycle_id, per_unit="11", category="urban").status_code == 302  # 209 links
    big = batches(app, cycle_id)[-1]
    first = text_of(client.get(f"{links_url(cycle_id)}/{big.id}/sheet"))
    second = text_of(client.get(f"{links_url(cycle_id)}/{big.id}/sheet?page=2"))
    assert first.count("<svg") == 200 and second.count("<svg") == 9 and "201–209 of 209" in second


def test_the_listing_counts_used_and_unused_links(app, client, auth, issued):
    cycle_id, batch, rows = issued
    ids = question_ids(app, cycle_id)
    for token, _unit, _category in rows[:3]:
        assert client.post(f"/t/zhen/survey/{token}", data=full_answers(ids)).status_code == 200
    login(client, auth)
    with tenant(app, "zhen"):
        assert service.batch_counts([batch.id])[batch.id] == service.BatchCounts(units=UNITS, used=3)
        assert service.category_totals(cycle_id) == {"rural": (2 * UNITS, 3)}
    page = text_of(client.get(links_url(cycle_id)))
    row = re.search(rf"<td>{batch.id}</td>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r'<td class="number">(\d+)</td>', row) == [str(2 * UNITS), str(UNITS), "3", str(2 * UNITS - 3)]


# ----------------------------------------------------------------------------------- the public page

def test_a_link_opens_the_survey_of_its_unit_without_an_account(app, client, issued):
    cycle_id, _batch, rows = issued
    token, unit_id, _category = rows[0]
    response = client.get(f"/t/zhen/survey/{token}")
    body = text_of(response)
    assert response.status_code == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert 'class="menu"' not in body and "csrf_token" not in body
    with tenant(app, "zhen") as db:
        unit = db.get(OrgUnit, unit_id).name
        texts = list(db.scalars(select(SurveyQuestion.text_zh).where(SurveyQuestion.cycle_id == cycle_id)))
    assert unit in body and "农村居民" in body and all(t in body for t in texts) and len(texts) == 12
    assert body.count('type="radio"') == 12 * 4
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    raw = response.get_data(as_text=True)
    for tag in ("style", "script"):
        inline = re.search(rf"<{tag}>(.*?)</{tag}>", raw, re.S).group(1)
        assert f"'sha256-{base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()}'" in csp
    english = text_of(client.get(f"/t/zhen/survey/{token}?lang=en"))
    assert '<html lang="en">' in english and "Are you satisfied with" in english and "Satisfied" in english
    assert f'action="/t/zhen/survey/{token}?lang=en"' in english


def test_a_typed_address_is_read_with_dashes_capitals_and_look_alikes(app, client, issued):
    _cycle_id, _batch, rows = issued
    token = rows[0][0]
    typed = service.grouped(token).upper().replace("0", "O").replace("1", "l")
    response = client.get(f"/t/zhen/survey/{typed}")
    assert response.status_code == 200 and f'action="/t/zhen/survey/{token}?lang=' in text_of(response)


def test_the_answers_are_taken_once(app, client, issued, english):
    cycle_id, _batch, rows = issued
    token, unit_id, _category = rows[0]
    ids = question_ids(app, cycle_id)
    answers = full_answers(ids)
    answers[f"q{ids[0]}"], answers[f"q{ids[1]}"], answers[f"q{ids[2]}"] = "dissatisfied", "dont_know", "basically_satisfied"
    first = client.post(f"/t/zhen/survey/{token}", data=answers)
    assert first.status_code == 200 and "Thank you!" in text_of(first)
    again = client.post(f"/t/zhen/survey/{token}", data=full_answers(ids, "dissatisfied"))  # a retry, other answers
    assert again.status_code == 200 and again.get_data() == first.get_data()
    [row] = responses(app)
    assert (row.cycle_id, row.unit_id, row.category, row.channel, row.submission_key) == (
        cycle_id, unit_id, "rural", "link", f"link:{token}")
    assert (row.satisfied, row.basically_satisfied, row.dissatisfied, row.dont_know) == (9, 1, 1, 1)
    assert row.entered_by is None and row.note == "" and row.answers[str(ids[0])] == "dissatisfied"
    with tenant(app, "zhen") as db:
        assert row.token_id == db.scalar(select(SurveyToken.id).where(SurveyToken.token == token))
    used = client.get(f"/t/zhen/survey/{token}")
    assert used.status_code == 200 and "Already answered — thank you" in text_of(used)
    assert 'type="radio"' not in text_of(used)


def test_posts_of_the_same_link_at_the_same_moment_make_one_response(app, issued):
    cycle_id, _batch, rows = issued
    token = rows[0][0]
    data = full_answers(question_ids(app, cycle_id))
    start = threading.Barrier(6)
    statuses: list[int] = []

    def post():
        client = app.test_client()
        start.wait()
        statuses.append(client.post(f"/t/zhen/survey/{token}", data=data).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * 6
    assert len(responses(app)) == 1


def test_a_question_left_out_keeps_the_other_answers(app, client, issued, english):
    cycle_id, _batch, rows = issued
    token = rows[0][0]
    ids = question_ids(app, cycle_id)
    answers = full_answers(ids, "basically_satisfied")
    del answers[f"q{ids[1]}"], answers[f"q{ids[6]}"]
    response = client.post(f"/t/zhen/survey/{token}", data=answers)
    body = text_of(response)
    assert response.status_code == 422
    assert "Not sent: 2 question(s) not answered (2, 7)." in body
    assert body.count('value="basically_satisfied" required checked') == 10
    assert body.count('class="q invalid"') == 2 and f'id="q-{ids[1]}" aria-describedby="why-{ids[1]}"' in body
    assert responses(app) == []
    wrong = full_answers(ids)
    wrong[f"q{ids[0]}"] = "great"
    refused = client.post(f"/t/zhen/survey/{token}", data=wrong)
    assert refused.status_code == 422 and "Not sent: 1 question(s) not answered (1)." in text_of(refused)
    unknown = {**full_answers(ids), "q999999": "satisfied"}
    assert client.post(f"/t/zhen/survey/{token}", data=unknown).status_code == 422
    assert responses(app) == []
    assert client.post(f"/t/zhen/survey/{token}", data=full_answers(ids)).status_code == 200
    assert len(responses(app)) == 1


@pytest.mark.parametrize("state, status, title", [("draft", 200, "The survey has not opened yet"),
                                                  ("review", 410, "The survey is closed"),
                                                  ("closed", 410, "The survey is closed")])
def test_a_cycle_that_is_not_open_says_so(app, client, issued, state, status, title, english):
    cycle_id, _batch, rows = issued
    set_state(app, cycle_id, state)
    token = rows[0][0]
    page = client.get(f"/t/zhen/survey/{token}")
    assert page.status_code == status and title in text_of(page) and 'type="radio"' not in text_of(page)
    posted = client.post(f"/t/zhen/survey/{token}", data=full_answers(question_ids(app, cycle_id)))
    assert posted.status_code == status and title in text_of(posted)
    assert responses(app) == []


def test_unknown_links_and_other_tenants_links_are_a_friendly_404(app, client, issued, english):
    cycle_id, _batch, rows = issued
    token = rows[0][0]
    with tenant(app, "jituan") as db:  # another tenant that uses the scheme too
        db.add(TenantScheme(scheme_id="gov-public-evaluation", enabled=True, settings={}))
        db.commit()
    data = full_answers(question_ids(app, cycle_id))
    for url in ("/t/zhen/survey/abcdeabcdeabcdeabcde", "/t/zhen/survey/short", "/t/zhen/survey/" + "a" * 80,
                f"/t/zhen/survey/{token}u", f"/t/jituan/survey/{token}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "This link is not valid" in text_of(response) and 'name="viewport"' in text_of(response)
        assert client.post(url, data=data).status_code == 404
    assert client.get(f"/t/nosuchtown/survey/{token}").status_code == 404
    assert responses(app) == []
    with tenant(app, "zhen") as db:  # the town stops using the scheme: its links stop too
        db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "gov-public-evaluation")).enabled = False
        db.commit()
    assert client.get(f"/t/zhen/survey/{token}").status_code == 404


def test_nothing_about_the_respondent_is_stored(app, client, issued):
    cycle_id, _batch, rows = issued
    token = rows[0][0]
    with tenant(app, "zhen") as db:
        audit_before = db.scalar(select(func.count()).select_from(AuditLog))
    response = client.post(f"/t/zhen/survey/{token}", data=full_answers(question_ids(app, cycle_id)),
                           headers={"User-Agent": "Phone-Browser-1234", "X-Forwarded-For": "203.0.113.9"},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 200
    [row] = responses(app)
    stored = repr({c.key: getattr(row, c.key) for c in SurveyResponse.__table__.columns})
    for trace in ("Phone-Browser", "203.0.113.9", "198.51.100.7"):
        assert trace not in stored
    with tenant(app, "zhen") as db:
        assert db.scalar(select(func.count()).select_from(AuditLog)) == audit_before


def test_the_answer_post_needs_no_csrf_token_but_the_office_form_does(database_url, issued):
    cycle_id, _batch, rows = issued
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        ids = question_ids(app, cycle_id)
        assert client.post(f"/t/zhen/survey/{rows[0][0]}", data=full_answers(ids)).status_code == 200
        assert client.post(links_url(cycle_id), data={"category": "rural", "per_unit": "1"}).status_code == 400
    finally:
        app.extensions["jixiao.engine"].dispose()


def test_the_answer_post_is_a_handful_of_queries_and_loads_no_account(app, client, issued):
    cycle_id, _batch, rows = issued
    data = full_answers(question_ids(app, cycle_id))
    statements: list[str] = []
    engine = app.extensions["jixiao.engine"]

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.post(f"/t/zhen/survey/{rows[0][0]}", data=data).status_code == 200
        taken = list(statements)
        statements.clear()
        assert client.post(f"/t/zhen/survey/{rows[0][0]}", data=data).status_code == 200  # the repeat
        repeat = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    work = [s for s in taken if "set_config" not in s]
    assert len(work) <= 3, work  # the tenant, the link (with its cycle, unit, questions, state), the insert
    assert not any(re.search(r'\bFROM "?user"?\b', s) for s in taken + repeat)
    assert len([s for s in repeat if "set_config" not in s]) <= 2  # the tenant and the link: it was answered


def test_an_answer_waits_for_a_move_of_the_cycle_and_then_finds_it_closed(app, backend, issued):
    """PostgreSQL: the link's read share-locks the cycle's row, so an answer sent while the cycle is
    being moved to review waits for the move and is refused, rather than landing after it."""
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    from sqlalchemy import text

    cycle_id, _batch, rows = issued
    data = full_answers(question_ids(app, cycle_id))
    engine = app.extensions["jixiao.engine"]
    result: list[int] = []
    with engine.connect() as mover:
        mover.execute(text("SELECT set_config('jixiao.tenant_id', '*', true)"))
        mover.execute(text("SELECT id FROM cycle WHERE id = :c FOR UPDATE"), {"c": cycle_id})
        mover.execute(text("UPDATE cycle SET state = 'review' WHERE id = :c"), {"c": cycle_id})
        poster = threading.Thread(target=lambda: result.append(
            app.test_client().post(f"/t/zhen/survey/{rows[0][0]}", data=data).status_code))
        poster.start()
        poster.join(1.0)
        assert poster.is_alive() and result == []  # waiting for the move
        mover.commit()
    poster.join(30)
    assert result == [410]
    assert responses(app) == []


def test_take_answers_refuses_a_cycle_that_is_not_open_and_foreign_questions(app, issued):
    cycle_id, _batch, rows = issued
    with tenant(app, "zhen"):
        link = service.find_link(rows[0][0])
        answers = {str(i): "satisfied" for i in link.question_ids}
        closed = service.Link(**{**link.__dict__, "state": "review"})
        with pytest.raises(service.SurveyError, match="takes answers while the cycle is open; it is review"):
            service.take_answers(closed, answers)
        with pytest.raises(service.SurveyError, match="not questions of this survey"):
            service.take_answers(link, {**answers, "123456": "satisfied"})
        with pytest.raises(service.SurveyError, match="Question 1 is not answered"):
            service.take_answers(link, {})
        assert service.take_answers(link, answers)[1] is True
        assert service.take_answers(link, answers)[1] is False


def test_a_question_left_out_is_numbered_as_the_form_asks_it(app, client, issued, english):
    """The questions' order is their position, not their id: after the office moved the last question
    to the top, leaving it out names question 1."""
    cycle_id, _batch, rows = issued
    ids = question_ids(app, cycle_id)
    with tenant(app, "zhen") as db:  # the last question first (positions rewritten through a free slot)
        questions = {q.id: q for q in db.scalars(select(SurveyQuestion).where(SurveyQuestion.cycle_id == cycle_id))}
        last = questions[ids[-1]]
        last.position = 0
        db.flush()
        for question in sorted(questions.values(), key=lambda q: q.position, reverse=True):
            question.position += 1
            db.flush()
        db.commit()
    answers = full_answers(ids)
    del answers[f"q{ids[-1]}"]
    response = client.post(f"/t/zhen/survey/{rows[0][0]}", data=answers)
    assert response.status_code == 422
    assert "Not sent: 1 question(s) not answered (1)." in text_of(response)
