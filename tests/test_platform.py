"""The platform administration: tenants and plugins, never a tenant's people."""
from __future__ import annotations

import pytest


@pytest.fixture
def platform_admin(runner):
    result = runner.invoke(args=["platform", "create-admin", "root", "--password", "platform-secret"])
    assert result.exit_code == 0, result.output
    return ("root", "platform-secret")


def test_platform_admin_sees_tenants_and_plugins(client, platform_admin):
    assert client.get("/platform/").status_code == 302
    response = client.post("/platform/login", data={"username": "root", "password": "platform-secret"})
    assert response.status_code == 302
    page = client.get("/platform/").get_data(as_text=True)
    for text in ("jituan", "xiaoshou", "zhen", "华信控股集团", "plugins.corporate_grading", "gov-public-evaluation"):
        assert text in page
    assert "<td>60</td>" in page  # jituan's people, as a count
    assert "人力资源部经理" not in page  # but nobody's details


def test_platform_admin_cannot_open_tenant_pages(client, platform_admin):
    client.post("/platform/login", data={"username": "root", "password": "platform-secret"})
    response = client.get("/t/jituan/org/people")
    assert response.status_code == 302 and "/t/jituan/login" in response.headers["Location"]


def test_tenant_admin_cannot_open_the_platform_page(client, auth):
    auth.login("jituan", "hr")
    response = client.get("/platform/")
    assert response.status_code == 302 and "/platform/login" in response.headers["Location"]


def test_wrong_platform_password_is_refused(client, platform_admin):
    response = client.post("/platform/login", data={"username": "root", "password": "nope-nope"})
    assert response.status_code == 200 and "用户名或密码错误" in response.get_data(as_text=True)


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(args=["platform", "create-admin", "root", "--password", "short"])
    assert result.exit_code == 2 and "too short" in result.output


def test_set_password_command(runner, auth):
    result = runner.invoke(args=["user", "set-password", "zhen", "mayor", "--password", "new-secret-1"])
    assert result.exit_code == 0, result.output
    assert auth.login("zhen", "mayor", "new-secret-1").status_code == 302
    missing = runner.invoke(args=["user", "set-password", "zhen", "nobody", "--password", "new-secret-1"])
    assert missing.exit_code == 2 and "'nobody' is not an account of tenant 'zhen'" in missing.output
