"""Writing a validated tenant file: create or update, idempotently, in the caller's transaction.

Units match by code, people by number, accounts by username. Only differences are written (and
audited), so loading the same file twice changes nothing the second time.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import record, snapshot
from core.models import UNIT_ROLES, OrgUnit, Person, RoleMembership, Tenant, TenantScheme, User
from core.passwords import hash_password, verify_password
from core.tenancy import set_tenant
from core.tenant_files.validate import ValidTenantFile

DEMO_PASSWORD = "jixiao-demo"
ACTOR = "cli"

UNIT_FIELDS = ("code", "name", "kind", "parent_id", "sort_order", "active")
PERSON_FIELDS = ("number", "name", "unit_id", "position", "staff_class", "status", "active")
ACCOUNT_FIELDS = ("username", "display_name", "email", "person_id", "active")
TENANT_FIELDS = ("slug", "name", "name_en", "locale")
SCHEME_FIELDS = ("scheme_id", "enabled", "settings")


def _sync(session: Session, changes: Counter, kind: str, obj: Any, fields: tuple[str, ...],
          values: dict[str, Any], is_new: bool) -> None:
    """Set ``values`` on ``obj``; audit and count the change when anything differs."""
    before = None if is_new else snapshot(obj, fields)
    changed = is_new
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    if changed:
        session.add(obj)
        record("create" if is_new else "update", obj, before=before, after=snapshot(obj, fields), actor=ACTOR)
        changes[f"{kind}_{'created' if is_new else 'updated'}"] += 1


def apply(session: Session, valid: ValidTenantFile, demo: bool = False) -> tuple[Tenant, bool, Counter]:
    """Create or update the tenant described by ``valid``. Does not commit."""
    data = valid.data
    changes: Counter = Counter()
    tenant = session.scalar(select(Tenant).where(Tenant.slug == valid.slug))
    created = tenant is None
    if created:
        tenant = Tenant(slug=valid.slug, name=data.name)
        session.add(tenant)
        session.flush()
    set_tenant(session, tenant.id)
    _sync(session, changes, "tenant", tenant, TENANT_FIELDS,
          {"slug": valid.slug, "name": data.name, "name_en": data.name_en, "locale": data.locale}, created)

    schemes = {s.scheme_id: s for s in session.scalars(select(TenantScheme))}
    for scheme_id, entry in data.schemes.items():
        row = schemes.get(scheme_id)
        _sync(session, changes, "schemes", row or TenantScheme(), SCHEME_FIELDS,
              {"scheme_id": scheme_id, "enabled": entry.enabled, "settings": valid.scheme_settings[scheme_id]},
              row is None)

    # Units first without parents, so every parent has an id when the tree is linked.
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    fresh = {e.code for e in data.units if e.code not in units}
    for code in fresh:
        units[code] = OrgUnit(code=code, name=code, kind="department")
        session.add(units[code])
    session.flush()
    for order, entry in enumerate(data.units):
        _sync(session, changes, "units", units[entry.code], UNIT_FIELDS,
              {"code": entry.code, "name": entry.name, "kind": entry.kind, "sort_order": order,
               "active": entry.active, "parent_id": units[entry.parent].id if entry.parent else None},
              entry.code in fresh)

    people = {p.number: p for p in session.scalars(select(Person))}
    for entry in data.people:
        row = people.get(entry.number)
        if row is None:
            row = people[entry.number] = Person()
        _sync(session, changes, "people", row, PERSON_FIELDS,
              {"number": entry.number, "name": entry.name, "unit_id": units[entry.unit].id,
               "position": entry.position, "staff_class": entry.staff_class, "status": entry.status,
               "active": entry.active},
              row.id is None)

    accounts = {a.username: a for a in session.scalars(select(User))}
    demo_hash = hash_password(DEMO_PASSWORD) if demo else None
    for entry in data.accounts:
        person = people[entry.person] if entry.person else None
        row = accounts.get(entry.username)
        if row is None:
            row = accounts[entry.username] = User()
        _sync(session, changes, "accounts", row, ACCOUNT_FIELDS,
              {"username": entry.username, "display_name": entry.display_name or person.name,
               "email": entry.email, "person_id": person.id if person else None, "active": entry.active},
              row.id is None)
        if demo and not verify_password(row.password_hash, DEMO_PASSWORD):
            row.password_hash = demo_hash
            record("set_password", row, actor=ACTOR)
            changes["passwords_set"] += 1
        _sync_roles(session, changes, row, entry.roles, [units[c].id for c in entry.units])

    changes["units_not_in_file"] = len(set(units) - {u.code for u in data.units})
    changes["people_not_in_file"] = len(set(people) - {p.number for p in data.people})
    changes["accounts_not_in_file"] = len(set(accounts) - {a.username for a in data.accounts})
    return tenant, created, changes


def _sync_roles(session: Session, changes: Counter, user: User, roles: list[str], unit_ids: list[int]) -> None:
    wanted = {(role, None) for role in roles if role not in UNIT_ROLES}
    wanted |= {(role, unit_id) for role in roles if role in UNIT_ROLES for unit_id in unit_ids}
    current = {(m.role, m.unit_id) for m in user.memberships}
    if wanted == current:
        return
    user.memberships = [m for m in user.memberships if (m.role, m.unit_id) in wanted]
    for role, unit_id in sorted(wanted - current, key=lambda x: (x[0], x[1] or 0)):
        user.memberships.append(RoleMembership(role=role, unit_id=unit_id))
    session.flush()
    record("roles", user, before={"roles": _roles_json(current)}, after={"roles": _roles_json(wanted)}, actor=ACTOR)
    changes["roles_changed"] += 1


def _roles_json(pairs: set) -> list[list]:
    return sorted([role, unit_id] for role, unit_id in pairs) if pairs else []
