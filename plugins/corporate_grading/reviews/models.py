"""360 quality reviews of an annual corporate cycle: who rates whom, in which rater group, and the rating.

One row per (ratee, rater): the ratee is a person subject of the cycle, the rater a person of the
tenant. The rating (2–5, at most 2 decimals) and the comment are confidential: HR sees them, the
rater sees their own, nobody else does (see the reviews section of ``policy.py``).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Timestamps, Versioned

SOURCES = ("org", "manual")  # assigned from the org structure by the bulk run, or added by HR


class ReviewAssignment(TenantScoped, Versioned, Timestamps, Base):
    """A rater rates a ratee in one rater group of the ratee's class (schemes.md §1, annual formulas)."""

    __tablename__ = "corp_review_assignment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subject_id", "rater_id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "rater_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
        Index("ix_corp_review_assignment_cycle", "tenant_id", "cycle_id", "subject_id"),
        Index("ix_corp_review_assignment_rater", "tenant_id", "rater_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)  # the ratee: a person subject of the cycle
    rater_id: Mapped[int] = mapped_column(Integer, nullable=False)  # a person
    group: Mapped[str] = mapped_column(String(20), nullable=False)  # president | peer | unit_head | leader ...
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="org")
    rating: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
