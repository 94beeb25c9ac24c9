"""What every corporate page needs: loading a cycle of this scheme (404 otherwise) and naming the actor."""
from __future__ import annotations

from core import schemes_web
from core.models import Cycle
from core.schemes_web import account, actor, cycle_state_name  # noqa: F401 (the corporate pages import them from here)

SCHEME_ID = "corporate-grading"


def scheme_enabled() -> bool:
    """Has the current tenant enabled the corporate scheme?"""
    return schemes_web.scheme_enabled(SCHEME_ID)


def require_scheme() -> None:
    """404 on the corporate pages of a tenant that does not use the scheme."""
    schemes_web.require_scheme(SCHEME_ID)


def get_corporate_cycle(cycle_id: int, period_kind: str | None = None) -> Cycle:
    """A corporate-grading cycle of the current tenant, or 404 (see :func:`core.schemes_web.get_scheme_cycle`)."""
    return schemes_web.get_scheme_cycle(SCHEME_ID, cycle_id, period_kind)
