"""Writing and reading the audit trail.

``record`` is called by services in the same transaction as the change it describes, so a change
and its audit row are committed (or rolled back) together.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from flask import Blueprint, Flask, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from core.db import db_session
from core.models import AuditLog, PlatformAdmin, User
from core.policy import permission_required

bp = Blueprint("audit", __name__, url_prefix="/t/<tenant>/audit")


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of an object as JSON-ready values."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def current_actor() -> str:
    if has_request_context():
        user = current_user._get_current_object() if current_user else None
        if isinstance(user, User):
            return f"user:{user.username}"
        if isinstance(user, PlatformAdmin):
            return f"platform:{user.username}"
        return "anonymous"
    return "cli"


def record(action: str, obj: Any, before: dict | None = None, after: dict | None = None,
           actor: str | None = None) -> AuditLog:
    """Add an audit row for ``obj`` to the current session (flushes to learn a new object's id)."""
    if getattr(obj, "id", None) is None:
        db_session.flush()
    entry = AuditLog(
        actor=actor or current_actor(),
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.id),
        before=before,
        after=after,
        ip=request.remote_addr if has_request_context() else None,
    )
    if getattr(obj, "tenant_id", None) is not None:
        entry.tenant_id = obj.tenant_id
    db_session.add(entry)
    return entry


def history(obj: Any, limit: int = 50) -> list[AuditLog]:
    """The newest audit rows of one object."""
    return list(db_session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == type(obj).__name__, AuditLog.object_id == str(obj.id))
        .order_by(AuditLog.id.desc())
        .limit(limit)
    ))


@bp.get("/")
@permission_required("audit.view")
def index():
    """The tenant's audit trail, newest first, filterable by object type and actor."""
    from core.web import paginate, render_page

    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    object_type = request.args.get("type", "")
    actor = request.args.get("actor", "").strip()
    if object_type:
        stmt = stmt.where(AuditLog.object_type == object_type)
    if actor:
        stmt = stmt.where(AuditLog.actor.contains(actor))
    page = paginate(stmt)
    types = db_session.scalars(select(AuditLog.object_type).distinct().order_by(AuditLog.object_type)).all()
    return render_page("audit/index.html", page=page, types=types, object_type=object_type, actor=actor)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
