"""Account commands: ``jixiao user set-password``."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask import Flask
from sqlalchemy import select

from core.audit import record
from core.db import db_session
from core.passwords import hash_password
from core.tenancy import set_tenant
from core.models import Tenant


@click.group("user", cls=AppGroup)
def user_cli() -> None:
    """Tenant accounts."""


@user_cli.command("set-password")
@click.argument("tenant_slug")
@click.argument("username")
@click.password_option(prompt="New password")
def set_password(tenant_slug: str, username: str, password: str) -> None:
    """Set the password of a tenant account (prompts twice; or pass --password)."""
    from core.models import User

    tenant = db_session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        click.echo(f"tenant: {tenant_slug!r} does not exist", err=True)
        sys.exit(2)
    set_tenant(db_session, tenant.id)
    user = db_session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"username: {username!r} is not an account of tenant {tenant_slug!r}", err=True)
        sys.exit(2)
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    record("set_password", user, actor="cli")
    db_session.commit()
    click.echo(f"password set for {username} in {tenant_slug}")


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
