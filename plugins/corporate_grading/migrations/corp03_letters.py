"""corporate-grading: letters tables

Revision ID: corp03
Revises: corp02
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp03"
down_revision = "corp02"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_letter", "corp_letter_goal")


def upgrade() -> None:
    op.create_table(
        "corp_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=4), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("assessed_signed_by", sa.Integer(), nullable=True),
        sa.Column("assessed_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superior_signed_by", sa.Integer(), nullable=True),
        sa.Column("superior_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(unit_id IS NULL) <> (person_id IS NULL)", name=op.f("ck_corp_letter_one_subject")),
        sa.ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"],
                                name=op.f("fk_corp_letter_tenant_id_org_unit"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"],
                                name=op.f("fk_corp_letter_tenant_id_person"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assessed_signed_by", "tenant_id"], ["user_account.id", "user_account.tenant_id"],
                                name=op.f("fk_corp_letter_assessed_signed_by_user_account")),
        sa.ForeignKeyConstraint(["superior_signed_by", "tenant_id"], ["user_account.id", "user_account.tenant_id"],
                                name=op.f("fk_corp_letter_superior_signed_by_user_account")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_letter_tenant_id_tenant"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_letter")),
        sa.UniqueConstraint("tenant_id", "year", "unit_id", name=op.f("uq_corp_letter_tenant_id_year_unit_id")),
        sa.UniqueConstraint("tenant_id", "year", "person_id", name=op.f("uq_corp_letter_tenant_id_year_person_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_corp_letter_tenant_id_id")),
    )
    op.create_index(op.f("ix_corp_letter_tenant_id"), "corp_letter", ["tenant_id"], unique=False)
    op.create_table(
        "corp_letter_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("goal", sa.String(length=12), nullable=True),
        sa.Column("weight", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("measure", sa.String(length=500), nullable=True),
        sa.Column("threshold", sa.String(length=40), nullable=True),
        sa.Column("target", sa.String(length=40), nullable=True),
        sa.Column("challenge", sa.String(length=40), nullable=True),
        sa.Column("better", sa.String(length=6), nullable=False),
        sa.Column("actual", sa.String(length=40), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("scored_by", sa.String(length=120), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "letter_id"], ["corp_letter.tenant_id", "corp_letter.id"],
                                name=op.f("fk_corp_letter_goal_tenant_id_corp_letter"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_letter_goal_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_letter_goal")),
    )
    op.create_index(op.f("ix_corp_letter_goal_letter_id"), "corp_letter_goal", ["letter_id"], unique=False)
    op.create_index(op.f("ix_corp_letter_goal_tenant_id"), "corp_letter_goal", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_table("corp_letter_goal")
    op.drop_table("corp_letter")
