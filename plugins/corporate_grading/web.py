"""What every corporate page needs: loading a cycle of this scheme (404 otherwise) and naming the actor."""
from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from core.db import db_session
from core.models import Cycle, User
from core.policy import tenant_user
from core.schemes_web import enabled_schemes

SCHEME_ID = "corporate-grading"


def scheme_enabled() -> bool:
    """Has the current tenant enabled the corporate scheme?"""
    tenant = g.get("tenant")
    return tenant is not None and SCHEME_ID in enabled_schemes(tenant)


def require_scheme() -> None:
    """404 on the corporate pages of a tenant that does not use the scheme."""
    if not scheme_enabled():
        abort(404)


def get_corporate_cycle(cycle_id: int, period_kind: str | None = None) -> Cycle:
    """A corporate-grading cycle of the current tenant, or 404 (also for a cycle of another scheme,
    or of the other period kind when ``period_kind`` is "month" or "year")."""
    cycle = db_session.get(Cycle, cycle_id)
    if cycle is None or cycle.scheme_id != SCHEME_ID:
        abort(404)
    if period_kind == "month" and len(cycle.period) != 7 or period_kind == "year" and len(cycle.period) != 4:
        abort(404)
    return cycle


def cycle_state_name(state: str) -> str:
    """A cycle state as users read it (the core's labels), for the scheme's messages and pages."""
    from core.cycles.views import state_label  # late: the services using this stay free of the web layer at import

    return state_label(state)


def account() -> User:
    """The signed-in account of the current tenant (views are behind ``permission_required``)."""
    user = tenant_user(current_user)
    if user is None:
        abort(403)
    return user


def actor() -> str:
    return f"user:{account().username}"
