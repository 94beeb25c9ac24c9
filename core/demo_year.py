"""What every scheme's `demo-year` command checks before it makes a year of demo data."""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timezone

import click
from flask import current_app
from sqlalchemy import select

from core.db import db_session
from core.models import Cycle, Tenant
from core.tenancy import set_tenant


def prepare(tenant_slug: str, scheme_id: str, label: str, year: int | None,
            current: str | None) -> tuple[int, str | None] | None:
    """Refuse production (the year makes accounts with the demo password), settle the year (default:
    last year) and the current month (default: this month when the year is last year), and bind the
    session to the tenant. :return: ``(year, current)``, or None when the year's January cycle of
    the scheme is already there (the command then makes nothing)."""
    if current_app.config["ENV_MODE"] == "production":
        raise click.ClickException("demo-year: not allowed in production mode (it creates accounts with the demo password)")
    today = date.today()
    if year is None:
        year = today.year - 1
    if current is None and year == today.year - 1:
        current = f"{today.year}-{today.month:02d}"
    if current is not None and (not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", current) or int(current[:4]) != year + 1):
        raise click.BadParameter(f"{current!r} is not a month of {year + 1} written YYYY-MM", param_hint="--current")
    tenant = db_session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {tenant_slug!r}; load it first with `jixiao tenant load --demo`")
    set_tenant(db_session, tenant.id)
    if db_session.scalar(select(Cycle.id).where(Cycle.scheme_id == scheme_id, Cycle.period == f"{year}-01")):
        click.echo(f"{tenant_slug}: the {label} year {year} is already there; nothing made")
        return None
    return year, current


def read_old_notifications() -> None:
    """A demo's finished months were read long ago: only what the current month asks stays unread."""
    from sqlalchemy import update

    from core.models import Notification

    db_session.execute(update(Notification).where(Notification.read_at.is_(None))
                       .values(read_at=datetime.now(timezone.utc)).execution_options(synchronize_session=False))


def month_end(period: str) -> date:
    """The last day of a month written YYYY-MM."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def at(day: date, hour: int) -> datetime:
    """A demo step's moment: the day at the hour (UTC)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
