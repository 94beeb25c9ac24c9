"""What every township page needs: the scheme's cycles (404 otherwise) and the signed-in account."""
from __future__ import annotations

from flask import abort

from core import schemes_web
from core.models import Cycle
from core.schemes_web import account, actor, cycle_state_name  # noqa: F401 (the township pages import them from here)

SCHEME_ID = "gov-public-evaluation"


def scheme_enabled() -> bool:
    """Has the current tenant enabled the township scheme?"""
    return schemes_web.scheme_enabled(SCHEME_ID)


def require_scheme() -> None:
    """404 on the township pages of a tenant that does not use the scheme."""
    schemes_web.require_scheme(SCHEME_ID)


def get_township_cycle(cycle_id: int) -> Cycle:
    """A gov-public-evaluation cycle of the current tenant, or 404 (another tenant's, another scheme's)."""
    return schemes_web.get_scheme_cycle(SCHEME_ID, cycle_id)


def allowed(decision: bool) -> None:
    """403 unless the policy said yes (the views ask plugins.gov_public_evaluation.policy)."""
    if not decision:
        abort(403)
