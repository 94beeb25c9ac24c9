"""Tenant isolation through the web: a crawler walks every route in the URL map.

It logs in as the tenant administrator of ``jituan`` (the most privileged tenant account, so a
404 comes from tenant scoping and not from a role check) and requests every tenant route, with
every method, filled with the ids of ``xiaoshou``'s objects. New routes are covered automatically;
a route with an id argument the crawler does not know fails the test until it is added to
``OTHER_TENANT_OBJECTS``.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Appeal, Cycle, CycleResult, CycleSubject, OrgUnit, Person, Tenant
from core.tenancy import set_tenant
from plugins.corporate_grading.letters.models import LetterGoal, ResponsibilityLetter
from plugins.corporate_grading.plans.models import PlanItem, PlanSheet
from plugins.sales_attitude.competence.models import ImprovementPlan
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from plugins.gov_public_evaluation.links.models import SurveyToken, TokenBatch
from plugins.gov_public_evaluation.reports.models import InfoReport
from plugins.gov_public_evaluation.survey.models import SurveyQuestion, SurveyResponse
from plugins.sales_attitude.events.models import EventImport, SalesEvent

# URL argument name -> model whose id fills it
OTHER_TENANT_OBJECTS = {"unit_id": OrgUnit, "person_id": Person, "cycle_id": Cycle, "subject_id": CycleSubject,
                        "result_id": CycleResult, "appeal_id": Appeal, "letter_id": ResponsibilityLetter,
                        "goal_id": LetterGoal, "plan_item_id": PlanItem, "event_id": SalesEvent,
                        "plan_id": ImprovementPlan, "import_id": EventImport, "finding_id": InspectionFinding,
                        "report_id": InfoReport, "question_id": SurveyQuestion, "response_id": SurveyResponse,
                        "batch_id": TokenBatch}
# URL argument name -> (model, column) whose value fills it (not an id, yet another tenant's object)
OTHER_TENANT_KEYS = {"token": (SurveyToken, "token")}
# URL arguments that are not object ids -> a value that fills them
PLAIN_ARGS = {"fmt": "xlsx", "year": 2026, "code": "S1"}
# Routes under /t/<tenant> that may be used without logging in.
PUBLIC_TENANT_ENDPOINTS = {"auth.login", "auth.logout", "township_links.answer"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def tenant_rules(app):
    return [r for r in app.url_map.iter_rules() if "tenant" in r.arguments]


def computed_cycle(slug: str) -> Cycle:
    """A computed cycle of the demo tenant ``slug`` (in the current app context and tenant): open,
    every eligible subject's inputs set, results stored. Not committed."""
    from core.cycles import service
    from tests.test_cycles import fill_corporate_inputs

    scheme, period, inputs = {
        "jituan": ("corporate-grading", "2026-09", None),
        "xiaoshou": ("sales-attitude", "2026-09", {"ratings": {"basic_ability": "80", "proficiency": "80",
                                                              "coordination": "80", "service": "80"}}),
        "zhen": ("gov-public-evaluation", "2026", {"survey": {"rural": {"satisfied": "3"}}}),
    }[slug]
    cycle = service.create_cycle(scheme, period, f"{period} test cycle", {}, "test")
    service.transition(cycle, "open", "test")
    if inputs is None:
        fill_corporate_inputs(cycle)
    elif slug == "zhen":  # the township's inputs come from its records: one interview per unit
        from plugins.gov_public_evaluation.survey import service as survey

        answers = {str(q.id): "satisfied" for q in survey.questions(cycle.id)}
        for row in service.subjects(cycle):
            survey.record_response(cycle, row.unit_id, "rural", "household", f"test:{row.id}", answers, "test")
    else:
        for row in service.subjects(cycle):
            if row.kind == ("unit" if slug == "zhen" else "person"):
                service.set_inputs(row, cycle, inputs, row.inputs_version, "test")
    service.compute(cycle, "test")
    return cycle


def published_cycle_with_an_appeal(slug: str) -> Cycle:
    """A computed cycle of ``slug``, published, with one appeal filed against its first result."""
    from core.cycles import after, service
    from core.db import db_session

    cycle = computed_cycle(slug)
    service.transition(cycle, "review", "test")
    service.transition(cycle, "published", "test")
    first = db_session.scalar(select(CycleResult).where(CycleResult.cycle_id == cycle.id).order_by(CycleResult.id).limit(1))
    after.file_appeal(cycle, first, "the score does not count my extra work", "test")
    return cycle


def corporate_records() -> None:
    """A plan item and a responsibility letter with a goal, written directly: the other demo tenants
    do not use the corporate scheme, yet their ids must still be tried on its routes."""
    from core.db import db_session

    subject = db_session.scalar(select(CycleSubject).order_by(CycleSubject.id).limit(1))
    sheet = PlanSheet(cycle_id=subject.cycle_id, subject_id=subject.id, state="draft")
    letter = ResponsibilityLetter(year="2026", unit_id=db_session.scalar(select(OrgUnit.id).limit(1)), created_by="test")
    db_session.add_all([sheet, letter])
    db_session.flush()
    db_session.add_all([PlanItem(sheet_id=sheet.id, title="月度预算分析"),
                        LetterGoal(letter_id=letter.id, name="协作满意度", weight="100", kind="qualitative")])
    db_session.flush()


def sales_records() -> None:
    """An event and an improvement plan, written directly, so that every tenant's ids are tried on
    the sales routes (also tenants that do not use the sales scheme)."""
    from datetime import date

    from core.db import db_session

    person = db_session.scalar(select(Person.id).order_by(Person.id).limit(1))
    batch = EventImport(filename="考勤.csv", imported=1, duplicates=0, created_by="test")
    db_session.add(batch)
    db_session.flush()
    db_session.add_all([
        SalesEvent(person_id=person, day=date(2026, 9, 3), kind="late", quantity="1", note="", source="imported",
                   import_id=batch.id, dedupe_key="2026-09-03|late", created_by="test"),
        ImprovementPlan(person_id=person, kind="training", period="2026-09", listed_months=["2026-09"], goals="目标",
                        actions="措施", start_month="2026-10", end_month="2026-11", state="open", created_by="test")])
    db_session.flush()


def township_records() -> None:
    """A finding, a report, a survey question and response, and a link batch with its token,
    written directly, so that every tenant's ids are tried on the township routes."""
    from datetime import date

    from core.db import db_session

    cycle_id = db_session.scalar(select(Cycle.id).order_by(Cycle.id).limit(1))
    unit_id = db_session.scalar(select(OrgUnit.id).order_by(OrgUnit.id).limit(1))
    batch = TokenBatch(cycle_id=cycle_id, category="rural", size=1, created_by="test")
    question = (db_session.scalar(select(SurveyQuestion).where(SurveyQuestion.cycle_id == cycle_id).limit(1))
                or SurveyQuestion(cycle_id=cycle_id, position=1, topic="经济发展", text_zh="您是否满意?"))
    db_session.add_all([batch, question,
                        InspectionFinding(day=date(2026, 4, 2), unit_id=unit_id, item="工作作风", points="1",
                                          evidence="暗访记录", recorded_by="test"),
                        InfoReport(day=date(2026, 4, 2), unit_id=unit_id, title="春耕生产", recorded_by="test")])
    db_session.flush()
    token = SurveyToken(token="isolation-token-0001", cycle_id=cycle_id, batch_id=batch.id, unit_id=unit_id,
                        category="rural")
    db_session.add(token)
    db_session.flush()
    db_session.add(SurveyResponse(cycle_id=cycle_id, unit_id=unit_id, category="rural", channel="household",
                                  submission_key="interview:isolation", answers={str(question.id): "satisfied"},
                                  satisfied=1, entered_by="test"))
    db_session.flush()


def other_tenant_ids(app, slug="xiaoshou") -> dict[str, int]:
    """The first id of each kind of object of tenant ``slug``. When the tenant has no results yet, a
    published cycle with an appeal is made first, so that cycle, subject, result and appeal routes
    have ids to be filled with."""
    from core.db import db_session

    with app.app_context():
        tenant = db_session.scalar(select(Tenant).where(Tenant.slug == slug))
        set_tenant(db_session, tenant.id)
        if db_session.scalar(select(CycleResult.id).limit(1)) is None:
            published_cycle_with_an_appeal(slug)
            db_session.commit()
        if db_session.scalar(select(PlanItem.id).limit(1)) is None:
            corporate_records()
            db_session.commit()
        if db_session.scalar(select(SalesEvent.id).limit(1)) is None:
            sales_records()
            db_session.commit()
        if db_session.scalar(select(InspectionFinding.id).limit(1)) is None:
            township_records()
            db_session.commit()
        ids = {arg: db_session.scalars(select(model.id).order_by(model.id)).first()
               for arg, model in OTHER_TENANT_OBJECTS.items()}
        ids.update({arg: db_session.scalars(select(getattr(model, column)).order_by(model.id)).first()
                    for arg, (model, column) in OTHER_TENANT_KEYS.items()})
        return {**ids, **PLAIN_ARGS}


def build(app, rule, values) -> str:
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))


# (the tenant whose HR walks the routes, the tenant whose ids fill them): each scheme's own routes are
# walked by a tenant that uses the scheme
CRAWLS = [("jituan", "hr", "xiaoshou"), ("xiaoshou", "admin", "jituan"), ("zhen", "admin", "xiaoshou")]


@pytest.mark.parametrize("viewer, username, owner", CRAWLS)
def test_every_object_route_hides_other_tenants_objects(app, client, auth, viewer, username, owner):
    ids = other_tenant_ids(app, owner)
    assert auth.login(viewer, username).status_code == 302
    checked = 0
    for rule in tenant_rules(app):
        object_args = rule.arguments - {"tenant"}
        if not object_args - set(PLAIN_ARGS):
            continue  # no object of anyone's in the URL (a template download)
        unknown = object_args - set(OTHER_TENANT_OBJECTS) - set(OTHER_TENANT_KEYS) - set(PLAIN_ARGS)
        assert not unknown, f"{rule.rule}: add {sorted(unknown)} to OTHER_TENANT_OBJECTS"
        url = build(app, rule, {"tenant": viewer, **{a: ids[a] for a in object_args}})
        for method in sorted(set(METHODS) & rule.methods):
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            checked += 1
    assert checked >= 10


def names_of(app, slug) -> set[str]:
    from core.db import db_session

    with app.app_context():
        tenant = db_session.scalar(select(Tenant).where(Tenant.slug == slug))
        set_tenant(db_session, tenant.id)
        return set(db_session.scalars(select(OrgUnit.name))) | set(db_session.scalars(select(Person.name)))


def test_pages_without_ids_show_nothing_of_other_tenants(app, client, auth):
    # Names both tenants use (人力资源部) prove nothing; look for the other tenant's own ones.
    foreign = sorted(names_of(app, "xiaoshou") - names_of(app, "jituan"))
    assert len(foreign) > 20
    auth.login("jituan", "hr")
    for rule in tenant_rules(app):
        if rule.arguments - {"tenant"} or "GET" not in rule.methods or rule.endpoint in PUBLIC_TENANT_ENDPOINTS:
            continue
        url = build(app, rule, {"tenant": "jituan"})
        for query in ("", "?q=", "?inactive=1"):
            body = client.get(url + query).get_data(as_text=True)
            leaked = [name for name in foreign if name in body]
            assert not leaked, f"GET {url}{query} shows {leaked[:3]}"


@pytest.mark.parametrize("slug", ["xiaoshou", "zhen"])
def test_a_session_of_one_tenant_opens_nothing_in_another(app, client, auth, slug):
    ids = other_tenant_ids(app, slug)
    auth.login("jituan", "hr")
    for rule in tenant_rules(app):
        if rule.endpoint in PUBLIC_TENANT_ENDPOINTS:
            continue
        url = build(app, rule, {"tenant": slug, **{a: ids[a] for a in rule.arguments - {"tenant"}}})
        for method in sorted(set(METHODS) & rule.methods):
            response = client.open(url, method=method)
            assert response.status_code in (302, 401), f"{method} {url} answered {response.status_code}"
            if response.status_code == 302:
                assert f"/t/{slug}/login" in response.headers["Location"]


def test_every_tenant_route_has_a_policy_decision(app):
    """Each tenant view either names a permission of the access policy or is public on purpose."""
    from core.policy import PERMISSIONS

    for rule in tenant_rules(app):
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "permission", None)
        assert permission in PERMISSIONS or rule.endpoint in PUBLIC_TENANT_ENDPOINTS, \
            f"{rule.endpoint} ({rule.rule}) has no @permission_required"
