"""`jixiao sales ...`: commands of the sales scheme."""
from __future__ import annotations

import re
import time
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.db import db_session
from core.models import Cycle, Tenant
from core.tenancy import set_tenant


@click.group("sales", cls=AppGroup)
def sales_cli() -> None:
    """Commands of the sales-attitude scheme."""


@sales_cli.command("demo-year")
@click.argument("tenant_slug", default="xiaoshou")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="The year made in full: 12 published monthly cycles [default: last year].")
@click.option("--current", default=None, metavar="YYYY-MM",
              help="Also make the next year's months up to this one: earlier months published, this one open "
                   "[default: this month, when --year is last year].")
def demo_year(tenant_slug: str, year: int | None, current: str | None) -> None:
    """Make a year of sales demo data for a demo tenant (for demonstrations only: it creates
    accounts with the demo password). Does nothing when the year's January cycle exists."""
    from plugins.sales_attitude.demo.year import SCHEME_ID, build

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
    if db_session.scalar(select(Cycle.id).where(Cycle.scheme_id == SCHEME_ID, Cycle.period == f"{year}-01")):
        click.echo(f"{tenant_slug}: the sales year {year} is already there; nothing made")
        return
    started = time.perf_counter()
    made = build(year, current)
    db_session.commit()
    click.echo(f"{tenant_slug}: made {len(made.cycles)} cycles ({made.cycles[0]} … {made.cycles[-1]}), "
               f"{made.events} events, {made.plans} improvement plans, {made.accounts} accounts "
               f"in {time.perf_counter() - started:.1f} s")
