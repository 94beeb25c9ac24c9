"""Database engine and the per-request ORM session.

One engine per app (SQLite file by default, PostgreSQL in production). Views and services use
`db_session`, a proxy to the session of the current app context; it is closed at teardown. Tenant
scoping (see `core.tenancy`) hangs off this session: nothing here knows about tenants.
"""
from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup
from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.local import LocalProxy


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout, PostgreSQL a pool check."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def get_session() -> Session:
    """The ORM session of the current app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["jixiao.sessionmaker"]()
    return g.db_session


db_session: Session = LocalProxy(get_session)  # type: ignore[assignment]


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["jixiao.engine"]


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app; register `jixiao db ...`."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["jixiao.engine"] = engine
    app.extensions["jixiao.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)
    app.cli.add_command(db_cli)


@click.group("db", cls=AppGroup)
def db_cli() -> None:
    """Database schema commands (Alembic migrations)."""


@db_cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations of the core and of every loaded plugin."""
    from core.migrate import upgrade

    upgrade(current_app, revision)
    click.echo(f"database at {revision}: {current_app.config['DATABASE_URL'].split('@')[-1]}")


@db_cli.command("current")
def db_current() -> None:
    """Show the applied migration revisions."""
    from core.migrate import current

    for rev in current(current_app):
        click.echo(rev)
