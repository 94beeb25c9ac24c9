"""The plugin manager: built-in plugins by name, external ones from the ``jixiao`` entry points.

Built-in features are plugins too (Datasette style): the core's own modules implement hooks just
like a consultant's package would. External plugins load only when the process-wide allow-list
(``JIXIAO_PLUGINS``) names them; which schemes a tenant uses is decided per tenant in the database.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import click
from flask.cli import with_appcontext
import pluggy
from flask import Flask, current_app

from core import hookspecs
from core.schemes import Scheme

ENTRY_POINT_GROUP = "jixiao"

# Core modules that implement hooks, then the built-in scheme plugins.
BUILTIN_PLUGINS = (
    "core.menu",
    "core.cycles.notifications",
    "core.dashboard",
    "plugins.corporate_grading",
    "plugins.sales_attitude",
    "plugins.gov_public_evaluation",
)


class PluginError(RuntimeError):
    """A plugin could not be loaded or declares something invalid."""


@dataclass(frozen=True)
class LoadedPlugin:
    name: str
    builtin: bool
    schemes: tuple[str, ...]


def make_plugin_manager(load_entry_points: bool = False, allowed: list[str] | tuple[str, ...] = (),
                        extra: list | tuple = ()) -> pluggy.PluginManager:
    """Build a manager with every built-in plugin, the allowed external ones, and ``extra``
    plugin objects (an embedding application's or a test's own)."""
    pm = pluggy.PluginManager("jixiao")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for plugin in extra:
        pm.register(plugin)
    if load_entry_points:
        for name in allowed:
            if pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name) == 0:
                raise PluginError(
                    f"JIXIAO_PLUGINS names {name!r}, but no installed distribution has an entry point "
                    f"{name!r} in the {ENTRY_POINT_GROUP!r} group"
                )
    pm.check_pending()
    return pm


def collect_schemes(pm: pluggy.PluginManager) -> dict[str, Scheme]:
    """All schemes of all plugins by id; a duplicate id is an error."""
    schemes: dict[str, Scheme] = {}
    for plugin_schemes in pm.hook.jixiao_load_schemes():
        for scheme in plugin_schemes:
            if scheme.id in schemes:
                raise PluginError(
                    f"scheme id {scheme.id!r} is registered by both {schemes[scheme.id].plugin!r} and {scheme.plugin!r}"
                )
            schemes[scheme.id] = scheme
    return dict(sorted(schemes.items()))


def loaded_plugins(pm: pluggy.PluginManager) -> list[LoadedPlugin]:
    schemes = collect_schemes(pm)
    result = []
    for name, _plugin in pm.list_name_plugin():
        result.append(LoadedPlugin(
            name=name,
            builtin=name in BUILTIN_PLUGINS,
            schemes=tuple(s.id for s in schemes.values() if s.plugin == name),
        ))
    return result


def get_schemes(app: Flask | None = None) -> dict[str, Scheme]:
    return (app or current_app).extensions["jixiao.schemes"]


def init_app(app: Flask) -> None:
    """Create the app's plugin manager, collect schemes, register plugin commands."""
    pm = make_plugin_manager(
        load_entry_points=app.config["LOAD_ENTRY_POINTS"] and not app.config.get("TESTING"),
        allowed=app.config["PLUGINS_ALLOWED"],
        extra=app.config.get("PLUGINS_EXTRA", ()),
    )
    app.extensions["jixiao.plugins"] = pm
    app.extensions["jixiao.schemes"] = collect_schemes(pm)
    for commands in pm.hook.jixiao_load_cli_commands():
        for command in commands:
            app.cli.add_command(command)
    app.cli.add_command(plugins_command)
    from core.scoring.cli import score_command

    app.cli.add_command(score_command)


@click.command("plugins")
@with_appcontext
def plugins_command() -> None:
    """List loaded plugins, their schemes and the tenants that use each scheme."""
    from sqlalchemy import select

    from core.db import db_session
    from core.models import Tenant, TenantScheme
    from core.tenancy import all_tenants

    pm = current_app.extensions["jixiao.plugins"]
    with all_tenants(db_session):
        rows = db_session.execute(
            select(TenantScheme.scheme_id, Tenant.slug)
            .join(Tenant, Tenant.id == TenantScheme.tenant_id)
            .where(TenantScheme.enabled.is_(True))
            .order_by(Tenant.slug)
        ).all()
    users: dict[str, list[str]] = {}
    for scheme_id, slug in rows:
        users.setdefault(scheme_id, []).append(slug)
    schemes = get_schemes()
    for plugin in loaded_plugins(pm):
        kind = "built-in" if plugin.builtin else "external"
        click.echo(f"{plugin.name}  ({kind})")
        for scheme_id in plugin.schemes:
            scheme = schemes[scheme_id]
            tenants = ", ".join(users.get(scheme_id, [])) or "no tenant"
            click.echo(f"    scheme {scheme_id} {scheme.version}  {scheme.name_zh} / {scheme.name_en}  — used by: {tenants}")
