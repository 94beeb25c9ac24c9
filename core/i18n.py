"""Languages: Chinese first, English second (Flask-Babel).

The UI language is, in order: the one the visitor picked (session), the account's own, the
tenant's, Chinese. Message ids are English; the Chinese catalog lives in ``core/translations/zh``.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

LANGUAGES = {"zh": "中文", "en": "English"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # commands and services outside a request
        tenant = g.get("tenant")
        return tenant.locale if tenant is not None else "zh"
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    user_locale = getattr(current_user, "locale", None)
    if user_locale in LANGUAGES:
        return user_locale
    tenant = g.get("tenant")
    if tenant is not None and tenant.locale in LANGUAGES:
        return tenant.locale
    return "zh"


def current_locale() -> str:
    return str(get_locale() or "zh")


def safe_return_path(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after a redirect-back."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default  # browsers read "/\\host" as "//host"
    return target


@bp.post("/lang")
def switch_language():
    """Remember the chosen UI language in the session and go back to the page."""
    code = request.form.get("locale", "")
    if code in LANGUAGES:
        session["locale"] = code
    return redirect(safe_return_path(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_locale"] = current_locale
