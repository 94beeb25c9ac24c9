"""The platform administration: tenants and plugins across the portal (counts, never people)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask import (Blueprint, Flask, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from sqlalchemy import func, select

from core.auth import LoginForm, _login_limit
from core.db import db_session
from core.i18n import safe_return_path
from core.models import OrgUnit, Person, PlatformAdmin, Tenant, TenantScheme, User
from core.passwords import hash_password, verify_password
from core.plugins import get_schemes, loaded_plugins
from core.policy import platform_admin_required
from core.security import limiter
from core.tenancy import all_tenants
from core.tenant_files import DEMO_PASSWORD

bp = Blueprint("platform", __name__, url_prefix="/platform")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log in as a platform administrator."""
    form = LoginForm()
    if form.validate_on_submit():
        admin = db_session.scalar(select(PlatformAdmin).where(PlatformAdmin.username == form.username.data.strip().lower()))
        if verify_password(admin.password_hash if admin else None, form.password.data) and admin and admin.active:
            locale = session.get("locale")
            session.clear()
            if locale:
                session["locale"] = locale
            login_user(admin)
            return redirect(safe_return_path(request.args.get("next"), url_for("platform.index")))
        flash(_("Wrong username or password."), "error")
    return render_template("platform/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out of the platform administration."""
    logout_user()
    session.clear()
    return redirect(url_for("platform.login"))


def _counts(model) -> dict[int, int]:
    return dict(db_session.execute(select(model.tenant_id, func.count()).group_by(model.tenant_id)).all())


@bp.get("/")
@platform_admin_required
def index():
    """Every tenant with its size and schemes; every loaded plugin and who uses its schemes."""
    with all_tenants(db_session):
        tenants = db_session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        units, people, accounts = _counts(OrgUnit), _counts(Person), _counts(User)
        enabled = db_session.execute(
            select(TenantScheme.tenant_id, TenantScheme.scheme_id).where(TenantScheme.enabled.is_(True))
        ).all()
    by_tenant: dict[int, list[str]] = {}
    by_scheme: dict[str, list[str]] = {}
    slugs = {t.id: t.slug for t in tenants}
    for tenant_id, scheme_id in enabled:
        by_tenant.setdefault(tenant_id, []).append(scheme_id)
        by_scheme.setdefault(scheme_id, []).append(slugs.get(tenant_id, "?"))
    return render_template(
        "platform/index.html", tenants=tenants, units=units, people=people, accounts=accounts,
        by_tenant=by_tenant, by_scheme=by_scheme, plugins=loaded_plugins(current_app.extensions["jixiao.plugins"]),
        schemes=get_schemes(),
    )


@click.group("platform", cls=AppGroup)
def platform_cli() -> None:
    """Platform administrators."""


@platform_cli.command("create-admin")
@click.argument("username")
@click.option("--demo", is_flag=True, help=f"Use the demo password {DEMO_PASSWORD!r} (development only).")
@click.option("--password", help="The password (prompted when omitted).")
def create_admin(username: str, demo: bool, password: str | None) -> None:
    """Create a platform administrator, or reset its password."""
    if demo:
        if current_app.config["ENV_MODE"] == "production":
            click.echo("--demo: not allowed in production mode", err=True)
            sys.exit(2)
        password = DEMO_PASSWORD
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    username = username.strip().lower()
    admin = db_session.scalar(select(PlatformAdmin).where(PlatformAdmin.username == username))
    if admin is not None and verify_password(admin.password_hash, password):
        click.echo(f"platform admin {username} unchanged")
        return
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    if admin is None:
        admin = PlatformAdmin(username=username)
        db_session.add(admin)
    admin.password_hash = password_hash
    db_session.commit()
    click.echo(f"platform admin {username} ready")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(platform_cli)
