"""Logging in and out of a tenant.

No user enumeration: an unknown username, a wrong password, an inactive account and an account
without a password all get the same message after the same amount of hashing work. Attempts are
rate-limited per client address and per tenant account (Flask-Limiter; Redis when scaled out).
"""
from __future__ import annotations

from flask import (Blueprint, Flask, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.audit import record
from core.db import db_session
from core.i18n import safe_return_path
from core.models import PlatformAdmin, User
from core.passwords import needs_rehash, hash_password, verify_password
from core.security import limiter

bp = Blueprint("auth", __name__, url_prefix="/t/<tenant>")
login_manager = LoginManager()


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def load_user(user_id: str):
    """Session ids look like ``t<tenant id>:<user id>`` or ``p:<admin id>``; a tenant account is
    only ever loaded inside its own tenant's pages, a platform admin only outside them."""
    tenant = g.get("tenant")
    if user_id.startswith("p:"):
        if tenant is not None:
            return None
        return db_session.get(PlatformAdmin, int(user_id[2:]))
    if tenant is None or not user_id.startswith("t"):
        return None
    tenant_part, _sep, uid = user_id[1:].partition(":")
    if not (tenant_part.isdigit() and uid.isdigit()) or int(tenant_part) != tenant.id:
        return None
    return db_session.get(User, int(uid))


@login_manager.unauthorized_handler
def unauthorized():
    tenant = g.get("tenant")
    target = url_for("auth.login", next=request.full_path.rstrip("?")) if tenant else url_for("platform.login")
    if request.headers.get("HX-Request") == "true":
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _account_key() -> str:
    return f"{g.tenant.id}:{(request.form.get('username') or '').strip().lower()}"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
def login():
    """Log into the tenant in the path."""
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = db_session.scalar(select(User).where(User.username == username))
        ok = verify_password(user.password_hash if user else None, form.password.data)
        if ok and user is not None and user.active:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            locale = session.get("locale")
            session.clear()  # no session fixation across the login boundary
            if locale:
                session["locale"] = locale
            login_user(user)
            record("login", user, actor=f"user:{user.username}")
            db_session.commit()
            current_app.extensions["jixiao.plugins"].hook.jixiao_event_user_logged_in(tenant=g.tenant, user=user)
            return redirect(safe_return_path(request.args.get("next"), url_for("tenant_home.home")))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out and go back to the tenant's login page."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
