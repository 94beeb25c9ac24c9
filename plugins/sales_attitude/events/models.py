"""The event log (考勤与客户事件): one row per attendance or customer event of a person, from which
the month's attitude and responsibility counts are made."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped, utcnow

# The kinds, in the order the scheme lists them (plugins.sales_attitude.scoring.EVENTS).
KINDS = ("late", "early_leave", "personal_leave_days", "sick_leave_days", "overtime", "extra_work", "proactive",
         "shirking", "praise", "complaint")
# Attendance kinds happen at most once a day per person: a second one on the same day is a duplicate.
# The others (tasks, customer feedback) may repeat in a day; a duplicate is the same day, kind and note.
DAILY_KINDS = ("late", "early_leave", "personal_leave_days", "sick_leave_days", "overtime")
# Kinds counted in days (half days allowed); the rest are counted one by one.
DAY_KINDS = ("personal_leave_days", "sick_leave_days")
SOURCES = ("entered", "imported")


class EventImport(TenantScoped, Base):
    """One bulk import of an attendance export: what came in, and what was skipped as duplicates."""

    __tablename__ = "sales_event_import"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    imported: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class SalesEvent(TenantScoped, Base):
    """An event on a day: ``quantity`` is 1 for a counted event, the days (0.5 steps) for leave.

    ``dedupe_key`` makes duplicates impossible even under concurrent imports: the day and kind for
    attendance kinds, the day, kind and note for the others (see :data:`DAILY_KINDS`).
    """

    __tablename__ = "sales_event"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id", "dedupe_key"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "import_id"], ["sales_event_import.tenant_id", "sales_event_import.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    quantity: Mapped[str] = mapped_column(String(8), nullable=False, default="1")  # exact decimal text
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="entered")
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dedupe_key: Mapped[str] = mapped_column(String(80), nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
