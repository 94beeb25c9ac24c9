"""Tenants and the schemes each tenant enables."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TenantScoped, Timestamps

LOCALES = ("zh", "en")


class Tenant(Timestamps, Base):
    """An organisation using the portal; everything else hangs off one."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="zh")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    schemes: Mapped[list["TenantScheme"]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantScheme.scheme_id"
    )

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


class TenantScheme(TenantScoped, Timestamps, Base):
    """A scheme a tenant has enabled, with the tenant's overrides of its default settings."""

    __tablename__ = "tenant_scheme"
    __table_args__ = (UniqueConstraint("tenant_id", "scheme_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme_id: Mapped[str] = mapped_column(String(60), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    tenant: Mapped[Tenant] = relationship(back_populates="schemes")
