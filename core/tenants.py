"""Path-based tenants: ``/t/<tenant>/...`` resolves the tenant and scopes the session to it."""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from flask import Flask, abort, current_app, g
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.db import db_session
from core.models import Tenant
from core.tenancy import set_tenant

TENANT_ARG = "tenant"


@dataclass(frozen=True)
class TenantRef:
    """What a request reads of its tenant (``g.tenant``): the row's columns, kept by the worker for
    ``TENANT_CACHE_SECONDS`` so that a request does not start with a query for it (the anonymous
    survey page answers hundreds of requests a second). Code that changes a tenant loads the ORM
    row itself."""

    id: int
    slug: str
    name: str
    name_en: str | None
    locale: str

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


# Each app's cache (slug -> (when read, the tenant or None)); one per app, so that two apps in one
# process (tests) never share a tenant's id.
_caches: "weakref.WeakSet[TenantCache]" = weakref.WeakSet()


class TenantCache(dict):
    """An app's cached tenants (hashed by identity, so that the registry can hold it weakly)."""

    __hash__ = object.__hash__


def forget_tenants() -> None:
    """Drop the worker's cached tenants (a tenant was created, changed or removed)."""
    for cache in list(_caches):
        cache.clear()


@event.listens_for(Session, "before_flush")
def _forget_on_change(session: Session, _ctx, _instances) -> None:
    if any(isinstance(o, Tenant) for o in (*session.new, *session.dirty, *session.deleted)):
        forget_tenants()


def load_tenant(slug: str) -> TenantRef:
    """The active tenant with this slug, or 404 (an unknown and an inactive tenant look the same)."""
    keep = current_app.config.get("TENANT_CACHE_SECONDS", 0)
    cache = current_app.extensions["jixiao.tenant_cache"]
    now = time.monotonic()
    cached = cache.get(slug)
    if cached is not None and now - cached[0] < keep:
        tenant = cached[1]
    else:
        row = db_session.execute(select(Tenant.id, Tenant.slug, Tenant.name, Tenant.name_en, Tenant.locale)
                                 .where(Tenant.slug == slug, Tenant.active.is_(True))).first()
        tenant = None if row is None else TenantRef(*row)
        if keep > 0:
            if len(cache) > 1000:
                cache.clear()
            cache[slug] = (now, tenant)
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
    app.extensions["jixiao.tenant_cache"] = cache = TenantCache()
    _caches.add(cache)
    app.url_value_preprocessor(_pull_tenant)
    app.url_defaults(_add_tenant)
