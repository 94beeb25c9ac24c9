"""Tenant files (``tenants/<slug>/tenant.yaml``) and the ``jixiao tenant`` commands."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask import Flask, current_app

from core.db import db_session
from core.plugins import get_schemes
from core.tenant_files.apply import DEMO_PASSWORD, apply
from core.tenant_files.validate import TenantFileError, ValidTenantFile, read_folder

__all__ = ["DEMO_PASSWORD", "TenantFileError", "load_folders", "read_folder"]


def load_folders(folders: list[str], demo: bool = False) -> list[tuple[str, bool, dict]]:
    """Validate every folder, then write them all in one transaction (all or nothing)."""
    schemes = get_schemes()
    problems: list[str] = []
    valid: list[ValidTenantFile] = []
    for folder in folders:
        try:
            valid.append(read_folder(folder, schemes))
        except TenantFileError as exc:
            problems.extend(f"{exc.path}: {p}" for p in exc.problems)
    if problems:
        raise TenantFileError(", ".join(folders), problems)  # lines already carry their file
    results = []
    pm = current_app.extensions["jixiao.plugins"]
    try:
        for item in valid:
            tenant, created, changes = apply(db_session, item, demo=demo)
            pm.hook.jixiao_event_tenant_loaded(tenant=tenant, created=created, changes=dict(changes))
            results.append((tenant.slug, created, dict(changes)))
        db_session.commit()
    except Exception:
        db_session.rollback()
        raise
    return results


@click.group("tenant", cls=AppGroup)
def tenant_cli() -> None:
    """Tenant files: check and load ``tenants/<slug>``."""


@tenant_cli.command("load")
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--demo", is_flag=True, help=f"Give every account of the files the demo password {DEMO_PASSWORD!r}.")
def load_command(folders: tuple[str, ...], demo: bool) -> None:
    """Create or update tenants from their folders; nothing is written if any file is invalid."""
    try:
        results = load_folders(list(folders), demo=demo)
    except TenantFileError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was written.", err=True)
        sys.exit(2)
    for slug, created, changes in results:
        done = {k: v for k, v in changes.items() if v and not k.endswith("_not_in_file")}
        kept = {k: v for k, v in changes.items() if v and k.endswith("_not_in_file")}
        summary = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(done.items())) or "no changes"
        click.echo(f"tenant {slug} {'created' if created else 'updated'} — {summary}")
        if kept:
            click.echo("    kept (in the database, not in the file): " + ", ".join(f"{k.split('_')[0]}: {v}" for k, v in sorted(kept.items())))


@tenant_cli.command("check")
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False))
def check_command(folders: tuple[str, ...]) -> None:
    """Validate tenant files without writing anything."""
    schemes = get_schemes()
    failed = False
    for folder in folders:
        try:
            valid = read_folder(folder, schemes)
            click.echo(f"{folder}: ok ({len(valid.data.units)} units, {len(valid.data.people)} people, "
                       f"{len(valid.data.accounts)} accounts)")
        except TenantFileError as exc:
            failed = True
            for problem in exc.problems:
                click.echo(f"{exc.path}: {problem}", err=True)
    if failed:
        sys.exit(2)


def init_app(app: Flask) -> None:
    app.cli.add_command(tenant_cli)
