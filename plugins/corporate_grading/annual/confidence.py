"""The confidence vote (民主信任投票) on class A leaders: all staff vote trust, basic trust or
distrust after the leaders' reports; HR records the counted ballots per leader. Recorded, shown
beside the annual result, never part of a formula (schemes.md §1)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import record
from core.cycles import service as cycles
from core.db import db_session
from core.models import Cycle, CycleSubject
from core.scoring.numbers import round_half_up
from plugins.corporate_grading.annual.models import ConfidenceVote

COUNTS = ("trust", "basic_trust", "distrust", "abstain")
MAX_BALLOTS = 1_000_000


class ConfidenceError(ValueError):
    """Counts that cannot be recorded; ``errors`` names the fields."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


def count_labels() -> dict[str, str]:
    return {"trust": _("Trust"), "basic_trust": _("Basic trust"), "distrust": _("Distrust"), "abstain": _("Abstain")}


@dataclass
class Row:
    subject: CycleSubject
    vote: ConfidenceVote | None

    @property
    def ballots(self) -> int:
        return sum(getattr(self.vote, c) for c in COUNTS) if self.vote else 0

    @property
    def trust_rate(self) -> str | None:
        """Trust and basic trust among the valid ballots (abstentions left out), a percent to 1 decimal."""
        if self.vote is None:
            return None
        valid = self.vote.trust + self.vote.basic_trust + self.vote.distrust
        if not valid:
            return None
        return f"{round_half_up(Fraction(100 * (self.vote.trust + self.vote.basic_trust), valid), 1)}%"


def rows(cycle: Cycle) -> list[Row]:
    """The cycle's class A subjects with their recorded vote (two queries)."""
    leaders = [s for s in cycles.subjects(cycle) if s.kind == "person" and s.staff_class == "A"]
    votes = {v.subject_id: v for v in db_session.scalars(select(ConfidenceVote).where(ConfidenceVote.cycle_id == cycle.id))}
    return [Row(s, votes.get(s.id)) for s in leaders]


def parse(form: Mapping[str, Any]) -> dict[str, int]:
    labels = count_labels()
    values, errors = {}, {}
    for key in COUNTS:
        raw = str(form.get(key, "") or "").strip() or ("0" if key == "abstain" else "")
        if not raw.isdigit() or int(raw) > MAX_BALLOTS:
            errors[key] = _("%(field)s: %(value)s is not allowed; allowed: a whole number of ballots from 0 to %(max)s.",
                            field=labels[key], value=repr(raw), max=MAX_BALLOTS)
        else:
            values[key] = int(raw)
    if not errors and not sum(values.values()):
        errors["trust"] = _("No ballots: record the counted ballots of the vote.")
    if errors:
        raise ConfidenceError(_("Not saved: correct the fields marked."), errors)
    return values


def record_vote(cycle: Cycle, subject: CycleSubject, form: Mapping[str, Any], actor: str) -> ConfidenceVote:
    """Record (or correct) the counted ballots on one class A leader, optimistically locked by the
    ``version`` the form saw (empty: it saw none)."""
    if len(cycle.period) != 4 or subject.cycle_id != cycle.id or subject.staff_class != "A":
        raise ConfidenceError(_("The confidence vote is held on class A leaders in annual cycles."))
    if cycle.state == "closed":
        raise ConfidenceError(_("This cycle is closed: its records can no longer change."))
    values = parse(form)
    vote = db_session.scalar(select(ConfidenceVote).where(ConfidenceVote.subject_id == subject.id))
    seen = str(form.get("version", "") or "")
    if (vote is None) != (seen == "") or (vote is not None and seen != str(vote.version)):
        raise ConfidenceError(_("Someone else recorded this vote meanwhile; reload the page to see it."))
    before = {c: getattr(vote, c) for c in COUNTS} if vote else None
    if vote is None:
        vote = ConfidenceVote(cycle_id=cycle.id, subject_id=subject.id, **values, updated_by=actor)
        db_session.add(vote)
    else:
        for key, value in values.items():
            setattr(vote, key, value)
        vote.updated_by = actor
    db_session.flush()
    record("corp.confidence", vote, before=before, after={"leader": subject.code, **values}, actor=actor)
    return vote
