"""Structural tenant isolation for the ORM.

The current tenant lives in `session.info["tenant_id"]`. Two session-wide listeners enforce it:

- `do_orm_execute` adds `tenant_id = <current>` to every ORM SELECT, UPDATE and DELETE that touches a
  `TenantScoped` model (joins and relationship loads included). Without a current tenant the
  criteria match nothing, and a statement whose main entity is tenant-scoped raises.
- `before_flush` stamps `tenant_id` on new rows and refuses rows of another tenant.

Platform code (tenant loading, the platform admin, `jixiao plugins`) opts out explicitly with
`all_tenants(session)`. On PostgreSQL the same tenant is set as `jixiao.tenant_id` for the row-level
security policies created by the migrations (the backstop).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session, ORMExecuteState, with_loader_criteria

from core.models.base import TenantScoped

ALL = "*"


class TenantScopeError(RuntimeError):
    """A tenant-owned row was read or written outside its tenant."""


def current_tenant_id(session: Session) -> int | None:
    return session.info.get("tenant_id")


def set_tenant(session: Session, tenant_id: int | None) -> None:
    """Make `tenant_id` the tenant every following statement of `session` is scoped to."""
    if session.info.get("tenant_id") != tenant_id and (session.new or session.dirty or session.deleted):
        session.flush()  # pending rows belong to the tenant they were made under
    session.info["tenant_id"] = tenant_id
    _sync_rls(session)


@contextmanager
def all_tenants(session: Session) -> Iterator[Session]:
    """Platform code only: statements inside see every tenant's rows."""
    previous = session.info.get("all_tenants", False)
    session.info["all_tenants"] = True
    _sync_rls(session)
    try:
        yield session
    finally:
        session.info["all_tenants"] = previous
        _sync_rls(session)


# Built once: parsing a text() statement costs about 0.25 ms, and every transaction runs it.
_SET_TENANT = text("SELECT set_config('jixiao.tenant_id', :v, true)")


def _rls_value(session: Session) -> str:
    if session.info.get("all_tenants"):
        return ALL
    tid = session.info.get("tenant_id")
    return "" if tid is None else str(tid)


def _sync_rls(session: Session) -> None:
    # Only a transaction already under way needs the new value now; a new one gets it in after_begin.
    if session.in_transaction() and session.bind is not None and session.bind.dialect.name == "postgresql":
        session.connection().execute(_SET_TENANT, {"v": _rls_value(session)})


@event.listens_for(Session, "after_begin")
def _rls_after_begin(session: Session, _transaction, connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(_SET_TENANT, {"v": _rls_value(session)})


def _touches_scoped(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.session.info.get("all_tenants"):
        return
    if state.execution_options.get("all_tenants"):
        raise TenantScopeError("use core.tenancy.all_tenants(session) to read across tenants")
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None and not state.is_relationship_load and _touches_scoped(state):
        raise TenantScopeError("a tenant-owned table was queried with no current tenant")
    # A missing tenant compares with NULL: fails closed for joined or related tenant rows.
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session: Session, _ctx, _instances) -> None:
    tenant_id = session.info.get("tenant_id")
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} has no tenant and none is current")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantScopeError(f"new {type(obj).__name__} belongs to tenant {obj.tenant_id}, not {tenant_id}")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if inspect(obj).attrs.tenant_id.history.deleted:
            raise TenantScopeError(f"{type(obj).__name__}.tenant_id cannot change")
        if tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} of tenant {obj.tenant_id} written under tenant {tenant_id}")
