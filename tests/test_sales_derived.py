"""A sales month's derived inputs follow the scheme's records: event counts from the log, pay from
the pay records, training from training plans, and the earlier months' published totals (with the
total without personal leave) that the competence rules read — equal to what `jixiao score` gives
when the history is rebuilt from the earlier months' own case files."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.cycles import service as cycles
from core.cycles.service import CycleError
from core.models import CycleResult, CycleSubject, Person
from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import build_case
from plugins.sales_attitude import derived
from plugins.sales_attitude.events.models import SalesEvent
from plugins.sales_attitude.pay.models import PayRecord
from tests.test_cycles import tenant

WEAK, ON_LEAVE = "X012", "X013"  # two regular sales staff of S1


def ratings(value: int) -> dict:
    return {k: str(value) for k in ("basic_ability", "proficiency", "coordination", "service")}


def leave(db, number: str, period: str, days: str) -> None:
    person = db.scalar(select(Person.id).where(Person.number == number))
    day = date(int(period[:4]), int(period[5:]), 5)
    db.add(SalesEvent(person_id=person, day=day, kind="personal_leave_days", quantity=days, note="事假",
                      dedupe_key=f"{day}|personal_leave_days", created_by="test"))


def publish_month(db, period: str, leave_days: str | None = "10") -> object:
    """A month: the weak seller rated 70 (total 74.50), the other 78 with 10 days of personal leave
    (79.80; 81.30 without the leave), everyone else 90."""
    if leave_days:
        leave(db, ON_LEAVE, period, leave_days)
    cycle = cycles.create_cycle("sales-attitude", period, period, {}, "test")
    cycles.transition(cycle, "open", "test")
    for subject in cycles.subjects(cycle):
        if subject.kind == "person":
            value = 70 if subject.code == WEAK else 78 if subject.code == ON_LEAVE else 90
            cycles.set_inputs(subject, cycle, {**subject.inputs, "ratings": ratings(value)}, subject.inputs_version, "test")
    cycles.compute(cycle, "test")
    cycles.transition(cycle, "review", "test")
    cycles.transition(cycle, "published", "test")
    db.flush()
    return cycle


def person_subject(db, cycle, number: str) -> CycleSubject:
    return db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id, CycleSubject.code == number))


def flags_of(db, cycle) -> dict[str, list[str]]:
    rows = db.execute(select(CycleSubject.code, CycleResult.flags).join(CycleResult, CycleResult.subject_id == CycleSubject.id)
                      .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == "person")).all()
    return {code: sorted(flags) for code, flags in rows}


def test_history_comes_from_the_published_months_and_leave_months_do_not_count(app):
    with tenant(app, "xiaoshou") as db:
        months = [publish_month(db, f"2026-0{m}") for m in (1, 2, 3)]
        third = person_subject(db, months[2], ON_LEAVE)
        assert third.inputs["events"] == {"personal_leave_days": "10"}
        assert third.inputs["history"] == [
            {"period": "2026-01", "score": "79.80", "score_without_leave": "81.30"},
            {"period": "2026-02", "score": "79.80", "score_without_leave": "81.30"}]
        assert person_subject(db, months[2], WEAK).inputs["history"] == [
            {"period": "2026-01", "score": "74.50"}, {"period": "2026-02", "score": "74.50"}]
        flags = flags_of(db, months[2])
        assert flags[WEAK] == ["training"] and flags[ON_LEAVE] == []
        assert flags_of(db, months[1])[WEAK] == []  # two months below 80 are not yet three


def test_the_listings_equal_jixiao_score_with_the_history_rebuilt_from_the_case_files(app):
    """Each month scored from its exported case, with the history made from the earlier months'
    scored case files (and their totals without personal leave scored the same way)."""
    with tenant(app, "xiaoshou") as db:
        months = [publish_month(db, f"2026-0{m}", leave_days="10" if m != 2 else None) for m in (1, 2, 3, 4)]
        schemes = get_schemes()
        totals: dict[str, dict[str, tuple[str, str]]] = {}
        for cycle in months:
            case = cycles.case_of(cycle)
            for person in case["people"]:
                history = [{"period": p, "score": s, **({"score_without_leave": w} if w != s else {})}
                           for p, (s, w) in sorted((p, t[person["id"]]) for p, t in totals.items() if person["id"] in t)]
                person["inputs"] = {**person["inputs"], "history": history}
            result = score_case(*build_case(case, schemes))
            assert {p.id: sorted(p.flags) for p in result.people} == flags_of(db, cycle)
            without = {**case, "people": [{**p, "inputs": {**p["inputs"], "history": [], "events": {
                **p["inputs"].get("events", {}), "personal_leave_days": 0}}} for p in case["people"]]}
            again = {p.id: p.score for p in score_case(*build_case(without, schemes)).people}
            totals[cycle.period] = {p.id: (f"{p.score:.2f}", f"{again[p.id]:.2f}") for p in result.people
                                    if p.score is not None}
        assert flags_of(db, months[3])[WEAK] == ["training"]


def test_records_reach_the_months_not_yet_published_and_only_the_subjects_that_change(app):
    with tenant(app, "xiaoshou") as db:
        published = publish_month(db, "2026-01", leave_days=None)
        cycle = cycles.create_cycle("sales-attitude", "2026-02", "二月", {}, "test")
        person = db.scalar(select(Person).where(Person.number == WEAK))
        db.add(PayRecord(person_id=person.id, base="5000.00", coefficient="1.2", updated_by="test"))
        leave(db, WEAK, "2026-02", "1.5")
        leave(db, WEAK, "2026-01", "2")  # a published month's inputs no longer change
        db.flush()
        derived.refresh_people([person.id], "test")
        subject = person_subject(db, cycle, WEAK)
        assert subject.inputs["pay"] == {"base": "5000.00", "coefficient": "1.2"}
        assert subject.inputs["events"] == {"personal_leave_days": "1.5"}
        assert subject.inputs["history"] == [{"period": "2026-01", "score": "74.50"}]
        assert "events" not in person_subject(db, published, WEAK).inputs
        versions = {s.code: s.inputs_version for s in cycles.subjects(cycle)}
        assert derived.refresh(cycle, "test") == 0  # nothing changed: nothing written
        assert {s.code: s.inputs_version for s in cycles.subjects(cycle)} == versions


def test_a_derived_write_racing_a_save_is_refused_whole(app):
    with tenant(app, "xiaoshou") as db:
        cycle = cycles.create_cycle("sales-attitude", "2026-02", "二月", {}, "test")
        first, second = [s for s in cycles.subjects(cycle) if s.kind == "person"][:2]
        read = [SimpleNamespace(id=s.id, inputs_version=s.inputs_version) for s in (first, second)]
        cycles.set_inputs(second, cycle, {"ratings": ratings(80)}, second.inputs_version, "someone")
        with pytest.raises(CycleError, match="changed by someone else"):
            cycles.set_many_inputs(cycle, [(s, {"training": True}) for s in read], "test")


def test_a_month_published_late_reaches_the_history_of_the_next_month_already_computed(app):
    """December computed while November was still open; November then published: December's
    history follows at once, and December cannot be published before it is computed again."""
    with tenant(app, "xiaoshou") as db:
        publish_month(db, "2026-10", leave_days=None)
        november = cycles.create_cycle("sales-attitude", "2026-11", "十一月", {}, "test")
        december = cycles.create_cycle("sales-attitude", "2026-12", "十二月", {}, "test")
        for cycle in (november, december):
            cycles.transition(cycle, "open", "test")
            for subject in cycles.subjects(cycle):
                if subject.kind == "person":
                    cycles.set_inputs(subject, cycle, {**subject.inputs, "ratings": ratings(70 if subject.code == WEAK else 90)},
                                      subject.inputs_version, "test")
        cycles.compute(december, "test")
        assert [e["period"] for e in person_subject(db, december, WEAK).inputs["history"]] == ["2026-10"]
        cycles.compute(november, "test")
        cycles.transition(november, "review", "test")
        cycles.transition(november, "published", "test")
        assert [e["period"] for e in person_subject(db, december, WEAK).inputs["history"]] == ["2026-10", "2026-11"]
        cycles.transition(december, "review", "test")
        with pytest.raises(CycleError) as refused:
            cycles.transition(december, "published", "test")
        assert "compute the results after the last change of the inputs" in refused.value.problems
        cycles.compute(december, "test")
        cycles.transition(december, "published", "test")
        assert flags_of(db, december)[WEAK] == ["training"]


def test_history_written_for_months_without_a_published_cycle_is_kept(app):
    """Totals from before the portal (written into the inputs, as a case file has them) stay;
    a month the portal has published replaces what was written for it."""
    with tenant(app, "xiaoshou") as db:
        publish_month(db, "2026-02", leave_days=None)
        cycle = cycles.create_cycle("sales-attitude", "2026-03", "三月", {}, "test")
        subject = person_subject(db, cycle, WEAK)
        written = [{"period": "2026-01", "score": "75.00"}, {"period": "2026-02", "score": "99.00"}]
        cycles.set_inputs(subject, cycle, {**subject.inputs, "history": written, "ratings": ratings(70)},
                          subject.inputs_version, "test")
        derived.refresh(cycle, "test")
        assert person_subject(db, cycle, WEAK).inputs["history"] == [
            {"period": "2026-01", "score": "75.00"}, {"period": "2026-02", "score": "74.50"}]
        cycles.transition(cycle, "open", "test")
        for other in cycles.subjects(cycle):
            if other.kind == "person" and other.code != WEAK:
                cycles.set_inputs(other, cycle, {**other.inputs, "ratings": ratings(90)}, other.inputs_version, "test")
        cycles.compute(cycle, "test")
        assert flags_of(db, cycle)[WEAK] == ["training"]  # January (written), February (published), March


def test_nobody_imports_their_own_ratings(app, client):
    """The bulk import goes through the scheme's rule too: HR who is also a salesperson cannot
    import their own ratings; the row is named and nothing is saved."""
    import io

    from core.models import User
    from tests.conftest import AuthActions

    with tenant(app, "xiaoshou") as db:
        hr = db.scalar(select(User).where(User.username == "admin"))
        db.get(Person, hr.person_id).staff_class = "staff"  # HR's clerk also sells, this year
        cycle = cycles.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        cycles.transition(cycle, "open", "test")
        db.commit()
        cycle_id = cycle.id
        own = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle_id,
                                                   CycleSubject.person_id == hr.person_id))
        other = person_subject(db, cycle, WEAK)
        own_id, own_code, other_id, other_code = own.id, own.code, other.id, other.code
    AuthActions(client).login("xiaoshou", "admin")
    client.post("/lang", data={"locale": "en"})
    csv = f"code,ratings.basic_ability\n{other_code},80\n{own_code},100\n".encode()
    response = client.post(f"/t/xiaoshou/cycles/{cycle_id}/inputs/import", content_type="multipart/form-data",
                           data={"kind": "person", "file": (io.BytesIO(csv), "ratings.csv")})
    assert response.status_code == 422
    assert "nobody rates themselves" in response.get_data(as_text=True)
    with tenant(app, "xiaoshou") as db:
        assert "ratings" not in db.get(CycleSubject, own_id).inputs
        assert "ratings" not in db.get(CycleSubject, other_id).inputs  # all or nothing


def test_a_record_changing_leaves_the_forms_open_on_the_subject_valid(app):
    """HR records an event while the unit head has the person's row open: the event reaches the
    inputs without moving the form's version, so the unit head's next save is not refused."""
    with tenant(app, "xiaoshou") as db:
        cycle = cycles.create_cycle("sales-attitude", "2026-02", "二月", {}, "test")
        cycles.transition(cycle, "open", "test")
        subject = person_subject(db, cycle, WEAK)
        version = subject.inputs_version
        leave(db, WEAK, "2026-02", "1")
        db.flush()
        derived.refresh_people([subject.person_id], "test", "2026-02")
        subject = person_subject(db, cycle, WEAK)
        assert subject.inputs["events"] == {"personal_leave_days": "1"} and subject.inputs_version == version
        cycles.set_inputs(subject, cycle, {**subject.inputs, "ratings": ratings(80)}, version, "user:wanghaijun")
        assert person_subject(db, cycle, WEAK).inputs_version == version + 1


def test_an_appeal_changing_a_published_month_reaches_the_next_month_not_yet_published(app):
    """When an appeal changes a published month's totals (jixiao_event_results_changed), the later
    open month's history follows, and that month must be computed again before it is published."""
    from flask import current_app

    from core.models import Tenant

    with tenant(app, "xiaoshou") as db:
        january = publish_month(db, "2026-01", leave_days=None)
        february = cycles.create_cycle("sales-attitude", "2026-02", "二月", {}, "test")
        result = db.scalar(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                           .where(CycleResult.cycle_id == january.id, CycleSubject.code == WEAK))
        result.score = Decimal("81.00")  # as an appeal's decision leaves it
        db.flush()
        hook = current_app.extensions["jixiao.plugins"].hook
        hook.jixiao_event_results_changed(tenant=db.get(Tenant, january.tenant_id), cycle=january)
        assert person_subject(db, february, WEAK).inputs["history"] == [{"period": "2026-01", "score": "81.00"}]
