"""corporate-grading: plans tables (monthly plan sheets and their items; adjustments with reasons)

Revision ID: corp02
Revises: corp01
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp02"
down_revision = "corp01"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_plan_sheet", "corp_plan_item", "corp_adjustment")


def upgrade() -> None:
    op.create_table(
        "corp_plan_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=120), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_by", sa.String(length=120), nullable=True),
        sa.Column("returned_reason", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_plan_sheet_tenant_id_cycle"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                                name=op.f("fk_corp_plan_sheet_tenant_id_cycle_subject"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_plan_sheet_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_plan_sheet")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_corp_plan_sheet_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "subject_id", name=op.f("uq_corp_plan_sheet_tenant_id_subject_id")),
    )
    op.create_index(op.f("ix_corp_plan_sheet_tenant_id"), "corp_plan_sheet", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_corp_plan_sheet_cycle_id"), "corp_plan_sheet", ["cycle_id"], unique=False)
    op.create_table(
        "corp_plan_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("standard", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("completion", sa.String(length=10), nullable=False),
        sa.Column("evidence", sa.String(length=1000), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "sheet_id"], ["corp_plan_sheet.tenant_id", "corp_plan_sheet.id"],
                                name=op.f("fk_corp_plan_item_tenant_id_corp_plan_sheet"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_plan_item_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_plan_item")),
    )
    op.create_index(op.f("ix_corp_plan_item_tenant_id"), "corp_plan_item", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_corp_plan_item_sheet_id"), "corp_plan_item", ["sheet_id"], unique=False)
    op.create_table(
        "corp_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_adjustment_tenant_id_cycle"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                                name=op.f("fk_corp_adjustment_tenant_id_cycle_subject"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_adjustment_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_adjustment")),
        sa.UniqueConstraint("tenant_id", "subject_id", name=op.f("uq_corp_adjustment_tenant_id_subject_id")),
    )
    op.create_index(op.f("ix_corp_adjustment_tenant_id"), "corp_adjustment", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_corp_adjustment_cycle_id"), "corp_adjustment", ["cycle_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_table("corp_adjustment")
    op.drop_table("corp_plan_item")
    op.drop_table("corp_plan_sheet")
