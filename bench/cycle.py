"""A 10,000-person corporate cycle computed from the database, end to end, and the server time
of the autosave request at that size — on SQLite and, when JIXIAO_BENCH_DATABASE_URL (or
JIXIAO_TEST_DATABASE_URL) names a PostgreSQL server, on PostgreSQL.

End to end means: read the cycle's subjects and inputs, build the case, validate and score it,
replace the stored results (bulk delete + bulk insert), commit.
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text, update

from bench.generate import corporate_monthly

PEOPLE, UNITS, AUTOSAVES = 10_000, 500, 200


def _pg_database(base_url: str, name: str) -> str:
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


def seed(app) -> tuple[int, int]:
    """A tenant with 500 units and 10,000 people, an HR account, corporate-grading enabled, and an
    open cycle whose every subject has its inputs. Bulk inserts: this is set-up, not measured."""
    from core.cycles import service
    from core.db import db_session
    from core.migrate import upgrade
    from core.models import (CycleSubject, OrgUnit, Person, RoleMembership, Tenant, TenantScheme, User)
    from core.passwords import hash_password
    from core.plugins import get_schemes
    from core.tenancy import set_tenant

    upgrade(app)
    case = corporate_monthly(PEOPLE, UNITS)
    tenant = Tenant(slug="bench", name="基准测试集团", locale="zh")
    db_session.add(tenant)
    db_session.flush()
    set_tenant(db_session, tenant.id)
    scheme = get_schemes()["corporate-grading"]
    db_session.add(TenantScheme(scheme_id=scheme.id, enabled=True, settings=scheme.default_settings()))
    db_session.execute(insert(OrgUnit), [dict(tenant_id=tenant.id, code=u["id"], name=f"单位{u['id']}", kind=u["kind"],
                                              sort_order=i, active=True, version=1) for i, u in enumerate(case["units"])])
    unit_ids = dict(db_session.execute(select(OrgUnit.code, OrgUnit.id)).all())
    db_session.execute(insert(Person), [dict(tenant_id=tenant.id, number=p["id"], name=f"员工{p['id']}",
                                             unit_id=unit_ids[p["unit"]], staff_class=p["class"], status="regular",
                                             active=True, version=1) for p in case["people"]])
    hr = User(username="hr", display_name="HR", password_hash=hash_password("bench-password"))
    db_session.add(hr)
    db_session.flush()
    db_session.add(RoleMembership(user_id=hr.id, role="tenant_admin"))
    cycle = service.create_cycle("corporate-grading", case["period"], "基准", {}, "bench")
    service.transition(cycle, "open", "bench")
    inputs = {("unit", u["id"]): u["inputs"] for u in case["units"]}
    inputs.update({("person", p["id"]): p["inputs"] for p in case["people"]})
    rows = db_session.execute(select(CycleSubject.id, CycleSubject.kind, CycleSubject.code)
                              .where(CycleSubject.cycle_id == cycle.id)).all()
    db_session.execute(update(CycleSubject), [{"id": sid, "inputs": inputs[(kind, code)], "inputs_version": 1}
                                              for sid, kind, code in rows])
    db_session.commit()
    return tenant.id, cycle.id


def year_of_months(cycle_id: int) -> None:
    """Publish the computed cycle and copy it (subjects and results) into the year's eleven other
    months, all published: bulk set-up, not measured."""
    from core.db import db_session
    from core.models import Cycle, CycleResult, CycleSubject

    source = db_session.get(Cycle, cycle_id)
    source.state = "published"
    subjects = db_session.execute(select(CycleSubject).where(CycleSubject.cycle_id == cycle_id)).scalars().all()
    results = {r.subject_id: r for r in db_session.scalars(select(CycleResult).where(CycleResult.cycle_id == cycle_id))}
    year = source.period[:4]
    for month in range(1, 13):
        period = f"{year}-{month:02d}"
        if period == source.period:
            continue
        copy = Cycle(name=f"基准 {period}", scheme_id=source.scheme_id, scheme_version=source.scheme_version, period=period,
                     state="published", settings=source.settings, selection={}, created_by="bench")
        db_session.add(copy)
        db_session.flush()
        db_session.execute(insert(CycleSubject), [dict(
            tenant_id=s.tenant_id, cycle_id=copy.id, kind=s.kind, code=s.code, name=s.name, unit_id=s.unit_id,
            person_id=s.person_id, unit_kind=s.unit_kind, staff_class=s.staff_class, status=s.status, eligible=True,
            inputs={}, inputs_version=0) for s in subjects])
        ids = dict(db_session.execute(select(CycleSubject.code, CycleSubject.id).where(CycleSubject.cycle_id == copy.id)).all())
        db_session.execute(insert(CycleResult), [dict(
            tenant_id=s.tenant_id, cycle_id=copy.id, subject_id=ids[s.code], score=results[s.id].score,
            grade=results[s.id].grade, rank=results[s.id].rank, flags=[], extra={}, breakdown=None) for s in subjects])
    db_session.commit()


def measure_annual(app, tenant_id: int, cycle_id: int, label: str) -> dict:
    """Create the year's annual cycle: its subjects chosen and every subject's twelve monthly
    scores collected from the published months (plugins/corporate_grading/annual), end to end."""
    from core.cycles import service
    from core.db import db_session
    from core.models import Cycle, CycleSubject
    from core.tenancy import set_tenant

    with app.app_context():
        set_tenant(db_session, tenant_id)
        year_of_months(cycle_id)
        year = db_session.get(Cycle, cycle_id).period[:4]
        started = time.perf_counter()
        annual = service.create_cycle("corporate-grading", year, "基准年度", {}, "bench")
        db_session.commit()
        elapsed = time.perf_counter() - started
        collected = db_session.scalars(select(CycleSubject.inputs).where(CycleSubject.cycle_id == annual.id)).all()
    assert len(collected) == PEOPLE + UNITS and all(len(i.get("monthly_scores", ())) == 12 for i in collected)
    print(f"{label}: annual cycle of 10,000 people created with 12 months of scores collected "
          f"(126,000 monthly results) in {elapsed:.2f} s")
    return {f"{label}_annual_collect_s": round(elapsed, 3)}


def measure(database_url: str, label: str) -> dict:
    from core import create_app
    from core.cycles import service
    from core.db import db_session
    from core.models import Cycle, CycleSubject
    from core.tenancy import set_tenant

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": database_url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        tenant_id, cycle_id = seed(app)
    times = []
    for _ in range(3):
        with app.app_context():
            set_tenant(db_session, tenant_id)
            started = time.perf_counter()
            cycle = db_session.get(Cycle, cycle_id)
            count = service.compute(cycle, "bench")
            db_session.commit()
            times.append(time.perf_counter() - started)
    assert count == PEOPLE + UNITS

    client = app.test_client()
    client.post("/t/bench/login", data={"username": "hr", "password": "bench-password"})
    with app.app_context():
        set_tenant(db_session, tenant_id)
        people = db_session.execute(select(CycleSubject.id, CycleSubject.inputs_version)
                                    .where(CycleSubject.cycle_id == cycle_id, CycleSubject.kind == "person",
                                           CycleSubject.staff_class == "C")).all()
    rng = random.Random(5)
    versions = dict(people)
    chosen = rng.sample(sorted(versions), AUTOSAVES)
    latencies = []
    for i, sid in enumerate(chosen):
        data = {"inputs_version": str(versions[sid]), "personal__mode": "score", "personal_score": f"4.{i % 10}",
                "adjust": "0"}
        started = time.perf_counter()
        response = client.post(f"/t/bench/cycles/{cycle_id}/inputs/{sid}", data=data, headers={"HX-Request": "true"})
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    annual = measure_annual(app, tenant_id, cycle_id, label)
    app.extensions["jixiao.engine"].dispose()
    print(f"{label}: 10,000-person cycle computed from the database end to end in {min(times):.2f} s "
          f"(best of 3)   [target: under 3 s]")
    print(f"{label}: autosave request at that size: p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms over {AUTOSAVES} saves   [target: p95 under 25 ms]")
    return {f"{label}_cycle_compute_s": round(min(times), 3), f"{label}_autosave_p50_ms": round(statistics.median(latencies) * 1000, 2),
            f"{label}_autosave_p95_ms": round(p95 * 1000, 2), **annual}


def on_both_databases(measure, name: str) -> dict:
    """``measure(url, label)`` on a fresh SQLite file and, when JIXIAO_BENCH_DATABASE_URL (or
    JIXIAO_TEST_DATABASE_URL) names a PostgreSQL server, on a fresh database ``name`` there."""
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        figures.update(measure(f"sqlite:///{Path(folder) / (name + '.sqlite')}", "sqlite"))
    pg = os.environ.get("JIXIAO_BENCH_DATABASE_URL") or os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if not pg:
        print("postgresql: skipped (set JIXIAO_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test)")
        return figures
    try:
        url = _pg_database(pg, name)
    except Exception as exc:  # no server there: say so and go on
        print(f"postgresql: skipped ({pg} cannot be reached: {exc.__class__.__name__})")
        return figures
    try:
        figures.update(measure(url, "postgresql"))
    finally:
        admin = create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return figures


def main() -> dict:
    return on_both_databases(measure, "jixiao_bench")
