"""The township scheme's card on the home page (plugins/gov_public_evaluation/todo.py): per role,
what the scheme asks of the user now. The office: per open or in-review cycle the units with
indicator points missing, without a scorable survey answer and below quota, this year's inspection
rounds when fewer than two, the cycles in review waiting to be computed or published; surveyors:
the open surveys and their units below quota; unit heads: rankings of their units published lately;
leaders: the cycles in review. A few queries whatever the number of cycles and units."""
from __future__ import annotations

import html
import inspect
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import g
from flask_babel import force_locale
from sqlalchemy import event, select, update

from core.cycles import service as cycles
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, Tenant, User
from core.schemes_web import scheme_home_panel
from core.tenancy import set_tenant
from plugins.gov_public_evaluation import SCHEME
from plugins.gov_public_evaluation.inspections import service as inspections
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from plugins.gov_public_evaluation.points.models import IndicatorEntry
from plugins.gov_public_evaluation.points import service as points
from plugins.gov_public_evaluation.todo import NEW_DAYS, todo
from tests.test_cycles import tenant
from tests.test_township_survey import CATEGORIES, make_cycle, record, unit_ids

SLUG = "zhen"
TODAY = date(2026, 8, 10)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    """Inspection rounds are counted for the year of "today"."""
    monkeypatch.setattr(inspections, "today", lambda: TODAY)


@contextmanager
def signed_in(app, username: str):
    """A request of ``username`` on the township tenant, in English: what the home page calls todo() with."""
    with app.test_request_context("/"), force_locale("en"):
        row = db_session.scalar(select(Tenant).where(Tenant.slug == SLUG))
        g.tenant = row
        set_tenant(db_session, row.id)
        yield db_session.scalar(select(User).where(User.username == username))


def todos(app, username: str) -> list[tuple[str, str]]:
    with signed_in(app, username) as user:
        return [(item.label, item.url) for item in todo(user)]


def labels(app, username: str) -> list[str]:
    return [label for label, _url in todos(app, username)]


def fill_points(app, cycle_id: int, codes) -> None:
    """Every indicator that applies to these units entered (0 points will do)."""
    with tenant(app, SLUG) as db:
        cycle = db.get(Cycle, cycle_id)
        groups = points.tree_of(cycle)
        for subject in db.scalars(select(CycleSubject).where(CycleSubject.cycle_id == cycle_id,
                                                             CycleSubject.code.in_(list(codes)))):
            for _group, leaves in points.applicable(groups, subject.code, subject.unit_kind):
                for leaf in leaves:
                    db.add(IndicatorEntry(cycle_id=cycle_id, unit_id=subject.unit_id, code=leaf.code, points="0",
                                          entered_by="test"))
        db.commit()


def finding(app, day: date) -> None:
    with tenant(app, SLUG) as db:
        unit = db.scalar(select(OrgUnit.id).where(OrgUnit.code == "V01"))
        db.add(InspectionFinding(day=day, unit_id=unit, item="工作纪律", points="1", evidence="test", recorded_by="test"))
        db.commit()


def answer_everywhere(app, cycle_id: int, category="urban") -> None:
    for code in unit_ids(app, cycle_id):
        record(app, cycle_id, code, category, "link", key=f"link:{cycle_id}:{code}:{category}")


def to_review(app, cycle_id: int) -> None:
    answer_everywhere(app, cycle_id)
    with tenant(app, SLUG) as db:
        cycles.transition(db.get(Cycle, cycle_id), "review", "test")
        db.commit()


def compute(app, cycle_id: int) -> None:
    with tenant(app, SLUG) as db:
        cycles.compute(db.get(Cycle, cycle_id), "test")
        db.commit()


def publish(app, cycle_id: int) -> None:
    with tenant(app, SLUG) as db:
        cycles.transition(db.get(Cycle, cycle_id), "published", "test")
        db.commit()


# ----------------------------------------------------------------------------------- the office

def test_the_office_is_told_the_units_missing_points_answers_and_quotas_per_open_cycle(app):
    cycle_id = make_cycle(app)
    got = todos(app, "admin")
    assert got[:3] == [
        ("2026 年度考评: 19 unit(s) with indicator points missing", f"/t/zhen/township/cycles/{cycle_id}/points"),
        ("2026 年度考评: 19 unit(s) without a scorable survey answer",
         f"/t/zhen/township/cycles/{cycle_id}/survey/progress?missing=1"),
        ("2026 年度考评: 19 of 19 unit(s) below the survey's sample quota",
         f"/t/zhen/township/cycles/{cycle_id}/survey/progress?below=1"),
    ]
    fill_points(app, cycle_id, ["V01", "DZB"])
    record(app, cycle_id, "V01", value="dont_know")  # a response, but nothing scorable
    record(app, cycle_id, "V02")
    with tenant(app, SLUG) as db:  # V03 reaches every quota
        from plugins.gov_public_evaluation.survey.models import SurveyQuota
        for quota in db.scalars(select(SurveyQuota).where(SurveyQuota.cycle_id == cycle_id)):
            quota.per_unit = 1
        db.commit()
    for category in CATEGORIES:
        record(app, cycle_id, "V03", category)
    got = labels(app, "admin")
    assert "2026 年度考评: 17 unit(s) with indicator points missing" in got
    assert "2026 年度考评: 17 unit(s) without a scorable survey answer" in got
    assert "2026 年度考评: 18 of 19 unit(s) below the survey's sample quota" in got


def test_the_office_is_told_when_this_year_has_fewer_than_two_inspection_rounds(app):
    inspections_url = "/t/zhen/township/inspections?year=2026"
    assert ("Inspections of 2026: 0 round(s) so far; at least 2 a year", inspections_url) in todos(app, "admin")
    finding(app, date(2026, 3, 5))
    finding(app, date(2026, 3, 20))  # the same month: the same round
    finding(app, date(2025, 9, 1))  # another year
    assert "Inspections of 2026: 1 round(s) so far; at least 2 a year" in labels(app, "admin")
    finding(app, date(2026, 7, 8))
    assert not any(label.startswith("Inspections") for label in labels(app, "admin"))
    assert not any(label.startswith("Inspections") for label in labels(app, "mayor"))  # the office's to-do


def test_the_office_is_told_the_cycles_in_review_waiting_to_be_computed_or_published(app):
    cycle_id = make_cycle(app, "2026-Q1", "一季度")
    fill_points(app, cycle_id, unit_ids(app, cycle_id))
    to_review(app, cycle_id)
    cycle_url = f"/t/zhen/cycles/{cycle_id}"
    got = todos(app, "admin")
    assert ("一季度 is in review and waits to be computed", cycle_url) in got
    assert not any("unit(s)" in label for label, _url in got)  # nothing missing in the cycle
    compute(app, cycle_id)
    got = todos(app, "admin")
    assert ("一季度 is computed and waits to be published", cycle_url) in got
    assert not any("waits to be computed" in label for label, _url in got)
    publish(app, cycle_id)
    assert not any("一季度" in label for label in labels(app, "admin"))


# ----------------------------------------------------------------------------------- surveyors

def test_a_surveyor_is_told_the_open_surveys_and_their_units_below_quota(app):
    assert todos(app, "surveyor1") == []  # no open cycle
    first = make_cycle(app, "2026-Q2", "二季度")
    second = make_cycle(app, "2026-Q3", "三季度")
    with tenant(app, SLUG) as db:
        from plugins.gov_public_evaluation.survey.models import SurveyQuota
        for quota in db.scalars(select(SurveyQuota).where(SurveyQuota.cycle_id == second)):
            quota.per_unit = 1 if quota.category == "urban" else 0
        db.commit()
    answer_everywhere(app, second)
    assert todos(app, "surveyor1") == [  # the newest period first
        ("Survey of 三季度 is open: every unit has reached its sample quota",
         f"/t/zhen/township/cycles/{second}/survey/progress"),
        ("Survey of 二季度: 19 of 19 unit(s) below the sample quota",
         f"/t/zhen/township/cycles/{first}/survey/progress?below=1"),
    ]
    got = labels(app, "surveyor1")  # a surveyor is never told about points, answers or rankings
    assert not any("points" in label or "scorable" in label or "Rankings" in label for label in got)


# ----------------------------------------------------------------------------------- unit heads

def test_a_unit_head_is_told_the_rankings_of_their_unit_published_lately(app):
    cycle_id = make_cycle(app, "2026-Q1", "一季度")
    to_review(app, cycle_id)
    compute(app, cycle_id)
    assert todos(app, "luxiaoyan") == []  # not published yet
    publish(app, cycle_id)
    with tenant(app, SLUG) as db:
        day = db.get(Cycle, cycle_id).published_at.strftime("%Y-%m-%d")
    rankings = f"/t/zhen/township/cycles/{cycle_id}/rankings"
    assert todos(app, "luxiaoyan") == [(f"Rankings of 一季度 published on {day}", rankings)]
    assert todos(app, "qichanglin") == [(f"Rankings of 一季度 published on {day}", rankings)]
    assert todos(app, "employee") == []

    other = make_cycle(app, "2026-Q2", "二季度 村")  # a cycle that does not assess the department
    with tenant(app, SLUG) as db:
        db.execute(update(CycleSubject).where(CycleSubject.cycle_id == other, CycleSubject.code == "DZB")
                   .values(eligible=False, excluded_reason="test"))
        db.commit()
    to_review(app, other)
    compute(app, other)
    publish(app, other)
    assert [label for label, _url in todos(app, "luxiaoyan")] == [f"Rankings of 一季度 published on {day}"]
    assert len(todos(app, "qichanglin")) == 2

    with tenant(app, SLUG) as db:  # no longer new after NEW_DAYS days
        db.execute(update(Cycle).where(Cycle.id == cycle_id).values(
            published_at=datetime.now(timezone.utc) - timedelta(days=NEW_DAYS + 1)))
        db.commit()
    assert todos(app, "luxiaoyan") == []


# ----------------------------------------------------------------------------------- leaders

def test_a_leader_is_told_the_cycles_in_review(app):
    assert todos(app, "mayor") == []
    cycle_id = make_cycle(app, "2026-Q1", "一季度")
    assert todos(app, "mayor") == []  # open: nothing for a leader yet
    to_review(app, cycle_id)
    assert todos(app, "mayor") == [("一季度 is in review, not computed yet", f"/t/zhen/cycles/{cycle_id}")]
    compute(app, cycle_id)
    assert todos(app, "mayor") == [("一季度 is in review: its rankings",
                                    f"/t/zhen/township/cycles/{cycle_id}/rankings")]
    publish(app, cycle_id)
    assert todos(app, "mayor") == []


# ----------------------------------------------------------------------------------- the card and its cost

def test_the_card_lists_the_todos_as_links(app):
    cycle_id = make_cycle(app)
    with signed_in(app, "surveyor1") as user:
        tenant_row = g.tenant
        panel = str(scheme_home_panel(SCHEME, tenant_row, "gov_public_evaluation/home_panel.html",
                                      todo=lambda: todo(user))[0])
        empty = str(scheme_home_panel(SCHEME, tenant_row, "gov_public_evaluation/home_panel.html")[0])
    panel = html.unescape(panel)
    assert "Your township assessment to-dos" in panel and 'id="township-todo"' in panel
    assert f'<a href="/t/zhen/township/cycles/{cycle_id}/survey/progress?below=1">Survey of 2026 年度考评' in panel
    assert 'id="township-todo"' not in empty  # without to-dos (or before the hook passes them): the core's card


def test_the_home_page_shows_the_card_once_the_hook_passes_the_todos(app, client, auth):
    from plugins.gov_public_evaluation import jixiao_tpl_home_panels

    if "todo" not in inspect.getsource(jixiao_tpl_home_panels):
        pytest.skip("plugins/gov_public_evaluation/__init__.py does not pass todo= to the card yet")
    cycle_id = make_cycle(app)
    client.post("/lang", data={"locale": "en"})
    assert auth.login(SLUG, "surveyor1").status_code == 302
    home = html.unescape(client.get("/t/zhen/").get_data(as_text=True))
    assert f'href="/t/zhen/township/cycles/{cycle_id}/survey/progress?below=1"' in home
    assert re.search(r'id="township-todo"', home)


def test_the_office_todos_take_the_same_few_queries_whatever_the_number_of_cycles(app):
    def queries() -> int:
        with signed_in(app, "admin") as user:
            seen = []
            engine = db_session.get_bind()
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                todo(user)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            return len(seen)

    make_cycle(app, "2026-Q1", "一季度")
    few = queries()
    for quarter in ("Q2", "Q3", "Q4"):
        cycle_id = make_cycle(app, f"2026-{quarter}", f"{quarter}")
        record(app, cycle_id, "V01")
    fill_points(app, cycle_id, ["V01", "V02"])
    assert queries() == few <= 10
