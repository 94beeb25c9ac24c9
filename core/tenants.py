"""Path-based tenants: ``/t/<tenant>/...`` resolves the tenant and scopes the session to it."""
from __future__ import annotations

from flask import Flask, abort, g
from sqlalchemy import select

from core.db import db_session
from core.models import Tenant
from core.tenancy import set_tenant

TENANT_ARG = "tenant"


def load_tenant(slug: str) -> Tenant:
    """The active tenant with this slug, or 404 (an unknown and an inactive tenant look the same)."""
    tenant = db_session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.active.is_(True)))
    if tenant is None:
        abort(404)
    return tenant


def _pull_tenant(endpoint: str | None, values: dict | None) -> None:
    if not values or TENANT_ARG not in values:
        return
    tenant = load_tenant(values.pop(TENANT_ARG))
    g.tenant = tenant
    set_tenant(db_session, tenant.id)


def _add_tenant(endpoint: str, values: dict) -> None:
    # url_for inside a tenant's pages fills in the tenant, like flaskr's lang_code example.
    tenant = g.get("tenant")
    if tenant is not None and TENANT_ARG not in values:
        from flask import current_app

        if current_app.url_map.is_endpoint_expecting(endpoint, TENANT_ARG):
            values[TENANT_ARG] = tenant.slug


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_pull_tenant)
    app.url_defaults(_add_tenant)
