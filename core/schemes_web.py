"""Helpers that let scheme plugins fill page slots for the tenants that enabled them."""
from __future__ import annotations

from flask import g, render_template
from markupsafe import Markup
from sqlalchemy import select

from core.db import db_session
from core.i18n import current_locale
from core.models import Tenant, TenantScheme
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
