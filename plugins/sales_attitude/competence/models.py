"""Improvement plans (改进计划) opened from a competence listing, their progress notes, and the HR
decision that ends them. A training plan is also the person's training period (pay × 80%)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow

KINDS = ("training", "transfer")            # 培训对象 / 转岗对象
STATES = ("open", "closed")
# How a plan ends (schemes.md §2, "what follows a listing"): training passed returns the person to
# the post, failed leads to the transfer list; a transfer refused or failed ends the contract.
OUTCOMES = ("passed", "failed", "refused")
DECISIONS = ("return_to_post", "transfer_list", "new_post", "terminate_contract")


class ImprovementPlan(TenantScoped, Versioned, Base):
    """A plan for one person after a listing: goals, actions, an owner, dates, and at the end the
    evaluation and HR's decision. ``start_month``..``end_month`` (YYYY-MM) of a training plan are the
    training period in which the person's monthly pay is × the training factor."""

    __tablename__ = "sales_improvement_plan"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
        # accounts are deactivated, never deleted: an owner stays on the plan
        ForeignKeyConstraint(["tenant_id", "owner_id"], ["user_account.tenant_id", "user_account.id"]),
        UniqueConstraint("tenant_id", "id"),
        # one open plan per person and kind, whoever saves at the same time (the service checks first
        # to give a clear message; this holds when two saves race)
        Index("uq_sales_improvement_plan_open", "tenant_id", "person_id", "kind", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)   # the month (YYYY-MM) whose listing it follows
    listed_months: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # the months that triggered it
    goals: Mapped[str] = mapped_column(Text, nullable=False)
    actions: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_month: Mapped[str] = mapped_column(String(7), nullable=False)
    end_month: Mapped[str] = mapped_column(String(7), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    evaluation: Mapped[str | None] = mapped_column(Text, nullable=True)
    evaluated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    evaluated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class PlanNote(TenantScoped, Base):
    """A progress note on a plan (date, text, who wrote it)."""

    __tablename__ = "sales_plan_note"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "plan_id"], ["sales_improvement_plan.tenant_id", "sales_improvement_plan.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
