"""Logging in and out: no user enumeration, rate limits, safe redirects, sessions bound to a tenant."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Tenant, User
from core.tenancy import set_tenant
from tests.conftest import make_test_app

GENERIC = "用户名或密码错误"


@pytest.mark.parametrize("tenant,username,name", [
    ("jituan", "hr", "华信控股集团"), ("xiaoshou", "admin", "恒通商贸有限公司"), ("zhen", "admin", "青山镇人民政府"),
])
def test_each_demo_tenant_logs_in_to_its_own_home(client, auth, tenant, username, name):
    response = auth.login(tenant, username)
    assert response.status_code == 302 and response.headers["Location"] == f"/t/{tenant}/"
    assert name in client.get(f"/t/{tenant}/").get_data(as_text=True)


def test_unknown_user_and_wrong_password_look_the_same(client, auth):
    unknown = auth.login("jituan", "nobody", "whatever-123")
    wrong = auth.login("jituan", "hr", "wrong-password")
    for response in (unknown, wrong):
        assert response.status_code == 200
        assert GENERIC in response.get_data(as_text=True)
    assert unknown.get_data(as_text=True).replace("nobody", "hr") == wrong.get_data(as_text=True)


def test_inactive_account_cannot_log_in(app, client, auth):
    from core.db import db_session

    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        db_session.scalar(select(User).where(User.username == "employee")).active = False
        db_session.commit()
    response = auth.login("jituan", "employee")
    assert response.status_code == 200 and GENERIC in response.get_data(as_text=True)


def test_an_account_exists_only_in_its_own_tenant(auth):
    response = auth.login("xiaoshou", "hr")  # hr is jituan's
    assert response.status_code == 200 and GENERIC in response.get_data(as_text=True)


def test_logout_needs_post_and_ends_the_session(client, auth):
    auth.login()
    assert client.get("/t/jituan/logout").status_code == 405
    assert auth.logout().status_code == 302
    assert client.get("/t/jituan/").status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/t/jituan/org/units", "/t/jituan/org/units"),
    ("//evil.example/steal", "/t/jituan/"),
    ("https://evil.example/", "/t/jituan/"),
    ("javascript:alert(1)", "/t/jituan/"),
])
def test_login_redirects_only_within_the_site(client, target, expected):
    response = client.post("/t/jituan/login", query_string={"next": target},
                           data={"username": "hr", "password": "jixiao-demo"})
    assert response.headers["Location"] == expected


def test_login_attempts_are_rate_limited(database_url):
    app = make_test_app(database_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/t/jituan/login", data={"username": "hr", "password": "bad-password"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # the limit is per account too: another address cannot continue guessing the same account
    other = client.post("/t/jituan/login", data={"username": "hr", "password": "bad"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 429
    app.extensions["jixiao.engine"].dispose()


def test_login_starts_a_fresh_session(client, auth):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["locale"] = "en"
    auth.login()
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["locale"] == "en"  # the chosen language survives


def test_forms_need_the_csrf_token(database_url):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/t/jituan/login", data={"username": "hr", "password": "jixiao-demo"}).status_code == 400
    page = client.get("/t/jituan/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post("/t/jituan/login", data={"username": "hr", "password": "jixiao-demo", "csrf_token": token})
    assert ok.status_code == 302
    # htmx requests carry the token in a header (hx-headers on <body>)
    home = client.get("/t/jituan/").get_data(as_text=True)
    header_token = home.split('"X-CSRFToken": "')[1].split('"')[0]
    no_token = client.post("/t/jituan/org/units/new", data={"code": "X1", "name": "x", "kind": "team"})
    assert no_token.status_code == 400
    with_token = client.post("/t/jituan/org/units/new", data={"code": "X1", "name": "x", "kind": "team"},
                             headers={"X-CSRFToken": header_token})
    assert with_token.status_code == 302
    app.extensions["jixiao.engine"].dispose()
