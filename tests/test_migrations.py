"""Alembic migrations create exactly the schema the models declare, on both databases."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core import create_app
from core.migrate import alembic_config, upgrade
from core.models import Base
from tests.conftest import BACKENDS, TEST_CONFIG, pg_create_database, pg_drop_database


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
    else:
        name = f"jixiao_mig_{os.getpid()}"
        yield pg_create_database(name)
        pg_drop_database(name)


def test_migrations_match_the_models_and_go_down_again(empty_database):
    from alembic import command

    app = create_app({**TEST_CONFIG, "DATABASE_URL": empty_database})
    engine = app.extensions["jixiao.engine"]
    upgrade(app)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    command.downgrade(alembic_config(app), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_db_upgrade_command(empty_database):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": empty_database})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "person" in inspect(app.extensions["jixiao.engine"]).get_table_names()
    current = app.test_cli_runner().invoke(args=["db", "current"])
    script = ScriptDirectory.from_config(alembic_config(app))
    # A plugin's branch depends on a core revision, so the database may record only the plugin's
    # head: every head must be applied, i.e. be a current revision or one of their ancestors.
    applied = {rev.revision for rev in script.iterate_revisions(current.output.split(), "base")}
    assert set(script.get_heads()) <= applied
    app.extensions["jixiao.engine"].dispose()
