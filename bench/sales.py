"""A 10,000-person sales month computed from the database, end to end, with a year of history: the
month's cycle is created (its event counts, pay and the eleven earlier published months' totals
derived from the records) and computed (the derived inputs refreshed, then scored) — and a
20,000-row attendance export imported. On SQLite and, when a PostgreSQL server is named, on
PostgreSQL (like bench/cycle.py).
"""
from __future__ import annotations

import csv
import io
import random
import time
from datetime import date

from sqlalchemy import insert, select, update

from bench.cycle import on_both_databases

PEOPLE, UNITS, YEAR = 10_000, 100, 2025
KINDS = ("late", "early_leave", "overtime", "extra_work", "proactive", "praise", "complaint")


def seed(app) -> tuple[int, int]:
    """A sales tenant of 10,000 salespeople in 100 units, with pay records, January computed from
    its inputs and published, and February to November copies of it, published: bulk set-up, not
    measured. December's events (about 50,000) are in the log."""
    from core.cycles import service
    from core.db import db_session
    from core.migrate import upgrade
    from core.models import (Cycle, CycleResult, CycleSubject, OrgUnit, Person, RoleMembership, Tenant, TenantScheme,
                             User)
    from core.passwords import hash_password
    from core.plugins import get_schemes
    from core.tenancy import set_tenant
    from plugins.sales_attitude.events.models import SalesEvent
    from plugins.sales_attitude.pay.models import PayRecord

    rng = random.Random(13)
    upgrade(app)
    tenant = Tenant(slug="benchsales", name="基准测试销售公司", locale="zh")
    db_session.add(tenant)
    db_session.flush()
    set_tenant(db_session, tenant.id)
    scheme = get_schemes()["sales-attitude"]
    db_session.add(TenantScheme(scheme_id=scheme.id, enabled=True, settings=scheme.default_settings()))
    db_session.execute(insert(OrgUnit), [dict(tenant_id=tenant.id, code=f"S{u:03d}", name=f"销售{u}部", kind="department",
                                              sort_order=u, active=True, version=1) for u in range(UNITS)])
    units = list(db_session.scalars(select(OrgUnit.id)))
    db_session.execute(insert(Person), [dict(
        tenant_id=tenant.id, number=f"P{i:05d}", name=f"销售员{i}", unit_id=units[i % UNITS], staff_class="staff",
        status="intern" if i % 100 == 0 else "regular", active=True, version=1) for i in range(PEOPLE)])
    people = dict(db_session.execute(select(Person.number, Person.id)).all())
    db_session.execute(insert(PayRecord), [dict(tenant_id=tenant.id, person_id=pid, base="5000.00", coefficient="1.1",
                                                updated_by="bench", version=1) for pid in people.values()])
    hr = User(username="hr", display_name="HR", password_hash=hash_password("bench-password"))
    db_session.add(hr)
    db_session.flush()
    db_session.add(RoleMembership(user_id=hr.id, role="tenant_admin"))
    db_session.commit()

    def ratings(i: int) -> dict:
        low = 60 if i % 20 == 0 else 78
        return {k: str(rng.randint(low, 95)) for k in ("basic_ability", "proficiency", "coordination", "service")}

    january = service.create_cycle("sales-attitude", f"{YEAR}-01", "一月", {}, "bench")
    service.transition(january, "open", "bench")
    rows = db_session.execute(select(CycleSubject.id, CycleSubject.code, CycleSubject.inputs)
                              .where(CycleSubject.cycle_id == january.id, CycleSubject.kind == "person")).all()
    db_session.execute(update(CycleSubject), [{"id": sid, "inputs_version": 1, "inputs": {
        **inputs, "ratings": ratings(int(code[1:])),
        "events": {"late": str(rng.randint(0, 3)), "personal_leave_days": "3" if int(code[1:]) % 10 == 0 else "0"}}}
        for sid, code, inputs in rows])
    db_session.commit()
    service.compute(january, "bench")
    january.state, january.published_at = "published", january.computed_at
    subjects = db_session.scalars(select(CycleSubject).where(CycleSubject.cycle_id == january.id)).all()
    results = {r.subject_id: r for r in db_session.scalars(select(CycleResult).where(CycleResult.cycle_id == january.id))}
    for month in range(2, 12):
        copy = Cycle(name=f"{month}月", scheme_id=january.scheme_id, scheme_version=january.scheme_version,
                     period=f"{YEAR}-{month:02d}", state="published", settings=january.settings, selection={},
                     created_by="bench", published_at=january.published_at)
        db_session.add(copy)
        db_session.flush()
        db_session.execute(insert(CycleSubject), [dict(
            tenant_id=s.tenant_id, cycle_id=copy.id, kind=s.kind, code=s.code, name=s.name, unit_id=s.unit_id,
            person_id=s.person_id, unit_kind=s.unit_kind, staff_class=s.staff_class, status=s.status, eligible=True,
            inputs=s.inputs, inputs_version=1) for s in subjects])
        ids = dict(db_session.execute(select(CycleSubject.code, CycleSubject.id).where(CycleSubject.cycle_id == copy.id)).all())
        db_session.execute(insert(CycleResult), [dict(
            tenant_id=s.tenant_id, cycle_id=copy.id, subject_id=ids[s.code], score=results[s.id].score,
            grade=None, rank=results[s.id].rank, flags=results[s.id].flags, extra=results[s.id].extra, breakdown=None)
            for s in subjects if s.id in results])
    events = []
    for number, pid in people.items():
        for n in range(5):
            day = date(YEAR, 12, 1 + (int(number[1:]) + n * 5) % 28)
            kind = KINDS[(int(number[1:]) + n) % len(KINDS)]
            note = "备注" if kind in ("praise", "complaint") else ""
            events.append(dict(tenant_id=tenant.id, person_id=pid, day=day, kind=kind, quantity="1", note=note,
                               source="entered", dedupe_key=f"{day}|{kind}|{n}", created_by="bench"))
    db_session.execute(insert(SalesEvent), events)
    db_session.commit()
    return tenant.id, len(events)


def attendance_export(people: list[str], rows: int) -> bytes:
    """A .csv attendance export of ``rows`` late arrivals and overtime in December (the open month), one per person and day."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工号", "日期", "类型", "数量", "备注"])
    for i in range(rows):
        writer.writerow([people[i % len(people)], date(YEAR, 12, 2 + (i // len(people)) * 2).isoformat(),
                         "迟到" if i % 2 else "加班", "1", ""])
    return out.getvalue().encode("utf-8")


def measure(database_url: str, label: str) -> dict:
    from core import create_app
    from core.cycles import service
    from core.db import db_session
    from core.models import CycleSubject, Person
    from core.tenancy import set_tenant
    from plugins.sales_attitude.events import service as events

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": database_url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        tenant_id, event_count = seed(app)
    with app.app_context():
        set_tenant(db_session, tenant_id)
        started = time.perf_counter()
        december = service.create_cycle("sales-attitude", f"{YEAR}-12", "十二月", {}, "bench")
        db_session.commit()
        created = time.perf_counter() - started
        service.transition(december, "open", "bench")
        rows = db_session.execute(select(CycleSubject.id, CycleSubject.inputs, CycleSubject.inputs_version)
                                  .where(CycleSubject.cycle_id == december.id, CycleSubject.kind == "person")).all()
        regular = [inputs for _i, inputs, _v in rows if "history" in inputs]  # interns have no totals
        assert len(regular) == PEOPLE - PEOPLE // 100 and all(len(i["history"]) == 11 and "pay" in i for i in regular)
        db_session.execute(update(CycleSubject), [{"id": sid, "inputs_version": version + 1, "inputs": {
            **inputs, "ratings": {k: "85" for k in ("basic_ability", "proficiency", "coordination", "service")}}}
            for sid, inputs, version in rows])
        db_session.commit()
        cycle_id = december.id
    times = []
    for _ in range(3):
        with app.app_context():
            set_tenant(db_session, tenant_id)
            started = time.perf_counter()
            count = service.compute(db_session.get(type(december), cycle_id), "bench")
            db_session.commit()
            times.append(time.perf_counter() - started)
    assert count >= PEOPLE
    with app.app_context():
        set_tenant(db_session, tenant_id)
        numbers = list(db_session.scalars(select(Person.number).order_by(Person.number)))
        data = attendance_export(numbers, 20_000)
        started = time.perf_counter()
        report = events.import_rows("attendance.csv", events.read_rows("attendance.csv", data), "bench")
        db_session.commit()
        imported = time.perf_counter() - started
        assert report.imported == 20_000
    app.extensions["jixiao.engine"].dispose()
    print(f"{label}: sales month of 10,000 people created with its inputs derived ({event_count:,} events counted, "
          f"pay, 11 earlier months of history) in {created:.2f} s")
    print(f"{label}: that month computed from the database end to end (derived inputs refreshed) in "
          f"{min(times):.2f} s (best of 3)")
    print(f"{label}: attendance export of 20,000 rows imported (checked, duplicates looked up, inserted) in "
          f"{imported:.2f} s")
    return {f"{label}_sales_create_s": round(created, 3), f"{label}_sales_compute_s": round(min(times), 3),
            f"{label}_sales_import_20k_s": round(imported, 3)}


def main() -> dict:
    return on_both_databases(measure, "jixiao_bench_sales")


if __name__ == "__main__":
    main()
