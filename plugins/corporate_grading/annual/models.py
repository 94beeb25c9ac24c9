"""The annual outputs' own records: each person's bonus base in an annual cycle (entered by HR,
confidential like pay), from which the bonus distribution table is computed."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKeyConstraint, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow


class BonusBase(TenantScoped, Versioned, Base):
    """A person's bonus base (奖金基数) in one annual cycle; bonus = base × the coefficient of the
    person's annual grade. HR edits it, possibly two at once: optimistic locking (``version``)."""

    __tablename__ = "corp_bonus_base"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cycle_id", "person_id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    base: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class ConfidenceVote(TenantScoped, Versioned, Base):
    """The all-staff confidence vote (民主信任投票) on a class A leader in an annual cycle: the ballots
    counted by HR. Recorded beside the result, not part of any formula (schemes.md §1)."""

    __tablename__ = "corp_confidence_vote"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cycle_id", "subject_id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    trust: Mapped[int] = mapped_column(Integer, nullable=False)          # 信任
    basic_trust: Mapped[int] = mapped_column(Integer, nullable=False)    # 基本信任
    distrust: Mapped[int] = mapped_column(Integer, nullable=False)       # 不信任
    abstain: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # 弃权
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
