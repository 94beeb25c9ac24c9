"""Who plays which part in the corporate scheme: posts (president, assessment specialist, plan
supervisor, committee chair and vice-chair) and which units each class A leader oversees."""
from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TenantScoped

# post -> (Chinese, English) label; the order is the order of the organisation page.
POSTS = {
    "president": ("总裁", "President"),
    "specialist": ("考评专员", "Assessment specialist"),
    "plan_supervisor": ("计划督办", "Plan supervisor"),
    "committee_chair": ("考评小组组长", "Committee chair"),
    "committee_vice_chair": ("考评小组副组长", "Committee vice-chair"),
}


class CorporatePost(TenantScoped, Base):
    """A user holds a post of the corporate scheme (several users may share a post, e.g. specialists)."""

    __tablename__ = "corp_post"
    __table_args__ = (
        UniqueConstraint("tenant_id", "post", "user_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post: Mapped[str] = mapped_column(String(30), nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)


class Oversight(TenantScoped, Base):
    """A class A leader (分管领导) oversees a unit: the unit's monthly score enters the leader's, and
    the leader is the unit's supervising leader in approval chains and 360 reviews."""

    __tablename__ = "corp_oversight"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id", "unit_id"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False)
