"""The application factory (Flask tutorial style): ``create_app(test_config=None)``."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

from core import config, passwords


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the portal.

    :param test_config: settings that override the environment (tests pass their database here).
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(config.PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    passwords.configure(app.config.get("ARGON2_TIME_COST"), app.config.get("ARGON2_MEMORY_COST"))

    from core import (audit, auth, db, i18n, platform, plugins, security, slots, tenant_files,
                      tenants, users, web)
    from core.cycles import input_views as cycle_input_views
    from core.cycles import views as cycle_views
    from core.org import views as org_views
    from core.results import views as result_views

    db.init_app(app)
    plugins.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    tenants.init_app(app)
    auth.init_app(app)
    slots.init_app(app)
    web.init_app(app)
    audit.init_app(app)
    org_views.init_app(app)
    cycle_views.init_app(app)
    cycle_input_views.init_app(app)
    result_views.init_app(app)
    platform.init_app(app)
    tenant_files.init_app(app)
    users.init_app(app)
    _load_plugin_web_parts(app)
    return app


def _load_plugin_web_parts(app: Flask) -> None:
    """Blueprints and template folders that plugins bring (``jixiao_load_*`` hooks)."""
    pm = app.extensions["jixiao.plugins"]
    for blueprints in pm.hook.jixiao_load_blueprints():
        for blueprint in blueprints:
            app.register_blueprint(blueprint)
    folders = [f for result in pm.hook.jixiao_load_template_folders() for f in result]
    if folders:
        app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(folders)])
