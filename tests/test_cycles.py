"""Cycles below the web layer: subjects and exclusions, states and their preconditions, inputs
with optimistic locking, computing from the database, and agreement with `jixiao score`."""
from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core.db import db_session
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, Tenant, TenantScheme
from core.plugins import get_schemes
from core.scoring.cli import score_file
from core.tenancy import set_tenant
from core.cycles import service
from core.cycles.service import CycleError


@contextmanager
def tenant(app, slug="jituan"):
    """The tenant's session, with the service's messages in English (the ones asserted)."""
    with app.app_context(), force_locale("en"):
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == slug)))
        yield db_session


def fill_corporate_inputs(cycle: Cycle) -> None:
    """Plausible monthly inputs for every subject of a jituan cycle."""
    rows = service.subjects(cycle)
    unit_codes = [r.code for r in rows if r.kind == "unit"]
    for i, row in enumerate(rows):
        if row.kind == "unit":
            inputs = {"plan_rate": f"0.{70 + i % 30}", "form_score": f"{3 + (i % 20) / 10}"}
        elif row.staff_class == "A":
            inputs = {"personal_score": "4.5", "oversees": unit_codes[i % 5: i % 5 + 2]}
        else:
            inputs = {"personal_score": f"{3.5 + (i % 15) / 10}", "adjust": "0.1" if i % 7 == 0 else "0"}
        service.set_inputs(row, cycle, inputs, row.inputs_version, "test")


def test_a_cycle_lists_who_is_assessed_and_who_is_excluded_and_why(app):
    with tenant(app, "xiaoshou") as db:
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月考评", {}, "test")
        rows = service.subjects(cycle, eligible_only=False)
        people = [r for r in rows if r.kind == "person"]
        assert len([p for p in people if p.eligible]) == 20  # 2 supervisors and 18 sales staff
        excluded = [p for p in people if not p.eligible]
        assert excluded and all("no staff class of this scheme" in p.excluded_reason for p in excluded)
        assert {r.kind for r in rows} == {"unit", "person"}


def test_a_cycle_is_bound_to_the_settings_of_its_day(app):
    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "test")
        row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "corporate-grading"))
        row.settings = {**row.settings, "unit_monthly_formula": "plan_score * 0.5 + form_score * 0.5 + adjust"}
        db.flush()
        assert cycle.settings["unit_monthly_formula"] == "plan_score * 0.6 + form_score * 0.4 + adjust"


@pytest.mark.parametrize("scheme, period, message", [
    ("corporate-grading", "2026-Q3", "does not score a quarter"),
    ("corporate-grading", "2026-13", "is not a period"),
    ("sales-attitude", "2026-09", "not enabled for this organisation"),
])
def test_creating_a_cycle_is_refused_with_a_reason(app, scheme, period, message):
    with tenant(app) as db:
        with pytest.raises(CycleError, match=message):
            service.create_cycle(scheme, period, "x", {}, "test")


def test_the_whole_life_of_a_cycle(app):
    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026-09", "2026年9月", {}, "hr")
        assert cycle.state == "draft"
        with pytest.raises(CycleError, match="cannot move to published"):
            service.transition(cycle, "published", "hr")
        service.transition(cycle, "open", "hr")
        with pytest.raises(CycleError) as info:  # nothing entered yet
            service.transition(cycle, "review", "hr")
        assert any("is required; neither was given" in p for p in info.value.problems)
        fill_corporate_inputs(cycle)
        service.transition(cycle, "review", "hr")
        with pytest.raises(CycleError) as info:
            service.transition(cycle, "published", "hr")
        assert "compute the results" in info.value.problems[0]
        count = service.compute(cycle, "hr")
        assert count == len(service.subjects(cycle))
        service.transition(cycle, "published", "hr")
        service.transition(cycle, "closed", "hr")
        with pytest.raises(CycleError, match="while the cycle is a draft or open"):
            row = service.subjects(cycle)[0]
            service.set_inputs(row, cycle, {}, row.inputs_version, "hr")
        db.commit()
        actions = db.scalars(select(AuditLog.action).where(AuditLog.object_type == "Cycle").order_by(AuditLog.id)).all()
        assert actions == ["create", "transition", "transition", "compute", "transition", "transition"]


def test_inputs_are_saved_with_optimistic_locking(app):
    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "hr")
        row = service.subjects(cycle)[0]
        version = service.set_inputs(row, cycle, {"plan_rate": "0.9", "form_score": "4"}, 0, "hr")
        assert version == 1
        with pytest.raises(CycleError, match="changed by someone else"):
            service.set_inputs(row, cycle, {"plan_rate": "0.1", "form_score": "2"}, 0, "another editor")
        db.refresh(row)
        assert row.inputs == {"plan_rate": "0.9", "form_score": "4"} and row.inputs_version == 1


def test_computing_twice_gives_the_same_results(app):
    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "hr")
        service.transition(cycle, "open", "hr")
        fill_corporate_inputs(cycle)
        service.compute(cycle, "hr")
        first = db.execute(select(CycleResult.subject_id, CycleResult.score, CycleResult.grade, CycleResult.rank)
                           .order_by(CycleResult.subject_id)).all()
        service.compute(cycle, "hr")
        again = db.execute(select(CycleResult.subject_id, CycleResult.score, CycleResult.grade, CycleResult.rank)
                           .order_by(CycleResult.subject_id)).all()
        assert first == again and len(first) == db.scalar(select(func.count()).select_from(CycleResult))


def test_a_cycle_and_jixiao_score_agree(app, tmp_path):
    """The same inputs through a cycle and through a case file give identical results."""
    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "hr")
        service.transition(cycle, "open", "hr")
        fill_corporate_inputs(cycle)
        service.compute(cycle, "hr")
        stored = {(s.kind, s.code): (r.score, r.grade, r.rank, sorted(r.flags))
                  for r, s in db.execute(select(CycleResult, CycleSubject)
                                         .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)).all()}
        path = tmp_path / "case.json"
        path.write_text(json.dumps(service.case_of(cycle), ensure_ascii=False))
        result = score_file(str(path), get_schemes())
    from_file = {(kind, s.id): (s.score, s.grade, s.rank, sorted(s.flags))
                 for kind, section in (("unit", result.units), ("person", result.people)) for s in section}
    assert stored == from_file and len(stored) > 60


def test_opening_a_cycle_tells_those_who_enter_its_inputs_and_by_when(app):
    from datetime import date

    from core.models import Notification, User

    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026-09", "9月", {}, "hr", inputs_due=date(2026, 10, 4))
        service.transition(cycle, "open", "hr")
        db.flush()
        told = {u for (u,) in db.execute(select(User.username).join(Notification, Notification.user_id == User.id))}
        message = db.scalar(select(Notification.message))
    assert {"hr", "fengzhiqiang", "tangweimin"} <= told and "employee" not in told
    assert "2026-10-04" in message
