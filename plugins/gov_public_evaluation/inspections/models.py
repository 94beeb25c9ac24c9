"""Inspection findings (察访核验, 明察暗访): deductions only (倒扣分), each with its evidence."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow


class InspectionFinding(TenantScoped, Versioned, Base):
    """A finding of an unannounced visit on ``day`` at a unit: ``item`` (window efficiency, work
    style, ...), the points deducted (exact decimal text, above 0) and the evidence. A cycle counts
    the findings dated within its period."""

    __tablename__ = "gov_inspection"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    item: Mapped[str] = mapped_column(String(200), nullable=False)
    points: Mapped[str] = mapped_column(String(16), nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(120), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
