"""Each person's pay base and coefficient (绩效工资基数、系数): HR-only, the inputs of the monthly
performance pay."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, Versioned, utcnow


class PayRecord(TenantScoped, Versioned, Base):
    """A person's current pay base and coefficient, as exact decimal text ("6500.00", "1.2").
    HR may edit two at once: optimistic locking (``version``)."""

    __tablename__ = "sales_pay"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    base: Mapped[str] = mapped_column(String(20), nullable=False)
    coefficient: Mapped[str] = mapped_column(String(20), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
