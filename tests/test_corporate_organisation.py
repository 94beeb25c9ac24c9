"""The corporate scheme's organisation: posts and oversight, their page, and how a new monthly cycle
takes each class A leader's overseen units from it (jixiao_event_cycle_created)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import AuditLog, OrgUnit, Person, User
from core.cycles import service as cycles
from plugins.corporate_grading.organisation import service
from plugins.corporate_grading.organisation.service import OrganisationError
from tests.test_cycles import tenant


def ids(db, model, column, *values):
    return [db.scalar(select(model.id).where(column == v)) for v in values]


def test_posts_and_oversight_are_set_read_and_audited(app):
    with tenant(app) as db:
        president, = ids(db, User, User.username, "president")
        hr, = ids(db, User, User.username, "hr")
        service.set_post("president", [president], "test")
        service.set_post("specialist", [hr], "test")
        leader, = ids(db, Person, Person.number, "J0004")
        fin, hr_unit = ids(db, OrgUnit, OrgUnit.code, "FIN", "HR")
        service.set_oversight(leader, [fin, hr_unit], "test")
        holders = service.post_holders()
        assert holders["president"] == [president] and holders["specialist"] == [hr] and holders["committee_chair"] == []
        assert service.holds(db.get(User, president), "president") and not service.holds(db.get(User, hr), "president")
        assert service.oversight() == {leader: [fin, hr_unit]}
        assert service.overseers() == {fin: [leader], hr_unit: [leader]}
        # a department of a subsidiary has no leader of its own: its subsidiary's leader supervises it
        sub1, sub1_fin = ids(db, OrgUnit, OrgUnit.code, "SUB1", "SUB1-ENG")
        assert service.supervising_leaders(sub1_fin) == []
        service.set_oversight(leader, [sub1], "test")
        assert service.supervising_leaders(sub1_fin) == [leader]
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.action.like("corp.%"))))
        assert actions == {"corp.post", "corp.oversight"}


@pytest.mark.parametrize("change, message", [
    (lambda db: service.set_post("mayor", [], "t"), "'mayor' is not a post; allowed: president, specialist"),
    (lambda db: service.set_post("president", ids(db, User, User.username, "president", "hr"), "t"),
     "President is held by one person; 2 were chosen."),
    (lambda db: service.set_post("specialist", [999999], "t"), "No active account has the id 999999."),
    (lambda db: service.set_oversight(ids(db, Person, Person.number, "J0043")[0], ids(db, OrgUnit, OrgUnit.code, "FIN"), "t"),
     "is class C; only class A leaders oversee units."),
])
def test_bad_changes_are_refused_with_a_reason(app, change, message):
    with tenant(app) as db:
        with pytest.raises(OrganisationError, match=re.escape(message)):
            change(db)


def test_jixiao_event_cycle_created_fills_a_new_monthly_cycle_with_the_overseen_units(app):
    with tenant(app) as db:
        leader, = ids(db, Person, Person.number, "J0004")
        service.set_oversight(leader, ids(db, OrgUnit, OrgUnit.code, "FIN", "HR"), "test")
        cycle = cycles.create_cycle("corporate-grading", "2026-09", "九月", {}, "test")
        by_code = {s.code: s for s in cycles.subjects(cycle)}
        assert by_code["J0004"].inputs == {"oversees": ["FIN", "HR"]}
        assert by_code["J0005"].inputs == {}  # a leader without oversight: HR enters it on the form


def test_the_organisation_page_is_hrs(client, auth, app):
    auth.login("jituan", "fengzhiqiang")
    assert client.get("/t/jituan/corporate/organisation").status_code == 403
    auth.logout()
    auth.login("jituan", "hr")
    page = client.get("/t/jituan/corporate/organisation").get_data(as_text=True)
    assert "考评专员" in page and "计划督办" in page
    with tenant(app) as db:
        president, = ids(db, User, User.username, "president")
        leader, = ids(db, Person, Person.number, "J0005")
        fin, = ids(db, OrgUnit, OrgUnit.code, "FIN")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/t/jituan/corporate/organisation/posts",
                           data={"csrf_token": token, "post": "president", "user_id": [str(president)]})
    assert response.status_code == 302
    client.post(f"/t/jituan/corporate/organisation/oversight/{leader}", data={"csrf_token": token, "unit_id": [str(fin)]})
    with tenant(app):
        assert service.post_holders()["president"] == [president]
        assert service.oversight() == {leader: [fin]}
    refused = client.post("/t/jituan/corporate/organisation/posts",
                          data={"csrf_token": token, "post": "president", "user_id": ["x1"]}, follow_redirects=True)
    assert "不是" in refused.get_data(as_text=True) or "is not an id" in refused.get_data(as_text=True)


def test_a_tenant_without_the_scheme_has_no_organisation_page(client, auth):
    auth.login("xiaoshou", "admin")
    assert client.get("/t/xiaoshou/corporate/organisation").status_code == 404
