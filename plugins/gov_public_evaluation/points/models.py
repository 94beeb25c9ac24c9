"""Indicator points (指标考核): what a unit earned on one second-level indicator in one cycle, with
the evidence it rests on and the year-end verification mark (年终核查)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow


class IndicatorEntry(TenantScoped, Versioned, Base):
    """Points of one unit on one second-level indicator (``code``) in one cycle, as exact decimal
    text ("4.5"). Entered by the efficiency office (效能办); two editors at once are caught by the
    version. ``verified_at``/``verified_by`` is the year-end check: changing the points clears it."""

    __tablename__ = "gov_indicator_entry"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cycle_id", "unit_id", "code"),
        ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    points: Mapped[str] = mapped_column(String(16), nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entered_by: Mapped[str] = mapped_column(String(120), nullable=False)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    verified_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verification_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
