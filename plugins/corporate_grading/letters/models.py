"""Annual responsibility letters (目标责任书): one per year per unit and per person, with their goals.

A letter is drafted by HR, signed by both sides (签订: the assessed side and its superior), and at
year end each goal gets its actual value (quantitative) or level (qualitative). Numbers are stored
as the exact decimal text entered (a goal's weight as a percent: "20" is 20%).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (CheckConstraint, DateTime, ForeignKeyConstraint, Integer, String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import OrgUnit, Person
from core.models.base import Base, TenantScoped, Timestamps, Versioned

# state of a letter: draft (being written, or signed by one side), signed (both sides), scored
# (signed and every goal has its actual or level)
STATES = ("draft", "signed", "scored")
SIDES = ("assessed", "superior")
KINDS = ("quantitative", "qualitative")
GOAL_TYPES = ("performance", "development")
BETTER = ("higher", "lower")


class ResponsibilityLetter(TenantScoped, Versioned, Timestamps, Base):
    """The responsibility letter of one unit or one person for one year; any change of it or of
    its goals bumps its version (optimistic locking of the whole letter)."""

    __tablename__ = "corp_letter"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "unit_id"),
        UniqueConstraint("tenant_id", "year", "person_id"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("(unit_id IS NULL) <> (person_id IS NULL)", name="one_subject"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
        # signer column first: the constraint is named after it (two keys reach user_account)
        ForeignKeyConstraint(["assessed_signed_by", "tenant_id"], ["user_account.id", "user_account.tenant_id"]),
        ForeignKeyConstraint(["superior_signed_by", "tenant_id"], ["user_account.id", "user_account.tenant_id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[str] = mapped_column(String(4), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
    assessed_signed_by: Mapped[int | None] = mapped_column(Integer)
    assessed_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    superior_signed_by: Mapped[int | None] = mapped_column(Integer)
    superior_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    updated_by: Mapped[str | None] = mapped_column(String(120))

    unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[unit_id], primaryjoin="ResponsibilityLetter.unit_id == OrgUnit.id",
                                                viewonly=True)
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id], primaryjoin="ResponsibilityLetter.person_id == Person.id",
                                                 viewonly=True)

    @property
    def kind(self) -> str:
        return "unit" if self.unit_id is not None else "person"

    @property
    def signed(self) -> bool:
        return self.assessed_signed_by is not None and self.superior_signed_by is not None

    def __repr__(self) -> str:
        return f"<ResponsibilityLetter {self.year} {self.kind} {self.unit_id or self.person_id}>"


class LetterGoal(TenantScoped, Base):
    """One goal (目标) of a letter: a weighted quantitative or qualitative item of its scorecard."""

    __tablename__ = "corp_letter_goal"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "letter_id"], ["corp_letter.tenant_id", "corp_letter.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    goal: Mapped[str | None] = mapped_column(String(12))          # performance | development (personal letters)
    weight: Mapped[str] = mapped_column(String(20), nullable=False)  # percent, exact text: "20" is 20%
    kind: Mapped[str] = mapped_column(String(12), nullable=False)    # quantitative | qualitative
    measure: Mapped[str | None] = mapped_column(String(500))         # how it is measured (衡量标准)
    threshold: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(40))
    challenge: Mapped[str | None] = mapped_column(String(40))
    better: Mapped[str] = mapped_column(String(6), nullable=False, default="higher")
    actual: Mapped[str | None] = mapped_column(String(40))           # year end, quantitative
    level: Mapped[str | None] = mapped_column(String(20))            # year end, qualitative
    scored_by: Mapped[str | None] = mapped_column(String(120))
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def scored(self) -> bool:
        return (self.actual if self.kind == "quantitative" else self.level) is not None
