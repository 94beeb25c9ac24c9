"""corporate-grading: annual tables (bonus bases)

Revision ID: corp07
Revises: corp06
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp07"
down_revision = "corp06"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_bonus_base",)


def upgrade() -> None:
    op.create_table(
        "corp_bonus_base",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("base", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_bonus_base_tenant_id_cycle"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"],
                                name=op.f("fk_corp_bonus_base_tenant_id_person"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_bonus_base_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_bonus_base")),
        sa.UniqueConstraint("tenant_id", "cycle_id", "person_id",
                            name=op.f("uq_corp_bonus_base_tenant_id_cycle_id_person_id")),
    )
    op.create_index(op.f("ix_corp_bonus_base_tenant_id"), "corp_bonus_base", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_index(op.f("ix_corp_bonus_base_tenant_id"), table_name="corp_bonus_base")
    op.drop_table("corp_bonus_base")
