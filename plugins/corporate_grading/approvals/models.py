"""Approval chains of the monthly personal scorecards (schemes.md §1, "Approval chains").

One :class:`CorporateApproval` per person subject of a monthly cycle, created when the person first
submits their self-score; it says where the scorecard is now (``state`` and, while in the chain,
``step``, an index into the chain of the class it was submitted under). Every submission, decision,
return and correction is an :class:`ApprovalEvent` (the history shown on the subject's page), and
an audit row.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Timestamps, Versioned, utcnow

# class -> the approvers' steps after the self-score, in order
CHAINS: dict[str, tuple[str, ...]] = {
    "A": ("specialist", "president"),
    "B": ("specialist", "supervising_leader", "president"),
    "C": ("unit_head",),
}
# submitted: in the chain, at ``step``; returned: back with the person, unlocked; approved: final, locked
STATES = ("submitted", "returned", "approved")
ACTIONS = ("submit", "approve", "return", "correct")


class CorporateApproval(TenantScoped, Versioned, Timestamps, Base):
    """Where one person's monthly scorecard stands in its approval chain."""

    __tablename__ = "corp_approval"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subject_id"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                             ondelete="CASCADE"),
        Index("ix_corp_approval_cycle", "tenant_id", "cycle_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)  # a person subject of the cycle
    chain: Mapped[str] = mapped_column(String(1), nullable=False)  # the class submitted under: A | B | C
    state: Mapped[str] = mapped_column(String(10), nullable=False)  # submitted | returned | approved
    step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # index into CHAINS[chain]
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last approval or return

    @property
    def steps(self) -> tuple[str, ...]:
        return CHAINS.get(self.chain, ())

    @property
    def current_step(self) -> str | None:
        """The step the scorecard waits at (None unless submitted)."""
        if self.state != "submitted" or self.step >= len(self.steps):
            return None
        return self.steps[self.step]


class ApprovalEvent(TenantScoped, Base):
    """One entry of a scorecard's approval history: who did what, when, at which step, with a note."""

    __tablename__ = "corp_approval_event"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "approval_id"], ["corp_approval.tenant_id", "corp_approval.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"]),
        Index("ix_corp_approval_event_approval", "tenant_id", "approval_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approval_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(10), nullable=False)  # submit | approve | return | correct
    step: Mapped[str | None] = mapped_column(String(20))  # the chain step acted at (None for a submission)
    user_id: Mapped[int | None] = mapped_column(Integer)  # the account that acted
    actor_name: Mapped[str] = mapped_column(String(100), nullable=False)  # its display name then
    as_hr: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # acted as HR (stand-in, on behalf)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    score_before: Mapped[str | None] = mapped_column(String(20))  # corrections: the total before
    score: Mapped[str | None] = mapped_column(String(20))  # the scorecard's total after the event
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
