"""Cycle pages for administrators and leaders: list, create, follow, move through the states,
compute, and read the results with their breakdowns."""
from __future__ import annotations

from flask import Blueprint, Flask, abort

from core.db import db_session
from core.models import Cycle

bp = Blueprint("cycles", __name__, url_prefix="/t/<tenant>/cycles")


def get_cycle(cycle_id: int) -> Cycle:
    """The cycle with this id in the current tenant, or 404."""
    cycle = db_session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
