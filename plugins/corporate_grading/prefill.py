"""Filling a new corporate cycle's inputs from the scheme's records, in one pass per cycle.

Monthly: each class A leader's ``oversees`` from the oversight table. Annual: each subject's
``monthly_scores`` from the year's monthly cycles, its ``target_items`` from its scored
responsibility letter and a person's ``quality`` from the answered 360 reviews
(``plugins.corporate_grading.annual.service.collect``).
"""
from __future__ import annotations

from sqlalchemy import select

from core.cycles import service as cycles
from core.db import db_session
from core.models import Cycle, OrgUnit
from plugins.corporate_grading.organisation.service import oversight


def prefill(cycle: Cycle) -> None:
    if len(cycle.period) == 7:
        _monthly(cycle)
    else:
        from plugins.corporate_grading.annual.service import collect

        collect(cycle, "system:prefill")


def _monthly(cycle: Cycle) -> None:
    overseen = oversight()
    if not overseen:
        return
    codes = dict(db_session.execute(select(OrgUnit.id, OrgUnit.code)).all())
    subject_units = {s.code for s in cycles.subjects(cycle) if s.kind == "unit"}
    for subject in cycles.subjects(cycle):
        if subject.kind == "person" and subject.staff_class == "A" and subject.person_id in overseen:
            units = [codes[u] for u in overseen[subject.person_id] if codes.get(u) in subject_units]
            if units:
                cycles.set_inputs(subject, cycle, {**subject.inputs, "oversees": units}, subject.inputs_version,
                                  "system:prefill")
