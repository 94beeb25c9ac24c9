"""The public evaluation (公众评议) of a cycle: its questions, the target sample per respondent
category (quota), and the responses, from surveyors (household visits, telephone) or from anonymous
one-time links (plugins.gov_public_evaluation.links)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow

CHANNELS = ("household", "phone", "link")
ANSWER_KEYS = ("satisfied", "basically_satisfied", "dissatisfied", "dont_know")


class SurveyQuestion(TenantScoped, Base):
    """A question of the cycle's survey, on one of the source's topics; every question is answered
    satisfied / basically satisfied / dissatisfied / don't know."""

    __tablename__ = "gov_survey_question"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "cycle_id", "position"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    topic: Mapped[str] = mapped_column(String(60), nullable=False)
    text_zh: Mapped[str] = mapped_column(Text, nullable=False)
    text_en: Mapped[str] = mapped_column(Text, nullable=False, default="")


class SurveyQuota(TenantScoped, Versioned, Base):
    """The target number of respondents per unit for one category in one cycle (a portal feature)."""

    __tablename__ = "gov_survey_quota"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cycle_id", "category"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    per_unit: Mapped[int] = mapped_column(Integer, nullable=False)


class SurveyResponse(TenantScoped, Base):
    """One respondent's answers about one unit. ``answers`` maps question ids (as text) to an answer
    key; the four counts are the same answers counted, so that a cycle's survey input is one
    grouped SUM. ``submission_key`` makes a repeated submission (a double tap, a retry after a lost
    reply) the same response: for a link it is the token, for a surveyor the key their form carried."""

    __tablename__ = "gov_survey_response"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "submission_key"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"], ondelete="CASCADE"),
        Index("ix_gov_survey_response_cycle", "tenant_id", "cycle_id", "unit_id", "category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    submission_key: Mapped[str] = mapped_column(String(64), nullable=False)
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    satisfied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    basically_satisfied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    dissatisfied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    dont_know: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entered_by: Mapped[str | None] = mapped_column(String(120), nullable=True)  # None: an anonymous link
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
