"""The committee meeting (考评小组会议) of a corporate cycle: who sits on it and who attended, the
agenda (one item per unit subject, in org order), the proposals put to the vote and every vote cast.

A meeting belongs to one cycle (monthly or annual). Its members are snapshotted when it is created
(the accounts with the committee role are the voting seats; the chair and vice-chair post holders
sit too), so later role changes never change the seat count a closed vote was decided with.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKeyConstraint, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Timestamps, Versioned, utcnow

SEATS = ("chair", "vice_chair", "member")
ITEM_STATES = ("open", "voting", "closed")  # open: being discussed; voting: a proposal is put to the vote
CHOICES = ("for", "against")


class CommitteeMeeting(TenantScoped, Versioned, Timestamps, Base):
    """The committee's meeting on one cycle (one per cycle)."""

    __tablename__ = "corp_committee_meeting"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cycle_id"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    meeting_date: Mapped[date] = mapped_column(Date, nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)


class CommitteeMember(TenantScoped, Base):
    """A seat at the meeting: a voting member (committee role) and/or the chair or vice-chair."""

    __tablename__ = "corp_committee_member"
    __table_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", "user_id"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["corp_committee_meeting.tenant_id", "corp_committee_meeting.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)  # the display name at creation
    seat: Mapped[str] = mapped_column(String(12), nullable=False, default="member")  # chair | vice_chair | member
    voting: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)  # holds the committee role
    present: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class CommitteeItem(TenantScoped, Versioned, Timestamps, Base):
    """One unit on the agenda: the meeting's notes on it, the proposal and, once closed, the decision."""

    __tablename__ = "corp_committee_item"
    __table_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", "subject_id"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["corp_committee_meeting.tenant_id", "corp_committee_meeting.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # agenda order (org order)
    report_notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    comments: Mapped[str] = mapped_column(Text, nullable=False, default="")
    head_left: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    proposed: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    votes_for: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # live tallies of present members
    votes_against: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    chair_vote: Mapped[str | None] = mapped_column(String(10))  # the casting vote on a tie: for | against
    chair_vote_by: Mapped[str | None] = mapped_column(String(120))
    members: Mapped[int | None] = mapped_column(Integer)  # the seat count the decision used
    adopted: Mapped[bool | None] = mapped_column(Boolean)
    decision_note: Mapped[str | None] = mapped_column(String(300))
    adjustment: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the supervisor's note as it was at the vote
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CommitteeVote(TenantScoped, Base):
    """One member's vote on an item's proposal (changeable until the vote is closed)."""

    __tablename__ = "corp_committee_vote"
    __table_args__ = (
        UniqueConstraint("tenant_id", "item_id", "member_id"),
        ForeignKeyConstraint(["tenant_id", "item_id"], ["corp_committee_item.tenant_id", "corp_committee_item.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["corp_committee_member.tenant_id", "corp_committee_member.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    choice: Mapped[str] = mapped_column(String(10), nullable=False)
    cast_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
