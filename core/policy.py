"""The access policy: the one place that decides who may do what.

Views never test roles themselves; they ask ``can(user, permission, obj)`` or use
``@permission_required``. A permission maps to the roles that grant it; object rules (a unit head
sees their own unit) live here too.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort, g
from flask_login import current_user

from core.models import PlatformAdmin, User

# permission -> roles that grant it; "*" means any active user of the tenant.
PERMISSIONS: dict[str, frozenset[str]] = {
    "tenant.home": frozenset({"*"}),
    "org.view": frozenset({"tenant_admin", "leader"}),
    "org.manage": frozenset({"tenant_admin"}),
    "audit.view": frozenset({"tenant_admin"}),
    # cycles: HR runs them, leaders follow them; inputs are entered by whoever the form names
    "cycles.manage": frozenset({"tenant_admin"}),
    "cycles.view": frozenset({"tenant_admin", "leader"}),
    "inputs.enter": frozenset({"tenant_admin", "unit_head", "committee", "leader", "surveyor"}),
    "results.mine": frozenset({"*"}),
    "appeals.investigate": frozenset({"tenant_admin"}),
    "appeals.decide": frozenset({"tenant_admin", "leader"}),
}


class UnknownPermission(KeyError):
    pass


def headed_units(account: User) -> set[int]:
    """The units a unit head answers for: the ones they head and everything below them (a
    subsidiary's head answers for its departments). One query per request, cached."""
    heads = account.headed_unit_ids()
    if not heads:
        return set()
    cache = g.setdefault("_headed_units", {})
    if account.id not in cache:
        from sqlalchemy import select

        from core.db import db_session
        from core.models import OrgUnit
        from core.org.service import descendants

        parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        cache[account.id] = descendants(heads, parents)
    return cache[account.id]


def tenant_user(user: Any) -> User | None:
    """The user when it is a logged-in account of the current tenant, else None."""
    tenant = g.get("tenant")
    if isinstance(user, User) and tenant is not None and user.tenant_id == tenant.id and user.active:
        return user
    return None


def can(user: Any, permission: str, obj: Any = None) -> bool:
    """May ``user`` exercise ``permission`` (on ``obj``) in the current tenant?"""
    if permission not in PERMISSIONS:
        raise UnknownPermission(permission)
    account = tenant_user(user)
    if account is None:
        return False
    granted = PERMISSIONS[permission]
    return "*" in granted or bool(granted & account.roles)


def is_platform_admin(user: Any) -> bool:
    return isinstance(user, PlatformAdmin) and user.active


def permission_required(permission: str) -> Callable:
    """Decorator for tenant views: 401 flow when logged out, 403 when the policy says no."""
    if permission not in PERMISSIONS:
        raise UnknownPermission(permission)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if tenant_user(current_user) is None:
                from flask import current_app

                return current_app.login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def platform_admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_platform_admin(current_user):
            from flask import current_app

            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped


def may_enter_inputs(user: Any, unit_id: int | None, field_roles: Any = None) -> bool:
    """May the user open a cycle subject's input form as staff?

    HR: every subject; committee members, leaders and surveyors: every subject of a cycle whose
    scheme asks one of their roles for an input (``field_roles``: the roles its declared fields name;
    None when not known); a unit head: the subjects of the units they head. Each edits only the
    fields declared for their role (:func:`may_edit_field`). The person assessed reaches their own
    form only for what is asked of them (a self-score).
    """
    account = tenant_user(user)
    if account is None or not can(account, "inputs.enter"):
        return False
    if "tenant_admin" in account.roles:
        return True
    broad = account.roles & {"committee", "leader", "surveyor"}
    if broad and (field_roles is None or broad & set(field_roles)):
        return True
    return unit_id is not None and unit_id in headed_units(account)


def may_edit_field(user: Any, roles: tuple[str, ...], person_id: int | None = None) -> bool:
    """A field names who enters it; HR may enter every field, and "self" is the subject's person."""
    account = tenant_user(user)
    if account is None:
        return False
    if person_id is not None and account.person_id == person_id:
        return "self" in roles  # on one's own record, only what is asked of the person themselves
    return "tenant_admin" in account.roles or bool(set(roles) & account.roles)


def can_see_result(user: Any, cycle_state: str, person_id: int | None, unit_id: int | None) -> bool:
    """Who may read a result (schemes.md: the person, their unit head, HR and company leaders).

    HR and leaders see every result once computed; the person and their unit head only once the
    cycle is published.
    """
    account = tenant_user(user)
    if account is None:
        return False
    roles = account.roles
    if roles & {"tenant_admin", "leader"}:
        return True
    if cycle_state not in ("published", "closed"):
        return False
    if person_id is not None and account.person_id == person_id:
        return True
    return unit_id is not None and "unit_head" in roles and unit_id in headed_units(account)


def is_own_result(user: Any, person_id: int | None) -> bool:
    account = tenant_user(user)
    return account is not None and person_id is not None and account.person_id == person_id


def may_interview(user: Any, unit_id: int | None, person_id: int | None = None) -> bool:
    """The assessor who holds the interview: the person's unit head, or HR — never the person. A
    unit's result has no interview (nobody to talk it over with and sign)."""
    account = tenant_user(user)
    if account is None or person_id is None or account.person_id == person_id:
        return False
    return "tenant_admin" in account.roles or (unit_id is not None and unit_id in headed_units(account))


def may_see_confidential(user: Any) -> bool:
    """Fields and values a scheme marks HR-only (sales pay): HR alone."""
    account = tenant_user(user)
    return account is not None and "tenant_admin" in account.roles


def redact(user: Any, scheme: Any, person_id: int | None, extra: dict, breakdown: dict | None,
           inputs: dict | None = None):
    """A result's extra keys, breakdown and inputs as this user may see them. HR sees everything.
    What the scheme marks confidential (sales pay) is left out for everyone but HR and the person;
    individual raters' answers (the terms under the scheme's ``rater_groups`` nodes, and the
    ``rater_answers`` inputs) for everyone but HR, the person rated included."""
    if may_see_confidential(user):
        return (extra, breakdown) if inputs is None else (extra, breakdown, inputs)
    own = is_own_result(user, person_id)
    hidden = () if own else tuple(scheme.confidential)
    groups = set(scheme.rater_groups)
    if not hidden and not groups and not scheme.rater_answers:
        return (extra, breakdown) if inputs is None else (extra, breakdown, inputs)

    def strip(node: dict) -> dict:
        if node.get("label") in groups:
            return {**node, "terms": []}
        return {**node, "terms": [strip(t) for t in node.get("terms") or [] if t.get("label") not in hidden]}

    kept = ({k: v for k, v in (extra or {}).items() if k not in hidden}, strip(breakdown) if breakdown else breakdown)
    if inputs is None:
        return kept
    import copy

    from core.cycles.inputs import set_value

    shown = copy.deepcopy(inputs)
    for path in (*hidden, *scheme.rater_answers):
        set_value(shown, path, None)
    return (*kept, shown)
