"""What every sales page needs: the scheme's cycles (404 otherwise) and the signed-in account."""
from __future__ import annotations

from core import schemes_web
from core.models import Cycle
from core.schemes_web import account, actor, cycle_state_name  # noqa: F401 (the sales pages import them from here)

SCHEME_ID = "sales-attitude"


def scheme_enabled() -> bool:
    """Has the current tenant enabled the sales scheme?"""
    return schemes_web.scheme_enabled(SCHEME_ID)


def require_scheme() -> None:
    """404 on the sales pages of a tenant that does not use the scheme."""
    schemes_web.require_scheme(SCHEME_ID)


def get_sales_cycle(cycle_id: int) -> Cycle:
    """A sales-attitude cycle of the current tenant, or 404 (another tenant's, another scheme's)."""
    return schemes_web.get_scheme_cycle(SCHEME_ID, cycle_id)
