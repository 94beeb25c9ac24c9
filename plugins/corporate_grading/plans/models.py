"""Monthly plan sheets (月计划进度/实际进度表) of the units and the bonus/penalty adjustments (加减分)
of a corporate cycle, each with its reason."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Timestamps, Versioned

SHEET_STATES = ("draft", "submitted", "checked")
COMPLETIONS = ("pending", "done", "not_done")  # pending: not judged yet

# reason category -> the sign of the value it goes with (source 002: bonus and penalty reasons)
BONUS_KINDS = ("beyond_standard", "unplanned_key_work", "honour")
PENALTY_KINDS = ("loss", "fraud")
ADJUST_KINDS = BONUS_KINDS + PENALTY_KINDS


class PlanSheet(TenantScoped, Versioned, Timestamps, Base):
    """A unit's plan sheet of one monthly cycle: drafted and submitted by the unit's head, checked
    item by item at month end by the plan supervisor (计划督办) or HR."""

    __tablename__ = "corp_plan_sheet"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "subject_id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)  # the unit's subject in the cycle
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_by: Mapped[str | None] = mapped_column(String(120))
    returned_reason: Mapped[str | None] = mapped_column(Text)  # why HR last returned it to draft


class PlanItem(TenantScoped, Versioned, Base):
    """One planned item: what is to be done, how completion is recognised, who does it, by when,
    and (at month end) whether it was done, with the evidence."""

    __tablename__ = "corp_plan_item"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "sheet_id"], ["corp_plan_sheet.tenant_id", "corp_plan_sheet.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    standard: Mapped[str] = mapped_column(String(500), nullable=False, default="")  # completion standard
    owner: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    due: Mapped[date | None] = mapped_column(Date)
    completion: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    evidence: Mapped[str] = mapped_column(String(1000), nullable=False, default="")


class Adjustment(TenantScoped, Base):
    """A subject's bonus or penalty in a cycle with its reason; mirrored into the subject's
    ``inputs.adjust`` (the subject's inputs version is the lock)."""

    __tablename__ = "corp_adjustment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subject_id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[str] = mapped_column(String(24), nullable=False)  # exact decimal text, as entered
    kind: Mapped[str] = mapped_column(String(30), nullable=False)   # a reason category of ADJUST_KINDS
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    by: Mapped[str] = mapped_column(String(120), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
