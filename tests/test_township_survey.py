"""The township's survey (issue 7, item 2, without the anonymous links): setting up the questions
(until the first response) and the quotas (versioned), surveyors' interviews taken once per form
(a double submit and a retry after a lost reply record one), validation naming the field and the
value, the lists and deleting, the live progress (counts for surveyors, the answers for the office
and leaders, one grouped query), the move to review refused while a unit has no scorable answer,
who may do what, the menu and the cycle's links, and other tenants."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import event, func, select, update

from core.cycles import service as cycles
from core.models import AuditLog, Cycle, CycleSubject
from plugins.gov_public_evaluation.survey import service
from plugins.gov_public_evaluation.survey.models import SurveyQuestion, SurveyQuota, SurveyResponse
from plugins.gov_public_evaluation.survey.questions import DEFAULT_QUESTIONS
from tests.test_browser import live_server, page  # noqa: F401 (fixtures of the browser test)
from tests.test_cycles import tenant

BASE = "/t/zhen/township"
CATEGORIES = ("npc_deputy", "business", "urban", "rural")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def results(response) -> str:
    """The list's block of a page (after the filters)."""
    page = text_of(response)
    return page[page.index('<div id="results">'):]


def login(client, auth, username="admin", slug="zhen"):
    client.post("/lang", data={"locale": "en"})
    assert auth.login(slug, username).status_code == 302


def make_cycle(app, period="2026", name="2026 年度考评", state="open") -> int:
    with tenant(app, "zhen") as db:
        cycle = cycles.create_cycle("gov-public-evaluation", period, name, {}, "test")
        if state != "draft":
            cycles.transition(cycle, "open", "test")
        db.commit()
        return cycle.id


def unit_ids(app, cycle_id) -> dict[str, int]:
    """The cycle's units by code."""
    with tenant(app, "zhen") as db:
        return dict(db.execute(select(CycleSubject.code, CycleSubject.unit_id).where(
            CycleSubject.cycle_id == cycle_id, CycleSubject.kind == "unit", CycleSubject.eligible.is_(True))).all())


def question_ids(app, cycle_id) -> list[int]:
    with tenant(app, "zhen") as db:
        return list(db.scalars(select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle_id)
                               .order_by(SurveyQuestion.position)))


def questions_of(app, cycle_id) -> list[tuple]:
    with tenant(app, "zhen") as db:
        return [tuple(row) for row in db.execute(
            select(SurveyQuestion.position, SurveyQuestion.topic, SurveyQuestion.text_zh)
            .where(SurveyQuestion.cycle_id == cycle_id).order_by(SurveyQuestion.position))]


def responses(app, cycle_id=None) -> list[tuple]:
    with tenant(app, "zhen") as db:
        statement = select(SurveyResponse).order_by(SurveyResponse.id)
        if cycle_id is not None:
            statement = statement.where(SurveyResponse.cycle_id == cycle_id)
        return [(r.unit_id, r.category, r.channel, r.satisfied, r.basically_satisfied, r.dissatisfied, r.dont_know,
                 r.entered_by) for r in db.scalars(statement)]


def answered(app, cycle_id, value="satisfied", **overrides) -> dict[str, str]:
    """Every question answered ``value`` (``q<id>`` form fields), with overrides by position: {"q3": "dont_know"}."""
    ids = question_ids(app, cycle_id)
    form = {f"q{qid}": value for qid in ids}
    for key, answer in overrides.items():
        form[f"q{ids[int(key[1:]) - 1]}"] = answer
    return form


def form_key(client, cycle_id, **args) -> tuple[str, str]:
    """Open the interview form: (its submission key, the page)."""
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/interviews/new", query_string=args))
    return re.search(r'name="submission_key" value="([0-9a-f]{32})"', page).group(1), page


def interview(client, app, cycle_id, unit="V01", category="rural", channel="household", key=None, note="",
              headers=None, another="", **answers):
    if key is None:
        key, _page = form_key(client, cycle_id)
    data = {"submission_key": key, "unit_id": str(unit_ids(app, cycle_id)[unit]), "category": category,
            "channel": channel, "note": note, "another": another, **answered(app, cycle_id, **answers)}
    return client.post(f"{BASE}/cycles/{cycle_id}/survey/interviews/new", data=data, headers=headers or {})


def record(app, cycle_id, unit, category="rural", channel="household", value="satisfied", key=None, actor="test"):
    """A response through the service (both ways in), committed."""
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        ids = [q.id for q in service.questions(cycle_id)]
        key = key or f"test:{unit}:{category}:{channel}:{len(responses(app))}:{value}"
        service.record_response(cycle, unit_ids(app, cycle_id)[unit], category, channel, key,
                                {str(i): value for i in ids}, None if channel == "link" else actor)
        db.commit()


# ----------------------------------------------------------------------------------- setup

def test_a_new_cycle_has_the_default_questions_and_quotas_and_the_office_edits_them(app, client, auth):
    cycle_id = make_cycle(app, state="draft")
    assert [q[1] for q in questions_of(app, cycle_id)] == [topic for topic, _zh, _en in DEFAULT_QUESTIONS]
    login(client, auth)
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey"))
    assert "您对该单位推动经济发展工作的成效是否满意？" in page and "19 units are assessed in this cycle" in page
    assert "<code>npc_deputy</code>" not in page and "npc_deputy" not in re.sub(r'(name|id|for)="[^"]*"', "", page)
    assert all(f'name="quota-{code}" value="20"' in page for code in CATEGORIES)

    first, second = question_ids(app, cycle_id)[:2]
    edit_url = f"{BASE}/cycles/{cycle_id}/survey/questions/{first}/edit"
    stamp = re.search(r'name="stamp" value="(\w+)"', text_of(client.get(edit_url))).group(1)
    saved = client.post(edit_url, data={"stamp": stamp, "topic": "海西建设和经济发展",
                                        "text_zh": "您对本单位推动海西建设和经济发展的成效是否满意？", "text_en": ""})
    assert saved.status_code == 302
    added = client.post(f"{BASE}/cycles/{cycle_id}/survey/questions",
                        data={"topic": "政务公开", "text_zh": "您对政务公开工作是否满意？", "text_en": "Open government?"})
    assert added.status_code == 302
    assert questions_of(app, cycle_id)[0] == (1, "海西建设和经济发展", "您对本单位推动海西建设和经济发展的成效是否满意？")
    assert questions_of(app, cycle_id)[-1] == (13, "政务公开", "您对政务公开工作是否满意？")

    new_id = question_ids(app, cycle_id)[-1]
    with tenant(app, "zhen") as db:
        stamp = service.question_stamp(db.get(SurveyQuestion, new_id))
    move = client.post(f"{BASE}/cycles/{cycle_id}/survey/questions/{new_id}/move", data={"direction": "up", "stamp": stamp})
    assert move.status_code == 302
    assert [q[1] for q in questions_of(app, cycle_id)][10:] == ["行政效率", "政务公开", "领导班子整体形象"]

    confirm = client.get(f"{BASE}/cycles/{cycle_id}/survey/questions/{second}/delete")
    assert confirm.status_code == 200 and "Remove this question from the survey?" in text_of(confirm)
    stamp = re.search(r'name="stamp" value="(\w+)"', text_of(confirm)).group(1)
    assert client.post(f"{BASE}/cycles/{cycle_id}/survey/questions/{second}/delete", data={"stamp": stamp}).status_code == 302
    rows = questions_of(app, cycle_id)
    assert [r[0] for r in rows] == list(range(1, 13)) and "新农村建设" not in [r[1] for r in rows]
    with tenant(app, "zhen") as db:
        actions = sorted(db.scalars(select(AuditLog.action).where(AuditLog.object_type == "SurveyQuestion")))
    assert actions == ["survey.question_add", "survey.question_edit", "survey.question_move", "survey.question_remove"]


@pytest.mark.parametrize("form, field, message", [
    ({"topic": "", "text_zh": "新问题？"}, "topic", "Topic: empty; name the question's topic"),
    ({"topic": "x" * 61, "text_zh": "新问题？"}, "topic", "Topic: 61 characters; at most 60 are allowed."),
    ({"topic": "治安", "text_zh": "  "}, "text_zh", "Question (Chinese): empty; write the question as it is asked"),
    ({"topic": "治安", "text_zh": "您对该单位维护社会治安的工作是否满意？"}, "text_zh",
     "Question (Chinese): “您对该单位维护社会治安的工作是否满意？” is already question 8; each question is asked once."),
    ({"topic": "治安", "text_zh": "新问题？", "text_en": "y" * 501}, "text_en",
     "Question (English): 501 characters; at most 500 are allowed."),
])
def test_a_bad_question_is_refused_next_to_its_field(app, client, auth, form, field, message):
    cycle_id = make_cycle(app)
    login(client, auth)
    response = client.post(f"{BASE}/cycles/{cycle_id}/survey/questions", data=form,
                           headers={"HX-Request": "true", "HX-Target": "questions"})
    page = text_of(response)
    assert response.status_code == 422 and message in page
    assert f'id="q-{field.replace("_", "-")}-errors"' in page and "<html" not in page
    assert len(questions_of(app, cycle_id)) == 12


def test_a_question_changed_by_someone_else_meanwhile_is_not_overwritten(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    qid = question_ids(app, cycle_id)[2]
    url = f"{BASE}/cycles/{cycle_id}/survey/questions/{qid}/edit"
    stamp = re.search(r'name="stamp" value="(\w+)"', text_of(client.get(url))).group(1)
    assert client.post(url, data={"stamp": stamp, "topic": "文化", "text_zh": "您对文化工作是否满意?"}).status_code == 302
    stale = client.post(url, data={"stamp": stamp, "topic": "教育", "text_zh": "您对教育工作是否满意?"})
    page = text_of(stale)
    assert stale.status_code == 409
    assert "Question 3 was changed by someone else meanwhile; it now reads: 文化 · 您对文化工作是否满意?" in page
    assert questions_of(app, cycle_id)[2] == (3, "文化", "您对文化工作是否满意?")
    fresh = re.search(r'name="stamp" value="(\w+)"', page).group(1)  # saving again is a deliberate overwrite
    assert fresh != stamp and 'value="教育"' in page
    assert client.post(url, data={"stamp": fresh, "topic": "教育", "text_zh": "您对教育工作是否满意?"}).status_code == 302
    other = question_ids(app, cycle_id)[5]
    moved = client.post(f"{BASE}/cycles/{cycle_id}/survey/questions/{other}/move", data={"direction": "up", "stamp": stamp})
    assert moved.status_code == 409 and "was changed by someone else" in text_of(moved)


def test_the_questions_are_fixed_once_the_first_response_arrives(app, client, auth):
    cycle_id = make_cycle(app)
    record(app, cycle_id, "V01")
    login(client, auth)
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey"))
    assert "The questions are fixed: 1 response(s) have arrived" in page
    assert "Add a question" not in page and "/edit" not in page and "Remove…" not in page
    qid = question_ids(app, cycle_id)[0]
    with tenant(app, "zhen") as db:
        stamp = service.question_stamp(db.get(SurveyQuestion, qid))
    base = f"{BASE}/cycles/{cycle_id}/survey/questions"
    for url, data in ((f"{base}/{qid}/edit", {"stamp": stamp, "topic": "x", "text_zh": "新问题？"}),
                      (base, {"topic": "x", "text_zh": "新问题？"}),
                      (f"{base}/{qid}/move", {"direction": "down", "stamp": stamp}),
                      (f"{base}/{qid}/delete", {"stamp": stamp})):
        refused = client.post(url, data=data)
        assert refused.status_code == 409 and "The questions are fixed: 1 response(s) have arrived" in text_of(refused), url
    assert client.get(f"{base}/{qid}/edit").status_code == 409
    assert questions_of(app, cycle_id)[0][1] == "经济发展" and len(questions_of(app, cycle_id)) == 12


def test_a_change_without_the_stamp_of_what_the_form_saw_is_a_conflict(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    qid = question_ids(app, cycle_id)[1]
    base = f"{BASE}/cycles/{cycle_id}/survey/questions/{qid}"
    for url, data in ((f"{base}/edit", {"topic": "文化", "text_zh": "您对文化工作是否满意？"}),
                      (f"{base}/move", {"direction": "down"}),
                      (f"{base}/delete", {})):
        for stamp in (None, ""):
            sent = dict(data, **({} if stamp is None else {"stamp": stamp}))
            refused = client.post(url, data=sent)
            page = text_of(refused)
            assert refused.status_code == 409, (url, stamp)
            assert "Question 2: the form did not say which version of the question it was made from; it now reads: " \
                   "新农村建设 · 您对该单位推进新农村建设的工作是否满意？" in page, url
    assert questions_of(app, cycle_id) == [(i, topic, zh) for i, (topic, zh, _en) in enumerate(DEFAULT_QUESTIONS, 1)]
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        question = db.get(SurveyQuestion, qid)
        for call in (lambda: service.edit_question(cycle, question, {"topic": "x", "text_zh": "新？"}, None, "test"),
                     lambda: service.move_question(cycle, question, "up", "", "test"),
                     lambda: service.remove_question(cycle, question, None, "test")):
            with pytest.raises(service.SurveyConflict, match="did not say which version"):
                call()
        db.rollback()
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.object_type == "SurveyQuestion")) == 0


def test_the_last_question_stays(app, client, auth):
    cycle_id = make_cycle(app)
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        for question in service.questions(cycle_id)[1:]:
            db.refresh(question)  # the removals before moved it up a place
            service.remove_question(cycle, question, service.question_stamp(question), "test")
        db.commit()
    login(client, auth)
    qid = question_ids(app, cycle_id)[0]
    assert "Remove…" not in text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey"))
    with tenant(app, "zhen") as db:
        stamp = service.question_stamp(db.get(SurveyQuestion, qid))
    refused = client.post(f"{BASE}/cycles/{cycle_id}/survey/questions/{qid}/delete", data={"stamp": stamp})
    assert refused.status_code == 409 and "the survey's only question" in text_of(refused)


def test_quotas_are_whole_numbers_saved_all_or_nothing_and_a_concurrent_edit_is_detected(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    url = f"{BASE}/cycles/{cycle_id}/survey/quotas"
    versions = {f"version-{code}": "1" for code in CATEGORIES}
    bad = client.post(url, data={**versions, "quota-npc_deputy": "-1", "quota-business": "2.5", "quota-urban": "",
                                 "quota-rural": "30"}, headers={"HX-Request": "true", "HX-Target": "quotas"})
    page = text_of(bad)
    assert bad.status_code == 422 and "<html" not in page
    assert "Quota of 人大代表: “-1” is not allowed; give a whole number of respondents per unit from 0 to 10000." in page
    assert "Quota of 企业经营者: “2.5” is not allowed" in page and "Quota of 城镇居民: empty" in page
    with tenant(app, "zhen") as db:
        assert sorted(db.scalars(select(SurveyQuota.per_unit).where(SurveyQuota.cycle_id == cycle_id))) == [20] * 4

    good = {**versions, "quota-npc_deputy": "5", "quota-business": "10", "quota-urban": "0", "quota-rural": "30"}
    assert client.post(url, data=good).status_code == 302
    with tenant(app, "zhen") as db:
        rows = {q.category: (q.per_unit, q.version) for q in db.scalars(select(SurveyQuota).where(SurveyQuota.cycle_id == cycle_id))}
        assert rows == {"npc_deputy": (5, 2), "business": (10, 2), "urban": (0, 2), "rural": (30, 2)}
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "survey.quota_set")) == 4
    stale = client.post(url, data={**good, "quota-rural": "40"})  # the form of before: versions 1
    page = text_of(stale)
    assert stale.status_code == 409
    assert "The quotas were changed by someone else while you were editing. Now: 人大代表: 5; 企业经营者: 10" in page
    assert 'name="quota-rural" value="40"' in page and 'name="version-rural" value="2"' in page
    assert client.post(url, data={**good, **{f"version-{c}": "2" for c in CATEGORIES}, "quota-rural": "40"}).status_code == 302
    with tenant(app, "zhen") as db:
        assert db.scalar(select(SurveyQuota.per_unit).where(SurveyQuota.cycle_id == cycle_id,
                                                            SurveyQuota.category == "rural")) == 40


def test_quotas_read_the_cycles_state_under_its_lock(app, client, auth):
    """The quotas are refused when the cycle left data collection after the request loaded it."""
    cycle_id = make_cycle(app)
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        db.execute(update(Cycle).where(Cycle.id == cycle_id).values(state="review")
                   .execution_options(synchronize_session=False))
        assert cycle.state == "open"
        values = {code: "7" for code in CATEGORIES}
        with pytest.raises(service.SurveyConflict, match="The quotas are fixed: the cycle is In review"):
            service.set_quotas(cycle, values, {code: "1" for code in CATEGORIES}, "test")
        db.rollback()
    with tenant(app, "zhen") as db:
        assert sorted(db.scalars(select(SurveyQuota.per_unit).where(SurveyQuota.cycle_id == cycle_id))) == [20] * 4
    to_review(app, cycle_id)
    login(client, auth)
    refused = client.post(f"{BASE}/cycles/{cycle_id}/survey/quotas",
                          data={**{f"quota-{c}": "7" for c in CATEGORIES}, **{f"version-{c}": "1" for c in CATEGORIES}})
    assert refused.status_code == 409 and "The quotas are fixed: the cycle is In review" in text_of(refused)


def test_a_quota_save_holds_the_cycle_against_a_move_but_not_against_responses(app):
    """PostgreSQL: while a quota save is not committed, a move of the cycle (FOR UPDATE) waits for
    it, and a response (FOR KEY SHARE) does not (SQLite writes one at a time)."""
    from sqlalchemy import text as sql
    from sqlalchemy.exc import OperationalError

    cycle_id = make_cycle(app)
    engine = app.extensions["jixiao.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")

    def takes(lock: str) -> bool:
        with engine.connect() as other:
            try:
                other.execute(sql(f"SELECT id FROM cycle WHERE id = :id {lock} NOWAIT"), {"id": cycle_id})
                return True
            except OperationalError:
                return False
            finally:
                other.rollback()

    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        assert takes("FOR UPDATE")
        service.set_quotas(cycle, {code: "9" for code in CATEGORIES}, {code: "1" for code in CATEGORIES}, "test")
        assert not takes("FOR UPDATE") and takes("FOR KEY SHARE")
        db.commit()
    assert takes("FOR UPDATE")


# ----------------------------------------------------------------------------------- copying the questions

def test_a_new_cycle_starts_from_the_questions_of_the_schemes_latest_earlier_cycle(app):
    first = make_cycle(app, "2026-Q1", "一季度", state="draft")
    with tenant(app, "zhen") as db:  # the office rewords the first cycle's questions
        cycle = db.get(Cycle, first)
        asked = service.questions(first)
        service.edit_question(cycle, asked[0], {"topic": "海西建设和经济发展", "text_zh": "您对该单位推动海西建设的成效是否满意？",
                                                "text_en": "Economy?"}, service.question_stamp(asked[0]), "test")
        db.refresh(asked[-1])
        service.remove_question(cycle, asked[-1], service.question_stamp(asked[-1]), "test")
        db.commit()
    second = make_cycle(app, "2026-Q2", "二季度", state="draft")
    expected = questions_of(app, first)
    assert len(expected) == 11 and expected[0][1:] == ("海西建设和经济发展", "您对该单位推动海西建设的成效是否满意？")
    assert questions_of(app, second) == expected
    with tenant(app, "zhen") as db:
        assert db.scalar(select(SurveyQuestion.text_en).where(SurveyQuestion.cycle_id == second,
                                                              SurveyQuestion.position == 1)) == "Economy?"
        db.execute(update(SurveyQuestion).where(SurveyQuestion.cycle_id == second, SurveyQuestion.position == 2)
                   .values(topic="新农村"))
        db.commit()
    third = make_cycle(app, "2026-Q3", "三季度", state="draft")  # the most recent earlier cycle: the second
    assert questions_of(app, third)[1][1] == "新农村" and len(questions_of(app, third)) == 11
    with tenant(app, "zhen") as db:  # the sources offered: the scheme's other cycles, most recently created first
        cycle = db.get(Cycle, third)
        assert service.previous_cycle(cycle).id == second
        assert [c.id for c, _n in service.copy_sources(cycle)] == [second, first]


def test_without_an_earlier_cycle_a_new_cycle_has_the_default_questions(app):
    cycle_id = make_cycle(app)
    assert questions_of(app, cycle_id) == [(i, topic, zh) for i, (topic, zh, _en) in enumerate(DEFAULT_QUESTIONS, 1)]


def test_the_default_questions_ask_about_the_unit_named_at_the_top_in_full_width_punctuation():
    for topic, zh, en in DEFAULT_QUESTIONS:
        assert zh.startswith("您对该单位") and zh.endswith("是否满意？"), zh
        assert "本单位" not in zh and "?" not in zh and "," not in zh
        assert en.startswith("Are you satisfied with ") and "the unit" in en and en.endswith("?"), en


def test_the_office_copies_another_cycles_questions_after_a_confirmation(app, client, auth):
    source = make_cycle(app, "2026-Q1", "一季度")
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, source)
        service.add_question(cycle, {"topic": "政务公开", "text_zh": "您对该单位政务公开的情况是否满意？"}, "test")
        db.commit()
    target = make_cycle(app, "2026-Q2", "二季度", state="draft")
    with tenant(app, "zhen") as db:  # the office reset the target's questions meanwhile
        cycle = db.get(Cycle, target)
        for question in service.questions(target)[3:]:
            db.refresh(question)
            service.remove_question(cycle, question, service.question_stamp(question), "test")
        db.commit()
    assert len(questions_of(app, target)) == 3
    login(client, auth)
    setup = text_of(client.get(f"{BASE}/cycles/{target}/survey"))
    assert "Copy the questions of another cycle" in setup
    assert f'<option value="{source}" >一季度 (2026-Q1) · 13 questions</option>' in setup

    url = f"{BASE}/cycles/{target}/survey/questions/copy"
    bad = client.get(url, query_string={"source": "999999"})
    assert bad.status_code == 422 and "Copy from: “999999” is not another township cycle with questions" in text_of(bad)
    assert client.get(url, query_string={"source": str(target)}).status_code == 422  # not itself
    assert "Copy from: no cycle chosen" in text_of(client.get(url))

    confirm = client.get(url, query_string={"source": str(source)})
    page = text_of(confirm)
    assert confirm.status_code == 200
    assert "Replace this cycle's 3 questions by the 13 questions of 一季度?" in page
    stamp = re.search(r'name="stamp" value="(\w+)"', page).group(1)
    assert questions_of(app, target)[0][1] == "经济发展" and len(questions_of(app, target)) == 3  # nothing yet

    with tenant(app, "zhen") as db:  # someone edits the target's questions before the confirmation
        cycle = db.get(Cycle, target)
        question = service.questions(target)[2]
        service.edit_question(cycle, question, {"topic": "文化", "text_zh": "文化？"}, service.question_stamp(question),
                              "test")
        db.commit()
    stale = client.post(url, data={"source": str(source), "stamp": stamp})
    page = text_of(stale)
    assert stale.status_code == 409 and "were changed by someone else meanwhile" in page and "文化？" in page
    assert len(questions_of(app, target)) == 3
    fresh = re.search(r'name="stamp" value="(\w+)"', page).group(1)
    assert client.post(url, data={"source": str(source), "stamp": ""}).status_code == 409
    done = client.post(url, data={"source": str(source), "stamp": fresh})
    assert done.status_code == 302
    assert questions_of(app, target) == questions_of(app, source) and len(questions_of(app, target)) == 13
    assert "13 questions copied from 一季度" in text_of(client.get(done.headers["Location"]))
    with tenant(app, "zhen") as db:
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "survey.questions_copy"))
        assert audit.object_type == "Cycle" and audit.object_id == str(target)
        assert len(audit.before["questions"]) == 3 and audit.after["source_cycle"] == source
        assert len(audit.after["questions"]) == 13

    record(app, source, "V01")  # the source's answers do not matter; the target's fixes its questions
    assert client.get(url, query_string={"source": str(source)}).status_code == 200
    target_open = make_cycle(app, "2026-Q3", "三季度")
    record(app, target_open, "V02")
    page = text_of(client.get(f"{BASE}/cycles/{target_open}/survey"))
    assert "Copy the questions of another cycle" not in page
    refused = client.get(url.replace(f"/{target}/", f"/{target_open}/"), query_string={"source": str(source)})
    assert refused.status_code == 409 and "The questions are fixed: 1 response(s) have arrived" in text_of(refused)
    assert 'name="stamp"' not in text_of(refused)
    with tenant(app, "zhen") as db:
        stamp = service.questions_stamp(service.questions(target_open))
    refused = client.post(url.replace(f"/{target}/", f"/{target_open}/"), data={"source": str(source), "stamp": stamp})
    assert refused.status_code == 409 and "The questions are fixed" in text_of(refused)
    auth.logout("zhen")
    login(client, auth, "mayor")
    assert client.get(url, query_string={"source": str(source)}).status_code == 403
    assert client.post(url, data={"source": str(source), "stamp": fresh}).status_code == 403


# ----------------------------------------------------------------------------------- interviews

def test_a_surveyor_records_an_interview_once_whatever_the_number_of_submissions(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth, "surveyor1")
    key, page = form_key(client, cycle_id)
    assert "no names, phone or identity card numbers" in page and "Basically satisfied" in page
    first = interview(client, app, cycle_id, key=key, q3="basically_satisfied", q5="dont_know")
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/cycles/{cycle_id}/survey/interviews")
    listed = text_of(client.get(first.headers["Location"]))
    assert "Interview recorded: 东岭村 (V01), 农村居民, Household visit" in listed
    again = interview(client, app, cycle_id, key=key, q3="basically_satisfied", q5="dont_know")  # a double click
    assert again.status_code == 302
    assert "Already recorded: this form was sent before (东岭村 (V01), 农村居民, Household visit" in text_of(
        client.get(again.headers["Location"]))
    retry = interview(client, app, cycle_id, key=key, q3="basically_satisfied", q5="dont_know",  # a retry over htmx
                      headers={"HX-Request": "true", "HX-Target": "interview-form"})
    assert retry.status_code == 204 and retry.headers["HX-Redirect"].endswith("/survey/interviews")
    unit = unit_ids(app, cycle_id)["V01"]
    assert responses(app, cycle_id) == [(unit, "rural", "household", 10, 1, 0, 1, "user:surveyor1")]
    with tenant(app, "zhen") as db:
        audit = list(db.scalars(select(AuditLog).where(AuditLog.object_type == "SurveyResponse")))
    assert [a.action for a in audit] == ["survey.interview_add"]
    assert audit[0].after["channel"] == "household" and len(audit[0].after["answers"]) == 12

    other_key, _page = form_key(client, cycle_id)
    assert other_key != key
    assert interview(client, app, cycle_id, key=other_key, channel="phone").status_code == 302
    assert len(responses(app, cycle_id)) == 2


def test_the_same_key_at_the_same_moment_is_one_response(app):
    cycle_id = make_cycle(app)
    units = unit_ids(app, cycle_id)
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        answers = {str(i): "satisfied" for i in [q.id for q in service.questions(cycle_id)]}
        first = service.record_response(cycle, units["V02"], "urban", "phone", "interview:" + "a" * 32, answers, "user:x")
        second = service.record_response(cycle, units["V02"], "urban", "phone", "interview:" + "a" * 32, answers, "user:x")
        db.commit()
    assert first[1] is True and second == (first[0], False)
    assert len(responses(app, cycle_id)) == 1


def test_save_and_record_another_keeps_the_unit_category_and_channel_with_a_new_key(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth, "surveyor2")
    key, _page = form_key(client, cycle_id)
    unit = unit_ids(app, cycle_id)["JFB"]
    data = {"submission_key": key, "unit_id": str(unit), "category": "business", "channel": "phone",
            "another": "1", **answered(app, cycle_id)}
    saved = client.post(f"{BASE}/cycles/{cycle_id}/survey/interviews/new", data=data)
    assert saved.status_code == 302
    location = saved.headers["Location"]
    assert f"unit_id={unit}" in location and "category=business" in location and "channel=phone" in location
    page = text_of(client.get(location))
    assert f'<option value="{unit}" selected>' in page and '<option value="business" selected>' in page
    assert re.search(r'name="channel" value="phone" checked', page)
    assert 'name="q' in page and 'value="satisfied" checked' not in page  # the answers start empty
    assert "Interview recorded: 经济发展办公室 (JFB), 企业经营者, Telephone interview" in page
    new_key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', page).group(1)
    assert new_key != key


@pytest.mark.parametrize("change, field, message", [
    ({"unit_id": ""}, "iv-unit", "Unit: not chosen; choose the unit the respondent was asked about."),
    ({"unit_id": "999999"}, "iv-unit", "Unit: “999999” is not a unit assessed in 2026 年度考评; choose one from the list."),
    ({"unit_id": "TOWN"}, "iv-unit", "Unit: “TOWN” is not a unit assessed in 2026 年度考评"),
    ({"category": "farmers"}, "iv-category", "Respondent category: “farmers” is not a category of this survey; allowed: "
                                             "人大代表, 企业经营者, 城镇居民, 农村居民."),
    ({"category": ""}, "iv-category", "Respondent category: not chosen; allowed: 人大代表, 企业经营者"),
    ({"channel": "link"}, "iv-channel", "Channel: “link” is not a way of interviewing; allowed: Household visit, "
                                        "Telephone interview."),
    ({"q4": ""}, "iv-q", "Question 4 (医疗卫生): not answered; choose one of Satisfied, Basically satisfied, "
                         "Dissatisfied, Don't know."),
    ({"q7": "great"}, "iv-q", "Question 7 (环境保护): “great” is not an answer; allowed: Satisfied, Basically"),
    ({"note": "请回电 13812345678"}, "iv-note", "Remark: “138****5678” looks like a phone or identity card number; the "
                                              "survey is anonymous and a remark holds no personal data. Remove it."),
    ({"note": "x" * 501}, "iv-note", "Remark: 501 characters; at most 500 are allowed."),
    ({"submission_key": "abc"}, None, "The form's submission key “abc” is not valid"),
    ({"q999999": "satisfied"}, None, "The questions changed since the form was opened (q999999 are no longer asked)"),
])
def test_a_bad_interview_is_refused_naming_the_field_and_the_value(app, client, auth, change, field, message):
    cycle_id = make_cycle(app)
    login(client, auth, "surveyor1")
    key, _page = form_key(client, cycle_id)
    ids = question_ids(app, cycle_id)
    data = {"submission_key": key, "unit_id": str(unit_ids(app, cycle_id)["V03"]), "category": "urban",
            "channel": "household", **answered(app, cycle_id)}
    for name, value in change.items():
        data[f"q{ids[int(name[1:]) - 1]}" if re.fullmatch(r"q\d{1,2}", name) else name] = value
    response = client.post(f"{BASE}/cycles/{cycle_id}/survey/interviews/new", data=data,
                           headers={"HX-Request": "true", "HX-Target": "interview-form"})
    page = text_of(response)
    assert response.status_code == 422 and message in page and "<html" not in page
    assert "The interview is not recorded: correct the fields marked below." in page
    if field:
        assert re.search(f'id="{field}[^"]*-errors"', page)
    assert f'value="{data["submission_key"]}"' in page  # the same form: a corrected resend is still one interview
    # the messages name the choices as people read them, never the stored keys
    said = " ".join(re.findall(r'<ul class="errors"[^>]*><li>(.*?)</li>', page))
    assert message in said or message in page.split("</div>")[0]
    assert not re.search(r"basically_satisfied|dont_know|npc_deputy|\bsatisfied \(|\b(?:business|urban|rural|household)\b",
                         said)
    assert responses(app, cycle_id) == []


def test_interviews_are_taken_while_the_cycle_is_open(app, client, auth):
    cycle_id = make_cycle(app, state="draft")
    login(client, auth, "surveyor1")
    closed = client.get(f"{BASE}/cycles/{cycle_id}/survey/interviews/new")
    assert closed.status_code == 409 and "takes answers while the cycle is open; it is Draft" in text_of(closed)
    assert 'name="submission_key"' not in text_of(closed)
    assert interview(client, app, cycle_id, key="b" * 32).status_code == 409
    assert responses(app) == []


def to_review(app, cycle_id):
    """An answer for every unit (anonymous links), then the move to review."""
    for code in unit_ids(app, cycle_id):
        record(app, cycle_id, code, "urban", "link", key=f"link:{code}")
    with tenant(app, "zhen") as db:
        cycles.transition(db.get(Cycle, cycle_id), "review", "test")
        db.commit()


def test_a_retry_arriving_after_the_survey_closed_is_told_it_was_recorded(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth, "surveyor1")
    key, _page = form_key(client, cycle_id)
    assert interview(client, app, cycle_id, key=key, another="1").status_code == 302
    to_review(app, cycle_id)
    retry = interview(client, app, cycle_id, key=key, another="1")
    assert retry.status_code == 302 and retry.headers["Location"].endswith("/survey/interviews")
    assert "Already recorded: this form was sent before (东岭村 (V01)" in text_of(client.get(retry.headers["Location"]))
    late = interview(client, app, cycle_id, key="d" * 32)
    assert late.status_code == 409 and "takes answers while the cycle is open; it is In review" in text_of(late)
    assert len(responses(app, cycle_id)) == 1 + 19


def test_a_response_reads_the_cycles_state_as_committed(app):
    """The response reads the state under the cycle's row lock, not the state the caller loaded."""
    cycle_id = make_cycle(app)
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        db.execute(update(Cycle).where(Cycle.id == cycle_id).values(state="review")
                   .execution_options(synchronize_session=False))
        assert cycle.state == "open"
        with pytest.raises(service.SurveyError, match="takes answers while the cycle is open; it is In review"):
            service.record_response(cycle, unit_ids(app, cycle_id)["V01"], "rural", "household", "k", {}, "user:x")


# ----------------------------------------------------------------------------------- the list and deleting

def test_a_surveyor_lists_their_own_interviews_and_the_office_all_filtered_and_paginated(app, client, auth):
    cycle_id = make_cycle(app)
    for i in range(26):
        record(app, cycle_id, "V05", "urban", "phone", actor="user:surveyor1", key=f"interview:{i:032x}")
    record(app, cycle_id, "DZB", "npc_deputy", "household", actor="user:surveyor1")
    record(app, cycle_id, "V06", "rural", "household", actor="user:surveyor2")
    record(app, cycle_id, "V06", "rural", "link")
    login(client, auth, "surveyor2")
    page = results(client.get(f"{BASE}/cycles/{cycle_id}/survey/interviews"))
    assert "石桥村" in page and "柳林村" not in page and "1–1 of 1" in page and "Anonymous link" not in page
    auth.logout("zhen")
    login(client, auth, "surveyor1")
    page = results(client.get(f"{BASE}/cycles/{cycle_id}/survey/interviews"))
    assert "1–25 of 27" in page and "石桥村" not in page
    auth.logout("zhen")
    login(client, auth)
    url = f"{BASE}/cycles/{cycle_id}/survey/interviews"
    assert "1–25 of 28" in text_of(client.get(url))  # every surveyor's interviews, not the link's response
    only = client.get(url, query_string={"channel": "household"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert "1–2 of 2" in text_of(only) and "<html" not in text_of(only)
    assert "1–1 of 1" in text_of(client.get(url, query_string={"unit_id": unit_ids(app, cycle_id)["DZB"]}))
    assert "1–26 of 26" not in text_of(client.get(url, query_string={"category": "urban", "page": "2"}))
    assert "26–26 of 26" in text_of(client.get(url, query_string={"category": "urban", "page": "2"}))
    assert "No interview matches these filters." in text_of(client.get(url, query_string={"category": "business"}))


def test_a_surveyor_deletes_their_own_interview_while_the_cycle_is_open(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth, "surveyor1")
    assert interview(client, app, cycle_id, unit="V07", q2="dissatisfied").status_code == 302
    record(app, cycle_id, "V07", actor="user:surveyor2")
    record(app, cycle_id, "V07", channel="link")
    with tenant(app, "zhen") as db:
        mine, theirs, link = db.scalars(select(SurveyResponse.id).order_by(SurveyResponse.id)).all()
    base = f"{BASE}/cycles/{cycle_id}/survey/interviews"
    assert client.get(f"{base}/{theirs}/delete").status_code == 403
    assert client.post(f"{base}/{theirs}/delete").status_code == 403
    assert client.get(f"{base}/{link}/delete").status_code == 404  # a link's response is no interview
    confirm = client.get(f"{base}/{mine}/delete")
    assert confirm.status_code == 200 and "Delete this interview?" in text_of(confirm)
    assert client.post(f"{base}/{mine}/delete").status_code == 302
    assert client.post(f"{base}/{mine}/delete").status_code == 404
    assert [r[2] for r in responses(app, cycle_id)] == ["household", "link"]
    with tenant(app, "zhen") as db:
        deleted = db.scalar(select(AuditLog).where(AuditLog.action == "survey.interview_delete"))
        assert deleted.before["answers"][str(question_ids(app, cycle_id)[1])] == "dissatisfied"
        assert deleted.before["entered_by"] == "user:surveyor1"
        # nothing about the link's response reaches the audit trail
        logged = set(db.scalars(select(AuditLog.object_id).where(AuditLog.object_type == "SurveyResponse")))
        assert logged == {str(mine)}

    auth.logout("zhen")
    login(client, auth)  # the office deletes any interview, while the cycle is open
    to_review(app, cycle_id)
    closed = client.get(f"{base}/{theirs}/delete")
    assert closed.status_code == 409 and "Interviews are deleted while the cycle is open" in text_of(closed)
    assert client.post(f"{base}/{theirs}/delete").status_code == 409
    assert "Delete…" not in text_of(client.get(base))
    assert len(responses(app, cycle_id)) == 2 + 19


# ----------------------------------------------------------------------------------- progress and review

def test_the_move_to_review_waits_for_a_scorable_answer_in_every_unit(app, client, auth):
    cycle_id = make_cycle(app)
    codes = list(unit_ids(app, cycle_id))
    assert len(codes) == 19
    for i, code in enumerate(codes[:-1]):
        record(app, cycle_id, code, CATEGORIES[i % 4], ("household", "phone", "link")[i % 3])
    last = codes[-1]
    record(app, cycle_id, last, "urban", "phone", value="dont_know")  # don't know is left out: still not scorable
    login(client, auth, "mayor")  # who may see how units were answered is told which unit lacks a scorable answer
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress"))
    assert "1 of 19 units have no scorable answer yet: the cycle cannot move to review" in page
    assert f'id="unit-{unit_ids(app, cycle_id)[last]}" class="editing"' in page
    only = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress", query_string={"missing": "1"}))
    assert "1–1 of 1" in only
    auth.logout("zhen")
    login(client, auth, "surveyor1")  # a surveyor is not: that would tell the unit's answers were all don't know
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress"))
    assert "no scorable answer" not in page and "Every unit has at least one response." in page
    assert f'id="unit-{unit_ids(app, cycle_id)[last]}" class="editing"' not in page
    only = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress", query_string={"missing": "1"}))
    assert "1–1 of 1" not in only and "Every unit has at least one response." in only
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        with pytest.raises(cycles.CycleError) as refused:
            cycles.transition(cycle, "review", "test")
        assert any(last in p and "no answers to score" in p for p in refused.value.problems), refused.value.problems
        db.rollback()
    record(app, cycle_id, last, "urban", "phone", value="dissatisfied")
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        cycles.transition(cycle, "review", "test")  # core refreshes the derived inputs before the check
        db.commit()
        subject = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle_id, CycleSubject.code == last))
        assert subject.inputs["survey"] == {"urban": {"dont_know": 12, "dissatisfied": 12}}
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress"))
    assert "Every unit has at least one response." in page and 'hx-trigger="every' not in page  # no polling


def test_progress_counts_per_unit_category_and_channel_and_answers_only_for_the_office(app, client, auth):
    cycle_id = make_cycle(app)
    with tenant(app, "zhen") as db:
        cycle = db.get(Cycle, cycle_id)
        quota = db.scalar(select(SurveyQuota).where(SurveyQuota.cycle_id == cycle_id, SurveyQuota.category == "rural"))
        quota.per_unit = 3
        db.commit()
    record(app, cycle_id, "V08", "rural", "household")
    record(app, cycle_id, "V08", "rural", "phone", value="dissatisfied")
    record(app, cycle_id, "V08", "urban", "link", value="basically_satisfied")
    record(app, cycle_id, "V09", "rural", "link", value="dont_know")
    with tenant(app, "zhen") as db:
        state = service.progress(db.get(Cycle, cycle_id))
    v08 = next(u for u in state.units if u.unit.code == "V08")
    assert v08.by_category == {"rural": 2, "urban": 1} and v08.by_channel == {"household": 1, "phone": 1, "link": 1}
    assert v08.answers == {"satisfied": 12, "basically_satisfied": 12, "dissatisfied": 12, "dont_know": 0}
    assert state.by_channel == {"household": 1, "phone": 1, "link": 2} and state.total == 4
    assert state.by_category == {"npc_deputy": 0, "business": 0, "urban": 1, "rural": 3}
    assert state.quotas == {"npc_deputy": 20, "business": 20, "urban": 20, "rural": 3} and state.unit_target == 63
    assert [u.unit.code for u in state.without_answers if u.unit.code.startswith("V0")] == [
        "V01", "V02", "V03", "V04", "V05", "V06", "V07", "V09"]

    login(client, auth, "surveyor1")
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress"))
    row = re.search(r'<tr id="unit-%d">.*?</tr>' % unit_ids(app, cycle_id)["V08"], page, re.S).group(0)
    assert "2 / 3" in row and "1 / 20" in row and '<progress max="3" value="2"' in row
    assert "data-answer" not in page and "Basically satisfied" not in page  # surveyors see counts, never the answers
    assert re.findall(r'data-channel="(\w+)">(\d+)<', row) == [("household", "1"), ("phone", "1"), ("link", "1")]
    polled = client.get(f"{BASE}/cycles/{cycle_id}/survey/progress", headers={"HX-Request": "true", "HX-Target": "progress"})
    block = text_of(polled)
    assert polled.status_code == 200 and "<html" not in block and 'hx-trigger="every 5s"' in block
    assert "Per category" in block and polled.headers.get("Cache-Control") == "no-store"
    auth.logout("zhen")
    login(client, auth, "mayor")
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress"))
    row = re.search(r'<tr id="unit-%d">.*?</tr>' % unit_ids(app, cycle_id)["V08"], page, re.S).group(0)
    assert "Basically satisfied" in page
    assert re.findall(r'data-answer="(\w+)">(\d+)<', row) == [("satisfied", "12"), ("basically_satisfied", "12"),
                                                             ("dissatisfied", "12"), ("dont_know", "0")]
    assert re.findall(r'data-channel="(\w+)">(\d+)<', row) == [("household", "1"), ("phone", "1"), ("link", "1")]


def test_progress_filters_the_units_below_quota_and_its_cells_open_the_prefilled_form(app, client, auth):
    cycle_id = make_cycle(app)
    with tenant(app, "zhen") as db:
        for quota in db.scalars(select(SurveyQuota).where(SurveyQuota.cycle_id == cycle_id)):
            quota.per_unit = 1 if quota.category in ("rural", "urban") else 0
        db.commit()
    units = unit_ids(app, cycle_id)
    for code in units:
        record(app, cycle_id, code, "rural", "phone")
        if code not in ("V03", "DZB"):
            record(app, cycle_id, code, "urban", "link")
    login(client, auth, "surveyor1")
    url = f"{BASE}/cycles/{cycle_id}/survey/progress"
    page = text_of(client.get(url, query_string={"below": "1"}))
    assert "1–2 of 2" in page and re.search(r'href="[^"]*below=1" aria-current="true">Below quota<', page)
    shown = re.findall(r'<tr id="unit-(\d+)"', page)
    assert sorted(map(int, shown)) == sorted([units["V03"], units["DZB"]])
    row = re.search(r'<tr id="unit-%d">.*?</tr>' % units["V03"], page, re.S).group(0)
    cell = f'{BASE}/cycles/{cycle_id}/survey/interviews/new?unit_id={units["V03"]}&category=urban'
    assert f'href="{cell}"' in html.unescape(row) and '<td class="below">' in row
    form = text_of(client.get(cell))  # the cell's form: the unit and the category chosen, how far from the quota
    assert f'<option value="{units["V03"]}" selected>' in form and '<option value="urban" selected>' in form
    assert re.search(r'(\S+) · 城镇居民:\s*<span class="short">0 so far / quota 1</span>', form).group(1) == "南塘村"
    auth.logout("zhen")
    login(client, auth, "mayor")  # leaders follow the progress but record nothing: no links in the cells
    page = text_of(client.get(url, query_string={"below": "1"}))
    assert "1–2 of 2" in page and "/survey/interviews/new" not in page


def test_a_surveyor_is_told_the_units_without_a_response_and_the_office_those_without_a_scorable_answer(app, client,
                                                                                                       auth):
    cycle_id = make_cycle(app)
    codes = list(unit_ids(app, cycle_id))
    for code in codes[:-2]:
        record(app, cycle_id, code)
    record(app, cycle_id, codes[-2], value="dont_know")
    silent, unknown = unit_ids(app, cycle_id)[codes[-1]], unit_ids(app, cycle_id)[codes[-2]]
    with tenant(app, "zhen") as db:
        state = service.progress(db.get(Cycle, cycle_id))
    assert [u.unit.id for u in state.without_responses] == [silent]
    assert sorted(u.unit.id for u in state.without_answers) == sorted([silent, unknown])
    assert state.lacking(False) == state.without_responses and state.lacking(True) == state.without_answers
    url = f"{BASE}/cycles/{cycle_id}/survey/progress"
    login(client, auth, "surveyor1")
    page = text_of(client.get(url))
    assert "1 of 19 units have no response yet" in page and "scorable" not in page
    assert f'id="unit-{silent}" class="editing"' in page and f'id="unit-{unknown}" class="editing"' not in page
    assert re.findall(r'<tr id="unit-(\d+)"', text_of(client.get(url, query_string={"missing": "1"}))) == [str(silent)]
    auth.logout("zhen")
    login(client, auth)
    page = text_of(client.get(url))
    assert "2 of 19 units have no scorable answer yet" in page
    assert f'id="unit-{silent}" class="editing"' in page and f'id="unit-{unknown}" class="editing"' in page
    assert sorted(re.findall(r'<tr id="unit-(\d+)"', text_of(client.get(url, query_string={"missing": "1"})))) == \
        sorted([str(silent), str(unknown)])


def test_the_interview_form_has_large_answer_buttons_and_says_how_far_the_unit_is_from_its_quota(app, client, auth):
    cycle_id = make_cycle(app)
    units = unit_ids(app, cycle_id)
    record(app, cycle_id, "V05", "business", "phone")
    record(app, cycle_id, "V05", "business", "link")
    login(client, auth, "surveyor1")
    url = f"{BASE}/cycles/{cycle_id}/survey/interviews/new"
    page = text_of(client.get(url))
    assert f'<link rel="stylesheet" href="{BASE}/survey.css">' in page and "<style" not in page and "style=" not in page
    blocks = re.findall(r'<fieldset class="iv-q[^"]*" id="iv-q(\d+)".*?</fieldset>', page, re.S)
    assert blocks == [str(q) for q in question_ids(app, cycle_id)]  # one block per question
    first = re.search(r'<fieldset class="iv-q" id="iv-q\d+".*?</fieldset>', page, re.S).group(0)
    assert len(re.findall(r'<label class="iv-choice"><input type="radio"', first)) == 4
    assert 'id="quota-status"' in page and "so far / quota" not in page  # nothing chosen yet
    assert 'hx-target="#quota-status"' in page and 'hx-include="#iv-unit, #iv-category"' in page
    assert page.count('hx-sync="#quota-status:queue last"') == 2  # a late answer to the first change never wins
    status = client.get(url, query_string={"unit_id": units["V05"], "category": "business"},
                        headers={"HX-Request": "true", "HX-Target": "quota-status"})
    block = text_of(status)
    assert status.status_code == 200 and "<html" not in block and "<form" not in block
    assert "企业经营者" in block and "2 so far / quota 20" in block
    assert "0 so far / quota 20" in text_of(client.get(url, query_string={"unit_id": units["V06"], "category": "business"},
                                                      headers={"HX-Request": "true", "HX-Target": "quota-status"}))
    assert "so far" not in text_of(client.get(url, query_string={"unit_id": units["V06"]},
                                              headers={"HX-Request": "true", "HX-Target": "quota-status"}))
    css = client.get(f"{BASE}/survey.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and ".iv-choice" in css.get_data(as_text=True)
    assert "min-height: 52px" in css.get_data(as_text=True)
    auth.logout("zhen")
    login(client, auth, "hr", "jituan")
    assert client.get("/t/jituan/township/survey.css").status_code == 404  # a tenant without the scheme


def test_progress_takes_the_same_few_queries_whatever_the_number_of_responses(app):
    cycle_id = make_cycle(app)

    def queries() -> int:
        with tenant(app, "zhen") as db:
            cycle = db.get(Cycle, cycle_id)
            seen = []
            engine = db.get_bind()
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                service.progress(cycle)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            return len(seen)

    few = queries()
    for code in unit_ids(app, cycle_id):
        for category in CATEGORIES:
            record(app, cycle_id, code, category, "phone")
    assert queries() == few <= 3


# ----------------------------------------------------------------------------------- who may do what

def test_who_may_open_which_survey_page(app, client, auth):
    cycle_id = make_cycle(app)
    pages = {"setup": f"{BASE}/cycles/{cycle_id}/survey", "new": f"{BASE}/cycles/{cycle_id}/survey/interviews/new",
             "list": f"{BASE}/cycles/{cycle_id}/survey/interviews", "progress": f"{BASE}/cycles/{cycle_id}/survey/progress",
             "index": f"{BASE}/survey"}
    expected = {
        "admin": {"setup": 200, "new": 200, "list": 200, "progress": 200, "index": 200},
        "mayor": {"setup": 403, "new": 403, "list": 403, "progress": 200, "index": 200},
        "surveyor1": {"setup": 403, "new": 200, "list": 200, "progress": 200, "index": 200},
        "luxiaoyan": {"setup": 403, "new": 403, "list": 403, "progress": 403, "index": 403},
        "employee": {"setup": 403, "new": 403, "list": 403, "progress": 403, "index": 403},
    }
    for username, statuses in expected.items():
        login(client, auth, username)
        got = {name: client.get(url).status_code for name, url in pages.items()}
        assert got == statuses, username
        if statuses["new"] == 403:
            assert interview(client, app, cycle_id, key="c" * 32).status_code == 403
        if statuses["setup"] == 403:
            assert client.post(f"{pages['setup']}/quotas", data={"quota-rural": "1"}).status_code == 403
        auth.logout("zhen")
    assert responses(app) == []


def test_the_cycle_links_and_the_surveyors_menu(app, client, auth):
    login(client, auth, "surveyor1")
    home = text_of(client.get("/t/zhen/"))
    assert re.search(f'href="{BASE}/survey"[^>]*>Interviews<', home)  # no open cycle: the survey's index, empty
    assert "No township cycle has a survey yet" in text_of(client.get(f"{BASE}/survey"))
    cycle_id = make_cycle(app)
    home = text_of(client.get("/t/zhen/"))
    assert f'href="{BASE}/cycles/{cycle_id}/survey/interviews"' in home and ">Interviews<" in home
    assert ">Public evaluation<" not in home
    second = make_cycle(app, "2026-Q1", "一季度")
    home = text_of(client.get("/t/zhen/"))
    assert f'href="{BASE}/survey"' in home
    listing = text_of(client.get(f"{BASE}/survey"))
    assert f"/cycles/{cycle_id}/survey/interviews/new" in listing and f"/cycles/{second}/survey/interviews/new" in listing
    assert f"/cycles/{cycle_id}/survey\"" not in listing and "/links" not in listing  # no setup, no links
    auth.logout("zhen")
    login(client, auth)
    page = text_of(client.get(f"/t/zhen/cycles/{cycle_id}"))
    for path, label in (("survey", "Survey setup"), ("survey/interviews", "Interviews"),
                        ("survey/progress", "Survey progress")):
        assert f'href="{BASE}/cycles/{cycle_id}/{path}">{label}<' in page
    home = text_of(client.get("/t/zhen/"))
    assert re.search(f'href="{BASE}/survey"[^>]*>Public evaluation<', home)  # the office's menu entry
    auth.logout("zhen")
    login(client, auth, "mayor")
    page = text_of(client.get(f"/t/zhen/cycles/{cycle_id}"))
    assert f"{BASE}/cycles/{cycle_id}/survey/progress" in page and f'{BASE}/cycles/{cycle_id}/survey"' not in page
    assert f"{BASE}/cycles/{cycle_id}/survey/interviews" not in page
    assert re.search(f'href="{BASE}/survey"[^>]*>Public evaluation<', text_of(client.get("/t/zhen/")))


def test_the_survey_index_lists_the_schemes_cycles_with_the_pages_each_role_may_open(app, client, auth):
    draft = make_cycle(app, "2026-Q3", "三季度", state="draft")
    current = make_cycle(app, "2026-Q2", "二季度")
    done = make_cycle(app, "2026-Q1", "一季度")
    record(app, current, "V01")
    record(app, current, "V02", channel="link")
    to_review(app, done)

    def row(page, cycle_id):
        found = re.search(r'<tr id="cycle-%d">(.*?)</tr>' % cycle_id, page, re.S)
        return found.group(1) if found else None

    def actions(page, cycle_id):
        cell = re.search(r'<td class="actions">(.*?)</td>', row(page, cycle_id), re.S).group(1)
        assert not cell.strip().startswith("·") and not cell.strip().endswith("·")  # no stray separator
        return re.findall(r'href="[^"]*?/cycles/\d+/([a-z/]+)">', cell)

    login(client, auth, "mayor")
    page = text_of(client.get(f"{BASE}/survey"))
    assert row(page, draft) is None  # drafts: the office's only
    assert actions(page, current) == ["survey/progress"] and actions(page, done) == ["survey/progress"]
    assert re.search(r'<td class="number">2</td>', row(page, current)) and "In review" in row(page, done)
    auth.logout("zhen")

    login(client, auth)
    page = text_of(client.get(f"{BASE}/survey"))
    assert actions(page, draft) == ["survey/interviews", "survey/progress", "survey", "links"]
    assert actions(page, current) == ["survey/interviews/new", "survey/interviews", "survey/progress", "survey", "links"]
    assert actions(page, done) == ["survey/interviews", "survey/progress", "survey", "links"]
    assert f'href="/t/zhen/township/cycles/{current}/links"' in page
    auth.logout("zhen")

    login(client, auth, "surveyor1")
    page = text_of(client.get(f"{BASE}/survey"))
    assert row(page, draft) is None
    assert actions(page, current) == ["survey/interviews/new", "survey/interviews", "survey/progress"]
    assert actions(page, done) == ["survey/interviews", "survey/progress"]


def test_the_office_has_the_links_page_among_the_survey_tabs(app, client, auth):
    cycle_id = make_cycle(app)
    login(client, auth)
    for path in ("survey", "survey/progress", "survey/interviews", "survey/interviews/new"):
        page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/{path}"))
        tabs = re.search(r'<nav class="tabs survey-tabs"[^>]*>(.*?)</nav>', page, re.S).group(1)
        assert re.findall(r">([^<]+)</a>", tabs) == ["Survey setup", "Interviews", "Survey progress", "Survey links"]
        assert f'href="{BASE}/cycles/{cycle_id}/links"' in tabs, path
    auth.logout("zhen")
    login(client, auth, "surveyor1")
    page = text_of(client.get(f"{BASE}/cycles/{cycle_id}/survey/progress"))
    tabs = re.search(r'<nav class="tabs survey-tabs"[^>]*>(.*?)</nav>', page, re.S).group(1)
    assert "/links" not in tabs and re.findall(r">([^<]+)</a>", tabs) == ["Interviews", "Survey progress"]


# ----------------------------------------------------------------------------------- other tenants

def test_another_tenants_cycle_and_records_are_404(app, client, auth):
    cycle_id = make_cycle(app)
    record(app, cycle_id, "V01", actor="user:surveyor1")
    with tenant(app, "zhen") as db:
        response_id = db.scalar(select(SurveyResponse.id))
    qid = question_ids(app, cycle_id)[0]
    paths = ["survey", "survey/progress", "survey/interviews", "survey/interviews/new",
             f"survey/questions/{qid}/edit", f"survey/questions/{qid}/delete", f"survey/interviews/{response_id}/delete"]
    login(client, auth, "hr", "jituan")
    for path in paths:
        assert client.get(f"/t/jituan/township/cycles/{cycle_id}/{path}").status_code == 404, path
    assert client.get("/t/jituan/township/survey").status_code == 404
    assert client.post(f"/t/jituan/township/cycles/{cycle_id}/survey/interviews/{response_id}/delete").status_code == 404
    assert client.post(f"/t/jituan/township/cycles/{cycle_id}/survey/quotas", data={"quota-rural": "1"}).status_code == 404
    auth.logout("jituan")

    with tenant(app, "jituan") as db:  # a cycle of another tenant under zhen's address
        other = cycles.create_cycle("corporate-grading", "2026-09", "9月", {}, "test")
        db.commit()
        other_id = other.id
    second = make_cycle(app, "2026-Q2", "二季度")
    login(client, auth)
    for path in paths[:4]:
        assert client.get(f"{BASE}/cycles/{other_id}/{path}").status_code == 404, path
    # a question and an interview of one cycle under another cycle's address
    assert client.get(f"{BASE}/cycles/{second}/survey/questions/{qid}/edit").status_code == 404
    assert client.get(f"{BASE}/cycles/{second}/survey/interviews/{response_id}/delete").status_code == 404
    assert len(responses(app)) == 1 and len(questions_of(app, cycle_id)) == 12


# ----------------------------------------------------------------------------------- in a browser

@pytest.mark.browser
def test_in_a_browser_at_a_phones_width_an_interview_is_recorded_and_the_progress_refreshes_itself(app, page):
    from tests.test_browser import expect, login as browser_login

    cycle_id = make_cycle(app)
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "zhen", "surveyor1")
    page.goto(f"{page.base}{BASE}/cycles/{cycle_id}/survey/interviews/new")
    page.select_option("#iv-unit", str(unit_ids(app, cycle_id)["V04"]))
    page.select_option("#iv-category", "rural")
    expect(page.locator("#quota-status")).to_contain_text("已 0 / 配额 20")  # htmx on change
    for choice in page.locator(".iv-choice").all()[:6]:  # large tap targets, two a row at a phone's width
        box = choice.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 120, box
    page.locator("label.iv-choice", has_text="电话调查").click()  # the whole button is the target
    for qid in question_ids(app, cycle_id):
        page.check(f"input[name=q{qid}][value=basically_satisfied]")
    page.click("button[name=another]")
    expect(page.locator(".flash.success")).to_contain_text("北坪村")
    expect(page.locator("#iv-unit")).to_have_value(str(unit_ids(app, cycle_id)["V04"]))
    expect(page.locator("input[name=channel][value=phone]")).to_be_checked()
    expect(page.locator("#quota-status")).to_contain_text("已 1 / 配额 20")
    assert responses(app, cycle_id)[0][:7] == (unit_ids(app, cycle_id)["V04"], "rural", "phone", 0, 12, 0, 0)

    page.goto(f"{page.base}{BASE}/cycles/{cycle_id}/survey/progress")
    row = page.locator(f"#unit-{unit_ids(app, cycle_id)['V05']}")
    expect(row.locator("[data-channel=link]")).to_have_text("0")
    record(app, cycle_id, "V05", "urban", "link")
    expect(row.locator("[data-channel=link]")).to_have_text("1", timeout=12_000)  # polled, not reloaded
    assert page.problems == []
