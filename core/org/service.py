"""Changing units and people: validation rules beyond the form, optimistic locking, audit.

Every function works in the caller's transaction and never commits; views commit once.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import record, snapshot
from core.db import db_session
from core.models import OrgUnit, Person, RoleMembership, User

UNIT_FIELDS = ("code", "name", "kind", "parent_id", "active")
PERSON_FIELDS = ("number", "name", "unit_id", "position", "staff_class", "status", "active")


class Conflict(Exception):
    """Someone else saved the object after this form was opened."""


class RuleError(ValueError):
    """A change breaks a rule of the organisation; ``field`` names the form field when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def form_snapshot(obj: Any) -> dict[str, Any]:
    """The editable fields of a unit or person, keyed like their forms."""
    fields = UNIT_FIELDS if isinstance(obj, OrgUnit) else PERSON_FIELDS
    return {f: getattr(obj, f) for f in fields if f != "active"}


def check_version(obj: Any, version: int | None) -> None:
    """The form must carry the version it was opened at, and that must still be current."""
    if version is None:
        raise Conflict(_("The form did not say which version of %(name)s it edits; reload the page and try again.",
                         name=getattr(obj, "name", "")))
    if obj.version != version:
        raise Conflict(_("%(name)s was changed by someone else (version %(theirs)s, your form had %(yours)s). "
                         "Reload to see the current values, then apply your change again.",
                         name=getattr(obj, "name", ""), theirs=obj.version, yours=version))


def descendants(roots: set[int], parents: dict[int, int | None]) -> set[int]:
    """``roots`` and every unit below them, given each unit's parent."""
    children: dict[int | None, list[int]] = {}
    for uid, parent in parents.items():
        children.setdefault(parent, []).append(uid)
    found, stack = set(roots), list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def descendant_ids(unit_id: int) -> set[int]:
    """The ids of a unit's descendants (one query for all parent links)."""
    parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    return descendants({unit_id}, parents) - {unit_id}


def _unique(model: Any, column: str, value: str, exclude_id: int | None, field: str, label: str) -> None:
    stmt = select(func.count()).select_from(model).where(getattr(model, column) == value)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db_session.scalar(stmt):
        raise RuleError(_("%(label)s %(value)s is already used in this organisation; choose another.",
                          label=label, value=value), field)


def _apply(obj: Any, values: dict[str, Any], fields: tuple[str, ...], action: str) -> Any:
    before = snapshot(obj, fields) if obj.id is not None else None
    for key, value in values.items():
        setattr(obj, key, value)
    if obj.id is None:
        db_session.add(obj)
    after = snapshot(obj, fields)
    if before != after:
        record(action, obj, before=before, after=after)
    return obj


def save_unit(unit: OrgUnit | None, values: dict[str, Any], version: int | None = None) -> OrgUnit:
    """Create (``unit=None``) or update a unit."""
    if unit is not None:
        check_version(unit, version)
    _unique(OrgUnit, "code", values["code"], unit.id if unit else None, "code", _("Unit code"))
    parent_id = values.get("parent_id")
    if parent_id is not None:
        parent = db_session.get(OrgUnit, parent_id)
        if parent is None:
            raise RuleError(_("Parent unit %(value)s does not exist.", value=parent_id), "parent_id")
        if unit is not None and (parent_id == unit.id or parent_id in descendant_ids(unit.id)):
            raise RuleError(_("%(parent)s is %(unit)s itself or one of its sub-units; a unit cannot be placed under it.",
                              parent=parent.name, unit=unit.name), "parent_id")
    return _apply(unit or OrgUnit(), values, UNIT_FIELDS, "update" if unit else "create")


def set_unit_active(unit: OrgUnit, active: bool, version: int | None = None) -> OrgUnit:
    """Deactivate (only when nothing active hangs below it) or reactivate a unit."""
    check_version(unit, version)
    if not active:
        children = db_session.scalar(select(func.count()).select_from(OrgUnit)
                                     .where(OrgUnit.parent_id == unit.id, OrgUnit.active.is_(True)))
        people = db_session.scalar(select(func.count()).select_from(Person)
                                   .where(Person.unit_id == unit.id, Person.active.is_(True)))
        if children or people:
            raise RuleError(_("%(unit)s still has %(children)s active sub-unit(s) and %(people)s active person(s); "
                              "move or deactivate them first.", unit=unit.name, children=children, people=people))
    elif unit.parent_id is not None and not db_session.get(OrgUnit, unit.parent_id).active:
        raise RuleError(_("The parent unit is inactive; reactivate it first."))
    return _apply(unit, {"active": active}, UNIT_FIELDS, "activate" if active else "deactivate")


def save_person(person: Person | None, values: dict[str, Any], version: int | None = None) -> Person:
    """Create (``person=None``) or update a person."""
    if person is not None:
        check_version(person, version)
    _unique(Person, "number", values["number"], person.id if person else None, "number", _("Employee number"))
    unit = db_session.get(OrgUnit, values["unit_id"])
    if unit is None or not unit.active:
        raise RuleError(_("Unit %(value)s is not an active unit of this organisation.", value=values["unit_id"]), "unit_id")
    return _apply(person or Person(), values, PERSON_FIELDS, "update" if person else "create")


def set_person_active(person: Person, active: bool, version: int | None = None, acting: User | None = None) -> Person:
    """Deactivate a person (and their login) or reactivate them.

    Nobody deactivates themselves, and the last active tenant administrator stays: either would
    lock the organisation out of its own administration.
    """
    check_version(person, version)
    if active and not person.unit.active:
        raise RuleError(_("%(person)s's unit is inactive; move them to an active unit first.", person=person.name))
    accounts = list(db_session.scalars(select(User).where(User.person_id == person.id, User.active.is_(True))))
    if not active:
        if acting is not None and any(a.id == acting.id for a in accounts):
            raise RuleError(_("You cannot deactivate yourself; ask another administrator."))
        admins = {a.id for a in accounts if "tenant_admin" in a.roles}
        if admins:
            others = db_session.scalar(
                select(func.count(func.distinct(User.id))).select_from(User)
                .join(RoleMembership, RoleMembership.user_id == User.id)
                .where(RoleMembership.role == "tenant_admin", User.active.is_(True), User.id.not_in(admins)))
            if not others:
                raise RuleError(_("%(person)s holds the last active administrator account of this organisation; "
                                  "give another account the administrator role first.", person=person.name))
    _apply(person, {"active": active}, PERSON_FIELDS, "activate" if active else "deactivate")
    if not active:
        for account in accounts:
            _apply(account, {"active": False}, ("username", "active"), "deactivate")
    return person
