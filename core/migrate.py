"""Alembic, driven from the app: the core's migrations plus those plugins bring."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from flask import Flask

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(app: Flask) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(MIGRATIONS / "versions")]
    for folders in app.extensions["jixiao.plugins"].hook.jixiao_load_migrations():
        locations.extend(folders)
    # Alembic splits version_locations on the path separator we name here.
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", __import__("os").pathsep.join(locations))
    cfg.attributes["engine"] = app.extensions["jixiao.engine"]
    return cfg


def upgrade(app: Flask, revision: str = "heads") -> None:
    command.upgrade(alembic_config(app), revision)


def current(app: Flask) -> list[str]:
    with app.extensions["jixiao.engine"].connect() as conn:
        return list(MigrationContext.configure(conn).get_current_heads())
