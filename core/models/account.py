"""Login accounts: tenant users with role memberships, and platform administrators."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TenantScoped, Timestamps, Versioned
from core.models.org import OrgUnit, Person

ROLES = ("tenant_admin", "leader", "committee", "unit_head", "employee", "surveyor")
UNIT_ROLES = ("unit_head",)  # roles held for particular units


class User(TenantScoped, Versioned, Timestamps, Base):
    """A tenant's login account. Usernames are unique within a tenant, not across tenants."""

    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("tenant_id", "username"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(200))
    # argon2id hash; None means no usable password has been set yet.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))

    person: Mapped[Person | None] = relationship(foreign_keys=[person_id], primaryjoin="User.person_id == Person.id")
    memberships: Mapped[list["RoleMembership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan",
        foreign_keys="RoleMembership.user_id", primaryjoin="User.id == RoleMembership.user_id",
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"t{self.tenant_id}:{self.id}"

    @property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    def headed_unit_ids(self) -> set[int]:
        return {m.unit_id for m in self.memberships if m.role == "unit_head" and m.unit_id is not None}


class RoleMembership(TenantScoped, Base):
    """A user holds a role in a tenant, for one unit where the role is unit-bound (unit head)."""

    __tablename__ = "role_membership"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "role", "unit_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id], primaryjoin="RoleMembership.user_id == User.id")
    unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[unit_id], primaryjoin="RoleMembership.unit_id == OrgUnit.id")


class PlatformAdmin(Timestamps, Base):
    """An operator of the whole portal: sees tenants and plugins, never a tenant's people."""

    __tablename__ = "platform_admin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"p:{self.id}"
