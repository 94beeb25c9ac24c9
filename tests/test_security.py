"""Security headers, the content security policy, and htmx served by the app."""
from __future__ import annotations

import re

import pytest

PAGES = ["/", "/t/jituan/login", "/t/jituan/", "/t/jituan/org/units", "/t/jituan/org/people",
         "/t/jituan/org/units/new", "/t/jituan/audit/", "/platform/login"]


def test_security_headers(client, auth):
    auth.login()
    response = client.get("/t/jituan/org/people")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_use_only_the_apps_own_scripts_and_styles(client, auth, path):
    auth.login()
    html = client.get(path).get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, f"{path} loads no script"
    for tag in scripts:
        src = re.search(r'src="([^"]+)"', tag)
        assert src and src.group(1).startswith("/static/"), f"{path}: {tag}"
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), f"{path} has an inline script"
    assert not re.search(r"\sstyle=\"", html), f"{path} has an inline style attribute"
    assert not re.search(r"\son[a-z]+=\"", html), f"{path} has an inline event handler"


def test_htmx_is_served_by_the_app(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.data[:2000]
    assert response.mimetype in ("text/javascript", "application/javascript")


def test_every_tenant_page_uses_only_the_apps_own_scripts_and_styles(app, client, auth):
    """Every GET page of a tenant (own ids filled in), not only the ones listed above: new pages
    are covered as they are added."""
    from tests.test_isolation import PUBLIC_TENANT_ENDPOINTS, build, other_tenant_ids, tenant_rules

    ids = other_tenant_ids(app, "jituan")
    auth.login("jituan", "hr")
    checked = 0
    for rule in tenant_rules(app):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_TENANT_ENDPOINTS:
            continue
        url = build(app, rule, {"tenant": "jituan", **{a: ids[a] for a in rule.arguments - {"tenant"}}})
        response = client.get(url)
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        html = response.get_data(as_text=True)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), f"{url} has an inline script"
        assert not re.search(r"\sstyle=\"", html), f"{url} has an inline style attribute"
        assert not re.search(r"\son[a-z]+=\"", html), f"{url} has an inline event handler"
        checked += 1
    assert checked >= 15
