"""`jixiao township ...`: commands of the township scheme."""
from __future__ import annotations

import time
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.db import db_session
from core.models import Cycle, Tenant
from core.tenancy import set_tenant


@click.group("township", cls=AppGroup)
def township_cli() -> None:
    """Commands of the gov-public-evaluation scheme (the township)."""


@township_cli.command("demo-year")
@click.argument("tenant_slug", default="zhen")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="The year made, as it stands on 21 November [default: this year from November on, "
                   "else last year].")
def demo_year(tenant_slug: str, year: int | None) -> None:
    """Make a year of township demo data for a demo tenant: four quarters (three published, the
    fourth open) and the annual cycle in review, with points, survey answers from both ways in,
    inspections and information reports (demonstrations only). Does nothing when the year's first
    quarter exists."""
    from plugins.gov_public_evaluation.demo.year import SCHEME_ID, build

    if current_app.config["ENV_MODE"] == "production":
        raise click.ClickException("demo-year: not allowed in production mode (it makes demo records)")
    today = date.today()
    year = year or (today.year if today.month >= 11 else today.year - 1)
    tenant = db_session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {tenant_slug!r}; load it first with `jixiao tenant load --demo`")
    if date(year, 11, 21) > today:
        raise click.BadParameter(f"{year}: the demo year stands on 21 November of it, which has not come yet; "
                                 f"choose {today.year - 1 if today.month < 11 else today.year} or earlier",
                                 param_hint="--year")
    set_tenant(db_session, tenant.id)
    if db_session.scalar(select(Cycle.id).where(Cycle.scheme_id == SCHEME_ID, Cycle.period == f"{year}-Q1")):
        click.echo(f"{tenant_slug}: the township year {year} is already there; nothing made")
        return
    started = time.perf_counter()
    from plugins.gov_public_evaluation.points.service import PointsError

    try:
        made = build(year, date(year, 11, 21))
    except (ValueError, PointsError) as exc:  # a service refused a record (CycleError, the features' errors)
        raise click.ClickException(f"demo-year: {exc}") from None
    db_session.commit()
    click.echo(f"{tenant_slug}: made {len(made.cycles)} cycles ({', '.join(made.cycles)}), {made.entries} indicator "
               f"entries, {made.interviews} interviews, {made.link_answers} answers through links, "
               f"{made.findings} inspection findings, {made.reports} information reports "
               f"in {time.perf_counter() - started:.1f} s")


@township_cli.command("export-case")
@click.argument("tenant_slug")
@click.argument("period")
@click.option("--name", default=None, help="The cycle's name, when the period has several cycles.")
def export_case(tenant_slug: str, period: str, name: str | None) -> None:
    """Print the case file (JSON, docs/casefile.md) of the township cycle of PERIOD (2026, 2026-Q3):
    the inputs its results were computed from, as `jixiao score` reads them."""
    import json

    from core.cycles.service import case_of

    tenant = db_session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {tenant_slug!r}")
    set_tenant(db_session, tenant.id)
    statement = select(Cycle).where(Cycle.scheme_id == "gov-public-evaluation", Cycle.period == period)
    if name is not None:
        statement = statement.where(Cycle.name == name)
    found = list(db_session.scalars(statement.order_by(Cycle.id)))
    if not found:
        raise click.ClickException(f"{tenant_slug} has no township cycle of {period!r}")
    if len(found) > 1:
        raise click.ClickException(f"{tenant_slug} has {len(found)} cycles of {period}; choose one with --name: "
                                   + ", ".join(repr(c.name) for c in found))
    click.echo(json.dumps(case_of(found[0]), ensure_ascii=False, indent=1))
