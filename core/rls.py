"""PostgreSQL row-level security for tenant-owned tables: the backstop behind ORM scoping.

Migrations call :func:`enable_tenant_rls` for every table with a ``tenant_id``. A row is visible
and writable only when its ``tenant_id`` equals the transaction's ``jixiao.tenant_id`` setting (set
by ``core.tenancy``), or when that setting is ``*`` (platform code). ``FORCE`` makes the policy apply
to the tables' owner too; only superusers bypass it, so production connects as an ordinary role.
"""
from __future__ import annotations

POLICY = "tenant_isolation"
# Text comparison: no cast that could fail on '*' or an empty setting; empty or unset sees nothing.
CONDITION = ("current_setting('jixiao.tenant_id', true) = '*' "
             "OR tenant_id::text = current_setting('jixiao.tenant_id', true)")


def enable_tenant_rls(op, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({CONDITION}) WITH CHECK ({CONDITION})")


def disable_tenant_rls(op, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
