"""`jixiao corporate ...`: commands of the corporate scheme."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from core.db import db_session
from core.demo_year import prepare


@click.group("corporate", cls=AppGroup)
def corporate_cli() -> None:
    """Commands of the corporate-grading scheme."""


@corporate_cli.command("demo-year")
@click.argument("tenant_slug", default="jituan")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="The year made in full: 12 published monthly cycles and the published annual cycle "
                   "[default: last year].")
@click.option("--current", default=None, metavar="YYYY-MM",
              help="Also make the next year's months up to this one: earlier months published, this one open "
                   "[default: this month, when --year is last year].")
def demo_year(tenant_slug: str, year: int | None, current: str | None) -> None:
    """Make a year of corporate demo data for a demo tenant (for demonstrations only: it creates
    accounts with the demo password). Does nothing when the year's January cycle exists."""
    from plugins.corporate_grading.demo.year import SCHEME_ID, build

    prepared = prepare(tenant_slug, SCHEME_ID, "corporate", year, current)
    if prepared is None:
        return
    year, current = prepared
    started = time.perf_counter()
    made = build(year, current)
    db_session.commit()
    click.echo(f"{tenant_slug}: made {len(made.cycles)} cycles ({made.cycles[0]} … {made.cycles[-1]}), "
               f"{made.letters} responsibility letters, {made.accounts} accounts "
               f"in {time.perf_counter() - started:.1f} s")
