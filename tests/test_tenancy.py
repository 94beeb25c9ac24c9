"""Tenant scoping below the web layer: the ORM listeners, the database keys, PostgreSQL RLS."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from core.models import OrgUnit, Person, Tenant
from core.tenancy import TenantScopeError, all_tenants, set_tenant


def tenant_id(db, slug):
    return db.scalar(select(Tenant.id).where(Tenant.slug == slug))


def test_selects_see_only_the_current_tenant(db):
    jituan, xiaoshou = tenant_id(db, "jituan"), tenant_id(db, "xiaoshou")
    set_tenant(db, jituan)
    assert {u.tenant_id for u in db.scalars(select(OrgUnit))} == {jituan}
    assert db.scalar(select(func.count()).select_from(Person)) == 60
    # joins and relationship loads are scoped too
    assert {p.unit.tenant_id for p in db.scalars(select(Person).join(OrgUnit, OrgUnit.id == Person.unit_id))} == {jituan}
    set_tenant(db, xiaoshou)
    assert db.scalar(select(func.count()).select_from(Person)) == 28


def test_get_by_id_of_another_tenant_finds_nothing(db):
    set_tenant(db, tenant_id(db, "xiaoshou"))
    foreign_unit = db.scalars(select(OrgUnit.id)).first()
    db.expunge_all()
    set_tenant(db, tenant_id(db, "jituan"))
    assert db.get(OrgUnit, foreign_unit) is None


def test_query_without_a_tenant_is_refused(db):
    set_tenant(db, None)
    with pytest.raises(TenantScopeError):
        db.scalars(select(Person)).all()
    with pytest.raises(TenantScopeError):
        db.scalars(select(OrgUnit).execution_options(all_tenants=True)).all()
    # platform code opts out explicitly
    with all_tenants(db):
        assert db.scalar(select(func.count()).select_from(Person)) == 60 + 28 + 40


def test_new_rows_are_stamped_and_foreign_rows_refused(db):
    jituan, xiaoshou = tenant_id(db, "jituan"), tenant_id(db, "xiaoshou")
    set_tenant(db, jituan)
    unit = OrgUnit(code="NEW1", name="新部门", kind="department")
    db.add(unit)
    db.flush()
    assert unit.tenant_id == jituan
    db.add(OrgUnit(code="NEW2", name="别人的部门", kind="department", tenant_id=xiaoshou))
    with pytest.raises(TenantScopeError):
        db.flush()
    db.rollback()


def test_rows_of_another_tenant_cannot_be_changed_or_moved(db):
    jituan, xiaoshou = tenant_id(db, "jituan"), tenant_id(db, "xiaoshou")
    with all_tenants(db):
        foreign = db.scalar(select(OrgUnit).where(OrgUnit.tenant_id == xiaoshou))
    set_tenant(db, jituan)
    foreign.name = "改名"
    with pytest.raises(TenantScopeError):
        db.flush()
    db.rollback()
    set_tenant(db, jituan)
    own = db.scalars(select(OrgUnit)).first()
    own.tenant_id = xiaoshou
    with pytest.raises(TenantScopeError):
        db.flush()
    db.rollback()


def test_bulk_update_touches_only_the_current_tenant(db):
    set_tenant(db, tenant_id(db, "jituan"))
    db.execute(update(Person).values(position="同一岗位"))
    db.flush()
    with all_tenants(db):
        changed = db.scalar(select(func.count()).select_from(Person).where(Person.position == "同一岗位"))
    assert changed == 60
    db.rollback()


def test_unique_keys_are_per_tenant(db):
    jituan, xiaoshou = tenant_id(db, "jituan"), tenant_id(db, "xiaoshou")
    with all_tenants(db):
        shared = db.scalars(select(OrgUnit.code).where(OrgUnit.tenant_id == xiaoshou)).first()
    set_tenant(db, jituan)
    if db.scalar(select(OrgUnit).where(OrgUnit.code == shared)) is None:
        db.add(OrgUnit(code=shared, name="同码单位", kind="department"))
        db.flush()  # the same code in another tenant is fine
    db.add(OrgUnit(code=shared, name="重复", kind="department"))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_database_refuses_a_parent_in_another_tenant(db):
    """The composite foreign keys (tenant_id, parent_id) make cross-tenant links impossible even
    for code that bypasses the ORM checks."""
    jituan, xiaoshou = tenant_id(db, "jituan"), tenant_id(db, "xiaoshou")
    with all_tenants(db):
        foreign_unit = db.scalar(select(OrgUnit.id).where(OrgUnit.tenant_id == xiaoshou))
        own_unit = db.scalar(select(OrgUnit.id).where(OrgUnit.tenant_id == jituan))
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.execute(text("UPDATE org_unit SET parent_id = :p WHERE id = :u"), {"p": foreign_unit, "u": own_unit})
    db.rollback()


def test_postgresql_row_level_security_backstop(db, backend):
    if backend != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    jituan = tenant_id(db, "jituan")
    conn = db.connection()
    conn.execute(text("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jixiao_rls_probe') "
                      "THEN CREATE ROLE jixiao_rls_probe NOLOGIN; END IF; END $$"))
    conn.execute(text("GRANT SELECT, UPDATE ON person TO jixiao_rls_probe"))
    conn.execute(text("SET LOCAL ROLE jixiao_rls_probe"))  # an ordinary role, as production uses

    def visible(setting: str) -> int:
        conn.execute(text("SELECT set_config('jixiao.tenant_id', :v, true)"), {"v": setting})
        return conn.execute(text("SELECT count(*) FROM person")).scalar()

    assert visible(str(jituan)) == 60
    assert visible("") == 0
    assert visible("*") == 128
    conn.execute(text("SELECT set_config('jixiao.tenant_id', :v, true)"), {"v": str(jituan)})
    assert conn.execute(text("UPDATE person SET position = 'x' WHERE tenant_id <> :t"), {"t": jituan}).rowcount == 0
    db.rollback()


def test_a_worker_keeps_a_tenant_for_a_few_seconds_and_forgets_it_when_it_changes(database_url):
    """``/t/<slug>`` does not start with a query for the tenant while the worker has it (the survey
    intake); a change made through the ORM in this worker is seen at once, one made elsewhere (another
    worker, plain SQL) once ``TENANT_CACHE_SECONDS`` have passed or the cache is dropped."""
    from core.db import db_session
    from core.tenants import forget_tenants
    from tests.conftest import make_test_app

    forget_tenants()
    app = make_test_app(database_url, TENANT_CACHE_SECONDS=60)
    client = app.test_client()
    try:
        assert client.get("/t/zhen/login").status_code == 200
        with app.app_context():  # elsewhere: plain SQL, no ORM event
            db_session.execute(update(Tenant).where(Tenant.slug == "zhen").values(active=False)
                               .execution_options(synchronize_session=False))
            db_session.commit()
        assert client.get("/t/zhen/login").status_code == 200  # still kept
        forget_tenants()
        assert client.get("/t/zhen/login").status_code == 404
        with app.app_context():  # through the ORM in this worker: forgotten at once
            tenant = db_session.scalar(select(Tenant).where(Tenant.slug == "zhen"))
            tenant.active = True
            db_session.commit()
        assert client.get("/t/zhen/login").status_code == 200
        with app.app_context():
            db_session.scalar(select(Tenant).where(Tenant.slug == "zhen")).name = "青山镇"
            db_session.commit()
        assert "青山镇" in client.get("/t/zhen/login").get_data(as_text=True)
    finally:
        forget_tenants()
        app.extensions["jixiao.engine"].dispose()
