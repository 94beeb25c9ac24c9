"""Assessment cycles: a period scored by one scheme, its subjects with their inputs, the results.

A subject's ``inputs`` are stored in exactly the shape a case file gives them (casefile.md), so a
cycle is scored by the same ``build_case`` and ``compute`` as ``jixiao score``, and a case file
exported from a cycle scores identically.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKeyConstraint, Index, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Timestamps, Versioned, utcnow

CYCLE_STATES = ("draft", "open", "review", "published", "closed")
SUBJECT_KINDS = ("unit", "person")


class Cycle(TenantScoped, Versioned, Timestamps, Base):
    """One period of one scheme, bound to the scheme's settings as they were when it was created."""

    __tablename__ = "cycle"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), UniqueConstraint("tenant_id", "scheme_id", "period", "name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    scheme_id: Mapped[str] = mapped_column(String(60), nullable=False)
    scheme_version: Mapped[str] = mapped_column(String(20), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    # The scheme's settings at creation (the tenant's overrides). Changed only while a cycle is a draft or
    # open and a scheme allows it (the township's office gives a cycle without points the current tree);
    # never once it is in review, published or closed.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    # Who is assessed: {"units": [unit ids] | null, "classes": [...] | null, "statuses": [...] | null}
    selection: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    inputs_due: Mapped[date | None] = mapped_column(Date)  # the day inputs should be complete by
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CycleSubject(TenantScoped, Base):
    """A unit or person in a cycle: eligible (scored) or excluded with the reason, and its inputs."""

    __tablename__ = "cycle_subject"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "cycle_id", "kind", "code"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"]),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"]),
        Index("ix_cycle_subject_cycle", "tenant_id", "cycle_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # unit | person
    code: Mapped[str] = mapped_column(String(64), nullable=False)  # the subject id in the case: unit code, person number
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)  # the unit itself, or the person's unit
    person_id: Mapped[int | None] = mapped_column(Integer)
    unit_kind: Mapped[str | None] = mapped_column(String(20))
    staff_class: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    eligible: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    excluded_reason: Mapped[str | None] = mapped_column(String(200))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    inputs_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inputs_updated_by: Mapped[str | None] = mapped_column(String(120))
    inputs_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CycleResult(TenantScoped, Base):
    """A subject's computed (and, after appeals, adjusted) result."""

    __tablename__ = "cycle_result"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "subject_id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"], ondelete="CASCADE"),
        Index("ix_cycle_result_cycle", "tenant_id", "cycle_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    grade: Mapped[str | None] = mapped_column(String(10))
    rank: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    breakdown: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    adjusted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ScoreChange(TenantScoped, Base):
    """The history of a published score: every change after publication, why and by whom."""

    __tablename__ = "score_change"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "result_id"], ["cycle_result.tenant_id", "cycle_result.id"], ondelete="CASCADE"),
        Index("ix_score_change_result", "tenant_id", "result_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    score_before: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    score_after: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    grade_before: Mapped[str | None] = mapped_column(String(10))
    grade_after: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class Acknowledgement(TenantScoped, Base):
    """The interview on a published result (绩效面谈): its record, signed by the person and the assessor."""

    __tablename__ = "acknowledgement"
    __table_args__ = (
        UniqueConstraint("tenant_id", "result_id"),
        ForeignKeyConstraint(["tenant_id", "result_id"], ["cycle_result.tenant_id", "cycle_result.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(Integer, nullable=False)
    interview_record: Mapped[str | None] = mapped_column(Text)
    interview_by: Mapped[str | None] = mapped_column(String(120))  # the assessor who held it
    interview_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    person_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assessor_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assessor_signed_by: Mapped[str | None] = mapped_column(String(120))


APPEAL_STATES = ("filed", "investigating", "decided")
APPEAL_DECISIONS = ("upheld", "adjusted")


class Appeal(TenantScoped, Versioned, Base):
    """An appeal against a published result, filed within the scheme's window of working days."""

    __tablename__ = "appeal"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "result_id"], ["cycle_result.tenant_id", "cycle_result.id"], ondelete="CASCADE"),
        Index("ix_appeal_result", "tenant_id", "result_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(Integer, nullable=False)
    filed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="filed")
    investigation: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_note: Mapped[str | None] = mapped_column(Text)
    new_score: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Holiday(TenantScoped, Base):
    """A day off in the tenant's calendar (besides weekends); appeal windows skip it."""

    __tablename__ = "holiday"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)


class Notification(TenantScoped, Base):
    """An in-app message to one account: a task, a deadline, a decision."""

    __tablename__ = "notification"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"], ondelete="CASCADE"),
        Index("ix_notification_user", "tenant_id", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    message: Mapped[str] = mapped_column(String(300), nullable=False)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
