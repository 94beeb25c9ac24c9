"""Helpers that let scheme plugins fill page slots for the tenants that enabled them."""
from __future__ import annotations

from flask import abort, g, render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.db import db_session
from core.i18n import current_locale
from core.models import Cycle, Tenant, TenantScheme, User
from core.policy import tenant_user
from core.schemes import Scheme


def enabled_schemes(tenant: Tenant) -> dict[str, dict]:
    """The tenant's enabled scheme ids and settings, read once per request."""
    cache = g.setdefault("_enabled_schemes", {})
    if tenant.id not in cache:
        rows = db_session.execute(
            select(TenantScheme.scheme_id, TenantScheme.settings).where(TenantScheme.enabled.is_(True))
        ).all()
        cache[tenant.id] = {scheme_id: settings for scheme_id, settings in rows}
    return cache[tenant.id]


def scheme_home_panel(scheme: Scheme, tenant: Tenant | None, template: str, **context) -> list[Markup]:
    """The scheme's home-page card, when the tenant has the scheme enabled; ``context`` is passed
    to the template (a callable is called only then, so tenants without the scheme pay nothing)."""
    if tenant is None or scheme.id not in enabled_schemes(tenant):
        return []
    settings = enabled_schemes(tenant)[scheme.id]
    context = {k: v() if callable(v) else v for k, v in context.items()}
    return [Markup(render_template(template, scheme=scheme, settings=settings, locale=current_locale(), **context))]


# ----------------------------------------------------------------------------- a scheme's own pages

def scheme_enabled(scheme_id: str) -> bool:
    """Has the current tenant enabled the scheme?"""
    tenant = g.get("tenant")
    return tenant is not None and scheme_id in enabled_schemes(tenant)


def require_scheme(scheme_id: str) -> None:
    """404 on a scheme's pages for a tenant that does not use the scheme."""
    if not scheme_enabled(scheme_id):
        abort(404)


def get_scheme_cycle(scheme_id: str, cycle_id: int, period_kind: str | None = None) -> Cycle:
    """A cycle of the scheme in the current tenant, or 404 (also for a cycle of another scheme, or
    of the other period kind when ``period_kind`` is "month" or "year")."""
    cycle = db_session.get(Cycle, cycle_id)
    if cycle is None or cycle.scheme_id != scheme_id:
        abort(404)
    if period_kind == "month" and len(cycle.period) != 7 or period_kind == "year" and len(cycle.period) != 4:
        abort(404)
    return cycle


def account() -> User:
    """The signed-in account of the current tenant (views are behind ``permission_required``)."""
    user = tenant_user(current_user)
    if user is None:
        abort(403)
    return user


def actor() -> str:
    """How the audit trail and the records name the signed-in account."""
    return f"user:{account().username}"


def cycle_state_name(state: str) -> str:
    """A cycle state as users read it (the core's labels), for a scheme's messages and pages."""
    from core.cycles.views import state_label  # late: services using this stay free of the web layer at import

    return state_label(state)
