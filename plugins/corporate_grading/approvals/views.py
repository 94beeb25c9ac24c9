"""corporate-grading: approvals pages."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("corporate_approvals", __name__, url_prefix="/t/<tenant>/corporate")


def cycle_links(cycle, user) -> list:
    """Links from a cycle's page to this feature's pages of that cycle."""
    return []


def menu_items(tenant, user) -> list:
    """Menu entries of this feature for user."""
    return []
