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
