"""Information reports (信息报送): items a unit reported, with their dates; a year's count is set
against the minimum for the unit's kind."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow


class InfoReport(TenantScoped, Versioned, Base):
    """One item a unit reported on ``day`` (its title, and where it was taken up, if anywhere).
    The same unit, day and title is the same item (a double entry is refused). Corrections use
    optimistic locking (``version``, as :class:`InspectionFinding`)."""

    __tablename__ = "gov_info_report"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "unit_id", "day", "title"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    adopted_by: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(120), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
