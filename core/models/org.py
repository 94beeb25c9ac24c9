"""The organisation: a tree of units and the people in them."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TenantScoped, Timestamps, Versioned

UNIT_KINDS = ("group", "company", "subsidiary", "department", "office", "village", "team")
PERSON_STATUSES = ("regular", "probation", "intern", "transfer", "promotion", "demotion")


class OrgUnit(TenantScoped, Versioned, Timestamps, Base):
    """A node of the org tree: group, company, subsidiary, department, office, village, team."""

    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "id"),
        # The parent must belong to the same tenant: the composite key makes that a database rule.
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["org_unit.tenant_id", "org_unit.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    parent: Mapped["OrgUnit | None"] = relationship(
        remote_side=[id], back_populates="children", foreign_keys=[parent_id],
        primaryjoin="OrgUnit.parent_id == OrgUnit.id",
    )
    children: Mapped[list["OrgUnit"]] = relationship(
        back_populates="parent", foreign_keys=[parent_id],
        primaryjoin="OrgUnit.parent_id == OrgUnit.id", order_by="OrgUnit.sort_order, OrgUnit.code",
    )

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code}>"


class Person(TenantScoped, Versioned, Timestamps, Base):
    """Someone who is assessed or assesses: an employee, a village head, a sales clerk ..."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    position: Mapped[str | None] = mapped_column(String(100))
    staff_class: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="regular")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id], primaryjoin="Person.unit_id == OrgUnit.id")

    def __repr__(self) -> str:
        return f"<Person {self.number}>"
