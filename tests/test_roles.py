"""Roles: what the access policy lets each kind of account open."""
from __future__ import annotations

import pytest

from core.policy import PERMISSIONS
from tests.test_isolation import build, tenant_rules

ADMIN_PERMISSIONS = {"org.manage", "audit.view"}


def _own_ids(app, slug="jituan"):
    from tests.test_isolation import other_tenant_ids

    return other_tenant_ids(app, slug)


@pytest.mark.parametrize("tenant,username", [("jituan", "employee"), ("xiaoshou", "employee"), ("zhen", "surveyor1")])
def test_employee_cannot_reach_admin_pages(app, client, auth, tenant, username):
    ids = _own_ids(app, tenant)
    assert auth.login(tenant, username).status_code == 302
    checked = 0
    for rule in tenant_rules(app):
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        if permission is None or "*" in PERMISSIONS[permission]:
            continue  # public, or open to every account (home, one's own results)
        url = build(app, rule, {"tenant": tenant, **{a: ids[a] for a in rule.arguments - {"tenant"}}})
        for method in sorted({"GET", "POST"} & rule.methods):
            response = client.open(url, method=method)
            assert response.status_code == 403, f"{username}: {method} {url} answered {response.status_code}"
            checked += 1
    assert checked >= 10
    assert client.get(f"/t/{tenant}/").status_code == 200


def test_leader_sees_the_organisation_but_cannot_change_it(client, auth):
    auth.login("jituan", "president")
    assert client.get("/t/jituan/org/units").status_code == 200
    assert client.get("/t/jituan/org/people").status_code == 200
    assert client.get("/t/jituan/org/units/new").status_code == 403
    assert client.get("/t/jituan/audit/").status_code == 403


def test_menu_shows_only_what_the_role_may_open(client, auth):
    auth.login("jituan", "employee")
    page = client.get("/t/jituan/").get_data(as_text=True)
    assert "/t/jituan/org/units" not in page and "/t/jituan/audit/" not in page
    auth.logout()
    auth.login("jituan", "hr")
    page = client.get("/t/jituan/").get_data(as_text=True)
    assert "/t/jituan/org/units" in page and "/t/jituan/audit/" in page


def test_logged_out_visitor_is_sent_to_login(client):
    response = client.get("/t/jituan/org/units")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/t/jituan/login?next=")
    htmx = client.get("/t/jituan/org/units", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "/t/jituan/login" in htmx.headers["HX-Redirect"]
