"""Fixtures (flaskr style): ``app``, ``client``, ``runner``, ``auth``.

Every test that uses ``app`` runs once per database backend: SQLite always, PostgreSQL when
``JIXIAO_TEST_DATABASE_URL`` is set (CI sets it). Each test gets its own database copied from a
template that was migrated and loaded with the three demo tenants once per session: a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.
"""
from __future__ import annotations

import contextlib

import itertools
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text

from core import create_app
from core.migrate import upgrade
from core.tenant_files import DEMO_PASSWORD, load_folders

ROOT = Path(__file__).resolve().parent.parent
DEMO_TENANTS = [str(ROOT / "tenants" / slug) for slug in ("jituan", "xiaoshou", "zhen")]
PG_URL = os.environ.get("JIXIAO_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "SERVER_NAME": None,
}


def pytest_report_header(config):
    where = f"sqlite, postgresql ({PG_URL})" if PG_URL else "sqlite only (set JIXIAO_TEST_DATABASE_URL for PostgreSQL)"
    return f"jixiao test databases: {where}"


def make_test_app(database_url: str, **overrides):
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **overrides})


# ----------------------------------------------------------------------------------- PostgreSQL

def _pg_url(dbname: str) -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path="/" + dbname))


def _pg_admin():
    return create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


def pg_create_database(name: str, template: str | None = None) -> str:
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()
    return _pg_url(name)


def pg_drop_database(name: str) -> None:
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# ----------------------------------------------------------------------------------- templates

def build_demo_database(url: str) -> None:
    """Migrate an empty database and load the demo tenants into it."""
    app = make_test_app(url)
    with app.app_context():
        upgrade(app)
        load_folders(DEMO_TENANTS, demo=True)
    app.extensions["jixiao.engine"].dispose()


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory):
    """Per backend, lazily: a migrated database holding the demo tenants."""
    made: dict[str, str] = {}
    worker = os.getpid()

    def get(backend: str) -> str:
        if backend not in made:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("template") / "demo.sqlite"
                build_demo_database(f"sqlite:///{path}")
                made[backend] = str(path)
            else:
                name = f"jixiao_tpl_{worker}"
                build_demo_database(pg_create_database(name))
                made[backend] = name
        return made[backend]

    yield get
    if "postgresql" in made:
        pg_drop_database(made["postgresql"])


_counter = itertools.count()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, demo_templates):
    """A fresh copy of the demo database for one test."""
    template = demo_templates(request.param)
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        name = f"jixiao_t_{os.getpid()}_{next(_counter)}"
        url = pg_create_database(name, template=template)
        yield url
        pg_drop_database(name)


@pytest.fixture(scope="session")
def command_templates(demo_templates, tmp_path_factory):
    """Per backend and `jixiao` command, lazily: a copy of the demo database the command ran in
    (a demo year, say), made once per session; tests copy it again with :func:`copied_app`."""
    made: dict[tuple[str, tuple[str, ...]], str] = {}

    def get(backend: str, args: tuple[str, ...]) -> str:
        key = (backend, args)
        if key not in made:
            template = demo_templates(backend)
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("command") / "made.sqlite"
                shutil.copyfile(template, path)
                url, made[key] = f"sqlite:///{path}", str(path)
            else:
                name = f"jixiao_cmd_{os.getpid()}_{len(made)}"
                url, made[key] = pg_create_database(name, template=template), name
            app = make_test_app(url)
            result = app.test_cli_runner().invoke(args=list(args))
            assert result.exit_code == 0, result.output
            app.extensions["jixiao.engine"].dispose()
        return made[key]

    yield get
    for (backend, _args), name in made.items():
        if backend == "postgresql":
            pg_drop_database(name)


@contextlib.contextmanager
def copied_app(backend: str, template: str, tmp_path):
    """An app on a fresh copy of a template database (a path for SQLite, a database name for PostgreSQL)."""
    name = None
    if backend == "sqlite":
        shutil.copyfile(template, tmp_path / "copy.sqlite")
        url = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    else:
        name = f"jixiao_c_{os.getpid()}_{next(_counter)}"
        url = pg_create_database(name, template=template)
    app = make_test_app(url)
    try:
        yield app
    finally:
        app.extensions["jixiao.engine"].dispose()
        if name:
            pg_drop_database(name)


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def app(database_url):
    app = make_test_app(database_url)
    yield app
    app.extensions["jixiao.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, tenant: str = "jituan", username: str = "hr", password: str = DEMO_PASSWORD, **kwargs):
        return self._client.post(f"/t/{tenant}/login", data={"username": username, "password": password}, **kwargs)

    def logout(self, tenant: str = "jituan"):
        return self._client.post(f"/t/{tenant}/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def db(app):
    """An app context with its session, for tests that work below the web layer."""
    from core.db import db_session

    with app.app_context():
        yield db_session


def pytest_terminal_summary(terminalreporter):
    """Say how many tests ran on each database, so a run without PostgreSQL is visible."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            backend = next((b for b in ("postgresql", "sqlite") if f"[{b}" in nodeid or f"-{b}" in nodeid), "no database")
            counts.setdefault(backend, {}).setdefault(outcome, 0)
            counts[backend][outcome] += 1
    terminalreporter.section("tests per database")
    for backend in ("sqlite", "postgresql", "no database"):
        if backend in counts:
            detail = ", ".join(f"{n} {o}" for o, n in sorted(counts[backend].items()))
            terminalreporter.write_line(f"{backend}: {detail}")
    if "postgresql" not in counts:
        terminalreporter.write_line("postgresql: not run (set JIXIAO_TEST_DATABASE_URL)")
